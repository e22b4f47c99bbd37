/**
 * The `anything-but` operator: matches any present value that is not excluded.
 *
 * - `"x"`, `123`, or a list of only strings or only numbers: excludes those exact values.
 *   A value of the other type is not excluded (`anything-but "123"` matches `123`).
 * - `{"prefix": …}`, `{"suffix": …}`, `{"equals-ignore-case": …}`, `{"wildcard": …}`, each
 *   with one string or a list of strings: excludes the strings that match. Values that are
 *   not strings (numbers, booleans, null) are never excluded.
 *
 * A missing field has no value, so `anything-but` never matches it. `null` is a value and
 * is never excluded (AWS refuses null, booleans and mixed lists as anything-but values).
 */
import { describeValue, invalid, isJsonObject, type ValueTest } from './event-pattern-model.ts';
import { equalsFold, wildcardArgument, wildcardMatches } from './event-pattern-text.ts';

const FORMS = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard'] as const;
type Form = (typeof FORMS)[number];

export function anythingButTest(argument: unknown, path: string): ValueTest {
  if (typeof argument === 'string') return (v) => v !== argument;
  if (typeof argument === 'number' && Number.isFinite(argument)) return (v) => v !== argument;
  if (Array.isArray(argument)) return excludedValues(argument, path);
  if (isJsonObject(argument)) return excludedMatches(argument, path);
  return invalid(
    path,
    `anything-but takes a string, a number, a list of strings or of numbers, or one of ${FORMS.join(', ')}; not ${describeValue(argument)}`,
  );
}

function excludedValues(list: readonly unknown[], path: string): ValueTest {
  if (list.length === 0) invalid(path, 'anything-but needs at least one value');
  if (list.every((x): x is string => typeof x === 'string')) {
    const excluded = new Set(list);
    return (v) => typeof v !== 'string' || !excluded.has(v);
  }
  if (list.every((x): x is number => typeof x === 'number' && Number.isFinite(x))) {
    const excluded = new Set(list);
    return (v) => typeof v !== 'number' || !excluded.has(v);
  }
  const odd = list.find((x) => typeof x !== 'string' && typeof x !== 'number');
  return invalid(
    path,
    odd === undefined
      ? 'an anything-but list holds only strings or only numbers, not both'
      : `an anything-but list holds only strings or only numbers, not ${describeValue(odd)}`,
  );
}

function excludedMatches(expression: Record<string, unknown>, path: string): ValueTest {
  const keys = Object.keys(expression);
  const form = keys[0] as Form;
  if (keys.length !== 1 || !FORMS.includes(form)) {
    invalid(
      path,
      keys.length === 0
        ? `anything-but needs one of ${FORMS.join(', ')}`
        : `anything-but with an object takes exactly one of ${FORMS.join(', ')}, not ${keys.map((k) => `"${k}"`).join(', ')}`,
    );
  }
  const texts = textsOf(form, expression[form], path);
  const test = formTest(form, texts, path);
  return (v) => typeof v !== 'string' || !test(v);
}

function textsOf(form: Form, argument: unknown, path: string): string[] {
  const list = typeof argument === 'string' ? [argument] : argument;
  if (!Array.isArray(list)) {
    invalid(
      path,
      `anything-but ${form} takes a string or a list of strings, not ${describeValue(argument)}`,
    );
  }
  if (list.length === 0) invalid(path, `anything-but ${form} needs at least one string`);
  for (const text of list) {
    if (typeof text !== 'string') {
      invalid(path, `anything-but ${form} takes only strings, not ${describeValue(text)}`);
    }
    if (text === '' && (form === 'prefix' || form === 'suffix')) {
      invalid(path, `anything-but ${form} must not be empty (it would exclude every string)`);
    }
  }
  return list as string[];
}

/** Whether a string is excluded: it matches one of the texts. */
function formTest(form: Form, texts: string[], path: string): (v: string) => boolean {
  switch (form) {
    case 'prefix':
      return (v) => {
        for (let i = 0; i < texts.length; i++) if (v.startsWith(texts[i]!)) return true;
        return false;
      };
    case 'suffix':
      return (v) => {
        for (let i = 0; i < texts.length; i++) if (v.endsWith(texts[i]!)) return true;
        return false;
      };
    case 'equals-ignore-case': {
      const lower = texts.map((t) => t.toLowerCase());
      return (v) => {
        for (let i = 0; i < lower.length; i++) if (equalsFold(v, lower[i]!)) return true;
        return false;
      };
    }
    case 'wildcard': {
      const globs = texts.map((t) => wildcardArgument('anything-but wildcard', t, path));
      return (v) => {
        for (let i = 0; i < globs.length; i++) if (wildcardMatches(globs[i]!, v)) return true;
        return false;
      };
    }
  }
}
