/**
 * `countersign runbook test`: walks a runbook from start to end against an executor (the
 * local one, in the CLI) with scripted answers, through the same pure walk a real run uses
 * (`domain/runbook-run.ts`). Nothing is stored, audited or posted. Command steps run their
 * handlers for real, as if every approval had been given; each result is printed
 * redacted, one line per step.
 *
 * How each kind of step is answered (see `ScriptAnswer`):
 * - check: acknowledged (default) or skipped;
 * - decision: the branch the script names; a decision without an answer stops the walk,
 *   since a test must say which way it goes;
 * - command: its handler runs (default), or the script skips it or makes it fail;
 * - wait: the alarms clear (`ok`, default) or it times out (`timeout`);
 * - notify: printed.
 * The walk fails on a failed command without `on_failure`, on a missing answer, or after
 * `maxSteps` steps (a loop).
 */
import type { Catalog, Command, Service } from '../domain/catalog.ts';
import { findCommand, findRunbook, findService, isMutating } from '../domain/catalog.ts';
import { fail, ok, type Result } from '../domain/errors.ts';
import { validateParams } from '../domain/params.ts';
import { redact, sensitiveValuesOf } from '../domain/redact.ts';
import type { ParamValue } from '../domain/request-model.ts';
import type { CommandStep, Runbook, RunbookRun, RunbookStep } from '../domain/runbook-model.ts';
import {
  applyRunEvent,
  currentRecord,
  currentStep,
  type RunEffect,
  type RunEvent,
  startRun,
} from '../domain/runbook-run.ts';
import type { Clock, ExecutionInput, Executor } from './ports.ts';

/** One scripted answer for one visit of a step. */
export type ScriptAnswer =
  | 'ack'
  | 'ok'
  | 'timeout'
  | { choose: string }
  | { skip: string }
  | { fail: true };

export interface RunbookScript {
  /** Default: the runbook's first service (the catalog's first when it applies to `*`). */
  service?: string;
  /** Default: the service's first environment. */
  environment?: string;
  /** Filled into `{{incident}}`. */
  incident?: string;
  /** By step id. A list gives one answer per visit of a step that is visited again (a loop). */
  answers: Record<string, ScriptAnswer | ScriptAnswer[]>;
}

export interface TestRunbookDeps {
  catalog: Catalog;
  executor: Executor;
  /** Timestamps of the walk; waits that time out jump to their deadline. */
  clock: Clock;
}

export interface TestRunbookOptions {
  /** Recorded as the operator and sent as the requester. Default `runbook-test`. */
  as?: string;
  /** Steps acted on before the walk is called a loop. Default 100. */
  maxSteps?: number;
  /** Called with each line as it is written, for printing as the walk goes. */
  onLine?: (line: string) => void;
}

export interface RunbookTestReport {
  /** True when the run completed. */
  ok: boolean;
  /** What is walked and where, one line per step, then one saying how it ended. */
  lines: string[];
  run: RunbookRun;
}

/**
 * Walks `runbookId`. Refuses (before running anything) an unknown runbook, service or
 * environment, and a script that names steps the runbook lacks or answers a step in a way
 * its kind does not take; everything after that is a line of the report.
 */
export async function testRunbook(
  deps: TestRunbookDeps,
  runbookId: string,
  script: RunbookScript,
  opts: TestRunbookOptions = {},
): Promise<Result<RunbookTestReport>> {
  const runbook = findRunbook(deps.catalog, runbookId);
  if (!runbook) {
    const known = deps.catalog.runbooks.map((r) => r.id).join(', ') || 'none';
    return fail(
      'UNKNOWN_RUNBOOK',
      `No runbook "${runbookId}" in the catalog (runbooks: ${known}).`,
    );
  }
  const target = resolveTarget(deps.catalog, runbook, script);
  if (!target.ok) return target;
  const problems = scriptProblems(runbook, script);
  if (problems.length > 0) return fail('INVALID_INPUT', problems.join('; '), { problems });
  const walk = new Walk(deps, runbook, script, opts.as ?? 'runbook-test', opts.onLine);
  return ok(await walk.run(target.value, opts.maxSteps ?? 100));
}

