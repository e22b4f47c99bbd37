/**
 * Slack's one URL (`/slack/events`: slash commands, interactivity, Events API) inside our
 * Fastify server, as a Bolt `Receiver`. Per request, in this order:
 *
 *  1. body limit — Fastify stops reading past `bodyLimit` bytes: 413, nothing verified;
 *  2. signature — `verifySlackSignature` over the raw bytes: 401, nothing parsed or stored;
 *  3. parse — form (`payload=` JSON or slash-command fields) or JSON (Events API): else 400;
 *  4. `ssl_check` → empty 200, never dispatched; `url_verification` → `{ challenge }`;
 *  5. owner — with `appId` / `teamId` set, another app's or workspace's payload: 403;
 *  6. dedupe — `store.beginIdempotent('slack', key, sha256(body))`; a redelivery: empty 200;
 *  7. dispatch — `app.processEvent`; the HTTP answer goes out when the listener acks (its
 *     argument is the body) or after `ackTimeoutMs` (empty 200). Work continues afterwards.
 *     A listener that throws before acking gets a 500 and its delivery record is dropped, so
 *     Slack's retry is handled; errors after the answer are logged.
 *
 * The route is registered as an encapsulated plugin, so its raw-body parsers and body limit
 * never touch other routes.
 */
import { hash } from 'node:crypto';
import { inspect } from 'node:util';
import {
  App,
  type Authorize,
  type Logger as BoltLogger,
  LogLevel,
  type Receiver,
  type ReceiverEvent,
  ReceiverMultipleAckError,
} from '@slack/bolt';
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import type { Log } from '../../app/context.ts';
import type { Store } from '../../app/ports.ts';
import { DomainError } from '../../domain/errors.ts';
import { problemOf, sendProblem, toProblem } from '../http/problem.ts';
import { type SignatureFailure, verifySlackSignature } from './verify-signature.ts';

export interface FastifyReceiverOptions {
  /** The app's signing secret (Slack app settings, Basic Information). Must not be empty. */
  signingSecret: string;
  /** The route. Default `/slack/events`. */
  path?: string;
  /** Largest body accepted, in bytes; a larger one gets 413 before any HMAC. Default 1 MiB. */
  bodyLimit?: number;
  /** Now, in milliseconds since epoch: the signature window and dedupe records use it. */
  clock: () => number;
  /** Where deliveries are recorded (scope `slack`), so a redelivery is not dispatched twice. */
  store: Pick<Store, 'beginIdempotent' | 'abandonIdempotent'>;
  /** When set, a payload whose `api_app_id` differs (or is missing) gets 403. */
  appId?: string;
  /** When set, a payload from another workspace gets 403; an `E…` id matches the enterprise. */
  teamId?: string;
  log: Log;
  /** Called once per refused signature with the reason (for a metric); never throws back. */
  onVerificationFailure?: (reason: SignatureFailure) => void;
  /** How long a listener has to call `ack()` before an empty 200 goes out, in ms. Default 2500. */
  ackTimeoutMs?: number;
  /** How long `stop()` waits for listeners still working after their answer, in ms. Default 10000. */
  drainTimeoutMs?: number;
}

/** The scope of Slack delivery records in the store's idempotency table. */
export const SLACK_DEDUPE_SCOPE = 'slack';

const DEFAULT_BODY_LIMIT = 1_048_576;
const NOT_VERIFIED = 'The request could not be verified as coming from Slack.';

type Body = Record<string, unknown>;
type Delivery =
  | { kind: 'ssl_check' }
  | { kind: 'url_verification'; challenge: string }
  | { kind: 'event' | 'interaction' | 'command'; body: Body };
type Parsed = { ok: true; delivery: Delivery } | { ok: false; detail: string };
/** What happened first after dispatch: it decides the HTTP answer. */
type First =
  | { kind: 'acked'; response: unknown }
  | { kind: 'timeout' }
  | { kind: 'done' }
  | { kind: 'failed'; error: unknown };
type Settled = { ok: true } | { ok: false; error: unknown };

export class FastifyReceiver implements Receiver {
  readonly #o: Required<Pick<FastifyReceiverOptions, 'path' | 'bodyLimit' | 'ackTimeoutMs'>> &
    FastifyReceiverOptions;
  #app: App | undefined;
  readonly #inflight = new Set<Promise<void>>();

