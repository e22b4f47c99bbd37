/**
 * Use case: a person declares an incident on a service environment, proposing a severity.
 * The severity is in force at once when the declarer may confirm it, except sev1, which
 * always waits for a second person's confirmation.
 */
import { findRunbook, findService, type Severity } from '../domain/catalog.ts';
import { DomainError } from '../domain/errors.ts';
import { openIncident } from '../domain/incident-lifecycle.ts';
import type { Incident } from '../domain/incident-model.ts';
import { mayRespond } from './change-incident.ts';
import type { Actor, AppDeps } from './context.ts';
import { commitIncident, incidentAudit } from './incident-effects.ts';
import { refuse, wasAudited } from './refuse.ts';

export interface DeclareIncidentInput {
  service: string;
  environment: string;
  severity: Severity;
  title: string;
  /** Runbooks to suggest in the header. */
  runbooks?: string[];
}

export async function declareIncident(
  deps: AppDeps,
  actor: Actor,
  input: DeclareIncidentInput,
): Promise<Incident> {
  try {
    return await declare(deps, actor, input);
  } catch (err) {
    if (err instanceof DomainError && err.status < 500 && !wasAudited(err)) {
      const target = `incident:${input.service}:${input.environment}`.slice(0, 200);
      await refuse(deps, actor, 'incident.declare.refused', target, err);
    }
    throw err;
  }
}

async function declare(
  deps: AppDeps,
  actor: Actor,
  input: DeclareIncidentInput,
): Promise<Incident> {
  const catalog = deps.catalog.current();
  const service = findService(catalog, input.service);
  if (!service) throw new DomainError('UNKNOWN_SERVICE', `There is no service "${input.service}".`);
  if (!service.environments.some((e) => e.name === input.environment)) {
    throw new DomainError(
      'UNKNOWN_ENVIRONMENT',
      `${service.id} has no environment "${input.environment}"; it has ${service.environments.map((e) => e.name).join(', ')}.`,
    );
  }
  if (!mayRespond(catalog, actor, input)) {
    throw new DomainError(
      'FORBIDDEN',
      `You have no request grant for incidents of ${input.service} ${input.environment}.`,
    );
  }
  const runbooks = input.runbooks ?? [];
  const unknown = runbooks.find((id) => !findRunbook(catalog, id));
  if (unknown !== undefined) {
    throw new DomainError('UNKNOWN_RUNBOOK', `There is no runbook "${unknown}".`);
  }
  const now = deps.clock.now();
  const opened = openIncident(
    {
      id: deps.ids.next('INC-'),
      title: input.title,
      service: service.id,
      environment: input.environment,
      team: service.team,
      severity: input.severity,
      origin: { kind: 'declared', by: actor.person.id, surface: actor.surface },
      runbooks,
      ...(actor.channel && actor.channel !== 'dm'
        ? { channel: actor.channel }
        : service.channels.ops || service.channels.alerts
          ? { channel: (service.channels.ops ?? service.channels.alerts) as string }
          : {}),
    },
    catalog,
    actor.person,
    now,
  );
  if (!opened.ok) throw opened.error;
  const { incident, timeline } = opened.value;
  await deps.store.transaction((tx) =>
    commitIncident(tx, incident, timeline, [
      incidentAudit(actor, incident, 'incident.declared', now, {
        title: incident.title,
        confirmed: incident.severity.confirmed,
      }),
    ]),
  );
  deps.responseMetrics?.incidentOpened('declared');
  deps.wakeDispatcher?.();
  return incident;
}
