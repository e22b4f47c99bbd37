/**
 * Console sessions over Kysely, for SQLite and PostgreSQL. A row is keyed by the SHA-256 of
 * the cookie value, so a copy of the table signs nobody in. Starting and ending a session
 * write its audit entry in the same transaction. `expires_at` is the earlier of the absolute
 * end (`created_at` + the session's lifetime) and the idle end, which `touch` slides on use.
 */
import { type Kysely, sql } from 'kysely';
import type { ConsoleSession, SessionStore, Sha256 } from '../../app/ports.ts';
import type { AuditDraft } from '../../domain/audit-chain.ts';
import { appendAudit } from './audit-repo.ts';
import type { ConsoleSessionsTable, Database, Dialect } from './schema.ts';
import { guardStore } from './store-errors.ts';

type Db = Kysely<Database>;

const BEGIN: Record<Dialect, string> = { sqlite: 'begin immediate', postgres: 'begin' };

function fromRow(row: ConsoleSessionsTable): ConsoleSession {
  return {
    idHash: row.id_hash,
    person: row.person,
    csrf: row.csrf,
    via: row.via === 'oidc' ? 'oidc' : 'demo',
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

export class KyselySessionStore implements SessionStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly sha256: Sha256,
    /** Throws when the store is closed or called inside one of its own transactions. */
    private readonly usable: () => void,
  ) {}

  start(session: ConsoleSession, audit: AuditDraft): Promise<void> {
    return this.transaction(async (db) => {
      await db
        .deleteFrom('console_sessions')
        .where('expires_at', '<=', session.createdAt)
        .execute();
      await db
        .insertInto('console_sessions')
        .values({
          id_hash: session.idHash,
          person: session.person,
          csrf: session.csrf,
          via: session.via,
          created_at: session.createdAt,
          expires_at: session.expiresAt,
        })
        .execute();
      await appendAudit(db, this.dialect, this.sha256, [audit]);
    });
  }

  async find(idHash: string, now: number): Promise<ConsoleSession | undefined> {
    this.usable();
    const row = await guardStore(() =>
      this.db
        .selectFrom('console_sessions')
        .selectAll()
        .where('id_hash', '=', idHash)
        .where('expires_at', '>', now)
        .executeTakeFirst(),
    );
    return row ? fromRow(row) : undefined;
  }

  async touch(idHash: string, expiresAt: number, now: number): Promise<void> {
    this.usable();
    await guardStore(() =>
      this.db
        .updateTable('console_sessions')
        .set({ expires_at: expiresAt })
        .where('id_hash', '=', idHash)
        .where('expires_at', '>', now)
        .execute(),
    );
  }

  end(
    idHash: string,
    audit: (s: ConsoleSession) => AuditDraft,
  ): Promise<ConsoleSession | undefined> {
    return this.transaction(async (db) => {
      const row = await db
        .deleteFrom('console_sessions')
        .where('id_hash', '=', idHash)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      const session = fromRow(row);
      await appendAudit(db, this.dialect, this.sha256, [audit(session)]);
      return session;
    });
  }

  private transaction<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    this.usable();
    return guardStore(() =>
      this.db.connection().execute(async (conn) => {
        await sql.raw(BEGIN[this.dialect]).execute(conn);
        try {
          const result = await fn(conn);
          await sql.raw('commit').execute(conn);
          return result;
        } catch (err) {
          await sql
            .raw('rollback')
            .execute(conn)
            .catch(() => undefined);
          throw err;
        }
      }),
    );
  }
}
