/**
 * A worker thread of the parallel `audit verify` (started by audit-verify-parallel.ts): it
 * opens a connection of its own (SQLite read-only, which WAL allows beside a writer;
 * PostgreSQL a new client), checks ranges from the shared counter, and posts its
 * `WorkerReport` once, then ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type RangeOutcome, type RangePlan, runRanges } from './audit-verify-ranges.ts';
import {
  type ChunkSource,
  openSqliteReader,
  postgresChunkSource,
  sqliteChunkSource,
} from './audit-verify-source.ts';

/** Where a worker opens its own connection. */
export type RemoteLog = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

export interface WorkerInput {
  remote: RemoteLog;
  plan: RangePlan;
  /** The `sharedCounter()` of the main thread. */
  counter: Int32Array;
}

/** The one message a worker posts. */
export type WorkerReport = { outcome: RangeOutcome } | { error: string };

async function open(remote: RemoteLog): Promise<{ source: ChunkSource; close(): Promise<void> }> {
  if (remote.dialect === 'sqlite') {
    const db = openSqliteReader(remote.file);
    return { source: sqliteChunkSource(db), close: async () => void db.close() };
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: remote.url });
  client.on('error', () => undefined); // a dead connection fails the next query instead
  await client.connect();
  return { source: postgresChunkSource(client), close: () => client.end() };
}

async function main(input: WorkerInput): Promise<WorkerReport> {
  try {
    const { source, close } = await open(input.remote);
    try {
      return { outcome: await runRanges(source, input.plan, input.counter) };
    } finally {
      await close();
    }
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

const port = parentPort;
if (port && workerData)
  void main(workerData as WorkerInput).then((report) => port.postMessage(report));
