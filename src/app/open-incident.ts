/**
 * Effect handler: an alert group of a route with `incident: true` changed. The first time
 * it fires it opens the group's incident and, when a catalog rule says so, the
 * pre-approved first mitigation — in one durable transaction, so the mitigation runs at
 * most once however often the effect is retried. While that incident is unresolved, the
 * route's other alert groups for the same service environment join it instead of opening
 * incidents of their own: a storm of alarms is one incident with one first mitigation.
 * Later changes update the header, and once every alarm behind the incident is back to
 * OK, runs of the incident waiting for that move on.
 */
import { findService } from '../domain/catalog.ts';
import { DomainError } from '../domain/errors.ts';
import { linkAlertGroup, openIncident } from '../domain/incident-lifecycle.ts';
import type { Incident, TimelineDraft } from '../domain/incident-model.ts';
import { conditionMet } from './advance-runbook.ts';
import { type AppDeps, SYSTEM } from './context.ts';
import { firstMitigation } from './first-mitigation.ts';
import { commitIncident, incidentAudit, showIncidentEffect } from './incident-effects.ts';
import type { OutboxEffect, StoreTx } from './ports.ts';

export async function alertGroupChanged(deps: AppDeps, effect: OutboxEffect): Promise<void> {
  const groupId = String(effect.payload.groupId);
  const group = await deps.store.ingest.getGroup(groupId);
  const [latest] = group ? await deps.store.ingest.groupAlerts(groupId, 1) : [];
  const catalog = deps.catalog.current();
  const route = group && catalog.routes.find((r) => r.id === group.route);
  let touched: Incident | undefined;
  let opened: { ran?: string } | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      touched = await deps.store.transaction(async (tx) => {
        const now = deps.clock.now();
        const title = latest?.facts.title ?? 'alarm';
        let incident = await tx.incidentForGroup(groupId);
        if (!incident && group && route?.incident) {
          incident = await tx.openIncidentFor(route.id, group.service, group.environment);
          if (incident && group.firing > 0 && !incident.alertGroups.includes(groupId)) {
            incident = await join(tx, incident, groupId, title, now);
          } else if (incident && !incident.alertGroups.includes(groupId)) {
            incident = undefined;
          }
        }
        if (incident && group) {
          await groupMoved(tx, incident, group.firing, title, now);
        } else if (group && latest && route?.incident && group.firing > 0) {
          opened = await open(deps, tx, { group, route: route.id, alert: title }, now);
        }
        await tx.deleteOutbox(effect.id);
        return incident;
      });
      break;
    } catch (err) {
      // Two workers opening the same group's incident: the loser sees it on the next try.
      if (!(err instanceof DomainError && err.code === 'CONFLICT') || attempt >= 2) throw err;
    }
  }
  if (opened) {
    deps.responseMetrics?.incidentOpened('alert');
    if (opened.ran) {
      deps.responseMetrics?.preapprovedRun(opened.ran);
      if (route) deps.responseMetrics?.alertToAction(route.id, 0);
    }
  }
  if (touched && group?.firing === 0) await whenAllOk(deps, touched);
  deps.wakeDispatcher?.();
}

/** Another alert group of the route joins the open incident (no second mitigation). */
async function join(
  tx: StoreTx,
  incident: Incident,
  groupId: string,
  alert: string,
  now: number,
): Promise<Incident> {
  const linked = linkAlertGroup(incident, groupId, alert, now);
  if (!linked.ok) return incident;
  await tx.updateIncident(linked.value.incident);
  await tx.appendTimeline(linked.value.timeline);
  return linked.value.incident;
}

/** Every alarm behind the incident is back to OK: runs waiting for that move on. */
async function whenAllOk(deps: AppDeps, incident: Incident): Promise<void> {
  for (const id of incident.alertGroups) {
    const g = await deps.store.ingest.getGroup(id);
    if (g && g.firing > 0) return;
  }
  const waiting = await deps.store.listRuns({ incident: incident.id, states: ['active'] });
  if (waiting.length === 0) return;
  await deps.store.transaction(async (tx) => {
    const now = deps.clock.now();
    for (const run of waiting) await conditionMet(deps, tx, run.id, now);
  });
}

