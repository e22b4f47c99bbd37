/**
 * The guided walk of a runbook run, as pure transitions. `startRun` opens a run on the
 * runbook's first step; `applyRunEvent` takes the run and one event (a person acted, a
 * request moved on, a condition was met, time passed) and returns the next run plus the
 * effects the app must carry out, or a typed refusal. Nothing here does I/O or reads a
 * clock: `now` (ms since epoch) comes in with every call. Inputs are never mutated.
 *
 *   command: current ──run──▶ (request effect) ──requested──▶ requested ──succeeded──▶ done
 *                                        failed/unknown ──▶ failed (on_failure, or the run fails)
 *                       denied/expired/cancelled ──▶ back to current (run again, or skip)
 *   check: current ──ack──▶ done        decision: current ──choose──▶ done (to the branch)
 *   wait: current ──condition met──▶ done, ──tick past deadline──▶ timed-out (on_timeout)
 *   notify: done at once by `system`, with a notify effect        any: ──skip──▶ skipped
 *
 * The current step's record is the last of `run.steps` while the run is active. Entering a
 * step appends a record, so a step visited twice (a decision that loops back) appears twice.
 * The caller passes the runbook version the run pinned (`run.runbookDigest`).
 */
import { fail, ok, type Result } from './errors.ts';
import { specialValueProblem } from './params.ts';
import type { Surface } from './request-model.ts';
import type {
  CommandStep,
  Runbook,
  RunbookRun,
  RunbookStep,
  RunView,
  StepRecord,
  StepTarget,
} from './runbook-model.ts';

/** The target that finishes a run. */
export const END: StepTarget = 'end';

/** What a run starts from. */
export interface RunStart {
  /** "RBR-" followed by a sortable id. */
  id: string;
  service: string;
  environment: string;
  incident?: string;
  ticket?: string;
  startedBy: string;
  /** Milliseconds since epoch. */
  now: number;
}

/** How a command step's request ended, as the request lifecycle reports it. */
export type RequestOutcome =
  | 'succeeded'
  | 'failed'
  | 'unknown'
  | 'denied'
  | 'expired'
  | 'cancelled';

interface Actor {
  by: string;
  surface: Surface;
}

export type RunEvent =
  | ({ kind: 'ack'; stepId: string; note?: string } & Actor)
  | ({ kind: 'choose'; stepId: string; branch: string } & Actor)
  | ({ kind: 'skip'; stepId: string; reason: string } & Actor)
  /** The operator asked to run a command step: the app creates its request from the effect. */
  | ({ kind: 'run'; stepId: string } & Actor)
  | { kind: 'requested'; stepId: string; requestId: string }
  /**
   * The step's request ended. A read-only command runs at once, with no stored request:
   * report it straight after `run` with `requestId: ''`.
   */
  | {
      kind: 'request-finished';
      stepId: string;
      requestId: string;
      outcome: RequestOutcome;
      /** Redacted, bounded output of the command. */
      output?: string;
    }
  | { kind: 'condition'; stepId: string; met: boolean }
  /** Checks the current wait step's deadline against `now`. */
  | { kind: 'tick' }
  | { kind: 'abort'; by: string; surface?: Surface; reason: string };

/** What the app must do after a transition, in order. */
export type RunEffect =
  /** Create a request for the catalog command on the run's service and environment, requested by `by`. */
  | { kind: 'request'; stepId: string; command: string; params: Record<string, string>; by: string }
  /** Post `text` to the run's channel (or the incident's). */
  | { kind: 'notify'; stepId: string; text: string }
  /** The run was aborted while this request waited: cancel it. */
  | { kind: 'cancel-request'; stepId: string; requestId: string };

export interface RunStep {
  run: RunbookRun;
  effects: RunEffect[];
}

/** The values `{{service}}`, `{{environment}}` and `{{incident}}` stand for. */
export interface PlaceholderValues {
  service: string;
  environment: string;
  incident?: string;
}

const PLACEHOLDER = /\{\{\s*([a-z]+)\s*\}\}/g;