  constructor(options: FastifyReceiverOptions) {
    if (!options.signingSecret) throw new TypeError('FastifyReceiver: signingSecret is empty');
    this.#o = {
      path: '/slack/events',
      bodyLimit: DEFAULT_BODY_LIMIT,
      ackTimeoutMs: 2_500,
      ...options,
    };
  }

  /** Bolt calls this from `new App({ receiver })`. */
  init(app: App): void {
    this.#app = app;
  }

  /** Adds the route to `fastify` in its own encapsulated context. Call before `ready()`. */
  register(fastify: FastifyInstance): void {
    fastify.register(this.#plugin);
  }

  /** Nothing to start: the server belongs to the caller (`main.ts` listens). */
  async start(): Promise<void> {}

  /** Waits (at most `drainTimeoutMs`) for listeners still working after their answer. */
  async stop(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((r) => {
      timer = setTimeout(r, this.#o.drainTimeoutMs ?? 10_000);
    });
    await Promise.race([Promise.allSettled([...this.#inflight]), limit]);
    clearTimeout(timer);
  }

  readonly #plugin: FastifyPluginCallback = (f, _opts, done) => {
    const { bodyLimit, path } = this.#o;
    // Every content type is read as raw bytes so the signature is checked before the type.
    f.removeAllContentTypeParsers();
    f.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, next) =>
      next(null, body),
    );
    f.setErrorHandler((err: FastifyError, req, reply) => this.#onError(err, req, reply));
    f.post(path, { bodyLimit }, (req, reply) => this.#handle(req, reply));
    done();
  };

  async #handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = verifySlackSignature({
      signingSecret: this.#o.signingSecret,
      rawBody: raw,
      signature: headerOf(req, 'x-slack-signature'),
      timestamp: headerOf(req, 'x-slack-request-timestamp'),
      nowSeconds: Math.floor(this.#o.clock() / 1000),
    });
    if (!verdict.ok) return this.#refuseSignature(reply, verdict.reason);
    const parsed = parseDelivery(raw.toString('utf8'), req.headers['content-type']);
    if (!parsed.ok) return sendProblem(reply, problemOf('INVALID_INPUT', parsed.detail));
    const d = parsed.delivery;
    if (d.kind === 'ssl_check') return reply.code(200).send();
    if (d.kind === 'url_verification') return reply.code(200).send({ challenge: d.challenge });
    const foreign = foreignTo(d.body, this.#o.appId, this.#o.teamId);
    if (foreign) {
      this.#o.log.warn({ foreign }, 'slack request refused: another app or workspace');
      return sendProblem(
        reply,
        problemOf('FORBIDDEN', 'This endpoint does not serve that Slack app or workspace.'),
      );
    }
    const app = this.#app;
    if (!app) throw new Error('FastifyReceiver: no Bolt App; pass the receiver to new App()');
    const bodyHash = hash('sha256', raw, 'hex');
    const key = deliveryKey(d.kind, d.body, bodyHash);
    if (key !== undefined) {
      const { store, clock } = this.#o;
      const begun = await store.beginIdempotent(SLACK_DEDUPE_SCOPE, key, bodyHash, clock());
      if (begun.state !== 'new') {
        this.#o.log.info({ key, state: begun.state }, 'slack redelivery not dispatched again');
        return reply.code(200).send();
      }
    }
    return this.#dispatch(app, { body: d.body, ...retryOf(req) }, reply, key);
  }

  #refuseSignature(reply: FastifyReply, reason: SignatureFailure): FastifyReply {
    this.#o.log.warn({ reason }, 'slack request refused: signature');
    try {
      this.#o.onVerificationFailure?.(reason);
    } catch (err) {
      this.#o.log.error({ err }, 'onVerificationFailure threw');
    }
    return sendProblem(reply, problemOf('UNAUTHENTICATED', NOT_VERIFIED));
  }

  /** Hands the body to Bolt and answers on whichever comes first: ack, timeout, finish, failure. */
  async #dispatch(
    app: App,
    event: Omit<ReceiverEvent, 'ack'>,
    reply: FastifyReply,
    key: string | undefined,
  ): Promise<FastifyReply> {
    let settleFirst: (f: First) => void = () => undefined;
    const first = new Promise<First>((r) => {
      settleFirst = r;
    });
    let acked = false;
    const ack = async (response?: unknown): Promise<void> => {
      if (acked) throw new ReceiverMultipleAckError();
      acked = true;
      settleFirst({ kind: 'acked', response });
    };
    const timer = setTimeout(() => settleFirst({ kind: 'timeout' }), this.#o.ackTimeoutMs);
    const work: Promise<Settled> = app.processEvent({ ...event, ack }).then(
      (): Settled => ({ ok: true }),
      (error: unknown): Settled => ({ ok: false, error }),
    );
    void work.then((s) =>
      settleFirst(s.ok ? { kind: 'done' } : { kind: 'failed', error: s.error }),
    );
    const outcome = await first;
    clearTimeout(timer);
    this.#track(work.then((s) => this.#afterwards(s, outcome, key)));
    return this.#answer(reply, outcome);
  }

  #answer(reply: FastifyReply, outcome: First): FastifyReply {
    switch (outcome.kind) {
      case 'acked':
        return sendAck(reply, outcome.response);
      case 'timeout':
        this.#o.log.warn(
          { afterMs: this.#o.ackTimeoutMs },
          'slack listener did not ack in time; answered with an empty 200',
        );
        return reply.code(200).send();
      case 'done':
        this.#o.log.info({}, 'no slack listener acked; answered with an empty 200');
        return reply.code(200).send();
      case 'failed':
        this.#o.log.error({ err: outcome.error }, 'slack listener failed before its ack');
        return sendProblem(
          reply,
          problemOf('INTERNAL', 'Something went wrong; it has been logged.'),
        );
    }
  }

  /**
   * Once the listener is done: a failure before any answer forgets the delivery record, so
   * Slack's retry (or the person's next try) is handled. Otherwise the record stays as it
   * is: any record already means "seen", so marking it done would only cost a second
   * fsynced commit per delivery on the event loop.
   */
  async #afterwards(s: Settled, outcome: First, key: string | undefined): Promise<void> {
    if (!s.ok && outcome.kind !== 'failed') {
      this.#o.log.error({ err: s.error }, 'slack listener failed after its answer');
    }
    if (key === undefined || outcome.kind !== 'failed') return;
    await this.#o.store
      .abandonIdempotent(SLACK_DEDUPE_SCOPE, key)
      .catch((err: unknown) =>
        this.#o.log.error({ err, key }, 'slack delivery record not updated'),
      );
  }

  #track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.#o.log.error({ err }, 'slack after-work'));
    this.#inflight.add(tracked);
    void tracked.finally(() => this.#inflight.delete(tracked));
  }

  #onError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const status = err instanceof DomainError ? err.status : (err.statusCode ?? 500);
    if (status === 413) {
      return sendProblem(
        reply,
        problemOf('PAYLOAD_TOO_LARGE', `A Slack request body may hold ${this.#o.bodyLimit} bytes.`),
      );
    }
    if (!(err instanceof DomainError) && status >= 400 && status < 500) {
      return sendProblem(reply, problemOf('INVALID_INPUT', 'The request body could not be read.'));
    }
    const p = toProblem(err, req);
    if (p.status >= 500) this.#o.log.error({ err, url: req.url }, 'slack request failed');
    return sendProblem(reply, p);
  }
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  // A repeated header is malformed, not a choice between values.
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Slack's retry headers (Events API): `X-Slack-Retry-Num` 1..3 and its reason. */
function retryOf(req: FastifyRequest): { retryNum?: number; retryReason?: string } {
  const num = headerOf(req, 'x-slack-retry-num');
  const reason = headerOf(req, 'x-slack-retry-reason');
  return {
    ...(num !== undefined && /^[0-9]{1,3}$/.test(num) ? { retryNum: Number(num) } : {}),
    ...(reason !== undefined && reason.length <= 64 ? { retryReason: reason } : {}),
  };
}

