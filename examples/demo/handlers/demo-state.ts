/**
 * The demo's simulated services, shared by its handlers. State lives in one JSON file,
 * `process.env.COUNTERSIGN_DEMO_STATE` (default `./data/demo-state.json`), shaped
 * `{ [service]: { [environment]: ServiceState } }`. A missing file means the initial state.
 *
 * These handlers are examples of user code, so they show the habits real ones need:
 * validate the event even though Countersign already did, fail with a named error, take
 * a lock around read-modify-write (several executions may run at once), and replace the
 * file atomically (write a temporary file, then rename) so a crash never leaves half a file.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What Countersign passes to every handler. */
export interface DemoEvent {
  requestId: string;
  command: string;
  service: string;
  environment: string;
  params: Record<string, string | number | boolean>;
  requester: string;
}

export interface HistoryEntry {
  /** ISO 8601, UTC. */
  at: string;
  action: string;
  detail: string;
  requestId: string;
  by: string;
}

export interface ServiceState {
  /** Semantic version running now. */
  version: string;
  /** The version before the last deploy or rollback; null before the first one. */
  previousVersion: string | null;
  replicas: number;
  healthy: boolean;
  /** Entries in the (simulated) cache. */
  cacheEntries: number;
  /** ISO 8601, UTC; null when never restarted. */
  lastRestartAt: string | null;
  /** Oldest first, at most `HISTORY_LIMIT` entries. */
  history: HistoryEntry[];
}

export type DemoState = Record<string, Record<string, ServiceState>>;

export const HISTORY_LIMIT = 50;

/** A handler's refusal of its input, named so people can tell it from a crash. */
export class InvalidInput extends Error {
  override name = 'InvalidInput';
}

/** A service or environment the demo does not simulate. */
export class UnknownTarget extends Error {
  override name = 'UnknownTarget';
}

export function statePath(): string {
  return process.env.COUNTERSIGN_DEMO_STATE || './data/demo-state.json';
}

function service(version: string, replicas: number, cacheEntries: number): ServiceState {
  return {
    version,
    previousVersion: null,
    replicas,
    healthy: true,
    cacheEntries,
    lastRestartAt: null,
    history: [],
  };
}

export function initialState(): DemoState {
  return {
    'checkout-api': {
      staging: service('1.4.1', 2, 320),
      prod: service('1.4.1', 4, 1280),
    },
  };
}

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Checks the event's shape; throws `InvalidInput` naming the first bad field. */
export function parseEvent(event: unknown): DemoEvent {
  if (typeof event !== 'object' || event === null)
    throw new InvalidInput('event must be an object');
  const e = event as Record<string, unknown>;
  for (const field of ['requestId', 'command', 'requester'] as const) {
    if (typeof e[field] !== 'string' || e[field] === '')
      throw new InvalidInput(`${field} is missing`);
  }
  for (const field of ['service', 'environment'] as const) {
    const value = e[field];
    if (typeof value !== 'string' || !SLUG.test(value)) {
      throw new InvalidInput(`${field} must be a lower-case slug`);
    }
  }
  const params = e.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new InvalidInput('params must be an object');
  }
  return { ...(e as unknown as DemoEvent), params: params as DemoEvent['params'] };
}

const SEMVER = /^\d{1,6}\.\d{1,6}\.\d{1,6}(?:-[0-9A-Za-z.-]{1,40})?(?:\+[0-9A-Za-z.-]{1,40})?$/;

/** The named parameter as a semantic version such as `1.4.2`. */
export function semverParam(event: DemoEvent, name: string): string {
  const value = event.params[name];
  if (typeof value !== 'string' || !SEMVER.test(value)) {
    throw new InvalidInput(`${name} must be a version such as 1.4.2`);
  }
  return value;
}

/** The named parameter as a whole number in [min, max]; a decimal string is accepted. */
export function integerParam(event: DemoEvent, name: string, min: number, max: number): number {
  const raw = event.params[name];
  const value = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInput(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** The whole state, or the initial state when the file does not exist yet. */
export async function readState(): Promise<DemoState> {
  let text: string;
  try {
    text = await readFile(statePath(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return initialState();
    throw err;
  }
  const state = JSON.parse(text) as unknown;
  if (typeof state !== 'object' || state === null) throw new Error('demo state file is corrupt');
  return state as DemoState;
}

/** The state of the event's target. Read-only. */
export async function readService(event: DemoEvent): Promise<ServiceState> {
  return targetOf(await readState(), event);
}

function targetOf(state: DemoState, event: DemoEvent): ServiceState {
  const target = state[event.service]?.[event.environment];
  if (!target || typeof target.version !== 'string' || typeof target.replicas !== 'number') {
    throw new UnknownTarget(`${event.service} ${event.environment} is not simulated by the demo`);
  }
  return target;
}

/**
 * Changes the event's target under the state lock and records it in the history.
 * `change` mutates the target and returns what to record as `detail`, and what to return.
 */
export async function updateService<T>(
  event: DemoEvent,
  action: string,
  change: (target: ServiceState) => { detail: string; result: T },
): Promise<T> {
  return await withLock(async () => {
    const state = await readState();
    const target = targetOf(state, event);
    const { detail, result } = change(target);
    target.history.push({
      at: new Date().toISOString(),
      action,
      detail,
      requestId: event.requestId,
      by: event.requester,
    });
    target.history.splice(0, Math.max(0, target.history.length - HISTORY_LIMIT));
    await writeAtomically(statePath(), `${JSON.stringify(state, null, 2)}\n`);
    return result;
  });
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, text, { flush: true });
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

/** A lock older than this many milliseconds was left by a crash and is broken. */
const STALE_LOCK_MS = 30_000;
/** Give up waiting for the lock after this many milliseconds. */
const LOCK_WAIT_MS = 10_000;

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = `${statePath()}.lock`;
  await mkdir(dirname(lock), { recursive: true });
  const giveUpAt = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx')).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > STALE_LOCK_MS) await rm(lock, { force: true });
      else if (Date.now() > giveUpAt) throw new Error('demo state is locked by another execution');
      else await sleep(2);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
