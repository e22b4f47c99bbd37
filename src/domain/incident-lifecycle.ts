/**
 * The incident lifecycle as pure transitions. Each takes the current incident and returns
 * the next one (never mutating its input) with the timeline lines that tell what happened,
 * or a typed refusal. Every successful transition adds one to `version` and sets
 * `updatedAt`; the store writes it over `version - 1`, so commit each transition's result
 * before applying the next one.
 *
 *   open ──mitigate──▶ mitigated ──resolve──▶ resolved
 *     └──────────────resolve──────────────────┘
 *
 * Rules:
 * - A resolved incident refuses every change with INCIDENT_CLOSED, except `setChannel`
 *   (recording where its chat header lives is bookkeeping of the view, not a change).
 * - A change that would change nothing (assigning the commander already in place, linking
 *   a request twice) is refused with INVALID_INPUT and `details.unchanged = true`; see
 *   `isUnchanged`. Callers that may repeat themselves (at-least-once effects) check for it.
 * - Severity: every change is a proposal; the level in force changes only when someone
 *   who may confirm severities (`mayConfirmSeverity`) confirms it. A person who may
 *   confirm and proposes (or declares) a level other than sev1 gets it at once. **sev1
 *   always needs a confirmation by someone other than its proposer**, whoever proposes it;
 *   a route's severity counts as proposed by `route:<id>`.
 * - A request, runbook run or mitigation linked to the incident is an action on it: the
 *   first one sets `firstActionAt` (time to first action).
 * - Status-update reminders follow the level in force: due `reminderMinutes[level]` after
 *   the last update (or the opening), never before now; 0 means none; none once resolved.
 */
import type { Catalog, Person, Severity } from './catalog.ts';
import { type DomainError, fail, ok, type Result } from './errors.ts';
import {
  type Incident,
  type IncidentOrigin,
  type IncidentRole,
  type IncidentSeverity,
  SEVERITIES,
  type TimelineDraft,
  type TimelineKind,
} from './incident-model.ts';
import { holdsAnyRole } from './policy.ts';
import type { IncidentSettings, MitigationRule } from './runbook-model.ts';

export interface IncidentTransition {
  incident: Incident;
  timeline: TimelineDraft[];
}

/** Longest title accepted, in UTF-16 code units. */
export const TITLE_MAX = 200;
/** Longest status update accepted, in UTF-16 code units. */
export const STATUS_UPDATE_MAX = 2000;
const MINUTE = 60_000;

/** True when the refusal only says the change was already made. */
export function isUnchanged(error: DomainError): boolean {
  return error.code === 'INVALID_INPUT' && error.details.unchanged === true;
}

/** Whether `person` may confirm a severity: holds one of the settings' confirm roles (an empty list lets anyone). */
export function mayConfirmSeverity(catalog: Pick<Catalog, 'incidents'>, person: Person): boolean {
  return holdsAnyRole(person, catalog.incidents.severityConfirmRoles);
}

/** One line of timeline text: whitespace collapsed, cut to `max` characters. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** What a new incident is made from; the caller resolves the service and its team. */
export interface NewIncident {
  /** "INC-…", from the caller's id source. */
  id: string;
  /** One line, 1 to 200 characters after collapsing whitespace. */
  title: string;
  service: string;
  environment: string;
  /** The owning team: the service's team. */
  team: string;
  /** The alert group's (or route's) severity, or the level the declarer proposes. */
  severity: Severity;
  origin: IncidentOrigin;
  /** Suggested runbooks; default none. */
  runbooks?: string[];
  /** The channel the header goes to, when known. */
  channel?: string;
}

/**
 * A new incident (version 1), opened by an alert group or declared by a person. A
 * declarer who may confirm severities gets their level confirmed at once, unless it is
 * sev1; an alert's level always waits for a person. Pass the declarer (the person whose id
 * is `origin.by`) for a declaration, undefined for an alert.
 */
