/**
 * The one way a use case changes a stored incident: lock it, check the person may act on
 * it, apply a pure transition, then commit the incident, its timeline lines, the audit
 * entry and the chat update in one transaction. A refusal commits nothing but its own
 * audit entry.
 */
import type { Catalog } from '../domain/catalog.ts';
import { DomainError, type Result } from '../domain/errors.ts';
import type { Incident, TimelineDraft } from '../domain/incident-model.ts';
import { can } from '../domain/policy.ts';
import type { Actor, AppDeps } from './context.ts';
import { commitIncident, incidentAudit } from './incident-effects.ts';
import type { OutboxDraft, StoreTx } from './ports.ts';
import { refuse } from './refuse.ts';

export type Transition = Result<{ incident: Incident; timeline: TimelineDraft[] }>;

export interface IncidentChange {
  /** Audit action, e.g. `incident.resolved`; refusals log `<action>.refused`. */
  action: string;
  decide(i: Incident, now: number): Transition;
  /** Extra audit detail. */
  detail?(prev: Incident, next: Incident): Record<string, unknown>;
  /** Effects beyond the header update (e.g. a status line posted in the thread). */
  outbox?(next: Incident, now: number): OutboxDraft[];
  /** More work in the same transaction (e.g. a runbook run moved on). */
  also?(tx: StoreTx, next: Incident, now: number): Promise<void>;
}

/**
 * Who may act on incidents of a service environment: a `request` grant on the reserved
 * command id `incident` (a grant on `*` includes it).
 */
export function mayRespond(
  catalog: Catalog,
  actor: Actor,
  i: Pick<Incident, 'service' | 'environment'>,
) {
  return can(catalog, actor.person, 'request', {
    command: 'incident',
    service: i.service,
    environment: i.environment,
  });
}

type Outcome = { ok: true; incident: Incident } | { ok: false; error: DomainError };

export async function changeIncident(
  deps: AppDeps,
  actor: Actor,
  incidentId: string,
  change: IncidentChange,
): Promise<Incident> {
  const catalog = deps.catalog.current();
  const outcome = await deps.store.transaction(async (tx): Promise<Outcome> => {
    const i = await tx.getIncident(incidentId);
    if (!i || !can(catalog, actor.person, 'view', { command: 'incident', ...i })) {
      return {
        ok: false,
        error: new DomainError('UNKNOWN_INCIDENT', `There is no incident ${incidentId}.`),
      };
    }
    if (!mayRespond(catalog, actor, i)) {
      return {
        ok: false,
        error: new DomainError(
          'FORBIDDEN',
          `You have no request grant for incidents of ${i.service} ${i.environment}.`,
        ),
      };
    }
    const now = deps.clock.now();
    const next = change.decide(i, now);
    if (!next.ok) return next;
    const { incident, timeline } = next.value;
    await commitIncident(
      tx,
      incident,
      timeline,
      [incidentAudit(actor, incident, change.action, now, change.detail?.(i, incident) ?? {})],
      change.outbox?.(incident, now) ?? [],
    );
    await change.also?.(tx, incident, now);
    return { ok: true, incident };
  });
  if (!outcome.ok) {
    return refuse(deps, actor, `${change.action}.refused`, incidentId, outcome.error);
  }
  deps.wakeDispatcher?.();
  return outcome.incident;
}
