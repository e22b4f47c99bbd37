/**
 * Action requests: a row of indexed copies plus the whole request as JSON text. The JSON
 * is the truth; the columns exist to filter and sort.
 */
import type { Kysely } from 'kysely';
import type { RequestFilter } from '../../app/ports.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import { docsSince, fromDocs, pageSize, updateVersioned } from './doc-repo.ts';
import type { Database, RequestsTable } from './schema.ts';

type Db = Kysely<Database>;

/** Default and maximum page sizes for `listRequests`. */
export const REQUEST_PAGE = { default: 50, max: 500 } as const;
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
export function updateRequest(db: Db, r: ActionRequest): Promise<void> {
  return updateVersioned(db, 'requests', toRow(r), { requestId: r.id });
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
  return fromDocs<ActionRequest>(rows);
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
  return fromDocs<ActionRequest>(rows);
}

/** Requests created at or after `since` with an id after `afterId`, in id order. */
/** Requests created at or after `since` with an id after `afterId`, in id order. */
export function requestsSince(
  db: Db,
  since: number,
  afterId: string | undefined,
  limit: number,
): Promise<ActionRequest[]> {
  return docsSince<ActionRequest>(db, 'requests', since, afterId, limit);
}
