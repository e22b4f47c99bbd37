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
  deadline: number | null;
}

/** Worker → parent: the worker has loaded and waits for jobs. */
export interface ReadyMessage {
  type: 'ready';
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

export type WorkerMessage = ReadyMessage | LogMessage | ResultMessage;
