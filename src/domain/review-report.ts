/**
 * The review report: is it faster and safer? For every workflow — a catalog command
 * (`command:<id>`), a runbook (`runbook:<id>`), an alert route (`route:<id>`) — how often
 * it ran in a window and how long people waited, how often it failed or was rolled back.
 * Pure: the caller loads the records and passes the window.
 *
 * Definitions (all durations in milliseconds; undefined when there is no sample):
 * - Records count when created in the window: `since <= createdAt < until`.
 * - count: requests of the command, runs of the runbook, incidents the route opened.
 * - alert → first action: for an incident an alert opened, `firstActionAt - createdAt`;
 *   attributed to its route and to the workflow of its first action when known: the
 *   linked request or run created last at or before `firstActionAt` (a request counts
 *   for its command, and for its runbook when a run made it; a run for its runbook).
 * - request → approval: for a request that needed sign-offs and got them (not
 *   pre-approved, not break-glass), the last counted sign-off's `at - createdAt`.
 * - approval → result: `execution.finishedAt` minus the last counted sign-off (or
 *   `createdAt` when none was needed, or for pre-approved and break-glass requests).
 * - failure rate: (failed + unknown) / finished (succeeded, failed, unknown) requests.
 * - rollback rate: of the requests that ran (have an execution) whose command declares a
 *   rollback command, the fraction followed within 24 h by a request (in any state) of
 *   that rollback command on the same service and environment.
 * - pre-approved: requests a mitigation rule made; break glass: requests run without
 *   approval under a break-glass role.
 * Request measures count for the request's command and, when a runbook run made the
 * request, for that runbook too.
 *
 * Percentiles are nearest-rank: the p-th of n sorted samples is the one at rank
 * ceil(p / 100 × n), so it is always a real sample; the median is p50 (for an even
 * count, the lower of the two middle samples).
 */
import type { Catalog } from './catalog.ts';
import type { Incident } from './incident-model.ts';
import { duration, isoTime } from './postmortem.ts';
import { countedSignOffs } from './request-lifecycle.ts';
import type { ActionRequest } from './request-model.ts';
import type { RunbookRun } from './runbook-model.ts';

/** How long after a request a request of its rollback command counts as rolling it back. */
export const ROLLBACK_WINDOW_MS = 24 * 3_600_000;

export interface DurationStats {
  samples: number;
  median?: number;
  p90?: number;
}

export interface OutcomeStats {
  alertToFirstAction: DurationStats;
  requestToApproval: DurationStats;
  approvalToResult: DurationStats;
  /** Requests that finished: succeeded, failed or unknown. */
  finished: number;
  /** Of those, failed or unknown. */
  failed: number;
  /** failed / finished; undefined when nothing finished. */
  failureRate?: number;
  /** Requests that ran and whose command declares a rollback command. */
  rollbackEligible: number;
  rolledBack: number;
  /** rolledBack / rollbackEligible; undefined when none was eligible. */
  rollbackRate?: number;
  preApproved: number;
  breakGlass: number;
}

export interface WorkflowStats extends OutcomeStats {
  /** `command:deploy`, `runbook:rb-5xx`, `route:checkout-5xx`. */
  workflow: string;
  count: number;
}

export interface ReviewReport {
  /** ms since epoch: `since` inclusive, `until` exclusive. */
  window: { since: number; until: number };
  /** Busiest first; ties by workflow name. */
  workflows: WorkflowStats[];
  /** Over every record in the window, each counted once. */
  totals: OutcomeStats & { requests: number; incidents: number; runs: number };
}

export interface ReviewInput {
  requests: readonly ActionRequest[];
  incidents: readonly Incident[];
  runs: readonly RunbookRun[];
  catalog: Pick<Catalog, 'commands'>;
  window: { since: number; until: number };
}

/** The nearest-rank percentile `p` (0 < p ≤ 100) of `values`; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Samples collected for one workflow (or the totals). */
class Tally {
  count = 0;
  readonly toAction: number[] = [];
  readonly toApproval: number[] = [];
  readonly toResult: number[] = [];
  finished = 0;
  failed = 0;
  rollbackEligible = 0;
  rolledBack = 0;
  preApproved = 0;
  breakGlass = 0;

