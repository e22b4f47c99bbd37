/**
 * Use cases: read incidents and runbook runs — the list, the header at a glance, the
 * timeline, the postmortem draft, a run's guided view. A person sees an incident with the
 * view grant on its service and environment (reserved command id `incident`); not found
 * and not visible answer alike.
 */
import type { Catalog } from '../domain/catalog.ts';
import { findRunbook } from '../domain/catalog.ts';
import { DomainError } from '../domain/errors.ts';
import type {
  Incident,
  IncidentFilter,
  IncidentHeaderView,
  TimelineEntry,
} from '../domain/incident-model.ts';
import { can } from '../domain/policy.ts';
import { postmortemMarkdown } from '../domain/postmortem.ts';
import type { ActionRequest } from '../domain/request-model.ts';
import type { RunbookRun, RunView } from '../domain/runbook-model.ts';
import { runView } from '../domain/runbook-run.ts';
import { runbookOf } from './advance-runbook.ts';
import type { Actor, AppDeps } from './context.ts';
import type { RunFilter } from './ports.ts';

const sees = (
  catalog: Catalog,
  actor: Actor,
  what: string,
  x: Pick<Incident, 'service' | 'environment'>,
) =>
  can(catalog, actor.person, 'view', {
    command: what,
    service: x.service,
    environment: x.environment,
  });

export async function listIncidents(
  deps: AppDeps,
  actor: Actor,
  filter: IncidentFilter,
): Promise<Incident[]> {
  const catalog = deps.catalog.current();
  return (await deps.store.listIncidents(filter)).filter((i) =>
    sees(catalog, actor, 'incident', i),
  );
}

export async function getIncident(deps: AppDeps, actor: Actor, id: string): Promise<Incident> {
  const i = await deps.store.getIncident(id);
  if (!i || !sees(deps.catalog.current(), actor, 'incident', i)) {
    throw new DomainError('UNKNOWN_INCIDENT', `There is no incident ${id}.`);
  }
  return i;
}

/** What the header shows: alerts behind it, last deploy and config change, runbooks, runs. */
export async function incidentHeader(deps: AppDeps, i: Incident): Promise<IncidentHeaderView> {
  const catalog = deps.catalog.current();
  const alerts: IncidentHeaderView['alerts'] = [];
  for (const groupId of i.alertGroups.slice(0, 5)) {
    for (const a of await deps.store.ingest.groupAlerts(groupId, 5)) {
      alerts.push({ title: a.facts.title, state: a.state, since: a.facts.since });
    }
  }
  const changes = await deps.store.lastChanges(i.service, i.environment, deps.clock.now());
  const runs = await deps.store.listRuns({ incident: i.id, states: ['active'], limit: 10 });
  return {
    incident: i,
    alerts,
    ...(changes.deploy ? { lastDeploy: changes.deploy } : {}),
    ...(changes.config ? { lastConfigChange: changes.config } : {}),
    runbooks: i.runbooks.map((id) => ({ id, title: findRunbook(catalog, id)?.title ?? id })),
    activeRuns: runs.map((r) => {
      const current = r.steps[r.steps.length - 1];
      const step = r.definition?.steps.find((s) => s.id === current?.stepId);
      return { id: r.id, runbook: r.runbook, ...(step ? { step: step.title } : {}) };
    }),
  };
}

export async function incidentTimeline(
  deps: AppDeps,
  actor: Actor,
  id: string,
): Promise<TimelineEntry[]> {
  await getIncident(deps, actor, id);
  const all: TimelineEntry[] = [];
  for (let after = 0; ; ) {
    const page = await deps.store.timeline(id, after, 5000);
    all.push(...page);
    if (page.length < 5000) return all;
    after = page[page.length - 1]!.seq;
  }
}

/** The postmortem draft (Markdown) built from the incident's timeline, requests and runs. */
export async function exportPostmortem(deps: AppDeps, actor: Actor, id: string): Promise<string> {
  const incident = await getIncident(deps, actor, id);
  const timeline = await incidentTimeline(deps, actor, id);
  const catalog = deps.catalog.current();
  const requests: ActionRequest[] = [];
  for (const rid of incident.requests) {
    const r = await deps.store.getRequest(rid);
    if (r) requests.push(r);
  }
  const runs = await deps.store.listRuns({ incident: id, limit: 500 });
  return postmortemMarkdown({
    catalog,
    incident,
    timeline,
    requests,
    runs: runs.reverse().map((run) => {
      const book = run.definition ?? findRunbook(catalog, run.runbook);
      return {
        run,
        runbookTitle: book?.title ?? run.runbook,
        stepTitles: Object.fromEntries((book?.steps ?? []).map((s) => [s.id, s.title])),
      };
    }),
  });
}

export async function listRuns(
  deps: AppDeps,
  actor: Actor,
  filter: RunFilter,
): Promise<RunbookRun[]> {
  const catalog = deps.catalog.current();
  return (await deps.store.listRuns(filter)).filter((r) => sees(catalog, actor, 'runbook', r));
}

export async function getRun(deps: AppDeps, actor: Actor, id: string): Promise<RunView> {
  const run = await deps.store.getRun(id);
  const catalog = deps.catalog.current();
  if (!run || !sees(catalog, actor, 'runbook', run)) {
    throw new DomainError('NOT_FOUND', `There is no runbook run ${id}.`);
  }
  return runView(runbookOf(catalog, run), run);
}
