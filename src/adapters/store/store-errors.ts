/**
 * Tells a store that cannot be reached or used (PostgreSQL down, SQLite file unreadable
 * or not a database) apart from a query that failed, so callers can answer 503 with
 * "nothing was changed" instead of a 500.
 */
import { DomainError, isDomainError } from '../../domain/errors.ts';

/** Node socket errors seen when the server is not there or goes away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * SQLSTATE classes: 08 connection exception, 28 invalid authorisation, 3D no such
 * database, 53 insufficient resources, 57P operator intervention (shutdown, crash).
 */
const PG_UNAVAILABLE = /^(08|28|3D|53|57P)/;

/** better-sqlite3 result codes for a file that cannot be opened, read or written. */
const SQLITE_UNAVAILABLE = /^SQLITE_(CANTOPEN|IOERR|NOTADB|CORRUPT|FULL|READONLY|BUSY|LOCKED|PERM)/;

/** pg's own messages for a connection that ended or never opened. */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end|database connection is not open/i;

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True when `err` means the store as a whole is unavailable, not that one query was wrong. */
export function isStoreUnavailable(err: unknown): boolean {
  if (isDomainError(err)) return err.code === 'STORE_UNAVAILABLE';
  const code = codeOf(err);
  if (code && (NETWORK_CODES.has(code) || PG_UNAVAILABLE.test(code))) return true;
  if (code && SQLITE_UNAVAILABLE.test(code)) return true;
  if (err instanceof AggregateError) return err.errors.some(isStoreUnavailable);
  return err instanceof Error && PG_CONNECTION_MESSAGES.test(err.message);
}

/** A `DomainError('STORE_UNAVAILABLE')` whose `cause` is the driver's error. */
export function storeUnavailable(cause: unknown): DomainError {
  const e = new DomainError(
    'STORE_UNAVAILABLE',
    'The store is unavailable; nothing was changed. Try again in a moment.',
  );
  e.cause = cause;
  return e;
}

/** Rethrows `err`, as `STORE_UNAVAILABLE` when it is a connection-level failure. */
export function rethrowStoreError(err: unknown): never {
  if (isDomainError(err)) throw err;
  throw isStoreUnavailable(err) ? storeUnavailable(err) : err;
}

/** Runs `fn`, mapping connection-level failures to `STORE_UNAVAILABLE`. */
export async function guardStore<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    rethrowStoreError(err);
  }
}