  stats(): OutcomeStats {
    const rate = (n: number, of: number) => (of > 0 ? n / of : undefined);
    return {
      alertToFirstAction: durationStats(this.toAction),
      requestToApproval: durationStats(this.toApproval),
      approvalToResult: durationStats(this.toResult),
      finished: this.finished,
      failed: this.failed,
      ...opt('failureRate', rate(this.failed, this.finished)),
      rollbackEligible: this.rollbackEligible,
      rolledBack: this.rolledBack,
      ...opt('rollbackRate', rate(this.rolledBack, this.rollbackEligible)),
      preApproved: this.preApproved,
      breakGlass: this.breakGlass,
    };
  }
}

function durationStats(values: readonly number[]): DurationStats {
  return {
    samples: values.length,
    ...opt('median', percentile(values, 50)),
    ...opt('p90', percentile(values, 90)),
  };
}

const opt = <K extends string, V>(key: K, v: V | undefined) =>
  (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };

export function reviewReport(input: ReviewInput): ReviewReport {
  const { since, until } = input.window;
  const within = (at: number) => at >= since && at < until;
  const requests = input.requests.filter((r) => within(r.createdAt));
  const incidents = input.incidents.filter((i) => within(i.createdAt));
  const runs = input.runs.filter((r) => within(r.createdAt));
  const runbookOfRun = new Map(input.runs.map((r) => [r.id, r.runbook]));
  const tallies = new Map<string, Tally>();
  const tally = (workflow: string) => {
    const t = tallies.get(workflow) ?? new Tally();
    tallies.set(workflow, t);
    return t;
  };
  const totals = new Tally();

  const workflowsOf = (r: ActionRequest) => {
    const runbook = r.origin?.kind === 'runbook' ? runbookOfRun.get(r.origin.run) : undefined;
    return [`command:${r.command}`, ...(runbook ? [`runbook:${runbook}`] : [])];
  };
  for (const r of requests) {
    tally(`command:${r.command}`).count++;
    const facts = requestFacts(r, input);
    for (const t of [totals, ...workflowsOf(r).map(tally)]) addRequest(t, facts);
  }
  for (const run of runs) tally(`runbook:${run.runbook}`).count++;
  for (const i of incidents) {
    if (i.origin.kind !== 'alert') continue;
    const t = tally(`route:${i.origin.route}`);
    t.count++;
    if (i.firstActionAt === undefined) continue;
    const wait = i.firstActionAt - i.createdAt;
    const first = firstActionOf(i, input.requests, input.runs);
    const also = first
      ? 'runbook' in first
        ? [`runbook:${first.runbook}`]
        : workflowsOf(first)
      : [];
    for (const w of [totals, t, ...also.map(tally)]) w.toAction.push(wait);
  }

  const workflows = [...tallies]
    .map(([workflow, t]) => ({ workflow, count: t.count, ...t.stats() }))
    .sort((a, b) => b.count - a.count || (a.workflow < b.workflow ? -1 : 1));
  return {
    window: { since, until },
    workflows,
    totals: {
      requests: requests.length,
      incidents: incidents.length,
      runs: runs.length,
      ...totals.stats(),
    },
  };
}

interface RequestFacts {
  toApproval?: number;
  toResult?: number;
  finished: boolean;
  failed: boolean;
  rollbackEligible: boolean;
  rolledBack: boolean;
  preApproved: boolean;
  breakGlass: boolean;
}

