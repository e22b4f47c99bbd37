/**
 * The two systems of the ingest comparison as child processes on free loopback ports:
 * Countersign (`node --max-semi-space-size=2 --import tsx src/main.ts`, as `npm start`)
 * and Prometheus Alertmanager (the Debian package's `prometheus-alertmanager`, clustering
 * off), each restartable on the same data after a `kill -9`. Also the fsync probe that
 * tells what a durable commit costs on this machine.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { parse, stringify } from 'yaml';
import { SQLITE_FILE } from '../src/adapters/store/open-store.ts';
import { INGEST_TOKEN } from './ingest-payloads.ts';
import { type Place, percentile, processMemory, sleep } from './lib.ts';
import { startServer } from './server-process.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** What both systems offer the benchmark. */
export interface Running {
  pid: number;
  port: number;
  /** Resident and peak memory, MB, from /proc/<pid>/status. */
  memory(): { rssMb: number; hwmMb: number };
  /** CPU time used so far by all its threads (user + system), ms, from /proc/<pid>/stat. */
  cpuMs(): number;
  /** SIGKILL, then wait for the process to be gone. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** utime + stime of a process (all threads), ms; the kernel counts in ticks of 10 ms. */
export function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// ── Countersign ──────────────────────────────────────────────────────────────────────

/**
 * A copy of the demo catalog with `probeChannels` extra routes: alarms named
 * `bench-probe-<nn>-…` go to channel `CPROBE<nn>`, so latency probes open new messages in
 * quiet channels (each under the default budget of 10 new messages a minute).
 */
export function benchCatalog(probeChannels: number): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-catalog-'));
  cpSync(join(ROOT, 'examples/demo'), dir, { recursive: true });
  const file = join(dir, 'routes.yaml');
  const doc = parse(readFileSync(file, 'utf8')) as { routes: Record<string, unknown>[] };
  const probes = Array.from({ length: probeChannels }, (_, c) => {
    const nn = probeChannel(c);
    return {
      id: `bench-probe-${nn}`,
      team: 'payments',
      description: `Latency probes of the ingest benchmark, channel ${nn}.`,
      pattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: `bench-probe-${nn}-` }] },
      },
      service: 'checkout-api',
      environment: 'from-account',
      severity: 'sev2',
      channel: `CPROBE${nn}`,
    };
  });
  // After the demo's routes, so the background load matches on its first try.
  doc.routes = [
    ...doc.routes.filter((r) => !r.default),
    ...probes,
    ...doc.routes.filter((r) => r.default),
  ];
  writeFileSync(file, stringify(doc));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `00`, `01` … the channel part of a probe alarm's name. */
export const probeChannel = (c: number): string => String(c).padStart(2, '0');

export interface Countersign extends Running {
  place: Place;
  /** Starts it again on the same data folder (after `kill9` or `stop`). */
  restart(): Promise<Countersign>;
}

/** Starts Countersign on `place` with Slack pointed at `slackApiUrl` (the fake). */
export async function startCountersign(
  place: Place,
  o: { configDir: string; slackApiUrl: string },
): Promise<Countersign> {
  const server = await startServer(place, {
    env: {
      COUNTERSIGN_CONFIG: o.configDir,
      COUNTERSIGN_INGEST_TOKEN: INGEST_TOKEN,
      SLACK_SIGNING_SECRET: 'bench-signing-secret-0123456789',
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_API_URL: o.slackApiUrl,
    },
  });
  return {
    pid: server.pid,
    port: Number(new URL(server.url).port),
    place,
    memory: () => processMemory(server.pid),
    cpuMs: () => processCpuMs(server.pid),
    async kill9() {
      process.kill(server.pid, 'SIGKILL');
      await server.stop();
    },
    stop: () => server.stop(),
    restart: () => startCountersign(place, o),
  };
}

export interface StoredCounts {
  events: number;
  unprocessed: number;
  alerts: number;
  firing: number;
  /** Groups and digests whose chat message is behind. */
  unsynced: number;
}

/** Counts in Countersign's SQLite file, opened read-only beside the running server (WAL). */
export function storedCounts(dataDir: string): StoredCounts {
  const db = new Sqlite(join(dataDir, SQLITE_FILE), { readonly: true, fileMustExist: true });
  try {
    const n = (q: string) => Number((db.prepare(q).get() as { n: number }).n);
    return {
      events: n('select count(*) as n from events'),
      unprocessed: n('select count(*) as n from events where processed_at is null'),
      alerts: n('select count(*) as n from alerts'),
      firing: n(`select count(*) as n from alerts where state = 'firing'`),
      unsynced:
        n('select count(*) as n from alert_groups where dirty = 1') +
        n('select count(*) as n from alert_digests where dirty = 1'),
    };
  } finally {
    db.close();
  }
}

/**
 * What the API serves after a restart: the newest journal seq (`GET /api/v1/events?limit=1`,
 * as the demo administrator dave) and firing alerts (`GET /api/v1/alerts`, which answers at
 * most 1,000, so it confirms rather than counts).
 */
