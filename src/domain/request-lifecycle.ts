/**
 * The request lifecycle as pure transitions. Each takes the current request and an event
 * and returns the next request or a typed refusal; none does I/O. Every successful
 * transition adds one to `version`, which the store uses for optimistic concurrency.
 *
 *   pending ──sign-offs complete──▶ approved ──worker──▶ running ──▶ succeeded | failed
 *      │                                                   └──crash, not idempotent──▶ unknown ──settle──▶ succeeded | failed
 *      ├──deny──▶ denied     ├──cancel──▶ cancelled     └──time──▶ expired
 */

import { canonicalJson } from './audit-chain.ts';
import type { ApprovalKind } from './catalog.ts';
import { fail, ok, type Result } from './errors.ts';
import type { ActionRequest, Links, ParamValue, SignOff, Surface } from './request-model.ts';

/** The exact thing an approval approves: command, target, parameters and links. */
export function canonicalRequest(r: {
  command: string;
  service: string;
  environment: string;
  params: Record<string, ParamValue>;
  links: Links;
}): string {
  return canonicalJson({
    command: r.command,
    service: r.service,
    environment: r.environment,
    params: r.params,
    links: r.links,
  });
}

/** Sign-offs that count: of the current digest, one per person and kind. */
export function countedSignOffs(r: ActionRequest, kind: ApprovalKind): SignOff[] {
  const seen = new Set<string>();
  return r.signOffs.filter((s) => {
    if (s.kind !== kind || s.digest !== r.digest || seen.has(s.by)) return false;
    seen.add(s.by);
    return true;
  });
}

export function isSatisfied(r: ActionRequest): boolean {
  return r.requirements.every((q) => countedSignOffs(r, q.kind).length >= q.count);
}

/** What is still missing, for people: "1 more approval (approver, administrator)". */
export function missingSignOffs(r: ActionRequest): string[] {
  return r.requirements.flatMap((q) => {
    const left = q.count - countedSignOffs(r, q.kind).length;
    if (left <= 0) return [];
    const roles = q.roles.length > 0 ? ` from ${q.roles.join(' or ')}` : '';
    return [`${left} more ${q.kind}${roles} (${q.because})`];
  });
}

const step = (r: ActionRequest, at: number, patch: Partial<ActionRequest>): ActionRequest => ({
  ...r,
  ...patch,
  updatedAt: at,
  version: r.version + 1,
});

function requirePending(r: ActionRequest, at: number): Result<ActionRequest> {
  if (r.state !== 'pending') {
    return fail('NOT_PENDING', `Request ${r.id} is already ${r.state}.`, { state: r.state });
  }
  if (at >= r.expiresAt) return fail('EXPIRED', `Request ${r.id} expired.`);
  return ok(r);
}

export interface SignOffEvent {
  kind: ApprovalKind;
  by: string;
  surface: Surface;
  at: number;
  /** The digest the person reviewed; must equal the request's current digest. */
  digest: string;
  /** For destructive commands: the typed target, `<service>/<environment>`. */
  confirmation?: string;
}

export function confirmationText(r: Pick<ActionRequest, 'service' | 'environment'>): string {
  return `${r.service}/${r.environment}`;
}

/** Records a sign-off; the request becomes `approved` when every requirement is met. */
export function signOff(r: ActionRequest, e: SignOffEvent): Result<ActionRequest> {
  const pending = requirePending(r, e.at);
  if (!pending.ok) return pending;
  if (e.by === r.requester) return fail('SELF_APPROVAL');
  if (e.digest !== r.digest) {
    return fail('DIGEST_MISMATCH', `Request ${r.id} changed since you reviewed it; look again.`, {
      expected: r.digest,
    });
  }
  if (countedSignOffs(r, e.kind).some((s) => s.by === e.by)) {
    return fail('ALREADY_APPROVED', `You have already given a ${e.kind} for ${r.id}.`);
  }
  if (
    e.kind === 'approval' &&
    r.class === 'destructive' &&
    e.confirmation !== confirmationText(r)
  ) {
    return fail(
      'CONFIRMATION_REQUIRED',
      `Type ${confirmationText(r)} to confirm this destructive command.`,
      { expected: confirmationText(r) },
    );
  }
  const signOffs = [
    ...r.signOffs,
    { kind: e.kind, by: e.by, surface: e.surface, at: e.at, digest: e.digest },
  ];
  const next = step(r, e.at, { signOffs });
  return ok(isSatisfied(next) ? { ...next, state: 'approved' } : next);
}