/** The ack's argument as the HTTP body: none → empty, string → text/plain, object → JSON. */
function sendAck(reply: FastifyReply, response: unknown): FastifyReply {
  if (response === undefined || response === null || response === '') {
    return reply.code(200).send();
  }
  if (typeof response === 'string')
    return reply.code(200).type('text/plain; charset=utf-8').send(response);
  return reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(response));
}

export function parseDelivery(raw: string, contentType: string | undefined): Parsed {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (media === 'application/x-www-form-urlencoded') return fromForm(raw);
  if (media === 'application/json') return fromJson(raw);
  return invalid('Send application/x-www-form-urlencoded or application/json.');
}

function fromForm(raw: string): Parsed {
  const params = new URLSearchParams(raw);
  const fields: Record<string, string> = {};
  for (const [name, value] of params) {
    if (Object.hasOwn(fields, name)) return invalid(`The form repeats the field ${name}.`);
    fields[name] = value;
  }
  // Any ssl_check, whatever its value and whatever else the form carries, is only answered.
  if (Object.hasOwn(fields, 'ssl_check')) return { ok: true, delivery: { kind: 'ssl_check' } };
  if (fields.payload !== undefined) {
    const body = objectOf(fields.payload);
    if (!body || typeof body.type !== 'string') {
      return invalid('The payload field is not a JSON object with a type.');
    }
    return { ok: true, delivery: { kind: 'interaction', body } };
  }
  if (fields.command) return { ok: true, delivery: { kind: 'command', body: fields } };
  return invalid('The form is neither a slash command nor an interaction payload.');
}