interface Opening {
  group: NonNullable<Awaited<ReturnType<AppDeps['store']['ingest']['getGroup']>>>;
  route: string;
  alert: string;
}

/** Opens the incident (and its first mitigation); returns the rule that ran, if any. */
async function open(
  deps: AppDeps,
  tx: StoreTx,
  o: Opening,
  now: number,
): Promise<{ ran?: string } | undefined> {
  const catalog = deps.catalog.current();
  const service = findService(catalog, o.group.service);
  if (!service) {
    deps.log.warn(
      { group: o.group.id, service: o.group.service },
      'incident route names no service',
    );
    return undefined;
  }
  const channel = o.group.channel || service.channels.alerts || service.channels.ops;
  const opened = openIncident(
    {
      id: deps.ids.next('INC-'),
      title: o.alert,
      service: service.id,
      environment: o.group.environment,
      team: service.team,
      severity: o.group.severity as Incident['severity']['level'],
      origin: { kind: 'alert', route: o.route, groupId: o.group.id, alert: o.alert },
      runbooks: o.group.runbooks,
      ...(channel ? { channel } : {}),
    },
    catalog,
    undefined,
    now,
  );
  if (!opened.ok) {
    deps.log.warn({ group: o.group.id, err: opened.error }, 'the alert could not open an incident');
    return undefined;
  }
  let { incident } = opened.value;
  const timeline: TimelineDraft[] = [...opened.value.timeline];
  const audit = [
    incidentAudit(SYSTEM, incident, 'incident.opened', now, {
      route: o.route,
      alertGroup: o.group.id,
      alert: o.alert,
    }),
  ];
  const mitigation = firstMitigation(deps, catalog, o.route, incident, now);
  if (mitigation?.kind === 'run') {
    incident = {
      ...incident,
      mitigation: {
        rule: mitigation.rule.id,
        ruleDigest: mitigation.rule.digest,
        requestId: mitigation.request.id,
      },
      requests: [...incident.requests, mitigation.request.id],
      firstActionAt: now,
    };
    timeline.push(...mitigation.timeline);
  } else if (mitigation?.kind === 'refused') {
    timeline.push(...mitigation.timeline);
    audit.push(
      incidentAudit(
        { id: `rule:${mitigation.rule.id}`, surface: 'system' },
        incident,
        'mitigation.refused',
        now,
        { rule: mitigation.rule.id, ruleDigest: mitigation.rule.digest, why: mitigation.why },
        'FORBIDDEN',
      ),
    );
  }
  await commitIncident(tx, incident, timeline, audit);
  if (mitigation?.kind === 'run') {
    await tx.insertRequest(mitigation.request);
    await tx.appendAudit(mitigation.audit);
    await tx.enqueue(mitigation.outbox);
  }
  deps.log.info(
    { incident: incident.id, route: o.route, mitigation: mitigation?.kind ?? 'none' },
    'incident opened from an alert',
  );
  return mitigation?.kind === 'run' ? { ran: mitigation.rule.id } : {};
}

/** A later change of one of the incident's alert groups: a timeline line and a fresh header. */
async function groupMoved(
  tx: StoreTx,
  incident: Incident,
  firing: number,
  alert: string | undefined,
  now: number,
): Promise<void> {
  await tx.appendTimeline([
    {
      incidentId: incident.id,
      at: now,
      kind: 'alert',
      actor: 'system',
      text: firing > 0 ? `${alert ?? 'alarm'} is firing (${firing})` : `${alert ?? 'alarm'} is OK`,
      detail: { firing },
    },
  ]);
  await tx.enqueue([showIncidentEffect(incident, now, undefined, `alerts-${now}`)]);
}
