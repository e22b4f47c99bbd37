/**
 * The `IngestStore` port over Kysely, for SQLite and PostgreSQL: the event journal, alert
 * state, groups, digests and silences. Documents are JSON text beside the columns that
 * queries need; the columns are copies, written together with the document. The
 * transaction itself is `KyselyIngestTx` in `ingest-tx.ts`.
 */
import { type Kysely, sql } from 'kysely';
import type {
  AlertFilter,
  EventFilter,
  EventOutcome,
  IngestStore,
  IngestTx,
  NewEvent,
  Silence,
  StoredEvent,
} from '../../app/ingest-ports.ts';
import type { ChatMessageClaim, ChatMessageKind, Clock, Sha256 } from '../../app/ports.ts';
import type { AlertGroup, Digest } from '../../domain/alert-lifecycle.ts';
import type { AlertRecord } from '../../domain/alert-model.ts';
import type { EventEnvelope, IngestSource } from '../../domain/event-envelope.ts';
import { claimChatMessage, recordChatMessage } from './chat-message-repo.ts';
import { pageSize } from './doc-repo.ts';
import { getGroup, KyselyIngestTx } from './ingest-tx.ts';
import type { Database, Dialect } from './schema.ts';
import { guardStore } from './store-errors.ts';

type Db = Kysely<Database>;

/** A lost sync mark only means the message is shown again; for claims see the port. */
const NOT_DURABLE = { durable: false } as const;

const BEGIN: Record<Dialect, string> = { sqlite: 'begin immediate', postgres: 'begin' };

