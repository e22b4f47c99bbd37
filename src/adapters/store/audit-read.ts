/**
 * `readAudit`, the hot path of `audit verify` and export over millions of rows. It skips
 * Kysely's per-row object building: rows come back as arrays (better-sqlite3 `.raw()`,
 * pg `rowMode: 'array'`) and are mapped straight to entries. Pages are keyset by seq.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { AuditRecord, SealedAuditRow } from '../../domain/audit-chain.ts';
import type { Surface } from '../../domain/request-model.ts';
import { AUDIT_COLUMNS } from './audit-repo.ts';
import type { Database } from './schema.ts';

/** Entries with seq >= `fromSeq`, in seq order, at most `limit`. */
export interface AuditPageReader {
  records(fromSeq: number, limit: number): Promise<AuditRecord[]>;
  sealed(fromSeq: number, limit: number): Promise<SealedAuditRow[]>;
}

/**
 * The preimage of `recordPreimage` (src/domain/audit-chain.ts) assembled in SQL: the text
 * fields JSON-quoted, `links`/`detail` as stored, joined by U+001F. Where a dialect quotes
 * a string differently from JSON.stringify, the verifier falls back to the fields.
 */
function sealedSql(quote: (col: string) => string, sep: string, text: (col: string) => string) {
  const parts = [
    text('seq'),
    text('at'),
    ...['actor', 'surface', 'action', 'target', 'params_digest', 'result'].map(quote),
    'links',
    'detail',
    'prev_hash',
  ];
  return `select seq, ${parts.join(` || ${sep} || `)}, prev_hash, hash from audit_log where seq >= $1 order by seq limit $2`;
}

const SEALED_SQLITE = sealedSql(
  (c) => `json_quote(${c})`,
  'char(31)',
  (c) => c,
).replace(/\$\d/g, '?');
const SEALED_PG = sealedSql(
  (c) => `to_json(${c})::text`,
  'chr(31)',
  (c) => `${c}::text`,
);

type SealedRaw = [number, string, string, string];
const fromSealed = (r: SealedRaw): SealedAuditRow => ({
  seq: Number(r[0]),
  preimage: r[1],
  prevHash: r[2],
  hash: r[3],
});

const READ_SQL = `select ${AUDIT_COLUMNS.join(', ')} from audit_log where seq >= $1 order by seq limit $2`;

/** One row in `AUDIT_COLUMNS` order. */
export type RawRow = [
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

/** `links` and `detail` stay the stored canonical text: verification hashes those bytes. */
function fromRaw(r: RawRow): AuditRecord {
  return {
    seq: r[0],
    at: r[1],
    actor: r[2],
    surface: r[3] as Surface,
    action: r[4],
    target: r[5],
    paramsDigest: r[6],
    result: r[7],
    linksJson: r[8],
    detailJson: r[9],
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
  let sealed: BetterSqlite3.Statement<[number, number], SealedRaw> | undefined;
  return {
    records: (fromSeq, limit) =>
      db.connection().execute(async () => {
        stmt ??= sqlite.prepare<[number, number], RawRow>(READ_SQL.replace(/\$\d/g, '?')).raw(true);
        return stmt.all(fromSeq, rowLimit(limit)).map(fromRaw);
      }),
    sealed: (fromSeq, limit) =>
      db.connection().execute(async () => {
        sealed ??= sqlite.prepare<[number, number], SealedRaw>(SEALED_SQLITE).raw(true);
        return sealed.all(fromSeq, rowLimit(limit)).map(fromSealed);
      }),
  };
}

/** Reads on any pooled connection; int8 columns arrive as numbers via the pool's parser. */
export function postgresAuditReader(pool: pg.Pool): AuditPageReader {
  return {
    async records(fromSeq, limit) {
      const res = await pool.query<RawRow>({
        text: READ_SQL,
        values: [fromSeq, rowLimit(limit)],
        rowMode: 'array',
      });
      return res.rows.map(fromRaw);
    },
    async sealed(fromSeq, limit) {
      const res = await pool.query<SealedRaw>({
        text: SEALED_PG,
        values: [fromSeq, rowLimit(limit)],
        rowMode: 'array',
      });
      return res.rows.map(fromSealed);
    },
  };
}
