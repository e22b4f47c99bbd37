/**
 * Why a pattern matched an event or not, for `countersign events route`: one line per
 * leaf field and per `$or` checked, in pattern order (see `explainOr` for which branch
 * lines are listed). Built from the same primitives as the matcher, so each line's `ok`
 * agrees with what matching decided. Not on the hot path.
 *
 * Field labels are pattern paths: `detail.state`, `detail.$or[1].count` (a field of the
 * second `$or` branch), `employees[2].name` (a nested pattern satisfied by element 2 of an
 * event array).
 */
import { fieldValue, MAX_ARRAY_NESTING, matchLeaf, matchNested } from './event-pattern-match.ts';
import {
  describeValue,
  type EventObject,
  isJsonObject,
  type PatternNode,
} from './event-pattern-model.ts';

export interface ExplainLine {
  /** Pattern path of the field checked. */
  field: string;
  ok: boolean;
  /** What the pattern asks for, as JSON. */
  expected: string;
  /** What the event holds there, as JSON, or `(missing)`. */
  actual: string;
}

/** Appends the lines for `node` applied to `object`; returns whether it matched. */
export function explainNode(
  node: PatternNode,
  object: EventObject | undefined,
  prefix: string,
  out: ExplainLine[],
): boolean {
  let matched = true;
  for (const rule of node.rules) {
    if (rule.kind === 'or') {
      matched = explainOr(rule.branches, object, label(prefix, '$or'), out) && matched;
      continue;
    }
    const value = fieldValue(object, rule);
    const field = label(prefix, rule.key);
    if (rule.kind === 'leaf') {
      const ok = matchLeaf(rule, value);
      out.push({ field, ok, expected: describeValue(rule.values), actual: describeValue(value) });
      matched = ok && matched;
    } else {
      matched = explainNested(rule.node, rule.source, value, field, out) && matched;
    }
  }
  return matched;
}

/**
 * A matched `$or` lists only the lines of its matching branches; an unmatched one lists
 * every branch. So a matched pattern has only `ok` lines, and in an unmatched one every
 * line that is not `ok` is a reason it failed.
 */
function explainOr(
  branches: readonly PatternNode[],
  object: EventObject | undefined,
  field: string,
  out: ExplainLine[],
): boolean {
  const perBranch = branches.map((branch, i) => {
    const lines: ExplainLine[] = [];
    return { i, lines, ok: explainNode(branch, object, `${field}[${i}]`, lines) };
  });
  const matching = perBranch.filter((b) => b.ok);
  const ok = matching.length > 0;
  out.push({
    field,
    ok,
    expected: `any of ${branches.length} branches`,
    actual: ok ? `branch ${matching.map((b) => b.i).join(', ')} matched` : 'no branch matched',
  });
  for (const branch of ok ? matching : perBranch) out.push(...branch.lines);
  return ok;
}

function explainNested(
  node: PatternNode,
  source: unknown,
  value: unknown,
  field: string,
  out: ExplainLine[],
): boolean {
  if (isJsonObject(value)) return explainNode(node, value, field, out);
  if (!Array.isArray(value) || !hasElements(value, 1)) {
    // No object here: the nested fields are all missing.
    return explainNode(node, undefined, field, out);
  }
  const index = value.findIndex((element) => matchNested(node, element));
  if (index >= 0) {
    const element = value[index];
    const at = `${field}[${index}]`;
    if (Array.isArray(element)) return explainNested(node, source, element, at, out);
    return explainNode(node, isJsonObject(element) ? element : undefined, at, out);
  }
  out.push({
    field,
    ok: false,
    expected: `one element matching ${describeValue(source)}`,
    actual: `none of ${value.length} elements matched`,
  });
  return false;
}

/** Whether the array holds anything but (nested) empty arrays, as far as matching looks. */
function hasElements(array: readonly unknown[], depth: number): boolean {
  if (depth > MAX_ARRAY_NESTING) return false;
  return array.some((element) => !Array.isArray(element) || hasElements(element, depth + 1));
}

const label = (prefix: string, key: string): string => (prefix === '' ? key : `${prefix}.${key}`);