function resolveTarget(
  catalog: Catalog,
  runbook: Runbook,
  script: RunbookScript,
): Result<{ service: string; environment: string; incident?: string }> {
  const anyService = runbook.services.includes('*');
  const serviceId = script.service ?? (anyService ? catalog.services[0]?.id : runbook.services[0]);
  const service: Service | undefined = serviceId ? findService(catalog, serviceId) : undefined;
  if (!service) return fail('UNKNOWN_SERVICE', `No service "${serviceId ?? ''}" in the catalog.`);
  if (!anyService && !runbook.services.includes(service.id)) {
    return fail(
      'INVALID_INPUT',
      `Runbook ${runbook.id} is for ${runbook.services.join(', ')}, not ${service.id}.`,
    );
  }
  const environment = script.environment ?? service.environments[0]?.name;
  if (!environment || !service.environments.some((e) => e.name === environment)) {
    const names = service.environments.map((e) => e.name).join(', ');
    return fail(
      'UNKNOWN_ENVIRONMENT',
      `Service ${service.id} has no environment "${environment ?? ''}" (it has: ${names}).`,
    );
  }
  const incident = script.incident !== undefined ? { incident: script.incident } : {};
  return ok({ service: service.id, environment, ...incident });
}

const TAKES: Record<RunbookStep['kind'], string[]> = {
  check: ['ack', 'skip'],
  decision: ['choose', 'skip'],
  command: ['skip', 'fail'],
  wait: ['ok', 'timeout', 'skip'],
  notify: [],
};

const answerName = (a: ScriptAnswer): string => (typeof a === 'string' ? a : Object.keys(a)[0]!);

/** What is wrong with the script for this runbook, one sentence each. */
export function scriptProblems(runbook: Runbook, script: RunbookScript): string[] {
  const problems: string[] = [];
  for (const [stepId, given] of Object.entries(script.answers)) {
    const step = runbook.steps.find((s) => s.id === stepId);
    if (!step) {
      const ids = runbook.steps.map((s) => s.id).join(', ');
      problems.push(`runbook ${runbook.id} has no step "${stepId}" (steps: ${ids})`);
      continue;
    }
    for (const answer of Array.isArray(given) ? given : [given]) {
      const name = answerName(answer);
      const takes = TAKES[step.kind];
      if (!takes.includes(name)) {
        const allowed = takes.length > 0 ? `it takes ${takes.join(', ')}` : 'it takes no answer';
        problems.push(`step "${stepId}" is a ${step.kind} step: ${allowed}, not ${name}`);
      } else if (typeof answer === 'object' && 'choose' in answer && step.kind === 'decision') {
        const ids = step.branches.map((b) => b.id);
        if (!ids.includes(answer.choose)) {
          problems.push(`step "${stepId}" has no branch "${answer.choose}" (${ids.join(', ')})`);
        }
      }
    }
  }
  return problems;
}

/** A step's outcome: the events to apply, and the line that says what happened. */
type Play = { events: RunEvent[]; line: string } | { stop: string };

/** One walk: the state that changes as the run goes on. */
class Walk {
  private readonly lines: string[] = [];
  private readonly visits = new Map<string, number>();
  private now: number;
  private requests = 0;
  private readonly surface = 'cli' as const;

  constructor(
    private readonly deps: TestRunbookDeps,
    private readonly runbook: Runbook,
    private readonly script: RunbookScript,
    private readonly as: string,
    private readonly onLine: (line: string) => void = () => {},
  ) {
    this.now = deps.clock.now();
  }

  private say(line: string): void {
    this.lines.push(line);
    this.onLine(line);
  }

