/**
 * Every outbound Slack Web API call goes through here: one serial lane per channel (or per
 * user, for direct messages), lanes running in parallel. A lane leaves `minIntervalMs`
 * between the starts of its calls (Slack allows about one message per second per channel),
 * pauses for `Retry-After` when Slack answers 429 and then retries the same call, and folds
 * an update of a message into a newer update of the same message that has not started yet.
 *
 * The client must be built with `rejectRateLimitedCalls: true` and `retryConfig: { retries:
 * 0 }` (see `slackClient`), so a 429 reaches the lane instead of pausing the whole client.
 */
import type { KnownBlock } from '@slack/types';
import { ErrorCode, WebClient } from '@slack/web-api';
import type { Log } from '../../app/context.ts';

/** What a posted or updated message says. Field names are Slack's. */
export interface SlackMessage {
  /** Plain fallback for notifications and screen readers; Slack wants it beside blocks. */
  text: string;
  blocks?: KnownBlock[];
  /** Posts as a reply in the thread of this message ts. */
  thread_ts?: string;
  /** Event metadata, readable back with `include_all_metadata`. */
  metadata?: { event_type: string; event_payload: Record<string, string | number | boolean> };
  unfurl_links?: boolean;
  unfurl_media?: boolean;
}

/** A message as `conversations.history` / `conversations.replies` return it. */
export interface SlackHistoryMessage {
  ts?: string;
  thread_ts?: string;
  text?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/** Slack refused a call (`ok: false`); `code` is Slack's error string, e.g. `channel_not_found`. */
export class SlackCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: string,
  ) {
    super(`${method}: ${code}`);
    this.name = 'SlackCallError';
  }
}

/**
 * Calls per minute per method across all lanes: the floors of Slack's tiers (Tier 3 50+/min,
 * Tier 4 100+/min). chat.postMessage has its own per-channel limit, kept by the lanes.
 */
export const TIER_PER_MINUTE: Readonly<Record<string, number>> = {
  'chat.update': 50,
  'chat.postEphemeral': 100,
  'conversations.history': 50,
  'conversations.replies': 50,
  'conversations.open': 50,
};

export interface ChannelQueueOptions {
  /** Least time between the starts of two calls in one lane, in ms. Default 1000. */
  minIntervalMs?: number;
  /** Calls per rolling minute per method, over all lanes. Default `TIER_PER_MINUTE`. */
  perMinute?: Readonly<Record<string, number>>;
  /** Tries per call while Slack keeps answering 429, the first included. Default 5. */
  maxAttempts?: number;
  log?: Log;
}