export function deny(
  r: ActionRequest,
  by: string,
  reason: string,
  at: number,
): Result<ActionRequest> {
  const pending = requirePending(r, at);
  if (!pending.ok) return pending;
  if (reason.trim() === '') return fail('REASON_REQUIRED', 'Say why you deny it.');
  return ok(step(r, at, { state: 'denied', decidedBy: by, decisionReason: reason }));
}

export function cancel(
  r: ActionRequest,
  by: string,
  reason: string,
  at: number,
): Result<ActionRequest> {
  if (by !== r.requester) return fail('NOT_REQUESTER', 'Only the requester may cancel it.');
  if (r.state !== 'pending') return fail('NOT_PENDING', `Request ${r.id} is already ${r.state}.`);
  return ok(step(r, at, { state: 'cancelled', decidedBy: by, decisionReason: reason }));
}

export function expire(r: ActionRequest, at: number): Result<ActionRequest> {
  if (r.state !== 'pending' || at < r.expiresAt) return fail('NOT_PENDING');
  return ok(step(r, at, { state: 'expired' }));
}

/**
 * Changes a pending request's parameters or links. The digest changes with them, so
 * every earlier sign-off stops counting: a changed request needs fresh approvals.
 */
export function amend(
  r: ActionRequest,
  by: string,
  change: { params: Record<string, ParamValue>; links: Links; digest: string },
  at: number,
): Result<ActionRequest> {
  if (by !== r.requester) return fail('NOT_REQUESTER', 'Only the requester may change it.');
  const pending = requirePending(r, at);
  if (!pending.ok) return pending;
  return ok(step(r, at, { params: change.params, links: change.links, digest: change.digest }));
}

/** The worker takes an approved request; from here a crash leaves it `running`. */
export function startExecution(r: ActionRequest, at: number): Result<ActionRequest> {
  if (r.state !== 'approved') return fail('NOT_PENDING', `Request ${r.id} is ${r.state}.`);
  return ok(step(r, at, { state: 'running', execution: { attempt: 1, startedAt: at } }));
}

/**
 * A worker found the request `running` with nobody holding it: the process died
 * mid-call. An idempotent command runs again; any other ends `unknown` for a human.
 */
export function recoverExecution(
  r: ActionRequest,
  idempotent: boolean,
  at: number,
): Result<ActionRequest> {
  if (r.state !== 'running' || !r.execution) return fail('NOT_PENDING');
  if (idempotent) {
    return ok(step(r, at, { execution: { attempt: r.execution.attempt + 1, startedAt: at } }));
  }
  return ok(
    step(r, at, {
      state: 'unknown',
      execution: {
        ...r.execution,
        finishedAt: at,
        outcome: 'unknown',
        error: 'the process stopped while the command was running; check the target and settle',
      },
    }),
  );
}

export function finishExecution(
  r: ActionRequest,
  outcome: { ok: boolean; output: string; error?: string },
  at: number,
): Result<ActionRequest> {
  if (r.state !== 'running' || !r.execution) return fail('NOT_PENDING');
  const state = outcome.ok ? 'succeeded' : 'failed';
  return ok(
    step(r, at, {
      state,
      execution: {
        ...r.execution,
        finishedAt: at,
        outcome: state,
        output: outcome.output,
        ...(outcome.error ? { error: outcome.error } : {}),
      },
    }),
  );
}

/** A person records what really happened to an `unknown` execution. */
export function settle(
  r: ActionRequest,
  by: string,
  outcome: 'succeeded' | 'failed',
  note: string,
  at: number,
): Result<ActionRequest> {
  if (r.state !== 'unknown' || !r.execution) {
    return fail('NOT_SETTLEABLE', `Request ${r.id} is ${r.state}, not unknown.`);
  }
  if (note.trim() === '') return fail('REASON_REQUIRED', 'Say what you checked.');
  return ok(
    step(r, at, {
      state: outcome,
      execution: { ...r.execution, outcome, settledBy: by, settleNote: note },
    }),
  );
}

/** An execution-time re-check found a sign-off no longer valid: back to pending. */
export function withdrawSignOffs(
  r: ActionRequest,
  keep: (s: SignOff) => boolean,
  at: number,
): ActionRequest {
  return step(r, at, { state: 'pending', signOffs: r.signOffs.filter(keep) });
}
