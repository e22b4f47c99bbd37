/**
 * Kysely's SQLite driver prepares every statement anew (≈ 10 % of the main thread under
 * load: SQLite parses and plans the SQL each time). This hands it a view of the
 * better-sqlite3 database whose `prepare` keeps the most recently used statements by their
 * SQL text. Reusing a statement is safe here: SQLite has one connection, which Kysely's
 * driver lends to one query (or one transaction, or one stream) at a time, so a cached
 * statement is never run while it is still iterating; and SQLite re-plans a statement by
 * itself when the schema changes under it.
 */
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct statements kept. Multi-row inserts make one text per row count, hence the bound. */
export const STATEMENT_CACHE_SIZE = 256;

export function cachingStatements(
  db: { prepare(sql: string): SqliteStatement; close(): unknown },
  size = STATEMENT_CACHE_SIZE,
): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sql: string): SqliteStatement {
      const hit = cache.get(sql);
      if (hit) {
        // Move to the back: a Map iterates in insertion order, so the front is the oldest.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = db.prepare(sql);
      cache.set(sql, stmt);
      if (cache.size > size) cache.delete(cache.keys().next().value as string);
      return stmt;
    },
  };
}
