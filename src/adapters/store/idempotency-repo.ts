/**
 * Idempotency-Key records for mutating API calls. The first `begin` for a (scope, key)
 * inserts an in-progress row; the insert is `ON CONFLICT DO NOTHING`, so of several
 * concurrent begins exactly one sees its row inserted and gets `new`.
 */
import type { Kysely } from 'kysely';
import type { IdempotencyBegin } from '../../app/ports.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

/** A row can vanish between the insert and the read (abandoned meanwhile); try again. */
const BEGIN_ATTEMPTS = 3;

export async function beginIdempotent(
  db: Db,
  scope: string,
  key: string,
  bodyHash: string,
  now: number,
): Promise<IdempotencyBegin> {
  for (let attempt = 0; attempt < BEGIN_ATTEMPTS; attempt++) {
    const inserted = await db
      .insertInto('idempotency')
      .values({
        scope,
        key,
        body_hash: bodyHash,
        state: 'in-progress',
        status: null,
        body: null,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    if (inserted) return { state: 'new' };
    const row = await db
      .selectFrom('idempotency')
      .select(['body_hash', 'state', 'status', 'body'])
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) continue;
    if (row.body_hash !== bodyHash) return { state: 'mismatch' };
    if (row.state === 'in-progress') return { state: 'in-progress' };
    return { state: 'done', status: row.status ?? 0, body: row.body ?? '' };
  }
  return { state: 'in-progress' };
}

/** Stores the response to replay for later uses of the key. */
export async function finishIdempotent(
  db: Db,
  scope: string,
  key: string,
  status: number,
  body: string,
): Promise<void> {
  await db
    .updateTable('idempotency')
    .set({ state: 'done', status, body })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .execute();
}

/** Deletes the key only while it is still in progress; a finished key stays. */
export async function abandonIdempotent(db: Db, scope: string, key: string): Promise<void> {
  await db
    .deleteFrom('idempotency')
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('state', '=', 'in-progress')
    .execute();
}
