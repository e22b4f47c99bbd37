/**
 * Incidents and runbook runs in Slack (`IncidentChat`). Each message is posted once (see
 * `slack-poster.ts`: claimed in the store, found again by its metadata after a crash) and
 * then updated in place through the channel queue:
 *
 * - the header, claim (incident id, `incident-header`), in the incident's channel — or, with
 *   `chat: channel`, in a channel created for it (claim (incident id, `incident-channel`);
 *   that claim's `ts` holds the created channel's id, since a channel has no message ts);
 * - each line `postToIncident` is given, claim (`<incident id>:<key>`, `incident-header`):
 *   a reply in the header's thread, or a top-level message in a dedicated channel. Incident
 *   ids never hold `:`, so these rows never meet the header's own; the port needs no new
 *   kind, and the per-key claim is what makes a retried effect post nothing twice;
 * - a run's step card, claim (run id, `run-card`): in the incident's thread (or its
 *   channel), or for a run without an incident in its service's ops channel.
 */
import type { WebClient } from '@slack/web-api';
import { ErrorCode } from '@slack/web-api';
import type { IncidentChat } from '../../app/incident-ports.ts';
import type { CatalogSource, ChatMessageKind } from '../../app/ports.ts';
import type { Incident } from '../../domain/incident-model.ts';
import type { IncidentSettings, RunView } from '../../domain/runbook-model.ts';
import type { ChannelQueue } from './channel-queue.ts';
import { SlackCallError } from './channel-queue.ts';
import {
  channelPointerMessage,
  incidentHeaderMessage,
  incidentLineMessage,
  type Message,
} from './incident-blocks.ts';
import { runCardMessage } from './run-blocks.ts';
import { KeyedLock, type SlackPosterDeps, type Spot, slackPoster, spotOf } from './slack-poster.ts';

/** Metadata event types on incident messages, so a crashed post can be found again. */
export const INCIDENT_EVENT_TYPES = {
  header: 'countersign_incident_header',
  line: 'countersign_incident_line',
  pointer: 'countersign_incident_pointer',
  run: 'countersign_run_card',
} as const;

export interface SlackIncidentChatDeps extends SlackPosterDeps {
  queue: ChannelQueue;
  /** For `conversations.create` and `conversations.invite`, which the queue does not carry. */
  client: WebClient;
  catalog: CatalogSource;
  /** Base URL of the web console, for the header's "full record" link. */
  consoleUrl?: string;
  /**
   * How long a channel claim without a recorded id is taken to be another worker's
   * creation in progress, in ms; after that the channel is created again. Default 60 000.
   */
  channelGraceMs?: number;
}

/** Slack's channel-name rules: lower-case letters, digits, `-` and `_`, at most 80. */
export const CHANNEL_NAME_MAX = 80;

/**
 * The channel name `pattern` gives for `incident`: `{id}`, `{service}`, `{environment}` and
 * `{date}` (YYYYMMDD of its creation, UTC) filled, lower-cased, every other character
 * turned into `-`, runs of `-` folded, ends trimmed, cut to leave room for `suffix`.
 */
export function channelName(pattern: string, i: Incident, suffix = ''): string {
  const date = new Date(i.createdAt).toISOString().slice(0, 10).replace(/-/g, '');
  const filled = pattern
    .replaceAll('{id}', i.id)
    .replaceAll('{service}', i.service)
    .replaceAll('{environment}', i.environment)
    .replaceAll('{date}', date);
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^[-_]+|[-_]+$/g, '');
  const base = clean(filled) || clean(i.id);
  const room = CHANNEL_NAME_MAX - suffix.length;
  return `${base.slice(0, room).replace(/[-_]+$/g, '')}${suffix}`;
}

