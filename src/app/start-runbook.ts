/**
 * Use case: start a guided run of a catalog runbook from an incident (its service and
 * environment) or from a change ticket (service and environment named). The run pins the
 * runbook's digest and keeps a copy of it, so a catalog change never alters a run under way.
 */
import { type Catalog, findRunbook, findService } from '../domain/catalog.ts';
import { DomainError } from '../domain/errors.ts';
import type { Incident } from '../domain/incident-model.ts';
import { can } from '../domain/policy.ts';
import type { RunbookRun } from '../domain/runbook-model.ts';
import { startRun } from '../domain/runbook-run.ts';
import { commitRunChange, mayOperate } from './advance-runbook.ts';
import type { Actor, AppDeps } from './context.ts';
import { refuse } from './refuse.ts';

export interface StartRunbookInput {
  runbook: string;
  incident?: string;
  ticket?: string;
  /** Required with a ticket; taken from the incident otherwise. */
  service?: string;
  environment?: string;
}

export async function startRunbook(
  deps: AppDeps,
  actor: Actor,
  input: StartRunbookInput,
): Promise<RunbookRun> {
  try {
    return await start(deps, actor, input);
  } catch (err) {
    if (err instanceof DomainError && err.status < 500) {
      return refuse(deps, actor, 'runbook.start.refused', `runbook:${input.runbook}`, err);
    }
    throw err;
  }
}

async function start(deps: AppDeps, actor: Actor, input: StartRunbookInput): Promise<RunbookRun> {
  const catalog = deps.catalog.current();
  const runbook = findRunbook(catalog, input.runbook);
  if (!runbook) throw new DomainError('UNKNOWN_RUNBOOK', `There is no runbook "${input.runbook}".`);
  if (!input.incident && !input.ticket) {
    throw new DomainError(
      'LINK_REQUIRED',
      'A runbook run starts from an incident or a change ticket: add incident=… or ticket=….',
    );
  }
  let firstAction: { route: string; seconds: number } | undefined;
  const run = await deps.store.transaction(async (tx) => {
    const incident = input.incident ? await tx.getIncident(input.incident) : undefined;
    // An incident the person may not view answers as one that does not exist.
    if (input.incident && (!incident || !mayView(catalog, actor, incident))) {
      throw new DomainError('UNKNOWN_INCIDENT', `There is no incident ${input.incident}.`);
    }
    if (incident?.status === 'resolved') {
      throw new DomainError('INCIDENT_CLOSED', `${incident.id} is resolved.`);
    }
    const service = incident?.service ?? input.service;
    const environment = incident?.environment ?? input.environment;
    if (!service || !environment) {
      throw new DomainError(
        'INVALID_INPUT',
        'A run from a ticket needs service=… and environment=….',
      );
    }
    const svc = findService(catalog, service);
    if (!svc) throw new DomainError('UNKNOWN_SERVICE', `There is no service "${service}".`);
    if (!svc.environments.some((e) => e.name === environment)) {
      throw new DomainError(
        'UNKNOWN_ENVIRONMENT',
        `${service} has no environment "${environment}".`,
      );
    }
    if (!runbook.services.includes('*') && !runbook.services.includes(service)) {
      throw new DomainError(
        'INVALID_INPUT',
        `Runbook ${runbook.id} is for ${runbook.services.join(', ')}, not ${service}.`,
      );
    }
    if (!mayOperate(catalog, actor, { service, environment })) {
      throw new DomainError(
        'FORBIDDEN',
        `You have no request grant for runbooks on ${service} ${environment}.`,
      );
    }
    const now = deps.clock.now();
    const first = startRun(runbook, {
      id: deps.ids.next('RBR-'),
      service,
      environment,
      ...(incident ? { incident: incident.id } : {}),
      ...(input.ticket ? { ticket: input.ticket } : {}),
      startedBy: actor.person.id,
      now,
    });
    const started: RunbookRun = { ...first.run, definition: runbook };
    await tx.insertRun(started);
    if (incident?.firstActionAt === undefined && incident?.origin.kind === 'alert') {
      firstAction = { route: incident.origin.route, seconds: (now - incident.createdAt) / 1000 };
    }
    if (incident) {
      const linked = {
        ...incident,
        runs: [...incident.runs, started.id],
        firstActionAt: incident.firstActionAt ?? now,
        updatedAt: now,
        version: incident.version + 1,
      };
      await tx.updateIncident(linked);
      await tx.appendTimeline([
        {
          incidentId: incident.id,
          at: now,
          kind: 'runbook',
          actor: actor.person.id,
          text: `${actor.person.name} started runbook ${runbook.id} (${runbook.title})`,
          ref: started.id,
          detail: { digest: runbook.digest },
        },
      ]);
    }
    await commitRunChange(
      deps,
      tx,
      undefined,
      started,
      runbook,
      first.effects,
      actor,
      { kind: 'start' },
      now,
    );
    return started;
  });
  if (firstAction) deps.responseMetrics?.alertToAction(firstAction.route, firstAction.seconds);
  deps.wakeDispatcher?.();
  return run;
}

function mayView(catalog: Catalog, actor: Actor, i: Pick<Incident, 'service' | 'environment'>) {
  return can(catalog, actor.person, 'view', {
    command: 'incident',
    service: i.service,
    environment: i.environment,
  });
}