/**
 * Fills `{{service}}`, `{{environment}}` and `{{incident}}` (spaces inside the braces
 * allowed). Any other placeholder, and `{{incident}}` on a run without an incident, is
 * left as written: refusing a runbook that uses one is the catalog loader's job, and
 * parameter validation refuses what is left at request time.
 */
export function fillText(text: string, values: PlaceholderValues): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (name === 'service') return values.service;
    if (name === 'environment') return values.environment;
    if (name === 'incident' && values.incident !== undefined) return values.incident;
    return whole;
  });
}

/** `fillText` over every value of a command step's params; returns a new object. */
export function fillParams(
  params: Readonly<Record<string, string>>,
  values: PlaceholderValues,
): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, fillText(v, values)]));
}

/**
 * Opens a run on the runbook's first step at version 1. Leading notify steps complete at
 * once and come back as effects; an empty runbook completes at once.
 */
export function startRun(runbook: Runbook, start: RunStart): RunStep {
  const run: RunbookRun = {
    id: start.id,
    runbook: runbook.id,
    runbookDigest: runbook.digest,
    ...(start.incident !== undefined ? { incident: start.incident } : {}),
    ...(start.ticket !== undefined ? { ticket: start.ticket } : {}),
    service: start.service,
    environment: start.environment,
    startedBy: start.startedBy,
    state: 'active',
    steps: [],
    createdAt: start.now,
    updatedAt: start.now,
    version: 1,
  };
  const effects: RunEffect[] = [];
  const first = runbook.steps[0]?.id ?? END;
  return { run: enter(runbook, run, first, start.now, effects), effects };
}

/** The current step's record, while the run is active. */
export function currentRecord(run: RunbookRun): StepRecord | undefined {
  return run.state === 'active' ? run.steps.at(-1) : undefined;
}

/** The current step, while the run is active and the runbook still has it. */
export function currentStep(runbook: Runbook, run: RunbookRun): RunbookStep | undefined {
  const record = currentRecord(run);
  return record && findStep(runbook, record.stepId);
}

/** Where a step goes on its default path: `next`, else the step after it, else `end`. */
export function defaultNext(runbook: Runbook, step: RunbookStep): StepTarget {
  if (step.next !== undefined) return step.next;
  const index = runbook.steps.findIndex((s) => s.id === step.id);
  return runbook.steps[index + 1]?.id ?? END;
}

/** A step for people: its 1-based position and title, `2 'Did a deploy start it?'`. */
export function stepLabel(runbook: Runbook, stepId: string): string {
  const index = runbook.steps.findIndex((s) => s.id === stepId);
  const step = runbook.steps[index];
  return step ? `${index + 1} '${step.title}'` : `'${stepId}'`;
}

/**
 * Applies one event. Refuses RUN_FINISHED on a run that is no longer active, and
 * STEP_OUT_OF_ORDER when the event names a step that is not the current one. On success
 * the run has `version + 1` and `updatedAt = now`; when nothing changes (a tick before the
 * deadline, an unmet condition) the run comes back as given, same version, no effects.
 */
export function applyRunEvent(
  runbook: Runbook,
  run: RunbookRun,
  event: RunEvent,
  now: number,
): Result<RunStep> {
  if (run.state !== 'active') {
    return fail('RUN_FINISHED', `Run ${run.id} has already ${finishedWord(run)}.`, {
      state: run.state,
    });
  }
  const record = currentRecord(run);
  const step = currentStep(runbook, run);
  if (!record || !step) {
    const missing = record ? ` "${record.stepId}"` : 's';
    return fail(
      'INVALID_INPUT',
      `Runbook ${runbook.id} no longer has the run's current step${missing}.`,
    );
  }
  if ('stepId' in event && event.stepId !== record.stepId) {
    return fail(
      'STEP_OUT_OF_ORDER',
      `Step '${event.stepId}' is not current: the current step is ${stepLabel(runbook, step.id)}.`,
      { current: step.id },
    );
  }
  const effects: RunEffect[] = [];
  const next = transition({ runbook, run, step, record, now, effects }, event);
  if (!next.ok) return next;
  if (next.value === run) return ok({ run, effects });
  return ok({ run: { ...next.value, version: run.version + 1, updatedAt: now }, effects });
}

