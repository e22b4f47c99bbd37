/**
 * `Store.verifyAuditParallel`: the chain checked up to the recorded head over every core.
 * The seqs are cut into ranges that this thread and worker threads (each with its own
 * connection) take from a shared counter; each range is read as one buffer
 * (audit-verify-source.ts) and checked entry by entry (audit-verify-chunk.ts); then the
 * ranges are joined, checking the link across every edge, and the last hash is compared
 * with the head. Entries appended meanwhile are checked on this thread until the head stops
 * moving.
 *
 * It answers `intact` only when the entry-by-entry check of `verifyAudit` would pass. Any
 * doubt (a bad entry, a range that does not join up, rows past an unmoved head, a worker
 * that failed) answers not intact, and the caller runs that check, which names the first
 * bad entry. Connection failures of this thread are thrown.
 */

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { GENESIS_HASH } from '../../domain/audit-chain.ts';
import { auditHead } from './audit-repo.ts';
import {
  type RangeDone,
  type RangePlan,
  runRanges,
  sharedCounter,
  stitchRanges,
} from './audit-verify-ranges.ts';
import { type ChunkSource, postgresChunkSource, sqliteChunkSource } from './audit-verify-source.ts';
import type { RemoteLog, WorkerInput, WorkerReport } from './audit-verify-worker.ts';
import type { Database } from './schema.ts';

/** `intact` with the number of entries checked, or not intact (then `checked` is 0). */
export interface AuditChainCheck {
  intact: boolean;
  checked: number;
}

export interface ParallelVerifyOptions {
  /** A source on the caller's connection, for this thread; `release` hands it back. */
  local(): Promise<{ source: ChunkSource; release(): void }>;
  /** The recorded head, or undefined while the log is empty. */
  head(): Promise<{ seq: number; hash: string } | undefined>;
  /** Where worker threads connect; without it this thread checks everything. */
  remote?: RemoteLog;
  /** Entries per range. */
  rangeSize: number;
  /** Threads in all, this one included. Default: the available parallelism, at most 4. */
  threads?: number;
  /** Entries per extra thread below which none is started (a worker takes ~0.1 s to start). Default 100,000. */
  minEntriesPerWorker?: number;
}

/** Rounds of "rows appeared past the head, and the head moved" before giving up. */
const MAX_ROUNDS = 10;

export async function verifyAuditParallel(opts: ParallelVerifyOptions): Promise<AuditChainCheck> {
  const head = await opts.head();
  if (!head) return { intact: false, checked: 0 };
  const { source, release } = await opts.local();
  try {
    let verified = { seq: 0, hash: GENESIS_HASH };
    let target = head;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const plan = { first: verified.seq + 1, last: target.seq, size: opts.rangeSize };
      const workers = round === 0 ? workerCount(opts, plan) : 0;
      if ((await checkRanges(source, plan, verified.hash, opts.remote, workers)) !== target.hash) {
        return { intact: false, checked: 0 };
      }
      verified = target;
      if ((await source.maxSeq()) <= verified.seq) return { intact: true, checked: verified.seq };
      const moved = await opts.head();
      if (!moved || moved.seq <= verified.seq) return { intact: false, checked: 0 };
      target = moved;
    }
    return { intact: false, checked: 0 };
  } finally {
    release();
  }
}

function workerCount(opts: ParallelVerifyOptions, plan: RangePlan): number {
  if (!opts.remote) return 0;
  const threads = opts.threads ?? Math.min(4, availableParallelism());
  const entries = plan.last - plan.first + 1;
  const affordable = Math.floor(entries / (opts.minEntriesPerWorker ?? 100_000));
  return Math.max(0, Math.min(threads - 1, affordable));
}

/**
 * Checks `plan` on this thread and `workers` worker threads; returns the hash of its last
 * entry when every range passed and they join up from `startHash`, else undefined.
 */
async function checkRanges(
  source: ChunkSource,
  plan: RangePlan,
  startHash: string,
  remote: RemoteLog | undefined,
  workers: number,
): Promise<string | undefined> {
  if (plan.last < plan.first) return startHash;
  const counter = sharedCounter();
  const started = remote ? startWorkers(remote, plan, counter, workers) : [];
  try {
    const mine = await runRanges(source, plan, counter);
    if (mine.failedAt !== undefined) return undefined;
    const ranges: RangeDone[] = [...mine.done];
    for (const report of await Promise.all(started.map((w) => w.report))) {
      if ('error' in report || report.outcome.failedAt !== undefined) return undefined;
      ranges.push(...report.outcome.done);
    }
    return stitchRanges(ranges, plan, startHash);
  } finally {
    for (const w of started) void w.worker.terminate();
  }
}

/** TypeScript runs in a worker only once tsx is registered there (Node 20 does not pass it on). */
const BOOT = `const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))});
register();
await import(${JSON.stringify(new URL('./audit-verify-worker.ts', import.meta.url).href)});`;
const BOOT_URL = new URL(`data:text/javascript,${encodeURIComponent(BOOT)}`);

function startWorkers(
  remote: RemoteLog,
  plan: RangePlan,
  counter: Int32Array,
  n: number,
): { worker: Worker; report: Promise<WorkerReport> }[] {
  return Array.from({ length: n }, () => {
    const workerData: WorkerInput = { remote, plan, counter };
    const worker = new Worker(BOOT_URL, { workerData, execArgv: [] });
    const report = new Promise<WorkerReport>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (err) => resolve({ error: err.message }));
      worker.once('exit', (code) => resolve({ error: `worker exited with code ${code}` }));
    });
    return { worker, report };
  });
}

/** Entries per range: big enough that per-query costs vanish, small enough to share out. */
const SQLITE_RANGE = 2_000;
const POSTGRES_RANGE = 5_000;

/** The verifier of a SQLite store: its own connection here, read-only ones in workers. */
export function sqliteAuditVerifier(
  db: Kysely<Database>,
  sqlite: BetterSqlite3.Database,
): () => Promise<AuditChainCheck> {
  let source: ChunkSource | undefined;
  // Through Kysely's connection lock, so no range is read inside another caller's transaction.
  const locked = <T>(fn: () => T) => db.connection().execute(async () => fn());
  return () =>
    verifyAuditParallel({
      local: async () => {
        source ??= sqliteChunkSource(sqlite, locked);
        return { source, release: () => undefined };
      },
      head: () => auditHead(db),
      remote: sqlite.memory ? undefined : { dialect: 'sqlite', file: sqlite.name },
      rangeSize: SQLITE_RANGE,
    });
}

/** The verifier of a PostgreSQL store: one pooled client here, a client of its own per worker. */
export function postgresAuditVerifier(
  db: Kysely<Database>,
  pool: pg.Pool,
): () => Promise<AuditChainCheck> {
  const url = pool.options.connectionString;
  return () =>
    verifyAuditParallel({
      local: async () => {
        const client = await pool.connect();
        return { source: postgresChunkSource(client), release: () => client.release() };
      },
      head: () => auditHead(db),
      remote: url ? { dialect: 'postgres', url } : undefined,
      rangeSize: POSTGRES_RANGE,
    });
}
