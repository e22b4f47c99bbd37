/**
 * Action requests: a row of indexed copies plus the whole request as JSON text. The JSON
 * is the truth; the columns exist to filter and sort.
 */
import type { Kysely } from 'kysely';
import type { RequestFilter } from '../../app/ports.ts';
import { DomainError } from '../../domain/errors.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import type { Database, RequestsTable } from './schema.ts';

type Db = Kysely<Database>;

/** Default and maximum page sizes for `listRequests`. */
export const REQUEST_PAGE = { default: 50, max: 500 } as const;
/** The most records one page of a `…Since` report read returns. */
export const SINCE_PAGE_MAX = 5000;

function toRow(r: ActionRequest): RequestsTable {
  return {
    id: r.id,
    state: r.state,
    requester: r.requester,
    service: r.service,
    environment: r.environment,
    command: r.command,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    version: r.version,
    doc: JSON.stringify(r),
  };
}

function fromRows(rows: readonly { doc: string }[]): ActionRequest[] {
  return rows.map((row) => JSON.parse(row.doc) as ActionRequest);
}

/** Clamps a requested page size to `[0, max]`, with `fallback` when absent. */
export function pageSize(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.max(0, Math.min(max, Math.floor(limit)));
}

/** Reads one request; with `lock` (PostgreSQL in a transaction) holds its row until commit. */
export async function getRequest(
  db: Db,
  id: string,
  lock: boolean,
): Promise<ActionRequest | undefined> {
  const row = await db
    .selectFrom('requests')
    .select('doc')
    .where('id', '=', id)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
  return row ? (JSON.parse(row.doc) as ActionRequest) : undefined;
}

export async function insertRequest(db: Db, r: ActionRequest): Promise<void> {
  await db.insertInto('requests').values(toRow(r)).execute();
}

/** Writes `r` over version `r.version - 1`; throws `CONFLICT` when that is not what is stored. */
export async function updateRequest(db: Db, r: ActionRequest): Promise<void> {
  const { id, ...rest } = toRow(r);
  const result = await db
    .updateTable('requests')
    .set(rest)
    .where('id', '=', id)
    .where('version', '=', r.version - 1)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    throw new DomainError('CONFLICT', undefined, { requestId: r.id, version: r.version });
  }
}

/**
 * Newest first (ids sort by time). An empty or absent `states` means any state. A limit
 * of 0 returns nothing.
 */
export async function listRequests(db: Db, f: RequestFilter): Promise<ActionRequest[]> {
  const limit = pageSize(f.limit, REQUEST_PAGE.default, REQUEST_PAGE.max);
  if (limit === 0) return [];
  const rows = await db
    .selectFrom('requests')
    .select('doc')
    .$if(!!f.states?.length, (q) => q.where('state', 'in', f.states ?? []))
    .$if(f.requester !== undefined, (q) => q.where('requester', '=', f.requester ?? ''))
    .$if(f.service !== undefined, (q) => q.where('service', '=', f.service ?? ''))
    .$if(f.environment !== undefined, (q) => q.where('environment', '=', f.environment ?? ''))
    .$if(f.before !== undefined, (q) => q.where('id', '<', f.before ?? ''))
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return fromRows(rows);
}

/** Pending requests with `expires_at <= now`, soonest-expired first. */
export async function listExpired(db: Db, now: number, limit: number): Promise<ActionRequest[]> {
  const n = Math.max(0, Math.floor(limit));
  if (n === 0) return [];
  const rows = await db
    .selectFrom('requests')
    .select('doc')
    .where('state', '=', 'pending')
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .orderBy('id')
    .limit(n)
    .execute();
  return fromRows(rows);
}

/** Requests created at or after `since` with an id after `afterId`, in id order. */
export async function requestsSince(
  db: Db,
  since: number,
  afterId: string | undefined,
  limit: number,
): Promise<ActionRequest[]> {
  const n = pageSize(limit, SINCE_PAGE_MAX, SINCE_PAGE_MAX);
  if (n === 0) return [];
  const rows = await db
    .selectFrom('requests')
    .select('doc')
    .where('created_at', '>=', since)
    .$if(afterId !== undefined, (q) => q.where('id', '>', afterId ?? ''))
    .orderBy('id')
    .limit(n)
    .execute();
  return fromRows(rows);
}
