/**
 * Slack over Socket Mode, for deployments with no public ingress: a Bolt `Receiver` on
 * `@slack/socket-mode`'s client. The client calls `apps.connections.open` with the app-level
 * token, opens the WebSocket it names, waits for `hello`, pings, and reconnects when Slack
 * sends `disconnect` (`refresh_requested`, `warning`) or the socket drops. Each envelope
 * (`events_api`, `slash_commands`, `interactive`) then goes through the same steps as an HTTP
 * delivery (`SlackDeliveries`: owner check, durable dedupe, dispatch), and is acked on the
 * socket — `{ envelope_id, payload }` — when the listener acks, or empty after `ackTimeoutMs`.
 * A listener that fails before acking leaves the envelope unacked (Slack redelivers it) and
 * its delivery record is dropped. Redeliveries and foreign payloads are acked, not dispatched.
 *
 * Payloads are not signed in Socket Mode: the socket itself is authenticated by the app token,
 * so no signing secret is needed. Envelope bodies are never logged.
 *
 * Bolt's own `SocketModeReceiver` is not used: it dispatches every envelope straight to Bolt,
 * with no place for the durable dedupe, the ack deadline or a bounded, draining `stop()`.
 */
import { hash } from 'node:crypto';
import { type App, type Logger as BoltLogger, LogLevel, type Receiver } from '@slack/bolt';
import { SocketModeClient } from '@slack/socket-mode';
import type { AppsConnectionsOpenResponse } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Store } from '../../app/ports.ts';
import { boltLogger } from './fastify-receiver.ts';
import {
  type DeliveryKind,
  type FirstOutcome,
  type SlackBody,
  SlackDeliveries,
} from './slack-deliveries.ts';

export interface SlackSocketModeReceiverOptions {
  /** The app-level token (`xapp-…`, scope `connections:write`). Must not be empty. */
  appToken: string;
  /** The Web API base `apps.connections.open` is called at; default Slack's. */
  apiUrl?: string;
  /** Now, in milliseconds since epoch: delivery records are stamped with it. */
  clock: () => number;
  /** Where deliveries are recorded (scope `slack`), so a redelivery is not dispatched twice. */
  store: Pick<Store, 'beginIdempotent' | 'abandonIdempotent'>;
  log: Logger;
  /** When set, a payload whose `api_app_id` differs (or is missing) is acked and dropped. */
  appId?: string;
  /** When set, a payload from another workspace is acked and dropped. */
  teamId?: string;
  /** How long a listener has to call `ack()` before an empty ack goes out, in ms. Default 2500. */
  ackTimeoutMs?: number;
  /** How long `stop()` waits for listeners still working after their ack, in ms. Default 10000. */
  drainTimeoutMs?: number;
  /**
   * The client's heartbeat, in ms: it pings every third of it, gives up on a missing pong
   * after it, and waits it (times the failures in a row) before reconnecting. Default 5000.
   */
  pingTimeoutMs?: number;
  /**
   * How long `start()` waits for the first `hello`, in ms; after it, start-up goes on and the
   * client keeps trying in the background. Default 10000. A refused token fails at once.
   */
  startTimeoutMs?: number;
  /** How long `stop()` waits for the socket's close handshake, in ms. Default 3000. */
  closeTimeoutMs?: number;
}

/** Where the socket is. `failed`: Slack refused a reconnect for good (e.g. token revoked). */
export type SocketState =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'disconnected'
  | 'failed';

/** Start-up failed: Slack refused the app token (wrong, revoked, no `connections:write`) or could not be reached. */
export class SocketModeStartError extends Error {
  readonly code = 'SLACK_SOCKET_REFUSED';
}

const KINDS: Readonly<Record<string, DeliveryKind>> = {
  events_api: 'event',
  slash_commands: 'command',
  interactive: 'interaction',
};

/** What the client emits as `slack_event` for every envelope. */
interface SocketEnvelope {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  envelope_id?: string;
  type: string;
  body: unknown;
  retry_num?: number;
  retry_reason?: string;
}

export class SlackSocketModeReceiver implements Receiver {
  readonly #o: SlackSocketModeReceiverOptions;
  readonly #log: Logger;
  readonly #client: GuardedSocketModeClient;
  readonly #deliveries: SlackDeliveries;
  /** Envelopes not yet answered: `stop()` lets their acks go out before closing the socket. */
  readonly #answering = new Set<Promise<void>>();
  #app: App | undefined;
  #state: SocketState = 'idle';
  #stopping = false;

