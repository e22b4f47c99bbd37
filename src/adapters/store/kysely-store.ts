/**
 * The `Store` port over Kysely, one class for SQLite and PostgreSQL. The SQL lives in the
 * `*-repo.ts` files; this class adds transactions, the closed check and the mapping of
 * connection failures to `STORE_UNAVAILABLE`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Kysely, sql } from 'kysely';
import type { IngestStore } from '../../app/ingest-ports.ts';
import type {
  AuditFilter,
  ChatMessageClaim,
  ChatMessageKind,
  IdempotencyBegin,
  OutboxEffect,
  OutboxKind,
  RequestFilter,
  ReviewItem,
  RunFilter,
  SessionStore,
  Store,
  StoreTx,
} from '../../app/ports.ts';
import type { AuditEntry, AuditRecord, SealedAuditRow } from '../../domain/audit-chain.ts';
import type {
  ChangeRecord,
  Incident,
  IncidentFilter,
  TimelineEntry,
} from '../../domain/incident-model.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import type { RunbookRun } from '../../domain/runbook-model.ts';
import type { AuditPageReader } from './audit-read.ts';
import { auditHead, queryAudit } from './audit-repo.ts';
import type { AuditChainCheck } from './audit-verify-parallel.ts';
import { lastChanges } from './change-repo.ts';
import * as chatMessages from './chat-message-repo.ts';
import * as idempotency from './idempotency-repo.ts';
import * as incidents from './incident-repo.ts';
import { KyselyIngestStore } from './ingest-store.ts';
import * as outbox from './outbox-repo.ts';
import * as requests from './request-repo.ts';
import { listReviewItems } from './review-repo.ts';
import * as runs from './run-repo.ts';
import type { Database, Dialect } from './schema.ts';
import { KyselySessionStore } from './session-repo.ts';
import { guardStore, storeUnavailable } from './store-errors.ts';
import { KyselyStoreTx, type StoreContext } from './store-tx.ts';

export interface KyselyStoreOptions extends StoreContext {
  db: Kysely<Database>;
  /** The fast path behind `readAudit`; see `audit-read.ts`. */
  readAudit: AuditPageReader;
  /** Behind `verifyAuditParallel`; see `audit-verify-parallel.ts`. */
  verifyAudit: () => Promise<AuditChainCheck>;
}

/**
 * SQLite takes the write lock when the transaction starts (`begin immediate`), so two
 * processes sharing the file queue on `busy_timeout` instead of failing to upgrade a read
 * lock. PostgreSQL runs at read committed; rows that must not change underneath are read
 * `FOR UPDATE`.
 */
const BEGIN: Record<Dialect, string> = { sqlite: 'begin immediate', postgres: 'begin' };

export class KyselyStore implements Store {
  readonly dialect: Dialect;
  readonly ingest: IngestStore;
  readonly sessions: SessionStore;
  private readonly db: Kysely<Database>;
  private readonly ctx: StoreContext;
  private readonly readAuditPage: AuditPageReader;
  private readonly verifyAudit: () => Promise<AuditChainCheck>;
  private closed = false;
  /** Set while a `transaction` callback of this store runs; see `assertUsable`. */
  private readonly openTx = new AsyncLocalStorage<{ open: boolean }>();

  constructor(opts: KyselyStoreOptions) {
    this.db = opts.db;
    this.dialect = opts.dialect;
    this.ctx = { dialect: opts.dialect, sha256: opts.sha256, clock: opts.clock };
    this.readAuditPage = opts.readAudit;
    this.verifyAudit = opts.verifyAudit;
    this.ingest = new KyselyIngestStore(opts.db, opts.dialect, opts.sha256, opts.clock, () =>
      this.assertUsable(),
    );
    this.sessions = new KyselySessionStore(opts.db, opts.dialect, opts.sha256, () =>
      this.assertUsable(),
    );
  }

  /**
   * Runs `fn` on one connection between BEGIN and COMMIT, rolling back if it throws. `fn`
   * must use the `tx` it is given: calling this store's own methods from inside it throws
   * (on SQLite they would wait for the transaction's connection forever; on PostgreSQL
   * they would run outside it and could wait for its locks).
   */
  async transaction<T>(
    fn: (tx: StoreTx) => Promise<T>,
    opts: { durable?: boolean } = {},
  ): Promise<T> {
    this.assertUsable();
    const scope = { open: true };
    const lazy = opts.durable === false;
    try {
      return await this.openTx.run(scope, () =>
        guardStore(() =>
          this.db.connection().execute(async (conn) => {
            if (!lazy) return this.runTx(conn, fn, false);
            if (this.dialect === 'postgres') return this.runTx(conn, fn, true);
            await sql`pragma synchronous = NORMAL`.execute(conn);
            try {
              return await this.runTx(conn, fn, false);
            } finally {
              await sql`pragma synchronous = FULL`.execute(conn);
            }
          }),
        ),
      );
    } finally {
      scope.open = false;
    }
  }

  private async runTx<T>(
    conn: Kysely<Database>,
    fn: (tx: StoreTx) => Promise<T>,
    asyncCommit: boolean,
  ): Promise<T> {
    const tx = new KyselyStoreTx(conn, this.ctx);
    await sql.raw(BEGIN[this.dialect]).execute(conn);
    if (asyncCommit) await sql`set local synchronous_commit = off`.execute(conn);
    try {
      const result = await fn(tx);
      await sql.raw('commit').execute(conn);
      return result;
    } catch (err) {
      await sql
        .raw('rollback')
        .execute(conn)
        .catch(() => undefined);
      throw err;
    } finally {
      tx.end();
    }
  }

