/**
 * Use case: the requester changes a pending request's parameters or links. The digest
 * changes, so sign-offs given so far stop counting and approvers must look again.
 */
import { findCommand } from '../domain/catalog.ts';
import { DomainError } from '../domain/errors.ts';
import { validateParams } from '../domain/params.ts';
import { amend, canonicalRequest } from '../domain/request-lifecycle.ts';
import type { ActionRequest, Links } from '../domain/request-model.ts';
import { changeRequest } from './change-request.ts';
import type { Actor, AppDeps } from './context.ts';
import { notifyEffect, requestAudit } from './effects.ts';

export function amendRequest(
  deps: AppDeps,
  actor: Actor,
  input: { requestId: string; params: Record<string, string>; links?: Links },
): Promise<ActionRequest> {
  return changeRequest(deps, actor, input.requestId, {
    action: 'request.amended',
    decide: (r, now) => {
      const command = findCommand(deps.catalog.current(), r.command);
      if (!command) return { ok: false, error: new DomainError('UNKNOWN_COMMAND') };
      const checked = validateParams(command, input.params);
      if (!checked.ok) return checked;
      const links = input.links ?? r.links;
      if (!links.ticket && !links.incident && !links.pr) {
        return { ok: false, error: new DomainError('LINK_REQUIRED') };
      }
      const digest = deps.sha256(canonicalRequest({ ...r, params: checked.value, links }));
      return amend(r, actor.person.id, { params: checked.value, links, digest }, now);
    },
    effects: (prev, next, now) => ({
      audit: [
        requestAudit(actor, next, 'request.amended', now, {
          previousDigest: prev.digest,
          signOffsVoided: prev.signOffs.length,
        }),
      ],
      outbox: [notifyEffect(next, 'amended', now)],
    }),
  });
}
