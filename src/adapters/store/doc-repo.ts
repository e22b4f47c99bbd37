/**
 * What requests, incidents and runbook runs share in the store: a row of indexed copies
 * plus the whole record as JSON `doc` (the truth), a `version` for optimistic concurrency,
 * and time-sortable ids. The repos keep what differs (their columns and filters).
 */
import type { Kysely } from 'kysely';
import { DomainError } from '../../domain/errors.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

/** The tables holding versioned JSON records. */
export type DocTable = 'requests' | 'incidents' | 'runbook_runs';

/** Most rows one `*Since` call returns. */
export const SINCE_PAGE_MAX = 5000;

/** Clamps a requested page size to `[0, max]`, with `fallback` when absent. */
export function pageSize(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.max(0, Math.min(max, Math.floor(limit)));
}

export function fromDocs<T>(rows: readonly { doc: string }[]): T[] {
  return rows.map((row) => JSON.parse(row.doc) as T);
}

/**
 * Writes `row` over version `row.version - 1`; throws `CONFLICT` (with `details`) when
 * that is not what is stored.
 */
export async function updateVersioned(
  db: Db,
  table: DocTable,
  row: { id: string; version: number },
  details: Record<string, unknown>,
): Promise<void> {
  const { id, ...rest } = row;
  const result = await db
    .updateTable(table)
    .set(rest as never)
    .where('id', '=', id)
    .where('version', '=', row.version - 1)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    throw new DomainError('CONFLICT', undefined, { ...details, version: row.version });
  }
}

/** Records created at or after `since` with an id after `afterId`, in id order (for reports). */
export async function docsSince<T>(
  db: Db,
  table: DocTable,
  since: number,
  afterId: string | undefined,
  limit: number,
): Promise<T[]> {
  const n = pageSize(limit, SINCE_PAGE_MAX, SINCE_PAGE_MAX);
  if (n === 0) return [];
  const rows = await db
    .selectFrom(table)
    .select('doc')
    .where('created_at', '>=', since)
    .$if(afterId !== undefined, (q) => q.where('id', '>', afterId ?? ''))
    .orderBy('id')
    .limit(n)
    .execute();
  return fromDocs<T>(rows);
}
