/**
 * The audit entries and outbox effects that go with each request transition, so every
 * use case commits them the same way.
 */
import type { AuditDraft } from '../domain/audit-chain.ts';
import type { ActionRequest } from '../domain/request-model.ts';
import { type Actor, type AppDeps, auditOf, SYSTEM } from './context.ts';
import type { OutboxDraft } from './ports.ts';

export interface Effects {
  audit: AuditDraft[];
  outbox: OutboxDraft[];
}

/** The effect that runs an approved request; its key makes a second enqueue a no-op. */
export function executeEffect(r: ActionRequest, at: number): OutboxDraft {
  return { kind: 'execute', key: `execute:${r.id}`, payload: { requestId: r.id }, availableAt: at };
}

export function notifyEffect(
  r: ActionRequest,
  event: string,
  at: number,
  extra: Record<string, unknown> = {},
): OutboxDraft {
  return {
    kind: 'notify',
    key: `notify:${r.id}:${r.version}:${event}`,
    payload: { requestId: r.id, event, state: r.state, ...extra },
    availableAt: at,
  };
}

export function requestAudit(
  actor: Actor | typeof SYSTEM,
  r: ActionRequest,
  action: string,
  at: number,
  detail: Record<string, unknown> = {},
  result = 'ok',
): AuditDraft {
  return auditOf(actor, at, {
    action,
    target: r.id,
    result,
    paramsDigest: r.digest,
    links: r.links,
    detail: {
      command: r.command,
      service: r.service,
      environment: r.environment,
      state: r.state,
      ...detail,
    },
  });
}

export function requestCreatedEffects(
  deps: AppDeps,
  actor: Actor,
  r: ActionRequest,
  policy: string | undefined,
): Effects {
  const at = r.createdAt;
  const audit = [
    requestAudit(actor, r, 'request.created', at, {
      class: r.class,
      policy: policy ?? null,
      needs: r.requirements.map((q) => `${q.count} ${q.kind}`),
      ...(r.reason ? { reason: r.reason } : {}),
    }),
  ];
  const outbox = [notifyEffect(r, 'created', at)];
  if (r.breakGlass) {
    audit.push(requestAudit(actor, r, 'break-glass.used', at, { reason: r.breakGlass.reason }));
    outbox.push(notifyEffect(r, 'break-glass', at, { loud: true }));
  }
  if (r.state === 'approved') {
    if (!r.breakGlass) audit.push(requestAudit(SYSTEM, r, 'request.approved', at, { by: [] }));
    outbox.push(executeEffect(r, at));
  }
  deps.log.info({ request: r.id, command: r.command, state: r.state }, 'request created');
  return { audit, outbox };
}
