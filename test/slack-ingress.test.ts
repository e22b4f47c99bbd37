/**
 * The Slack ingress (`/slack/events`) driven through `fastify.inject` with a real Bolt App,
 * a real SQLite store and the fake Web API: every Slack item of the fault catalogue
 * (`../shared/reference/reliability-and-security.md` §8.1–15) has a test named after it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '@slack/bolt';
import { ErrorCode, WebAPIRateLimitedError, WebClient } from '@slack/web-api';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type LightMyRequestResponse,
} from 'fastify';
import { createLogger } from '../src/adapters/logger.ts';
import {
  createSlackApp,
  deliveryKey,
  FastifyReceiver,
} from '../src/adapters/slack/fastify-receiver.ts';
import type { SignatureFailure } from '../src/adapters/slack/verify-signature.ts';
import { openStore } from '../src/adapters/store/open-store.ts';
import { sha256hex } from '../src/adapters/system.ts';
import type { Store } from '../src/app/ports.ts';
import {
  blockActionsBody,
  blockActionsPayload,
  eventCallbackBody,
  type FakeSlack,
  formPayload,
  SLACK_TEST,
  signedSlackRequest,
  slashCommandBody,
  startFakeSlack,
  urlVerificationBody,
  viewSubmissionBody,
} from './support/slack.ts';

const SAMPLES = resolve(import.meta.dirname, '../../shared/fixtures/published-samples');
const NO_SAMPLES = existsSync(SAMPLES)
  ? false
  : `published samples not found at ${SAMPLES} (../shared is absent); skipped`;
const sample = (name: string) => readFileSync(join(SAMPLES, name), 'utf8');

/** Wednesday 2026-11-25 12:00 UTC, the receiver's "now". */
const NOW_MS = Date.UTC(2026, 10, 25, 12, 0);
const NOW_S = NOW_MS / 1000;

interface Dispatch {
  kind: string;
  id: string;
}

