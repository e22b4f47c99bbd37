/**
 * §8 "nothing accepted is lost" for ingest, against the real server process
 * (`node --import tsx src/main.ts` on the demo catalog, SQLite in a temp folder): a 200 from
 * a hook means the event is on disk, whatever happens next. The server is killed with
 * SIGKILL the moment the last answer of a burst arrives (processing may be mid-batch), and
 * while requests are still in flight; after a restart every answered event is stored exactly
 * once and processed, and re-sending the unanswered ones stores none twice. The store is read
 * with a read-only SQLite connection beside the server (the HTTP API lists no events).
 * An alert message survives the same kill between Slack taking its post and the ts being
 * recorded: its claim (committed without waiting for the disk) is found after the restart
 * and the message adopted, not posted twice.
 * Also §8 41 (the hook answers while chat hangs, in process) and §8 50 (an alarm name
 * cannot forge a line in the server's JSON log). Numbers name items of §8 in
 * ../shared/reference/reliability-and-security.md.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Sqlite from 'better-sqlite3';
import { SQLITE_FILE } from '../src/adapters/store/open-store.ts';
import type { EventEnvelope } from '../src/domain/event-envelope.ts';
import { harness } from './support/harness.ts';
import {
  killAllServers,
  type ServerProcess,
  startServerProcess,
} from './support/server-process.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DEMO = resolve(ROOT, 'examples/demo');
const TOKEN = 'cs_ingest_crash_token_0123456789';
const PROD_ACCOUNT = '222222222222';
/** Deadline for start-up and for the store to settle, in ms (the machine may be busy). */
const DEADLINE_MS = 30_000;
const FIXTURE = resolve(import.meta.dirname, 'fixtures/ingest/eventbridge-alarm-metric-5xx.json');

/** Every server process and temp folder, so none outlives the tests, whatever fails. */
const folders: string[] = [];
after(() => {
  killAllServers();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

function dataFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-ingest-crash-'));
  folders.push(dir);
  return dir;
}

/** A CloudWatch alarm state change as EventBridge delivers it, for checkout-api in prod. */
function alarm(name: string): EventEnvelope {
  const e = JSON.parse(readFileSync(FIXTURE, 'utf8')) as EventEnvelope;
  const at = new Date().toISOString();
  const detail = e.detail as { state: object };
  return {
    ...e,
    id: `${name.replace(/[^\w-]/g, '_')}-ALARM`,
    account: PROD_ACCOUNT,
    resources: [`arn:aws:cloudwatch:eu-west-1:${PROD_ACCOUNT}:alarm:${name}`],
    time: at.replace(/\.\d+Z$/, 'Z'),
    detail: { ...e.detail, alarmName: name, state: { ...detail.state, timestamp: at } },
  };
}

const keyOf = (e: EventEnvelope) => `eventbridge:${e.source}:${e.id}`;

function serverEnv(
  dataDir: string,
  port: number,
  logLevel: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(COUNTERSIGN_|SLACK_)/.test(k) && k !== 'DATABASE_URL',
    ),
  );
  return {
    ...inherited,
    PORT: String(port),
    HOST: '127.0.0.1',
    COUNTERSIGN_DATA: dataDir,
    COUNTERSIGN_CONFIG: DEMO,
    COUNTERSIGN_INGEST_TOKEN: TOKEN,
    LOG_LEVEL: logLevel,
    ...extra,
  };
}

/** Starts the server on `dataDir` and waits for /readyz (which the server answers only once
 * what a previous run left unprocessed is processed). */
function startServer(
  dataDir: string,
  logLevel = 'silent',
  extra: Record<string, string> = {},
): Promise<ServerProcess> {
  return startServerProcess((port) => serverEnv(dataDir, port, logLevel, extra));
}

/** POSTs one event to /hooks/eventbridge: its status and body, or `error` when the
 * connection failed (the server died before answering). */
