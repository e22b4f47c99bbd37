/**
 * Runbook runs: a row of indexed copies plus the whole run as JSON text, like requests.
 */
import type { Kysely } from 'kysely';
import type { RunFilter } from '../../app/ports.ts';
import { DomainError } from '../../domain/errors.ts';
import type { RunbookRun } from '../../domain/runbook-model.ts';
import { pageSize, SINCE_PAGE_MAX } from './request-repo.ts';
import type { Database, RunbookRunsTable } from './schema.ts';

type Db = Kysely<Database>;

/** Default and maximum page sizes for `listRuns`. */
export const RUN_PAGE = { default: 50, max: 500 } as const;

function toRow(r: RunbookRun): RunbookRunsTable {
  return {
    id: r.id,
    incident: r.incident ?? null,
    state: r.state,
    runbook: r.runbook,
    created_at: r.createdAt,
    version: r.version,
    doc: JSON.stringify(r),
  };
}

function fromRows(rows: readonly { doc: string }[]): RunbookRun[] {
  return rows.map((row) => JSON.parse(row.doc) as RunbookRun);
}

/** Reads one run; with `lock` (PostgreSQL in a transaction) holds its row until commit. */
export async function getRun(db: Db, id: string, lock: boolean): Promise<RunbookRun | undefined> {
  const row = await db
    .selectFrom('runbook_runs')
    .select('doc')
    .where('id', '=', id)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
  return row ? (JSON.parse(row.doc) as RunbookRun) : undefined;
}

export async function insertRun(db: Db, r: RunbookRun): Promise<void> {
  await db.insertInto('runbook_runs').values(toRow(r)).execute();
}

/** Writes `r` over version `r.version - 1`; throws `CONFLICT` when that is not what is stored. */
export async function updateRun(db: Db, r: RunbookRun): Promise<void> {
  const { id, ...rest } = toRow(r);
  const result = await db
    .updateTable('runbook_runs')
    .set(rest)
    .where('id', '=', id)
    .where('version', '=', r.version - 1)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    throw new DomainError('CONFLICT', undefined, { runId: r.id, version: r.version });
  }
}

/** Newest first (ids sort by time). An empty or absent `states` means any state. */
export async function listRuns(db: Db, f: RunFilter): Promise<RunbookRun[]> {
  const limit = pageSize(f.limit, RUN_PAGE.default, RUN_PAGE.max);
  if (limit === 0) return [];
  const rows = await db
    .selectFrom('runbook_runs')
    .select('doc')
    .$if(f.incident !== undefined, (q) => q.where('incident', '=', f.incident ?? ''))
    .$if(!!f.states?.length, (q) => q.where('state', 'in', f.states ?? []))
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return fromRows(rows);
}

/** Runs created at or after `since` with an id after `afterId`, in id order. */
export async function runsSince(
  db: Db,
  since: number,
  afterId: string | undefined,
  limit: number,
): Promise<RunbookRun[]> {
  const n = pageSize(limit, SINCE_PAGE_MAX, SINCE_PAGE_MAX);
  if (n === 0) return [];
  const rows = await db
    .selectFrom('runbook_runs')
    .select('doc')
    .where('created_at', '>=', since)
    .$if(afterId !== undefined, (q) => q.where('id', '>', afterId ?? ''))
    .orderBy('id')
    .limit(n)
    .execute();
  return fromRows(rows);
}
