/**
 * The local executor: runs a command's handler in this process, for the embedded default
 * and for testing handlers and runbooks before they go to AWS.
 *
 * - `lambda-module`: `<catalogRoot>/<module>` exports `export`, a function with the AWS
 *   Lambda Node.js signature: `async (event, context)`, or the legacy
 *   `(event, context, callback)` when it declares three parameters. It runs in a worker
 *   thread from a warm pool, so a timeout terminates it for real.
 * - `state-machine`: the ASL JSON at `<catalogRoot>/<definition>`, run by
 *   aws-local-stepfunctions; each Task state runs the function named after the state in
 *   the `handlers` module (see `state-machine-runner.ts`).
 *
 * Both receive the same event: `{ requestId, command, service, environment, params,
 * requester }`. What `console.*` writes is captured into the output after the result (see
 * `execution-output.ts` for the layout). Handler modules are cached by each warm worker,
 * as a warm Lambda container would: a changed handler file is picked up by new workers.
 */
import type { ExecutionInput, ExecutionOutcome, Executor } from '../../app/ports.ts';
import { composeOutput, errorText, LogCollector, resolveInside } from './execution-output.ts';
import type { StateMachineRunner } from './state-machine-runner.ts';
import { type JobOutcome, WorkerPool } from './worker-pool.ts';

/** Checks an ASL definition file; loads the state-machine libraries on first use. */
export async function validateStateMachine(path: string): Promise<string[]> {
  return (await import('./state-machine-runner.ts')).validateStateMachine(path);
}

export interface LocalExecutorOptions {
  /** The catalog folder; handler paths resolve against it and may not leave it. */
  catalogRoot: string;
  /** Variables handlers see in `process.env`, over this process's environment. */
  env?: Record<string, string>;
  /**
   * The output size the caller will show, in bytes. Default 65536. The executor keeps at
   * most 4× this of a result and 4× of logs in memory; the caller still redacts and bounds.
   */
  maxOutputBytes?: number;
  /**
   * Warm handler workers kept ready. Default 1. Each live worker costs about 30 MB; a cold
   * one about half a second before its first job.
   */
  workers?: number;
  /**
   * Most handler workers at once (each running Task state of a Parallel or Map counts);
   * jobs beyond wait in order. Workers beyond `workers` retire after 30 s idle. Default 2
   * (each costs about 20 MB; see docs/adr/0006).
   */
  maxWorkers?: number;
  /** Heap limit of each handler worker, in megabytes; also `context.memoryLimitInMB`. Default 256. */
  workerHeapMb?: number;
}

/** The event every handler receives. */
export interface HandlerEvent {
  requestId: string;
  /** The command id, e.g. `deploy`. */
  command: string;
  service: string;
  environment: string;
  params: Record<string, string | number | boolean>;
  /** The person id of the requester. */
  requester: string;
}

export class LocalExecutor implements Executor {
  private readonly pool: WorkerPool;
  /** Loaded on the first state-machine run: the ASL libraries cost memory a catalog may not need. */
  private machines: Promise<StateMachineRunner> | undefined;
  private readonly keepBytes: number;
  private readonly heapMb: number;
  /** Each worker runs one approved execution and holds the next (see worker-pool.ts). */
  get capacity(): number {
    return this.pool.capacity;
  }

  constructor(private readonly options: LocalExecutorOptions) {
    const maxOutputBytes = options.maxOutputBytes ?? 65_536;
    this.keepBytes = 4 * maxOutputBytes;
    this.heapMb = options.workerHeapMb ?? 256;
    const size = options.workers ?? 1;
    this.pool = new WorkerPool({
      size,
      maxWorkers: Math.max(size, options.maxWorkers ?? 2),
      env: { ...process.env, ...options.env },
      heapMb: this.heapMb,
      idleMs: 30_000,
      // One worker is kept for approved executions: previews and read-only commands never
      // make an approved request wait for a worker (with a single worker they share it).
      reserved: 1,
    });
  }

  private stateMachines(): Promise<StateMachineRunner> {
    this.machines ??= import('./state-machine-runner.ts').then(
      (m) => new m.StateMachineRunner(this.options.catalogRoot, this.pool),
    );
    return this.machines;
  }

  /** Starts the warm workers now, so the first execution does not pay for them. */
  warm(): void {
    this.pool.warm();
  }

  /** Stops every worker. Running executions end as failed. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Never rejects: every failure is an outcome. */
  async run(input: ExecutionInput): Promise<ExecutionOutcome> {
    const logs = new LogCollector(this.keepBytes);
    if (!Number.isFinite(input.timeoutMs) || input.timeoutMs <= 0) {
      return { ok: false, output: '', timedOut: false, error: `bad timeout: ${input.timeoutMs}` };
    }
    try {
      const event = handlerEvent(input);
      const { handler } = input;
      if (handler.kind === 'state-machine') {
        return await (await this.stateMachines()).run(handler, input, { ...event }, logs);
      }
      return await this.runLambda(handler, input, event, logs);
    } catch (err) {
      return {
        ok: false,
        output: composeOutput(undefined, logs),
        timedOut: false,
        error: errorText(err),
      };
    }
  }

  private async runLambda(
    handler: Extract<ExecutionInput['handler'], { kind: 'lambda-module' }>,
    input: ExecutionInput,
    event: HandlerEvent,
    logs: LogCollector,
  ): Promise<ExecutionOutcome> {
    const job = {
      kind: 'lambda' as const,
      modulePath: resolveInside(this.options.catalogRoot, handler.module),
      moduleLabel: handler.module,
      exportName: handler.export,
      event,
      context: {
        awsRequestId: input.requestId,
        functionName: input.command.id,
        invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${input.command.id}`,
        memoryLimitInMB: String(this.heapMb),
      },
    };
    const outcome = await this.pool.run(job, {
      timeoutMs: input.timeoutMs,
      maxLogBytes: this.keepBytes,
      maxResultBytes: this.keepBytes,
      onLog: logs.add,
      ahead: input.approved === true,
    });
    return lambdaOutcome(outcome, input.timeoutMs, logs);
  }
}

function handlerEvent(input: ExecutionInput): HandlerEvent {
  return {
    requestId: input.requestId,
    command: input.command.id,
    service: input.service,
    environment: input.environment,
    params: { ...input.params },
    requester: input.requester,
  };
}

function lambdaOutcome(
  outcome: JobOutcome,
  timeoutMs: number,
  logs: LogCollector,
): ExecutionOutcome {
  if (outcome.status === 'done') logs.addDropped(outcome.result.droppedLogBytes);
  const failedOutput = () => composeOutput(undefined, logs);
  switch (outcome.status) {
    case 'done': {
      const { ok, json, error } = outcome.result;
      if (ok) return { ok: true, output: composeOutput(json ?? 'null', logs), timedOut: false };
      const text = `${error?.name ?? 'Error'}: ${error?.message ?? 'failed'}`;
      return { ok: false, output: failedOutput(), timedOut: false, error: text };
    }
    case 'timeout':
      return {
        ok: false,
        output: failedOutput(),
        timedOut: true,
        error: `timed out after ${timeoutMs} ms`,
      };
    case 'aborted':
      return {
        ok: false,
        output: failedOutput(),
        timedOut: false,
        error: 'the executor was closed',
      };
    case 'crashed':
      return {
        ok: false,
        output: failedOutput(),
        timedOut: false,
        error: `${outcome.error.name}: ${outcome.error.message}`,
      };
  }
}
