/**
 * Runs ASL state machines locally with aws-local-stepfunctions. The machine itself runs
 * on the main thread (it only moves JSON between states); every Task state runs in a
 * handler worker, so a stuck Task can be stopped and TypeScript handlers load whatever
 * the parent process was started with.
 *
 * Validation with asl-validator costs about half a second of CPU per definition, so it
 * runs once per definition text (cached for the process, shared with
 * `validateStateMachine`) and the StateMachine is built with validation off after that.
 */
import './polyfills.ts';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import type { ExecutionInput, ExecutionOutcome } from '../../app/ports.ts';
import {
  composeOutput,
  errorText,
  type LogCollector,
  NamedError,
  resolveInside,
} from './execution-output.ts';
import type { WorkerPool } from './worker-pool.ts';

type JSONValue = Parameters<StateMachine['run']>[0];
type TaskHandlers = Record<string, (input: JSONValue) => Promise<JSONValue>>;

/** Step Functions' own limit on a state's input or output, in bytes (256 KiB). */
export const STATE_PAYLOAD_LIMIT_BYTES = 262_144;

/** Step Functions' default Task timeout, in seconds. */
const DEFAULT_TASK_TIMEOUT_SECONDS = 60;

type AslValidator = (
  definition: unknown,
  options: { checkArn: boolean; checkPaths: boolean },
) => { isValid: boolean; errors: Array<{ 'Error code'?: string; Message?: string }> };

let aslValidator: AslValidator | undefined;
/** Validation results by definition text; bounded, oldest evicted first. */
const validated = new Map<string, string[]>();
const VALIDATION_CACHE_ENTRIES = 128;

/** Errors of a definition's text (empty when valid), each one line. Cached. */
export function validateDefinitionText(text: string): string[] {
  const known = validated.get(text);
  if (known) return known;
  const errors = validateUncached(text);
  if (validated.size >= VALIDATION_CACHE_ENTRIES) {
    validated.delete(validated.keys().next().value as string);
  }
  validated.set(text, errors);
  return errors;
}

function validateUncached(text: string): string[] {
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (err) {
    return [`not valid JSON: ${(err as Error).message}`];
  }
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) {
    return ['a state machine definition must be a JSON object'];
  }
  aslValidator ??= createRequire(import.meta.url)('asl-validator') as AslValidator;
  // The validator writes defaults into what it is given; it gets a copy.
  const result = aslValidator(structuredClone(definition), { checkArn: true, checkPaths: true });
  if (result.isValid) return [];
  return result.errors.map((e) => `${e['Error code'] ?? 'INVALID'}: ${e.Message ?? 'invalid'}`);
}

/**
 * Validates the ASL file at `path` with asl-validator. Returns the errors, one line each;
 * an empty list means valid. A file that cannot be read or parsed is an error too.
 */
export async function validateStateMachine(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return [`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`];
  }
  return validateDefinitionText(text);
}

/** A Task state and its timeout, in seconds. */
interface TaskState {
  name: string;
  timeoutSeconds: number;
}

/** Every Task state, including those inside Parallel branches and Map item processors. */
export function taskStatesOf(definition: StateMachineDefinition): TaskState[] {
  const tasks: TaskState[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') {
      tasks.push({ name, timeoutSeconds: state.TimeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS });
    } else if (state.Type === 'Parallel') {
      for (const branch of state.Branches) tasks.push(...taskStatesOf(branch));
    } else if (state.Type === 'Map') {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) tasks.push(...taskStatesOf(processor));
    }
  }
  return tasks;
}

interface BuiltMachine {
  text: string;
  machine: StateMachine;
  tasks: TaskState[];
}

type StateMachineHandler = Extract<ExecutionInput['handler'], { kind: 'state-machine' }>;

export class StateMachineRunner {
  /** Built machines by absolute definition path; rebuilt when the file's text changes. */
  private readonly machines = new Map<string, BuiltMachine>();

  constructor(
    private readonly catalogRoot: string,
    private readonly pool: WorkerPool,
  ) {}

