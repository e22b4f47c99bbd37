/**
 * Use cases: walk a runbook run. A person acts on the current step (run its command,
 * acknowledge a check, pick a branch, skip with a reason); the run also moves by itself
 * when a step's request finishes, when the incident's alarms return to OK, and when a wait
 * times out. Every move is committed with its evidence (operator, output, time), an audit
 * entry, a line in the incident's timeline and a fresh step card, in one transaction.
 */
import { type Catalog, findRunbook } from '../domain/catalog.ts';
import { DomainError } from '../domain/errors.ts';
import type { TimelineDraft } from '../domain/incident-model.ts';
import { can } from '../domain/policy.ts';
import type { ActionRequest, Surface } from '../domain/request-model.ts';
import { TERMINAL_STATES } from '../domain/request-model.ts';
import type { Runbook, RunbookRun, StepRecord } from '../domain/runbook-model.ts';
import { applyRunEvent, type RunEffect, type RunEvent } from '../domain/runbook-run.ts';
import { type Actor, type AppDeps, SYSTEM } from './context.ts';
import { runAudit, showIncidentEffect, showRunEffect, type Who } from './incident-effects.ts';
import type { OutboxDraft, StoreTx } from './ports.ts';
import { refuse } from './refuse.ts';
import { requestAction } from './request-action.ts';

export type StepAction = 'run' | 'ack' | 'skip' | 'choose';

export interface StepInput {
  runId: string;
  stepId: string;
  action: StepAction;
  branch?: string;
  reason?: string;
  note?: string;
}

/** Who may operate runs of a service environment: a `request` grant on the reserved id `runbook`. */
export function mayOperate(
  catalog: Catalog,
  actor: Actor,
  r: Pick<RunbookRun, 'service' | 'environment'>,
) {
  return can(catalog, actor.person, 'request', {
    command: 'runbook',
    service: r.service,
    environment: r.environment,
  });
}

/** The runbook a run walks: the version it pinned when it started. */
export function runbookOf(catalog: Catalog, run: RunbookRun): Runbook {
  const pinned = run.definition ?? findRunbook(catalog, run.runbook);
  if (!pinned || pinned.digest !== run.runbookDigest) {
    throw new DomainError(
      'CONFLICT',
      `Runbook ${run.runbook} changed since run ${run.id} started and the run has no copy of it.`,
    );
  }
  return pinned;
}

export async function actOnStep(
  deps: AppDeps,
  actor: Actor,
  input: StepInput,
): Promise<RunbookRun> {
  const catalog = deps.catalog.current();
  const run = await deps.store.getRun(input.runId);
  const fail = (err: DomainError) => refuse(deps, actor, 'runbook.step.refused', input.runId, err);
  if (!run || !can(catalog, actor.person, 'view', { command: 'runbook', ...scope(run) })) {
    return fail(new DomainError('NOT_FOUND', `There is no runbook run ${input.runId}.`));
  }
  if (!mayOperate(catalog, actor, run)) {
    return fail(
      new DomainError(
        'FORBIDDEN',
        `You have no request grant for runbooks on ${run.service} ${run.environment}.`,
      ),
    );
  }
  const event = stepEvent(actor, input);
  if (input.action === 'run') return runStep(deps, actor, run, event);
  try {
    return await deps.store.transaction((tx) =>
      moveRun(deps, tx, input.runId, event, actor, deps.clock.now()),
    );
  } catch (err) {
    if (err instanceof DomainError && err.status < 500) return fail(err);
    throw err;
  }
}

function scope(run: RunbookRun) {
  return { service: run.service, environment: run.environment };
}

function stepEvent(actor: Actor, input: StepInput): RunEvent {
  const by = actor.person.id;
  const surface: Surface = actor.surface;
  const stepId = input.stepId;
  switch (input.action) {
    case 'ack':
      return { kind: 'ack', stepId, by, surface, ...(input.note ? { note: input.note } : {}) };
    case 'skip':
      return { kind: 'skip', stepId, by, surface, reason: input.reason ?? '' };
    case 'choose':
      return { kind: 'choose', stepId, by, surface, branch: input.branch ?? '' };
    case 'run':
      return { kind: 'run', stepId, by, surface };
  }
}

/**
 * A command step: the command is requested like any other (policy, approvals, audit), and
 * the request is stored in the same transaction that marks the step `requested`, so a
 * crash leaves either both or neither.
 */
