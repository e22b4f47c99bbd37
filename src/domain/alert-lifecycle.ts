/**
 * The alert lifecycle: how one event's facts change the alert kept per (route,
 * fingerprint), which group (chat message) the alert belongs to, whether that message is
 * posted, folded into the channel's digest or kept quiet, and how a digest counts what it
 * folds. Pure: the caller loads state, applies these, and stores the result.
 */
import type { AlertFacts, AlertRecord, AlertState } from './alert-model.ts';
import type { RouteDecision } from './routing.ts';

/** A state change this many times within the window marks an alert as flapping. */
export const FLAP_CHANGES = 4;
export const FLAP_WINDOW_MS = 15 * 60_000;
/** Without a catalog budget, a channel takes this many new alert messages a minute. */
export const DEFAULT_BUDGET_PER_MINUTE = 10;
/** A digest stays open (and is updated in place) until this long passes without an alert. */
export const DIGEST_QUIET_MS = 10 * 60_000;
/** Rows a digest keeps by name; the rest are counted. */
export const DIGEST_ROWS = 50;
const TRANSITIONS_KEPT = 10;

export type AlertChange = 'opened' | 'changed' | 'repeated' | 'stale';

/**
 * The alert after one event. An event older than the alert's current state (`since`
 * before the state's) is counted but changes nothing else: out-of-order delivery never
 * moves an alert back to an earlier state.
 */
export function nextAlert(
  prev: AlertRecord | undefined,
  facts: AlertFacts,
  d: RouteDecision,
  groupKey: string,
  now: number,
): { record: AlertRecord; change: AlertChange } {
  if (!prev) {
    const record: AlertRecord = {
      fingerprint: facts.fingerprint,
      state: facts.state,
      route: d.route.id,
      team: d.team,
      service: d.service ?? '',
      environment: d.environment ?? '',
      severity: facts.severity && isSeverity(facts.severity) ? facts.severity : d.severity,
      channel: d.channel ?? '',
      runbooks: d.runbooks,
      groupKey,
      facts,
      firstSeen: now,
      lastSeen: now,
      count: 1,
      transitions: [facts.since],
      flapping: false,
    };
    return { record, change: 'opened' };
  }
  const counted = { ...prev, lastSeen: now, count: prev.count + 1 };
  if (facts.since < prev.facts.since) return { record: counted, change: 'stale' };
  if (facts.state === prev.state) {
    return { record: { ...counted, facts }, change: 'repeated' };
  }
  const transitions = [...prev.transitions, facts.since].slice(-TRANSITIONS_KEPT);
  const record: AlertRecord = {
    ...counted,
    state: facts.state,
    facts,
    transitions,
    flapping: isFlapping(transitions, facts.since),
  };
  return { record, change: 'changed' };
}

/** Enough state changes inside the window, counted back from `at`. */
export function isFlapping(transitions: readonly number[], at: number): boolean {
  return transitions.filter((t) => at - t <= FLAP_WINDOW_MS).length >= FLAP_CHANGES;
}

function isSeverity(s: string): s is 'sev1' | 'sev2' | 'sev3' | 'sev4' {
  return s === 'sev1' || s === 'sev2' || s === 'sev3' || s === 'sev4';
}

/** `route|service|environment|` and the route's group-by values, or the fingerprint. */
export function groupKeyParts(
  d: RouteDecision,
  facts: AlertFacts,
  valueAt: (path: string) => string,
): string {
  const by = d.route.groupBy.length
    ? d.route.groupBy.map((p) => `${p}=${valueAt(p)}`)
    : [`fingerprint=${facts.fingerprint}`];
  return [d.route.id, d.service ?? '', d.environment ?? '', ...by].join('|');
}

// ── groups ───────────────────────────────────────────────────────────────────────────

/** Whether a group's message goes to chat on its own, into the digest, or nowhere. */
export type GroupVisibility = 'post' | 'digest' | 'quiet';

export interface AlertGroup {
  id: string;
  key: string;
  route: string;
  service: string;
  environment: string;
  severity: string;
  channel: string;
  runbooks: string[];
  openedAt: number;
  updatedAt: number;
  /** Alerts in the group, and how many fire now. */
  total: number;
  firing: number;
  visibility: GroupVisibility;
  /** Bumped on every change; the message is in step when `postedVersion` equals it. */
  version: number;
  postedVersion: number;
}

/** A group that has gone quiet (nothing firing, no change within its window) takes no new alerts. */
export function groupTakesAlerts(g: AlertGroup, windowMinutes: number, now: number): boolean {
  return g.firing > 0 || now - g.updatedAt < windowMinutes * 60_000;
}

/** Why an alert, on its own, must not page anyone; undefined when it may. */
export function quietReason(
  d: RouteDecision,
  facts: AlertFacts,
  ctx: { replay: boolean; silencedBy?: string; maintenance?: string },
): string | undefined {
  if (!d.channel) return 'no channel';
  if (ctx.replay) return 'replayed event';
  if (ctx.silencedBy) return `silenced by ${ctx.silencedBy}`;
  if (ctx.maintenance) return `maintenance window ${ctx.maintenance}`;
  if (facts.actionsSuppressed) return 'actions suppressed';
  if (facts.state !== 'firing') return `not firing (${facts.state})`;
  return undefined;
}

/** A group's firing count after one of its alerts moved from `before` to `after`. */
export function firingDelta(before: AlertState | undefined, after: AlertState): number {
  const was = before === 'firing' ? 1 : 0;
  const is = after === 'firing' ? 1 : 0;
  return is - was;
}

// ── digests ──────────────────────────────────────────────────────────────────────────

export interface DigestRow {
  service: string;
  environment: string;
  severity: string;
  title: string;
  count: number;
  firing: number;
}

export interface Digest {
  id: string;
  channel: string;
  since: number;
  until: number;
  total: number;
  firing: number;
  rows: DigestRow[];
  others: number;
  version: number;
  postedVersion: number;
}

/** Whether a digest still takes alerts, or a new one should start. */
export function digestOpen(d: Digest, now: number): boolean {
  return now - d.until < DIGEST_QUIET_MS;
}

/** The digest after folding in one alert event (a firing change of `delta`). */
export function foldIntoDigest(d: Digest, a: AlertRecord, delta: number, now: number): Digest {
  const rows = d.rows.map((r) => ({ ...r }));
  const match = rows.find(
    (r) => r.service === a.service && r.environment === a.environment && r.title === a.facts.title,
  );
  let others = d.others;
  if (match) {
    match.count += 1;
    match.firing = Math.max(0, match.firing + delta);
  } else if (rows.length < DIGEST_ROWS) {
    rows.push({
      service: a.service,
      environment: a.environment,
      severity: a.severity,
      title: a.facts.title,
      count: 1,
      firing: Math.max(0, delta),
    });
  } else {
    others += 1;
  }
  rows.sort((x, y) => y.count - x.count || (x.title < y.title ? -1 : 1));
  return {
    ...d,
    until: now,
    total: d.total + 1,
    firing: Math.max(0, d.firing + delta),
    rows,
    others,
    version: d.version + 1,
  };
}
