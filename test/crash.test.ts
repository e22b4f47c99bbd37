/**
 * Crash recovery of the real server process (invariant 8, §8 items 53–55): the server runs as
 * `node --import tsx src/main.ts` on the crash-test catalog, is driven over HTTP, and is
 * killed with SIGKILL between approval and execution and while a command is running. After
 * each restart every approved request has run exactly once, or ends `unknown` for a person to
 * settle, and `countersign audit verify` still passes. Handlers write `start <id>` and
 * `end <id>` to a file, so how often a command really ran is counted outside the killed
 * process. Runs on SQLite, and on PostgreSQL when one is available.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshDatabase, type TestPostgres, testPostgres } from './support/postgres.ts';
import {
  killAllServers,
  type ServerProcess as Server,
  startServerProcess,
  track,
} from './support/server-process.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CATALOG = resolve(import.meta.dirname, 'fixtures/crash-catalog');
/** How long a dead PostgreSQL worker's lease outlives it, in ms. */
const PG_LEASE_MS = 1500;
/** Deadline for start-up and for a request to reach a state, in ms (the machine may be busy). */
const DEADLINE_MS = 30_000;

after(killAllServers);

/** Where one crash scenario keeps its state: a data folder, and a database on PostgreSQL. */
interface Place {
  dataDir: string;
  log: string;
  databaseUrl?: string;
}

function serverEnv(place: Place, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('COUNTERSIGN_') && k !== 'DATABASE_URL' && !k.startsWith('CRASH_')) {
      env[k] = v;
    }
  }
  return {
    ...env,
    COUNTERSIGN_CONFIG: CATALOG,
    COUNTERSIGN_DATA: place.dataDir,
    CRASH_LOG: place.log,
    ...(place.databaseUrl
      ? { DATABASE_URL: place.databaseUrl, COUNTERSIGN_OUTBOX_LEASE_MS: String(PG_LEASE_MS) }
      : {}),
    ...extra,
  };
}

/**
 * Starts the server and waits for /readyz. `sleepMs` is how long the slow handlers sleep
 * between `start` and `end`.
 */
function startServer(place: Place, opts: { worker: boolean; sleepMs: number }): Promise<Server> {
  return startServerProcess((port) =>
    serverEnv(place, {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      COUNTERSIGN_WORKER: opts.worker ? 'on' : 'off',
      CRASH_SLEEP_MS: String(opts.sleepMs),
    }),
  );
}

// biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
type Json = any;