export function openIncident(
  input: NewIncident,
  catalog: Pick<Catalog, 'incidents'>,
  declarer: Person | undefined,
  now: number,
): Result<IncidentTransition> {
  const title = oneLine(input.title, Number.POSITIVE_INFINITY);
  if (title === '' || title.length > TITLE_MAX) {
    return fail('INVALID_INPUT', `An incident needs a title of 1 to ${TITLE_MAX} characters.`);
  }
  if (!SEVERITIES.includes(input.severity)) {
    return fail('INVALID_INPUT', `Severity must be one of ${SEVERITIES.join(', ')}.`);
  }
  const origin = input.origin;
  if (origin.kind === 'declared' && declarer?.id !== origin.by) {
    return fail('INVALID_INPUT', 'A declaration needs the declaring person.');
  }
  const confirmedAtOnce =
    origin.kind === 'declared' &&
    input.severity !== 'sev1' &&
    declarer !== undefined &&
    mayConfirmSeverity(catalog, declarer);
  const severity: IncidentSeverity = confirmedAtOnce
    ? { level: input.severity, confirmed: true, confirmedBy: origin.by }
    : { level: input.severity, confirmed: false };
  const incident = withReminder(
    {
      id: input.id,
      title,
      service: input.service,
      environment: input.environment,
      team: input.team,
      severity,
      status: 'open',
      roles: { responders: [] },
      origin: { ...origin },
      alertGroups: origin.kind === 'alert' ? [origin.groupId] : [],
      runbooks: [...(input.runbooks ?? [])],
      requests: [],
      runs: [],
      ...(input.channel ? { channel: input.channel } : {}),
      createdAt: now,
      updatedAt: now,
      version: 1,
    },
    cadence(catalog.incidents, severity.level, now, now),
  );
  const state = severity.confirmed ? 'confirmed' : 'awaiting confirmation';
  if (origin.kind === 'declared') {
    const text = `${origin.by} declared ${severity.level} (${state}): ${title}`;
    return done(incident, { kind: 'opened', actor: origin.by, text });
  }
  const text = `opened from alert ${oneLine(origin.alert)} (route ${origin.route}), ${severity.level} ${state}`;
  return done(incident, { kind: 'opened', actor: 'system', text, ref: origin.groupId });
}

/** Proposes a new level; applied at once when `by` may confirm and the level is not sev1. */
export function proposeSeverity(
  i: Incident,
  catalog: Pick<Catalog, 'incidents'>,
  by: Person,
  level: Severity,
  now: number,
): Result<IncidentTransition> {
  if (i.status === 'resolved') return closed(i);
  if (!SEVERITIES.includes(level)) {
    return fail('INVALID_INPUT', `Severity must be one of ${SEVERITIES.join(', ')}.`);
  }
  const sev = i.severity;
  if (sev.proposed?.level === level) return unchanged(`${level} is already proposed.`);
  if (!sev.proposed && sev.level === level) {
    return unchanged(
      sev.confirmed
        ? `The incident is already ${level}.`
        : `${level} is already proposed; confirm it instead.`,
    );
  }
  if (level !== 'sev1' && mayConfirmSeverity(catalog, by)) {
    const next = withLevel(
      i,
      catalog.incidents,
      { level, confirmed: true, confirmedBy: by.id },
      now,
    );
    const text =
      level === sev.level
        ? `${by.id} kept ${level}; the ${sev.proposed?.level} proposal is withdrawn`
        : `${by.id} set severity to ${level} (was ${sev.level})`;
    return done(next, { kind: 'severity', actor: by.id, text });
  }
  const next = step(i, now, { severity: { ...sev, proposed: { level, by: by.id, at: now } } });
  const text = `${by.id} proposed ${level} (in force: ${sev.level}${sev.confirmed ? '' : ', unconfirmed'})`;
  return done(next, { kind: 'severity', actor: by.id, text });
}

/** Who proposed what awaits confirmation: the pending proposal's author, else the opener. */
export function severityProposer(i: Incident): string {
  if (i.severity.proposed) return i.severity.proposed.by;
  return i.origin.kind === 'declared' ? i.origin.by : `route:${i.origin.route}`;
}

/** Confirms the pending proposal, or the unconfirmed level in force. */
export function confirmSeverity(
  i: Incident,
  catalog: Pick<Catalog, 'incidents'>,
  person: Person,
  now: number,
): Result<IncidentTransition> {
  if (i.status === 'resolved') return closed(i);
  const level = i.severity.proposed?.level ?? (i.severity.confirmed ? undefined : i.severity.level);
  if (!level) {
    return fail('SEVERITY_NOT_PENDING', `${i.id} is ${i.severity.level}, already confirmed.`);
  }
  if (!mayConfirmSeverity(catalog, person)) {
    const roles = catalog.incidents.severityConfirmRoles;
    return fail('FORBIDDEN', `Confirming a severity needs one of the roles: ${roles.join(', ')}.`, {
      roles,
    });
  }
  const proposer = severityProposer(i);
  if (level === 'sev1' && person.id === proposer) {
    return fail('FORBIDDEN', 'sev1 must be confirmed by someone other than who proposed it.', {
      proposer,
    });
  }
  const severity = { level, confirmed: true, confirmedBy: person.id };
  const next = withLevel(i, catalog.incidents, severity, now);
  const was = level === i.severity.level ? '' : ` (was ${i.severity.level})`;
  const text = `${person.id} confirmed ${level}${was}`;
  return done(next, { kind: 'severity', actor: person.id, text });
}

