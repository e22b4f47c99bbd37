/**
 * What goes with every incident and runbook-run change, so each use case commits it the
 * same way: the row, its timeline lines, the audit entries and the outbox effects that
 * bring chat up to date — one transaction.
 */
import type { AuditDraft } from '../domain/audit-chain.ts';
import type { Incident, TimelineDraft } from '../domain/incident-model.ts';
import type { RunbookRun } from '../domain/runbook-model.ts';
import { type Actor, auditOf, type SYSTEM } from './context.ts';
import type { OutboxDraft, StoreTx } from './ports.ts';

export type Who = Actor | typeof SYSTEM | { id: string; surface: 'system' };

/** Brings the incident's header in chat up to date; `post` also puts a line in its thread. */
export function showIncidentEffect(
  i: Incident,
  at: number,
  post?: { key: string; text: string },
  cause = `v${i.version}`,
): OutboxDraft {
  return {
    kind: 'show-incident',
    key: `show-incident:${i.id}:${cause}${post ? `:${post.key}` : ''}`,
    payload: { incidentId: i.id, ...(post ? { post } : {}) },
    availableAt: at,
  };
}

export function showRunEffect(r: RunbookRun, at: number): OutboxDraft {
  return {
    kind: 'show-run',
    key: `show-run:${r.id}:v${r.version}`,
    payload: { runId: r.id },
    availableAt: at,
  };
}

export function incidentAudit(
  who: Who,
  i: Incident,
  action: string,
  at: number,
  detail: Record<string, unknown> = {},
  result = 'ok',
): AuditDraft {
  return auditOf(who, at, {
    action,
    target: i.id,
    result,
    links: { incident: i.id },
    detail: {
      service: i.service,
      environment: i.environment,
      severity: i.severity.level,
      status: i.status,
      ...detail,
    },
  });
}

export function runAudit(
  who: Who,
  r: RunbookRun,
  action: string,
  at: number,
  detail: Record<string, unknown> = {},
  result = 'ok',
): AuditDraft {
  return auditOf(who, at, {
    action,
    target: r.id,
    result,
    paramsDigest: r.runbookDigest,
    links: {
      ...(r.incident ? { incident: r.incident } : {}),
      ...(r.ticket ? { ticket: r.ticket } : {}),
    },
    detail: { runbook: r.runbook, service: r.service, environment: r.environment, ...detail },
  });
}

/** Writes an incident change (insert when `version` is 1) with its timeline, audit and effects. */
export async function commitIncident(
  tx: StoreTx,
  i: Incident,
  timeline: readonly TimelineDraft[],
  audit: readonly AuditDraft[],
  outbox: readonly OutboxDraft[] = [],
): Promise<void> {
  if (i.version === 1) await tx.insertIncident(i);
  else await tx.updateIncident(i);
  if (timeline.length > 0) await tx.appendTimeline(timeline);
  if (audit.length > 0) await tx.appendAudit(audit);
  await tx.enqueue([showIncidentEffect(i, i.updatedAt), ...outbox]);
}
