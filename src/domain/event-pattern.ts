/**
 * EventBridge event-bus patterns: the route syntax for every ingested event (DESIGN.md,
 * "ingest"). A pattern is compiled once (`compilePattern`, which validates it the way AWS
 * does) and then matched against many events (`matchesPattern`, allocation-free).
 * `explainMatch` says, field by field, why a pattern matched or not.
 *
 * Supported, as on EventBridge event buses: exact strings, numbers, booleans and null;
 * `prefix` and `suffix` (also `{"equals-ignore-case": …}`), `equals-ignore-case`,
 * `wildcard`, `anything-but` (value, list, `prefix`, `suffix`, `equals-ignore-case`,
 * `wildcard`), `numeric`, `exists`, `cidr` (IPv4 and IPv6) and `$or` at any level.
 * Event arrays match when any element does; see `event-pattern-match.ts` for the rules.
 *
 * The parts: `event-pattern-compile.ts` (structure), `event-pattern-operators.ts` (leaf
 * lists) with `-numeric`, `-anything-but`, `-text` and `-ip`; `event-pattern-match.ts`;
 * `event-pattern-explain.ts`.
 */
import { compileTree } from './event-pattern-compile.ts';
import { type ExplainLine, explainNode } from './event-pattern-explain.ts';
import { matchNode } from './event-pattern-match.ts';
import {
  describeValue,
  type EventObject,
  isJsonObject,
  type PatternNode,
} from './event-pattern-model.ts';

export type { ExplainLine } from './event-pattern-explain.ts';

/** A validated pattern, ready to match many events. Opaque to callers. */
export interface CompiledPattern {
  /** The pattern exactly as given to `compilePattern` (the original JSON value). */
  readonly source: unknown;
  /** Internal: the compiled tree. Not part of the contract. */
  readonly root: PatternNode;
}

/**
 * Validates like AWS does and compiles. Throws DomainError('EVENT_PATTERN_INVALID',
 * message, { field }) where `field` is the pattern path at fault (e.g. `detail.state`,
 * `detail.$or[1].count`, or `(pattern)` for the whole) and the message says what is wrong.
 */
export function compilePattern(pattern: unknown): CompiledPattern {
  return Object.freeze({ source: pattern, root: compileTree(pattern) });
}

/** Whether `event` (a parsed JSON object) matches. Anything but an object never matches. */
export function matchesPattern(p: CompiledPattern, event: unknown): boolean {
  return isJsonObject(event) && matchNode(p.root, event as EventObject);
}

/** Why it matched or not: one line per leaf field and `$or` checked, in pattern order. */
export function explainMatch(
  p: CompiledPattern,
  event: unknown,
): { matched: boolean; fields: ExplainLine[] } {
  if (!isJsonObject(event)) {
    const line = {
      field: '(event)',
      ok: false,
      expected: 'a JSON object',
      actual: describeValue(event),
    };
    return { matched: false, fields: [line] };
  }
  const fields: ExplainLine[] = [];
  explainNode(p.root, event as EventObject, '', fields);
  return { matched: matchNode(p.root, event as EventObject), fields };
}
