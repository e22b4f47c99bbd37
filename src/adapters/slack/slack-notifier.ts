/**
 * The Notifier for Slack. For each notification about a request it renders the stored
 * request (chat is a view) and:
 *
 * - keeps one approval prompt in the service's approvals channel, posted once and then
 *   updated in place (`chat.update`, coalesced by the channel queue);
 * - once the request has an outcome, posts the result once: in the prompt's thread when the
 *   command's `output` is `channel`, else privately to the requester with a one-line note in
 *   the thread;
 * - posts a loud event (break-glass, unknown outcome) once to the service's ops channel.
 *
 * Nothing is posted twice (see `postOnce`). Any failure throws, so the outbox dispatcher
 * gives the notification back and retries it with backoff.
 */
import type { Log } from '../../app/context.ts';
import type { CatalogSource, ChatMessageKind, Clock, Notifier, Store } from '../../app/ports.ts';
import type { Catalog, Command } from '../../domain/catalog.ts';
import { eligibleSignOffs } from '../../domain/policy.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import {
  type ChannelQueue,
  SlackCallError,
  type SlackHistoryMessage,
  type SlackMessage,
} from './channel-queue.ts';
import { approvalPrompt, type PromptInput, resultReply } from './request-blocks.ts';
import { escapeMrkdwn, truncate } from './safe-text.ts';

export interface SlackNotifierDeps {
  store: Store;
  catalog: CatalogSource;
  queue: ChannelQueue;
  clock: Clock;
  log: Log;
  /** Base URL of the web console, for links in messages. No links when unset. */
  consoleUrl?: string;
  /**
   * How long a claimed message without a recorded ts is taken to be another worker's post
   * in progress, in ms; after that, a claim whose message is not found is posted again.
   * Default 60 000.
   */
  postingGraceMs?: number;
}

/** Metadata event types on our messages, so a crashed post can be found again. */
export const EVENT_TYPES = {
  prompt: 'countersign_request',
  result: 'countersign_result',
  alert: 'countersign_alert',
} as const;

const OUTCOMES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'unknown']);
const ALERTS: Readonly<Record<string, ChatMessageKind>> = {
  'break-glass': 'alert-break-glass',
  unknown: 'alert-unknown',
};
export const PRIVATE_RESULT_NOTE = 'Result sent privately to the requester.';

/** One message a request owns, and how to recognise it in the channel's history. */
interface Spot {
  requestId: string;
  kind: ChatMessageKind;
  /** Channel id, or the user id for a direct message. */
  channel: string;
  threadTs?: string;
  /** Set for a direct message to this Slack user. */
  dmUser?: string;
  metadata: NonNullable<SlackMessage['metadata']>;
}

interface Posted {
  channel: string;
  ts: string;
  /** True when this call posted it, with the content it was given. */
  fresh: boolean;
}

/** What one notification works from: the stored request and the catalog in force. */
interface Subject {
  request: ActionRequest;
  command: Command | undefined;
  approvals: string;
  ops: string | undefined;
  input: PromptInput;
}