  getRequest(id: string): Promise<ActionRequest | undefined> {
    return this.guard((db) => requests.getRequest(db, id, false));
  }

  listRequests(filter: RequestFilter): Promise<ActionRequest[]> {
    return this.guard((db) => requests.listRequests(db, filter));
  }

  listExpired(now: number, limit: number): Promise<ActionRequest[]> {
    return this.guard((db) => requests.listExpired(db, now, limit));
  }

  claimOutbox(
    now: number,
    limit: number,
    leaseMs: number,
    kinds?: readonly OutboxKind[],
  ): Promise<OutboxEffect[]> {
    return this.guard((db) => outbox.claimOutbox(db, this.dialect, now, limit, leaseMs, kinds));
  }

  renewLease(id: number, until: number): Promise<void> {
    return this.guard((db) => outbox.renewLease(db, id, until));
  }

  releaseOutbox(id: number, availableAt: number, error: string): Promise<void> {
    return this.guard((db) => outbox.releaseOutbox(db, id, availableAt, error));
  }

  releaseAllLeases(): Promise<void> {
    return this.guard((db) => outbox.releaseAllLeases(db));
  }

  countOutbox(): Promise<number> {
    return this.guard((db) => outbox.countOutbox(db));
  }

  queryAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    return this.guard((db) => queryAudit(db, filter));
  }

  /** No upper bound on `limit`: the caller picks a page size it can hold in memory. */
  readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]> {
    return this.guard(() => this.readAuditPage.records(fromSeq, limit));
  }

  readAuditSealed(fromSeq: number, limit: number): Promise<SealedAuditRow[]> {
    return this.guard(() => this.readAuditPage.sealed(fromSeq, limit));
  }

  auditHead(): Promise<{ seq: number; hash: string } | undefined> {
    return this.guard((db) => auditHead(db));
  }

  verifyAuditParallel(): Promise<AuditChainCheck> {
    return this.guard(() => this.verifyAudit());
  }

  beginIdempotent(
    scope: string,
    key: string,
    bodyHash: string,
    now: number,
  ): Promise<IdempotencyBegin> {
    return this.guard((db) => idempotency.beginIdempotent(db, scope, key, bodyHash, now));
  }

  finishIdempotent(scope: string, key: string, status: number, body: string): Promise<void> {
    return this.guard((db) => idempotency.finishIdempotent(db, scope, key, status, body));
  }

  abandonIdempotent(scope: string, key: string): Promise<void> {
    return this.guard((db) => idempotency.abandonIdempotent(db, scope, key));
  }

  listReviewItems(openOnly: boolean): Promise<ReviewItem[]> {
    return this.guard((db) => listReviewItems(db, openOnly));
  }

  getIncident(id: string): Promise<Incident | undefined> {
    return this.guard((db) => incidents.getIncident(db, id, false));
  }

  listIncidents(filter: IncidentFilter): Promise<Incident[]> {
    return this.guard((db) => incidents.listIncidents(db, filter));
  }

  timeline(incidentId: string, afterSeq?: number, limit?: number): Promise<TimelineEntry[]> {
    return this.guard((db) => incidents.timeline(db, incidentId, afterSeq, limit));
  }

  incidentsDueReminder(now: number, limit: number): Promise<Incident[]> {
    return this.guard((db) => incidents.incidentsDueReminder(db, now, limit));
  }

  getRun(id: string): Promise<RunbookRun | undefined> {
    return this.guard((db) => runs.getRun(db, id, false));
  }

  listRuns(filter: RunFilter): Promise<RunbookRun[]> {
    return this.guard((db) => runs.listRuns(db, filter));
  }

  lastChanges(
    service: string,
    environment: string,
    at: number,
  ): Promise<{ deploy?: ChangeRecord; config?: ChangeRecord }> {
    return this.guard((db) => lastChanges(db, service, environment, at));
  }

  requestsSince(
    since: number,
    afterId: string | undefined,
    limit: number,
  ): Promise<ActionRequest[]> {
    return this.guard((db) => requests.requestsSince(db, since, afterId, limit));
  }

  incidentsSince(since: number, afterId: string | undefined, limit: number): Promise<Incident[]> {
    return this.guard((db) => incidents.incidentsSince(db, since, afterId, limit));
  }

  runsSince(since: number, afterId: string | undefined, limit: number): Promise<RunbookRun[]> {
    return this.guard((db) => runs.runsSince(db, since, afterId, limit));
  }

  claimChatMessage(
    requestId: string,
    kind: ChatMessageKind,
    channel: string,
    now: number,
  ): Promise<ChatMessageClaim> {
    return this.guard((db) => chatMessages.claimChatMessage(db, requestId, kind, channel, now));
  }

  recordChatMessage(requestId: string, kind: ChatMessageKind, ts: string): Promise<void> {
    return this.guard((db) => chatMessages.recordChatMessage(db, requestId, kind, ts));
  }

  getChatMessage(
    requestId: string,
    kind: ChatMessageKind,
  ): Promise<{ channel: string; ts: string } | undefined> {
    return this.guard((db) => chatMessages.getChatMessage(db, requestId, kind));
  }

  async ping(): Promise<boolean> {
    try {
      this.assertUsable();
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the connections; later calls fail with `STORE_UNAVAILABLE`. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }

  /** Throws `STORE_UNAVAILABLE` once closed, and a plain error inside own transactions. */
  private assertUsable(): void {
    if (this.closed) throw storeUnavailable(new Error('the store is closed'));
    if (this.openTx.getStore()?.open) {
      throw new Error('Store method called inside one of its own transactions; use the StoreTx');
    }
  }

  private async guard<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    this.assertUsable();
    return guardStore(() => fn(this.db));
  }
}
