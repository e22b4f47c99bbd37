/**
 * Checking values: the characters any value may hold, the shapes of links and reason,
 * and typing the raw `name=value` strings of a catalog command against its `ParamSpec`s.
 * Every surface (Slack, CLI, console, API) goes through `validateParams`, so it screens
 * characters itself rather than trusting the grammar to have done so.
 *
 * Security contract (reliability-and-security.md §8.52): parameter values are data.
 * Countersign never interpolates a value into a shell, a URL or SQL; handlers receive
 * them as JSON fields of the execution input. Checking is an allowlist per declared type:
 * `semver`, `integer`, `boolean` and `enum` admit only their own shapes, and a `string`
 * with a `pattern` only what the pattern allows. A free `string` (no pattern) keeps shell
 * metacharacters such as `; rm -rf /` or `$(reboot)` verbatim — still never interpreted.
 */
import { type Command, isMutating, type ParamSpec } from './catalog.ts';
import { fail, ok, type Result } from './errors.ts';
import type { ParamValue } from './request-model.ts';

/** Longest reason, in characters (Unicode code points). */
export const MAX_REASON_LENGTH = 1000;
/** Longest link value, in characters (Unicode code points). */
export const MAX_LINK_LENGTH = 200;

/** The `name=value` pairs that become links rather than params, in canonical order. */
export const LINK_NAMES = ['ticket', 'incident', 'pr'] as const;
export type LinkName = (typeof LINK_NAMES)[number];

// ---------------------------------------------------------------------------------------
// Characters (shared with the grammar, which screens whole command texts)

export interface ForbiddenCharacter {
  /** 1-based position in the text, counted in characters (code points). */
  position: number;
  /** E.g. `control character U+0007 at position 12`. */
  description: string;
}

/**
 * The first character that may never appear: NUL, C0/C1 controls (tab and newline are
 * allowed when `allowLayout`), lone surrogates, and bidi overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069), which make text read differently than it parses.
 */
export function findForbiddenCharacter(
  text: string,
  allowLayout: boolean,
): ForbiddenCharacter | undefined {
  let position = 1;
  for (let i = 0; i < text.length; i++, position++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      i++;
      continue;
    }
    const kind = forbiddenKind(unit, allowLayout);
    if (kind !== undefined) {
      return { position, description: `${kind} ${codePointName(unit)} at position ${position}` };
    }
  }
  return undefined;
}

function forbiddenKind(unit: number, allowLayout: boolean): string | undefined {
  if (unit === 0) return 'NUL character';
  const control = unit < 0x20 || (unit >= 0x7f && unit <= 0x9f);
  if (control && !(allowLayout && (unit === 0x09 || unit === 0x0a))) return 'control character';
  if (unit >= 0xd800 && unit <= 0xdfff) return 'lone surrogate';
  if ((unit >= 0x202a && unit <= 0x202e) || (unit >= 0x2066 && unit <= 0x2069)) {
    return 'bidi control character';
  }
  return undefined;
}

const isLowSurrogate = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;
const codePointName = (unit: number): string =>
  `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;

/** Length in characters (code points), the unit the reason and link limits use. */
export const characterCount = (s: string): number => Array.from(s).length;

/** A token or value for an error message: at most 60 characters, then `…`. */
export function clip(s: string): string {
  const chars = Array.from(s);
  return chars.length > 60 ? `${chars.slice(0, 60).join('')}…` : s;
}
const quoted = (s: string): string => JSON.stringify(clip(s));

// ---------------------------------------------------------------------------------------
// Links and reason (not catalog params: the grammar and the API both check them here)

export const isLinkName = (name: string): name is LinkName =>
  (LINK_NAMES as readonly string[]).includes(name);

const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:[/?#]\S*)?$/;
const LINK_SHAPES: Record<LinkName, { pattern: RegExp; like: string }> = {
  ticket: { pattern: /^[A-Z][A-Z0-9_]*-?\d+$/, like: 'a ticket key like CHG-1 or OPS-42' },
  incident: { pattern: /^INC-[A-Za-z0-9]+$/, like: 'an incident id like INC-7' },
  pr: {
    pattern: /^(?:[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+)?#[1-9]\d*$/,
    like: 'a pull request like org/repo#12 or #12',
  },
};

/**
 * What is wrong with the value of a link (`ticket`, `incident`, `pr`) or `reason`, or
 * undefined when it is fine or the name is neither. Links: 1–200 characters, no
 * whitespace, a known shape or an https URL. Reason: not blank, at most 1000 characters.
 */
export function specialValueProblem(name: string, value: string): string | undefined {
  if (name === 'reason') {
    if (value.trim() === '') return 'reason must not be empty';
    const length = characterCount(value);
    return length > MAX_REASON_LENGTH
      ? `reason is ${length} characters; at most ${MAX_REASON_LENGTH}`
      : undefined;
  }
  return isLinkName(name) ? linkProblem(name, value) : undefined;
}

function linkProblem(name: LinkName, value: string): string | undefined {
  if (value === '') return `empty value for ${name}`;
  if (/\s/.test(value)) return `${name} must not contain whitespace, got ${quoted(value)}`;
  const length = characterCount(value);
  if (length > MAX_LINK_LENGTH)
    return `${name} is ${length} characters; at most ${MAX_LINK_LENGTH}`;
  const shape = LINK_SHAPES[name];
  if (shape.pattern.test(value) || HTTPS_URL.test(value)) return undefined;
  if (/^http:\/\//i.test(value)) return `${name}=${clip(value)} must be an https URL`;
  const hint = linkHint(name, value);
  const message = `${name}=${clip(value)} is not ${shape.like} or an https URL`;
  return hint === undefined ? message : `${message}; did you mean ${name}=${hint}?`;
}

function linkHint(name: LinkName, value: string): string | undefined {
  const upper = value.toUpperCase();
  if (upper !== value && LINK_SHAPES[name].pattern.test(upper)) return upper;
  if (name === 'incident' && /^\d+$/.test(value)) return `INC-${value}`;
  if (name === 'pr' && /^[1-9]\d*$/.test(value)) return `#${value}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Catalog params

