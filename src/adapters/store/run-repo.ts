/**
 * Runbook runs: a row of indexed copies plus the whole run as JSON text, like requests.
 */
import type { Kysely } from 'kysely';
import type { RunFilter } from '../../app/ports.ts';
import type { RunbookRun } from '../../domain/runbook-model.ts';
import { docsSince, fromDocs, pageSize, updateVersioned } from './doc-repo.ts';
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
export function updateRun(db: Db, r: RunbookRun): Promise<void> {
  return updateVersioned(db, 'runbook_runs', toRow(r), { runId: r.id });
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
  return fromDocs<RunbookRun>(rows);
}

/** Runs created at or after `since` with an id after `afterId`, in id order. */
export function runsSince(
  db: Db,
  since: number,
  afterId: string | undefined,
  limit: number,
): Promise<RunbookRun[]> {
  return docsSince<RunbookRun>(db, 'runbook_runs', since, afterId, limit);
}
