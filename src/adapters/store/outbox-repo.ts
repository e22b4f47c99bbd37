/**
 * The outbox: effects written with the state change, carried out afterwards by workers
 * holding a lease. A claim is one statement: on PostgreSQL the candidate rows are picked
 * `FOR UPDATE SKIP LOCKED`, so two workers never lease the same row; on SQLite the single
 * UPDATE … RETURNING runs under the database write lock and is atomic by itself.
 */
import { type Kysely, sql } from 'kysely';
import type { OutboxDraft, OutboxEffect } from '../../app/ports.ts';
import type { Database, Dialect, OutboxTable } from './schema.ts';

type Db = Kysely<Database>;
type OutboxRow = Omit<OutboxTable, 'id'> & { id: number };

function fromRow(row: OutboxRow): OutboxEffect {
  const effect: OutboxEffect = {
    id: row.id,
    kind: row.kind as OutboxEffect['kind'],
    key: row.key,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    availableAt: row.available_at,
    attempts: row.attempts,
    createdAt: row.created_at,
  };
  if (row.last_error !== null) effect.lastError = row.last_error;
  return effect;
}

/** Inserts the drafts, skipping any whose key is already there. `now` becomes `createdAt`. */
export async function enqueue(db: Db, drafts: readonly OutboxDraft[], now: number): Promise<void> {
  if (drafts.length === 0) return;
  const rows = drafts.map((d) => ({
    kind: d.kind,
    key: d.key,
    payload: JSON.stringify(d.payload),
    available_at: d.availableAt,
    lease_until: null,
    attempts: 0,
    created_at: now,
    last_error: null,
  }));
  await db
    .insertInto('outbox')
    .values(rows)
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
}

/**
 * Leases up to `limit` free, available effects until `now + leaseMs`; oldest first.
 *
 * A lease need not survive the machine: lost, the effect is merely claimable again, which
 * is what a lease running out means anyway. So on SQLite the claim commits without waiting
 * for the disk (`synchronous = NORMAL` for this statement), which takes one fsync off the
 * path of every effect — an alarm's incident header and first mitigation among them.
 */
export async function claimOutbox(
  db: Db,
  dialect: Dialect,
  now: number,
  limit: number,
  leaseMs: number,
  kinds?: readonly string[],
): Promise<OutboxEffect[]> {
  const n = Math.max(0, Math.floor(limit));
  if (n === 0 || kinds?.length === 0) return [];
  if (dialect === 'sqlite') {
    return db.connection().execute(async (conn) => {
      await sql`pragma synchronous = NORMAL`.execute(conn);
      try {
        return await lease(conn, dialect, now, n, leaseMs, kinds);
      } finally {
        await sql`pragma synchronous = FULL`.execute(conn);
      }
    });
  }
  return lease(db, dialect, now, n, leaseMs, kinds);
}

async function lease(
  db: Db,
  dialect: Dialect,
  now: number,
  n: number,
  leaseMs: number,
  kinds?: readonly string[],
): Promise<OutboxEffect[]> {
  const rows = await db
    .with('picked', (w) =>
      w
        .selectFrom('outbox')
        .select('id')
        .where('available_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
        .$if(kinds !== undefined, (q) => q.where('kind', 'in', [...(kinds ?? [])]))
        .orderBy('available_at')
        .orderBy('id')
        .limit(n)
        .$if(dialect === 'postgres', (q) => q.forUpdate().skipLocked()),
    )
    .updateTable('outbox')
    .set((eb) => ({ lease_until: now + leaseMs, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', (eb) => eb.selectFrom('picked').select('id'))
    .returningAll()
    .execute();
  return rows.map(fromRow).sort((a, b) => a.availableAt - b.availableAt || a.id - b.id);
}

/** Sets the lease end to `until`, milliseconds since epoch. */
export async function renewLease(db: Db, id: number, until: number): Promise<void> {
  await db.updateTable('outbox').set({ lease_until: until }).where('id', '=', id).execute();
}

/** Ends the lease and makes the effect claimable again at `availableAt`. */
export async function releaseOutbox(
  db: Db,
  id: number,
  availableAt: number,
  error: string,
): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ lease_until: null, available_at: availableAt, last_error: error })
    .where('id', '=', id)
    .execute();
}

export async function releaseAllLeases(db: Db): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ lease_until: null })
    .where('lease_until', 'is not', null)
    .execute();
}

export async function deleteOutbox(db: Db, id: number): Promise<void> {
  await db.deleteFrom('outbox').where('id', '=', id).execute();
}

export async function countOutbox(db: Db): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
