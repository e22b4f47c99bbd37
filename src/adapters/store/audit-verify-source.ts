/**
 * Reads seq ranges of the audit log for the parallel `audit verify`, one buffer per range
 * in the layout `checkChunk` (audit-verify-chunk.ts) walks. SQLite and PostgreSQL each
 * assemble the entries in SQL and aggregate a range into one value, so thousands of rows
 * cross into JavaScript as one BLOB (SQLite) or one binary COPY field (PostgreSQL).
 */
import type BetterSqlite3 from 'better-sqlite3';
import Sqlite from 'better-sqlite3';
import type pg from 'pg';
import type { AuditChunk } from './audit-verify-chunk.ts';
import { copyOneRow } from './audit-verify-copy.ts';

/** One connection's view of the log, for one verification. */
export interface ChunkSource {
  /**
   * Reads the entries with seq in `from..to` (inclusive) and resolves to what `visit`
   * returns for them. `visit` runs while the bytes are valid and must not keep them.
   */
  chunk<T>(from: number, to: number, visit: (chunk: AuditChunk) => T): Promise<T>;
}

const FIELDS = ['actor', 'surface', 'action', 'target', 'params_digest', 'result'];

/**
 * SQLite: the six text fields through `json_quote`, which escapes exactly as JSON.stringify
 * does (checked for every code point) and refuses a BLOB; everything joined by U+001F. The
 * second column counts rows whose hashes are not 64 bytes of text (a hash stored as a BLOB
 * reads as the same bytes here, but never equals a string in the entry-by-entry check).
 * A rowid range is read in rowid (= seq) order.
 */
const CHUNK_SQLITE = `select count(*), total(
    typeof(prev_hash) <> 'text' or typeof(hash) <> 'text'
      or octet_length(prev_hash) <> 64 or octet_length(hash) <> 64),
  cast(group_concat(concat_ws(char(31), seq, at, ${FIELDS.map((f) => `json_quote(${f})`).join(', ')},
    links, detail, prev_hash, hash), char(30)) as blob)
  from audit_log where seq between ? and ?`;

/**
 * PostgreSQL: the columns are typed, so the six text fields are simply put in quotes
 * (`to_json` on six fields costs more than the rest of the query); `checkChunk` doubts any
 * entry whose quoted fields hold a character JSON escapes. The rows are ordered in a
 * subquery (an index scan, no sort, once the table has statistics): without it a freshly
 * filled table is read in heap order, which concurrent inserts leave out of seq order. The
 * one row comes back as binary COPY, so the aggregate arrives as raw bytes: a result row
 * would be decoded into a JS string and encoded back.
 */
const US = `E'\\x1f'`;
const chunkPostgres = (from: number, to: number) => `copy (
  select count(*), count(*) filter (where odd), string_agg(e, chr(30)) from (
    select concat_ws(${US}, seq, at, '"' || concat_ws(E'"\\x1f"', ${FIELDS.join(', ')}) || '"',
        links, detail, prev_hash, hash) as e,
      octet_length(prev_hash) <> 64 or octet_length(hash) <> 64 as odd
    from audit_log where seq between ${seqLiteral(from)} and ${seqLiteral(to)} order by seq) s
) to stdout (format binary)`;

/** COPY takes no parameters: seqs go in as integer literals, checked to be integers. */
function seqLiteral(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not a seq: ${n}`);
  return String(n);
}

/**
 * A read-only connection of the verifier's own (WAL lets it read beside the writer). Pages
 * are read through a memory map, straight from the OS page cache instead of copied
 * (≈ 10 % of the range query); the one hazard, a file shrunk underneath by a VACUUM in
 * another process, would end the verifying process. busy_timeout (ms) covers a writer
 * checkpointing.
 */
export function openSqliteReader(file: string): BetterSqlite3.Database {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma(`mmap_size = ${2 ** 31}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Reads on `db`, a connection of its own or the store's (then `lock` serialises access). */
export function sqliteChunkSource(
  db: BetterSqlite3.Database,
  lock: <T>(fn: () => T) => Promise<T> = async (fn) => fn(),
): ChunkSource {
  const chunk = db.prepare<[number, number], [number, number, Buffer | null]>(CHUNK_SQLITE).raw();
  return {
    chunk: (from, to, visit) =>
      lock(() => {
        const [rows, odd, entries] = chunk.get(from, to)!;
        return visit({ from, to, rows, odd, quoting: 'json', entries: entries ?? EMPTY });
      }),
  };
}

/** Reads on one PostgreSQL client, a pooled one or its own. */
export function postgresChunkSource(client: pg.ClientBase): ChunkSource {
  return {
    chunk: (from, to, visit) =>
      copyOneRow(client, chunkPostgres(from, to), 3, ([rows, odd, entries]) =>
        visit({
          from,
          to,
          rows: Number(rows!.readBigInt64BE()),
          odd: Number(odd!.readBigInt64BE()),
          quoting: 'plain',
          entries: entries ?? EMPTY,
        }),
      ),
  };
}

const EMPTY = Buffer.alloc(0);