export async function servedByApi(port: number): Promise<{ newestSeq: number; alerts: number }> {
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/${path}`, {
      headers: { authorization: 'Bearer cs_demo_dave' },
    });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res.json() as Promise<{ events?: { seq: number }[]; alerts?: unknown[] }>;
  };
  const events = (await get('events?limit=1')).events ?? [];
  const alerts = (await get('alerts?state=firing&limit=1000')).alerts ?? [];
  return { newestSeq: events[0]?.seq ?? 0, alerts: alerts.length };
}

/**
 * Waits until every stored event is processed and, unless `chatToo` is false, every chat
 * message is in step (which Slack's pacing can make take many seconds after a storm).
 */
export async function waitForDrain(
  dataDir: string,
  chatToo = true,
  timeoutMs = 300_000,
): Promise<StoredCounts> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = storedCounts(dataDir);
    if (c.unprocessed === 0 && (!chatToo || c.unsynced === 0)) return c;
    if (Date.now() > deadline) return c;
    await sleep(100);
  }
}

// ── Alertmanager ─────────────────────────────────────────────────────────────────────

/** The Alertmanager binary: `ALERTMANAGER_BIN`, else `prometheus-alertmanager` or `alertmanager` on PATH. */
export function alertmanagerBinary(): { path: string; version: string } | undefined {
  const candidates = [process.env.ALERTMANAGER_BIN, 'prometheus-alertmanager', 'alertmanager'];
  for (const c of candidates) {
    if (!c) continue;
    try {
      const out = execFileSync(c, ['--version'], { encoding: 'utf8', stdio: 'pipe' });
      return { path: c, version: /version (\S+)/.exec(out)?.[1] ?? 'unknown' };
    } catch {}
  }
  return undefined;
}

/**
 * The comparison's Alertmanager config: grouping on (`group_by: [alertname, service]`,
 * `group_wait: 1s`, `group_interval: 1s`, as the reference run), a webhook receiver for
 * everything, and a sub-route taking `kind="probe"` alerts to their own receiver with
 * `group_wait: 0s`, so a probe (a new group) is sent at once.
 */
export function alertmanagerConfig(receiverUrl: string): string {
  return `global:
  resolve_timeout: 5m
route:
  receiver: bulk
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h
  routes:
    - receiver: probe
      matchers: ['kind="probe"']
      group_wait: 0s
receivers:
  - name: bulk
    webhook_configs:
      - url: ${receiverUrl}/hook/bulk
        send_resolved: false
  - name: probe
    webhook_configs:
      - url: ${receiverUrl}/hook/probe
        send_resolved: false
`;
}

export interface Alertmanager extends Running {
  storage: string;
  /** Alerts it holds, from `GET /api/v2/alerts?active=true`. */
  activeAlerts(): Promise<number>;
  restart(): Promise<Alertmanager>;
  cleanup(): void;
}

/** Starts Alertmanager with `alertmanagerConfig(receiverUrl)`; resolves once `/-/ready` answers. */
export async function startAlertmanager(
  bin: string,
  receiverUrl: string,
  storage = mkdtempSync(join(tmpdir(), 'cs-bench-am-')),
): Promise<Alertmanager> {
  const config = join(storage, 'alertmanager.yml');
  writeFileSync(config, alertmanagerConfig(receiverUrl));
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${config}`,
      `--storage.path=${storage}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-2000);
  });
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/-/ready`, () => log);
  const pid = child.pid!;
  const stop = async () => {
    child.kill('SIGTERM');
    await gone;
  };
  return {
    pid,
    port,
    storage,
    memory: () => processMemory(pid),
    cpuMs: () => processCpuMs(pid),
    async kill9() {
      child.kill('SIGKILL');
      await gone;
    },
    stop,
    async activeAlerts() {
      const res = await fetch(`${url}/api/v2/alerts?active=true&silenced=false&inhibited=false`);
      return ((await res.json()) as unknown[]).length;
    },
    restart: () => startAlertmanager(bin, receiverUrl, storage),
    cleanup: () => rmSync(storage, { recursive: true, force: true }),
  };
}

async function waitReady(url: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`Alertmanager did not get ready:\n${log()}`);
    await sleep(50);
  }
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

// ── the machine ──────────────────────────────────────────────────────────────────────

export interface FsyncCost {
  /**
   * One-row SQLite commits, WAL, synchronous=FULL (as the journal commits), ms: back to
   * back (median), and paced one every 10 ms (median, p90) — a disk that has been idle a
   * moment takes longer to flush, and that is what a commit on a latency path meets.
   */
  backToBackMs: number;
  pacedMs: number;
  pacedP90Ms: number;
  /** Back-to-back commits with synchronous=NORMAL (no flush per commit in WAL mode), ms. */
  normalMs: number;
}

/** What a durable commit costs in this machine's temp folder (where the bench keeps its data). */
export async function measureFsync(n = 100): Promise<FsyncCost> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-fsync-'));
  try {
    const commits = async (sync: 'FULL' | 'NORMAL', gapMs: number) => {
      const db = new Sqlite(join(dir, `${sync}-${gapMs}.db`));
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${sync}`);
      db.exec('create table t (id integer primary key, body text not null)');
      const insert = db.prepare('insert into t (body) values (?)');
      const times: number[] = [];
      const body = 'x'.repeat(1000);
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        insert.run(body);
        times.push(performance.now() - t0);
        if (gapMs) await sleep(gapMs);
      }
      db.close();
      return times;
    };
    const paced = await commits('FULL', 10);
    return {
      backToBackMs: percentile(await commits('FULL', 0), 50),
      pacedMs: percentile(paced, 50),
      pacedP90Ms: percentile(paced, 90),
      normalMs: percentile(await commits('NORMAL', 0), 50),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