/** What one transition works on; `effects` collects what it decides. */
interface At {
  runbook: Runbook;
  run: RunbookRun;
  step: RunbookStep;
  record: StepRecord;
  now: number;
  effects: RunEffect[];
}

function transition(at: At, event: RunEvent): Result<RunbookRun> {
  switch (event.kind) {
    case 'ack':
      return acknowledge(at, event);
    case 'choose':
      return choose(at, event);
    case 'skip':
      return skip(at, event);
    case 'run':
      return askToRun(at, event);
    case 'requested':
      return requested(at, event.requestId);
    case 'request-finished':
      return requestFinished(at, event);
    case 'condition':
      return condition(at, event.met);
    case 'tick':
      return ok(tick(at));
    case 'abort':
      return abort(at, event);
  }
}

function acknowledge(at: At, e: Extract<RunEvent, { kind: 'ack' }>): Result<RunbookRun> {
  const refused = expect(at, 'check') ?? (e.note ? textProblem(e.note, 'note') : undefined);
  if (refused) return refused;
  const note = e.note ? { output: e.note } : {};
  return ok(
    closeAndGo(at, { status: 'done', ...actor(e), ...note }, defaultNext(at.runbook, at.step)),
  );
}

function choose(at: At, e: Extract<RunEvent, { kind: 'choose' }>): Result<RunbookRun> {
  const refused = expect(at, 'decision');
  if (refused || at.step.kind !== 'decision') return refused ?? wrongKind(at);
  const branch = at.step.branches.find((b) => b.id === e.branch);
  if (!branch) {
    const ids = at.step.branches.map((b) => b.id);
    return fail(
      'INVALID_INPUT',
      `Step ${stepLabel(at.runbook, at.step.id)} has no branch "${e.branch}"; choose one of: ${ids.join(', ')}.`,
      { branches: ids },
    );
  }
  return ok(closeAndGo(at, { status: 'done', ...actor(e), choice: branch.id }, branch.next));
}

function skip(at: At, e: Extract<RunEvent, { kind: 'skip' }>): Result<RunbookRun> {
  const refused = waitsForRequest(at) ?? reasonProblem(e.reason, 'Skipping a step');
  if (refused) return refused;
  const patch: Partial<StepRecord> = { status: 'skipped', ...actor(e), reason: e.reason };
  return ok(closeAndGo(at, patch, defaultNext(at.runbook, at.step)));
}

function askToRun(at: At, e: Extract<RunEvent, { kind: 'run' }>): Result<RunbookRun> {
  const refused = expect(at, 'command');
  if (refused || at.step.kind !== 'command') return refused ?? wrongKind(at);
  const step: CommandStep = at.step;
  at.effects.push({
    kind: 'request',
    stepId: step.id,
    command: step.command,
    params: fillParams(step.params, at.run),
    by: e.by,
  });
  return ok(replaceCurrent(at.run, { ...at.record, ...actor(e) }));
}

function requested(at: At, requestId: string): Result<RunbookRun> {
  const refused = expect(at, 'command');
  if (refused) return refused;
  return ok(replaceCurrent(at.run, { ...at.record, status: 'requested', requestId }));
}

