/**
 * Validating and compiling the object structure of an event pattern: nested objects,
 * leaf lists (handed to `event-pattern-operators.ts`) and `$or`. Refuses what EventBridge
 * refuses, naming the field:
 * - the pattern, and every object in it, must be a non-empty JSON object;
 * - a field's pattern value must be an object (nesting) or a non-empty array (a leaf);
 * - `$or` must be an array of at least two non-empty objects, and inside `$or` a field may
 *   not be named like an operator (`{"$or": [{"prefix": …}, …]}` is a mistake, not a field).
 *
 * Keys are taken literally: `"state.status"` is one key with a dot in it, not a path.
 */
import { matchRule } from './event-pattern-match.ts';
import {
  invalid,
  isJsonObject,
  type OrRule,
  type PatternNode,
  type PatternRule,
} from './event-pattern-model.ts';
import { compileLeaf } from './event-pattern-operators.ts';

/** Field names event-ruler reserves inside `$or`: the operators and words kept for later. */
const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

/** Compiles the whole pattern; throws EVENT_PATTERN_INVALID naming the field at fault. */
export function compileTree(pattern: unknown): PatternNode {
  if (!isJsonObject(pattern)) {
    invalid('', `an event pattern must be a JSON object, not ${kindOf(pattern)}`);
  }
  return compileNode(pattern, '', false);
}

/**
 * @param path where `object` sits in the pattern ('' for the root)
 * @param inOr whether `object` is (inside) an `$or` branch
 */
function compileNode(object: Record<string, unknown>, path: string, inOr: boolean): PatternNode {
  const keys = Object.keys(object);
  if (keys.length === 0) invalid(path, 'empty objects are not allowed; name at least one field');
  const rules: PatternRule[] = keys.map((key) => compileRule(key, object[key], path, inOr));
  const matchesNothing = rules.every((rule) => matchRule(rule, undefined));
  return Object.freeze({ rules: Object.freeze(rules), matchesNothing });
}

function compileRule(key: string, value: unknown, parent: string, inOr: boolean): PatternRule {
  if (key === '$or') return compileOr(value, parent === '' ? '$or' : `${parent}.$or`);
  const path = parent === '' ? key : `${parent}.${key}`;
  if (inOr && RESERVED_IN_OR.has(key)) {
    invalid(
      path,
      `"${key}" is an operator name and cannot be a field inside $or; ` +
        'to allow several values write them in one list, e.g. "field": [{"prefix": "a"}, {"prefix": "b"}]',
    );
  }
  const inheritedName = key in Object.prototype;
  if (Array.isArray(value)) return compileLeaf(key, path, value, inheritedName);
  if (isJsonObject(value)) {
    const node = compileNode(value, path, inOr);
    return Object.freeze({ kind: 'object', key, path, inheritedName, node, source: value });
  }
  return invalid(
    path,
    `must be an array of values (e.g. ["a"]) or an object of fields, not ${kindOf(value)}`,
  );
}

function compileOr(value: unknown, path: string): OrRule {
  if (!Array.isArray(value))
    invalid(path, `must be an array of pattern objects, not ${kindOf(value)}`);
  if (value.length < 2) {
    invalid(path, `needs at least 2 pattern objects, found ${value.length}`);
  }
  const branches = value.map((branch, i) => {
    const where = `${path}[${i}]`;
    if (!isJsonObject(branch))
      invalid(where, `each $or entry must be a pattern object, not ${kindOf(branch)}`);
    return compileNode(branch, where, true);
  });
  return Object.freeze({ kind: 'or', path, branches: Object.freeze(branches) });
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return String(typeof value);
}
