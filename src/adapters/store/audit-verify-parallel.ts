/**
 * `Store.verifyAuditParallel`: the chain checked up to the recorded head over every core.
 * The seqs are cut into ranges that this thread and worker threads (each with its own
 * connection) take from a shared counter; each range is read as one buffer
 * (audit-verify-source.ts) and checked entry by entry (audit-verify-chunk.ts); then the
 * ranges are joined, checking the link across every edge, and the last hash is compared
 * with the head. Entries appended meanwhile are checked on this thread until the head stops
 * moving.
 *
 * It answers `intact` only when the entry-by-entry check of `verifyAudit` would pass (see
 * audit-verify-chunk.ts for what an entry must satisfy). Any doubt (a bad entry, ranges that
 * do not join up, rows past a head that did not move, an error) answers not intact, and the
 * caller runs that check, which names the first bad entry.
 */

import { hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { type AuditRecord, GENESIS_HASH, recordPreimage } from '../../domain/audit-chain.ts';
import { postgresAuditReader, sqliteAuditReader } from './audit-read.ts';
import { auditHead } from './audit-repo.ts';
import type { Suspect } from './audit-verify-chunk.ts';
import {
  type RangeDone,
  type RangePlan,
  runRanges,
  sharedCounter,
  stitchRanges,
} from './audit-verify-ranges.ts';
import {
  type ChunkSource,
  openSqliteReader,
  postgresChunkSource,
  sqliteChunkSource,
} from './audit-verify-source.ts';
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
  /** Entries from `fromSeq` in their stored form, as the entry-by-entry check reads them. */
  readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]>;
  /** Where worker threads connect; without it this thread checks everything. */
  remote?: RemoteLog;
  /** Entries per range. */
  rangeSize: number;
  /** Threads in all, this one included. Default: the available parallelism, at most 4. */
  threads?: number;
  /**
   * Entries per extra thread below which none is started (a worker takes ~0.2 s of CPU to
   * start). Default 100,000.
   */
  minEntriesPerWorker?: number;
}

/** Rounds of "rows appeared past the head, and the head moved" before giving up. */
const MAX_ROUNDS = 10;

const NOT_INTACT: AuditChainCheck = { intact: false, checked: 0 };

export async function verifyAuditParallel(opts: ParallelVerifyOptions): Promise<AuditChainCheck> {
  try {
    return await verifyUpToHead(opts);
  } catch {
    // A doubt like any other (a connection of its own that would not open, say): the
    // entry-by-entry check runs next, and reports a store that is really unavailable.
    return NOT_INTACT;
  }
}