async function post(
  s: ServerProcess,
  e: EventEnvelope,
): Promise<{ status: number | 'error'; json?: { accepted?: number; duplicates?: number } }> {
  try {
    const res = await fetch(`${s.url}/hooks/eventbridge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(e),
    });
    return { status: res.status, json: (await res.json()) as Record<string, number> };
  } catch {
    return { status: 'error' };
  }
}

interface StoredState {
  /** How many rows each event key has. */
  rows: Map<string, number>;
  unprocessed: number;
  /** Alert title → the alert's event count. */
  alerts: Map<string, number>;
}

/** What the store holds, read with a read-only connection (safe beside the server: WAL). */
function storedState(dataDir: string): StoredState {
  const db = new Sqlite(join(dataDir, SQLITE_FILE), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('select key, count(*) as n from events group by key').all() as {
      key: string;
      n: number;
    }[];
    const { n } = db
      .prepare('select count(*) as n from events where processed_at is null')
      .get() as { n: number };
    const alerts = db
      .prepare("select doc from alerts where service = 'checkout-api' and environment = 'prod'")
      .all() as { doc: string }[];
    return {
      rows: new Map(rows.map((r) => [r.key, r.n])),
      unprocessed: n,
      alerts: new Map(
        alerts.map(({ doc }) => {
          const a = JSON.parse(doc) as { facts: { title: string }; count: number };
          return [a.facts.title, a.count];
        }),
      ),
    };
  } finally {
    db.close();
  }
}

/** The store once nothing is left unprocessed (polled), or fails after the deadline. */
async function settled(dataDir: string): Promise<StoredState> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const state = storedState(dataDir);
    if (state.unprocessed === 0) return state;
    if (Date.now() > deadline) assert.fail(`${state.unprocessed} events left unprocessed`);
    await sleep(50);
  }
}

/** Each event stored exactly once, processed, and its alert counted once. */
function assertStoredOnce(state: StoredState, events: EventEnvelope[]): void {
  const missing = events.filter((e) => state.rows.get(keyOf(e)) !== 1).map((e) => e.id);
  assert.deepEqual(missing, [], 'every event stored exactly once');
  assert.equal(state.unprocessed, 0, 'no event left with processed_at null');
  const names = events.map((e) => String(e.detail.alarmName));
  const counts = names.map((name) => state.alerts.get(name));
  assert.deepEqual(
    counts,
    names.map(() => 1),
    'one alert per event, counted once',
  );
}

describe('ingest: nothing accepted is lost when the server is killed (SQLite)', () => {
  test('200 concurrent alarms: SIGKILL on the last 200 answer, restart, each stored once and processed', async (t) => {
    const dataDir = dataFolder();
    const first = await startServer(dataDir);
    const events = Array.from({ length: 200 }, (_, i) => alarm(`checkout-api-burst-${i}`));
    let answers: Awaited<ReturnType<typeof post>>[] = [];
    try {
      answers = await Promise.all(events.map((e) => post(first, e)));
    } finally {
      await first.kill();
    }
    assert.deepEqual(
      answers.filter((a) => a.status !== 200),
      [],
      'every event answered 200',
    );
    const atKill = storedState(dataDir);
    t.diagnostic(`at the kill: ${atKill.rows.size} stored, ${atKill.unprocessed} unprocessed`);
    assert.equal(atKill.rows.size, 200, 'all 200 were on disk when the process died');

    const second = await startServer(dataDir);
    try {
      assertStoredOnce(await settled(dataDir), events);
      assert.equal(storedState(dataDir).rows.size, 200, 'nothing else stored');
    } finally {
      await second.kill();
    }
  });

  test('killed with requests in flight: every 200 is stored; re-sending the rest stores none twice', async (t) => {
    const dataDir = dataFolder();
    const first = await startServer(dataDir);
    const events = Array.from({ length: 300 }, (_, i) => alarm(`checkout-api-inflight-${i}`));
    // 64 senders, each posting its next event as soon as the last is answered, so requests
    // are always in flight; the 100th 200 sends SIGKILL at once and the senders stop.
    const answers: (Awaited<ReturnType<typeof post>> | undefined)[] = [];
    let next = 0;
    let answered = 0;
    let killing: Promise<void> | undefined;
    const sender = async () => {
      while (!killing && next < events.length) {
        const i = next++;
        answers[i] = await post(first, events[i]!);
        if (answers[i]?.status === 200 && ++answered === 100) killing = first.kill();
      }
    };
    await Promise.all(Array.from({ length: 64 }, sender));
    await (killing ?? first.kill());
    const ok = events.filter((_, i) => answers[i]?.status === 200);
    const failed = events.filter((_, i) => answers[i]?.status !== 200);
    const errors = answers.filter((a) => a?.status === 'error').length;
    const atKill = storedState(dataDir);
    t.diagnostic(
      `${ok.length} answered 200 before the kill, ${errors} connection errors, ` +
        `${failed.length - errors} never sent; ` +
        `${atKill.rows.size} stored, ${atKill.unprocessed} unprocessed at the kill`,
    );
    assert.ok(errors > 0, 'some requests were in flight at the kill');

    const second = await startServer(dataDir);
    try {
      const afterRestart = await settled(dataDir);
      assertStoredOnce(afterRestart, ok);
      const resent = await Promise.all(failed.map((e) => post(second, e)));
      assert.deepEqual(
        resent.filter((a) => a.status !== 200),
        [],
        'every re-sent event answered 200',
      );
      const duplicates = resent.filter((a) => a.json?.duplicates === 1).length;
      const storedUnanswered = failed.filter((e) => afterRestart.rows.has(keyOf(e))).length;
      t.diagnostic(`${storedUnanswered} unanswered requests had been stored anyway`);
      assert.equal(duplicates, storedUnanswered, 're-sends of stored events are duplicates');
      const final = await settled(dataDir);
      assertStoredOnce(final, events);
      assert.equal(final.rows.size, 300);
    } finally {
      await second.kill();
    }
  });
});

describe('the server log under hostile alarm names', () => {
  test('§8 50: an alarm name with a newline and ANSI escapes yields only JSON log lines, escaped', async () => {
    const server = await startServer(dataFolder(), 'info');
    try {
      const name = 'checkout-api-x\n2026-01-01 INFO approved by admin\u001b[31m\u001b[2K';
      const res = await post(server, alarm(name));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      const deadline = Date.now() + DEADLINE_MS;
      while (!server.stdout().includes('approved by admin')) {
        if (Date.now() > deadline) assert.fail(`the alarm was never logged:\n${server.output()}`);
        await sleep(50);
      }
      const out = server.stdout();
      assert.equal(out.includes('\u001b'), false, 'no raw escape character reaches the log');
      const lines = out.split('\n').filter((l) => l.length > 0);
      for (const line of lines) {
        assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line}`);
        assert.doesNotMatch(line, /^2026-01-01/, 'a forged line');
      }
      const logged = lines.filter((l) => l.includes('approved by admin')).map((l) => JSON.parse(l));
      assert.ok(
        logged.some((entry) => JSON.stringify(entry).includes(JSON.stringify(name).slice(1, -1))),
        'the name is kept, escaped inside its JSON line',
      );
    } finally {
      await server.kill();
    }
  });
});

