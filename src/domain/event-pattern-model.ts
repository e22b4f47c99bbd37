/**
 * The compiled form of an EventBridge event pattern, shared by the compiler
 * (`event-pattern-compile.ts`), the matcher (`event-pattern-match.ts`) and the explainer
 * (`event-pattern-explain.ts`). Callers outside these files see only `CompiledPattern`
 * from `event-pattern.ts` and treat it as opaque.
 *
 * A pattern is a tree: a `PatternNode` is one JSON object of the pattern, holding its rules
 * in pattern order. A rule is a leaf (a field whose pattern value is a list), a nested
 * object (a field whose pattern value is an object), or an `$or` of branch nodes.
 */
import { DomainError } from './errors.ts';

/** A JSON leaf value in an event. */
export type Scalar = string | number | boolean | null;

/** Whether one present leaf value satisfies a compiled condition. Never allocates. */
export type ValueTest = (value: Scalar) => boolean;

/** A JSON object of an event, as the matcher reads it. */
export type EventObject = Readonly<Record<string, unknown>>;

interface FieldRuleBase {
  /** The field name, looked up as an own property of the event object. */
  readonly key: string;
  /** Where the rule sits in the pattern, e.g. `detail.state` or `detail.$or[1].count`. */
  readonly path: string;
  /** True when `key` is also a property of `Object.prototype`, so lookups must check ownership. */
  readonly inheritedName: boolean;
}

/** A field whose pattern value is a list: `"state": ["running", {"prefix": "stop"}]`. */
export interface LeafRule extends FieldRuleBase {
  readonly kind: 'leaf';
  /** True when the list holds `{"exists": false}`: a missing field (or no leaf value) matches. */
  readonly matchesAbsent: boolean;
  /** Any-of test over the list's other entries; null when the list is only `{"exists": false}`. */
  readonly test: ValueTest | null;
  /** The list exactly as written, for explanations. */
  readonly values: readonly unknown[];
}

/** A field whose pattern value is an object: `"detail": { … }`. */
export interface ObjectRule extends FieldRuleBase {
  readonly kind: 'object';
  readonly node: PatternNode;
  /** The nested pattern object exactly as written, for explanations. */
  readonly source: unknown;
}

/** `"$or": [ {…}, {…} ]`: at least one branch must match the same event object. */
export interface OrRule {
  readonly kind: 'or';
  /** E.g. `detail.$or`. */
  readonly path: string;
  readonly branches: readonly PatternNode[];
}

export type PatternRule = LeafRule | ObjectRule | OrRule;

/** One object of the pattern: every rule must match (AND), in pattern order. */
export interface PatternNode {
  readonly rules: readonly PatternRule[];
  /**
   * Whether this node matches where the event has no object at all (field missing, a
   * scalar, an empty array). Fixed by the pattern, so computed once at compile time.
   */
  readonly matchesNothing: boolean;
}

/** The `field` reported for problems with the pattern as a whole. */
export const PATTERN_ROOT = '(pattern)';

/** Refuses a pattern: `field` names where in the pattern, `reason` says what is wrong. */
export function invalid(field: string, reason: string): never {
  const where = field === '' ? PATTERN_ROOT : field;
  throw new DomainError('EVENT_PATTERN_INVALID', `${where}: ${reason}`, { field: where });
}

/** A JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A pattern or event value for a message: JSON, at most 120 characters, then `…`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = '(not printable as JSON)';
  }
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
