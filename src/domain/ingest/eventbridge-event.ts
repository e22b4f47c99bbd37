/**
 * What an EventBridge API destination POSTs: one event, as JSON, in EventBridge's own
 * envelope (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events.html).
 * Every other source is normalised into the same shape (see `event-envelope.ts`), so this
 * module also holds the small helpers they share: timestamps and AWS identifiers.
 *
 * One event per call. An API destination sends exactly one event per HTTP request, so a
 * JSON array is refused with INVALID_INPUT rather than taken as a batch: a batch would
 * make one bad event refuse (or half-accept) the others, and nothing AWS sends needs it.
 * A sender that batches should make one call per event.
 *
 * Pure: no clock, no I/O.
 */
import * as z from 'zod';
import { DomainError } from '../errors.ts';
import type { EventEnvelope } from '../event-envelope.ts';

/** A 12-digit AWS account id. */
export const ACCOUNT_PATTERN = /^\d{12}$/;
/** An AWS region code: us-east-1, eu-west-2, us-gov-west-1, cn-north-1, ap-southeast-4 … */
export const REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Milliseconds since epoch for an RFC 3339 / ISO-8601 timestamp as senders write it:
 * `Z`, `+0000` (CloudWatch) or `-05:00` offsets, and any number of fractional digits (Go
 * writes nanoseconds; they are truncated to ms). Other forms (RFC 1123, as AWS Health
 * writes `startTime`) go to `Date.parse`. Undefined when the text is not a time.
 * Go's zero time `0001-01-01T00:00:00Z` parses to its real (very negative) value; callers
 * that treat it as "unset" check `isZeroTime` first.
 */