  constructor(options: SlackSocketModeReceiverOptions) {
    if (!options.appToken) throw new TypeError('SlackSocketModeReceiver: appToken is empty');
    this.#o = options;
    this.#log = options.log.child({ component: 'slack-socket' });
    const { store, clock, appId, teamId, ackTimeoutMs } = options;
    this.#deliveries = new SlackDeliveries({
      store,
      clock,
      log: this.#log,
      ...(ackTimeoutMs !== undefined ? { ackTimeoutMs } : {}),
      ...(appId ? { appId } : {}),
      ...(teamId ? { teamId } : {}),
    });
    this.#client = new GuardedSocketModeClient(
      {
        appToken: options.appToken,
        logger: quietLogger(boltLogger(options.log)),
        clientPingTimeout: options.pingTimeoutMs ?? 5_000,
        // The default retryConfig (100 retries) is kept for apps.connections.open on purpose:
        // the client reconnects through it, and gives up for good on auth errors only.
        clientOptions: options.apiUrl ? { slackApiUrl: options.apiUrl } : {},
      },
      this.#log,
      (err) => this.#onReconnectFailure(err),
    );
    this.#watch();
    this.#client.on('slack_event', (envelope: SocketEnvelope) => {
      const answered = this.#onEnvelope(envelope).catch((err: unknown) =>
        this.#log.error({ err, type: envelope.type }, 'slack envelope not handled'),
      );
      this.#answering.add(answered);
      void answered.finally(() => this.#answering.delete(answered));
    });
  }

  /** Bolt calls this from `new App({ receiver })`. */
  init(app: App): void {
    this.#app = app;
  }

  /** Where the socket is now. */
  get state(): SocketState {
    return this.#state;
  }

  /**
   * Opens the socket and waits for Slack's `hello`, at most `startTimeoutMs`; then start-up
   * goes on and the client keeps trying. Rejects with `SocketModeStartError` when Slack
   * refuses the token (the client would otherwise retry a hopeless start for ever).
   */
  async start(): Promise<void> {
    this.#stopping = false;
    const opened = this.#client.open().then(
      () => 'connected' as const,
      (err: unknown) => err,
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'waiting'>((r) => {
      timer = setTimeout(() => r('waiting'), this.#o.startTimeoutMs ?? 10_000);
    });
    const first = await Promise.race([opened, waited]);
    clearTimeout(timer);
    if (first === 'connected') return;
    if (first === 'waiting') {
      this.#log.warn({}, 'slack socket not connected yet; still trying in the background');
      void opened.then((late) => {
        if (late !== 'connected') this.#onReconnectFailure(late);
      });
      return;
    }
    this.#state = 'failed';
    throw startError(first);
  }

  /**
   * Stops taking envelopes, lets the acks of those being answered go out (they are due
   * within `ackTimeoutMs`), closes the socket (at most `closeTimeoutMs`), then waits for
   * listeners still working after their ack (at most `drainTimeoutMs`).
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    const acksDue = this.#deliveries.ackTimeoutMs + 1_000;
    await within(Promise.allSettled([...this.#answering]), acksDue);
    const closeMs = this.#o.closeTimeoutMs ?? 3_000;
    if (!(await within(this.#client.disconnect(), closeMs))) {
      this.#log.warn({ afterMs: closeMs }, 'slack socket close handshake did not finish');
    }
    this.#state = 'disconnected';
    await this.#deliveries.drain(this.#o.drainTimeoutMs ?? 10_000);
  }

  async #onEnvelope(envelope: SocketEnvelope): Promise<void> {
    if (this.#stopping) return; // Unacked: Slack delivers it again, to a live connection.
    const kind = KINDS[envelope.type];
    const body = envelope.body;
    const retry = {
      ...(typeof envelope.retry_num === 'number' ? { retryNum: envelope.retry_num } : {}),
      ...(envelope.retry_reason ? { retryReason: envelope.retry_reason } : {}),
    };
    if (!kind || typeof body !== 'object' || body === null || Array.isArray(body)) {
      this.#log.warn({ type: envelope.type }, 'slack envelope of no known shape; acked, ignored');
      return this.#ack(envelope);
    }
    const app = this.#app;
    if (!app) throw new Error('SlackSocketModeReceiver: no Bolt App; pass it to new App()');
    const bodyHash = hash('sha256', JSON.stringify(body), 'hex');
    const admitted = await this.#deliveries.admit(kind, body as SlackBody, bodyHash);
    if (admitted.kind !== 'new') return this.#ack(envelope);
    const outcome = await this.#deliveries.dispatch(app, { body, ...retry }, admitted.key);
    return this.#answer(envelope, outcome);
  }

  #answer(envelope: SocketEnvelope, outcome: FirstOutcome): Promise<void> {
    switch (outcome.kind) {
      case 'acked':
        return this.#ack(envelope, outcome.response);
      case 'timeout':
        this.#log.warn(
          { afterMs: this.#deliveries.ackTimeoutMs, type: envelope.type },
          'slack listener did not ack in time; acked empty',
        );
        return this.#ack(envelope);
      case 'done':
        this.#log.info({ type: envelope.type }, 'no slack listener acked; acked empty');
        return this.#ack(envelope);
      case 'failed':
        this.#log.error(
          { err: outcome.error, type: envelope.type },
          'slack listener failed before its ack; left unacked for Slack to redeliver',
        );
        return Promise.resolve();
    }
  }

  /** Sends `{ envelope_id, payload }`: none → `{}`, a string → `{ text }`, an object as is. */
  #ack(envelope: SocketEnvelope, response?: unknown): Promise<void> {
    if (!envelope.envelope_id) return Promise.resolve();
    const payload =
      response === undefined || response === null || response === ''
        ? undefined
        : typeof response === 'string'
          ? { text: response }
          : (response as Record<string, unknown>);
    return envelope.ack(payload).catch((err: unknown) => {
      // The socket went away first: Slack redelivers, and the delivery record stops a rerun.
      this.#log.warn({ err, type: envelope.type }, 'slack ack not sent');
    });
  }

  /** Logs every change of connection state and keeps `state` current. */
  #watch(): void {
    const c = this.#client;
    const to = (state: SocketState, level: 'info' | 'warn' | 'debug', msg: string) => () => {
      this.#state = state;
      this.#log[level]({ state }, msg);
    };
    c.on('connecting', to('connecting', 'debug', 'slack socket connecting'));
    c.on('connected', to('connected', 'info', 'slack socket connected'));
    c.on('reconnecting', to('reconnecting', 'info', 'slack socket reconnecting'));
    c.on('disconnected', () => {
      if (this.#state !== 'failed') to('disconnected', 'info', 'slack socket closed')();
    });
    c.on('close', () => {
      if (!this.#stopping && this.#state !== 'failed') {
        to('reconnecting', 'info', 'slack socket closed; reconnecting')();
      }
    });
  }

  #onReconnectFailure(err: unknown): void {
    if (this.#stopping) return;
    this.#state = 'failed';
    this.#log.error(
      { err: startError(err) },
      'slack socket gave up: Slack refused the app token; Slack is off until a restart',
    );
  }
}