function fromJson(raw: string): Parsed {
  const body = objectOf(raw);
  if (!body) return invalid('The body is not a JSON object.');
  if (Object.hasOwn(body, 'ssl_check')) return { ok: true, delivery: { kind: 'ssl_check' } };
  if (body.type === 'url_verification') {
    return typeof body.challenge === 'string'
      ? { ok: true, delivery: { kind: 'url_verification', challenge: body.challenge } }
      : invalid('The url_verification challenge is not a string.');
  }
  return { ok: true, delivery: { kind: 'event', body } };
}

function objectOf(text: string): Body | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Body) : undefined;
  } catch {
    return undefined;
  }
}

function invalid(detail: string): Parsed {
  return { ok: false, detail };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const field = (v: unknown, name: string): unknown =>
  typeof v === 'object' && v !== null ? (v as Body)[name] : undefined;

/** Why a payload is not ours (`app` or `team`), or undefined when it is (or nothing is set). */
export function foreignTo(body: Body, appId?: string, teamId?: string): 'app' | 'team' | undefined {
  if (appId !== undefined && body.api_app_id !== appId) return 'app';
  if (teamId === undefined) return undefined;
  const ids = teamId.startsWith('E')
    ? [body.enterprise_id, field(body.enterprise, 'id')]
    : [body.team_id, field(body.team, 'id')];
  const present = ids.map(str).filter((id) => id !== undefined);
  return present.length > 0 && present.every((id) => id === teamId) ? undefined : 'team';
}

/**
 * The delivery's dedupe key: what Slack repeats when it delivers the same thing again.
 * Events API: `event_id`. Slash command: `trigger_id`. Interactivity: `type`, `trigger_id`
 * and the first action's `action_ts` (or the view id). Anything without those ids: the body
 * hash, so a byte-for-byte replay is caught. Option lookups (`*_suggestion`) are never
 * deduplicated: each keystroke must be answered.
 */
export function deliveryKey(
  kind: 'event' | 'interaction' | 'command',
  body: Body,
  bodyHash: string,
): string | undefined {
  const byBody = () => `body:${bodyHash}`;
  if (kind === 'event') return str(body.event_id) ? `event:${body.event_id}` : byBody();
  if (kind === 'command') return str(body.trigger_id) ? `command:${body.trigger_id}` : byBody();
  const type = String(body.type);
  if (type.endsWith('_suggestion')) return undefined;
  const trigger = str(body.trigger_id);
  if (!trigger) return byBody();
  const actions = body.actions;
  const second =
    str(field(Array.isArray(actions) ? actions[0] : undefined, 'action_ts')) ??
    str(field(body.view, 'id')) ??
    '';
  const key = `${type}:${trigger}:${second}`;
  return key.length <= 200 ? key : `${type}:${hash('sha256', key, 'hex')}`;
}

export interface SlackAppOptions {
  /** Kept for Bolt's options; the receiver does the verifying. */
  signingSecret: string;
  /** The bot token (`xoxb-…`) every listener's `client` carries. */
  botToken: string;
  /** The Web API base URL; default Slack's. Tests and proxies point it elsewhere. */
  apiUrl?: string;
  receiver: FastifyReceiver;
  log: Logger;
  /** The bot's ids from `auth.test`, when known: let Bolt's `ignoreSelf` drop our own events. */
  botId?: string;
  botUserId?: string;
}

/**
 * The Bolt app on our receiver. Outbound retries are our queue's job, so the Web API client
 * neither retries nor waits out a 429 (it throws `WebAPIRateLimitedError`). Authorisation is
 * the fixed bot token without any `auth.test`: Bolt 5.1 with `token` and
 * `tokenVerificationEnabled: false` calls `auth.test` before every single event instead.
 * `app.client` therefore has no token; listeners use their `client` argument.
 */
export function createSlackApp(options: SlackAppOptions): App {
  const identity = {
    ...(options.botId ? { botId: options.botId } : {}),
    ...(options.botUserId ? { botUserId: options.botUserId } : {}),
  };
  const authorize: Authorize<boolean> = async () => ({ botToken: options.botToken, ...identity });
  return new App({
    receiver: options.receiver,
    signingSecret: options.signingSecret,
    authorize,
    logger: boltLogger(options.log),
    clientOptions: {
      ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    },
  });
}

const BOLT_LEVEL: Readonly<Record<string, LogLevel>> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
};

/** Bolt's logger interface onto pino. pino's level rules: Bolt's `setLevel` is ignored. */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'slack-bolt' });
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...msg: unknown[]): void => {
      const err = msg.find((m) => m instanceof Error);
      const text = msg
        .filter((m) => m !== err)
        .map((m) => (typeof m === 'string' ? m : inspect(m, { depth: 2, breakLength: Infinity })))
        .join(' ');
      child[level](err ? { err } : {}, text || (err as Error | undefined)?.message || '');
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: () => undefined,
    getLevel: () => BOLT_LEVEL[child.level] ?? LogLevel.ERROR,
    setName: () => undefined,
  };
}