async function runStep(
  deps: AppDeps,
  actor: Actor,
  run: RunbookRun,
  event: RunEvent,
): Promise<RunbookRun> {
  const runbook = runbookOf(deps.catalog.current(), run);
  const dry = applyRunEvent(runbook, run, event, deps.clock.now());
  if (!dry.ok) return refuse(deps, actor, 'runbook.step.refused', run.id, dry.error);
  const ask = dry.value.effects.find((e) => e.kind === 'request');
  if (ask?.kind !== 'request') {
    return refuse(
      deps,
      actor,
      'runbook.step.refused',
      run.id,
      new DomainError('INVALID_INPUT', 'This step has no command to run.'),
    );
  }
  let moved: RunbookRun | undefined;
  const result = await requestAction(deps, actor, {
    command: ask.command,
    service: run.service,
    environment: run.environment,
    params: ask.params,
    links: run.incident ? { incident: run.incident } : run.ticket ? { ticket: run.ticket } : {},
    reason: `runbook ${run.runbook} step ${ask.stepId}`,
    origin: { kind: 'runbook', run: run.id, step: ask.stepId },
    within: async (tx, request) => {
      const now = deps.clock.now();
      await moveRun(deps, tx, run.id, event, actor, now);
      moved = await moveRun(
        deps,
        tx,
        run.id,
        { kind: 'requested', stepId: ask.stepId, requestId: request.id },
        SYSTEM,
        now,
      );
    },
  });
  if (result.kind === 'ran') {
    // A read-only step ran at once: there is no request to wait for.
    return deps.store.transaction(async (tx) => {
      const now = deps.clock.now();
      await moveRun(deps, tx, run.id, event, actor, now);
      return moveRun(
        deps,
        tx,
        run.id,
        {
          kind: 'request-finished',
          stepId: ask.stepId,
          requestId: '',
          outcome: result.ok ? 'succeeded' : 'failed',
          output: result.ok ? result.output : (result.error ?? result.output),
        },
        SYSTEM,
        now,
      );
    });
  }
  return moved ?? run;
}

/**
 * Applies one event to the locked run and commits what follows from it. Throws the
 * domain's refusal (the transaction then rolls back).
 */
export async function moveRun(
  deps: AppDeps,
  tx: StoreTx,
  runId: string,
  event: RunEvent,
  who: Who,
  now: number,
): Promise<RunbookRun> {
  const run = await tx.getRun(runId);
  if (!run) throw new DomainError('NOT_FOUND', `There is no runbook run ${runId}.`);
  const runbook = runbookOf(deps.catalog.current(), run);
  const applied = applyRunEvent(runbook, run, event, now);
  if (!applied.ok) throw applied.error;
  const next = applied.value.run;
  await tx.updateRun(next);
  await commitRunChange(deps, tx, run, next, runbook, applied.value.effects, who, event, now);
  return next;
}