/** A WebClient whose 429s reject at once with `retryAfter`, for the lanes to honour. */
export function slackClient(token: string, slackApiUrl?: string): WebClient {
  return new WebClient(token, {
    ...(slackApiUrl ? { slackApiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
}

interface Waiter {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

interface Job {
  method: string;
  send: () => Promise<unknown>;
  waiters: Waiter[];
  /** `channel ts` for updates, so a newer update of the same message can replace this one. */
  coalesceKey?: string;
  /** True while the call is on the wire; a sent job is never replaced. */
  sending: boolean;
  attempts: number;
}

interface Lane {
  jobs: Job[];
  /** Milliseconds since epoch (wall clock) before which the next call must not start. */
  readyAt: number;
  running: boolean;
  /** Wakes a lane sleeping until `readyAt`, so `stop('abandon')` need not wait. */
  wake?: () => void;
}

export class ChannelQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly minIntervalMs: number;
  private readonly maxAttempts: number;
  private readonly perMinute: Readonly<Record<string, number>>;
  /** Start times (wall clock, ms) of each method's calls in the last minute. */
  private readonly recentStarts = new Map<string, number[]>();
  private stopped: false | 'drain' | 'abandon' = false;

  constructor(
    private readonly client: WebClient,
    private readonly options: ChannelQueueOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.perMinute = options.perMinute ?? TIER_PER_MINUTE;
  }

  /** Posts a message (chat.postMessage) and answers where it went. */
  async post(channel: string, message: SlackMessage): Promise<{ channel: string; ts: string }> {
    const res = await this.enqueue(channel, 'chat.postMessage', () =>
      this.client.chat.postMessage({ channel, ...message }),
    );
    return posted(res, channel);
  }

  /**
   * Replaces a message's content (chat.update). If an update of the same message is still
   * waiting in the lane, this one takes its place and both callers resolve when it is sent.
   */
  async update(channel: string, ts: string, message: SlackMessage): Promise<void> {
    const key = `${channel} ${ts}`;
    const send = () => this.client.chat.update({ channel, ts, ...message });
    const waiting = this.lane(channel).jobs.find((j) => j.coalesceKey === key && !j.sending);
    if (waiting && !this.stopped) {
      waiting.send = send;
      await new Promise((resolve, reject) => waiting.waiters.push({ resolve, reject }));
      return;
    }
    await this.enqueue(channel, 'chat.update', send, key);
  }

  /** Shows `message` to `user` only, in `channel` (chat.postEphemeral). */
  async postEphemeral(channel: string, user: string, message: SlackMessage): Promise<void> {
    await this.enqueue(channel, 'chat.postEphemeral', () =>
      this.client.chat.postEphemeral({ channel, user, ...message }),
    );
  }

  /** Sends a direct message to a Slack user id; answers the DM channel and ts. */
  async postDm(userId: string, message: SlackMessage): Promise<{ channel: string; ts: string }> {
    return this.post(userId, message);
  }

  /** Opens (or finds) the direct-message channel with a user; answers its id. */
  async openDm(userId: string): Promise<string> {
    const res = (await this.enqueue(userId, 'conversations.open', () =>
      this.client.conversations.open({ users: userId }),
    )) as { channel?: { id?: string } };
    const id = res.channel?.id;
    if (!id) throw new SlackCallError('conversations.open', 'no_channel_in_response');
    return id;
  }

  /**
   * The latest `limit` messages of a channel, or of the thread under `threadTs`, with their
   * metadata (conversations.history / conversations.replies). Newest first for a channel.
   */
  async recent(channel: string, threadTs?: string, limit = 100): Promise<SlackHistoryMessage[]> {
    const res = (await (threadTs
      ? this.enqueue(channel, 'conversations.replies', () =>
          this.client.conversations.replies({
            channel,
            ts: threadTs,
            limit,
            include_all_metadata: true,
          }),
        )
      : this.enqueue(channel, 'conversations.history', () =>
          this.client.conversations.history({ channel, limit, include_all_metadata: true }),
        ))) as { messages?: SlackHistoryMessage[] };
    return res.messages ?? [];
  }

  /**
   * Refuses new calls. `drain` (the default) resolves once every lane is empty; `abandon`
   * rejects the calls not yet on the wire and resolves once the ones on the wire return.
   */
  async stop(mode: 'drain' | 'abandon' = 'drain'): Promise<void> {
    this.stopped = mode;
    for (const lane of this.lanes.values()) {
      if (mode === 'abandon') {
        for (const job of lane.jobs.filter((j) => !j.sending)) fail(job, stoppedError());
        lane.jobs = lane.jobs.filter((j) => j.sending);
        lane.wake?.();
      }
    }
    while ([...this.lanes.values()].some((l) => l.running)) await sleep(5);
  }

  private lane(channel: string): Lane {
    let lane = this.lanes.get(channel);
    if (!lane) {
      lane = { jobs: [], readyAt: 0, running: false };
      this.lanes.set(channel, lane);
    }
    return lane;
  }

  private enqueue(
    channel: string,
    method: string,
    send: () => Promise<unknown>,
    coalesceKey?: string,
  ): Promise<unknown> {
    if (this.stopped) return Promise.reject(stoppedError());
    const lane = this.lane(channel);
    return new Promise((resolve, reject) => {
      const job: Job = {
        method,
        send,
        waiters: [{ resolve, reject }],
        sending: false,
        attempts: 0,
      };
      if (coalesceKey) job.coalesceKey = coalesceKey;
      lane.jobs.push(job);
      if (!lane.running) void this.run(channel, lane);
    });
  }

  /** Works through a lane's jobs one at a time until it is empty. */
  private async run(channel: string, lane: Lane): Promise<void> {
    lane.running = true;
    try {
      for (let job = lane.jobs[0]; job; job = lane.jobs[0]) {
        await this.waitUntilReady(lane, job.method);
        if (lane.jobs[0] !== job) continue;
        const done = await this.attempt(channel, lane, job);
        if (done) lane.jobs.shift();
      }
    } finally {
      lane.running = false;
    }
  }

  /** Sends a job once; false when it was rate-limited and stays at the head to retry. */
  private async attempt(channel: string, lane: Lane, job: Job): Promise<boolean> {
    job.sending = true;
    job.attempts += 1;
    lane.readyAt = Date.now() + this.minIntervalMs;
    this.noteStart(job.method);
    try {
      const result = await job.send();
      for (const w of job.waiters) w.resolve(result);
      return true;
    } catch (err) {
      const retryAfter = rateLimitedFor(err);
      if (retryAfter !== undefined && job.attempts < this.maxAttempts && !this.stopped) {
        lane.readyAt = Math.max(lane.readyAt, Date.now() + retryAfter * 1000);
        job.sending = false;
        this.options.log?.warn(
          { channel, method: job.method, retryAfter, attempt: job.attempts },
          'Slack rate-limited the call; the lane pauses, then retries it',
        );
        return false;
      }
      fail(job, callError(job.method, err));
      return true;
    }
  }

  /** Sleeps until the lane's interval and the method's per-minute budget allow a call. */
  private async waitUntilReady(lane: Lane, method: string): Promise<void> {
    const wait = Math.max(lane.readyAt, this.budgetReadyAt(method)) - Date.now();
    if (wait <= 0 || this.stopped === 'abandon') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done() {
        clearTimeout(timer);
        lane.wake = undefined;
        resolve();
      }
      lane.wake = done;
    });
  }

  private noteStart(method: string): void {
    if (this.perMinute[method] === undefined) return;
    const now = Date.now();
    const starts = (this.recentStarts.get(method) ?? []).filter((t) => t > now - MINUTE);
    starts.push(now);
    this.recentStarts.set(method, starts);
  }

  /** When the method may next start without passing its per-minute budget (ms, wall clock). */
  private budgetReadyAt(method: string): number {
    const limit = this.perMinute[method];
    if (limit === undefined) return 0;
    const now = Date.now();
    const starts = (this.recentStarts.get(method) ?? []).filter((t) => t > now - MINUTE);
    const oldest = starts[starts.length - limit];
    return oldest === undefined ? 0 : oldest + MINUTE;
  }
}

const MINUTE = 60_000;

function fail(job: Job, err: unknown): void {
  for (const w of job.waiters) w.reject(err);
}

function stoppedError(): Error {
  return new Error('the Slack queue is stopped');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function posted(res: unknown, fallbackChannel: string): { channel: string; ts: string } {
  const r = res as { ts?: string; channel?: string };
  if (!r.ts) throw new SlackCallError('chat.postMessage', 'no_ts_in_response');
  return { channel: r.channel ?? fallbackChannel, ts: r.ts };
}

/** Seconds Slack asked us to wait, when `err` is a 429 rejected by the client. */
function rateLimitedFor(err: unknown): number | undefined {
  const e = err as { code?: unknown; retryAfter?: unknown };
  if (e?.code !== ErrorCode.RateLimitedError) return undefined;
  return typeof e.retryAfter === 'number' ? e.retryAfter : 1;
}

/** Slack's own error code for an `ok: false` answer; other failures pass through. */
function callError(method: string, err: unknown): unknown {
  const e = err as { code?: unknown; data?: { error?: unknown } };
  if (e?.code === ErrorCode.PlatformError && typeof e.data?.error === 'string') {
    return new SlackCallError(method, e.data.error);
  }
  if (e?.code === ErrorCode.RateLimitedError) return new SlackCallError(method, 'ratelimited');
  return err;
}