describe('§8 41: the hook acks fast however slow chat is', () => {
  test('with chat hanging, each alarm still gets its 200 within 500 ms while its message is pending', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const asked: string[] = [];
    const h = await harness({
      alertChat: {
        async showGroup(id) {
          asked.push(id);
          await gate;
        },
        async showDigest(id) {
          asked.push(id);
          await gate;
        },
      },
    });
    try {
      await h.pipeline.start();
      for (const name of ['checkout-api-slow-chat-1', 'checkout-api-slow-chat-2']) {
        const started = performance.now();
        const res = await h.hook('/hooks/eventbridge', alarm(name));
        const ms = performance.now() - started;
        assert.equal(res.status, 200, JSON.stringify(res.json));
        assert.ok(ms < 500, `answered in ${ms.toFixed(0)} ms`);
        const deadline = Date.now() + 5_000;
        while (asked.length === 0 && Date.now() < deadline) await sleep(10);
        assert.ok(asked.length > 0, 'chat was asked to show the alert (and hangs)');
      }
      const { groups } = await h.store.ingest.unsynced(10);
      assert.ok(groups.includes(asked[0]!), 'the message is still pending');
    } finally {
      release();
      await h.close();
    }
  });
});

/** A message the fake Slack holds: what chat.postMessage sent, and the ts it got. */
interface HeldPost {
  channel: string;
  ts: string;
  text: string;
  metadata: { event_type?: string; event_payload?: Record<string, unknown> };
}