/** Longest `string` value when the spec gives no `maxLength`, in UTF-16 code units. */
export const DEFAULT_MAX_LENGTH = 256;
/** Longest value of any other type, in UTF-16 code units; bounds regex work. */
const MAX_TYPED_LENGTH = 256;

/** Semantic Versioning 2.0.0, the regular expression published at semver.org. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const INTEGER = /^-?\d+$/;
const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  yes: true,
  no: false,
};

/**
 * Types `raw` by the command's specs. Refuses (INVALID_PARAMETER) an unknown name, a
 * missing or empty required value, and any value that does not fit its type. The result
 * holds exactly the given parameters, in spec order; absent optional ones stay absent.
 */
export function validateParams(
  command: Command,
  raw: Record<string, string>,
): Result<Record<string, ParamValue>> {
  const unknown = Object.keys(raw).find((name) => !command.params.some((p) => p.name === name));
  if (unknown !== undefined) return unknownParameter(command, unknown);
  const typed: [string, ParamValue][] = [];
  for (const spec of command.params) {
    const value = Object.hasOwn(raw, spec.name) ? raw[spec.name] : undefined;
    if (value === undefined || (value === '' && spec.required)) {
      if (spec.required) return missingParameter(command, spec, value);
      continue;
    }
    const checked = checkValue(command, spec, value);
    if (!checked.ok) return checked;
    typed.push([spec.name, checked.value]);
  }
  return ok(Object.fromEntries(typed));
}

function checkValue(command: Command, spec: ParamSpec, value: unknown): Result<ParamValue> {
  if (typeof value !== 'string') return refuse(command, spec, 'must be given as text');
  const bad = findForbiddenCharacter(value, false);
  if (bad !== undefined) return refuse(command, spec, `contains a ${bad.description}`);
  switch (spec.type) {
    case 'string':
      return checkString(command, spec, value);
    case 'integer':
      return checkInteger(command, spec, value);
    case 'boolean':
      return checkBoolean(command, spec, value);
    case 'semver':
      return checkSemver(command, spec, value);
    case 'enum':
      return checkEnum(command, spec, value);
  }
}

function checkString(command: Command, spec: ParamSpec, value: string): Result<ParamValue> {
  const max = spec.maxLength ?? DEFAULT_MAX_LENGTH;
  if (value.length > max)
    return refuse(command, spec, `is ${value.length} characters; at most ${max}`);
  if (spec.pattern === undefined) return ok(value);
  const pattern = compileParamPattern(spec.pattern);
  if (pattern === undefined) {
    return refuse(command, spec, 'has a pattern in the catalog that does not compile; refusing');
  }
  return pattern.test(value)
    ? ok(value)
    : refuse(command, spec, `must match ${spec.pattern}, got ${shown(spec, value)}`);
}

/**
 * A spec's `pattern` as a regular expression matching whole values (anchored, `u` flag),
 * or undefined when it does not compile. The catalog loader uses this too, so a pattern
 * is refused at load rather than at request time.
 */
export function compileParamPattern(pattern: string): RegExp | undefined {
  try {
    // Compiled alone first, so `a)|(.*` cannot escape the anchors once wrapped.
    new RegExp(pattern, 'u');
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    return undefined;
  }
}

function checkInteger(command: Command, spec: ParamSpec, value: string): Result<ParamValue> {
  if (value.length > MAX_TYPED_LENGTH || !INTEGER.test(value)) {
    return refuse(
      command,
      spec,
      `must be a whole number (digits, optional leading -), got ${shown(spec, value)}`,
    );
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    return refuse(command, spec, `is too large to hold exactly, got ${shown(spec, value)}`);
  }
  if (spec.min !== undefined && n < spec.min) {
    return refuse(command, spec, `must be at least ${spec.min}, got ${shown(spec, value)}`);
  }
  if (spec.max !== undefined && n > spec.max) {
    return refuse(command, spec, `must be at most ${spec.max}, got ${shown(spec, value)}`);
  }
  return ok(n === 0 ? 0 : n);
}

