/**
 * The schema, as numbered forward-only migrations written once for both dialects. A
 * migration, once released, is never edited: add the next number instead. Column types
 * that must differ come from `dialect-columns.ts`.
 */
import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import { GENESIS_HASH } from '../../domain/audit-chain.ts';
import { addIdentityPrimaryKey, addSeqPrimaryKey } from './dialect-columns.ts';
import type { Dialect } from './schema.ts';

type Db = Kysely<unknown>;

async function createRequests(db: Db): Promise<void> {
  await db.schema
    .createTable('requests')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('requester', 'text', (c) => c.notNull())
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('command', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('doc', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('requests_state_expires')
    .on('requests')
    .columns(['state', 'expires_at'])
    .execute();
  await db.schema
    .createIndex('requests_requester')
    .on('requests')
    .columns(['requester', 'id'])
    .execute();
  await db.schema
    .createIndex('requests_service')
    .on('requests')
    .columns(['service', 'environment', 'id'])
    .execute();
}

async function createAudit(db: Db, dialect: Dialect): Promise<void> {
  await addSeqPrimaryKey(db.schema.createTable('audit_log'), dialect, 'seq')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('surface', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('params_digest', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('links', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  for (const column of ['target', 'actor', 'action'] as const) {
    await db.schema
      .createIndex(`audit_log_${column}`)
      .on('audit_log')
      .columns([column, 'seq'])
      .execute();
  }
  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (c) => c.primaryKey().notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  // The row always exists, so `SELECT … FOR UPDATE` on it serialises every append,
  // the first one included.
  await sql`insert into audit_head (id, seq, hash) values (1, 0, ${GENESIS_HASH})`.execute(db);
}

async function createOutbox(db: Db, dialect: Dialect): Promise<void> {
  await addIdentityPrimaryKey(db.schema.createTable('outbox'), dialect, 'id')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('available_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .execute();
  await db.schema
    .createIndex('outbox_available')
    .on('outbox')
    .columns(['available_at', 'id'])
    .execute();
}

async function createIdempotency(db: Db): Promise<void> {
  await db.schema
    .createTable('idempotency')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('body_hash', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('body', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_pk', ['scope', 'key'])
    .execute();
}

async function createReviewItems(db: Db): Promise<void> {
  await db.schema
    .createTable('review_items')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_at', 'bigint')
    .addColumn('note', 'text')
    .execute();
}

/**
 * Where each chat message a request owns lives, so a message is posted once and then
 * updated in place. A row is claimed (ts null) before posting and gets its ts after.
 */
async function createChatMessages(db: Db): Promise<void> {
  await db.schema
    .createTable('chat_messages')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('ts', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('chat_messages_pk', ['request_id', 'kind'])
    .execute();
}

/**
 * Ingestion: the event journal (every accepted event, deduplicated by key, stored before
 * the sender gets its 2xx), alerts per (route, fingerprint), alert groups and channel
 * digests (each one chat message, `dirty` until the message shows its latest version), and
 * silences.
 */
async function createIngest(db: Db, dialect: Dialect): Promise<void> {
  await addIdentityPrimaryKey(db.schema.createTable('events'), dialect, 'seq')
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('ingest', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('detail_type', 'text', (c) => c.notNull())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('envelope', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'bigint')
    .addColumn('outcome', 'text')
    .execute();
  await sql`create index events_unprocessed on events (seq) where processed_at is null`.execute(db);
  await db.schema.createIndex('events_source').on('events').columns(['source', 'seq']).execute();
  await db.schema
    .createTable('alerts')
    .addColumn('route', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addColumn('doc', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('alerts_pk', ['route', 'fingerprint'])
    .execute();
  await db.schema
    .createIndex('alerts_service')
    .on('alerts')
    .columns(['service', 'environment', 'state'])
    .execute();
  await db.schema
    .createIndex('alerts_group')
    .on('alerts')
    .columns(['group_id', 'last_seen'])
    .execute();
  await db.schema
    .createTable('alert_groups')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'bigint', (c) => c.notNull())
    .addColumn('shown_at', 'bigint')
    .addColumn('dirty', 'integer', (c) => c.notNull())
    .addColumn('doc', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('alert_groups_key')
    .on('alert_groups')
    .columns(['key', 'opened_at'])
    .execute();
  await db.schema
    .createIndex('alert_groups_shown')
    .on('alert_groups')
    .columns(['channel', 'shown_at'])
    .execute();
  await sql`create index alert_groups_dirty on alert_groups (opened_at) where dirty = 1`.execute(
    db,
  );
  await db.schema
    .createTable('alert_digests')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('since', 'bigint', (c) => c.notNull())
    .addColumn('dirty', 'integer', (c) => c.notNull())
    .addColumn('doc', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('alert_digests_channel')
    .on('alert_digests')
    .columns(['channel', 'since'])
    .execute();
  await db.schema
    .createTable('silences')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('expired_at', 'bigint')
    .addColumn('doc', 'text', (c) => c.notNull())
    .execute();
}

/**
 * Incidents (one per opening alert group: `group_id` is unique, null for declared ones),
 * their append-only timelines (seq per incident), runbook runs, and the deploy and config
 * changes incidents are shown beside.
 */
async function createIncidents(db: Db): Promise<void> {
  await db.schema
    .createTable('incidents')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('next_reminder_at', 'bigint')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('doc', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('incidents_status')
    .on('incidents')
    .columns(['status', 'id'])
    .execute();
  await db.schema
    .createIndex('incidents_service')
    .on('incidents')
    .columns(['service', 'environment', 'id'])
    .execute();
  await sql`create index incidents_reminder on incidents (next_reminder_at)
    where next_reminder_at is not null`.execute(db);
  await db.schema
    .createTable('incident_timeline')
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('ref', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_timeline_pk', ['incident_id', 'seq'])
    .execute();
}

async function createRunsAndChanges(db: Db): Promise<void> {
  await db.schema
    .createTable('runbook_runs')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('incident', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('runbook', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('doc', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('runbook_runs_incident')
    .on('runbook_runs')
    .columns(['incident', 'id'])
    .execute();
  await db.schema
    .createIndex('runbook_runs_state')
    .on('runbook_runs')
    .columns(['state', 'id'])
    .execute();
  await db.schema
    .createTable('changes')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('doc', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('changes_service')
    .on('changes')
    .columns(['service', 'environment', 'kind', 'at'])
    .execute();
}

async function createConsoleSessions(db: Db): Promise<void> {
  await db.schema
    .createTable('console_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey().notNull())
    .addColumn('person', 'text', (c) => c.notNull())
    .addColumn('csrf', 'text', (c) => c.notNull())
    .addColumn('via', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('console_sessions_expires')
    .on('console_sessions')
    .column('expires_at')
    .execute();
}

/** Every migration, by name; names sort in the order they run. */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Db) {
        await createRequests(db);
        await createAudit(db, dialect);
        await createOutbox(db, dialect);
        await createIdempotency(db);
        await createReviewItems(db);
      },
    },
    '0002_chat_messages': {
      async up(db: Db) {
        await createChatMessages(db);
      },
    },
    '0003_ingest': {
      async up(db: Db) {
        await createIngest(db, dialect);
      },
    },
    '0004_incidents': {
      async up(db: Db) {
        await createIncidents(db);
        await createRunsAndChanges(db);
      },
    },
    '0005_console_sessions': {
      async up(db: Db) {
        await createConsoleSessions(db);
      },
    },
  };
}

async function runMigrator(db: Db, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

/**
 * Brings the schema up to date; throws the first migration error. On PostgreSQL Kysely
 * takes an advisory lock and runs each migration in a transaction. On SQLite it does
 * neither, so the whole run goes inside one `begin immediate`: two processes opening a
 * fresh file take turns, and a crash mid-way leaves the schema as it was.
 */
export async function migrateToLatest(db: Db, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') return runMigrator(db, dialect);
  await db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      await runMigrator(conn, dialect);
      await sql`commit`.execute(conn);
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