  /**
   * Runs the machine with `event` as its input. The time limit starts once the machine
   * is built (a first run of a definition also pays for its validation).
   */
  async run(
    ref: StateMachineHandler,
    input: ExecutionInput,
    event: JSONValue,
    logs: LogCollector,
  ): Promise<ExecutionOutcome> {
    const built = await this.machineFor(ref.definition);
    const stop = new AbortController();
    const handlers = this.taskHandlers(built.tasks, ref.handlers, stop.signal, logs, {
      ahead: input.approved === true,
    });
    const execution = built.machine.run(event, {
      overrides: { taskResourceLocalHandlers: handlers },
      context: executionContext(input, event),
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort();
      execution.abort();
    }, input.timeoutMs);
    try {
      const result = await execution.result;
      return { ok: true, output: composeOutput(JSON.stringify(result), logs), timedOut: false };
    } catch (err) {
      return failure(err, timedOut, input.timeoutMs, logs);
    } finally {
      clearTimeout(timer);
      stop.abort(); // Stops Task jobs the machine stopped waiting for (a Task timeout).
    }
  }

  private async machineFor(definition: string): Promise<BuiltMachine> {
    const path = resolveInside(this.catalogRoot, definition);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new NamedError('HandlerLoadError', `cannot read ${definition}: ${code}`);
    }
    const cached = this.machines.get(path);
    if (cached?.text === text) return cached;
    const errors = validateDefinitionText(text);
    if (errors.length > 0) {
      throw new NamedError('InvalidStateMachine', `${definition}: ${errors.join('; ')}`);
    }
    const parsed = JSON.parse(text) as StateMachineDefinition;
    const machine = new StateMachine(parsed, { validationOptions: { noValidate: true } });
    const built = { text, machine, tasks: taskStatesOf(parsed) };
    this.machines.set(path, built);
    return built;
  }

  /** One override per Task state, so no Task ever calls AWS from a local run. */
  private taskHandlers(
    tasks: TaskState[],
    handlersModule: string | undefined,
    signal: AbortSignal,
    logs: LogCollector,
    { ahead }: { ahead: boolean },
  ): TaskHandlers {
    const modulePath = handlersModule && resolveInside(this.catalogRoot, handlersModule);
    const handlers: TaskHandlers = {};
    for (const task of tasks) {
      handlers[task.name] = async (taskInput) => {
        if (!modulePath || !handlersModule) {
          throw new NamedError('HandlerNotFound', `no handlers module for Task "${task.name}"`);
        }
        const job = {
          kind: 'task' as const,
          modulePath,
          moduleLabel: handlersModule,
          stateName: task.name,
          input: taskInput,
        };
        const outcome = await this.pool.run(job, {
          timeoutMs: task.timeoutSeconds * 1000,
          signal,
          maxLogBytes: logs.remaining(),
          maxResultBytes: STATE_PAYLOAD_LIMIT_BYTES,
          onLog: logs.add,
          ahead,
        });
        return taskResult(task, outcome, logs);
      };
    }
    return handlers;
  }
}

function taskResult(
  task: TaskState,
  outcome: Awaited<ReturnType<WorkerPool['run']>>,
  logs: LogCollector,
): JSONValue {
  switch (outcome.status) {
    case 'done': {
      logs.addDropped(outcome.result.droppedLogBytes);
      const { ok, json, error } = outcome.result;
      if (ok) return JSON.parse(json ?? 'null') as JSONValue;
      throw new NamedError(error?.name ?? 'Error', error?.message ?? 'failed');
    }
    case 'timeout':
      throw new NamedError(
        'States.Timeout',
        `Task "${task.name}" ran past ${task.timeoutSeconds} s`,
      );
    case 'aborted':
      throw new NamedError('States.Runtime', `Task "${task.name}" was stopped`);
    case 'crashed':
      throw new NamedError(outcome.error.name, outcome.error.message);
  }
}

/** The `$$` context object: this run's execution named after the request. */
function executionContext(input: ExecutionInput, event: JSONValue) {
  const machineArn = `arn:aws:states:local:000000000000:stateMachine:${input.command.id}`;
  return {
    Execution: {
      Id: `arn:aws:states:local:000000000000:execution:${input.command.id}:${input.requestId}`,
      Name: input.requestId,
      Input: event,
      StartTime: new Date().toISOString(),
    },
    StateMachine: { Id: machineArn, Name: input.command.id },
  };
}

function failure(
  err: unknown,
  timedOut: boolean,
  timeoutMs: number,
  logs: LogCollector,
): ExecutionOutcome {
  const output = composeOutput(undefined, logs);
  if (timedOut || err instanceof ExecutionAbortedError) {
    return { ok: false, output, timedOut: true, error: `timed out after ${timeoutMs} ms` };
  }
  if (err instanceof ExecutionTimeoutError) {
    const error = "timed out: the state machine's TimeoutSeconds ran out";
    return { ok: false, output, timedOut: true, error };
  }
  const cause = err instanceof ExecutionError ? err.cause : err;
  return { ok: false, output, timedOut: false, error: errorText(cause) };
}