/** Timeline lines, audit entries and chat updates for a run that moved from `prev` to `next`. */
export async function commitRunChange(
  deps: AppDeps,
  tx: StoreTx,
  prev: RunbookRun | undefined,
  next: RunbookRun,
  runbook: Runbook,
  effects: readonly RunEffect[],
  who: Who,
  event: RunEvent | { kind: 'start' },
  now: number,
): Promise<void> {
  const changed = next.steps.filter((s, i) => JSON.stringify(prev?.steps[i]) !== JSON.stringify(s));
  const title = (id: string) => runbook.steps.find((s) => s.id === id)?.title ?? id;
  const lines: TimelineDraft[] = [];
  const outbox: OutboxDraft[] = [showRunEffect(next, now)];
  for (const s of changed) {
    if (s.status !== 'current' && s.status !== 'requested') {
      deps.responseMetrics?.runbookStep(runbook.id, s.status);
    }
    const text = stepLine(s, title(s.stepId));
    if (text && next.incident) {
      lines.push({
        incidentId: next.incident,
        at: s.finishedAt ?? s.startedAt,
        kind: 'step',
        actor: s.operator ?? 'system',
        text: `${runbook.id}: ${text}`,
        ref: next.id,
        detail: {
          step: s.stepId,
          status: s.status,
          ...(s.requestId ? { request: s.requestId } : {}),
        },
      });
    }
  }
  if (prev && prev.state === 'active' && next.state !== 'active' && next.incident) {
    lines.push({
      incidentId: next.incident,
      at: now,
      kind: 'runbook',
      actor: 'system',
      text: `runbook ${runbook.id} ${next.state}`,
      ref: next.id,
      detail: {},
    });
  }
  if (lines.length > 0) await tx.appendTimeline(lines);
  await tx.appendAudit([
    runAudit(who, next, `runbook.${event.kind === 'start' ? 'started' : 'moved'}`, now, {
      event: event.kind,
      ...('stepId' in event ? { step: event.stepId } : {}),
      state: next.state,
      current: next.state === 'active' ? next.steps[next.steps.length - 1]?.stepId : null,
    }),
  ]);
  if (next.incident) {
    const incident = await tx.getIncident(next.incident);
    if (incident) {
      for (const e of effects) {
        if (e.kind === 'notify') {
          outbox.push(
            showIncidentEffect(incident, now, {
              key: `${next.id}-${next.steps.length}-${e.stepId}`,
              text: e.text,
            }),
          );
        }
      }
      outbox.push(showIncidentEffect(incident, now, undefined, `${next.id}-v${next.version}`));
      if (incident.firstActionAt === undefined && incident.status !== 'resolved' && 'by' in event) {
        await tx.updateIncident({
          ...incident,
          firstActionAt: now,
          updatedAt: now,
          version: incident.version + 1,
        });
      }
    }
  }
  await tx.enqueue(outbox);
}

function stepLine(s: StepRecord, title: string): string | undefined {
  const who = s.operator ?? 'system';
  switch (s.status) {
    case 'current':
      return undefined;
    case 'requested':
      return `${who} ran "${title}" (${s.requestId ?? 'request'})`;
    case 'done':
      return s.choice
        ? `${who} chose ${s.choice} at "${title}"`
        : `"${title}" done${s.operator ? ` by ${s.operator}` : ''}`;
    case 'skipped':
      return `${who} skipped "${title}": ${s.reason ?? ''}`;
    case 'failed':
      return `"${title}" failed`;
    case 'timed-out':
      return `"${title}" timed out`;
  }
}

/** The incident's alarms are back to OK: a run waiting for that moves on. */
export async function conditionMet(
  deps: AppDeps,
  tx: StoreTx,
  runId: string,
  now: number,
): Promise<void> {
  const run = await tx.getRun(runId);
  const current = run?.state === 'active' ? run.steps[run.steps.length - 1] : undefined;
  if (!run || !current) return;
  const step = runbookOf(deps.catalog.current(), run).steps.find((s) => s.id === current.stepId);
  if (step?.kind !== 'wait' || current.status !== 'current') return;
  await moveRun(deps, tx, runId, { kind: 'condition', stepId: step.id, met: true }, SYSTEM, now);
}

/** A step's request reached a final state: the run records the outcome and moves on. */
export async function requestSettled(
  deps: AppDeps,
  tx: StoreTx,
  r: ActionRequest,
  now: number,
): Promise<void> {
  if (r.origin?.kind !== 'runbook' || !TERMINAL_STATES.includes(r.state)) return;
  const run = await tx.getRun(r.origin.run);
  const current = run?.state === 'active' ? run.steps[run.steps.length - 1] : undefined;
  if (!run || current?.requestId !== r.id || current.status !== 'requested') return;
  await moveRun(
    deps,
    tx,
    run.id,
    {
      kind: 'request-finished',
      stepId: r.origin.step,
      requestId: r.id,
      outcome: r.state as 'succeeded' | 'failed' | 'unknown' | 'denied' | 'expired' | 'cancelled',
      ...(r.execution?.output !== undefined ? { output: r.execution.output } : {}),
    },
    SYSTEM,
    now,
  );
}

/** Wait steps past their deadline time out. */
export async function tickRuns(deps: AppDeps, now: number): Promise<void> {
  const active = await deps.store.listRuns({ states: ['active'], limit: 500 });
  for (const run of active) {
    const current = run.steps[run.steps.length - 1];
    if (current?.deadline === undefined || current.deadline > now || current.status !== 'current')
      continue;
    await deps.store
      .transaction((tx) => moveRun(deps, tx, run.id, { kind: 'tick' }, SYSTEM, now))
      .catch((err) => deps.log.warn({ err, run: run.id }, 'runbook wait timeout failed'));
  }
}
