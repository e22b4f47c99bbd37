/**
 * Compiles one leaf list of an event pattern (`"state": ["running", {"prefix": "stop"}]`)
 * into a `LeafRule`: validates every entry the way EventBridge does and folds the entries
 * into one any-of `ValueTest`. Entries are exact values (string, number, boolean, null)
 * or an object holding exactly one operator.
 *
 * Types matter everywhere: `"5"` never equals `5`; `numeric` only looks at numbers;
 * the string operators only at strings; `anything-but` matches any present value that is
 * not excluded, whatever its type. Numbers compare by value (`300`, `300.0`, `3.0e2` are
 * one number once parsed), as IEEE doubles.
 */

import { anythingButTest } from './event-pattern-anything-but.ts';
import { type IpFamily, inCidr, parseCidr, parseIp, sameAddress } from './event-pattern-ip.ts';
import {
  describeValue,
  invalid,
  isJsonObject,
  type LeafRule,
  type Scalar,
  type ValueTest,
} from './event-pattern-model.ts';
import { numericTest } from './event-pattern-numeric.ts';
import {
  endsWithFold,
  equalsFold,
  startsWithFold,
  wildcardArgument,
  wildcardMatches,
} from './event-pattern-text.ts';

/** The operators EventBridge event buses accept inside a leaf list. */
export const OPERATORS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
  'wildcard',
] as const;

/** What one leaf list contributes, gathered before the test is composed. */
interface LeafParts {
  strings: Set<string>;
  numbers: Set<number>;
  matchTrue: boolean;
  matchFalse: boolean;
  matchNull: boolean;
  /** `{"exists": true}`: any present value matches. */
  anyPresent: boolean;
  /** `{"exists": false}`. */
  matchesAbsent: boolean;
  others: ValueTest[];
}

export function compileLeaf(
  key: string,
  path: string,
  values: readonly unknown[],
  inheritedName: boolean,
): LeafRule {
  if (values.length === 0) invalid(path, 'empty arrays are not allowed; list at least one value');
  const parts: LeafParts = {
    strings: new Set(),
    numbers: new Set(),
    matchTrue: false,
    matchFalse: false,
    matchNull: false,
    anyPresent: false,
    matchesAbsent: false,
    others: [],
  };
  for (const value of values) addEntry(parts, value, path);
  return Object.freeze({
    kind: 'leaf',
    key,
    path,
    inheritedName,
    matchesAbsent: parts.matchesAbsent,
    test: composeTest(parts),
    values,
  });
}

function addEntry(parts: LeafParts, value: unknown, path: string): void {
  if (value === null) {
    parts.matchNull = true;
  } else if (typeof value === 'string') {
    parts.strings.add(value);
    const ipTest = ipLiteralTest(value);
    if (ipTest) parts.others.push(ipTest);
  } else if (typeof value === 'number' && Number.isFinite(value)) {
    parts.numbers.add(value);
  } else if (typeof value === 'boolean') {
    if (value) parts.matchTrue = true;
    else parts.matchFalse = true;
  } else if (isJsonObject(value)) {
    addOperator(parts, value, path);
  } else {
    invalid(
      path,
      `a match value must be a string, number, true, false, null or an operator object, not ${describeValue(value)}`,
    );
  }
}

function addOperator(parts: LeafParts, expression: Record<string, unknown>, path: string): void {
  const keys = Object.keys(expression);
  if (keys.length !== 1) {
    invalid(
      path,
      keys.length === 0
        ? 'an operator object needs an operator, e.g. {"prefix": "us-"}'
        : `an operator object holds exactly one operator, not ${keys.map((k) => `"${k}"`).join(', ')}`,
    );
  }
  const operator = keys[0]!;
  const argument = expression[operator];
  switch (operator) {
    case 'exists':
      if (typeof argument !== 'boolean') invalid(path, 'exists must be true or false');
      if (argument) parts.anyPresent = true;
      else parts.matchesAbsent = true;
      return;
    case 'prefix':
      parts.others.push(affixTest('prefix', argument, path));
      return;
    case 'suffix':
      parts.others.push(affixTest('suffix', argument, path));
      return;
    case 'equals-ignore-case': {
      if (typeof argument !== 'string') invalid(path, 'equals-ignore-case must be a string');
      const lower = argument.toLowerCase();
      parts.others.push((v) => typeof v === 'string' && equalsFold(v, lower));
      return;
    }
    case 'wildcard': {
      const w = wildcardArgument('wildcard', argument, path);
      parts.others.push((v) => typeof v === 'string' && wildcardMatches(w, v));
      return;
    }
    case 'cidr': {
      if (typeof argument !== 'string')
        invalid(path, 'cidr must be a string such as "10.0.0.0/24"');
      const block = parseCidr(argument);
      if (typeof block === 'string') invalid(path, `cidr ${JSON.stringify(argument)}: ${block}`);
      parts.others.push((v) => typeof v === 'string' && inCidr(block, v));
      return;
    }
    case 'numeric':
      parts.others.push(numericTest(argument, path));
      return;
    case 'anything-but':
      parts.others.push(anythingButTest(argument, path));
      return;
    default:
      invalid(path, `unknown operator "${operator}"${operatorHint(operator)}`);
  }
}

