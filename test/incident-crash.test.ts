/**
 * Crash recovery of incident work (issue 5, invariant 8): the real server process on
 * test/fixtures/incident-crash-catalog, killed with SIGKILL after acknowledging an alarm it
 * had not processed, while a pre-approved first mitigation runs, and while a runbook step's
 * command runs. After each restart nothing is lost and nothing runs twice: one incident per
 * alert group, the mitigation started once (and, killed mid-run, ends `unknown` for a
 * person), a killed non-idempotent step ends failed and the run goes on by its
 * `on_failure`, a killed idempotent step runs again once and is recorded done once, and the
 * audit chain verifies. Handlers log `start <id>` / `end <id>` to a file outside the
 * process, so how often a command really ran is counted from outside.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  killAllServers,
  type ServerProcess as Server,
  startServerProcess,
  track,
} from './support/server-process.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CATALOG = resolve(import.meta.dirname, 'fixtures/incident-crash-catalog');
const INGEST_TOKEN = 'cs_ingest_crash_token_0123456789';
const DEADLINE_MS = 30_000;
const ALARM = JSON.parse(
  readFileSync(
    resolve(import.meta.dirname, 'fixtures/ingest/eventbridge-alarm-metric-5xx.json'),
    'utf8',
  ),
);

after(killAllServers);

interface Place {
  dataDir: string;
  log: string;
}

const places: Place[] = [];
afterEach(() => {
  killAllServers();
});
after(() => {
  for (const p of places) rmSync(p.dataDir, { recursive: true, force: true });
});

function newPlace(): Place {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-incident-crash-'));
  const place = { dataDir, log: join(dataDir, 'runs.log') };
  places.push(place);
  return place;
}

function env(place: Place, extra: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('COUNTERSIGN_') && k !== 'DATABASE_URL' && !k.startsWith('CRASH_'))
      base[k] = v;
  }
  return {
    ...base,
    COUNTERSIGN_CONFIG: CATALOG,
    COUNTERSIGN_DATA: place.dataDir,
    COUNTERSIGN_INGEST_TOKEN: INGEST_TOKEN,
    CRASH_LOG: place.log,
    ...extra,
  };
}

function start(place: Place, o: { worker: boolean; sleepMs: number }): Promise<Server> {
  return startServerProcess((port) =>
    env(place, {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      COUNTERSIGN_WORKER: o.worker ? 'on' : 'off',
      CRASH_SLEEP_MS: String(o.sleepMs),
    }),
  );
}

// biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
type Json = any;

async function api(s: Server, method: 'GET' | 'POST', path: string, as: string, body?: unknown) {
  const res = await fetch(`${s.url}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer cs_crash_${as}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json: Json = await res.json();
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function sendAlarm(s: Server, name: string): Promise<void> {
  const at = '2026-11-25T11:59:00.000+0000';
  const res = await fetch(`${s.url}/hooks/eventbridge`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      ...ALARM,
      id: `${name}-ALARM`,
      account: '222222222222',
      resources: [`arn:aws:cloudwatch:eu-west-1:222222222222:alarm:${name}`],
      detail: {
        ...ALARM.detail,
        alarmName: name,
        state: { ...ALARM.detail.state, value: 'ALARM', timestamp: at },
      },
    }),
  });
  assert.equal(res.status, 200, await res.text());
}

async function until<T>(s: Server, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${s.output()}`);
    await sleep(50);
  }
}

/** How often the handler log shows `id` starting and ending. */
function runs(place: Place, id: string) {
  const lines = existsSync(place.log) ? readFileSync(place.log, 'utf8').split('\n') : [];
  return {
    starts: lines.filter((l) => l === `start ${id}`).length,
    ends: lines.filter((l) => l === `end ${id}`).length,
  };
}

/** The first request id a handler started, once one has. */
const started = (place: Place) => async () => {
  const lines = existsSync(place.log) ? readFileSync(place.log, 'utf8').split('\n') : [];
  return lines.find((l) => l.startsWith('start '))?.slice('start '.length);
};

const request = async (s: Server, id: string) =>
  (await api(s, 'GET', `/requests/${id}`, 'dave')).request;
const incidents = async (s: Server) =>
  (await api(s, 'GET', '/incidents', 'dave')).incidents as Json[];

const reaches = (s: Server, id: string, state: string) =>
  until(s, `${id} to be ${state}`, async () => {
    const r = await request(s, id);
    return r.state === state ? r : undefined;
  });

