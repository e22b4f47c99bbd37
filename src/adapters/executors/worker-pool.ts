/**
 * A pool of handler worker threads. Starting a worker costs about half a second (most of
 * it registering the TypeScript loader and compiling the first handler) and a live worker
 * about 30 MB of memory, so `size` workers are kept warm; under load the pool grows to
 * `maxWorkers`, and a worker beyond `size` is retired after `idleMs` without work. A worker
 * runs one job at a time. A job that overruns its time, or is aborted once started, has its
 * worker terminated (runaway code really stops) and a fresh worker takes its place.
 *
 * Approved executions come first. Jobs marked `ahead` take the next free worker before any
 * other waiting job (previews, read-only commands); other jobs never hold more than
 * `maxWorkers − reserved` workers at once; and when no worker is free, an `ahead` job is
 * handed to the least busy worker at once, to wait there behind at most `queueDepth − 1`
 * jobs and start the moment they end. That start does not wait for this thread: under load
 * the parent's event loop is the busiest part of the server, and a worker that had to
 * report back before getting its next job waited for it. Under load the wait belongs
 * before approval, where the requester sees it, not between approval and the run.
 *
 * A job handed over but not started is not lost when its worker goes (a neighbour's
 * timeout, a crash): it is handed to another worker; and when a worker frees up while a job
 * still waits behind another's, it moves there. Taking a job back uses the job's claim
 * cell (`JobMessage.claim`), so a job is never both started by one worker and given to
 * another: exactly once holds for executions.
 */
import { Worker } from 'node:worker_threads';
import {
  type JobMessage,
  newClaim,
  QUEUED,
  REVOKED,
  type ResultMessage,
  type WorkerJob,
  type WorkerMessage,
} from './worker-protocol.ts';

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
  /**
   * Workers kept for `ahead` jobs: other jobs hold at most `maxWorkers − reserved` (and
   * at least one). Default 0.
   */
  reserved?: number;
  /** Most jobs handed to one worker at once (the running one included). Default 2. */
  queueDepth?: number;
}

export interface JobOptions {
  /** Milliseconds from the start of the job (not from the wait for a worker) to its stop. */
  timeoutMs?: number;
  /** Stops the job (or its wait for a worker); a started job's worker is terminated. */
  signal?: AbortSignal;
  /** Goes ahead of jobs without it (in order among themselves); see the module comment. */
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

/** A job handed to a worker. */
interface Handed {
  id: number;
  ahead: boolean;
  /** Shared with the worker; see `JobMessage.claim`. */
  claim: Int32Array;
  timeoutMs?: number;
  timer?: NodeJS.Timeout;
  onLog: (text: string) => void;
  /** `again`: its worker went before it started; it goes to another. */
  finish: (outcome: JobOutcome | 'again') => void;
}

interface Waiter {
  wake: (slot: Slot | undefined) => void;
  ahead: boolean;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Jobs handed over, in order; the first has started when `started` says so. */
  jobs: Handed[];
  /** Taken for a job not marked `ahead`, which has not ended yet. */
  other: boolean;
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
    const ahead = options.ahead === true;
    for (;;) {
      if (signal?.aborted) return { status: 'aborted' };
      const slot = await this.acquire(signal, ahead);
      if (!slot) return { status: 'aborted' };
      // A worker that died between being handed over and now is skipped.
      if (!this.slots.has(slot)) continue;
      if (signal?.aborted) {
        if (slot.jobs.length === 0) this.release(slot);
        return { status: 'aborted' };
      }
      const outcome = await this.dispatch(slot, job, options);
      if (outcome !== 'again') return outcome;
    }
  }

  /** Terminates every worker; waiting and running jobs end as `aborted`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.wake(undefined);
    const stopping = [...this.slots].map((slot) => this.retire(slot, { status: 'aborted' }));
    await Promise.all(stopping);
  }

  /** Approved jobs it can hold at once without one waiting for another: running or next. */
  get capacity(): number {
    return this.options.maxWorkers * this.queueDepth;
  }

  private get queueDepth(): number {
    return this.options.queueDepth ?? 2;
  }

  /** Live workers, for tests and metrics. */
  get workerCount(): number {
    return this.slots.size;
  }

  private get othersLimit(): number {
    return Math.max(1, this.options.maxWorkers - (this.options.reserved ?? 0));
  }

