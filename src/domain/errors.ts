/**
 * The error-code catalog. Codes are stable and never reused; each maps to one HTTP status
 * and one public sentence at the edge. `docs/errors.md` lists them, and a test keeps the
 * two in step.
 */
export const ERRORS = {
  PARSE_ERROR: { status: 400, title: 'The command could not be parsed' },
  INVALID_INPUT: { status: 400, title: 'The input is not valid' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The input is too large' },
  UNKNOWN_COMMAND: { status: 404, title: 'No such command in the catalog' },
  UNKNOWN_SERVICE: { status: 404, title: 'No such service in the catalog' },
  UNKNOWN_ENVIRONMENT: { status: 404, title: 'The service has no such environment' },
  INVALID_PARAMETER: { status: 400, title: 'A parameter is missing or not valid' },
  LINK_REQUIRED: { status: 422, title: 'A mutating request needs a ticket, incident or pr link' },
  REASON_REQUIRED: { status: 422, title: 'A reason is required' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication is required' },
  FORBIDDEN: { status: 403, title: 'You do not have a grant for this' },
  UNKNOWN_PERSON: { status: 403, title: 'You are not in the catalog' },
  CHANNEL_NOT_ALLOWED: { status: 403, title: 'This command may not be requested from here' },
  NOT_FOUND: { status: 404, title: 'No such record' },
  SELF_APPROVAL: { status: 403, title: 'A requester cannot approve their own request' },
  NOT_AN_APPROVER: { status: 403, title: 'You may not give this sign-off' },
  ALREADY_APPROVED: { status: 409, title: 'You have already signed this off' },
  NOT_PENDING: { status: 409, title: 'The request has already been decided' },
  EXPIRED: { status: 410, title: 'The request expired before it was approved' },
  DIGEST_MISMATCH: {
    status: 409,
    title: 'The request changed since you saw it; review it again',
  },
  CONFIRMATION_REQUIRED: {
    status: 422,
    title: 'A destructive command needs the target typed to confirm',
  },
  NOT_NEEDED: { status: 409, title: 'The request does not need that sign-off' },
  BREAK_GLASS_NOT_ALLOWED: { status: 403, title: 'You may not break glass' },
  NOT_REQUESTER: { status: 403, title: 'Only the requester may do this' },
  NOT_SETTLEABLE: { status: 409, title: 'Only an unknown outcome can be settled' },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    title: 'A request with this Idempotency-Key is still in progress',
  },
  IDEMPOTENCY_MISMATCH: {
    status: 422,
    title: 'This Idempotency-Key was used with a different body',
  },
  CONFLICT: { status: 409, title: 'The record changed at the same time; try again' },
  STORE_UNAVAILABLE: { status: 503, title: 'The store is unavailable; nothing was changed' },
  EXECUTION_FAILED: { status: 502, title: 'The command failed' },
  INTERNAL: { status: 500, title: 'Internal error' },
  EVENT_PATTERN_INVALID: { status: 400, title: 'The event pattern is not valid' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The content type is not accepted' },
  SIGNATURE_INVALID: { status: 403, title: 'The message signature could not be verified' },
  TOPIC_NOT_ALLOWED: { status: 403, title: 'The SNS topic is not allowed by the catalog' },
  STALE_MESSAGE: { status: 400, title: 'The message is too old or from the future' },
  UPSTREAM_UNAVAILABLE: { status: 503, title: 'A service we depend on did not answer; retry' },
  UNKNOWN_INCIDENT: { status: 404, title: 'No such incident' },
  UNKNOWN_RUNBOOK: { status: 404, title: 'No such runbook in the catalog' },
  INCIDENT_CLOSED: { status: 409, title: 'The incident is already resolved' },
  RUN_FINISHED: { status: 409, title: 'The runbook run has already finished' },
  STEP_OUT_OF_ORDER: { status: 409, title: "That is not the runbook run's current step" },
  SEVERITY_NOT_PENDING: { status: 409, title: 'There is no severity waiting for confirmation' },
  CSRF_INVALID: {
    status: 403,
    title: 'A console call that changes something needs its X-CSRF-Token',
  },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An expected refusal, carrying a stable code and a sentence safe to show the person. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? ERRORS[code].title);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}

/** A result type for pure functions that refuse without throwing. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: DomainError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(
  code: ErrorCode,
  message?: string,
  details?: Record<string, unknown>,
): Result<T> => ({ ok: false, error: new DomainError(code, message, details) });
