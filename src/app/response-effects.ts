/**
 * The outbox's incident work, after the state committed: open the incident an alert group
 * asks for, bring headers and step cards in chat up to date, follow a request's progress
 * into its incident's timeline and its runbook run, and the periodic sweep (status-update
 * reminders, wait steps that time out).
 */
import { changeFromRequest } from '../domain/change-history.ts';
import type { TimelineDraft, TimelineKind } from '../domain/incident-model.ts';
import type { ActionRequest } from '../domain/request-model.ts';
import { runView } from '../domain/runbook-run.ts';
import { requestSettled, runbookOf, tickRuns } from './advance-runbook.ts';
import type { AppDeps } from './context.ts';
import { showIncidentEffect } from './incident-effects.ts';
import { alertGroupChanged } from './open-incident.ts';
import type { OutboxEffect, StoreTx } from './ports.ts';
import { incidentHeader } from './read-incidents.ts';

export async function handleResponseEffect(deps: AppDeps, effect: OutboxEffect): Promise<void> {
  if (effect.kind === 'open-incident') return alertGroupChanged(deps, effect);
  if (effect.kind === 'show-incident') await showIncident(deps, effect);
  else if (effect.kind === 'show-run') await showRun(deps, effect);
  await deps.store.transaction((tx) => tx.deleteOutbox(effect.id), { durable: false });
}

async function showIncident(deps: AppDeps, effect: OutboxEffect): Promise<void> {
  const chat = deps.incidentChat;
  const incident = await deps.store.getIncident(String(effect.payload.incidentId));
  if (!chat || !incident) return;
  const settings = deps.catalog.current().incidents;
  const where = await chat.showIncident(await incidentHeader(deps, incident), settings);
  const post = effect.payload.post as { key: string; text: string } | undefined;
  if (post) await chat.postToIncident(incident, post.key, post.text);
  if (where && where.channel !== incident.channel) {
    await deps.store.transaction(async (tx) => {
      const i = await tx.getIncident(incident.id);
      if (!i || i.channel === where.channel) return;
      await tx.updateIncident({
        ...i,
        channel: where.channel,
        dedicatedChannel: settings.chat === 'channel',
        updatedAt: deps.clock.now(),
        version: i.version + 1,
      });
    });
  }
}

async function showRun(deps: AppDeps, effect: OutboxEffect): Promise<void> {
  const chat = deps.incidentChat;
  const run = await deps.store.getRun(String(effect.payload.runId));
  if (!chat || !run) return;
  const incident = run.incident ? await deps.store.getIncident(run.incident) : undefined;
  await chat.showRun(runView(runbookOf(deps.catalog.current(), run), run), incident);
}

const TIMELINE_OF: Record<string, { kind: TimelineKind; verb: string }> = {
  created: { kind: 'request', verb: 'asked for' },
  'signed-off': { kind: 'approval', verb: 'signed off' },
  started: { kind: 'execution', verb: 'started' },
  finished: { kind: 'execution', verb: 'finished' },
  unknown: { kind: 'execution', verb: 'ended unknown:' },
  denied: { kind: 'approval', verb: 'denied' },
  cancelled: { kind: 'request', verb: 'cancelled' },
  expired: { kind: 'request', verb: 'expired' },
  settled: { kind: 'execution', verb: 'settled' },
  'approval-withdrawn': { kind: 'request', verb: 'was refused at execution time:' },
};

/**
 * After a request's notification: its incident's timeline gets the line, its runbook run
 * moves on when it reached a final state, and a succeeded change is recorded as the
 * service's last deploy or config change — with the outbox row, in one transaction, so
 * none of it happens twice.
 */
export async function followUpRequest(deps: AppDeps, effect: OutboxEffect): Promise<void> {
  const requestId = effect.payload.requestId ? String(effect.payload.requestId) : undefined;
  const event = String(effect.payload.event);
  let acted: { route: string; seconds: number } | undefined;
  const r = await deps.store.transaction(
    async (tx) => {
      const r = requestId ? await tx.getRequest(requestId) : undefined;
      if (r) {
        const now = deps.clock.now();
        acted = await intoIncident(tx, r, event, now);
        await requestSettled(deps, tx, r, now);
        const change =
          event === 'finished' ? changeFromRequest(r, deps.catalog.current()) : undefined;
        if (change) await tx.recordChange(change);
      }
      await tx.deleteOutbox(effect.id);
      return r;
      // Lost only with the machine: the effect row comes back with it and redoes all of this.
    },
    { durable: false },
  );
  if (r) measure(deps, r, event, acted);
}

