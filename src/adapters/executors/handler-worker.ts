/**
 * The job loop of a handler worker thread. It runs one job at a time: imports the
 * handler module (cached for the life of the worker, like a warm Lambda container),
 * calls it, and reports the result. Console output written while a job is current is
 * forwarded to the parent as it happens, so a job stopped for running too long still
 * shows its logs. Started by `handler-worker.mjs`; never imported by the main thread.
 */
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { parentPort } from 'node:worker_threads';
import { boundOutput, utf8Length } from '../../domain/redact.ts';
import { NamedError } from './execution-output.ts';
import {
  type JobMessage,
  type LambdaContextInit,
  type LambdaJob,
  QUEUED,
  type ResultMessage,
  STARTED,
  type TaskJob,
  type WorkerMessage,
} from './worker-protocol.ts';

/** A function as user code exports it; its arity decides the calling convention. */
type AnyFunction = (...args: unknown[]) => unknown;

const port = parentPort;
if (!port) throw new Error('handler-worker.ts must run in a worker thread');

/** The job whose console output is being forwarded, and its log budget in bytes. */
let current: { id: number; budget: number; dropped: number } | undefined;

function post(message: WorkerMessage): void {
  port?.postMessage(message);
}

/** Forwards text written to stdout or stderr for the current job, within its byte budget. */
function captureLog(line: string): void {
  const job = current;
  if (!job) return; // Written between jobs (a stray timer): nobody to attribute it to.
  const bytes = utf8Length(line);
  if (bytes <= job.budget) {
    job.budget -= bytes;
    post({ type: 'log', id: job.id, text: line });
    return;
  }
  if (job.budget > 0) {
    const cut = boundOutput(line, job.budget, { tokenSafe: true });
    post({ type: 'log', id: job.id, text: cut.text });
    job.dropped += cut.originalBytes - job.budget;
    job.budget = 0;
    return;
  }
  job.dropped += bytes;
}

/**
 * Everything written to stdout and stderr (so `console.*` too) is captured, in the order
 * written, instead of reaching the server's own log stream.
 */
for (const stream of [process.stdout, process.stderr]) {
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    captureLog(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    if (done) queueMicrotask(done);
    return true;
  }) as typeof stream.write;
}

/** Imports a module, describing a failure by the module's catalog-relative name only. */
async function loadModule(path: string, label: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    const { message } = describeError(err);
    const firstLine = message.split('\n', 1)[0] ?? '';
    throw new NamedError(
      'HandlerLoadError',
      `cannot load ${label}: ${firstLine.replaceAll(path, label)}`,
    );
  }
}

/** The Lambda context object for one invocation. */
function lambdaContext(init: LambdaContextInit, deadline: number | null) {
  return {
    ...init,
    functionVersion: '$LATEST',
    logGroupName: `/aws/lambda/${init.functionName}`,
    logStreamName: 'countersign-local',
    callbackWaitsForEmptyEventLoop: true,
    /** Milliseconds left before the executor stops this invocation. */
    getRemainingTimeInMillis: () =>
      deadline === null ? Number.MAX_SAFE_INTEGER : Math.max(0, deadline - Date.now()),
  };
}

/** Calls a Lambda-style handler: async `(event, context)`, or `(event, context, callback)`. */
async function runLambda(job: LambdaJob, deadline: number | null): Promise<unknown> {
  const mod = await loadModule(job.modulePath, job.moduleLabel);
  const fn = mod[job.exportName];
  if (typeof fn !== 'function') {
    throw new NamedError(
      'HandlerNotFound',
      `${job.moduleLabel} exports no function named "${job.exportName}"`,
    );
  }
  const context = lambdaContext(job.context, deadline);
  if (fn.length < 3) return await (fn as AnyFunction)(job.event, context);
  return await new Promise((resolve, reject) => {
    const callback = (err: unknown, result?: unknown) => (err ? reject(err) : resolve(result));
    const returned = (fn as AnyFunction)(job.event, context, callback);
    if (returned instanceof Promise) returned.then(resolve, reject);
  });
}

/**
 * Calls the function for one Task state. The module's `handlers` export, else its default
 * export, else the module itself is the table `{ [stateName]: async (input) => output }`.
 */
async function runTask(job: TaskJob): Promise<unknown> {
  const mod = await loadModule(job.modulePath, job.moduleLabel);
  const table = [mod.handlers, mod.default, mod].find(
    (t): t is Record<string, unknown> => typeof t === 'object' && t !== null && job.stateName in t,
  );
  const fn = table?.[job.stateName];
  if (typeof fn !== 'function') {
    throw new NamedError(
      'HandlerNotFound',
      `${job.moduleLabel} exports no function for Task state "${job.stateName}"`,
    );
  }
  return await (fn as AnyFunction)(job.input);
}

/** Name and message of anything thrown; never a stack. Messages are cut to 4 KB. */
function describeError(err: unknown): { name: string; message: string } {
  const raw =
    err instanceof Error
      ? { name: err.name, message: err.message }
      : typeof err === 'object' && err !== null
        ? { name: String((err as { name?: unknown }).name ?? 'Error'), message: format('%o', err) }
        : { name: 'Error', message: String(err) };
  return { name: raw.name || 'Error', message: boundOutput(raw.message, 4096).text };
}

/** Serialises a result, holding it to `maxBytes` as `JobMessage.maxResultBytes` says. */
function serialise(value: unknown, msg: JobMessage): string {
  const json = JSON.stringify(value) ?? 'null';
  const bound = boundOutput(json, msg.maxResultBytes, { tokenSafe: true });
  if (!bound.truncated) return json;
  if (msg.job.kind === 'lambda') return bound.text;
  throw new NamedError(
    'States.DataLimitExceeded',
    `Task "${msg.job.stateName}" returned ${bound.originalBytes} bytes; the limit is ${msg.maxResultBytes}`,
  );
}

async function runJob(msg: JobMessage): Promise<ResultMessage> {
  current = { id: msg.id, budget: msg.maxLogBytes, dropped: 0 };
  const job = current;
  const deadline = msg.timeoutMs === null ? null : Date.now() + msg.timeoutMs;
  try {
    const value =
      msg.job.kind === 'lambda' ? await runLambda(msg.job, deadline) : await runTask(msg.job);
    const json = serialise(value, msg);
    return { type: 'result', id: msg.id, ok: true, json, droppedLogBytes: job.dropped };
  } catch (err) {
    const error = describeError(err);
    return { type: 'result', id: msg.id, ok: false, error, droppedLogBytes: job.dropped };
  } finally {
    current = undefined;
  }
}

/**
 * Jobs run one at a time, in the order handed over. The pool may hand over an approved
 * execution while another job runs: it waits here and starts the moment that job ends,
 * without a round trip through the parent thread (which may be busy).
 */
const queue: JobMessage[] = [];
let busy = false;

async function drain(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    for (let msg = queue.shift(); msg; msg = queue.shift()) {
      // Taken back by the parent (cancelled, or moved to a free worker): never start it.
      if (Atomics.compareExchange(msg.claim, 0, QUEUED, STARTED) !== QUEUED) continue;
      post({ type: 'started', id: msg.id });
      post(await runJob(msg));
    }
  } finally {
    busy = false;
  }
}

port.on('message', (msg: JobMessage) => {
  if (msg.type !== 'job') return;
  queue.push(msg);
  void drain();
});
post({ type: 'ready' });
