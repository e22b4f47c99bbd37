/**
 * The Slack test kit: signed requests for `/slack/events`, payload builders shaped like
 * Slack's own (field sets copied from the published samples in
 * `../shared/fixtures/published-samples/`), and `startFakeSlack()`, a local HTTP server that
 * speaks the Web API's wire format and records every call.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Ids the builders use unless told otherwise. */
export const SLACK_TEST = {
  teamId: 'T0COUNTER',
  teamDomain: 'countersign-test',
  appId: 'A0COUNTER',
  channelId: 'C01OPS',
  userId: 'U01ALICE',
  botToken: 'xoxb-test-token',
  signingSecret: 'test-signing-secret-0123456789abcdef',
} as const;

export interface SignedRequest {
  headers: Record<string, string>;
  payload: string;
}

/**
 * Headers and body for `fastify.inject({ method: 'POST', url: '/slack/events', ...req })`.
 * `timestamp` is Unix seconds (default now) or any string, to test malformed values; it is
 * signed exactly as given. `contentType` defaults to JSON for a body starting with `{`.
 */
export function signedSlackRequest(
  secret: string,
  body: string,
  options: { timestamp?: number | string; contentType?: string } = {},
): SignedRequest {
  const ts = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const contentType =
    options.contentType ??
    (body.startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded');
  return {
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': ts,
      'x-slack-signature': slackSignature(secret, ts, body),
    },
    payload: body,
  };
}

