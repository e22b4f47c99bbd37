/**
 * Posting a message exactly once. Each message Countersign owns (a request's prompt or
 * result, an alert group's message, a channel digest) is claimed in the store under
 * (owner id, kind) before it is posted, and its ts recorded after; see `postOnce`. Shared
 * by the request notifier and the alert chat.
 */
import type { Log } from '../../app/context.ts';
import type { ChatMessageKind, Clock, Store } from '../../app/ports.ts';
import {
  type ChannelQueue,
  SlackCallError,
  type SlackHistoryMessage,
  type SlackMessage,
} from './channel-queue.ts';

export interface SlackPosterDeps {
  store: Store;
  /**
   * Where claims are made and ts recorded. Default `store` (each commit waits for the disk);
   * the alert chat passes `store.ingest`, whose claims do not (see `IngestStore`).
   */
  claims?: Pick<Store, 'claimChatMessage' | 'recordChatMessage'>;
  queue: ChannelQueue;
  clock: Clock;
  log: Log;
  /**
   * How long a claimed message without a recorded ts is taken to be another worker's post
   * in progress, in ms; after that, a claim whose message is not found is posted again.
   * Default 60 000.
   */
  postingGraceMs?: number;
}

/** One message a request, alert group or digest owns (`requestId` is its id), and how to recognise it in the channel's history. */
export interface Spot {
  requestId: string;
  kind: ChatMessageKind;
  /** Channel id, or the user id for a direct message. */
  channel: string;
  threadTs?: string;
  /** Set for a direct message to this Slack user. */
  dmUser?: string;
  metadata: NonNullable<SlackMessage['metadata']>;
}

export interface Posted {
  channel: string;
  ts: string;
  /** True when this call posted it, with the content it was given. */
  fresh: boolean;
}

export function slackPoster(deps: SlackPosterDeps): {
  postOnce(spot: Spot, message: SlackMessage): Promise<Posted>;
} {
  const locks = new KeyedLock();
  const graceMs = deps.postingGraceMs ?? 60_000;
  const claims = deps.claims ?? deps.store;
  /** Claims (`request kind`) whose post Slack refused in this process: nothing to look for. */
  const refused = new Set<string>();

  /**
   * Posts the message of `spot` unless it was posted before. The (request, kind) is claimed
   * in the store before posting and its ts recorded after. A claim without a ts means an
   * earlier attempt stopped between the two, perhaps after Slack took the post: the recent
   * messages are searched for ours (metadata) and a match is adopted. Only when none is
   * found and the claim is older than the grace period is it posted again (at once, when
   * Slack refused the earlier post). In one process a lock per spot keeps concurrent
   * notifications of one request from racing here.
   */
  function postOnce(spot: Spot, message: SlackMessage): Promise<Posted> {
    const key = `${spot.requestId} ${spot.kind}`;
    return locks.run(key, async () => {
      const { clock } = deps;
      const claim = await claims.claimChatMessage(
        spot.requestId,
        spot.kind,
        spot.channel,
        clock.now(),
      );
      if (claim.state === 'posted') return { channel: claim.channel, ts: claim.ts, fresh: false };
      if (claim.state === 'posting' && !refused.has(key)) {
        const ts = await findPosted(spot);
        if (ts) {
          await claims.recordChatMessage(spot.requestId, spot.kind, ts);
          deps.log.info(
            { request: spot.requestId, kind: spot.kind, ts },
            'adopted a message posted before a crash',
          );
          return { channel: spot.channel, ts, fresh: false };
        }
        if (clock.now() - claim.since < graceMs) {
          throw new Error(
            `the ${spot.kind} of ${spot.requestId} is being posted elsewhere; will look again`,
          );
        }
      }
      const sent = await send(spot, message, key);
      await claims.recordChatMessage(spot.requestId, spot.kind, sent.ts);
      return { ...sent, fresh: true };
    });
  }

  /**
   * Posts through the queue. When Slack refuses (`ok: false`), the message certainly does not
   * exist, so this process remembers that the claim can be posted again without a search.
   */
  async function send(spot: Spot, message: SlackMessage, key: string) {
    const full = { ...message, metadata: spot.metadata };
    try {
      const sent = spot.dmUser
        ? await deps.queue.postDm(spot.dmUser, full)
        : await deps.queue.post(spot.channel, full);
      refused.delete(key);
      return sent;
    } catch (err) {
      if (err instanceof SlackCallError) refused.add(key);
      throw err;
    }
  }

  /** The ts of our message for `spot` among the channel's (or thread's) recent messages. */
  async function findPosted(spot: Spot): Promise<string | undefined> {
    const channel = spot.dmUser ? await deps.queue.openDm(spot.dmUser) : spot.channel;
    const recent = await deps.queue.recent(channel, spot.threadTs);
    return recent.find((m) => isOurs(m, spot.metadata))?.ts;
  }

  return { postOnce };
}

export function spotOf(
  requestId: string,
  kind: ChatMessageKind,
  channel: string,
  eventType: string,
  extra: Record<string, string> = {},
): Spot {
  return {
    requestId,
    kind,
    channel,
    metadata: { event_type: eventType, event_payload: { request_id: requestId, ...extra } },
  };
}

/** True when `m` carries our metadata: the same event type and every payload field. */
function isOurs(m: SlackHistoryMessage, metadata: Spot['metadata']): boolean {
  if (m.metadata?.event_type !== metadata.event_type) return false;
  const payload = m.metadata.event_payload ?? {};
  return Object.entries(metadata.event_payload).every(([k, v]) => payload[k] === v);
}

/** Runs functions with the same key one after another, in call order, in this process. */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.tails.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    this.tails.set(key, next);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === next) this.tails.delete(key);
    }
  }
}