  async run(
    target: { service: string; environment: string; incident?: string },
    maxSteps: number,
  ): Promise<RunbookTestReport> {
    const { id, digest } = this.runbook;
    const incident = target.incident ? ` for ${target.incident}` : '';
    this.say(
      `runbook ${id} (version ${digest.slice(0, 12)}) on ${target.service}/${target.environment}${incident}: ` +
        'commands run for real, as if approved',
    );
    const start = { id: 'RBR-TEST', ...target, startedBy: this.as, now: this.now };
    const started = startRun(this.runbook, start);
    let run = started.run;
    this.effects(started.effects);
    for (let acted = 0; run.state === 'active'; acted++) {
      if (acted >= maxSteps) return this.end(run, `stopped after ${maxSteps} steps: a loop?`);
      const step = currentStep(this.runbook, run)!;
      const play = await this.play(run, step);
      if ('stop' in play) return this.end(run, play.stop);
      this.say(play.line);
      for (const event of play.events) {
        this.now = Math.max(this.now, this.deps.clock.now());
        const next = applyRunEvent(this.runbook, run, event, this.now);
        if (!next.ok) return this.end(run, next.error.message);
        run = next.value.run;
        this.effects(next.value.effects);
      }
    }
    return this.end(run);
  }

  private end(run: RunbookRun, stopped?: string): RunbookTestReport {
    const acted = run.steps.filter((r) => r.operator !== 'system').length;
    if (stopped) this.say(`✗ ${stopped}`);
    else if (run.state === 'completed') this.say(`✓ completed after ${acted} step(s)`);
    else {
      const at = run.steps.at(-1);
      const step = at && this.runbook.steps.find((s) => s.id === at.stepId);
      this.say(`✗ the run ${run.state}${step ? ` at ${this.label(step)}` : ''}`);
    }
    return { ok: !stopped && run.state === 'completed', lines: this.lines, run };
  }

  private effects(effects: readonly RunEffect[]): void {
    for (const e of effects) {
      if (e.kind !== 'notify') continue;
      const step = this.runbook.steps.find((s) => s.id === e.stepId)!;
      this.say(`✓ ${this.number(step)} notify: ${e.text}`);
    }
  }

  /** The next scripted answer for this visit of `stepId`, if any. */
  private answer(stepId: string): ScriptAnswer | undefined {
    const visit = this.visits.get(stepId) ?? 0;
    this.visits.set(stepId, visit + 1);
    const given = this.script.answers[stepId];
    return Array.isArray(given) ? given[visit] : given;
  }

  private async play(run: RunbookRun, step: RunbookStep): Promise<Play> {
    const answer = this.answer(step.id);
    const by = { by: this.as, surface: this.surface };
    if (typeof answer === 'object' && 'skip' in answer) {
      const line = `✓ ${this.number(step)} skip "${step.title}": ${answer.skip}`;
      return { events: [{ kind: 'skip', stepId: step.id, reason: answer.skip, ...by }], line };
    }
    switch (step.kind) {
      case 'check':
        return {
          events: [{ kind: 'ack', stepId: step.id, ...by }],
          line: `✓ ${this.number(step)} ack "${step.title}"`,
        };
      case 'decision':
        return this.decide(step, answer);
      case 'wait':
        return this.wait(run, step, answer);
      case 'command':
        return this.command(run, step, answer);
      case 'notify':
        return { stop: `${this.label(step)} is a notify step left current` };
    }
  }

  private decide(step: RunbookStep, answer: ScriptAnswer | undefined): Play {
    const what = `${this.number(step)} decide "${step.title}"`;
    if (typeof answer !== 'object' || !('choose' in answer) || step.kind !== 'decision') {
      const ids = step.kind === 'decision' ? step.branches.map((b) => b.id).join('|') : '';
      const visit = this.visits.get(step.id) ?? 1;
      const which = visit > 1 ? ` for visit ${visit}` : '';
      return {
        stop: `${what}: the script has no answer${which} for step "${step.id}"; add ${step.id}: { choose: <${ids}> }`,
      };
    }
    return {
      events: [
        {
          kind: 'choose',
          stepId: step.id,
          branch: answer.choose,
          by: this.as,
          surface: this.surface,
        },
      ],
      line: `✓ ${what} → ${answer.choose}`,
    };
  }

  private wait(run: RunbookRun, step: RunbookStep, answer: ScriptAnswer | undefined): Play {
    const what = `${this.number(step)} wait "${step.title}"`;
    if (answer !== 'timeout') {
      return {
        events: [{ kind: 'condition', stepId: step.id, met: true }],
        line: `✓ ${what} → alarms ok`,
      };
    }
    // Jump to the deadline: the tick that follows times the step out.
    this.now = Math.max(this.now, currentRecord(run)?.deadline ?? this.now);
    const after = step.kind === 'wait' ? ` after ${step.timeoutMinutes} min` : '';
    return { events: [{ kind: 'tick' }], line: `✓ ${what} → timed out${after}` };
  }

