/**
 * Matching an event against a compiled pattern. Runs for every ingested event and every
 * route, so it walks only the fields the pattern names and allocates nothing.
 *
 * Semantics (EventBridge event buses):
 * - Every rule of a pattern object must match (AND); an `$or` needs one branch.
 * - A leaf looks at the event's leaf values at that path. An array contributes all its
 *   scalar elements (nested arrays are flattened); the leaf matches if any value does.
 * - A field with no leaf value (missing, an object, an empty array or an array of objects)
 *   is absent: only `{"exists": false}` matches it. `null` is a value.
 * - A nested pattern object applied to an array of objects must match one element as a
 *   whole, so two fields are never satisfied by two different elements.
 * - Arrays nested deeper than `MAX_ARRAY_NESTING` inside one another are not looked into,
 *   so a hostile event cannot overflow the stack (no real event nests arrays that deep).
 */
import type {
  EventObject,
  LeafRule,
  ObjectRule,
  PatternNode,
  PatternRule,
  Scalar,
  ValueTest,
} from './event-pattern-model.ts';

/** Whether `node` matches the event object `object` (undefined: no object there). */
export function matchNode(node: PatternNode, object: EventObject | undefined): boolean {
  if (object === undefined) return node.matchesNothing;
  const rules = node.rules;
  for (let i = 0; i < rules.length; i++) {
    if (!matchRule(rules[i]!, object)) return false;
  }
  return true;
}

export function matchRule(rule: PatternRule, object: EventObject | undefined): boolean {
  switch (rule.kind) {
    case 'leaf':
      return matchLeaf(rule, fieldValue(object, rule));
    case 'object':
      return matchNested(rule.node, fieldValue(object, rule));
    case 'or': {
      const branches = rule.branches;
      for (let i = 0; i < branches.length; i++) {
        if (matchNode(branches[i]!, object)) return true;
      }
      return false;
    }
  }
}

/** The event's value for a field, or undefined when the object does not own it. */
export function fieldValue(object: EventObject | undefined, rule: LeafRule | ObjectRule): unknown {
  if (object === undefined) return undefined;
  if (rule.inheritedName && !Object.hasOwn(object, rule.key)) return undefined;
  return object[rule.key];
}

export function matchLeaf(rule: LeafRule, value: unknown): boolean {
  if (value === undefined) return rule.matchesAbsent;
  if (typeof value === 'object' && value !== null) {
    if (!Array.isArray(value)) return rule.matchesAbsent;
    const found = scanScalars(rule.test, value, 1);
    return found === NONE ? rule.matchesAbsent : found === FOUND;
  }
  return rule.test?.(value as Scalar) === true;
}

/** Whether `node` matches the event value at its field (an object, an array of them, or other). */
export function matchNested(node: PatternNode, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return node.matchesNothing;
  if (!Array.isArray(value)) return matchNode(node, value as EventObject);
  const found = scanElements(node, value, 1);
  return found === NONE ? node.matchesNothing : found === FOUND;
}

/** How many arrays deep inside one another matching still looks for elements. */
export const MAX_ARRAY_NESTING = 1000;

/** No element seen (empty, or only objects / empty arrays). */
const NONE = 0;
/** Elements seen, none matched. */
const SEEN = 1;
const FOUND = 2;

function scanScalars(test: ValueTest | null, array: readonly unknown[], depth: number): number {
  if (depth > MAX_ARRAY_NESTING) return NONE;
  let result = NONE;
  for (let i = 0; i < array.length; i++) {
    const element = array[i];
    if (typeof element === 'object' && element !== null) {
      if (Array.isArray(element)) {
        const inner = scanScalars(test, element, depth + 1);
        if (inner === FOUND) return FOUND;
        if (inner === SEEN) result = SEEN;
      }
    } else if (element !== undefined) {
      if (test?.(element as Scalar) === true) return FOUND;
      result = SEEN;
    }
  }
  return result;
}

function scanElements(node: PatternNode, array: readonly unknown[], depth: number): number {
  if (depth > MAX_ARRAY_NESTING) return NONE;
  let result = NONE;
  for (let i = 0; i < array.length; i++) {
    const element = array[i];
    if (Array.isArray(element)) {
      const inner = scanElements(node, element, depth + 1);
      if (inner === FOUND) return FOUND;
      if (inner === SEEN) result = SEEN;
    } else {
      if (matchNested(node, element)) return FOUND;
      result = SEEN;
    }
  }
  return result;
}
