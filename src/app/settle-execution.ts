/**
 * Use case: a person with the administer grant records what really happened to an
 * execution whose outcome was unknown (the process died mid-call).
 */
import { DomainError } from '../domain/errors.ts';
import { can } from '../domain/policy.ts';
import { settle } from '../domain/request-lifecycle.ts';
import type { ActionRequest } from '../domain/request-model.ts';
import { changeRequest } from './change-request.ts';
import type { Actor, AppDeps } from './context.ts';
import { notifyEffect, requestAudit } from './effects.ts';

export function settleExecution(
  deps: AppDeps,
  actor: Actor,
  input: { requestId: string; outcome: 'succeeded' | 'failed'; note: string },
): Promise<ActionRequest> {
  return changeRequest(deps, actor, input.requestId, {
    action: 'execution.settled',
    decide: (r, now) => {
      if (!can(deps.catalog.current(), actor.person, 'administer', r)) {
        return {
          ok: false,
          error: new DomainError('FORBIDDEN', 'Settling needs the administer grant.'),
        };
      }
      return settle(r, actor.person.id, input.outcome, input.note, now);
    },
    effects: (_prev, next, now) => ({
      audit: [
        requestAudit(actor, next, 'execution.settled', now, {
          outcome: input.outcome,
          note: input.note,
        }),
      ],
      outbox: [notifyEffect(next, 'settled', now)],
    }),
  });
}
