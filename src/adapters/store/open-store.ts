/**
 * Opens the store the settings ask for and brings its schema up to date: PostgreSQL for a
 * `postgres://` or `postgresql://` URL, otherwise SQLite at `<dataDir>/countersign.db`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Clock, Sha256, Store } from '../../app/ports.ts';
import { postgresAuditReader, sqliteAuditReader } from './audit-read.ts';
import { postgresAuditVerifier, sqliteAuditVerifier } from './audit-verify-parallel.ts';
import { KyselyStore } from './kysely-store.ts';
import { migrateToLatest } from './migrations.ts';
import type { Database } from './schema.ts';
import { cachingStatements } from './statement-cache.ts';
import { rethrowStoreError } from './store-errors.ts';

export interface OpenStoreOptions {
  /** A `postgres://` or `postgresql://` URL selects PostgreSQL; anything else is ignored. */
  databaseUrl?: string;
  /** Folder for `countersign.db` (created if missing), or `:memory:` for a throwaway store. */
  dataDir: string;
  sha256: Sha256;
  /** Stamps `createdAt` on outbox rows. Default: the system clock. */
  clock?: Clock;
  /** PostgreSQL pool size. Default 10. */
  poolSize?: number;
}

/** The SQLite file name inside `dataDir`. */
export const SQLITE_FILE = 'countersign.db';

const systemClock: Clock = { now: () => Date.now() };

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/** Opens, migrates and returns the store; connection failures throw `STORE_UNAVAILABLE`. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const clock = opts.clock ?? systemClock;
  try {
    return isPostgresUrl(opts.databaseUrl)
      ? await openPostgres(opts.databaseUrl, opts.sha256, clock, opts.poolSize ?? 10)
      : await openSqlite(opts.dataDir, opts.sha256, clock);
  } catch (err) {
    rethrowStoreError(err);
  }
}

async function migrated(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  try {
    await migrateToLatest(db as Kysely<unknown>, dialect);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw err;
  }
}

/**
 * WAL lets readers in other processes (the CLI) run beside the server. synchronous=FULL
 * makes a commit durable before it returns, so an accepted request survives kill -9 and
 * power loss alike. busy_timeout is in milliseconds.
 */
function openSqliteFile(dataDir: string): Sqlite.Database {
  const inMemory = dataDir === ':memory:';
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const file = new Sqlite(inMemory ? ':memory:' : join(dataDir, SQLITE_FILE));
  try {
    file.pragma('busy_timeout = 5000');
    if (!inMemory) file.pragma('journal_mode = WAL');
    file.pragma('synchronous = FULL');
    file.pragma('foreign_keys = ON');
  } catch (err) {
    file.close();
    throw err;
  }
  return file;
}

async function openSqlite(dataDir: string, sha256: Sha256, clock: Clock): Promise<Store> {
  const file = openSqliteFile(dataDir);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: cachingStatements(file) }),
  });
  await migrated(db, 'sqlite');
  return new KyselyStore({
    db,
    dialect: 'sqlite',
    sha256,
    clock,
    readAudit: sqliteAuditReader(db, file),
    verifyAudit: sqliteAuditVerifier(db, file),
  });
}

/** int8 (bigint) columns hold milliseconds and sequence numbers: well inside 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

async function openPostgres(
  url: string,
  sha256: Sha256,
  clock: Clock,
  poolSize: number,
): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types });
  // A client whose server goes away (restart, failover, pg_terminate_backend) emits
  // 'error', on the pool while idle and on the client while checked out; unheard, either
  // would crash the process. The failure reaches the caller through its next query, and
  // the pool drops the broken client when it is released.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrated(db, 'postgres');
  return new KyselyStore({
    db,
    dialect: 'postgres',
    sha256,
    clock,
    readAudit: postgresAuditReader(pool),
    verifyAudit: postgresAuditVerifier(db, pool),
  });
}
