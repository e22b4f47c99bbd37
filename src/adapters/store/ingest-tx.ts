/**
 * One ingestion transaction (`IngestTx`) over a Kysely connection inside an open
 * transaction: alert state, groups, digests, silences, audit, and the outbox effects and
 * changes that ingestion records. Started by `KyselyIngestStore.transaction`.
 */
import { type Kysely, sql } from 'kysely';
import type {
  EventOutcome,
  IngestTx,
  NewEvent,
  Silence,
  StoredEvent,
} from '../../app/ingest-ports.ts';
import type { Clock, OutboxDraft, Sha256 } from '../../app/ports.ts';
import type { AlertGroup, Digest } from '../../domain/alert-lifecycle.ts';
import type { AlertRecord } from '../../domain/alert-model.ts';
import type { AuditDraft, AuditEntry } from '../../domain/audit-chain.ts';
import type { ChangeRecord } from '../../domain/incident-model.ts';
import { appendAudit } from './audit-repo.ts';
import { recordChange } from './change-repo.ts';
import { enqueue } from './outbox-repo.ts';
import type {
  AlertDigestsTable,
  AlertGroupsTable,
  AlertsTable,
  Database,
  Dialect,
} from './schema.ts';

type Db = Kysely<Database>;

/** Rows per INSERT statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK = 500;
/** Rows per multi-row upsert or update (9 columns × 200 = 1,800 parameters at most). */
const WRITE_CHUNK = 200;

/**
 * Alert, group and digest writes are kept (the last per key) and sent as multi-row
 * upserts before the transaction's next read and before it commits, so a batch of events
 * costs a few statements instead of a few per event. Reads therefore always see the writes
 * before them, and a failing write still fails (and rolls back) the transaction.
 */