/**
 * A minimal Slack Web API that stores what is posted and lists it back with its metadata
 * (`conversations.history`). While `hold` is set, a `chat.postMessage` is stored but never
 * answered: Slack has the message, the poster never learns its ts.
 */
async function heldSlack() {
  const posts: HeldPost[] = [];
  const calls: string[] = [];
  const hanging: ServerResponse[] = [];
  const state = { hold: true };
  let seconds = 1_700_000_000;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '');
      calls.push(method);
      const params = new URLSearchParams(raw);
      const answer = (body: object) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, ...body }));
      };
      if (method === 'chat.postMessage') {
        const post: HeldPost = {
          channel: params.get('channel') ?? '',
          ts: `${seconds++}.000100`,
          text: params.get('text') ?? '',
          metadata: JSON.parse(params.get('metadata') ?? '{}'),
        };
        posts.push(post);
        if (state.hold && post.metadata.event_type === 'countersign_alert_group') {
          hanging.push(res);
          return;
        }
        return answer({ channel: post.channel, ts: post.ts });
      }
      if (method === 'conversations.history') {
        const channel = params.get('channel');
        const messages = posts
          .filter((p) => p.channel === channel)
          .reverse()
          .map((p) => ({ type: 'message', ts: p.ts, text: p.text, metadata: p.metadata }));
        return answer({ messages });
      }
      if (method === 'auth.test') return answer({ user_id: 'U0BOT', bot_id: 'B0BOT' });
      return answer({ channel: params.get('channel'), ts: params.get('ts') ?? `${seconds++}.0` });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    posts,
    calls,
    state,
    close: () =>
      new Promise<void>((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The alert-group claims in `chat_messages`, read beside the server. */
function alertClaims(dataDir: string): { request_id: string; ts: string | null }[] {
  const db = new Sqlite(join(dataDir, SQLITE_FILE), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare("select request_id, ts from chat_messages where kind = 'alert-group'")
      .all() as { request_id: string; ts: string | null }[];
  } finally {
    db.close();
  }
}

describe('alert messages: posted once across a kill -9 (SQLite)', () => {
  test('killed after Slack took the post, before its ts was recorded: the restart adopts it, no second post', async () => {
    const slack = await heldSlack();
    const dataDir = dataFolder();
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-ingest-crash',
      SLACK_SIGNING_SECRET: 'ingest-crash-signing-secret-0123',
      SLACK_API_URL: slack.apiUrl,
    };
    const groupPosts = () =>
      slack.posts.filter((p) => p.metadata.event_type === 'countersign_alert_group');
    try {
      const first = await startServer(dataDir, 'silent', env);
      try {
        const res = await post(first, alarm('checkout-api-claim-then-kill'));
        assert.equal(res.status, 200, JSON.stringify(res.json));
        const deadline = Date.now() + DEADLINE_MS;
        while (groupPosts().length === 0) {
          if (Date.now() > deadline) assert.fail(`the alert was never posted:\n${first.output()}`);
          await sleep(20);
        }
      } finally {
        await first.kill();
      }
      const [held] = groupPosts();
      const group = String(held!.metadata.event_payload?.request_id);
      assert.deepEqual(
        alertClaims(dataDir),
        [{ request_id: group, ts: null }],
        'the claim outlived the process, without a ts',
      );

      slack.state.hold = false;
      const second = await startServer(dataDir, 'silent', env);
      try {
        const deadline = Date.now() + DEADLINE_MS;
        while (alertClaims(dataDir)[0]?.ts === null) {
          if (Date.now() > deadline) assert.fail(`never adopted:\n${second.output()}`);
          await sleep(50);
        }
        assert.deepEqual(alertClaims(dataDir), [{ request_id: group, ts: held!.ts }]);
        assert.equal(groupPosts().length, 1, 'posted once, before the kill');
        assert.ok(slack.calls.includes('conversations.history'), 'found by its metadata');
      } finally {
        await second.kill();
      }
    } finally {
      await slack.close();
    }
  });
});