function requestFacts(r: ActionRequest, input: ReviewInput): RequestFacts {
  const preApproved = r.origin?.kind === 'mitigation';
  const breakGlass = r.breakGlass !== undefined;
  const signOffs = r.requirements.flatMap((q) => countedSignOffs(r, q.kind));
  const needed = r.requirements.some((q) => q.count > 0) && !preApproved && !breakGlass;
  const lastSignOff = signOffs.length > 0 ? Math.max(...signOffs.map((s) => s.at)) : undefined;
  const approved = !['pending', 'denied', 'expired', 'cancelled'].includes(r.state);
  const approvedAt = needed ? (approved ? lastSignOff : undefined) : r.createdAt;
  const finishedAt = r.execution?.finishedAt;
  const rollback = rollbackCommandOf(input.catalog, r.command);
  const rollbackEligible = rollback !== undefined && r.execution !== undefined;
  return {
    ...opt('toApproval', needed && approvedAt !== undefined ? approvedAt - r.createdAt : undefined),
    ...opt(
      'toResult',
      finishedAt !== undefined && approvedAt !== undefined ? finishedAt - approvedAt : undefined,
    ),
    finished: ['succeeded', 'failed', 'unknown'].includes(r.state),
    failed: r.state === 'failed' || r.state === 'unknown',
    rollbackEligible,
    rolledBack:
      rollbackEligible &&
      input.requests.some(
        (next) =>
          next.command === rollback &&
          next.id !== r.id &&
          next.service === r.service &&
          next.environment === r.environment &&
          next.createdAt > r.createdAt &&
          next.createdAt - r.createdAt <= ROLLBACK_WINDOW_MS,
      ),
    preApproved,
    breakGlass,
  };
}

function addRequest(t: Tally, f: RequestFacts): void {
  if (f.toApproval !== undefined) t.toApproval.push(f.toApproval);
  if (f.toResult !== undefined) t.toResult.push(f.toResult);
  if (f.finished) t.finished++;
  if (f.failed) t.failed++;
  if (f.rollbackEligible) t.rollbackEligible++;
  if (f.rolledBack) t.rolledBack++;
  if (f.preApproved) t.preApproved++;
  if (f.breakGlass) t.breakGlass++;
}

function rollbackCommandOf(catalog: Pick<Catalog, 'commands'>, id: string): string | undefined {
  const plan = catalog.commands.find((c) => c.id === id)?.rollback;
  return plan && 'command' in plan ? plan.command : undefined;
}

/** The linked request or run created last at or before the incident's first action. */
function firstActionOf(
  i: Incident,
  requests: readonly ActionRequest[],
  runs: readonly RunbookRun[],
): ActionRequest | RunbookRun | undefined {
  if (i.firstActionAt === undefined) return undefined;
  const at = i.firstActionAt;
  const candidates: (ActionRequest | RunbookRun)[] = [
    ...requests.filter((r) => r.links.incident === i.id || i.requests.includes(r.id)),
    ...runs.filter((r) => r.incident === i.id || i.runs.includes(r.id)),
  ].filter((c) => c.createdAt <= at);
  return candidates.reduce<ActionRequest | RunbookRun | undefined>(
    (best, c) =>
      !best || c.createdAt > best.createdAt || (c.createdAt === best.createdAt && c.id < best.id)
        ? c
        : best,
    undefined,
  );
}

/** The report as a plain-text table for `countersign report`. */
export function formatReport(report: ReviewReport): string {
  const d = (v: number | undefined) => (v === undefined ? '-' : duration(v));
  const pair = (s: DurationStats) => `${d(s.median)} / ${d(s.p90)}`;
  const pct = (n: number, of: number) =>
    of === 0 ? '-' : `${Math.round((100 * n) / of)}% (${n}/${of})`;
  const head = [
    'Workflow',
    'Count',
    'Alert→action p50 / p90',
    'Request→approval p50 / p90',
    'Approval→result p50 / p90',
    'Failed',
    'Rolled back',
    'Pre-approved',
    'Break glass',
  ];
  const row = (name: string, count: number | undefined, s: OutcomeStats) => [
    name,
    count === undefined ? '' : String(count),
    pair(s.alertToFirstAction),
    pair(s.requestToApproval),
    pair(s.approvalToResult),
    pct(s.failed, s.finished),
    pct(s.rolledBack, s.rollbackEligible),
    String(s.preApproved),
    String(s.breakGlass),
  ];
  const t = report.totals;
  const rows = [
    head,
    ...report.workflows.map((w) => row(w.workflow, w.count, w)),
    row('total', undefined, t),
  ];
  const widths = head.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const numeric = new Set([1, 7, 8]);
  const line = (r: string[]) =>
    r
      .map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const title = `Review report ${isoTime(report.window.since)} to ${isoTime(report.window.until)}`;
  const summary = `${t.requests} requests, ${t.incidents} incidents, ${t.runs} runbook runs. Durations: median / p90 (nearest rank).`;
  return `${[title, summary, '', ...rows.map(line)].join('\n')}\n`;
}