export function timestampMs(text: string): number | undefined {
  const m = ISO_TIME.exec(text.trim());
  if (!m) {
    const parsed = /[a-z]{3}/i.test(text) ? Date.parse(text) : Number.NaN;
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  const n = (i: number) => Number(m[i] ?? 0);
  const [y, mo, d, h, mi, s] = [n(1), n(2), n(3), n(4), n(5), n(6)];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  if (date.getUTCDate() !== d) return undefined; // 31 February and the like
  const offsetMinutes = m[8] ? 0 : (n(10) * 60 + n(11)) * (m[9] === '-' ? -1 : 1);
  return date.getTime() - offsetMinutes * 60_000;
}

/** Go's zero `time.Time` (`0001-01-01T00:00:00Z`), which Alertmanager sends for "not set". */
export function isZeroTime(text: string): boolean {
  return /^0001-01-01T00:00:00(?:\.0+)?(?:Z|[+-]00:?00)$/i.test(text.trim());
}

/** ISO-8601 UTC with milliseconds (`2019-10-02T17:04:40.989Z`), or undefined. */
export function isoTime(text: string): string | undefined {
  const ms = timestampMs(text);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** ISO-8601 UTC to the second, as EventBridge writes `time` (`2019-10-02T17:04:40Z`). */
export function eventBridgeTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The parts of an ARN (`arn:partition:service:region:account:resource`), or undefined. */
export function arnParts(
  arn: unknown,
):
  | { partition: string; service: string; region: string; account: string; resource: string }
  | undefined {
  if (typeof arn !== 'string') return undefined;
  const m = /^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, partition = '', service = '', region = '', account = '', resource = ''] = m;
  return { partition, service, region, account, resource };
}

/** The value when it is a 12-digit account id, else "". */
export const accountOrEmpty = (v: unknown): string =>
  typeof v === 'string' && ACCOUNT_PATTERN.test(v) ? v : '';

/** The value when it is a region code, else "". */
export const regionOrEmpty = (v: unknown): string =>
  typeof v === 'string' && REGION_PATTERN.test(v) ? v : '';

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `alerts[0].startsAt` from a zod issue path. */
function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

const EXPECTED: Readonly<Record<string, string>> = {
  object: 'a JSON object',
  record: 'a JSON object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

/**
 * INVALID_INPUT for the first problem zod found, naming the field in the sentence and in
 * `details.field`: "Alertmanager webhook: alerts[0].startsAt is required".
 */
export function invalidInput(what: string, error: z.ZodError): DomainError {
  const issue = error.issues[0];
  if (!issue) return new DomainError('INVALID_INPUT', `${what}: the body is not valid`);
  let field = pathText(issue.path);
  let problem: string;
  switch (issue.code) {
    case 'invalid_type':
      problem =
        issue.input === undefined
          ? 'is required'
          : `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
      break;
    case 'invalid_value':
      problem = `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'too_small':
      problem =
        issue.origin === 'string' ? 'must not be empty' : `must be at least ${issue.minimum}`;
      break;
    case 'too_big':
      problem =
        issue.origin === 'string'
          ? `is longer than ${issue.maximum} characters`
          : `must be at most ${issue.maximum}`;
      break;
    case 'unrecognized_keys':
      field = field ? `${field}.${issue.keys[0]}` : String(issue.keys[0]);
      problem = 'is not a known field';
      break;
    default:
      problem = issue.message;
  }
  field ||= '(body)';
  return new DomainError('INVALID_INPUT', `${what}: ${field} ${problem}`, { field });
}

const requiredString = z.string().min(1).max(2048);

/** A timestamp `timestampMs` can read. */
export const timestampText = z
  .string()
  .max(64)
  .refine((t) => timestampMs(t) !== undefined, { message: 'must be an ISO-8601 timestamp' });

/** Already ISO-8601 UTC, as EventBridge writes it: kept byte for byte. */
const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/** The envelope as EventBridge sends it. Unknown top-level keys are dropped. */
export const eventBridgeEventSchema = z.object({
  version: requiredString,
  id: requiredString,
  'detail-type': requiredString,
  source: requiredString,
  account: z
    .string()
    .refine((a) => a === '' || ACCOUNT_PATTERN.test(a), 'must be a 12-digit AWS account id')
    .default(''),
  time: timestampText,
  region: z
    .string()
    .refine((r) => r === '' || REGION_PATTERN.test(r), 'must be an AWS region code')
    .default(''),
  resources: z.array(z.string().max(2048)).default([]),
  detail: z.record(z.string(), z.unknown()).default({}),
  'replay-name': z.string().max(256).optional(),
});

/**
 * Validates one EventBridge event and returns it as an `EventEnvelope`. `resources` may be
 * missing (→ []), `detail` may be missing (→ {}), `replay-name` is kept (a replayed
 * archive event: not a new occurrence). `time` is kept as sent when it is already UTC
 * (`…Z`), else rewritten to UTC. Throws DomainError INVALID_INPUT naming the field.
 */
export function parseEventBridgeEvent(body: unknown): EventEnvelope {
  if (Array.isArray(body)) {
    throw new DomainError(
      'INVALID_INPUT',
      'EventBridge event: expected one event object, got an array (send one event per call)',
      { field: '(body)' },
    );
  }
  if (!isRecord(body)) {
    throw new DomainError('INVALID_INPUT', 'EventBridge event: the body must be a JSON object', {
      field: '(body)',
    });
  }
  if (body['detail-type'] === undefined && ('detailType' in body || 'DetailType' in body)) {
    throw new DomainError(
      'INVALID_INPUT',
      'EventBridge event: detail-type is required (the envelope spells it with a hyphen)',
      { field: 'detail-type' },
    );
  }
  const parsed = eventBridgeEventSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw invalidInput('EventBridge event', parsed.error);
  const e = parsed.data;
  const envelope: EventEnvelope = {
    version: e.version,
    id: e.id,
    'detail-type': e['detail-type'],
    source: e.source,
    account: e.account,
    time: UTC_TIME.test(e.time) ? e.time : eventBridgeTime(timestampMs(e.time) ?? 0),
    region: e.region,
    resources: e.resources,
    detail: e.detail,
  };
  if (e['replay-name'] !== undefined) envelope['replay-name'] = e['replay-name'];
  return envelope;
}

/** True when the value has the EventBridge envelope's own fields (used to unwrap SNS). */
export function isEventBridgeEvent(value: unknown): boolean {
  return (
    isRecord(value) &&
    typeof value['detail-type'] === 'string' &&
    typeof value.source === 'string' &&
    typeof value.id === 'string' &&
    typeof value.time === 'string' &&
    typeof value.version === 'string' &&
    isRecord(value.detail)
  );
}