function requestFinished(
  at: At,
  e: Extract<RunEvent, { kind: 'request-finished' }>,
): Result<RunbookRun> {
  if (at.step.kind !== 'command') return wrongKind(at);
  const ranAtOnce = at.record.status === 'current' && e.requestId === '';
  if (!ranAtOnce && (at.record.status !== 'requested' || at.record.requestId !== e.requestId)) {
    const waiting = at.record.requestId ? `request ${at.record.requestId}` : 'no request';
    return fail(
      'INVALID_INPUT',
      `Step ${stepLabel(at.runbook, at.step.id)} waits for ${waiting}, not "${e.requestId}".`,
    );
  }
  const output = e.output !== undefined ? { output: e.output } : {};
  switch (e.outcome) {
    case 'succeeded':
      return ok(closeAndGo(at, { status: 'done', ...output }, defaultNext(at.runbook, at.step)));
    case 'failed':
    case 'unknown': {
      if (at.step.onFailure !== undefined) {
        return ok(closeAndGo(at, { status: 'failed', ...output }, at.step.onFailure));
      }
      const failed = replaceCurrent(at.run, {
        ...at.record,
        status: 'failed',
        finishedAt: at.now,
        ...output,
      });
      return ok({ ...failed, state: 'failed', finishedAt: at.now });
    }
    default:
      // Denied, expired or cancelled: nothing ran. Someone may run the step again or skip it.
      return ok(replaceCurrent(at.run, reopened(at.record)));
  }
}

function condition(at: At, met: boolean): Result<RunbookRun> {
  const refused = expect(at, 'wait');
  if (refused) return refused;
  if (!met) return ok(at.run);
  return ok(closeAndGo(at, { status: 'done' }, defaultNext(at.runbook, at.step)));
}

function tick(at: At): RunbookRun {
  const { step, record, now } = at;
  if (step.kind !== 'wait' || record.deadline === undefined || now < record.deadline) return at.run;
  return closeAndGo(at, { status: 'timed-out' }, step.onTimeout ?? defaultNext(at.runbook, step));
}

function abort(at: At, e: Extract<RunEvent, { kind: 'abort' }>): Result<RunbookRun> {
  const refused = reasonProblem(e.reason, 'Aborting a run');
  if (refused) return refused;
  if (at.record.status === 'requested' && at.record.requestId !== undefined) {
    at.effects.push({ kind: 'cancel-request', stepId: at.step.id, requestId: at.record.requestId });
  }
  const closed = replaceCurrent(at.run, {
    ...at.record,
    status: 'skipped',
    finishedAt: at.now,
    operator: e.by,
    surface: e.surface ?? at.record.surface ?? 'system',
    reason: `run aborted: ${e.reason}`,
  });
  return ok({ ...closed, state: 'aborted', finishedAt: at.now });
}

// ── moving on ────────────────────────────────────────────────────────────────────────

/** Ends the current record with `patch` at `now` and enters `target`. */
function closeAndGo(at: At, patch: Partial<StepRecord>, target: StepTarget): RunbookRun {
  const closed = replaceCurrent(at.run, { ...at.record, ...patch, finishedAt: at.now });
  return enter(at.runbook, closed, target, at.now, at.effects);
}

/**
 * Appends a current record for `target`, completing notify steps on the way (each done
 * by `system`, with a notify effect). `end`, or running past the last step, completes the
 * run. A target the runbook lacks, or a cycle of notify steps with no one to act, fails
 * the run rather than stall it: the catalog loader refuses both, so this is a backstop.
 */
function enter(
  runbook: Runbook,
  run: RunbookRun,
  target: StepTarget,
  now: number,
  effects: RunEffect[],
): RunbookRun {
  const records = [...run.steps];
  let next = target;
  for (let hops = 0; hops <= runbook.steps.length; hops++) {
    if (next === END) return { ...run, steps: records, state: 'completed', finishedAt: now };
    const step = findStep(runbook, next);
    if (!step) break;
    if (step.kind !== 'notify') {
      records.push(opened(step, now));
      return { ...run, steps: records };
    }
    effects.push({ kind: 'notify', stepId: step.id, text: fillText(step.text, run) });
    records.push({
      stepId: step.id,
      status: 'done',
      startedAt: now,
      finishedAt: now,
      operator: 'system',
      surface: 'system',
    });
    next = defaultNext(runbook, step);
  }
  return { ...run, steps: records, state: 'failed', finishedAt: now };
}

function opened(step: RunbookStep, now: number): StepRecord {
  const deadline = step.kind === 'wait' ? { deadline: now + step.timeoutMinutes * 60_000 } : {};
  return { stepId: step.id, status: 'current', startedAt: now, ...deadline };
}