/** Sets the commander or scribe, or adds a responder. */
export function assignRole(
  i: Incident,
  role: IncidentRole,
  personId: string,
  by: string,
  now: number,
): Result<IncidentTransition> {
  if (i.status === 'resolved') return closed(i);
  if (personId.trim() === '') return fail('INVALID_INPUT', 'Name the person to assign.');
  const roles = i.roles;
  if (role === 'responder') {
    if (roles.responders.includes(personId)) {
      return unchanged(`${personId} is already a responder.`);
    }
  } else if (roles[role] === personId) {
    return unchanged(`${personId} is already ${role}.`);
  }
  const nextRoles =
    role === 'responder'
      ? { ...roles, responders: [...roles.responders, personId] }
      : { ...roles, [role]: personId };
  const next = step(i, now, { roles: nextRoles });
  const was = role !== 'responder' && roles[role] ? ` (was ${roles[role]})` : '';
  const text =
    role === 'responder' ? `${personId} joined as responder` : `${personId} is ${role}${was}`;
  return done(next, { kind: 'role', actor: by, text, detail: { role, person: personId } });
}

/** Records a status update (1 to 2000 characters) and pushes the next reminder back. */
export function postStatusUpdate(
  i: Incident,
  catalog: Pick<Catalog, 'incidents'>,
  text: string,
  by: string,
  now: number,
): Result<IncidentTransition> {
  if (i.status === 'resolved') return closed(i);
  const body = text.trim();
  if (body === '') return fail('INVALID_INPUT', 'A status update needs some text.');
  if (body.length > STATUS_UPDATE_MAX) {
    return fail('INVALID_INPUT', `A status update is at most ${STATUS_UPDATE_MAX} characters.`);
  }
  const lastUpdate = { text: body, by, at: now };
  const reminder = cadence(catalog.incidents, i.severity.level, now, now);
  const next = step(withReminder(i, reminder), now, { lastUpdate });
  const line = `${by}: ${oneLine(body)}`;
  return done(next, { kind: 'status-update', actor: by, text: line, detail: { text: body } });
}

/** open → mitigated: the impact has stopped, the cause may remain. */
export function markMitigated(
  i: Incident,
  by: string,
  now: number,
  note?: string,
): Result<IncidentTransition> {
  if (i.status === 'resolved') return closed(i);
  if (i.status === 'mitigated') return unchanged(`${i.id} is already mitigated.`);
  const next = step(i, now, { status: 'mitigated', mitigatedAt: now });
  const text = `${by} marked it mitigated${note ? `: ${oneLine(note)}` : ''}`;
  return done(next, { kind: 'status', actor: by, text, detail: note ? { note } : {} });
}

/**
 * open | mitigated → resolved. Clears the reminder. An incident resolved without having
 * been marked mitigated counts as mitigated when resolved (`mitigatedAt = resolvedAt`).
 */
export function resolve(
  i: Incident,
  by: string,
  now: number,
  note?: string,
): Result<IncidentTransition> {
  if (i.status === 'resolved') return closed(i);
  const next = step(withReminder(i, undefined), now, {
    status: 'resolved',
    resolvedAt: now,
    mitigatedAt: i.mitigatedAt ?? now,
  });
  const text = `${by} resolved it${note ? `: ${oneLine(note)}` : ''}`;
  return done(next, { kind: 'status', actor: by, text, detail: note ? { note } : {} });
}

/** Links a request made for the incident (`summary`: "deploy checkout-api prod version=1.4.2"). */
export function linkRequest(
  i: Incident,
  requestId: string,
  actor: string,
  now: number,
  summary?: string,
): Result<IncidentTransition> {
  const text = `${actor} requested ${summary ? oneLine(summary) : requestId}`;
  return link(i, 'requests', requestId, now, { kind: 'request', actor, text });
}

/** Links a runbook run started for the incident. */
export function linkRun(
  i: Incident,
  runId: string,
  runbook: string,
  actor: string,
  now: number,
): Result<IncidentTransition> {
  const text = `${actor} started runbook ${runbook}`;
  return link(i, 'runs', runId, now, { kind: 'runbook', actor, text, detail: { runbook } });
}

/** Adds another alert group to the incident (the same cause alerting elsewhere). */
export function linkAlertGroup(
  i: Incident,
  groupId: string,
  alert: string,
  now: number,
): Result<IncidentTransition> {
  const text = `alert ${oneLine(alert)} joined the incident`;
  return link(i, 'alertGroups', groupId, now, { kind: 'alert', actor: 'system', text });
}