function checkBoolean(command: Command, spec: ParamSpec, value: string): Result<ParamValue> {
  const key = value.toLowerCase();
  const b = Object.hasOwn(BOOLEANS, key) ? BOOLEANS[key] : undefined;
  return b === undefined
    ? refuse(command, spec, `must be true, false, yes or no, got ${shown(spec, value)}`)
    : ok(b);
}

function checkSemver(command: Command, spec: ParamSpec, value: string): Result<ParamValue> {
  const fits = value.length <= MAX_TYPED_LENGTH;
  if (fits && SEMVER.test(value)) return ok(value);
  if (fits && /^[vV]/.test(value) && SEMVER.test(value.slice(1))) {
    return refuse(command, spec, `must not start with v: use ${value.slice(1)} not ${value}`);
  }
  return refuse(
    command,
    spec,
    `must be a semantic version like 1.4.2 or 2.0.0-rc.1, got ${shown(spec, value)}`,
  );
}

function checkEnum(command: Command, spec: ParamSpec, value: string): Result<ParamValue> {
  const values = spec.values ?? [];
  if (values.length === 0) return refuse(command, spec, 'has no values in the catalog; refusing');
  return values.includes(value)
    ? ok(value)
    : refuse(command, spec, `must be one of ${values.join(', ')}, got ${shown(spec, value)}`);
}

// ---------------------------------------------------------------------------------------
// Refusals

function refuse<T>(command: Command, spec: ParamSpec, problem: string): Result<T> {
  return fail('INVALID_PARAMETER', `${spec.name} ${problem}`, {
    command: command.id,
    parameter: spec.name,
    usage: usageFor(command),
  });
}

function unknownParameter<T>(command: Command, name: string): Result<T> {
  const accepted = command.params.map((p) => p.name);
  const near = accepted.find((a) => editDistance(a, name) <= 2);
  const list = accepted.length > 0 ? accepted.join(', ') : 'none';
  const hint = near === undefined ? '' : `; did you mean ${near}?`;
  return fail(
    'INVALID_PARAMETER',
    `unknown parameter ${name} for ${command.id}; accepted: ${list}${hint}`,
    {
      command: command.id,
      parameter: name,
      accepted,
      usage: usageFor(command),
    },
  );
}

function missingParameter<T>(
  command: Command,
  spec: ParamSpec,
  given: string | undefined,
): Result<T> {
  const what = given === undefined ? 'missing required parameter' : 'empty required parameter';
  return fail(
    'INVALID_PARAMETER',
    `${what} ${spec.name} for ${command.id} (${spec.name}=${placeholder(spec)})`,
    {
      command: command.id,
      parameter: spec.name,
      usage: usageFor(command),
    },
  );
}

/** A value for a message: JSON-quoted and cut to 60 characters; never a sensitive one. */
function shown(spec: ParamSpec, value: string): string {
  return spec.sensitive ? '(a redacted value)' : JSON.stringify(clip(value));
}

/** Levenshtein distance, for "did you mean"; inputs are short parameter names. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost);
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

// ---------------------------------------------------------------------------------------
// Usage and help

/**
 * The usage line of one command, e.g.
 * `/ops deploy <service> <environment> version=<semver> ticket=…|incident=…|pr=… [reason="…"]`.
 * Optional parameters are bracketed; links are required for mutating commands.
 */
export function usageFor(command: Command): string {
  const parts = ['/ops', command.id, '<service>', '<environment>'];
  for (const spec of command.params) {
    const part = `${spec.name}=${placeholder(spec)}`;
    parts.push(spec.required ? part : `[${part}]`);
  }
  const links = 'ticket=…|incident=…|pr=…';
  parts.push(isMutating(command) ? links : `[${links}]`, '[reason="…"]');
  return parts.join(' ');
}

/** One line for `/ops help`: id, class, description and usage. */
export function helpLine(command: Command): string {
  return `${command.id} (${command.class}) — ${command.description} · ${usageFor(command)}`;
}

function placeholder(spec: ParamSpec): string {
  switch (spec.type) {
    case 'string':
      return '<text>';
    case 'integer':
      return integerPlaceholder(spec);
    case 'boolean':
      return '<true|false>';
    case 'semver':
      return '<semver>';
    case 'enum':
      return `<${(spec.values ?? []).join('|')}>`;
  }
}

function integerPlaceholder(spec: ParamSpec): string {
  if (spec.min !== undefined && spec.max !== undefined) return `<${spec.min}..${spec.max}>`;
  return '<integer>';
}