/** `v0=` + hex HMAC-SHA256 of `v0:<ts>:<body>`: what Slack sends as `X-Slack-Signature`. */
export function slackSignature(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

let sequence = 0;
/** A fresh id shaped like Slack's trigger ids (`<digits>.<digits>.<hex>`). */
export function triggerId(): string {
  sequence += 1;
  return `${1_000_000 + sequence}.47445629121.${sequence.toString(16).padStart(20, '0')}`;
}
/** A fresh `action_ts` / message ts (`<seconds>.<micros>`). */
export function slackTs(): string {
  sequence += 1;
  return `${1_700_000_000 + sequence}.${String(sequence % 1_000_000).padStart(6, '0')}`;
}

export interface SlashCommandFields {
  text: string;
  command?: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  teamId?: string;
  appId?: string;
  triggerId?: string;
  responseUrl?: string;
  enterpriseId?: string;
  enterpriseName?: string;
}

/** A slash command's form body, fields in the order Slack sends them. */
export function slashCommandBody(f: SlashCommandFields): string {
  const teamId = f.teamId ?? SLACK_TEST.teamId;
  const fields: [string, string][] = [
    ['token', 'deprecated-verification-token'],
    ['team_id', teamId],
    ['team_domain', SLACK_TEST.teamDomain],
    ['channel_id', f.channelId ?? SLACK_TEST.channelId],
    ['channel_name', f.channelName ?? 'ops'],
    ['user_id', f.userId ?? SLACK_TEST.userId],
    ['user_name', f.userName ?? 'alice'],
    ['command', f.command ?? '/ops'],
    ['text', f.text],
    ['api_app_id', f.appId ?? SLACK_TEST.appId],
    ['is_enterprise_install', 'false'],
    ...(f.enterpriseId ? [['enterprise_id', f.enterpriseId] as [string, string]] : []),
    ...(f.enterpriseName ? [['enterprise_name', f.enterpriseName] as [string, string]] : []),
    ['response_url', f.responseUrl ?? `https://hooks.slack.com/commands/${teamId}/1/x`],
    ['trigger_id', f.triggerId ?? triggerId()],
  ];
  return new URLSearchParams(fields).toString();
}

/** Interactivity's wire form: one `payload` field holding the JSON. */
export function formPayload(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface BlockActionFields {
  actionId: string;
  value?: string;
  blockId?: string;
  userId?: string;
  teamId?: string;
  appId?: string;
  channelId?: string;
  /** The ts of the message holding the button. */
  messageTs?: string;
  triggerId?: string;
  actionTs?: string;
  responseUrl?: string;
  /** Extra fields of `message` (text, blocks, metadata …). */
  message?: Record<string, unknown>;
}

/** A `block_actions` payload for a button in a channel message (decoded JSON). */
export function blockActionsPayload(f: BlockActionFields): Record<string, unknown> {
  const teamId = f.teamId ?? SLACK_TEST.teamId;
  const userId = f.userId ?? SLACK_TEST.userId;
  const channelId = f.channelId ?? SLACK_TEST.channelId;
  const messageTs = f.messageTs ?? slackTs();
  return {
    type: 'block_actions',
    user: {
      id: userId,
      username: userId.toLowerCase(),
      name: userId.toLowerCase(),
      team_id: teamId,
    },
    api_app_id: f.appId ?? SLACK_TEST.appId,
    token: 'deprecated-verification-token',
    container: {
      type: 'message',
      message_ts: messageTs,
      channel_id: channelId,
      is_ephemeral: false,
    },
    trigger_id: f.triggerId ?? triggerId(),
    team: { id: teamId, domain: SLACK_TEST.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: 'ops' },
    message: {
      type: 'message',
      user: 'U0BOT',
      bot_id: 'B0BOT',
      ts: messageTs,
      text: '',
      ...f.message,
    },
    state: { values: {} },
    response_url: f.responseUrl ?? `https://hooks.slack.com/actions/${teamId}/1/x`,
    actions: [
      {
        action_id: f.actionId,
        block_id: f.blockId ?? 'actions',
        text: { type: 'plain_text', text: f.actionId, emoji: true },
        value: f.value ?? '',
        type: 'button',
        action_ts: f.actionTs ?? slackTs(),
      },
    ],
  };
}

export function blockActionsBody(f: BlockActionFields): string {
  return formPayload(blockActionsPayload(f));
}

export interface ViewSubmissionFields {
  callbackId: string;
  /** `state.values`: block id → action id → element state, e.g. `{ type, value }`. */
  values?: Record<string, Record<string, Record<string, unknown>>>;
  privateMetadata?: string;
  userId?: string;
  teamId?: string;
  appId?: string;
  viewId?: string;
  triggerId?: string;
}

/** A `view_submission` payload for a modal (decoded JSON). */
export function viewSubmissionPayload(f: ViewSubmissionFields): Record<string, unknown> {
  const teamId = f.teamId ?? SLACK_TEST.teamId;
  const userId = f.userId ?? SLACK_TEST.userId;
  const appId = f.appId ?? SLACK_TEST.appId;
  const viewId = f.viewId ?? `V${String(++sequence).padStart(8, '0')}`;
  return {
    type: 'view_submission',
    team: { id: teamId, domain: SLACK_TEST.teamDomain },
    user: {
      id: userId,
      username: userId.toLowerCase(),
      name: userId.toLowerCase(),
      team_id: teamId,
    },
    api_app_id: appId,
    token: 'deprecated-verification-token',
    trigger_id: f.triggerId ?? triggerId(),
    view: {
      id: viewId,
      team_id: teamId,
      type: 'modal',
      blocks: [],
      private_metadata: f.privateMetadata ?? '',
      callback_id: f.callbackId,
      state: { values: f.values ?? {} },
      hash: `${sequence}.hash`,
      title: { type: 'plain_text', text: 'Countersign', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: { type: 'plain_text', text: 'Submit', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: appId,
      external_id: '',
      app_installed_team_id: teamId,
      bot_id: 'B0BOT',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export function viewSubmissionBody(f: ViewSubmissionFields): string {
  return formPayload(viewSubmissionPayload(f));
}

/** An Events API delivery (`event_callback`) as its JSON text. */
export function eventCallbackBody(f: {
  event: Record<string, unknown>;
  eventId?: string;
  teamId?: string;
  appId?: string;
}): string {
  const teamId = f.teamId ?? SLACK_TEST.teamId;
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: teamId,
    api_app_id: f.appId ?? SLACK_TEST.appId,
    event: f.event,
    type: 'event_callback',
    event_id: f.eventId ?? `Ev${String(++sequence).padStart(9, '0')}`,
    event_time: 1_700_000_000 + sequence,
    authorizations: [{ team_id: teamId, user_id: 'U0BOT', is_bot: true }],
    is_ext_shared_channel: false,
  });
}

export function urlVerificationBody(challenge: string): string {
  return JSON.stringify({
    token: 'deprecated-verification-token',
    challenge,
    type: 'url_verification',
  });
}

// ---------------------------------------------------------------------------------------
// The fake Web API

export interface FakeSlackCall {
  /** The Web API method, e.g. `chat.postMessage`. */
  method: string;
  /** Form fields or JSON body; `blocks`, `attachments`, `metadata` and `view` decoded. */
  params: Record<string, unknown>;
  /** The bearer token (or `token` field) the call carried. */
  token?: string;
  /** Milliseconds since epoch when it arrived. */
  at: number;
  /** The HTTP status answered: 200, or 429 when rate limited. */
  status: number;
}

export interface FakeMessage {
  type: 'message';
  ts: string;
  text?: string;
  blocks?: unknown;
  metadata?: unknown;
  thread_ts?: string;
  user: string;
  bot_id: string;
}

export interface FakeSlack {
  /** `http://127.0.0.1:<port>/api/`: pass as `slackApiUrl`. */
  apiUrl: string;
  /** A `response_url` whose posts land in `responses` under `id`. */
  responseUrl(id: string): string;
  calls: FakeSlackCall[];
  callsTo(method: string): FakeSlackCall[];
  /** Posts to response URLs (Bolt's `respond()`), JSON-decoded. */
  responses: { id: string; body: unknown; at: number }[];
  /** Top-level messages and replies posted in `channel`, oldest first. */
  messages(channel: string): FakeMessage[];
  /** The next `times` calls of `method` answer 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitNext(method: string, times?: number, retryAfterSeconds?: number): void;
  /** The next `times` calls of `method` answer `{ ok: false, error }`. */
  failNext(method: string, error: string, times?: number): void;
  /** Channels by name: made by `conversations.create`, or by `addChannel` (so a name is taken). */
  channelsByName: Map<string, string>;
  addChannel(name: string, id?: string): string;
  /**
   * How `apps.connections.open` answers, given the bearer token it carried (see
   * `test/support/slack-socket.ts`). Unset, it answers `unknown_method`.
   */
  onConnectionsOpen(answer: (token: string) => Record<string, unknown>): void;
  close(): Promise<void>;
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'view']);
const BOT = { user: 'U0BOT', bot_id: 'B0BOT' };

interface Rules {
  rateLimits: Map<string, { left: number; retryAfter: number }>;
  failures: Map<string, { left: number; error: string }>;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: FakeSlackCall[] = [];
  const responses: FakeSlack['responses'] = [];
  const web = new FakeWebApi();
  const rules: Rules = { rateLimits: new Map(), failures: new Map() };
  const server = createServer((req, res) => {
    handle(req, res, { calls, responses, web, rules }).catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl: `${base}/api/`,
    responseUrl: (id) => `${base}/response-url/${encodeURIComponent(id)}`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    responses,
    messages: (channel) => [...(web.channels.get(channel) ?? [])],
    rateLimitNext: (method, times = 1, retryAfter = 1) =>
      rules.rateLimits.set(method, { left: times, retryAfter }),
    failNext: (method, error, times = 1) => rules.failures.set(method, { left: times, error }),
    channelsByName: web.names,
    addChannel: (name, id) => web.addChannel(name, id),
    onConnectionsOpen: (answer) => {
      web.connectionsOpen = answer;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Ctx {
  calls: FakeSlackCall[];
  responses: FakeSlack['responses'];
  web: FakeWebApi;
  rules: Rules;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Ctx): Promise<void> {
  const raw = await readBody(req);
  const url = new URL(req.url ?? '/', 'http://fake');
  const respond = url.pathname.match(/^\/response-url\/([^/]+)$/);
  if (req.method === 'POST' && respond) {
    ctx.responses.push({
      id: decodeURIComponent(respond[1]!),
      body: JSON.parse(raw),
      at: Date.now(),
    });
    return sendJson(res, 200, { ok: true });
  }
  const api = url.pathname.match(/^\/api\/([A-Za-z.]+)$/);
  if (req.method !== 'POST' || !api) return sendJson(res, 404, { ok: false, error: 'not_found' });
  const method = api[1]!;
  const params = paramsOf(raw, req.headers['content-type']);
  const token = bearerOf(req) ?? (typeof params.token === 'string' ? params.token : undefined);
  const call: FakeSlackCall = { method, params, at: Date.now(), status: 200 };
  if (token) call.token = token;
  ctx.calls.push(call);
  const limited = take(ctx.rules.rateLimits, method);
  if (limited) {
    call.status = 429;
    res.setHeader('retry-after', String(limited.retryAfter));
    return sendJson(res, 429, { ok: false, error: 'ratelimited' });
  }
  const failure = take(ctx.rules.failures, method);
  if (failure) return sendJson(res, 200, { ok: false, error: failure.error });
  if (!token) return sendJson(res, 200, { ok: false, error: 'not_authed' });
  if (method === 'apps.connections.open' && ctx.web.connectionsOpen) {
    return sendJson(res, 200, ctx.web.connectionsOpen(token));
  }
  return sendJson(res, 200, ctx.web.answer(method, params));
}

function take<T extends { left: number }>(rules: Map<string, T>, method: string): T | undefined {
  const rule = rules.get(method);
  if (!rule || rule.left <= 0) return undefined;
  rule.left -= 1;
  return rule;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function paramsOf(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith('application/json')) {
    return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  }
  const params: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    params[k] = JSON_FIELDS.has(k) ? tryJson(v) : v;
  }
  return params;
}

function tryJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function bearerOf(req: IncomingMessage): string | undefined {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  return m?.[1];
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

const flag = (v: unknown) => v === true || v === 'true' || v === '1';

/** The state behind the fake methods: messages per channel, ids handed out. */
class FakeWebApi {
  readonly channels = new Map<string, FakeMessage[]>();
  /** Channel name → id, for `conversations.create`. */
  readonly names = new Map<string, string>();
  /** The `apps.connections.open` answer, when a test serves Socket Mode. */
  connectionsOpen: ((token: string) => Record<string, unknown>) | undefined;
  #seconds = 1_700_000_000;
  #views = 0;

  addChannel(name: string, id = `C0NEW${String(this.names.size + 1).padStart(4, '0')}`): string {
    this.names.set(name, id);
    this.channels.set(id, this.channels.get(id) ?? []);
    return id;
  }

  answer(method: string, p: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://countersign-test.slack.com/',
          team: 'Countersign Test',
          user: 'countersign',
          team_id: 'T0COUNTER',
          user_id: BOT.user,
          bot_id: BOT.bot_id,
          is_enterprise_install: false,
        };
      case 'chat.postMessage':
        return this.#post(p);
      case 'chat.update':
        return this.#update(p);
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.#nextTs() };
      case 'conversations.history':
        return this.#history(p);
      case 'conversations.replies':
        return this.#replies(p);
      case 'conversations.create':
        return this.#create(p);
      case 'conversations.invite': {
        const known = [...this.names.values()].includes(String(p.channel ?? ''));
        return known
          ? { ok: true, channel: { id: String(p.channel) } }
          : { ok: false, error: 'channel_not_found' };
      }
      case 'conversations.open':
        return { ok: true, channel: { id: `D${String(p.users ?? 'X').replace(/,.*/, '')}` } };
      case 'views.open':
      case 'views.push':
      case 'views.update':
      case 'views.publish':
        return {
          ok: true,
          view: { id: `V${String(++this.#views).padStart(8, '0')}`, ...(p.view as object) },
        };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  #nextTs(): string {
    this.#seconds += 1;
    return `${this.#seconds}.000100`;
  }

  /** Slack's rules: 1–80 of a-z, 0-9, `-`, `_`; a name is taken once. */
  #create(p: Record<string, unknown>): Record<string, unknown> {
    const name = String(p.name ?? '');
    if (!/^[a-z0-9_-]{1,80}$/.test(name)) return { ok: false, error: 'invalid_name_specials' };
    if (this.names.has(name)) return { ok: false, error: 'name_taken' };
    const id = this.addChannel(name);
    return { ok: true, channel: { id, name, is_channel: true, is_private: flag(p.is_private) } };
  }

  #post(p: Record<string, unknown>): Record<string, unknown> {
    const channel = String(p.channel ?? '');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (p.text === undefined && p.blocks === undefined) return { ok: false, error: 'no_text' };
    const message: FakeMessage = { type: 'message', ts: this.#nextTs(), ...BOT };
    copyContent(message, p);
    if (typeof p.thread_ts === 'string') message.thread_ts = p.thread_ts;
    const list = this.channels.get(channel) ?? [];
    list.push(message);
    this.channels.set(channel, list);
    return { ok: true, channel, ts: message.ts, message };
  }

  #update(p: Record<string, unknown>): Record<string, unknown> {
    const channel = String(p.channel ?? '');
    const found = this.channels.get(channel)?.find((m) => m.ts === p.ts);
    if (!found) return { ok: false, error: 'message_not_found' };
    copyContent(found, p);
    return { ok: true, channel, ts: found.ts, text: found.text ?? '', message: found };
  }

  #history(p: Record<string, unknown>): Record<string, unknown> {
    const all = this.channels.get(String(p.channel ?? '')) ?? [];
    const limit = Number(p.limit ?? 100) || 100;
    const top = all.filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts);
    const messages = top
      .reverse()
      .slice(0, limit)
      .map((m) => shown(m, flag(p.include_all_metadata)));
    return { ok: true, messages, has_more: false, response_metadata: { next_cursor: '' } };
  }

  #replies(p: Record<string, unknown>): Record<string, unknown> {
    const all = this.channels.get(String(p.channel ?? '')) ?? [];
    const parent = all.find((m) => m.ts === p.ts);
    if (!parent) return { ok: false, error: 'thread_not_found' };
    const thread = all.filter((m) => m === parent || m.thread_ts === parent.ts);
    const messages = thread.map((m) => shown(m, flag(p.include_all_metadata)));
    return { ok: true, messages, has_more: false, response_metadata: { next_cursor: '' } };
  }
}

function copyContent(m: FakeMessage, p: Record<string, unknown>): void {
  if (p.text !== undefined) m.text = String(p.text);
  if (p.blocks !== undefined) m.blocks = p.blocks;
  if (p.metadata !== undefined) m.metadata = p.metadata;
}

/** As Slack reads a message back: `metadata` only when `include_all_metadata` was asked. */
function shown(m: FakeMessage, withMetadata: boolean): FakeMessage {
  const { metadata, ...rest } = m;
  return withMetadata && metadata !== undefined ? { ...rest, metadata } : rest;
}
