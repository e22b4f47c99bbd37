/**
 * `StoreTx` over one Kysely connection inside an open transaction. Every method runs on
 * that connection, so it joins the transaction; none may be called after it ends.
 */
import type { Kysely } from 'kysely';
import type { Clock, OutboxDraft, ReviewItem, Sha256, StoreTx } from '../../app/ports.ts';
import type { AuditDraft, AuditEntry } from '../../domain/audit-chain.ts';
import type {
  ChangeRecord,
  Incident,
  TimelineDraft,
  TimelineEntry,
} from '../../domain/incident-model.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import type { RunbookRun } from '../../domain/runbook-model.ts';
import { appendAudit } from './audit-repo.ts';
import { recordChange } from './change-repo.ts';
import * as incidents from './incident-repo.ts';
import { deleteOutbox, enqueue } from './outbox-repo.ts';
import { getRequest, insertRequest, updateRequest } from './request-repo.ts';
import { insertReviewItem, resolveReviewItem } from './review-repo.ts';
import * as runs from './run-repo.ts';
import type { Database, Dialect } from './schema.ts';

/** What the store hands to every transaction. */
export interface StoreContext {
  dialect: Dialect;
  sha256: Sha256;
  /** Stamps `createdAt` on outbox rows. */
  clock: Clock;
}

export class KyselyStoreTx implements StoreTx {
  private ended = false;

  constructor(
    private readonly conn: Kysely<Database>,
    private readonly ctx: StoreContext,
  ) {}

  /** Called by the store once the transaction has committed or rolled back. */
  end(): void {
    this.ended = true;
  }

  /** The transaction's connection; throws once the transaction is over. */
  private get db(): Kysely<Database> {
    if (this.ended) throw new Error('StoreTx used after its transaction ended');
    return this.conn;
  }

  getRequest(id: string): Promise<ActionRequest | undefined> {
    return getRequest(this.db, id, this.lock);
  }

  insertRequest(r: ActionRequest): Promise<void> {
    return insertRequest(this.db, r);
  }

  updateRequest(r: ActionRequest): Promise<void> {
    return updateRequest(this.db, r);
  }

  appendAudit(drafts: readonly AuditDraft[]): Promise<AuditEntry[]> {
    return appendAudit(this.db, this.ctx.dialect, this.ctx.sha256, drafts);
  }

  enqueue(drafts: readonly OutboxDraft[]): Promise<void> {
    return enqueue(this.db, drafts, this.ctx.clock.now());
  }

  deleteOutbox(id: number): Promise<void> {
    return deleteOutbox(this.db, id);
  }

  insertReviewItem(item: ReviewItem): Promise<void> {
    return insertReviewItem(this.db, item);
  }

  resolveReviewItem(id: string, by: string, at: number, note: string): Promise<boolean> {
    return resolveReviewItem(this.db, id, by, at, note);
  }

  getIncident(id: string): Promise<Incident | undefined> {
    return incidents.getIncident(this.db, id, this.lock);
  }

  /** Locks the incident's row on PostgreSQL, as `getIncident` does. */
  incidentForGroup(groupId: string): Promise<Incident | undefined> {
    return incidents.incidentForGroup(this.db, groupId, this.lock);
  }

  openIncidentFor(route: string, service: string, environment: string) {
    return incidents.openIncidentFor(this.db, route, service, environment, this.lock);
  }

  insertIncident(i: Incident): Promise<void> {
    return incidents.insertIncident(this.db, i);
  }

  updateIncident(i: Incident): Promise<void> {
    return incidents.updateIncident(this.db, i);
  }

  appendTimeline(drafts: readonly TimelineDraft[]): Promise<TimelineEntry[]> {
    return incidents.appendTimeline(this.db, drafts);
  }

  getRun(id: string): Promise<RunbookRun | undefined> {
    return runs.getRun(this.db, id, this.lock);
  }

  insertRun(r: RunbookRun): Promise<void> {
    return runs.insertRun(this.db, r);
  }

  updateRun(r: RunbookRun): Promise<void> {
    return runs.updateRun(this.db, r);
  }

  recordChange(c: ChangeRecord): Promise<void> {
    return recordChange(this.db, c);
  }

  /** Row reads lock on PostgreSQL; SQLite's `begin immediate` already excludes other writers. */
  private get lock(): boolean {
    return this.ctx.dialect === 'postgres';
  }
}