export function slackNotifier(deps: SlackNotifierDeps): Notifier {
  const locks = new KeyedLock();
  const renders = new LastRenders();
  const graceMs = deps.postingGraceMs ?? 60_000;
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
      const { store, clock } = deps;
      const claim = await store.claimChatMessage(
        spot.requestId,
        spot.kind,
        spot.channel,
        clock.now(),
      );
      if (claim.state === 'posted') return { channel: claim.channel, ts: claim.ts, fresh: false };
      if (claim.state === 'posting' && !refused.has(key)) {
        const ts = await findPosted(spot);
        if (ts) {
          await store.recordChatMessage(spot.requestId, spot.kind, ts);
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
      await store.recordChatMessage(spot.requestId, spot.kind, sent.ts);
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

  /** Posts the prompt, or updates it in place when its content changed. */
  async function showPrompt(s: Subject): Promise<{ channel: string; ts: string }> {
    const view = approvalPrompt(s.input);
    const existing = await deps.store.getChatMessage(s.request.id, 'prompt');
    if (existing) {
      await updatePrompt(existing, s.request, view);
      return existing;
    }
    const spot = spotOf(s.request.id, 'prompt', s.approvals, EVENT_TYPES.prompt);
    const sent = await postOnce(spot, { ...view, unfurl_links: false, unfurl_media: false });
    if (sent.fresh) renders.note(s.request.id, s.request.version, JSON.stringify(view));
    else await updatePrompt(sent, s.request, view);
    return sent;
  }

  /** Skips a render older than, or the same as, the last one sent for this prompt. */
  async function updatePrompt(
    at: { channel: string; ts: string },
    r: ActionRequest,
    view: SlackMessage,
  ): Promise<void> {
    const body = JSON.stringify(view);
    if (renders.covers(r.id, r.version, body)) return;
    renders.note(r.id, r.version, body);
    try {
      await deps.queue.update(at.channel, at.ts, view);
    } catch (err) {
      renders.forget(r.id, body);
      throw err;
    }
  }

  /** The outcome, once: in the thread, or privately to the requester with a note in the thread. */
  async function postResult(s: Subject, prompt: { channel: string; ts: string }): Promise<void> {
    const reply = resultReply(s.input);
    if (!reply) return;
    const id = s.request.id;
    const inThread = (kind: ChatMessageKind) => ({
      ...spotOf(id, kind, prompt.channel, EVENT_TYPES.result),
      threadTs: prompt.ts,
    });
    const message = { ...reply, thread_ts: prompt.ts, unfurl_links: false };
    if (s.command?.output !== 'requester') {
      await postOnce(inThread('result'), message);
      return;
    }
    const user = s.input.slackIdOf(s.request.requester);
    if (user) {
      const dm = { ...spotOf(id, 'result-dm', user, EVENT_TYPES.result), dmUser: user };
      await postOnce(dm, { ...reply, unfurl_links: false });
    } else {
      deps.log.warn(
        { request: id },
        'the requester has no Slack id; the result stays in the console',
      );
    }
    const note = user
      ? PRIVATE_RESULT_NOTE
      : 'The result is private to the requester; see the console.';
    await postOnce(inThread('result'), { text: note, thread_ts: prompt.ts });
  }

  async function postAlert(s: Subject, kind: ChatMessageKind, ops: string): Promise<void> {
    const spot = spotOf(s.request.id, kind, ops, EVENT_TYPES.alert, { alert: kind });
    await postOnce(spot, { text: alertText(s, kind), unfurl_links: false });
  }

  return {
    async notify(event) {
      if (!event.requestId) return;
      const s = await load(deps, event.requestId);
      if (!s) return;
      const prompt = await showPrompt(s);
      if (OUTCOMES.has(s.request.state)) await postResult(s, prompt);
      const alert = event.loud ? ALERTS[event.kind] : undefined;
      if (alert && s.ops) await postAlert(s, alert, s.ops);
    },
  };
}

/** The request and what the views need; undefined when there is nothing to show in Slack. */
async function load(deps: SlackNotifierDeps, requestId: string): Promise<Subject | undefined> {
  const request = await deps.store.getRequest(requestId);
  if (!request || request.class === 'read-only') return undefined;
  const catalog = deps.catalog.current();
  const service = catalog.services.find((x) => x.id === request.service);
  const approvals = service?.channels.approvals;
  if (!approvals) {
    deps.log.warn(
      { request: requestId, service: request.service },
      'no approvals channel configured for the service; nothing posted to Slack',
    );
    return undefined;
  }
  const command = catalog.commands.find((c) => c.id === request.command);
  return {
    request,
    command,
    approvals,
    ops: service.channels.ops,
    input: promptInput(catalog, request, command, deps),
  };
}

function promptInput(
  catalog: Catalog,
  request: ActionRequest,
  command: Command | undefined,
  deps: SlackNotifierDeps,
): PromptInput {
  const person = (id: string) => catalog.people.find((p) => p.id === id);
  return {
    request,
    command,
    eligible: eligibleSignOffs(catalog, request),
    names: (id) => person(id)?.name ?? id,
    slackIdOf: (id) => person(id)?.slack,
    consoleUrl: deps.consoleUrl,
    now: deps.clock.now(),
  };
}

function spotOf(
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

/** One short mrkdwn line for the ops channel. */
function alertText(s: Subject, kind: ChatMessageKind): string {
  const r = s.request;
  const who = escapeMrkdwn(s.input.names(r.requester));
  const what = `\`${r.command}\` on ${r.service} ${r.environment} (${r.id})`;
  if (kind === 'alert-break-glass') {
    const why = escapeMrkdwn(truncate(r.breakGlass?.reason ?? '', 300));
    return `:rotating_light: Break-glass: ${who} ran ${what} without approval. Reason: ${why}`;
  }
  return `:warning: The outcome of ${what}, requested by ${who}, is unknown. Someone with the administer grant must settle it.`;
}

/** Runs functions with the same key one after another, in call order, in this process. */
class KeyedLock {
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

/**
 * The last prompt content sent per request, with the request version it showed, so an
 * older render arriving late never overwrites a newer one and an unchanged one is not sent.
 * Holds at most `max` requests, forgetting the oldest.
 */
class LastRenders {
  private readonly last = new Map<string, { version: number; body: string }>();

  constructor(private readonly max = 5000) {}

  covers(id: string, version: number, body: string): boolean {
    const seen = this.last.get(id);
    return !!seen && (seen.version > version || (seen.version === version && seen.body === body));
  }

  note(id: string, version: number, body: string): void {
    this.last.delete(id);
    this.last.set(id, { version, body });
    if (this.last.size > this.max) this.last.delete(this.last.keys().next().value as string);
  }

  forget(id: string, body: string): void {
    if (this.last.get(id)?.body === body) this.last.delete(id);
  }
}
