/**
 * Use cases: give a sign-off (approval, change-window acknowledgement, rollback
 * confirmation) or deny. Permission is checked on every decision against the catalog in
 * force, never inferred from who could see a button.
 */
import type { ApprovalKind } from '../domain/catalog.ts';
import { maySignOff } from '../domain/policy.ts';
import { deny, signOff } from '../domain/request-lifecycle.ts';
import type { ActionRequest } from '../domain/request-model.ts';
import { changeRequest } from './change-request.ts';
import type { Actor, AppDeps } from './context.ts';
import { executeEffect, notifyEffect, requestAudit } from './effects.ts';

export interface SignOffInput {
  requestId: string;
  kind: ApprovalKind;
  /** The digest of the request as the person reviewed it. */
  digest: string;
  /** Destructive commands: the target typed out, `<service>/<environment>`. */
  confirmation?: string;
}

export function approveRequest(
  deps: AppDeps,
  actor: Actor,
  input: SignOffInput,
): Promise<ActionRequest> {
  const action = input.kind === 'approval' ? 'approval.given' : `${input.kind}.given`;
  return changeRequest(deps, actor, input.requestId, {
    action,
    decide: (r, now) => {
      const allowed = maySignOff(deps.catalog.current(), actor.person, r, input.kind);
      if (!allowed.ok) return allowed;
      return signOff(r, {
        kind: input.kind,
        by: actor.person.id,
        surface: actor.surface,
        at: now,
        digest: input.digest,
        ...(input.confirmation !== undefined ? { confirmation: input.confirmation } : {}),
      });
    },
    effects: (_prev, next, now) => {
      const audit = [requestAudit(actor, next, action, now, { kind: input.kind })];
      const outbox = [notifyEffect(next, 'signed-off', now)];
      if (next.state === 'approved') {
        const by = [
          ...new Set(next.signOffs.filter((s) => s.digest === next.digest).map((s) => s.by)),
        ];
        audit.push(requestAudit(actor, next, 'request.approved', now, { by }));
        outbox.push(executeEffect(next, now));
      }
      return { audit, outbox };
    },
  });
}

export function denyRequest(
  deps: AppDeps,
  actor: Actor,
  input: { requestId: string; reason: string },
): Promise<ActionRequest> {
  return changeRequest(deps, actor, input.requestId, {
    action: 'request.denied',
    decide: (r, now) => {
      // Anyone who could approve may deny; the requester cancels instead.
      const catalog = deps.catalog.current();
      const checks = r.requirements.map((q) => maySignOff(catalog, actor.person, r, q.kind));
      const allowed =
        checks.find((c) => c.ok) ?? checks[0] ?? maySignOff(catalog, actor.person, r, 'approval');
      if (!allowed.ok) return allowed;
      return deny(r, actor.person.id, input.reason, now);
    },
    effects: (_prev, next, now) => ({
      audit: [requestAudit(actor, next, 'request.denied', now, { reason: input.reason })],
      outbox: [notifyEffect(next, 'denied', now)],
    }),
  });
}