export class KyselyIngestStore implements IngestStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly sha256: Sha256,
    /** Stamps `createdAt` on outbox rows. */
    private readonly clock: Clock,
    private readonly usable: () => void,
  ) {}

  async appendEvents(events: readonly NewEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    return this.transaction(async (tx) => (tx as KyselyIngestTx).insertEvents(events));
  }

  async unprocessedEvents(limit: number): Promise<StoredEvent[]> {
    const rows = await this.guard((db) =>
      db
        .selectFrom('events')
        .select(['seq', 'key', 'ingest', 'received_at', 'envelope'])
        .where('processed_at', 'is', null)
        .orderBy('seq')
        .limit(pageSize(limit, 500, 10_000))
        .execute(),
    );
    return rows.map(fromEventRow);
  }

  async transaction<T>(
    fn: (tx: IngestTx) => Promise<T>,
    opts: { durable?: boolean } = {},
  ): Promise<T> {
    this.usable();
    const lazy = opts.durable === false;
    return guardStore(() =>
      this.db.connection().execute(async (conn) => {
        const tx = new KyselyIngestTx(conn, this.dialect, this.sha256, this.clock);
        if (lazy && this.dialect === 'sqlite') await sql`pragma synchronous = NORMAL`.execute(conn);
        try {
          await sql.raw(BEGIN[this.dialect]).execute(conn);
          if (lazy && this.dialect === 'postgres') {
            await sql`set local synchronous_commit = off`.execute(conn);
          }
          const result = await fn(tx);
          await tx.flushWrites();
          await sql.raw('commit').execute(conn);
          return result;
        } catch (err) {
          await sql
            .raw('rollback')
            .execute(conn)
            .catch(() => undefined);
          throw err;
        } finally {
          tx.ended = true;
          if (lazy && this.dialect === 'sqlite') await sql`pragma synchronous = FULL`.execute(conn);
        }
      }),
    );
  }

  async getEvent(seq: number): Promise<(StoredEvent & { outcome?: EventOutcome }) | undefined> {
    const row = await this.guard((db) =>
      db
        .selectFrom('events')
        .select(['seq', 'key', 'ingest', 'received_at', 'envelope', 'outcome'])
        .where('seq', '=', seq)
        .executeTakeFirst(),
    );
    if (!row) return undefined;
    const e = fromEventRow(row);
    return row.outcome ? { ...e, outcome: JSON.parse(row.outcome) as EventOutcome } : e;
  }

  async listEvents(f: EventFilter): Promise<StoredEvent[]> {
    const rows = await this.guard((db) =>
      db
        .selectFrom('events')
        .select(['seq', 'key', 'ingest', 'received_at', 'envelope'])
        .$if(f.source !== undefined, (q) => q.where('source', '=', f.source ?? ''))
        .$if(f.detailType !== undefined, (q) => q.where('detail_type', '=', f.detailType ?? ''))
        .$if(f.beforeSeq !== undefined, (q) => q.where('seq', '<', f.beforeSeq ?? 0))
        .orderBy('seq', 'desc')
        .limit(pageSize(f.limit, 50, 500))
        .execute(),
    );
    return rows.map(fromEventRow);
  }

  async countEvents(): Promise<number> {
    const row = await this.guard((db) =>
      db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    );
    return Number(row.n);
  }

  async listAlerts(f: AlertFilter): Promise<AlertRecord[]> {
    const rows = await this.guard((db) =>
      alertQuery(db, f)
        .select('doc')
        .orderBy('last_seen', 'desc')
        .limit(pageSize(f.limit, 100, 1000))
        .execute(),
    );
    return rows.map((r) => JSON.parse(r.doc) as AlertRecord);
  }

  async countAlerts(f: AlertFilter): Promise<number> {
    const row = await this.guard((db) =>
      alertQuery(db, f)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    );
    return Number(row.n);
  }

  getGroup(id: string): Promise<AlertGroup | undefined> {
    return this.guard((db) => getGroup(db, id));
  }

  async groupAlerts(groupId: string, limit: number): Promise<AlertRecord[]> {
    const rows = await this.guard((db) =>
      db
        .selectFrom('alerts')
        .select('doc')
        .where('group_id', '=', groupId)
        .orderBy('last_seen', 'desc')
        .limit(pageSize(limit, 10, 1000))
        .execute(),
    );
    return rows.map((r) => JSON.parse(r.doc) as AlertRecord);
  }

  async getDigest(id: string): Promise<Digest | undefined> {
    const row = await this.guard((db) =>
      db.selectFrom('alert_digests').select('doc').where('id', '=', id).executeTakeFirst(),
    );
    return row ? (JSON.parse(row.doc) as Digest) : undefined;
  }

  async unsynced(limit: number): Promise<{ groups: string[]; digests: string[] }> {
    const n = pageSize(limit, 100, 1000);
    return this.guard(async (db) => {
      const groups = await db
        .selectFrom('alert_groups')
        .select('id')
        .where('dirty', '=', 1)
        .orderBy('opened_at')
        .limit(n)
        .execute();
      const digests = await db
        .selectFrom('alert_digests')
        .select('id')
        .where('dirty', '=', 1)
        .orderBy('since')
        .limit(n)
        .execute();
      return { groups: groups.map((g) => g.id), digests: digests.map((d) => d.id) };
    });
  }

  /** Clears `dirty` only if the stored version is still the one shown. */
  async markGroupSynced(id: string, version: number): Promise<void> {
    await this.transaction(async (tx) => {
      const g = await tx.getGroup(id);
      if (!g || g.version > version) return;
      const db = (tx as KyselyIngestTx).conn;
      const doc = JSON.stringify({ ...g, postedVersion: version });
      await db.updateTable('alert_groups').set({ dirty: 0, doc }).where('id', '=', id).execute();
    }, NOT_DURABLE);
  }

  async markDigestSynced(id: string, version: number): Promise<void> {
    await this.transaction(async (tx) => {
      const db = (tx as KyselyIngestTx).conn;
      const row = await db
        .selectFrom('alert_digests')
        .select('doc')
        .where('id', '=', id)
        .executeTakeFirst();
      const d = row && (JSON.parse(row.doc) as Digest);
      if (!d || d.version > version) return;
      const doc = JSON.stringify({ ...d, postedVersion: version });
      await db.updateTable('alert_digests').set({ dirty: 0, doc }).where('id', '=', id).execute();
    }, NOT_DURABLE);
  }

  claimChatMessage(
    id: string,
    kind: ChatMessageKind,
    channel: string,
    now: number,
  ): Promise<ChatMessageClaim> {
    return this.transaction(
      (tx) => claimChatMessage((tx as KyselyIngestTx).conn, id, kind, channel, now),
      NOT_DURABLE,
    );
  }

  async recordChatMessage(id: string, kind: ChatMessageKind, ts: string): Promise<void> {
    await this.transaction(
      (tx) => recordChatMessage((tx as KyselyIngestTx).conn, id, kind, ts),
      NOT_DURABLE,
    );
  }

  async activeSilences(now: number): Promise<Silence[]> {
    const rows = await this.guard((db) =>
      db
        .selectFrom('silences')
        .select('doc')
        .where('expires_at', '>', now)
        .where('expired_at', 'is', null)
        .orderBy('created_at')
        .execute(),
    );
    return rows.map((r) => JSON.parse(r.doc) as Silence);
  }

  async listSilences(includeExpired: boolean): Promise<Silence[]> {
    const rows = await this.guard((db) =>
      db
        .selectFrom('silences')
        .select('doc')
        .$if(!includeExpired, (q) => q.where('expired_at', 'is', null))
        .orderBy('created_at', 'desc')
        .limit(1000)
        .execute(),
    );
    return rows.map((r) => JSON.parse(r.doc) as Silence);
  }

  private guard<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    this.usable();
    return guardStore(() => fn(this.db));
  }
}

function alertQuery(db: Db, f: AlertFilter) {
  return db
    .selectFrom('alerts')
    .$if(f.service !== undefined, (q) => q.where('service', '=', f.service ?? ''))
    .$if(f.environment !== undefined, (q) => q.where('environment', '=', f.environment ?? ''))
    .$if(f.state !== undefined, (q) => q.where('state', '=', f.state ?? ''))
    .$if(f.channel !== undefined, (q) => q.where('channel', '=', f.channel ?? ''));
}

function fromEventRow(r: {
  seq: number;
  key: string;
  ingest: string;
  received_at: number;
  envelope: string;
}): StoredEvent {
  return {
    seq: Number(r.seq),
    key: r.key,
    ingest: r.ingest as IngestSource,
    receivedAt: Number(r.received_at),
    envelope: JSON.parse(r.envelope) as EventEnvelope,
  };
}