/**
 * The library's client, made safe to run in a server:
 *  - a message is parsed before the library sees it: malformed JSON is logged and dropped,
 *    and a library failure on an odd envelope (it reads `payload.event.type` unguarded) is
 *    caught instead of becoming an unhandled rejection that would end the process;
 *  - `disconnect` messages are logged with their reason;
 *  - reconnects go through `start()`, whose rejection 3.1 leaves unhandled (fixed in 3.2): it
 *    is caught and reported. Our own first start goes through `open()` and does reject.
 */
class GuardedSocketModeClient extends SocketModeClient {
  readonly #log: Logger;
  readonly #onReconnectFailure: (err: unknown) => void;

  constructor(
    options: ConstructorParameters<typeof SocketModeClient>[0],
    log: Logger,
    onReconnectFailure: (err: unknown) => void,
  ) {
    super(options);
    this.#log = log;
    this.#onReconnectFailure = onReconnectFailure;
  }

  /** The first connection: resolves at Slack's `hello`, rejects when Slack refuses. */
  open(): Promise<AppsConnectionsOpenResponse> {
    return super.start();
  }

  /** Called by the library to reconnect; never rejects. */
  override async start(): Promise<AppsConnectionsOpenResponse> {
    try {
      return await super.start();
    } catch (err) {
      this.#onReconnectFailure(err);
      return { ok: false, error: 'reconnect_failed' };
    }
  }

  protected override async onWebSocketMessage(
    data: string | ArrayBuffer,
    isBinary: boolean,
  ): Promise<void> {
    try {
      if (!isBinary) {
        const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
        const message = parseObject(text);
        if (!message) {
          this.#log.warn(
            { bytes: text.length },
            'slack socket message is not a JSON object; ignored',
          );
          return;
        }
        if (message.type === 'disconnect') {
          this.#log.info({ reason: message.reason }, 'slack asked to reconnect');
        }
      }
      await super.onWebSocketMessage(data, isBinary);
    } catch (err) {
      this.#log.error({ err }, 'slack socket message not handled');
    }
  }
}

/** True when `p` settles within `ms`; false when the wait ran out first. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const settled = p.then(
    () => true as const,
    () => true as const,
  );
  const done = await Promise.race([settled, late]);
  clearTimeout(timer);
  return done;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Bolt's logger without debug: the library logs every envelope body there. */
function quietLogger(logger: BoltLogger): BoltLogger {
  return {
    ...logger,
    debug: () => undefined,
    getLevel: () => (logger.getLevel() === LogLevel.DEBUG ? LogLevel.INFO : logger.getLevel()),
  };
}

/** Slack's refusal (`invalid_auth` …) or the failure, as a plain message without the token. */
function startError(err: unknown): SocketModeStartError {
  const refusal = (err as { data?: { error?: unknown } } | undefined)?.data?.error;
  if (typeof refusal === 'string') {
    return new SocketModeStartError(
      `Slack refused to open a Socket Mode connection (${refusal}): use an app-level token with the connections:write scope, and turn Socket Mode on in the app's settings`,
    );
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new SocketModeStartError(`Slack Socket Mode could not connect: ${reason}`);
}
