/**
 * Shared pieces of the benchmarks: the two stores (SQLite in a temp folder, PostgreSQL from
 * `testPostgres()`), statistics, result rows and the table printer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStore } from '../src/adapters/store/open-store.ts';
import { sha256hex } from '../src/adapters/system.ts';
import type { Store } from '../src/app/ports.ts';
import type { AuditDraft } from '../src/domain/audit-chain.ts';
import { freshDatabase, type TestPostgres, testPostgres } from '../test/support/postgres.ts';

export type StoreKind = 'sqlite' | 'postgres';

/** Where a benchmark runs: for SQLite a data folder, for PostgreSQL a server to make databases in. */
export interface BenchTarget {
  kind: StoreKind;
  /** A fresh, empty place for one store: a temp folder or a new database. */
  fresh(): Promise<Place>;
}

export interface Place {
  /** `COUNTERSIGN_DATA` for the server; the SQLite file lives here. */
  dataDir: string;
  /** Set for PostgreSQL. */
  databaseUrl?: string;
  open(poolSize?: number): Promise<Store>;
  cleanup(): Promise<void>;
}

export function sqliteTarget(): BenchTarget {
  return {
    kind: 'sqlite',
    async fresh() {
      const dataDir = mkdtempSync(join(tmpdir(), 'cs-bench-'));
      return {
        dataDir,
        open: () => openStore({ dataDir, sha256: sha256hex }),
        async cleanup() {
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}

/**
 * PostgreSQL through `testPostgres()`: `COUNTERSIGN_TEST_DATABASE_URL` if set, otherwise a
 * throwaway cluster (fsync off, synchronous_commit off). Each `fresh()` is a new database.
 * Returns undefined, after a notice, when no PostgreSQL is available.
 */
export async function postgresTarget(): Promise<
  { target: BenchTarget; close(): Promise<void>; durable: boolean } | undefined
> {
  let server: TestPostgres | undefined;
  try {
    server = await testPostgres();
  } catch (err) {
    console.log(`# skipping PostgreSQL: ${String(err).split('\n')[0]}`);
    return undefined;
  }
  if (!server) {
    console.log('# PostgreSQL is not available: its benchmarks are skipped');
    return undefined;
  }
  const admin = server;
  return {
    durable: process.env.COUNTERSIGN_TEST_DATABASE_URL !== undefined,
    close: () => admin.cleanup(),
    target: {
      kind: 'postgres',
      async fresh() {
        const db = await freshDatabase(admin.url);
        const dataDir = mkdtempSync(join(tmpdir(), 'cs-bench-'));
        return {
          dataDir,
          databaseUrl: db.url,
          open: (poolSize = 10) =>
            openStore({ databaseUrl: db.url, dataDir, sha256: sha256hex, poolSize }),
          async cleanup() {
            rmSync(dataDir, { recursive: true, force: true });
            await db.cleanup();
          },
        };
      },
    },
  };
}

/** Runs `fn` on SQLite and, when available, on PostgreSQL. */
export async function forEachTarget(
  fn: (target: BenchTarget) => Promise<void>,
  only?: StoreKind,
): Promise<void> {
  if (only !== 'postgres') await fn(sqliteTarget());
  if (only === 'sqlite') return;
  const pg = await postgresTarget();
  if (!pg) return;
  try {
    await fn(pg.target);
  } finally {
    await pg.close();
  }
}

/** A realistic entry: what `approval.given` writes for a prod request. */
export function sampleDraft(i: number, at = 1_795_000_000_000 + i): AuditDraft {
  return {
    actor: i % 2 ? 'bob' : 'alice',
    surface: 'api',
    action: 'approval.given',
    target: `REQ-01KB${String(i).padStart(22, '0')}`,
    paramsDigest: 'c0ffee'.repeat(10).concat('abcd'),
    result: 'ok',
    links: { ticket: 'CHG-1' },
    detail: {
      command: 'scale',
      service: 'checkout-api',
      environment: 'prod',
      state: 'approved',
      kind: 'approval',
    },
    at,
  };
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** One line of a result table. */
export interface Row {
  store: StoreKind;
  metric: string;
  /** The figure as printed, e.g. `512,300 entries/s`. */
  value: string;
  /** Range or detail, e.g. `runs 480k–530k`. */
  detail?: string;
  target?: string;
  /** undefined when the figure has no target. */
  pass?: boolean;
}

export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

export function ms(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`;
}

export function range(xs: readonly number[], f: (n: number) => string = int): string {
  if (xs.length < 2) return '';
  return `${xs.length} runs, ${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
}

/** Prints rows as an aligned table, one block per store. */
export function printTable(rows: readonly Row[]): void {
  const head = ['store', 'figure', 'median', 'target', 'verdict', 'detail'];
  const cells = rows.map((r) => [
    r.store,
    r.metric,
    r.value,
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS',
    r.detail ?? '',
  ]);
  const table = alignedTable(head, cells);
  console.log(table.head);
  let last: string | undefined;
  for (const [i, c] of cells.entries()) {
    if (last !== undefined && c[0] !== last) console.log('');
    last = c[0];
    console.log(table.rows[i]);
  }
}

/** Columns padded to their widest cell: the header line (with its rule) and one line per row. */
export function alignedTable(
  head: readonly string[],
  cells: readonly string[][],
): { head: string; rows: string[] } {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return {
    head: `${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}`,
    rows: cells.map(line),
  };
}

/** Resident and peak memory of a process, in MB, from /proc/<pid>/status. */
export function processMemory(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  return !!process.argv[1] && url === pathToFileURL(process.argv[1]).href;
}

/** `--sqlite` or `--postgres` on the command line picks one store. */
export function onlyStore(): StoreKind | undefined {
  if (process.argv.includes('--sqlite')) return 'sqlite';
  if (process.argv.includes('--postgres')) return 'postgres';
  return undefined;
}

/** A line on how busy the machine is, printed with the results (the VM is shared). */
export function machineNote(): string {
  const [one] = loadavg();
  return `${cpus().length} cores, load average ${one?.toFixed(2)}, Node ${process.version}`;
}

export const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** Starts measuring how busy the whole machine is; the result is a percentage of all cores. */
export function machineBusy(): () => number {
  const a = cpuTimes();
  return () => {
    const b = cpuTimes();
    return b.total > a.total ? (100 * (b.busy - a.busy)) / (b.total - a.total) : 0;
  };
}

/**
 * Waits (at most `maxMs`) until the machine is at most `pct` % busy over a second, so a run
 * does not start in the middle of someone else's burst. Returns the last reading.
 */
export async function waitForQuiet(pct = 25, maxMs = 10_000): Promise<number> {
  const until = Date.now() + maxMs;
  for (;;) {
    const busy = machineBusy();
    await sleep(1000);
    const now = busy();
    if (now <= pct || Date.now() >= until) return now;
  }
}
