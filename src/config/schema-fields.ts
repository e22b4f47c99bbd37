/**
 * The building blocks of the catalog schema: strict objects that remember their keys (for
 * "did you mean" on a typo), slugs, labels, distinct lists, times and zones. Every string
 * type here refuses control characters and bidi overrides, so a hostile catalog cannot
 * smuggle them into ids, chat messages or the audit trail.
 */
import * as z from 'zod';

/** C0/C1 controls and the bidi overrides used to disguise text ("trojan source"). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** The same, but allowing tab and newline, for multi-line descriptions. */
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const SLUG = /^[a-z][a-z0-9-]{0,62}$/;
const SLUG_OR_ALL = /^(?:\*|[a-z][a-z0-9-]{0,62})$/;
const SLUG_RULE = "a lower-case letter, then lower-case letters, digits or '-' (63 at most)";

/** Every key any catalog object accepts, to suggest the intended one for a typo. */
const knownKeys = new Set<string>();

/** `z.strictObject`, remembering the keys for typo suggestions. */
export function strict<S extends z.ZodRawShape>(shape: S, notAnObject?: string) {
  for (const key of Object.keys(shape)) knownKeys.add(key);
  return z.strictObject(shape, {
    error: (i) => (i.code === 'invalid_type' && notAnObject ? notAnObject : undefined),
  });
}

/** Keys that would hold a secret in clear text. The catalog holds only digests. */
const SECRET_KEYS = /^(?:token|tokens?_?value|value|secret|raw|plain(?:text)?|password|key)$/i;

/** The message for a key the schema does not know, with a suggestion when one is close. */
export function unknownKeyMessage(key: string): string {
  const shown = JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key);
  if (SECRET_KEYS.test(key)) {
    return `${shown} is not allowed: the catalog never holds a raw secret; store only the token's sha256`;
  }
  const near = closestKey(key);
  return near ? `unknown key ${shown} (did you mean "${near}"?)` : `unknown key ${shown}`;
}

function closestKey(key: string): string | undefined {
  if (key.length > 40) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of knownKeys) {
    const d = editDistance(key.toLowerCase(), known);
    // The key itself belongs to some other object: suggesting it back would say nothing.
    if (known !== key && d < bestDistance) [best, bestDistance] = [known, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}

function patternError(what: string, rule: string) {
  return {
    error: (issue: { input?: unknown }) =>
      typeof issue.input === 'string' && CONTROL.test(issue.input)
        ? `${what} contains a control character`
        : `${what} must be ${rule}`,
  };
}

/** An identifier: a lower-case slug. */
export const slug = (what: string) =>
  z.string().regex(SLUG, patternError(what, `a slug: ${SLUG_RULE}`));
/** A reference to an identifier, or `*` for every one. */
export const slugOrAll = (what: string) =>
  z.string().regex(SLUG_OR_ALL, patternError(what, `'*' or a slug: ${SLUG_RULE}`));

/** A single-line human label. */
export const label = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL.test(s), 'contains a control character');

/** Free text; tabs and newlines allowed, other control characters not. */
export const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL_IN_TEXT.test(s), 'contains a control character');

/** A list whose values are distinct; a repeated value is reported at its position. */
export function list<T extends z.ZodType>(item: T, min = 0) {
  return z
    .array(item)
    .min(min)
    .superRefine((values, ctx) => {
      const seen = new Set<string>();
      values.forEach((v, i) => {
        const key = JSON.stringify(v);
        if (seen.has(key)) ctx.addIssue({ code: 'custom', message: 'listed twice', path: [i] });
        seen.add(key);
      });
    });
}

/** Removes keys whose value is undefined, so outputs hold only what was given. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A required owning team, with a message that says why. */
export const owningTeam = (what: string) =>
  z
    .string({
      error: (i) =>
        i.input === undefined
          ? `every ${what} needs an owning team: add "team: <team id>"`
          : undefined,
    })
    .regex(SLUG, patternError('team', `a slug: ${SLUG_RULE}`));

export const hhmm = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time "HH:MM"');

/** An IANA zone name that this runtime's Intl knows ("Europe/London", "UTC"). */
export const timezone = z
  .string()
  .max(64)
  .refine(isIanaZone, 'must be an IANA time zone name such as "Europe/London" or "UTC"');

function isIanaZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** An instant with an explicit offset, so a freeze never depends on the server's zone. */
export const instant = z.iso.datetime({
  offset: true,
  error: 'must be an ISO-8601 date-time with an offset (Z or ±hh:mm), e.g. "2025-12-20T18:00:00Z"',
});
