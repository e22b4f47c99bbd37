/**
 * The only column types that differ between the dialects, kept apart so the migrations
 * read the same for both. Everything else uses types both accept (`text`, `integer`,
 * `bigint`, which SQLite stores as a 64-bit integer).
 */
import type { ColumnDefinitionBuilder, CreateTableBuilder } from 'kysely';
import type { Dialect } from './schema.ts';

/**
 * A gap-free sequence number assigned by the store, not by the database. On SQLite it is
 * `integer primary key`, the rowid itself, so keyset reads walk the table in order.
 */
export function addSeqPrimaryKey<T extends string>(
  table: CreateTableBuilder<T, never>,
  dialect: Dialect,
  name: string,
): CreateTableBuilder<T, never> {
  const type = dialect === 'postgres' ? 'bigint' : 'integer';
  return table.addColumn(name, type, (c) => c.primaryKey().notNull());
}

/** An id the database assigns and never reuses, even after its row is deleted. */
export function addIdentityPrimaryKey<T extends string>(
  table: CreateTableBuilder<T, never>,
  dialect: Dialect,
  name: string,
): CreateTableBuilder<T, never> {
  if (dialect === 'postgres') {
    return table.addColumn(name, 'bigint', (c: ColumnDefinitionBuilder) =>
      c.primaryKey().generatedByDefaultAsIdentity(),
    );
  }
  return table.addColumn(name, 'integer', (c: ColumnDefinitionBuilder) =>
    c.primaryKey().autoIncrement(),
  );
}
