/** Use case: the requester withdraws a pending request. */
import { cancel } from '../domain/request-lifecycle.ts';
import type { ActionRequest } from '../domain/request-model.ts';
import { changeRequest } from './change-request.ts';
import type { Actor, AppDeps } from './context.ts';
import { notifyEffect, requestAudit } from './effects.ts';

export function cancelRequest(
  deps: AppDeps,
  actor: Actor,
  input: { requestId: string; reason?: string },
): Promise<ActionRequest> {
  const reason = input.reason ?? '';
  return changeRequest(deps, actor, input.requestId, {
    action: 'request.cancelled',
    decide: (r, now) => cancel(r, actor.person.id, reason, now),
    effects: (_prev, next, now) => ({
      audit: [requestAudit(actor, next, 'request.cancelled', now, { reason })],
      outbox: [notifyEffect(next, 'cancelled', now)],
    }),
  });
}