async function api(
  s: Server,
  method: 'GET' | 'POST',
  path: string,
  as: 'alice' | 'bob' | 'dave',
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${s.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer cs_crash_${as}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

/** Asks for a command as alice; returns the accepted (201) request. */
async function ask(s: Server, text: string): Promise<Json> {
  const res = await api(s, 'POST', '/requests', 'alice', { text });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.request;
}

/** Bob approves the digest he was shown; the approval is committed when this returns. */
async function approve(s: Server, r: Json): Promise<void> {
  const res = await api(s, 'POST', `/requests/${r.id}/approve`, 'bob', { digest: r.digest });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal(res.json.request.state, 'approved');
}

async function get(s: Server, id: string): Promise<Json> {
  const res = await api(s, 'GET', `/requests/${id}`, 'dave');
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.request;
}

async function auditActions(s: Server, id: string): Promise<string[]> {
  const res = await api(s, 'GET', `/audit?target=${id}`, 'dave');
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.entries.map((e: { action: string }) => e.action);
}

/** Polls every 50 ms until `probe` answers, or fails naming what it waited for. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const FINAL = ['succeeded', 'failed', 'unknown', 'denied', 'cancelled', 'expired'];

/** Waits for a request to reach `state`; fails at once when it ends in another. */
const reaches = (s: Server, id: string, state: string) =>
  until(`${id} to be ${state}`, async () => {
    const r = await get(s, id);
    if (r.state !== state && FINAL.includes(r.state)) {
      assert.fail(`${id} ended ${r.state}, not ${state}: ${JSON.stringify(r.execution)}`);
    }
    return r.state === state ? r : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}\nserver output:\n${s.output()}`);
  });

/** How many times the handler log shows each request starting and ending. */
function runs(place: Place, id: string): { starts: number; ends: number } {
  const lines = existsSync(place.log) ? readFileSync(place.log, 'utf8').split('\n') : [];
  return {
    starts: lines.filter((l) => l === `start ${id}`).length,
    ends: lines.filter((l) => l === `end ${id}`).length,
  };
}

/** `countersign audit verify` against the same store, as an operator would run it. */
async function verifyAudit(place: Place): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['bin/countersign.mjs', 'audit', 'verify'], {
    cwd: ROOT,
    env: serverEnv(place, {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const untrack = track(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const [code] = await once(child, 'exit');
  untrack();
  return { code, output };
}

async function assertChainVerifies(place: Place): Promise<void> {
  const verified = await verifyAudit(place);
  assert.equal(verified.code, 0, verified.output);
  assert.match(verified.output, /^ok: \d+ entries verified/);
}

/** One crash scenario: its own data folder (and database, on PostgreSQL) and server. */
interface Scenario {
  place(): Place;
  /** Starts a server on the scenario's store; it becomes `server()`. */
  start(opts: { worker: boolean; sleepMs: number }): Promise<Server>;
  /** The server started last. */
  server(): Server;
}

/** Sets a scenario up before its tests; afterwards kills its server, then removes its store. */
function scenario(pgServer: () => TestPostgres | undefined): Scenario {
  let place: Place | undefined;
  let db: TestPostgres | undefined;
  let server: Server | undefined;
  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-crash-'));
    const cluster = pgServer();
    db = cluster ? await freshDatabase(cluster.url) : undefined;
    place = { dataDir, log: join(dataDir, 'handler.log'), ...(db ? { databaseUrl: db.url } : {}) };
  });
  after(async () => {
    await server?.kill();
    await db?.cleanup();
    if (place) rmSync(place.dataDir, { recursive: true, force: true });
  });
  const self: Scenario = {
    place() {
      assert.ok(place, 'the scenario has no data folder');
      return place;
    },
    async start(opts) {
      server = await startServer(self.place(), opts);
      return server;
    },
    server() {
      assert.ok(server, 'no server: an earlier step failed');
      return server;
    },
  };
  return self;
}

function suite(name: string, pgServer: () => TestPostgres | undefined) {
  // The two crashes use separate stores and processes, so they run side by side; the steps
  // within each run in order.
  describe(`crash recovery of the server process (${name})`, { concurrency: true }, () => {
    describe('killed after the approval committed, before execution', {
      concurrency: false,
    }, () => {
      const s = scenario(pgServer);
      const approved: Json[] = [];
      let accepted: Json;

      it('§8.54 every approved request runs exactly once after SIGKILL and restart', async () => {
        const first = await s.start({ worker: false, sleepMs: 0 });
        for (let i = 1; i <= 5; i++) {
          const r = await ask(first, `quick-change app prod ticket=CHG-${i}`);
          await approve(first, r);
          approved.push(r);
        }
        accepted = await ask(first, 'quick-change app prod ticket=CHG-6');
        await first.kill();
        const never = approved.map(() => ({ starts: 0, ends: 0 }));
        assert.deepEqual(
          approved.map((r) => runs(s.place(), r.id)),
          never,
          'nothing ran before the crash',
        );

        const second = await s.start({ worker: true, sleepMs: 0 });
        for (const r of approved) {
          const done = await reaches(second, r.id, 'succeeded');
          assert.equal(done.execution.attempt, 1);
        }
        assert.deepEqual(
          approved.map((r) => runs(s.place(), r.id)),
          approved.map(() => ({ starts: 1, ends: 1 })),
          'each approved request ran exactly once',
        );
      });

      it('invariant 8: a request accepted (201) just before SIGKILL is still there after restart', async () => {
        assert.ok(accepted, 'needs the previous step');
        const r = await get(s.server(), accepted.id);
        assert.equal(r.state, 'pending');
        assert.equal(r.digest, accepted.digest);
        assert.deepEqual(await auditActions(s.server(), accepted.id), ['request.created']);
        assert.deepEqual(runs(s.place(), accepted.id), { starts: 0, ends: 0 });
      });

      it('§8.53 no execution without a durable approval record; audit verify passes after the crash', async () => {
        assert.equal(approved.length, 5, 'needs the first step');
        for (const r of approved) {
          assert.deepEqual(await auditActions(s.server(), r.id), [
            'request.created',
            'approval.given',
            'request.approved',
            'execution.started',
            'execution.finished',
          ]);
        }
        await assertChainVerifies(s.place());
      });
    });

    describe('killed while a command is running', { concurrency: false }, () => {
      const s = scenario(pgServer);
      let unsure: Json;
      let retried: Json;

      it('§8.55 a command that is not idempotent ends unknown, never runs again, and is settled by a person', async () => {
        const first = await s.start({ worker: true, sleepMs: 60_000 });
        unsure = await ask(first, 'slow-change app prod ticket=CHG-7');
        retried = await ask(first, 'slow-retry app prod ticket=CHG-8');
        await approve(first, unsure);
        await approve(first, retried);
        await until('both handlers to start', async () =>
          runs(s.place(), unsure.id).starts === 1 && runs(s.place(), retried.id).starts === 1
            ? true
            : undefined,
        );
        assert.equal((await get(first, unsure.id)).state, 'running');
        assert.equal((await get(first, retried.id)).state, 'running');
        await first.kill();

        const second = await s.start({ worker: true, sleepMs: 50 });
        const unknown = await reaches(second, unsure.id, 'unknown');
        assert.equal(unknown.execution.outcome, 'unknown');
        assert.deepEqual(
          runs(s.place(), unsure.id),
          { starts: 1, ends: 0 },
          'ran once, unfinished',
        );
        assert.deepEqual(await auditActions(second, unsure.id), [
          'request.created',
          'approval.given',
          'request.approved',
          'execution.started',
          'execution.unknown',
        ]);

        const settle = { outcome: 'succeeded', note: 'checked' };
        const refused = await api(second, 'POST', `/requests/${unsure.id}/settle`, 'bob', settle);
        assert.equal(refused.status, 403, JSON.stringify(refused.json));
        const settled = await api(second, 'POST', `/requests/${unsure.id}/settle`, 'dave', settle);
        assert.equal(settled.status, 200, JSON.stringify(settled.json));
        assert.equal(settled.json.request.state, 'succeeded');
        assert.equal((await get(second, unsure.id)).state, 'succeeded');
        assert.equal((await auditActions(second, unsure.id)).at(-1), 'execution.settled');
        assert.deepEqual(
          runs(s.place(), unsure.id),
          { starts: 1, ends: 0 },
          'settling runs nothing',
        );
      });

      it('§8.55 a command declared idempotent runs again (attempt 2) and succeeds', async () => {
        assert.ok(retried, 'needs the previous step');
        const done = await reaches(s.server(), retried.id, 'succeeded');
        assert.equal(done.execution.attempt, 2);
        assert.deepEqual(runs(s.place(), retried.id), { starts: 2, ends: 1 });
        assert.deepEqual(await auditActions(s.server(), retried.id), [
          'request.created',
          'approval.given',
          'request.approved',
          'execution.started',
          'execution.retried',
          'execution.finished',
        ]);
      });

      it('§8.53 audit verify passes after the crash mid-call and the settlement', async () => {
        await assertChainVerifies(s.place());
      });
    });
  });
}

suite('sqlite', () => undefined);

const pg = await testPostgres();
after(async () => pg?.cleanup());
describe('on PostgreSQL', { skip: pg ? false : 'no PostgreSQL available' }, () => {
  suite('postgres', () => pg);
});