interface Rig {
  http: FastifyInstance;
  bolt: App;
  fake: FakeSlack;
  store: Store;
  receiver: FastifyReceiver;
  dispatched: Dispatch[];
  failures: SignatureFailure[];
  logs: string[];
  /** Settles when the `app_home_opened` listener may finish. */
  release(): void;
  finishedSlow: Promise<void>;
  post(
    body: string,
    o?: { timestamp?: number | string; contentType?: string; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
}

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function rig(
  o: { secret?: string; nowMs?: number; appId?: string; teamId?: string } = {},
): Promise<Rig> {
  const secret = o.secret ?? SLACK_TEST.signingSecret;
  const dir = mkdtempSync(join(tmpdir(), 'countersign-slack-'));
  const store = await openStore({ dataDir: dir, sha256: sha256hex });
  const fake = await startFakeSlack();
  const logs: string[] = [];
  const log = createLogger('info', { write: (line: string) => void logs.push(line) });
  const failures: SignatureFailure[] = [];
  const receiver = new FastifyReceiver({
    signingSecret: secret,
    clock: () => o.nowMs ?? NOW_MS,
    store,
    log,
    onVerificationFailure: (r) => void failures.push(r),
    ...(o.appId ? { appId: o.appId } : {}),
    ...(o.teamId ? { teamId: o.teamId } : {}),
  });
  const http = Fastify({ loggerInstance: log as FastifyBaseLogger, bodyLimit: 1024 });
  http.get('/healthz', async () => ({ status: 'ok' }));
  http.post('/echo', async (req) => ({ body: req.body, isBuffer: Buffer.isBuffer(req.body) }));
  receiver.register(http);
  const bolt = createSlackApp({
    signingSecret: secret,
    botToken: SLACK_TEST.botToken,
    apiUrl: fake.apiUrl,
    receiver,
    log,
  });
  const dispatched: Dispatch[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let slowDone: () => void = () => undefined;
  const finishedSlow = new Promise<void>((r) => {
    slowDone = r;
  });
  bolt.command(/.*/, async ({ command, ack, respond }) => {
    dispatched.push({ kind: 'command', id: command.text });
    if (command.text === 'boom') throw new Error('listener exploded at /secret/path.ts:12');
    if (command.text === 'never') return void (await sleep(3_000));
    if (command.text === 'respond') {
      await ack();
      return void (await respond({ text: 'done later' }));
    }
    await ack(`${command.command}: ${command.text}`);
    if (command.text === 'boom-after') throw new Error('failed after the ack');
    if (command.text === 'slow') {
      await sleep(4_000);
      slowDone();
    }
  });
  bolt.action(/.*/, async ({ action, ack }) => {
    dispatched.push({ kind: 'action', id: 'action_id' in action ? action.action_id : '?' });
    await ack();
  });
  bolt.view(/.*/, async ({ view, ack }) => {
    dispatched.push({ kind: 'view', id: view.callback_id });
    await ack({ response_action: 'clear' });
  });
  bolt.event('app_home_opened', async ({ event }) => {
    dispatched.push({ kind: 'event', id: event.user });
    await gate;
  });
  await http.ready();
  const r: Rig = {
    http,
    bolt,
    fake,
    store,
    receiver,
    dispatched,
    failures,
    logs,
    release,
    finishedSlow,
    post: (body, p = {}) => {
      const signed = signedSlackRequest(secret, body, {
        timestamp: p.timestamp ?? (o.nowMs ?? NOW_MS) / 1000,
        ...(p.contentType ? { contentType: p.contentType } : {}),
      });
      return http.inject({
        method: 'POST',
        url: '/slack/events',
        headers: { ...signed.headers, ...p.headers },
        payload: signed.payload,
      });
    },
  };
  closers.push(async () => {
    release();
    await receiver.stop();
    await http.close();
    await fake.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return r;
}

let shared: Rig | undefined;
const main = async () => {
  shared ??= await rig({ appId: SLACK_TEST.appId, teamId: SLACK_TEST.teamId });
  shared.dispatched.length = 0;
  shared.failures.length = 0;
  shared.logs.length = 0;
  return shared;
};

/** A refusal: the given status and code as a problem document, and no stack trace. */
function assertProblem(res: LightMyRequestResponse, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(res.json().code, code);
  assert.doesNotMatch(res.body, /stack|\.ts:\d|at .*\(|Error:/);
}

const withSignature = (signature: string, timestamp = String(NOW_S)) => ({
  'x-slack-signature': signature,
  'x-slack-request-timestamp': timestamp,
});
const settle = () => sleep(50);

test('a signed slash command reaches its listener and the ack is the answer', async () => {
  const r = await main();
  const res = await r.post(slashCommandBody({ text: 'status checkout-api prod' }));
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  assert.equal(res.body, '/ops: status checkout-api prod');
  assert.deepEqual(r.dispatched, [{ kind: 'command', id: 'status checkout-api prod' }]);
  assert.equal(r.fake.callsTo('auth.test').length, 0, 'no auth.test per event');
});

test('block_actions and view_submission reach their listeners; an object ack is JSON', async () => {
  const r = await main();
  assert.equal((await r.post(blockActionsBody({ actionId: 'cs_approve' }))).statusCode, 200);
  const res = await r.post(viewSubmissionBody({ callbackId: 'cs_deny' }));
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.deepEqual(res.json(), { response_action: 'clear' });
  assert.deepEqual(r.dispatched, [
    { kind: 'action', id: 'cs_approve' },
    { kind: 'view', id: 'cs_deny' },
  ]);
});

test('§8.1 forged signature (right shape, wrong HMAC) → 401, nothing dispatched or stored', async () => {
  const r = await main();
  const body = slashCommandBody({ text: 'deploy checkout-api prod' });
  const forged = signedSlackRequest('not-the-secret', body, { timestamp: NOW_S });
  const res = await r.http.inject({
    method: 'POST',
    url: '/slack/events',
    headers: forged.headers,
    payload: body,
  });
  assertProblem(res, 401, 'UNAUTHENTICATED');
  assert.equal(res.json().detail, 'The request could not be verified as coming from Slack.');
  assert.deepEqual(r.failures, ['mismatch']);
  assert.deepEqual(r.dispatched, []);
  // Nothing was recorded: the same body, correctly signed, is a first delivery.
  assert.equal((await r.post(body)).statusCode, 200);
  assert.equal(r.dispatched.length, 1);
});

test('§8.2 missing signature or timestamp header → 401, not 500', async () => {
  const r = await main();
  const body = slashCommandBody({ text: 'x' });
  const { headers } = signedSlackRequest(SLACK_TEST.signingSecret, body, { timestamp: NOW_S });
  for (const drop of ['x-slack-signature', 'x-slack-request-timestamp']) {
    const h = { ...headers };
    delete h[drop];
    const res = await r.http.inject({
      method: 'POST',
      url: '/slack/events',
      headers: h,
      payload: body,
    });
    assertProblem(res, 401, 'UNAUTHENTICATED');
  }
  assertProblem(
    await r.http.inject({ method: 'POST', url: '/slack/events' }),
    401,
    'UNAUTHENTICATED',
  );
  assert.deepEqual(r.failures, ['missing', 'missing', 'missing']);
  assert.deepEqual(r.dispatched, []);
});

test('§8.3 stale timestamp (now − 301 s) with a correct signature → 401', async () => {
  const r = await main();
  assertProblem(
    await r.post(slashCommandBody({ text: 'x' }), { timestamp: NOW_S - 301 }),
    401,
    'UNAUTHENTICATED',
  );
  assert.equal(
    (await r.post(slashCommandBody({ text: 'y' }), { timestamp: NOW_S - 300 })).statusCode,
    200,
  );
  assert.deepEqual(r.failures, ['stale']);
  assert.deepEqual(r.dispatched, [{ kind: 'command', id: 'y' }]);
});

test('§8.4 future timestamp (now + 600 s) with a correct signature → 401', async () => {
  const r = await main();
  assertProblem(
    await r.post(slashCommandBody({ text: 'x' }), { timestamp: NOW_S + 600 }),
    401,
    'UNAUTHENTICATED',
  );
  assert.deepEqual(r.failures, ['future']);
  assert.deepEqual(r.dispatched, []);
});

test('§8.5 non-numeric or huge timestamps → 401, no exception leaks', async () => {
  const r = await main();
  for (const ts of ['abc', '1e309', '9'.repeat(20), '-1', `${NOW_S}.5`]) {
    assertProblem(
      await r.post(slashCommandBody({ text: ts }), { timestamp: ts }),
      401,
      'UNAUTHENTICATED',
    );
  }
  assert.deepEqual(r.failures, Array(5).fill('malformed'));
  assert.deepEqual(r.dispatched, []);
});

test('§8.6 v1=, an empty hash, two signatures comma-joined → 401', async () => {
  const r = await main();
  const body = slashCommandBody({ text: 'x' });
  const good = signedSlackRequest(SLACK_TEST.signingSecret, body, { timestamp: NOW_S });
  const sig = good.headers['x-slack-signature']!;
  for (const signature of [`v1=${sig.slice(3)}`, 'v0=', `${sig},${sig}`, `${sig}, ${sig}`]) {
    const res = await r.http.inject({
      method: 'POST',
      url: '/slack/events',
      headers: { ...good.headers, 'x-slack-signature': signature },
      payload: body,
    });
    assertProblem(res, 401, 'UNAUTHENTICATED');
  }
  assert.deepEqual(r.failures, Array(4).fill('malformed'));
  assert.deepEqual(r.dispatched, []);
});

test('§8.7 a re-encoded body (+ vs %20, re-serialised JSON) fails the signature', async () => {
  const r = await main();
  const form = slashCommandBody({ text: 'status checkout-api prod' });
  assert.match(form, /text=status\+checkout-api\+prod/);
  const formSig = signedSlackRequest(SLACK_TEST.signingSecret, form, { timestamp: NOW_S });
  const json = eventCallbackBody({ event: { type: 'app_home_opened', user: 'U1', tab: 'home' } });
  const jsonSig = signedSlackRequest(SLACK_TEST.signingSecret, json, { timestamp: NOW_S });
  for (const [signed, payload] of [
    [formSig, form.replaceAll('+', '%20')],
    [jsonSig, JSON.stringify(JSON.parse(json), null, 2)],
  ] as const) {
    const res = await r.http.inject({
      method: 'POST',
      url: '/slack/events',
      headers: signed.headers,
      payload,
    });
    assertProblem(res, 401, 'UNAUTHENTICATED');
  }
  assert.deepEqual(r.failures, ['mismatch', 'mismatch']);
  await settle();
  assert.deepEqual(r.dispatched, []);
});

test('§8.8 a replay inside the window → 200 with no second dispatch', async () => {
  const r = await main();
  for (const body of [
    slashCommandBody({ text: 'deploy checkout-api prod version=1.4.2' }),
    blockActionsBody({ actionId: 'cs_approve', value: 'REQ-1' }),
    viewSubmissionBody({ callbackId: 'cs_deny' }),
  ]) {
    const first = await r.post(body);
    const again = await r.post(body);
    assert.equal(first.statusCode, 200);
    assert.equal(again.statusCode, 200);
    assert.equal(again.body, '');
  }
  assert.deepEqual(
    r.dispatched.map((d) => d.kind),
    ['command', 'action', 'view'],
  );
});

test('§8.9 ssl_check with a smuggled block_actions payload → 200, never dispatched', async () => {
  const r = await main();
  const forgedClick = JSON.stringify(blockActionsPayload({ actionId: 'cs_approve' }));
  for (const flag of ['1', 'true', '0']) {
    const body = `ssl_check=${flag}&token=x&payload=${encodeURIComponent(forgedClick)}`;
    const res = await r.post(body);
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
  }
  // Unsigned, it is simply refused.
  const unsigned = await r.http.inject({
    method: 'POST',
    url: '/slack/events',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `ssl_check=1&payload=${encodeURIComponent(forgedClick)}`,
  });
  assertProblem(unsigned, 401, 'UNAUTHENTICATED');
  await settle();
  assert.deepEqual(r.dispatched, []);
});

test('§8.10 an Events API retry while the first is in flight → exactly one dispatch', async () => {
  const r = await main();
  const body = eventCallbackBody({
    event: { type: 'app_home_opened', user: 'U01BOB', tab: 'home' },
  });
  const first = await r.post(body);
  assert.equal(first.statusCode, 200);
  await settle();
  assert.equal(r.dispatched.length, 1, 'the first delivery is being handled');
  const retry = { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' };
  const second = await r.post(body, { headers: retry });
  assert.equal(second.statusCode, 200);
  r.release();
  await settle();
  const third = await r.post(body, { headers: { ...retry, 'x-slack-retry-num': '2' } });
  assert.equal(third.statusCode, 200);
  await settle();
  assert.deepEqual(r.dispatched, [{ kind: 'event', id: 'U01BOB' }]);
  const states = r.logs
    .filter((l) => l.includes('not dispatched again'))
    .map((l) => JSON.parse(l).state);
  assert.deepEqual(states, ['in-progress', 'in-progress']);
});

test('dedupe keys: event_id, trigger_id, trigger_id with action_ts or view id, else the body', () => {
  const h = 'f'.repeat(64);
  assert.equal(deliveryKey('event', { event_id: 'Ev1' }, h), 'event:Ev1');
  assert.equal(deliveryKey('command', { trigger_id: '1.2.a' }, h), 'command:1.2.a');
  const click = { type: 'block_actions', trigger_id: '1.2.b', actions: [{ action_ts: '9.1' }] };
  assert.equal(deliveryKey('interaction', click, h), 'block_actions:1.2.b:9.1');
  const submit = { type: 'view_submission', trigger_id: '1.2.c', view: { id: 'V1' } };
  assert.equal(deliveryKey('interaction', submit, h), 'view_submission:1.2.c:V1');
  assert.equal(
    deliveryKey('interaction', { type: 'view_closed', view: { id: 'V1' } }, h),
    `body:${h}`,
  );
  assert.equal(deliveryKey('event', { type: 'app_rate_limited' }, h), `body:${h}`);
  assert.equal(
    deliveryKey('interaction', { type: 'block_suggestion', trigger_id: 'x' }, h),
    undefined,
  );
});

test('§8.11 a slow listener (acks, then 4 s of work) is answered well under 3 s', async () => {
  const r = await main();
  const started = performance.now();
  const res = await r.post(slashCommandBody({ text: 'slow' }));
  const ms = performance.now() - started;
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, '/ops: slow');
  assert.ok(ms < 3_000, `answered after ${ms} ms`);
  await r.finishedSlow; // the work went on after the answer
});

test('§8.11 a listener that never acks gets an empty 200 at about 2.5 s', async () => {
  const r = await main();
  const started = performance.now();
  const res = await r.post(slashCommandBody({ text: 'never' }));
  const ms = performance.now() - started;
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, '');
  // Slack gives up at 3 s; the timer fires at 2.5 s, leaving room for a loaded machine.
  assert.ok(ms >= 2_400 && ms < 3_000, `answered after ${ms} ms`);
  assert.ok(r.logs.some((l) => l.includes('did not ack in time')));
});

test('§8.12 another workspace or app, validly signed → 403, not dispatched', async () => {
  const r = await main();
  for (const body of [
    slashCommandBody({ text: 'x', teamId: 'T0OTHER' }),
    slashCommandBody({ text: 'x', appId: 'A0OTHER' }),
    blockActionsBody({ actionId: 'cs_approve', teamId: 'T0OTHER' }),
    blockActionsBody({ actionId: 'cs_approve', appId: 'A0OTHER' }),
    viewSubmissionBody({ callbackId: 'cs_deny', teamId: 'T0OTHER' }),
    eventCallbackBody({ teamId: 'T0OTHER', event: { type: 'app_home_opened', user: 'U1' } }),
    formPayload({ type: 'block_actions', api_app_id: SLACK_TEST.appId, actions: [] }),
  ]) {
    assertProblem(await r.post(body), 403, 'FORBIDDEN');
  }
  await settle();
  assert.deepEqual(r.dispatched, []);
  assert.deepEqual(r.failures, []);
});

test('§8.12 an enterprise-wide team id matches the enterprise, not the workspace', async () => {
  const r = await rig({ teamId: 'E0ORG' });
  const ours = slashCommandBody({ text: 'x', teamId: 'T0ANY', enterpriseId: 'E0ORG' });
  assert.equal((await r.post(ours)).statusCode, 200);
  const theirs = slashCommandBody({ text: 'y', teamId: 'T0ANY', enterpriseId: 'E0OTHER' });
  assertProblem(await r.post(theirs), 403, 'FORBIDDEN');
  assert.deepEqual(r.dispatched, [{ kind: 'command', id: 'x' }]);
});

test('§8.13 url_verification: signed → the challenge echoed; unsigned or forged → 401', async () => {
  const r = await main();
  const body = urlVerificationBody('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
  const res = await r.post(body);
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), {
    challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
  });
  const forged = signedSlackRequest('wrong', body, { timestamp: NOW_S });
  const bad = await r.http.inject({ method: 'POST', url: '/slack/events', ...forged });
  assertProblem(bad, 401, 'UNAUTHENTICATED');
  assert.doesNotMatch(bad.body, /3eZbrw1a/);
});

test('§8.14 a body over the limit → 413 before any signature check', async () => {
  const r = await main();
  // Validly signed: had the HMAC been computed it would pass and dispatch; forged: it would fail
  // and be counted. Neither happens, so verification never ran.
  const big = slashCommandBody({ text: 'x'.repeat(1_048_576) });
  assertProblem(await r.post(big), 413, 'PAYLOAD_TOO_LARGE');
  const forged = signedSlackRequest('wrong', big, { timestamp: NOW_S });
  assertProblem(
    await r.http.inject({ method: 'POST', url: '/slack/events', ...forged }),
    413,
    'PAYLOAD_TOO_LARGE',
  );
  assert.deepEqual(r.failures, []);
  assert.deepEqual(r.dispatched, []);
});

test('§8.14 an oversize chunked upload is answered 413 before the client finishes sending', async () => {
  const r = await main();
  const address = await r.http.listen({ port: 0, host: '127.0.0.1' });
  const { port } = new URL(address);
  const socket = connect(Number(port), '127.0.0.1');
  const answer = new Promise<string>((resolveAnswer) =>
    socket.once('data', (d) => resolveAnswer(String(d))),
  );
  socket.write(
    'POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
      `Transfer-Encoding: chunked\r\n${Object.entries(withSignature(`v0=${'0'.repeat(64)}`))
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n')}\r\n\r\n`,
  );
  const chunk = 'a'.repeat(64 * 1024);
  for (let i = 0; i < 20; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  // The terminating chunk is never sent: the body is unfinished when the answer comes.
  const head = await answer;
  socket.destroy();
  assert.match(head, /^HTTP\/1\.1 413 /);
  assert.deepEqual(r.failures, []);
});

test('§8.15 malformed payload JSON or a wrong Content-Type → 400 after the signature check', async () => {
  const r = await main();
  const cases: [string, string | undefined][] = [
    ['payload=%7Bnot%20json', undefined],
    ['payload=%5B1%2C2%5D', undefined],
    ['{"type":"event_callback"', 'application/json'],
    [slashCommandBody({ text: 'x' }), 'text/plain'],
    [slashCommandBody({ text: 'x' }), 'multipart/form-data; boundary=x'],
    ['token=x&team_id=T0COUNTER', undefined],
  ];
  for (const [body, contentType] of cases) {
    const res = await r.post(body, contentType ? { contentType } : {});
    assertProblem(res, 400, 'INVALID_INPUT');
    const forged = signedSlackRequest('wrong', body, {
      timestamp: NOW_S,
      ...(contentType ? { contentType } : {}),
    });
    assertProblem(
      await r.http.inject({ method: 'POST', url: '/slack/events', ...forged }),
      401,
      'UNAUTHENTICATED',
    );
  }
  await settle();
  assert.deepEqual(r.dispatched, []);
});

test('a listener that throws before its ack → 500 without detail; a retry is handled', async () => {
  const r = await main();
  const body = slashCommandBody({ text: 'boom' });
  assertProblem(await r.post(body), 500, 'INTERNAL');
  await settle();
  // The delivery record was dropped, so the same delivery again is dispatched again.
  assertProblem(await r.post(body), 500, 'INTERNAL');
  assert.equal(r.dispatched.length, 2);
});

test('a listener that throws after its ack is logged; the process goes on', async () => {
  const r = await main();
  const res = await r.post(slashCommandBody({ text: 'boom-after' }));
  assert.equal(res.body, '/ops: boom-after');
  await settle();
  assert.ok(r.logs.some((l) => l.includes('failed after its answer')));
  assert.equal((await r.post(slashCommandBody({ text: 'still here' }))).statusCode, 200);
});

test('respond() posts to the response_url, captured by the fake Slack', async () => {
  const r = await main();
  const url = r.fake.responseUrl('cmd-1');
  assert.equal(
    (await r.post(slashCommandBody({ text: 'respond', responseUrl: url }))).statusCode,
    200,
  );
  await r.receiver.stop();
  assert.deepEqual(
    r.fake.responses.map((x) => [x.id, x.body]),
    [['cmd-1', { text: 'done later' }]],
  );
});

test('other routes keep their own parsers and body limit', async () => {
  const r = await main();
  assert.deepEqual((await r.http.inject({ method: 'GET', url: '/healthz' })).json(), {
    status: 'ok',
  });
  const echo = await r.http.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
  assert.deepEqual(echo.json(), { body: { a: 1 }, isBuffer: false });
  const form = await r.http.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'a=1',
  });
  assert.equal(form.statusCode, 415);
  const big = await r.http.inject({
    method: 'POST',
    url: '/echo',
    payload: { a: 'x'.repeat(2048) },
  });
  assert.equal(big.statusCode, 413, 'the parent keeps its 1 KiB limit');
});

test('published samples: the signed docs example verifies with its own secret and time', {
  skip: NO_SAMPLES,
}, async () => {
  const v = JSON.parse(sample('slack-signature-test-vector-docs-example.json'));
  const body = sample('slack-slash-command-form-body-signed-docs-example.txt');
  assert.equal(body, v.raw_body);
  const at = Number(v.headers['X-Slack-Request-Timestamp']) * 1000;
  const headers = {
    'content-type': v.headers['Content-Type'],
    'x-slack-request-timestamp': v.headers['X-Slack-Request-Timestamp'],
    'x-slack-signature': v.headers['X-Slack-Signature'],
  };
  const then = await rig({ secret: v.signing_secret, nowMs: at });
  const res = await then.http.inject({
    method: 'POST',
    url: '/slack/events',
    headers,
    payload: body,
  });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, '/webhook-collect: ');
  assert.deepEqual(then.dispatched, [{ kind: 'command', id: '' }]);
  const today = await rig({ secret: v.signing_secret, nowMs: Date.now() });
  assertProblem(
    await today.http.inject({ method: 'POST', url: '/slack/events', headers, payload: body }),
    401,
    'UNAUTHENTICATED',
  );
  assert.deepEqual(today.failures, ['stale']);
});

test('published samples: slash-command and block_actions bodies parse and dispatch', {
  skip: NO_SAMPLES,
}, async () => {
  const r = await rig();
  const weather = await r.post(sample('slack-slash-command-form-body.txt'));
  assert.equal(weather.body, '/weather: 94070');
  const hello = await r.post(sample('slack-slash-command-form-body-enterprise-real-sanitized.txt'));
  assert.equal(hello.body, '/hello: ');
  for (const name of [
    'slack-block-actions-payload-docs-example.json',
    'slack-block-actions-payload-with-state-real-sanitized.json',
  ]) {
    assert.equal((await r.post(formPayload(JSON.parse(sample(name))))).statusCode, 200);
  }
  assert.deepEqual(r.dispatched, [
    { kind: 'command', id: '94070' },
    { kind: 'command', id: '' },
    { kind: 'action', id: 'WaXA' },
    { kind: 'action', id: 'save' },
  ]);
  // The docs example belongs to another app: with our app id configured it is refused.
  const ours = await main();
  const docs = formPayload(JSON.parse(sample('slack-block-actions-payload-docs-example.json')));
  assertProblem(await ours.post(docs), 403, 'FORBIDDEN');
});

test('the fake Slack answers the real WebClient as Slack does, 429 included', async () => {
  const fake = await startFakeSlack();
  closers.push(() => fake.close());
  const client = new WebClient(SLACK_TEST.botToken, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
  const metadata = { event_type: 'cs_request', event_payload: { id: 'REQ-1' } };
  const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }];
  const first = await client.chat.postMessage({ channel: 'C1', text: 'one', blocks, metadata });
  const second = await client.chat.postMessage({ channel: 'C1', text: 'two' });
  assert.ok(first.ok && first.ts && second.ts && Number(second.ts) > Number(first.ts));
  assert.match(String(first.ts), /^\d+\.000100$/);
  await client.chat.postMessage({ channel: 'C1', text: 'reply', thread_ts: first.ts! });
  const updated = await client.chat.update({ channel: 'C1', ts: first.ts!, text: 'one, edited' });
  assert.deepEqual([updated.ok, updated.channel, updated.ts], [true, 'C1', first.ts]);
  const history = await client.conversations.history({ channel: 'C1', include_all_metadata: true });
  assert.deepEqual(
    history.messages?.map((m) => m.text),
    ['two', 'one, edited'],
  );
  assert.deepEqual(history.messages?.[1]?.metadata, metadata);
  const replies = await client.conversations.replies({ channel: 'C1', ts: first.ts! });
  assert.deepEqual(
    replies.messages?.map((m) => m.text),
    ['one, edited', 'reply'],
  );
  assert.equal(
    (await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'psst' })).ok,
    true,
  );
  const view = {
    type: 'modal' as const,
    title: { type: 'plain_text' as const, text: 'Deny' },
    blocks: [],
  };
  assert.match(String((await client.views.open({ trigger_id: '1.2.3', view })).view?.id), /^V/);
  assert.equal(
    (await client.views.publish({ user_id: 'U1', view: { type: 'home', blocks: [] } })).ok,
    true,
  );
  assert.equal((await client.auth.test()).bot_id, 'B0BOT');
  const call = fake.callsTo('chat.postMessage')[0]!;
  assert.equal(call.token, SLACK_TEST.botToken);
  assert.deepEqual([call.params.blocks, call.params.metadata], [blocks, metadata]);

  fake.rateLimitNext('chat.postMessage', 1, 7);
  await assert.rejects(
    client.chat.postMessage({ channel: 'C1', text: 'three' }),
    (err: unknown) => {
      assert.ok(err instanceof WebAPIRateLimitedError);
      assert.equal(err.code, ErrorCode.RateLimitedError);
      assert.equal(err.retryAfter, 7);
      return true;
    },
  );
  assert.equal((await client.chat.postMessage({ channel: 'C1', text: 'three' })).ok, true);
  assert.deepEqual(
    fake.callsTo('chat.postMessage').map((c) => c.status),
    [200, 200, 200, 429, 200],
  );
  fake.failNext('chat.update', 'message_not_found');
  await assert.rejects(
    client.chat.update({ channel: 'C1', ts: first.ts!, text: 'x' }),
    /message_not_found/,
  );
  const anonymous = new WebClient(undefined, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
  });
  await assert.rejects(anonymous.chat.postMessage({ channel: 'C1', text: 'x' }), /not_authed/);
});
