/** Review items: things a person must look at after the fact, such as a break-glass run. */
import type { Kysely } from 'kysely';
import type { ReviewItem } from '../../app/ports.ts';
import type { Database, ReviewItemsTable } from './schema.ts';

type Db = Kysely<Database>;

function fromRow(row: ReviewItemsTable): ReviewItem {
  const item: ReviewItem = {
    id: row.id,
    requestId: row.request_id,
    kind: row.kind as ReviewItem['kind'],
    createdAt: row.created_at,
  };
  if (row.resolved_by !== null) item.resolvedBy = row.resolved_by;
  if (row.resolved_at !== null) item.resolvedAt = row.resolved_at;
  if (row.note !== null) item.note = row.note;
  return item;
}

export async function insertReviewItem(db: Db, item: ReviewItem): Promise<void> {
  await db
    .insertInto('review_items')
    .values({
      id: item.id,
      request_id: item.requestId,
      kind: item.kind,
      created_at: item.createdAt,
      resolved_by: item.resolvedBy ?? null,
      resolved_at: item.resolvedAt ?? null,
      note: item.note ?? null,
    })
    .execute();
}

/** Resolves an open item; false when it does not exist or was already resolved. */
export async function resolveReviewItem(
  db: Db,
  id: string,
  by: string,
  at: number,
  note: string,
): Promise<boolean> {
  const result = await db
    .updateTable('review_items')
    .set({ resolved_by: by, resolved_at: at, note })
    .where('id', '=', id)
    .where('resolved_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Oldest first; with `openOnly`, only the unresolved ones. */
export async function listReviewItems(db: Db, openOnly: boolean): Promise<ReviewItem[]> {
  const rows = await db
    .selectFrom('review_items')
    .selectAll()
    .$if(openOnly, (q) => q.where('resolved_at', 'is', null))
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(fromRow);
}
