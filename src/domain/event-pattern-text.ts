/**
 * Text primitives for event patterns: case-insensitive comparison (`equals-ignore-case`
 * and its `prefix`/`suffix` forms) and `wildcard` globs. They run for every event value
 * a route looks at, so the common (ASCII) path allocates nothing.
 *
 * Case-insensitive means: equal after `String.prototype.toLowerCase()` (locale-free
 * Unicode lower-casing) of both sides. Patterns are lower-cased once at compile time.
 */
import { invalid } from './event-pattern-model.ts';

/** `value.toLowerCase() === lower`, where `lower` is already lower-cased. */
export function equalsFold(value: string, lower: string): boolean {
  if (value.length === lower.length) {
    const r = compareFoldedForward(value, lower);
    if (r !== NEEDS_UNICODE) return r === SAME;
  } else if (isAscii(value)) {
    return false;
  }
  return value.toLowerCase() === lower;
}

/** `value.toLowerCase().startsWith(lower)`, where `lower` is already lower-cased. */
export function startsWithFold(value: string, lower: string): boolean {
  if (value.length >= lower.length) {
    const r = compareFoldedForward(value, lower);
    if (r !== NEEDS_UNICODE) return r === SAME;
  } else if (isAscii(value)) {
    return false;
  }
  return value.toLowerCase().startsWith(lower);
}

/** `value.toLowerCase().endsWith(lower)`, where `lower` is already lower-cased. */
export function endsWithFold(value: string, lower: string): boolean {
  if (value.length >= lower.length) {
    const r = compareFoldedBackward(value, lower);
    if (r !== NEEDS_UNICODE) return r === SAME;
  } else if (isAscii(value)) {
    return false;
  }
  return value.toLowerCase().endsWith(lower);
}

const SAME = 1;
const DIFFERENT = 0;
/** A non-ASCII character was met: only a full `toLowerCase()` can decide. */
const NEEDS_UNICODE = -1;

const foldAscii = (unit: number): number => (unit >= 65 && unit <= 90 ? unit + 32 : unit);

/**
 * Compares the first `lower.length` units of `value` with `lower`, folding ASCII case.
 * An ASCII mismatch is final: lower-casing ASCII keeps positions, so everything before
 * the mismatch lines up in `value.toLowerCase()` too.
 */
function compareFoldedForward(value: string, lower: string): number {
  for (let i = 0; i < lower.length; i++) {
    const a = value.charCodeAt(i);
    const b = lower.charCodeAt(i);
    if (a > 127 || b > 127) return NEEDS_UNICODE;
    if (foldAscii(a) !== b) return DIFFERENT;
  }
  return SAME;
}

/** As `compareFoldedForward`, for the last `lower.length` units, scanning from the end. */
function compareFoldedBackward(value: string, lower: string): number {
  for (let i = 1; i <= lower.length; i++) {
    const a = value.charCodeAt(value.length - i);
    const b = lower.charCodeAt(lower.length - i);
    if (a > 127 || b > 127) return NEEDS_UNICODE;
    if (foldAscii(a) !== b) return DIFFERENT;
  }
  return SAME;
}

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 127) return false;
  return true;
}

// ---------------------------------------------------------------------------------------
// Wildcards

/**
 * A parsed `wildcard` pattern: the literal parts between its `*`s, escapes resolved.
 * `a*b*c` is `['a', 'b', 'c']`; `*.png` is `['', '.png']`; no `*` at all is one part,
 * matched exactly.
 */
export interface Wildcard {
  readonly parts: readonly string[];
  /** Total length of the parts: a shorter value cannot match. */
  readonly minLength: number;
}

/** AWS refuses wildcard patterns it deems too complex; more `*` than this is refused here. */
export const MAX_WILDCARD_STARS = 5;

/**
 * Parses a wildcard pattern: `*` matches any run of characters (including none), `\*` is
 * a literal star and `\\` a literal backslash. Returns the reason when the pattern is not
 * valid: `**`, a backslash before anything else, or more than `MAX_WILDCARD_STARS` stars.
 * Positions in reasons count characters from 1.
 */
export function parseWildcard(pattern: string): Wildcard | string {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') return `consecutive wildcard characters at position ${i + 1}`;
      parts.push(current);
      current = '';
    } else if (ch === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        return `invalid escape at position ${i + 1}: only \\* and \\\\ may follow a backslash`;
      }
      current += next;
      i++;
    } else {
      current += ch;
    }
  }
  parts.push(current);
  if (parts.length - 1 > MAX_WILDCARD_STARS) {
    return `too complex: more than ${MAX_WILDCARD_STARS} wildcard characters`;
  }
  return { parts, minLength: parts.reduce((n, part) => n + part.length, 0) };
}

/** Parses the string argument of a `wildcard` operator, refusing the pattern when it is not valid. */
export function wildcardArgument(operator: string, argument: unknown, path: string): Wildcard {
  if (typeof argument !== 'string') invalid(path, `${operator} must be a string`);
  const w = parseWildcard(argument);
  if (typeof w === 'string') invalid(path, `${operator} ${JSON.stringify(argument)}: ${w}`);
  return w;
}

/**
 * Whether `value` matches the whole wildcard. With only `*` to place, taking each middle
 * part at its leftmost position after the previous one is exact, so this is linear-ish and
 * never backtracks.
 */
export function wildcardMatches(w: Wildcard, value: string): boolean {
  const parts = w.parts;
  const last = parts.length - 1;
  if (last === 0) return value === parts[0];
  if (value.length < w.minLength) return false;
  const head = parts[0]!;
  const tail = parts[last]!;
  if (!value.startsWith(head) || !value.endsWith(tail)) return false;
  const end = value.length - tail.length;
  let from = head.length;
  for (let i = 1; i < last; i++) {
    const part = parts[i]!;
    const at = value.indexOf(part, from);
    if (at < 0 || at + part.length > end) return false;
    from = at + part.length;
  }
  return true;
}
