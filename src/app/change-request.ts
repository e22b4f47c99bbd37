/**
 * The one way a use case changes a stored request: lock it, expire it if its time is up,
 * apply a pure transition, then commit the new state, its audit entries and its outbox
 * effects in one transaction. A refusal commits nothing but its own audit entry.
 */
import { DomainError, type Result } from '../domain/errors.ts';
import { expire } from '../domain/request-lifecycle.ts';
import type { ActionRequest } from '../domain/request-model.ts';
import { type Actor, type AppDeps, SYSTEM } from './context.ts';
import { type Effects, notifyEffect, requestAudit } from './effects.ts';
import { refuse } from './refuse.ts';

export interface Change {
  /** Audit action of the change, e.g. `approval.given`; refusals log `<action>.refused`. */
  action: string;
  decide(r: ActionRequest, now: number): Result<ActionRequest>;
  effects(prev: ActionRequest, next: ActionRequest, now: number): Effects;
}

type Outcome = { ok: true; request: ActionRequest } | { ok: false; error: DomainError };

export async function changeRequest(
  deps: AppDeps,
  actor: Actor,
  requestId: string,
  change: Change,
): Promise<ActionRequest> {
  const outcome = await deps.store.transaction(async (tx): Promise<Outcome> => {
    const r = await tx.getRequest(requestId);
    const now = deps.clock.now();
    if (!r) return { ok: false, error: new DomainError('NOT_FOUND', `No request ${requestId}.`) };
    if (r.state === 'pending' && now >= r.expiresAt) {
      const expired = expire(r, now);
      if (expired.ok) {
        await tx.updateRequest(expired.value);
        await tx.appendAudit([requestAudit(SYSTEM, expired.value, 'request.expired', now)]);
        await tx.enqueue([notifyEffect(expired.value, 'expired', now)]);
      }
      return { ok: false, error: new DomainError('EXPIRED', `Request ${r.id} expired.`) };
    }
    const next = change.decide(r, now);
    if (!next.ok) return next;
    const effects = change.effects(r, next.value, now);
    await tx.updateRequest(next.value);
    await tx.appendAudit(effects.audit);
    await tx.enqueue(effects.outbox);
    return { ok: true, request: next.value };
  });
  if (!outcome.ok) {
    return refuse(deps, actor, `${change.action}.refused`, requestId, outcome.error);
  }
  if (outcome.request.state === 'approved') deps.wakeDispatcher?.();
  return outcome.request;
}