/** `prefix` / `suffix`: a string, or `{"equals-ignore-case": string}`. An empty one matches any string. */
function affixTest(operator: 'prefix' | 'suffix', argument: unknown, path: string): ValueTest {
  if (typeof argument === 'string') {
    return operator === 'prefix'
      ? (v) => typeof v === 'string' && v.startsWith(argument)
      : (v) => typeof v === 'string' && v.endsWith(argument);
  }
  if (!isJsonObject(argument)) {
    invalid(path, `${operator} must be a string or {"equals-ignore-case": "…"}`);
  }
  const keys = Object.keys(argument);
  if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
    invalid(path, `${operator} takes a string or {"equals-ignore-case": "…"} and nothing else`);
  }
  const text = argument['equals-ignore-case'];
  if (typeof text !== 'string') {
    invalid(path, `${operator} equals-ignore-case must be a string`);
  }
  const lower = text.toLowerCase();
  return operator === 'prefix'
    ? (v) => typeof v === 'string' && startsWithFold(v, lower)
    : (v) => typeof v === 'string' && endsWithFold(v, lower);
}

/**
 * As event-ruler does, an exact string that is an IP address also matches the same
 * address written differently (`2400:6500:FF00::36FB:1F80` and its lower-case form).
 */
function ipLiteralTest(text: string): ValueTest | undefined {
  const groups = new Uint16Array(8);
  const family: IpFamily | 0 = parseIp(text, groups);
  if (family === 0) return undefined;
  return (v) => typeof v === 'string' && sameAddress(family, groups, v);
}

/** One any-of test for the whole list, specialised for the common shapes. */
function composeTest(parts: LeafParts): ValueTest | null {
  if (parts.anyPresent) return () => true;
  const { strings, numbers, matchTrue, matchFalse, matchNull, others } = parts;
  const scalarKinds =
    (strings.size > 0 ? 1 : 0) +
    (numbers.size > 0 ? 1 : 0) +
    (matchTrue || matchFalse || matchNull ? 1 : 0);
  if (scalarKinds === 0 && others.length === 0) return null;
  if (scalarKinds === 0 && others.length === 1) return others[0]!;
  if (others.length === 0 && scalarKinds === 1 && strings.size > 0) {
    if (strings.size === 1) {
      const only = strings.values().next().value;
      return (v) => v === only;
    }
    return (v) => typeof v === 'string' && strings.has(v);
  }
  return (v: Scalar) => {
    if (typeof v === 'string') {
      if (strings.has(v)) return true;
    } else if (typeof v === 'number') {
      if (numbers.has(v)) return true;
    } else if (v === true ? matchTrue : v === false ? matchFalse : v === null && matchNull) {
      return true;
    }
    for (let i = 0; i < others.length; i++) if (others[i]!(v)) return true;
    return false;
  };
}

/** ` (operators are lower-case: "numeric")` or ` (did you mean "prefix"?)`, or nothing. */
function operatorHint(operator: string): string {
  const lower = operator.toLowerCase();
  if ((OPERATORS as readonly string[]).includes(lower)) {
    return ` (operators are lower-case: "${lower}")`;
  }
  const near = OPERATORS.find((known) => editDistance(lower, known) <= 2);
  return near ? ` (did you mean "${near}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}