async function auditVerifies(place: Place): Promise<void> {
  const child = spawn(process.execPath, ['bin/countersign.mjs', 'audit', 'verify'], {
    cwd: ROOT,
    env: env(place, {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const untrack = track(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = await once(child, 'exit');
  untrack();
  assert.equal(code, 0, out);
}

describe('incident work survives kill -9 (SQLite)', () => {
  it('an alarm acknowledged but not yet processed opens one incident and runs its mitigation once after the restart', async () => {
    const place = newPlace();
    const accepting = await start(place, { worker: false, sleepMs: 0 });
    await sendAlarm(accepting, 'app-5xx-acked');
    await accepting.kill();
    const s = await start(place, { worker: true, sleepMs: 0 });
    const [incident] = await until(s, 'the incident', async () => {
      const found = await incidents(s);
      return found.length > 0 ? found : undefined;
    });
    const id = incident.mitigation?.requestId;
    assert.ok(id, 'the pre-approved mitigation was requested');
    await reaches(s, id, 'succeeded');
    await s.kill();
    const again = await start(place, { worker: true, sleepMs: 0 });
    await sleep(500);
    assert.equal((await incidents(again)).length, 1, 'still one incident');
    assert.deepEqual(runs(place, id), { starts: 1, ends: 1 });
    await again.kill();
    await auditVerifies(place);
  });

  it('killed while the pre-approved mitigation runs: it is not run again and ends unknown', async () => {
    const place = newPlace();
    const s = await start(place, { worker: true, sleepMs: 30_000 });
    await sendAlarm(s, 'app-5xx-slow');
    const id = await until(s, 'the mitigation to start', started(place));
    await s.kill();
    const again = await start(place, { worker: true, sleepMs: 0 });
    const r = await reaches(again, id, 'unknown');
    assert.equal(r.origin?.kind, 'mitigation');
    assert.deepEqual(runs(place, id), { starts: 1, ends: 0 });
    const found = await incidents(again);
    assert.equal(found.length, 1);
    assert.equal(found[0].mitigation.requestId, id);
    await again.kill();
    await auditVerifies(place);
  });

  it('killed mid runbook step: a one-shot step ends failed and the run goes on; a re-runnable one runs again once', async () => {
    const place = newPlace();
    let s = await start(place, { worker: true, sleepMs: 30_000 });
    const declared = await api(s, 'POST', '/incidents', 'alice', {
      service: 'app',
      environment: 'prod',
      severity: 'sev3',
      title: 'slow changes',
    });
    const view = await api(s, 'POST', '/runbook-runs', 'alice', {
      runbook: 'slow-step',
      incident: declared.incident.id,
    });
    const runId: string = view.run.id;
    const step = (server: Server, stepId: string, body: object) =>
      api(server, 'POST', `/runbook-runs/${runId}/steps/${stepId}`, 'alice', body);
    const approveLatest = async (server: Server) => {
      const run = (await api(server, 'GET', `/runbook-runs/${runId}`, 'dave')).run;
      const r = await request(server, run.steps.at(-1).requestId);
      await api(server, 'POST', `/requests/${r.id}/approve`, 'bob', { digest: r.digest });
      return r.id as string;
    };

    // A one-shot command killed mid-run: unknown, the step failed, the run takes on_failure.
    await step(s, 'change', { action: 'run' });
    const oneShot = await approveLatest(s);
    await until(s, 'the step to start', async () =>
      runs(place, oneShot).starts > 0 ? true : undefined,
    );
    await s.kill();
    s = await start(place, { worker: true, sleepMs: 30_000 });
    await reaches(s, oneShot, 'unknown');
    let run = await until(s, 'the run to move on', async () => {
      const r = (await api(s, 'GET', `/runbook-runs/${runId}`, 'dave')).run;
      return r.steps.at(-1).stepId === 'after' ? r : undefined;
    });
    assert.deepEqual(
      run.steps.map((x: Json) => `${x.stepId}:${x.status}`),
      ['change:failed', 'after:current'],
    );
    assert.deepEqual(runs(place, oneShot), { starts: 1, ends: 0 });
    await s.kill();

    // A re-runnable command in a second run: killed once, it runs again once and is done once.
    s = await start(place, { worker: true, sleepMs: 30_000 });
    const second = await api(s, 'POST', '/runbook-runs', 'alice', {
      runbook: 'slow-step',
      incident: declared.incident.id,
    });
    const run2: string = second.run.id;
    await api(s, 'POST', `/runbook-runs/${run2}/steps/change`, 'alice', {
      action: 'skip',
      reason: 'already done by hand',
    });
    await api(s, 'POST', `/runbook-runs/${run2}/steps/retry`, 'alice', { action: 'run' });
    const viewed = (await api(s, 'GET', `/runbook-runs/${run2}`, 'dave')).run;
    const retry = await request(s, viewed.steps.at(-1).requestId);
    await api(s, 'POST', `/requests/${retry.id}/approve`, 'bob', { digest: retry.digest });
    await until(s, 'the retry step to start', async () =>
      runs(place, retry.id).starts > 0 ? true : undefined,
    );
    await s.kill();
    s = await start(place, { worker: true, sleepMs: 100 });
    await reaches(s, retry.id, 'succeeded');
    run = await until(s, 'the second run to move on', async () => {
      const r = (await api(s, 'GET', `/runbook-runs/${run2}`, 'dave')).run;
      return r.steps.at(-1).stepId === 'after' ? r : undefined;
    });
    assert.deepEqual(
      run.steps.map((x: Json) => `${x.stepId}:${x.status}`),
      ['change:skipped', 'retry:done', 'after:current'],
    );
    assert.deepEqual(
      runs(place, retry.id),
      { starts: 2, ends: 1 },
      'declared idempotent: run again once',
    );
    await s.kill();
    await auditVerifies(place);
  });
});