  private async command(
    run: RunbookRun,
    step: CommandStep,
    answer: ScriptAnswer | undefined,
  ): Promise<Play> {
    const asked = applyRunEvent(
      this.runbook,
      run,
      {
        kind: 'run',
        stepId: step.id,
        by: this.as,
        surface: this.surface,
      },
      this.now,
    );
    if (!asked.ok) return { stop: asked.error.message };
    const request = asked.value.effects.find((e) => e.kind === 'request');
    const command = findCommand(this.deps.catalog, step.command);
    if (!request || !command) {
      return { stop: `${this.label(step)}: no command "${step.command}" in the catalog` };
    }
    const typed = validateParams(command, request.params);
    if (!typed.ok) return { stop: `${this.label(step)}: ${typed.error.message}` };
    const requestId = `REQ-TEST-${++this.requests}`;
    const shown = `${this.number(step)} run ${commandText(command, typed.value)}`;
    const finished = (outcome: 'succeeded' | 'failed', output?: string): RunEvent[] => [
      { kind: 'run', stepId: step.id, by: this.as, surface: this.surface },
      { kind: 'requested', stepId: step.id, requestId },
      {
        kind: 'request-finished',
        stepId: step.id,
        requestId,
        outcome,
        ...(output ? { output } : {}),
      },
    ];
    if (typeof answer === 'object' && 'fail' in answer) {
      const line = `✓ ${shown}: failed, as the script says${this.onFailure(step)}`;
      return { events: finished('failed'), line };
    }
    const input = {
      requestId,
      command,
      handler: command.handler,
      service: run.service,
      environment: run.environment,
      params: typed.value,
      requester: this.as,
      timeoutMs: command.timeoutSeconds * 1000,
    };
    return this.execute(step, input, shown, finished);
  }

  /** Runs the handler as if approved; the line shows the first line of its result, redacted. */
  private async execute(
    step: CommandStep,
    input: ExecutionInput,
    shown: string,
    finished: (outcome: 'succeeded' | 'failed', output?: string) => RunEvent[],
  ): Promise<Play> {
    const { command, params } = input;
    const began = this.deps.clock.now();
    const outcome = await this.deps.executor.run(input);
    const ms = Math.max(0, this.deps.clock.now() - began);
    const clean = (s: string) =>
      shorten(redact(s, sensitiveValuesOf(command.params, params)), MAX_LINE_OUTPUT);
    const approval = isMutating(command) ? '; approval assumed' : '';
    const timing = `(${ms} ms${approval})`;
    if (outcome.ok) {
      const first = clean(outcome.output.split('\n', 1)[0] ?? '');
      return { events: finished('succeeded', first), line: `✓ ${shown} ${timing}: ${first}` };
    }
    const error = clean(outcome.error ?? 'failed');
    const line = `✗ ${shown} ${timing}: ${error}${this.onFailure(step)}`;
    return { events: finished('failed', error), line };
  }

  private onFailure(step: CommandStep): string {
    return step.onFailure !== undefined ? ` → on failure: ${step.onFailure}` : '';
  }

  private number(step: RunbookStep): number {
    return this.runbook.steps.indexOf(step) + 1;
  }

  private label(step: RunbookStep): string {
    return `step ${this.number(step)} '${step.title}'`;
  }
}

/** Characters of a command's output or error shown on its line. */
const MAX_LINE_OUTPUT = 200;

function shorten(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : s;
}

/** `scale replicas=8`, with sensitive values shown as `[REDACTED]`. */
function commandText(command: Command, params: Record<string, ParamValue>): string {
  const words = command.params
    .filter((p) => params[p.name] !== undefined)
    .map((p) => `${p.name}=${p.sensitive ? '[REDACTED]' : String(params[p.name])}`);
  return [command.id, ...words].join(' ');
}
