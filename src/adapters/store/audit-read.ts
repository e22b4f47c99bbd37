/**
 * `readAudit`, the hot path of `audit verify` and export over millions of rows. It skips
 * Kysely's per-row object building: rows come back as arrays (better-sqlite3 `.raw()`,
 * pg `rowMode: 'array'`) and are mapped straight to entries. Pages are keyset by seq.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { AuditEntry } from '../../domain/audit-chain.ts';
import type { Links, Surface } from '../../domain/request-model.ts';
import { AUDIT_COLUMNS } from './audit-repo.ts';
import type { Database } from './schema.ts';

/** Entries with seq >= `fromSeq`, in seq order, at most `limit`. */
export type AuditPageReader = (fromSeq: number, limit: number) => Promise<AuditEntry[]>;

const READ_SQL = `select ${AUDIT_COLUMNS.join(', ')} from audit_log where seq >= $1 order by seq limit $2`;

/** One row in `AUDIT_COLUMNS` order. */
type RawRow = [
  number,
  number,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];

function fromRaw(r: RawRow): AuditEntry {
  return {
    seq: r[0],
    at: r[1],
    actor: r[2],
    surface: r[3] as Surface,
    action: r[4],
    target: r[5],
    paramsDigest: r[6],
    result: r[7],
    links: JSON.parse(r[8]) as Links,
    detail: JSON.parse(r[9]) as Record<string, unknown>,
    prevHash: r[10],
    hash: r[11],
  };
}

/** A non-positive or non-finite limit reads nothing. */
function rowLimit(limit: number): number {
  return Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : 0;
}

/**
 * Reads through the same single connection Kysely uses, holding Kysely's connection lock
 * while it does, so a read never sees another caller's uncommitted transaction.
 */
export function sqliteAuditReader(
  db: Kysely<Database>,
  sqlite: BetterSqlite3.Database,
): AuditPageReader {
  let stmt: BetterSqlite3.Statement<[number, number], RawRow> | undefined;
  return (fromSeq, limit) =>
    db.connection().execute(async () => {
      stmt ??= sqlite.prepare<[number, number], RawRow>(READ_SQL.replace(/\$\d/g, '?')).raw(true);
      const rows = stmt.all(fromSeq, rowLimit(limit));
      const out = new Array<AuditEntry>(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = fromRaw(rows[i] as RawRow);
      return out;
    });
}

/** Reads on any pooled connection; int8 columns arrive as numbers via the pool's parser. */
export function postgresAuditReader(pool: pg.Pool): AuditPageReader {
  return async (fromSeq, limit) => {
    const res = await pool.query<RawRow>({
      text: READ_SQL,
      values: [fromSeq, rowLimit(limit)],
      rowMode: 'array',
    });
    const out = new Array<AuditEntry>(res.rows.length);
    for (let i = 0; i < res.rows.length; i++) out[i] = fromRaw(res.rows[i] as RawRow);
    return out;
  };
}