/** The request's step in the review metrics, once its change committed. */
function measure(
  deps: AppDeps,
  r: ActionRequest,
  event: string,
  acted: { route: string; seconds: number } | undefined,
): void {
  const m = deps.responseMetrics;
  if (!m) return;
  if (acted) m.alertToAction(acted.route, acted.seconds);
  const approvedAt = Math.max(r.createdAt, ...r.signOffs.map((s) => s.at));
  if (event === 'signed-off' && r.state === 'approved') {
    m.requestToApproval(r.command, (approvedAt - r.createdAt) / 1000);
  }
  if (event === 'finished' && r.execution?.finishedAt !== undefined) {
    m.approvalToResult(r.command, r.state, (r.execution.finishedAt - approvedAt) / 1000);
  }
}

/** Returns the time to first action when this request was the incident's first action. */
async function intoIncident(
  tx: StoreTx,
  r: ActionRequest,
  event: string,
  now: number,
): Promise<{ route: string; seconds: number } | undefined> {
  const id = r.links.incident;
  const shape = TIMELINE_OF[event];
  if (!id || !shape) return undefined;
  const incident = await tx.getIncident(id);
  if (!incident) return undefined;
  const signOff = event === 'signed-off' ? r.signOffs[r.signOffs.length - 1] : undefined;
  const who =
    event === 'created' || event === 'cancelled'
      ? r.requester
      : event === 'denied'
        ? (r.decidedBy ?? 'system')
        : (signOff?.by ?? 'system');
  const subject =
    signOff !== undefined
      ? `${signOff.by} ${signOff.kind === 'approval' ? 'approved' : `gave ${signOff.kind} for`}`
      : event === 'created' || event === 'denied'
        ? `${who} ${shape.verb}`
        : `${r.id} ${shape.verb}`;
  const outcome = event === 'finished' ? ` (${r.state})` : '';
  const line: TimelineDraft = {
    incidentId: id,
    at: now,
    kind: shape.kind,
    actor: who,
    text: `${subject} ${r.command} on ${r.service} ${r.environment}${outcome}`,
    ref: r.id,
    detail: {
      state: r.state,
      digest: r.digest,
      ...(event === 'finished' && r.execution?.output
        ? { output: r.execution.output.slice(0, 2000) }
        : {}),
    },
  };
  await tx.appendTimeline([line]);
  if (incident.status === 'resolved') return undefined;
  const linked = incident.requests.includes(r.id);
  const acted = incident.firstActionAt === undefined && event === 'created';
  if (!linked || acted) {
    await tx.updateIncident({
      ...incident,
      requests: linked ? incident.requests : [...incident.requests, r.id],
      ...(acted ? { firstActionAt: r.createdAt } : {}),
      updatedAt: now,
      version: incident.version + 1,
    });
  }
  // A pre-approved mitigation has no approval prompt: its outcome goes in the incident's thread.
  const told =
    r.origin?.kind === 'mitigation' &&
    (event === 'finished' || event === 'unknown' || event === 'approval-withdrawn')
      ? { key: `${r.id}-${event}`, text: `First mitigation ${line.text}` }
      : undefined;
  await tx.enqueue([showIncidentEffect(incident, now, told, `${r.id}-${event}`)]);
  return acted && incident.origin.kind === 'alert'
    ? { route: incident.origin.route, seconds: (r.createdAt - incident.createdAt) / 1000 }
    : undefined;
}

/** Reminders for incidents whose status update is due, and wait steps past their deadline. */
export async function sweepResponse(deps: AppDeps): Promise<void> {
  const now = deps.clock.now();
  const settings = deps.catalog.current().incidents;
  for (const due of await deps.store.incidentsDueReminder(now, 20)) {
    await deps.store.transaction(async (tx) => {
      const i = await tx.getIncident(due.id);
      if (!i || i.status === 'resolved' || i.nextReminderAt === undefined || i.nextReminderAt > now)
        return;
      const minutes = settings.reminderMinutes[i.severity.level];
      const next = {
        ...i,
        updatedAt: now,
        version: i.version + 1,
        ...(minutes > 0 ? { nextReminderAt: now + minutes * 60_000 } : {}),
      };
      if (minutes <= 0) delete next.nextReminderAt;
      await tx.updateIncident(next);
      await tx.enqueue([
        showIncidentEffect(next, now, {
          key: `reminder-${now}`,
          text: `Reminder: ${i.id} (${i.severity.level}) is ${i.status}; post a status update with /ops incident update ${i.id} text="…"`,
        }),
      ]);
    });
  }
  await tickRuns(deps, now);
}
