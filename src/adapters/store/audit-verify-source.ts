/**
 * Reads seq ranges of the audit log for the parallel `audit verify`, one buffer per range
 * (the layout `checkChunk` in audit-verify-chunk.ts walks), and single rows from their
 * fields for the entries it doubts. SQLite and PostgreSQL each assemble the entries in SQL
 * and aggregate a range into one value, so a range of thousands of rows crosses into
 * JavaScript as one string or BLOB.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import type { AuditRecord } from '../../domain/audit-chain.ts';
import { fromRaw, type RawRow, READ_SQL } from './audit-read.ts';
import type { AuditChunk } from './audit-verify-chunk.ts';

/** One connection's view of the log, for one verification. */
export interface ChunkSource {
  /** The entries with seq in `from..to`, inclusive. */
  chunk(from: number, to: number): Promise<AuditChunk>;
  /** The given entries in their stored form, in seq order (missing ones left out). */
  records(seqs: readonly number[]): Promise<AuditRecord[]>;
  /** The largest seq in the log, or 0 when it is empty. */
  maxSeq(): Promise<number>;
}

const FIELDS = ['actor', 'surface', 'action', 'target', 'params_digest', 'result'];

/**
 * SQLite: the six text fields through `json_quote` (a value stored as a number or NULL comes
 * out unquoted, so `checkChunk` doubts it), everything joined by U+001F. `odd` counts rows
 * whose other fields are not the text the store writes, or whose hashes are not 64 bytes: for
 * those the bytes here might not be what the entry-by-entry check reads.
 */
const CHUNK_SQLITE = `select count(*), total(
    typeof(prev_hash) <> 'text' or typeof(hash) <> 'text'
      or octet_length(prev_hash) <> 64 or octet_length(hash) <> 64),
  cast(group_concat(concat_ws(char(31), seq, at, ${FIELDS.map((f) => `json_quote(${f})`).join(', ')},
    links, detail, prev_hash, hash), char(30)) as blob)
  from audit_log where seq between ? and ?`;

/**
 * PostgreSQL: the columns are typed, so the six text fields are simply put in quotes
 * (`to_json` costs ~2 µs a row); `checkChunk` treats any entry whose quoted fields hold a
 * character JSON would escape as a suspect.
 */
const US = `E'\\x1f'`;
const QUOTED = FIELDS.map((f) => `E'\\x1f"', ${f}, '"'`).join(', ');
const CHUNK_POSTGRES = `select count(*), count(*) filter (where odd), string_agg(e, chr(30)) from (
  select concat(seq, ${US}, at, ${QUOTED}, ${US}, links, ${US}, detail, ${US}, prev_hash, ${US}, hash) as e,
    octet_length(prev_hash) <> 64 or octet_length(hash) <> 64 as odd
  from audit_log where seq between $1 and $2 order by seq) s`;

/** Reads on `db`, a connection of its own or the store's (then `lock` serialises access). */
export function sqliteChunkSource(
  db: BetterSqlite3.Database,
  lock: <T>(fn: () => T) => Promise<T> = async (fn) => fn(),
): ChunkSource {
  const chunk = db.prepare<[number, number], [number, number, Buffer | null]>(CHUNK_SQLITE).raw();
  const one = db
    .prepare<[number, number], RawRow>(
      READ_SQL.replace('seq >= $1', 'seq = $1').replace(/\$\d/g, '?'),
    )
    .raw();
  const max = db.prepare<[], number | null>('select max(seq) from audit_log').pluck();
  return {
    chunk: (from, to) =>
      lock(() => {
        const [rows, odd, entries] = chunk.get(from, to)!;
        return { from, to, rows, odd, entries: entries ?? Buffer.alloc(0) };
      }),
    records: (seqs) => lock(() => seqs.flatMap((seq) => one.all(seq, 1).map(fromRaw))),
    maxSeq: () => lock(() => max.get() ?? 0),
  };
}

/** Reads on one PostgreSQL client; int8 must arrive as numbers (see `int8AsNumber`). */
export function postgresChunkSource(client: pg.ClientBase): ChunkSource {
  return {
    async chunk(from, to) {
      const res = await client.query<[number, number, string | null]>({
        text: CHUNK_POSTGRES,
        values: [from, to],
        rowMode: 'array',
      });
      const [rows, odd, entries] = res.rows[0]!;
      return { from, to, rows, odd, entries: Buffer.from(entries ?? '') };
    },
    async records(seqs) {
      const res = await client.query<RawRow>({
        text: READ_SQL.replace('seq >= $1', 'seq = any($1::int8[])'),
        values: [seqs, seqs.length],
        rowMode: 'array',
      });
      return res.rows.map(fromRaw);
    },
    async maxSeq() {
      const res = await client.query<[number | null]>({
        text: 'select max(seq) from audit_log',
        rowMode: 'array',
      });
      return res.rows[0]?.[0] ?? 0;
    },
  };
}

/** pg type parsers with int8 (counts, seq, milliseconds; all below 2^53) as JS numbers. */
export function int8AsNumber(types: typeof pg.types): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === types.builtins.INT8 && format !== 'binary'
        ? (v: string) => Number(v)
        : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
  };
}
