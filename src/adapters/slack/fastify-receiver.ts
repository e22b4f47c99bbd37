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
 * Steps 5–7 are `SlackDeliveries` (`slack-deliveries.ts`), shared with Socket Mode.
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
import { type FirstOutcome, SlackDeliveries } from './slack-deliveries.ts';
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

export { deliveryKey, foreignTo, SLACK_DEDUPE_SCOPE } from './slack-deliveries.ts';

const DEFAULT_BODY_LIMIT = 1_048_576;
const NOT_VERIFIED = 'The request could not be verified as coming from Slack.';

type Body = Record<string, unknown>;
type Delivery =
  | { kind: 'ssl_check' }
  | { kind: 'url_verification'; challenge: string }
  | { kind: 'event' | 'interaction' | 'command'; body: Body };
type Parsed = { ok: true; delivery: Delivery } | { ok: false; detail: string };

export class FastifyReceiver implements Receiver {
  readonly #o: Required<Pick<FastifyReceiverOptions, 'path' | 'bodyLimit' | 'ackTimeoutMs'>> &
    FastifyReceiverOptions;
  #app: App | undefined;
  readonly #deliveries: SlackDeliveries;

  constructor(options: FastifyReceiverOptions) {
    if (!options.signingSecret) throw new TypeError('FastifyReceiver: signingSecret is empty');
    this.#o = {
      path: '/slack/events',
      bodyLimit: DEFAULT_BODY_LIMIT,
      ackTimeoutMs: 2_500,
      ...options,
    };
    const { store, clock, log, appId, teamId, ackTimeoutMs } = this.#o;
    this.#deliveries = new SlackDeliveries({
      store,
      clock,
      log,
      ackTimeoutMs,
      ...(appId ? { appId } : {}),
      ...(teamId ? { teamId } : {}),
    });
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
    await this.#deliveries.drain(this.#o.drainTimeoutMs ?? 10_000);
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
    const app = this.#app;
    if (!app) throw new Error('FastifyReceiver: no Bolt App; pass the receiver to new App()');
    const admitted = await this.#deliveries.admit(d.kind, d.body, hash('sha256', raw, 'hex'));
    if (admitted.kind === 'foreign') {
      return sendProblem(
        reply,
        problemOf('FORBIDDEN', 'This endpoint does not serve that Slack app or workspace.'),
      );
    }
    if (admitted.kind === 'redelivery') return reply.code(200).send();
    const event = { body: d.body, ...retryOf(req) };
    return this.#answer(reply, await this.#deliveries.dispatch(app, event, admitted.key));
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

  #answer(reply: FastifyReply, outcome: FirstOutcome): FastifyReply {
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

export interface SlackAppOptions {
  /** Kept for Bolt's options; the receiver does the verifying. None in Socket Mode. */
  signingSecret?: string;
  /** The bot token (`xoxb-…`) every listener's `client` carries. */
  botToken: string;
  /** The Web API base URL; default Slack's. Tests and proxies point it elsewhere. */
  apiUrl?: string;
  /** `FastifyReceiver` (HTTP) or `SlackSocketModeReceiver` (Socket Mode). */
  receiver: Receiver;
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
    ...(options.signingSecret ? { signingSecret: options.signingSecret } : {}),
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