export class KyselyIngestTx implements IngestTx {
  ended = false;
  private readonly pendingAlerts = new Map<string, AlertsTable>();
  private readonly pendingGroups = new Map<string, AlertGroupsTable>();
  private readonly pendingDigests = new Map<string, AlertDigestsTable>();

  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly sha256: Sha256,
    private readonly clock: Clock,
  ) {}

  get conn(): Db {
    if (this.ended) throw new Error('IngestTx used after its transaction ended');
    return this.db;
  }

  async insertEvents(events: readonly NewEvent[]): Promise<StoredEvent[]> {
    const stored: StoredEvent[] = [];
    for (let i = 0; i < events.length; i += INSERT_CHUNK) {
      const chunk = events.slice(i, i + INSERT_CHUNK);
      const rows = await this.conn
        .insertInto('events')
        .values(
          chunk.map((e) => ({
            key: e.key,
            ingest: e.ingest,
            received_at: e.receivedAt,
            source: e.envelope.source,
            detail_type: e.envelope['detail-type'],
            account: e.envelope.account,
            region: e.envelope.region,
            envelope: JSON.stringify(e.envelope),
          })),
        )
        .onConflict((oc) => oc.column('key').doNothing())
        .returning(['seq', 'key'])
        .execute();
      const seqOf = new Map(rows.map((r) => [r.key, Number(r.seq)]));
      for (const e of chunk) {
        const seq = seqOf.get(e.key);
        // The same key twice in one batch: the first is stored, the second is a duplicate.
        if (seq !== undefined) {
          stored.push({ ...e, seq });
          seqOf.delete(e.key);
        }
      }
    }
    return stored.sort((a, b) => a.seq - b.seq);
  }

  async getAlerts(keys: readonly { route: string; fingerprint: string }[]): Promise<AlertRecord[]> {
    await this.flushWrites();
    const out: AlertRecord[] = [];
    const byRoute = new Map<string, string[]>();
    for (const k of keys) {
      const fps = byRoute.get(k.route);
      if (fps) fps.push(k.fingerprint);
      else byRoute.set(k.route, [k.fingerprint]);
    }
    for (const [route, fps] of byRoute) {
      for (let i = 0; i < fps.length; i += INSERT_CHUNK) {
        const rows = await this.conn
          .selectFrom('alerts')
          .select('doc')
          .where('route', '=', route)
          .where('fingerprint', 'in', fps.slice(i, i + INSERT_CHUNK))
          .$if(this.dialect === 'postgres', (q) => q.forUpdate())
          .execute();
        out.push(...rows.map((r) => JSON.parse(r.doc) as AlertRecord));
      }
    }
    return out;
  }

  async putAlert(a: AlertRecord, groupId: string): Promise<void> {
    this.pendingAlerts.set(`${a.route} ${a.fingerprint}`, {
      route: a.route,
      fingerprint: a.fingerprint,
      state: a.state,
      service: a.service,
      environment: a.environment,
      channel: a.channel,
      group_id: groupId,
      last_seen: a.lastSeen,
      doc: JSON.stringify(a),
    });
  }

  async latestGroup(key: string): Promise<AlertGroup | undefined> {
    await this.flushWrites();
    const row = await this.conn
      .selectFrom('alert_groups')
      .select('doc')
      .where('key', '=', key)
      .orderBy('opened_at', 'desc')
      .limit(1)
      .$if(this.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    return row ? (JSON.parse(row.doc) as AlertGroup) : undefined;
  }

  async getGroup(id: string): Promise<AlertGroup | undefined> {
    await this.flushWrites();
    return getGroup(this.conn, id, this.dialect === 'postgres');
  }

  async putGroup(g: AlertGroup, shownAt: number | undefined): Promise<void> {
    // The first shown_at a group gets is kept (the upsert coalesces with the stored one).
    const earlier = this.pendingGroups.get(g.id)?.shown_at;
    this.pendingGroups.set(g.id, {
      id: g.id,
      key: g.key,
      channel: g.channel,
      opened_at: g.openedAt,
      shown_at: earlier ?? shownAt ?? null,
      dirty: g.visibility === 'post' && g.version > g.postedVersion ? 1 : 0,
      doc: JSON.stringify(g),
    });
  }

  async latestDigest(channel: string): Promise<Digest | undefined> {
    await this.flushWrites();
    const row = await this.conn
      .selectFrom('alert_digests')
      .select('doc')
      .where('channel', '=', channel)
      .orderBy('since', 'desc')
      .limit(1)
      .$if(this.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    return row ? (JSON.parse(row.doc) as Digest) : undefined;
  }

  async putDigest(d: Digest): Promise<void> {
    this.pendingDigests.set(d.id, {
      id: d.id,
      channel: d.channel,
      since: d.since,
      dirty: d.version > d.postedVersion ? 1 : 0,
      doc: JSON.stringify(d),
    });
  }

  async countShown(channel: string, since: number): Promise<number> {
    await this.flushWrites();
    const row = await this.conn
      .selectFrom('alert_groups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('channel', '=', channel)
      .where('shown_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** One UPDATE … FROM (VALUES …) per `WRITE_CHUNK` events (SQLite ≥ 3.33, PostgreSQL). */
  async markProcessed(outcomes: readonly EventOutcome[], at: number): Promise<void> {
    for (let i = 0; i < outcomes.length; i += WRITE_CHUNK) {
      const rows = outcomes
        .slice(i, i + WRITE_CHUNK)
        .map((o) => sql`(${o.seq}, ${JSON.stringify(o)})`);
      await sql`update events set processed_at = ${at}, outcome = v.column2
        from (values ${sql.join(rows)}) as v
        where events.seq = cast(v.column1 as bigint)`.execute(this.conn);
    }
  }

  /** Sends the kept alert, group and digest writes (see the class comment). */
  async flushWrites(): Promise<void> {
    if (this.pendingAlerts.size + this.pendingGroups.size + this.pendingDigests.size === 0) return;
    const alerts = [...this.pendingAlerts.values()];
    const groups = [...this.pendingGroups.values()];
    const digests = [...this.pendingDigests.values()];
    this.pendingAlerts.clear();
    this.pendingGroups.clear();
    this.pendingDigests.clear();
    for (let i = 0; i < alerts.length; i += WRITE_CHUNK) {
      await this.conn
        .insertInto('alerts')
        .values(alerts.slice(i, i + WRITE_CHUNK))
        .onConflict((oc) =>
          oc.columns(['route', 'fingerprint']).doUpdateSet((eb) => ({
            state: eb.ref('excluded.state'),
            service: eb.ref('excluded.service'),
            environment: eb.ref('excluded.environment'),
            channel: eb.ref('excluded.channel'),
            group_id: eb.ref('excluded.group_id'),
            last_seen: eb.ref('excluded.last_seen'),
            doc: eb.ref('excluded.doc'),
          })),
        )
        .execute();
    }
    for (let i = 0; i < groups.length; i += WRITE_CHUNK) {
      await this.conn
        .insertInto('alert_groups')
        .values(groups.slice(i, i + WRITE_CHUNK))
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            shown_at: sql`coalesce(alert_groups.shown_at, excluded.shown_at)`,
            dirty: eb.ref('excluded.dirty'),
            doc: eb.ref('excluded.doc'),
          })),
        )
        .execute();
    }
    for (let i = 0; i < digests.length; i += WRITE_CHUNK) {
      await this.conn
        .insertInto('alert_digests')
        .values(digests.slice(i, i + WRITE_CHUNK))
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            dirty: eb.ref('excluded.dirty'),
            doc: eb.ref('excluded.doc'),
          })),
        )
        .execute();
    }
  }

  async insertSilence(s: Silence): Promise<void> {
    await this.flushWrites();
    await this.conn
      .insertInto('silences')
      .values({
        id: s.id,
        created_at: s.createdAt,
        expires_at: s.expiresAt,
        expired_at: null,
        doc: JSON.stringify(s),
      })
      .execute();
  }

  async expireSilence(id: string, by: string, at: number): Promise<boolean> {
    await this.flushWrites();
    const row = await this.conn
      .selectFrom('silences')
      .select(['doc', 'expires_at', 'expired_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.expired_at !== null || row.expires_at <= at) return false;
    const s = { ...(JSON.parse(row.doc) as Silence), expiredBy: by, expiredAt: at };
    await this.conn
      .updateTable('silences')
      .set({ expired_at: at, doc: JSON.stringify(s) })
      .where('id', '=', id)
      .execute();
    return true;
  }

  async appendAudit(drafts: readonly AuditDraft[]): Promise<AuditEntry[]> {
    await this.flushWrites();
    return appendAudit(this.conn, this.dialect, this.sha256, drafts);
  }

  /** Written at once, not kept: the rows are few and nothing reads them back in the batch. */
  async enqueue(drafts: readonly OutboxDraft[]): Promise<void> {
    await enqueue(this.conn, drafts, this.clock.now());
  }

  async recordChange(c: ChangeRecord): Promise<void> {
    await recordChange(this.conn, c);
  }
}

export async function getGroup(db: Db, id: string, lock = false): Promise<AlertGroup | undefined> {
  const row = await db
    .selectFrom('alert_groups')
    .select('doc')
    .where('id', '=', id)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
  return row ? (JSON.parse(row.doc) as AlertGroup) : undefined;
}
