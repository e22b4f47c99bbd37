/**
 * The `numeric` operator: one comparison (`["<", 10]`, `["=", 301.8]`) or a range opened
 * by `>`/`>=` and closed by `<`/`<=` (`[">", 0, "<=", 5]`). It matches JSON numbers only,
 * compared as IEEE doubles: `=` with 301.8 matches `3.018e2`. Strings that look like
 * numbers, booleans and null never match.
 *
 * Range: any finite double, as current event-ruler accepts (EventBridge documents
 * -5.0e9 to +5.0e9 with six decimal places; values inside that range behave the same).
 */
import { describeValue, invalid, type ValueTest } from './event-pattern-model.ts';

const COMPARISONS = new Set(['=', '<', '<=', '>', '>=']);

export function numericTest(argument: unknown, path: string): ValueTest {
  if (!Array.isArray(argument)) {
    invalid(path, 'numeric must be an array such as [">", 0, "<=", 5]');
  }
  const [first, firstValue, second, secondValue] = argument as unknown[];
  if (typeof first !== 'string') {
    invalid(
      path,
      `numeric must start with a comparison (=, <, <=, >, >=), not ${describeValue(first)}`,
    );
  }
  if (!COMPARISONS.has(first)) {
    invalid(path, `unknown numeric comparison "${first}" (use =, <, <=, >, >=)`);
  }
  const low = numberAfter(first, firstValue, path);
  if (argument.length === 2) return single(first, low);
  if (first !== '>' && first !== '>=') {
    invalid(path, `numeric "${first}" takes one number; only > or >= can open a range`);
  }
  if (second !== '<' && second !== '<=') {
    invalid(path, `a numeric range closes with < or <=, not ${describeValue(second)}`);
  }
  const high = numberAfter(second, secondValue, path);
  if (argument.length > 4) invalid(path, 'numeric takes at most two comparisons');
  if (high <= low) invalid(path, `empty numeric range: ${low} must be below ${high}`);
  return range(low, first === '>', high, second === '<');
}

function numberAfter(comparison: string, value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    invalid(
      path,
      `numeric needs numbers: the value after "${comparison}" must be a number, not ${describeValue(value)}`,
    );
  }
  return value;
}

function single(comparison: string, n: number): ValueTest {
  switch (comparison) {
    case '=':
      return (v) => v === n;
    case '<':
      return (v) => typeof v === 'number' && v < n;
    case '<=':
      return (v) => typeof v === 'number' && v <= n;
    case '>':
      return (v) => typeof v === 'number' && v > n;
    default:
      return (v) => typeof v === 'number' && v >= n;
  }
}

function range(low: number, openLow: boolean, high: number, openHigh: boolean): ValueTest {
  if (openLow) {
    return openHigh
      ? (v) => typeof v === 'number' && v > low && v < high
      : (v) => typeof v === 'number' && v > low && v <= high;
  }
  return openHigh
    ? (v) => typeof v === 'number' && v >= low && v < high
    : (v) => typeof v === 'number' && v >= low && v <= high;
}