/** Adds `id` to one of the incident's lists once; a request or run counts as an action. */
function link(
  i: Incident,
  list: 'requests' | 'runs' | 'alertGroups',
  id: string,
  now: number,
  line: Line,
): Result<IncidentTransition> {
  if (i.status === 'resolved') return closed(i);
  if (i[list].includes(id)) return unchanged(`${id} is already linked to ${i.id}.`);
  const action = list === 'alertGroups' ? {} : firstAction(i, now);
  return done(step(i, now, { [list]: [...i[list], id], ...action }), { ...line, ref: id });
}

/** Sets `firstActionAt` for an action that is not a linked request or run (e.g. a step acknowledged). */
export function recordFirstAction(
  i: Incident,
  actor: string,
  now: number,
  what: string,
): Result<IncidentTransition> {
  if (i.status === 'resolved') return closed(i);
  if (i.firstActionAt !== undefined) return unchanged(`${i.id} already has a first action.`);
  const next = step(i, now, { firstActionAt: now });
  const text = `${actor} took the first action: ${oneLine(what)}`;
  return done(next, { kind: 'note', actor, text });
}

/**
 * Records the first mitigation a catalog rule ran (at most one per incident): also links
 * its request and, when none came before, counts as the first action.
 */
export function setMitigation(
  i: Incident,
  rule: Pick<MitigationRule, 'id' | 'digest' | 'command'>,
  requestId: string,
  now: number,
): Result<IncidentTransition> {
  if (i.status === 'resolved') return closed(i);
  if (i.mitigation) {
    return fail('INVALID_INPUT', `${i.id} already ran mitigation ${i.mitigation.rule}.`, {
      unchanged: i.mitigation.requestId === requestId,
    });
  }
  const requests = i.requests.includes(requestId) ? i.requests : [...i.requests, requestId];
  const next = step(i, now, {
    mitigation: { rule: rule.id, ruleDigest: rule.digest, requestId },
    requests,
    ...firstAction(i, now),
  });
  const text = `rule ${rule.id} started the pre-approved mitigation ${rule.command}`;
  const detail = { ruleDigest: rule.digest };
  return done(next, { kind: 'mitigation', actor: `rule:${rule.id}`, text, ref: requestId, detail });
}

/** Records the channel the header lives in. Allowed on a resolved incident (see the module comment). */
export function setChannel(
  i: Incident,
  channel: string,
  dedicated: boolean,
  now: number,
): Result<IncidentTransition> {
  if (channel === '') return fail('INVALID_INPUT', 'Name the channel.');
  if (i.channel === channel && (i.dedicatedChannel ?? false) === dedicated) {
    return unchanged(`${i.id} is already in ${channel}.`);
  }
  const next = step(i, now, { channel, dedicatedChannel: dedicated });
  const text = dedicated ? `incident channel ${channel} created` : `header posted in ${channel}`;
  return done(next, { kind: 'note', actor: 'system', text, detail: { channel } });
}

const closed = (i: Incident) => fail('INCIDENT_CLOSED', `${i.id} is already resolved.`);

const unchanged = (message: string) => fail('INVALID_INPUT', message, { unchanged: true });

const step = (i: Incident, now: number, patch: Partial<Incident>): Incident => ({
  ...i,
  ...patch,
  updatedAt: now,
  version: i.version + 1,
});

const firstAction = (i: Incident, now: number) =>
  i.firstActionAt === undefined ? { firstActionAt: now } : {};

/** When the next reminder is due at `level`: `from` + cadence, never before `now`; none for 0. */
function cadence(
  settings: IncidentSettings,
  level: Severity,
  from: number,
  now: number,
): number | undefined {
  const minutes = settings.reminderMinutes[level];
  return minutes > 0 ? Math.max(now, from + minutes * MINUTE) : undefined;
}

/** The incident with `nextReminderAt` set to `at`, or without one. */
function withReminder(i: Incident, at: number | undefined): Incident {
  const { nextReminderAt: _old, ...rest } = i;
  return at === undefined ? rest : { ...rest, nextReminderAt: at };
}

/** The incident with a new level in force; the reminder follows the new level's cadence. */
function withLevel(
  i: Incident,
  settings: IncidentSettings,
  severity: IncidentSeverity,
  now: number,
): Incident {
  const from = i.lastUpdate?.at ?? i.createdAt;
  return step(withReminder(i, cadence(settings, severity.level, from, now)), now, { severity });
}

interface Line {
  kind: TimelineKind;
  actor: string;
  text: string;
  ref?: string | undefined;
  detail?: Record<string, unknown>;
}

/** The transition's result: the next incident and its one timeline line, at `next.updatedAt`. */
function done(next: Incident, line: Line): Result<IncidentTransition> {
  const { ref, detail, ...rest } = line;
  const entry: TimelineDraft = {
    incidentId: next.id,
    at: next.updatedAt,
    ...rest,
    ...(ref ? { ref } : {}),
    detail: detail ?? {},
  };
  return ok({ incident: next, timeline: [entry] });
}
