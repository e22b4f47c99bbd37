/**
 * Use cases: what responders do to an open incident — propose and confirm its severity,
 * take roles, post status updates, mark it mitigated, resolve it. Each is one audited
 * transition with a timeline line, and the header in chat is updated in place.
 */
import type { Severity } from '../domain/catalog.ts';
import { DomainError } from '../domain/errors.ts';
import * as life from '../domain/incident-lifecycle.ts';
import type { Incident, IncidentRole } from '../domain/incident-model.ts';
import { changeIncident } from './change-incident.ts';
import type { Actor, AppDeps } from './context.ts';
import { showIncidentEffect } from './incident-effects.ts';

/** Proposes a severity; it is in force at once when the person may confirm it (never sev1). */
export function changeSeverity(
  deps: AppDeps,
  actor: Actor,
  input: { incidentId: string; severity: Severity },
): Promise<Incident> {
  const catalog = deps.catalog.current();
  return changeIncident(deps, actor, input.incidentId, {
    action: 'incident.severity-proposed',
    decide: (i, now) => life.proposeSeverity(i, catalog, actor.person, input.severity, now),
    detail: (_prev, next) => ({
      proposed: input.severity,
      confirmed: next.severity.confirmed && next.severity.level === input.severity,
    }),
  });
}

export function confirmSeverity(
  deps: AppDeps,
  actor: Actor,
  input: { incidentId: string },
): Promise<Incident> {
  const catalog = deps.catalog.current();
  return changeIncident(deps, actor, input.incidentId, {
    action: 'incident.severity-confirmed',
    decide: (i, now) => life.confirmSeverity(i, catalog, actor.person, now),
    detail: (_prev, next) => ({ level: next.severity.level }),
  });
}

export function assignIncidentRole(
  deps: AppDeps,
  actor: Actor,
  input: { incidentId: string; role: IncidentRole; person: string },
): Promise<Incident> {
  const catalog = deps.catalog.current();
  if (!catalog.people.some((p) => p.id === input.person)) {
    throw new DomainError('INVALID_INPUT', `There is no person "${input.person}" in the catalog.`);
  }
  return changeIncident(deps, actor, input.incidentId, {
    action: 'incident.role-assigned',
    decide: (i, now) => life.assignRole(i, input.role, input.person, actor.person.id, now),
    detail: () => ({ role: input.role, person: input.person }),
  });
}

export function postStatusUpdate(
  deps: AppDeps,
  actor: Actor,
  input: { incidentId: string; text: string },
): Promise<Incident> {
  const catalog = deps.catalog.current();
  return changeIncident(deps, actor, input.incidentId, {
    action: 'incident.status-update',
    decide: (i, now) => life.postStatusUpdate(i, catalog, input.text, actor.person.id, now),
    outbox: (next, now) => [
      showIncidentEffect(next, now, {
        key: `update-${next.version}`,
        text: `Status update from ${actor.person.name}: ${input.text}`,
      }),
    ],
  });
}

export function markMitigated(
  deps: AppDeps,
  actor: Actor,
  input: { incidentId: string; note?: string },
): Promise<Incident> {
  return changeIncident(deps, actor, input.incidentId, {
    action: 'incident.mitigated',
    decide: (i, now) => life.markMitigated(i, actor.person.id, now, input.note),
    detail: () => (input.note ? { note: input.note } : {}),
  });
}

export function resolveIncident(
  deps: AppDeps,
  actor: Actor,
  input: { incidentId: string; note?: string },
): Promise<Incident> {
  return changeIncident(deps, actor, input.incidentId, {
    action: 'incident.resolved',
    decide: (i, now) => life.resolve(i, actor.person.id, now, input.note),
    detail: () => (input.note ? { note: input.note } : {}),
    outbox: (next, now) => [
      showIncidentEffect(next, now, {
        key: 'resolved',
        text: `Resolved by ${actor.person.name}${input.note ? `: ${input.note}` : ''}`,
      }),
    ],
  });
}
