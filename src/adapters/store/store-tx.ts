/**
 * `StoreTx` over one Kysely connection inside an open transaction. Every method runs on
 * that connection, so it joins the transaction; none may be called after it ends.
 */
import type { Kysely } from 'kysely';
import type { Clock, OutboxDraft, ReviewItem, Sha256, StoreTx } from '../../app/ports.ts';
import type { AuditDraft, AuditEntry } from '../../domain/audit-chain.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import { appendAudit } from './audit-repo.ts';
import { deleteOutbox, enqueue } from './outbox-repo.ts';
import { getRequest, insertRequest, updateRequest } from './request-repo.ts';
import { insertReviewItem, resolveReviewItem } from './review-repo.ts';
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
    return getRequest(this.db, id, this.ctx.dialect === 'postgres');
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
}