/** The record as it was before anyone asked to run it, keeping when it became current. */
function reopened(record: StepRecord): StepRecord {
  return { stepId: record.stepId, status: 'current', startedAt: record.startedAt };
}

function replaceCurrent(run: RunbookRun, record: StepRecord): RunbookRun {
  return { ...run, steps: [...run.steps.slice(0, -1), record] };
}

// ── refusals ─────────────────────────────────────────────────────────────────────────

const KIND_HINTS: Record<RunbookStep['kind'], string> = {
  command: 'run it or skip it',
  check: 'acknowledge it or skip it',
  decision: 'choose a branch or skip it',
  wait: 'it waits for the alarms to clear; skip it to go on',
  notify: 'it completes by itself',
};

function wrongKind(at: At): Result<never> {
  const { step } = at;
  return fail(
    'INVALID_INPUT',
    `Step ${stepLabel(at.runbook, step.id)} is a ${step.kind} step: ${KIND_HINTS[step.kind]}.`,
    { kind: step.kind },
  );
}

/** Refuses an event meant for another kind of step, or a step whose request is out. */
function expect(at: At, kind: RunbookStep['kind']): Result<never> | undefined {
  return at.step.kind !== kind ? wrongKind(at) : waitsForRequest(at);
}

function waitsForRequest(at: At): Result<never> | undefined {
  if (at.record.status !== 'requested') return undefined;
  return fail(
    'INVALID_INPUT',
    `Step ${stepLabel(at.runbook, at.step.id)} waits for request ${at.record.requestId}; ` +
      'it can be run again or skipped once that request is denied, cancelled or expired.',
  );
}

/** A blank reason is REASON_REQUIRED; one longer than the reason limit is INVALID_INPUT. */
function reasonProblem(reason: string, doing: string): Result<never> | undefined {
  if (typeof reason !== 'string' || reason.trim() === '') {
    return fail('REASON_REQUIRED', `${doing} needs a reason.`);
  }
  return textProblem(reason, 'reason');
}

function textProblem(value: string, what: string): Result<never> | undefined {
  const problem = specialValueProblem('reason', value);
  return problem ? fail('INVALID_INPUT', problem.replace(/^reason/, what)) : undefined;
}

const actor = (e: Actor): Pick<StepRecord, 'operator' | 'surface'> => ({
  operator: e.by,
  surface: e.surface,
});

const findStep = (runbook: Runbook, id: string): RunbookStep | undefined =>
  runbook.steps.find((s) => s.id === id);

const finishedWord = (run: RunbookRun): string =>
  run.state === 'completed' ? 'completed' : run.state === 'failed' ? 'failed' : 'been aborted';

// ── the step card ────────────────────────────────────────────────────────────────────

const ACTIONS: Record<RunbookStep['kind'], NonNullable<RunView['current']>['actions']> = {
  command: ['run', 'skip'],
  check: ['ack', 'skip'],
  decision: ['choose', 'skip'],
  wait: ['skip'],
  notify: [],
};

/**
 * What the step card shows: the current step with what may be done now (nothing while
 * its request is out), the next step on its default path (none after a decision, whose
 * path depends on the branch), and every record with its step's title.
 */
export function runView(runbook: Runbook, run: RunbookRun): RunView {
  const history = run.steps.map((r) => ({
    ...r,
    title: findStep(runbook, r.stepId)?.title ?? r.stepId,
  }));
  const view: RunView = {
    run,
    runbook: { id: runbook.id, title: runbook.title, digest: runbook.digest },
    history,
  };
  const record = currentRecord(run);
  const step = currentStep(runbook, run);
  if (!record || !step) return view;
  const actions = record.status === 'requested' ? [] : [...ACTIONS[step.kind]];
  view.current = { step, record, actions };
  const next = step.kind === 'decision' ? undefined : findStep(runbook, defaultNext(runbook, step));
  if (next) view.next = { id: next.id, title: next.title };
  return view;
}