/** Names tried in turn while Slack answers `name_taken`. */
function candidates(pattern: string, i: Incident): string[] {
  const tail = `-${i.id.slice(-6).toLowerCase()}`;
  return [
    channelName(pattern, i),
    channelName(pattern, i, tail),
    ...[2, 3, 4].map((n) => channelName(pattern, i, `${tail}-${n}`)),
  ];
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

export function slackIncidentChat(deps: SlackIncidentChatDeps): IncidentChat {
  const { postOnce } = slackPoster(deps);
  const graceMs = deps.channelGraceMs ?? 60_000;
  /** In one process, concurrent effects of one incident wait for its channel instead of failing. */
  const channelLocks = new KeyedLock();
  const people = () => deps.catalog.current().people;
  const names = (id: string) => people().find((p) => p.id === id)?.name ?? id;
  const slackIdOf = (id: string) => people().find((p) => p.id === id)?.slack;

  /**
   * What this process last put in each message, so an update that would change nothing is
   * not sent: Slack allows about 50 `chat.update` a minute, and most changes to an incident
   * (a linked request moving on) do not change its header.
   */
  const sent = new Map<string, string>();
  const remember = (key: string, content: string) => {
    sent.delete(key);
    sent.set(key, content);
    if (sent.size > 5000) sent.delete(sent.keys().next().value as string);
  };

  /** Updates the message of (id, kind) in place, or posts it once at `spot`. */
  async function show(spot: Spot, message: Message & { thread_ts?: string }) {
    const key = `${spot.requestId} ${spot.kind}`;
    const content = JSON.stringify([message.text, message.blocks]);
    const existing = await deps.store.getChatMessage(spot.requestId, spot.kind);
    if (existing) {
      if (sent.get(key) === content) return existing;
      await deps.queue.update(existing.channel, existing.ts, {
        text: message.text,
        blocks: message.blocks,
      });
      remember(key, content);
      return existing;
    }
    const posted = await postOnce(spot, { ...message, unfurl_links: false, unfurl_media: false });
    // Posted meanwhile by a concurrent call (or before a crash): bring it up to date, unless
    // it already says this.
    if (!posted.fresh && sent.get(key) !== content) {
      await deps.queue.update(posted.channel, posted.ts, {
        text: message.text,
        blocks: message.blocks,
      });
    }
    remember(key, content);
    return posted;
  }

  const spot = (
    id: string,
    kind: ChatMessageKind,
    channel: string,
    eventType: string,
    threadTs?: string,
  ): Spot => ({ ...spotOf(id, kind, channel, eventType), ...(threadTs ? { threadTs } : {}) });

  /** The dedicated channel's id, once created. */
  async function dedicatedChannel(incidentId: string): Promise<string | undefined> {
    return (await deps.store.getChatMessage(incidentId, 'incident-channel'))?.ts;
  }

  /** Creates the incident's channel once (claimed), invites its people, and points to it. */
  function ensureChannel(i: Incident, settings: IncidentSettings): Promise<string> {
    return channelLocks.run(i.id, () => claimChannel(i, settings));
  }

  async function claimChannel(i: Incident, settings: IncidentSettings): Promise<string> {
    const tried = candidates(settings.channelPattern, i);
    const claim = await deps.store.claimChatMessage(
      i.id,
      'incident-channel',
      tried[0]!,
      deps.clock.now(),
    );
    if (claim.state === 'posted') return claim.ts;
    if (claim.state === 'posting' && deps.clock.now() - claim.since < graceMs) {
      throw new Error(`the channel of ${i.id} is being created elsewhere; will look again`);
    }
    const id = await createChannel(tried);
    await deps.store.recordChatMessage(i.id, 'incident-channel', id);
    deps.log.info({ incident: i.id, channel: id }, 'created the incident channel');
    await invite(i, id);
    return id;
  }

  async function createChannel(names: string[]): Promise<string> {
    for (const name of names) {
      try {
        const res = (await deps.client.conversations.create({ name, is_private: false })) as {
          channel?: { id?: string };
        };
        const id = res.channel?.id;
        if (!id) throw new SlackCallError('conversations.create', 'no_channel_in_response');
        return id;
      } catch (err) {
        const code = slackErrorCode(err);
        if (code === 'name_taken') continue;
        throw code ? new SlackCallError('conversations.create', code) : err;
      }
    }
    throw new SlackCallError('conversations.create', 'name_taken');
  }

  /** Best effort: the declarer and the people holding roles join the new channel. */
  async function invite(i: Incident, channel: string): Promise<void> {
    const ids = [
      ...(i.origin.kind === 'declared' ? [i.origin.by] : []),
      ...(i.roles.commander ? [i.roles.commander] : []),
      ...(i.roles.scribe ? [i.roles.scribe] : []),
      ...i.roles.responders,
    ];
    const users = [...new Set(ids.map(slackIdOf))].filter(
      (u): u is string => u !== undefined && SLACK_USER_ID.test(u),
    );
    if (users.length === 0) return;
    try {
      await deps.client.conversations.invite({ channel, users: users.join(',') });
    } catch (err) {
      deps.log.warn(
        { err, incident: i.id, channel },
        'could not invite people to the incident channel',
      );
    }
  }

  /** Where the incident's lines and cards go: the dedicated channel, else the header's thread. */
  async function incidentSpot(
    i: Incident,
  ): Promise<{ channel: string; threadTs?: string } | undefined> {
    const dedicated = await dedicatedChannel(i.id);
    if (dedicated) return { channel: dedicated };
    const header = await deps.store.getChatMessage(i.id, 'incident-header');
    if (header) return { channel: header.channel, threadTs: header.ts };
    return i.channel ? { channel: i.channel } : undefined;
  }

  return {
    async showIncident(view, settings) {
      const i = view.incident;
      const message = incidentHeaderMessage({
        view,
        names,
        slackIdOf,
        now: deps.clock.now(),
        ...(deps.consoleUrl ? { consoleUrl: deps.consoleUrl } : {}),
      });
      const existing = await deps.store.getChatMessage(i.id, 'incident-header');
      let channel = existing?.channel ?? i.channel;
      if (!existing && settings.chat === 'channel') {
        channel = await ensureChannel(i, settings);
        if (i.channel && i.channel !== channel) {
          const pointer = spot(
            `${i.id}:channel`,
            'incident-header',
            i.channel,
            INCIDENT_EVENT_TYPES.pointer,
          );
          await postOnce(pointer, { ...channelPointerMessage(i, channel), unfurl_links: false });
        }
      }
      if (!channel) {
        deps.log.warn({ incident: i.id }, 'the incident has no channel; its header is not shown');
        return undefined;
      }
      const posted = await show(
        spot(i.id, 'incident-header', channel, INCIDENT_EVENT_TYPES.header),
        message,
      );
      return { channel: posted.channel };
    },

    async postToIncident(incident, key, text) {
      const where = await incidentSpot(incident);
      if (!where) {
        deps.log.warn(
          { incident: incident.id, key },
          'the incident has no channel; the line is not posted',
        );
        return;
      }
      const message = incidentLineMessage(incident, text);
      const id = `${incident.id}:${key}`;
      const at = spot(
        id,
        'incident-header',
        where.channel,
        INCIDENT_EVENT_TYPES.line,
        where.threadTs,
      );
      await postOnce(at, {
        ...message,
        ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
        unfurl_links: false,
        unfurl_media: false,
      });
    },

    async showRun(view, incident) {
      const message = runCardMessage({ view, names, now: deps.clock.now() });
      const where = incident ? await incidentSpot(incident) : serviceChannel(view);
      if (!where) {
        const existing = await deps.store.getChatMessage(view.run.id, 'run-card');
        if (existing) await deps.queue.update(existing.channel, existing.ts, message);
        else deps.log.warn({ run: view.run.id }, 'the run has no channel; its card is not shown');
        return;
      }
      const at = spot(
        view.run.id,
        'run-card',
        where.channel,
        INCIDENT_EVENT_TYPES.run,
        where.threadTs,
      );
      await show(at, { ...message, ...(where.threadTs ? { thread_ts: where.threadTs } : {}) });
    },
  };

  function serviceChannel(view: RunView): { channel: string; threadTs?: string } | undefined {
    const service = deps.catalog.current().services.find((s) => s.id === view.run.service);
    const channel = service?.channels.ops ?? service?.channels.alerts;
    return channel ? { channel } : undefined;
  }
}

/** Slack's error string for an `ok: false` answer, or `ratelimited` for a 429. */
function slackErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; data?: { error?: unknown } };
  if (e?.code === ErrorCode.PlatformError && typeof e.data?.error === 'string') return e.data.error;
  if (e?.code === ErrorCode.RateLimitedError) return 'ratelimited';
  return undefined;
}