  private othersBusy(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.other) n += 1;
    return n;
  }

  private acquire(signal: AbortSignal | undefined, ahead: boolean): Promise<Slot | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    if (this.idle.length > 0 && (ahead || this.othersBusy() < this.othersLimit)) {
      return Promise.resolve(this.take(this.idle.pop() as Slot, ahead));
    }
    const busy = ahead ? this.leastBusy() : undefined;
    if (busy) {
      // It waits behind that worker's job, and moves to a new worker if one is ready first.
      if (this.slots.size < this.options.maxWorkers && this.starting() === 0) this.spawn();
      return Promise.resolve(busy);
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

  /** A ready, busy worker with room in its queue, the one with the fewest jobs. */
  private leastBusy(): Slot | undefined {
    const depth = this.queueDepth;
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (!slot.ready || slot.jobs.length === 0 || slot.jobs.length >= depth) continue;
      if (!best || slot.jobs.length < best.jobs.length) best = slot;
    }
    return best;
  }

  /** Takes an idle worker for a job. */
  private take(slot: Slot, ahead: boolean): Slot {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    if (!ahead) slot.other = true;
    return slot;
  }

  private starting(): number {
    return [...this.slots].filter((s) => !s.ready).length;
  }

  private dispatch(slot: Slot, job: WorkerJob, options: JobOptions): Promise<JobOutcome | 'again'> {
    const id = this.nextJobId++;
    const { timeoutMs, signal } = options;
    return new Promise((resolve) => {
      const claim = newClaim();
      const handed: Handed = {
        id,
        ahead: options.ahead === true,
        claim,
        onLog: options.onLog,
        finish: (outcome) => {
          clearTimeout(handed.timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      };
      const onAbort = () => {
        if (!revoke(handed)) {
          void this.retire(slot, { status: 'aborted' }); // Started: stop it for real.
          return;
        }
        handed.finish({ status: 'aborted' });
        this.drop(slot, handed);
      };
      slot.jobs.push(handed);
      slot.worker.ref();
      signal?.addEventListener('abort', onAbort, { once: true });
      const message: JobMessage = {
        type: 'job',
        id,
        job,
        maxLogBytes: options.maxLogBytes,
        maxResultBytes: options.maxResultBytes,
        timeoutMs: timeoutMs ?? null,
        claim,
      };
      slot.worker.postMessage(message);
      // An `ahead` job that found no worker with room (this one was taken, not yet handed
      // its job) may wait behind this job now.
      this.pump();
    });
  }

  /** Takes a job off its worker's list; frees the worker when it was the last. */
  private drop(slot: Slot, handed: Handed): void {
    const i = slot.jobs.indexOf(handed);
    if (i >= 0) slot.jobs.splice(i, 1);
    slot.other = slot.jobs.some((j) => !j.ahead);
    if (slot.jobs.length === 0) this.release(slot);
    else this.pump();
  }

  private spawn(): void {
    const worker = new Worker(WORKER_ENTRY, {
      env: this.options.env,
      execArgv: [],
      // A small young generation keeps an idle worker near 20 MB instead of 35.
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb, maxYoungGenerationSizeMb: 4 },
    });
    const slot: Slot = { worker, ready: false, jobs: [], other: false };
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
    if (msg.type === 'ready') {
      slot.ready = true;
      this.release(slot);
      return;
    }
    const handed = slot.jobs.find((j) => j.id === msg.id);
    if (msg.type === 'started') {
      if (handed?.timeoutMs !== undefined) {
        handed.timer = setTimeout(
          () => void this.retire(slot, { status: 'timeout' }),
          handed.timeoutMs,
        );
      }
    } else if (msg.type === 'log') {
      handed?.onLog(msg.text);
    } else if (handed) {
      handed.finish({ status: 'done', result: msg });
      this.drop(slot, handed);
    }
  }

  /** A worker with no job: hands it on, or keeps it (unreferenced) until needed. */
  private release(slot: Slot): void {
    slot.other = false;
    if (!this.slots.has(slot) || slot.jobs.length > 0) return;
    if (this.slots.size > this.options.size) {
      slot.idleTimer = setTimeout(() => this.retireIfSurplus(slot), this.options.idleMs);
      slot.idleTimer.unref();
    }
    slot.worker.unref();
    this.idle.push(slot);
    this.pump();
    if (this.idle.length > 0) this.steal();
  }

  /** Moves jobs waiting behind another worker's job to idle workers. */
  private steal(): void {
    for (const busy of this.slots) {
      for (const handed of busy.jobs.slice(1)) {
        if (this.idle.length === 0) return;
        if (!revoke(handed)) continue;
        handed.finish('again'); // `run` takes the idle worker for it.
        this.drop(busy, handed);
      }
    }
  }

  /**
   * Hands idle workers to waiters: one marked `ahead` first, else the longest waiting if
   * other jobs may take another worker; waiting `ahead` jobs also join busy workers' queues.
   */
  private pump(): void {
    while (this.waiters.length > 0) {
      let next = this.waiters.findIndex((w) => w.ahead);
      let slot: Slot | undefined;
      if (next >= 0) {
        slot = this.idle.length > 0 ? this.take(this.idle.pop() as Slot, true) : this.leastBusy();
      } else if (this.idle.length > 0 && this.othersBusy() < this.othersLimit) {
        next = 0;
        slot = this.take(this.idle.pop() as Slot, false);
      }
      if (!slot) return;
      const [waiter] = this.waiters.splice(next, 1);
      waiter?.wake(slot);
    }
  }

  private retireIfSurplus(slot: Slot): void {
    if (this.slots.size > this.options.size && slot.jobs.length === 0) {
      void this.retire(slot, { status: 'aborted' });
    }
  }

  /**
   * Stops a worker: its started job ends with `outcome`, jobs waiting behind it go to
   * another worker; restores the warm count.
   */
  private async retire(slot: Slot, outcome: JobOutcome): Promise<void> {
    if (!this.slots.delete(slot)) return;
    clearTimeout(slot.idleTimer);
    slot.other = false;
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    const jobs = slot.jobs.splice(0);
    for (const handed of jobs) handed.finish(revoke(handed) ? 'again' : outcome);
    if (!this.closed && (this.slots.size < this.options.size || this.waiters.length > 0)) {
      this.spawn();
    }
    await slot.worker.terminate();
  }
}

/** Takes a job back from its worker: true when it had not started (and now never will). */
function revoke(handed: Handed): boolean {
  return Atomics.compareExchange(handed.claim, 0, QUEUED, REVOKED) === QUEUED;
}