async function verifyUpToHead(opts: ParallelVerifyOptions): Promise<AuditChainCheck> {
  const head = await opts.head();
  if (!head) return NOT_INTACT;
  const { source, release } = await opts.local();
  try {
    let verified = { seq: 0, hash: GENESIS_HASH };
    let target = head;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const plan = { first: verified.seq + 1, last: target.seq, size: opts.rangeSize };
      const workers = round === 0 ? workerCount(opts, plan) : 0;
      const last = await checkRanges(source, plan, verified.hash, opts, workers);
      if (last !== target.hash) return NOT_INTACT;
      verified = target;
      // Rows past the head: appended meanwhile if the head has moved, else not the store's.
      if ((await opts.readAudit(verified.seq + 1, 1)).length === 0) {
        return { intact: true, checked: verified.seq };
      }
      const moved = await opts.head();
      if (!moved || moved.seq <= verified.seq) return NOT_INTACT;
      target = moved;
    }
    return NOT_INTACT;
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
 * entry when every range passed, they join up from `startHash` and every suspect passes
 * from its fields; else undefined.
 */
async function checkRanges(
  source: ChunkSource,
  plan: RangePlan,
  startHash: string,
  opts: ParallelVerifyOptions,
  workers: number,
): Promise<string | undefined> {
  if (plan.last < plan.first) return startHash;
  const counter = sharedCounter();
  const started = opts.remote ? startWorkers(opts.remote, plan, counter, workers) : [];
  try {
    const mine = await runRanges(source, plan, counter);
    if (mine.failedAt !== undefined) return undefined;
    const ranges: RangeDone[] = [...mine.done];
    for (const report of await Promise.all(started.map((w) => w.report))) {
      // A worker that failed leaves a gap where its ranges were, unless it had taken none.
      if ('error' in report) continue;
      if (report.outcome.failedAt !== undefined) return undefined;
      ranges.push(...report.outcome.done);
    }
    const last = stitchRanges(ranges, plan, startHash);
    const suspects = ranges.flatMap((r) => r.suspects);
    return last !== undefined && (await suspectsPass(opts.readAudit, suspects)) ? last : undefined;
  } finally {
    for (const w of started) void w.worker.terminate();
  }
}

/**
 * Re-checks doubted entries the way the entry-by-entry check does: each read from its
 * fields, its stored hashes the same as in its range, and `recordPreimage` hashing to the
 * stored hash.
 */
async function suspectsPass(
  readAudit: ParallelVerifyOptions['readAudit'],
  suspects: readonly Suspect[],
): Promise<boolean> {
  for (const s of suspects) {
    const [r] = await readAudit(s.seq, 1);
    if (!r || r.seq !== s.seq || r.prevHash !== s.prevHash || r.hash !== s.hash) return false;
    const { hash: stored, ...rest } = r;
    if (hash('sha256', recordPreimage(rest)) !== stored) return false;
  }
  return true;
}

/**
 * TypeScript runs in a worker only once tsx is set up there (Node 20 passes neither
 * `--import` nor loader hooks on). tsx's CommonJS hook, registered for the whole thread so
 * its on-disk transform cache applies, starts in ~0.1 s; its ESM one runs on a thread of
 * its own and takes twice that. Undefined (no workers) where tsx cannot be found.
 */
function bootScript(): string | undefined {
  // The compiled server (dist/) has the worker built next to it, as CommonJS.
  const compiled = fileURLToPath(new URL('./audit-verify-worker.cjs', import.meta.url));
  if (existsSync(compiled)) return `require(${JSON.stringify(compiled)});`;
  try {
    const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
    const entry = fileURLToPath(new URL('./audit-verify-worker.ts', import.meta.url));
    return `require(${JSON.stringify(tsx)}).register();\nrequire(${JSON.stringify(entry)});`;
  } catch {
    return undefined;
  }
}

interface StartedWorker {
  worker: Worker;
  /** Its report; an error when it failed or exited without one. */
  report: Promise<WorkerReport>;
}

/** Workers post once, having closed their connection; they are terminated after that. */
function startWorkers(
  remote: RemoteLog,
  plan: RangePlan,
  counter: Int32Array,
  n: number,
): StartedWorker[] {
  const boot = bootScript();
  if (!boot) return [];
  return Array.from({ length: n }, () => {
    const workerData: WorkerInput = { remote, plan, counter };
    const worker = new Worker(boot, { eval: true, workerData, execArgv: [] });
    const report = new Promise<WorkerReport>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (err) => resolve({ error: err.message }));
      worker.once('exit', (code) => resolve({ error: `worker exited with code ${code}` }));
    });
    return { worker, report };
  });
}

/**
 * Entries per range (~1 MB assembled): big enough that per-query costs vanish, small enough
 * to share out. On PostgreSQL larger ranges cost the server more a row (2,000 against 3,000
 * and 5,000: ≈ 2.2 against ≈ 3 µs, much of the difference page faults of its growing buffer).
 */
const SQLITE_RANGE = 2_000;
const POSTGRES_RANGE = 2_000;

/**
 * The verifier of a SQLite store: read-only connections of its own on this thread and in
 * the workers; an in-memory database is read on the store's connection, on this thread.
 */
export function sqliteAuditVerifier(
  db: Kysely<Database>,
  sqlite: BetterSqlite3.Database,
): () => Promise<AuditChainCheck> {
  // Through Kysely's connection lock, so no range is read inside another caller's transaction.
  const locked = <T>(fn: () => T) => db.connection().execute(async () => fn());
  const reader = sqliteAuditReader(db, sqlite);
  return () =>
    verifyAuditParallel({
      local: async () => {
        if (sqlite.memory) return { source: sqliteChunkSource(sqlite, locked), release() {} };
        const own = openSqliteReader(sqlite.name);
        return { source: sqliteChunkSource(own), release: () => own.close() };
      },
      head: () => auditHead(db),
      readAudit: (fromSeq, limit) => reader.records(fromSeq, limit),
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
  const reader = postgresAuditReader(pool);
  return () =>
    verifyAuditParallel({
      local: async () => {
        const client = await pool.connect();
        return { source: postgresChunkSource(client), release: () => client.release() };
      },
      head: () => auditHead(db),
      readAudit: (fromSeq, limit) => reader.records(fromSeq, limit),
      remote: url ? { dialect: 'postgres', url } : undefined,
      rangeSize: POSTGRES_RANGE,
    });
}
