/**
 * The messages between the local executor and its handler workers (`handler-worker.ts`).
 * Everything here crosses a `postMessage`, so it is structured-clone data only.
 */

/** What a Lambda-style handler sees as `context`, minus the functions the worker adds. */
export interface LambdaContextInit {
  awsRequestId: string;
  functionName: string;
  invokedFunctionArn: string;
  /** The worker's heap limit, as Lambda reports it: a decimal string, in megabytes. */
  memoryLimitInMB: string;
}

/** Call `handler(event, context[, callback])` exported as `exportName` by the module. */
export interface LambdaJob {
  kind: 'lambda';
  /** Absolute path of the handler module. */
  modulePath: string;
  /** How the module is named to users (relative to the catalog folder). */
  moduleLabel: string;
  exportName: string;
  event: unknown;
  context: LambdaContextInit;
}

/** Call the function for Task state `stateName` from a state machine's handlers module. */
export interface TaskJob {
  kind: 'task';
  modulePath: string;
  moduleLabel: string;
  stateName: string;
  input: unknown;
}

export type WorkerJob = LambdaJob | TaskJob;

/** Parent → worker. */
export interface JobMessage {
  type: 'job';
  id: number;
  job: WorkerJob;
  /** Most bytes of console output the worker passes on for this job. */
  maxLogBytes: number;
  /**
   * Most bytes of JSON result the worker sends back. A longer Lambda result is cut (it is
   * only shown); a longer Task result fails with `States.DataLimitExceeded` (it is state).
   */
  maxResultBytes: number;
  /** Milliseconds since epoch at which the executor stops the job; null when unbounded. */
  /**
   * Milliseconds from the job's start (not from when it was handed over: a job may wait in
   * the worker behind the one running) to its stop; null when unbounded.
   */
  timeoutMs: number | null;
  /**
   * One cell over shared memory, `QUEUED` when sent. The worker starts the job only if it
   * turns it `QUEUED` → `STARTED`; the parent takes a job back (to cancel it, or to run it
   * elsewhere) only if it turns it `QUEUED` → `REVOKED`. Exactly one of them wins, so a job
   * taken back never ran, and a job that ran is never handed out again.
   */
  claim: Int32Array;
}

/** Worker → parent: the worker has loaded and waits for jobs. */
export interface ReadyMessage {
  type: 'ready';
}

/** Worker → parent: job `id` starts now (jobs run one at a time, in the order handed over). */
export interface StartedMessage {
  type: 'started';
  id: number;
}

/** Worker → parent: console output written while job `id` was current. */
export interface LogMessage {
  type: 'log';
  id: number;
  text: string;
}

/** Worker → parent: how job `id` ended. */
export interface ResultMessage {
  type: 'result';
  id: number;
  ok: boolean;
  /** The handler's return value, JSON-serialised (`null` for undefined). When ok. */
  json?: string;
  /** Name and message of what was thrown (no stack). When not ok. */
  error?: { name: string; message: string };
  /** Console output bytes the worker dropped because of `maxLogBytes`. */
  droppedLogBytes: number;
}

export type WorkerMessage = ReadyMessage | StartedMessage | LogMessage | ResultMessage;

/** States of `JobMessage.claim[0]`. */
export const QUEUED = 0;
export const STARTED = 1;
export const REVOKED = 2;

/** A fresh claim cell for a job. */
export function newClaim(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}
