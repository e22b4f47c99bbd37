/**
 * A pool of handler worker threads. Starting a worker costs about half a second (most of
 * it registering the TypeScript loader and compiling the first handler) and a live worker
 * about 30 MB of memory, so `size` workers are kept warm; under load the pool grows to
 * `maxWorkers`, and a worker beyond `size` is retired after `idleMs` without work. Each
 * worker runs one job at a time. A job that overruns its time, or is aborted, has its worker
 * terminated (runaway code really stops) and a fresh worker takes its place.
 *
 * Jobs marked `ahead` (an approved request's execution) take the next free worker before
 * any other waiting job (previews, read-only commands): under load the wait belongs before
 * approval, where the requester sees it, not between approval and the run.
 */
import { Worker } from 'node:worker_threads';
import type { JobMessage, ResultMessage, WorkerJob, WorkerMessage } from './worker-protocol.ts';

export interface WorkerPoolOptions {
  /** Warm workers kept ready. */
  size: number;
  /** Most workers at once; jobs beyond that wait in order. */
  maxWorkers: number;
  /** The environment handlers see as `process.env`. */
  env: Record<string, string | undefined>;
  /** Old-generation heap limit of each worker, in megabytes. */
  heapMb: number;
  /** Milliseconds a worker beyond `size` may stay idle before it is retired. */
  idleMs: number;
}

export interface JobOptions {
  /** Milliseconds from the start of the job (not from the wait for a worker) to its stop. */
  timeoutMs?: number;
  /** Stops the job (or its wait for a worker) and terminates its worker. */
  signal?: AbortSignal;
  /** Waits for a worker ahead of jobs without it (in order among themselves). */
  ahead?: boolean;
  maxLogBytes: number;
  maxResultBytes: number;
  /** Receives console output of the job as it is written. */
  onLog: (text: string) => void;
}

export type JobOutcome =
  | { status: 'done'; result: ResultMessage }
  | { status: 'timeout' }
  | { status: 'aborted' }
  | { status: 'crashed'; error: { name: string; message: string } };

interface Running {
  id: number;
  onLog: (text: string) => void;
  finish: (outcome: JobOutcome) => void;
}

interface Waiter {
  wake: (slot: Slot | undefined) => void;
  ahead: boolean;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  running?: Running;
  /** Retires a surplus idle worker; cleared when the worker is handed a job. */
  idleTimer?: NodeJS.Timeout;
}

const WORKER_ENTRY = new URL('./handler-worker.mjs', import.meta.url);

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly waiters: Waiter[] = [];
  private nextJobId = 1;
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions) {}

  /** Starts the warm workers now rather than on the first job. */
  warm(): void {
    while (!this.closed && this.slots.size < this.options.size) this.spawn();
  }

  /** Runs one job on a worker; never rejects. */
  async run(job: WorkerJob, options: JobOptions): Promise<JobOutcome> {
    const { signal } = options;
    for (;;) {
      if (signal?.aborted) return { status: 'aborted' };
      const slot = await this.acquire(signal, options.ahead === true);
      if (!slot) return { status: 'aborted' };
      if (signal?.aborted) {
        this.release(slot);
        return { status: 'aborted' };
      }
      // A worker that died between being handed over and now is skipped.
      if (this.slots.has(slot)) return await this.dispatch(slot, job, options);
    }
  }

  /** Terminates every worker; waiting and running jobs end as `aborted`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.wake(undefined);
    const stopping = [...this.slots].map((slot) => this.retire(slot, { status: 'aborted' }));
    await Promise.all(stopping);
  }

  /** Live workers, for tests and metrics. */
  get workerCount(): number {
    return this.slots.size;
  }

  private acquire(signal: AbortSignal | undefined, ahead: boolean): Promise<Slot | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const slot = this.idle.pop();
    if (slot) {
      clearTimeout(slot.idleTimer);
      return Promise.resolve(slot);
    }
    this.warm();
    if (this.slots.size < this.options.maxWorkers && this.waiters.length >= this.starting()) {
      this.spawn();
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        ahead,
        wake: (s) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(s);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private starting(): number {
    return [...this.slots].filter((s) => !s.ready).length;
  }

  private dispatch(slot: Slot, job: WorkerJob, options: JobOptions): Promise<JobOutcome> {
    const id = this.nextJobId++;
    const { timeoutMs, signal } = options;
    const deadline = timeoutMs === undefined ? null : Date.now() + timeoutMs;
    return new Promise<JobOutcome>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => void this.retire(slot, { status: 'aborted' });
      const finish = (outcome: JobOutcome) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      slot.running = { id, onLog: options.onLog, finish };
      slot.worker.ref();
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => void this.retire(slot, { status: 'timeout' }), timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const message: JobMessage = {
        type: 'job',
        id,
        job,
        maxLogBytes: options.maxLogBytes,
        maxResultBytes: options.maxResultBytes,
        deadline,
      };
      slot.worker.postMessage(message);
    });
  }

  private spawn(): void {
    const worker = new Worker(WORKER_ENTRY, {
      env: this.options.env,
      execArgv: [],
      // A small young generation keeps an idle worker near 20 MB instead of 35.
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb, maxYoungGenerationSizeMb: 4 },
    });
    const slot: Slot = { worker, ready: false };
    this.slots.add(slot);
    worker.on('message', (msg: WorkerMessage) => this.onMessage(slot, msg));
    worker.on('error', (err) => {
      const error = { name: 'WorkerCrashed', message: `${err.name}: ${err.message}` };
      void this.retire(slot, { status: 'crashed', error });
    });
    worker.on('exit', (code) => {
      const error = {
        name: 'WorkerCrashed',
        message: `the handler ended its thread (code ${code})`,
      };
      void this.retire(slot, { status: 'crashed', error });
    });
  }

  private onMessage(slot: Slot, msg: WorkerMessage): void {
    const running = slot.running;
    if (msg.type === 'ready') {
      slot.ready = true;
      this.release(slot);
    } else if (msg.type === 'log') {
      if (running?.id === msg.id) running.onLog(msg.text);
    } else if (running?.id === msg.id) {
      slot.running = undefined;
      running.finish({ status: 'done', result: msg });
      this.release(slot);
    }
  }

  /** Hands a free worker to the first waiter, or keeps it (unreferenced) if it is needed. */
  private release(slot: Slot): void {
    if (!this.slots.has(slot)) return;
    // The first waiter marked ahead, else the longest waiting.
    const ahead = this.waiters.findIndex((w) => w.ahead);
    const [waiter] = this.waiters.splice(ahead === -1 ? 0 : ahead, 1);
    if (waiter) {
      waiter.wake(slot);
      return;
    }
    if (this.slots.size > this.options.size) {
      slot.idleTimer = setTimeout(() => this.retireIfSurplus(slot), this.options.idleMs);
      slot.idleTimer.unref();
    }
    slot.worker.unref();
    this.idle.push(slot);
  }

  private retireIfSurplus(slot: Slot): void {
    if (this.slots.size > this.options.size) void this.retire(slot, { status: 'aborted' });
  }

  /** Stops a worker, ends its job with `outcome`, and restores the warm count. */
  private async retire(slot: Slot, outcome: JobOutcome): Promise<void> {
    if (!this.slots.delete(slot)) return;
    clearTimeout(slot.idleTimer);
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    const running = slot.running;
    slot.running = undefined;
    running?.finish(outcome);
    if (!this.closed && (this.slots.size < this.options.size || this.waiters.length > 0)) {
      this.spawn();
    }
    await slot.worker.terminate();
  }
}
