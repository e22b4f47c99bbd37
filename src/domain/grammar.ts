/**
 * The `/ops` command grammar: one parser for Slack, the CLI and the console's command box.
 *
 *   <command> <service> <environment> [name=value …] [ticket=…|incident=…|pr=…]
 *       [reason="…"] [--break-glass]
 *   help [command]
 *   incident|runbook <subcommand> [argument …] [name=value …]
 *   approve|cancel <request-id> [reason="…"]    deny <request-id> reason="…"
 *   status-of <request-id>
 *
 * A leading `/ops` is dropped. Tokens are separated by whitespace. A value may be quoted
 * where it starts (a whole token, or right after `name=`) with "…", '…' or the smart
 * quotes Slack's desktop client types (“…”, ‘…’). A quote closes only at a quote character
 * of the same family followed by whitespace or the end, so ‘Bob’s db’ reads as meant.
 * Inside double quotes `\"` (or `\“`, `\”`) and `\\` are escapes; any other backslash is
 * literal. Anywhere else quote characters are literal (`don’t`). Slack turns `--` into a
 * dash, so `—break-glass` and `–break-glass` read as `--break-glass`.
 *
 * The parser is pure and total: every input gives a value or a PARSE_ERROR (or
 * PAYLOAD_TOO_LARGE) whose message names the failing token and whose `details.usage`
 * holds the usage line. It types nothing: params are raw strings for `validateParams`,
 * and a caller that knows the command may replace `details.usage` with `usageFor`.
 */
import { fail, ok, type Result } from './errors.ts';
import {
  characterCount,
  clip,
  findForbiddenCharacter,
  isLinkName,
  LINK_NAMES,
  specialValueProblem,
} from './params.ts';
import type { Links } from './request-model.ts';

const shown = (s: string): string => JSON.stringify(clip(s));

export type BuiltinVerb = 'incident' | 'runbook' | 'approve' | 'deny' | 'cancel' | 'status-of';

export type ParsedCommand =
  | { kind: 'help'; command?: string }
  | {
      kind: 'action';
      command: string;
      service: string;
      environment: string;
      /** Raw strings, typed later by `validateParams`. Never holds links or reason. */
      params: Record<string, string>;
      links: Links;
      reason?: string;
      breakGlass: boolean;
    }
  | { kind: 'builtin'; verb: BuiltinVerb; args: string[]; params: Record<string, string> };

export type ParsedAction = Extract<ParsedCommand, { kind: 'action' }>;

/** Longest accepted command text, in UTF-16 code units (what `string.length` counts). */
export const MAX_COMMAND_LENGTH = 4000;
/** Most `name=value` pairs in one command, links and reason included. */
export const MAX_PARAMETERS = 50;

/** Parameter names: a lower-case letter, then letters, digits, `_` or `-`; 63 at most. */
export const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
/** Commands, services, environments and built-in subcommands: lower-case slugs. */
export const SLUG_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export const BUILTIN_VERBS: readonly BuiltinVerb[] = [
  'incident',
  'runbook',
  'approve',
  'deny',
  'cancel',
  'status-of',
];
/** Ids the grammar claims; a catalog command with one of them could never be called. */
export const RESERVED_COMMAND_IDS: readonly string[] = ['help', ...BUILTIN_VERBS];

export const ACTION_USAGE =
  '/ops <command> <service> <environment> [name=value …] [ticket=…|incident=…|pr=…] [reason="…"] [--break-glass]';

export const USAGE: Readonly<Record<'help' | BuiltinVerb, string>> = {
  help: '/ops help [command]',
  incident: '/ops incident <subcommand> [argument …] [name=value …]',
  runbook: '/ops runbook <subcommand> [argument …] [name=value …]',
  approve: '/ops approve <request-id> [reason="…"]',
  deny: '/ops deny <request-id> reason="…"',
  cancel: '/ops cancel <request-id> [reason="…"]',
  'status-of': '/ops status-of <request-id>',
};

/** The `name=value` pairs each request-id verb accepts; the rest take any names. */
const VERB_PARAMS: Partial<Record<BuiltinVerb, { accepted: string[]; required: string[] }>> = {
  approve: { accepted: ['reason'], required: [] },
  deny: { accepted: ['reason'], required: ['reason'] },
  cancel: { accepted: ['reason'], required: [] },
  'status-of': { accepted: [], required: [] },
};

const BREAK_GLASS = '--break-glass';
const KNOWN_FLAGS: readonly string[] = [BREAK_GLASS];

// ---------------------------------------------------------------------------------------
// Tokens

type WordToken = { kind: 'word'; text: string; value: string; quoted: boolean };
type PairToken = { kind: 'pair'; text: string; name: string; value: string; quoted: boolean };
type FlagToken = { kind: 'flag'; text: string; name: string };
type Token = WordToken | PairToken | FlagToken;

const DOUBLE_QUOTES = '"\u201c\u201d';
const SINGLE_QUOTES = "'\u2018\u2019";
const DASH_PREFIX = /^(?:--|\u2014|\u2013)/;
const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);
const isQuote = (ch: string | undefined): boolean =>
  ch !== undefined && ch !== '' && (DOUBLE_QUOTES.includes(ch) || SINGLE_QUOTES.includes(ch));

function tokenize(src: string): Result<Token[]> {
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    while (isSpace(src[i])) i++;
    if (i >= src.length) return ok(tokens);
    const read = readToken(src, i);
    if (!read.ok) return read;
    tokens.push(read.value.token);
    i = read.value.end;
  }
}

function readToken(src: string, start: number): Result<{ token: Token; end: number }> {
  if (isQuote(src[start])) {
    const q = readQuoted(src, start, start);
    if (!q.ok) return q;
    const text = src.slice(start, q.value.end);
    return ok({
      token: { kind: 'word', text, value: q.value.value, quoted: true },
      end: q.value.end,
    });
  }
  let end = start;
  while (end < src.length && !isSpace(src[end])) end++;
  const bare = src.slice(start, end);
  if (DASH_PREFIX.test(bare)) {
    return ok({ token: { kind: 'flag', text: bare, name: bare.replace(DASH_PREFIX, '--') }, end });
  }
  const eq = bare.indexOf('=');
  if (eq < 0) return ok({ token: { kind: 'word', text: bare, value: bare, quoted: false }, end });
  const name = bare.slice(0, eq);
  const valueStart = start + eq + 1;
  if (!isQuote(src[valueStart])) {
    const token: PairToken = {
      kind: 'pair',
      text: bare,
      name,
      value: bare.slice(eq + 1),
      quoted: false,
    };
    return ok({ token, end });
  }
  const q = readQuoted(src, valueStart, start);
  if (!q.ok) return q;
  const text = src.slice(start, q.value.end);
  return ok({
    token: { kind: 'pair', text, name, value: q.value.value, quoted: true },
    end: q.value.end,
  });
}

/** Reads the quoted value opening at `open`; `tokenStart` is only for the error message. */
function readQuoted(
  src: string,
  open: number,
  tokenStart: number,
): Result<{ value: string; end: number }> {
  const family = DOUBLE_QUOTES.includes(src[open] ?? '') ? DOUBLE_QUOTES : SINGLE_QUOTES;
  let value = '';
  for (let i = open + 1; i < src.length; i++) {
    const ch = src[i] ?? '';
    const next = src[i + 1];
    if (family === DOUBLE_QUOTES && ch === '\\' && next !== undefined) {
      if (next === '\\' || DOUBLE_QUOTES.includes(next)) {
        value += next;
        i++;
        continue;
      }
    }
    if (family.includes(ch) && (next === undefined || isSpace(next)))
      return ok({ value, end: i + 1 });
    value += ch;
  }
  const token = src.slice(tokenStart).trimEnd();
  return parseError(`unterminated quote in ${clip(token)}`, usageForText(src), {
    token: clip(token),
    position: characterCount(src.slice(0, open)) + 1,
  });
}

// ---------------------------------------------------------------------------------------
// Parsing

/** Parses one command text. See the module comment for the grammar. */
export function parseCommandText(text: string): Result<ParsedCommand> {
  if (text.length > MAX_COMMAND_LENGTH) {
    return fail(
      'PAYLOAD_TOO_LARGE',
      `command text is ${text.length} characters; at most ${MAX_COMMAND_LENGTH} are accepted`,
      { limit: MAX_COMMAND_LENGTH, length: text.length },
    );
  }
  const bad = findForbiddenCharacter(text, true);
  if (bad) return parseError(bad.description, usageForText(text), { position: bad.position });
  const tokens = tokenize(text);
  if (!tokens.ok) return tokens;
  const all = tokens.value;
  const first = all[0];
  const body =
    first?.kind === 'word' && !first.quoted && first.value === '/ops' ? all.slice(1) : all;
  return interpret(body);
}

function interpret(tokens: Token[]): Result<ParsedCommand> {
  const flags = tokens.filter((t): t is FlagToken => t.kind === 'flag');
  const rest = tokens.filter((t): t is WordToken | PairToken => t.kind !== 'flag');
  const head = rest[0];
  if (head === undefined) {
    if (flags[0] !== undefined)
      return parseError(`missing command before ${flags[0].text}`, ACTION_USAGE);
    return ok({ kind: 'help' });
  }
  if (head.kind !== 'word') {
    return parseError(`expected a command, got ${shown(head.text)}`, ACTION_USAGE, {
      token: head.text,
    });
  }
  if (head.value === 'help') return interpretHelp(rest.slice(1), flags);
  const verb = BUILTIN_VERBS.find((v) => v === head.value);
  if (verb !== undefined) return interpretBuiltin(verb, rest.slice(1), flags);
  return interpretAction(head, rest.slice(1), flags);
}

function interpretHelp(rest: (WordToken | PairToken)[], flags: FlagToken[]): Result<ParsedCommand> {
  const usage = USAGE.help;
  const checked = checkFlags(flags, [], 'help', usage);
  if (!checked.ok) return checked;
  const [topic, extra] = rest;
  if (topic === undefined) return ok({ kind: 'help' });
  if (topic.kind === 'pair') {
    return parseError(`help takes no parameters, got ${shown(topic.text)}`, usage, {
      token: topic.text,
    });
  }
  const slug = slugOf(topic, 'command', usage);
  if (!slug.ok) return slug;
  if (extra !== undefined) {
    return parseError(`unexpected ${shown(extra.text)} after help ${slug.value}`, usage, {
      token: extra.text,
    });
  }
  return ok({ kind: 'help', command: slug.value });
}

function interpretAction(
  head: WordToken,
  rest: (WordToken | PairToken)[],
  flags: FlagToken[],
): Result<ParsedCommand> {
  const usage = ACTION_USAGE;
  const command = slugOf(head, 'command', usage);
  if (!command.ok) return command;
  const service = positionalSlug(rest[0], 'service', usage);
  if (!service.ok) return service;
  const environment = positionalSlug(rest[1], 'environment', usage);
  if (!environment.ok) return environment;
  const pairs = expectPairs(rest.slice(2), usage);
  if (!pairs.ok) return pairs;
  const named = collectPairs(pairs.value, usage);
  if (!named.ok) return named;
  const checked = checkFlags(flags, [BREAK_GLASS], command.value, usage);
  if (!checked.ok) return checked;
  const params: Record<string, string> = {};
  const links: Links = {};
  let reason: string | undefined;
  for (const [name, value] of named.value) {
    if (name === 'reason') reason = value;
    else if (isLinkName(name)) links[name] = value;
    else params[name] = value;
  }
  const action: ParsedAction = {
    kind: 'action',
    command: command.value,
    service: service.value,
    environment: environment.value,
    params,
    links,
    breakGlass: checked.value.has(BREAK_GLASS),
  };
  return ok(reason === undefined ? action : { ...action, reason });
}

function interpretBuiltin(
  verb: BuiltinVerb,
  rest: (WordToken | PairToken)[],
  flags: FlagToken[],
): Result<ParsedCommand> {
  const usage = USAGE[verb];
  const checked = checkFlags(flags, [], verb, usage);
  if (!checked.ok) return checked;
  const split = rest.findIndex((t) => t.kind === 'pair');
  const argTokens = rest
    .slice(0, split < 0 ? rest.length : split)
    .filter((t): t is WordToken => t.kind === 'word');
  const pairs = expectPairs(split < 0 ? [] : rest.slice(split), usage);
  if (!pairs.ok) return pairs;
  const named = collectPairs(pairs.value, usage);
  if (!named.ok) return named;
  const args = argTokens.map((t) => t.value);
  const shape = checkBuiltinShape(verb, argTokens, named.value, usage);
  if (!shape.ok) return shape;
  return ok({ kind: 'builtin', verb, args, params: Object.fromEntries(named.value) });
}

/** incident/runbook need a subcommand; the request-id verbs one id and known names only. */
function checkBuiltinShape(
  verb: BuiltinVerb,
  args: WordToken[],
  named: Map<string, string>,
  usage: string,
): Result<true> {
  const [first, extra] = args;
  const allowed = VERB_PARAMS[verb];
  if (allowed === undefined) {
    if (first === undefined) return parseError(`missing ${verb} subcommand`, usage);
    const sub = slugOf(first, `${verb} subcommand`, usage);
    return sub.ok ? ok(true) : sub;
  }
  if (first === undefined) return parseError(`missing request id after ${verb}`, usage);
  if (!REQUEST_ID_PATTERN.test(first.value)) {
    return parseError(`invalid request id ${shown(first.value)}`, usage, { token: first.text });
  }
  if (extra !== undefined) {
    return parseError(`unexpected ${shown(extra.text)} after ${verb} ${first.value}`, usage, {
      token: extra.text,
    });
  }
  for (const name of named.keys()) {
    if (!allowed.accepted.includes(name)) {
      const accepted = allowed.accepted.length > 0 ? allowed.accepted.join(', ') : 'none';
      return parseError(`${verb} does not take ${name}=; accepted: ${accepted}`, usage, {
        token: name,
      });
    }
  }
  const missing = allowed.required.find((name) => !named.has(name));
  return missing === undefined ? ok(true) : parseError(`missing ${missing}="…" for ${verb}`, usage);
}

// ---------------------------------------------------------------------------------------
// Pieces

function slugOf(token: WordToken, what: string, usage: string): Result<string> {
  if (SLUG_PATTERN.test(token.value)) return ok(token.value);
  const lower = token.value.toLowerCase();
  const hint = SLUG_PATTERN.test(lower)
    ? `; did you mean ${lower}?`
    : '; use lower-case letters, digits and -, starting with a letter';
  return parseError(`invalid ${what} ${shown(token.text)}${hint}`, usage, { token: token.text });
}

function positionalSlug(
  token: WordToken | PairToken | undefined,
  what: string,
  usage: string,
): Result<string> {
  if (token === undefined) return parseError(`missing ${what}`, usage);
  if (token.kind === 'pair') {
    return parseError(`missing ${what} before ${clip(token.text)}`, usage, { token: token.text });
  }
  return slugOf(token, what, usage);
}

/** Everything after the positionals must be `name=value`; a bare word gets a hint. */
function expectPairs(tokens: (WordToken | PairToken)[], usage: string): Result<PairToken[]> {
  const pairs: PairToken[] = [];
  for (const token of tokens) {
    if (token.kind === 'word') {
      const hint = positionalHint(token, pairs[pairs.length - 1]);
      const message = `expected name=value, got ${shown(token.text)}`;
      return parseError(hint ? `${message}; ${hint}` : message, usage, { token: token.text, hint });
    }
    pairs.push(token);
  }
  return ok(pairs);
}

function positionalHint(token: WordToken, previous: PairToken | undefined): string | undefined {
  const v = clip(token.value);
  if (/^v?\d+\.\d+\.\d+/.test(v)) return `did you mean version=${v.replace(/^v/, '')}?`;
  if (/^INC-[A-Za-z0-9]+$/.test(v)) return `did you mean incident=${v}?`;
  if (/^[A-Z][A-Z0-9_]*-\d+$/.test(v)) return `did you mean ticket=${v}?`;
  if (/^(?:[\w.-]+\/[\w.-]+)?#\d+$/.test(v) || /^https:\/\/\S+\/pull\/\d+/.test(v)) {
    return `did you mean pr=${v}?`;
  }
  if (previous !== undefined && !token.quoted) {
    const joined = formatValue(clip(`${previous.value} ${v}`));
    return `if it belongs to ${previous.name}, quote the value: ${previous.name}=${joined}`;
  }
  if (token.quoted) return `did you mean reason=${formatValue(v)}?`;
  return 'parameters are written name=value';
}

/** Names, duplicates, count, empty values, and the shapes of links and reason. */
function collectPairs(pairs: PairToken[], usage: string): Result<Map<string, string>> {
  if (pairs.length > MAX_PARAMETERS) {
    return parseError(`too many parameters: ${pairs.length}, at most ${MAX_PARAMETERS}`, usage);
  }
  const named = new Map<string, string>();
  for (const pair of pairs) {
    const details = { token: pair.text };
    if (!NAME_PATTERN.test(pair.name)) return parseError(badNameMessage(pair), usage, details);
    if (named.has(pair.name)) return parseError(`duplicate parameter ${pair.name}`, usage, details);
    if (pair.value === '' && !pair.quoted) {
      return parseError(`missing value in ${pair.text}`, usage, details);
    }
    const problem = specialValueProblem(pair.name, pair.value);
    if (problem !== undefined) return parseError(problem, usage, details);
    named.set(pair.name, pair.value);
  }
  return ok(named);
}

function badNameMessage(pair: PairToken): string {
  if (pair.name === '') return `missing parameter name in ${shown(pair.text)}`;
  const lower = pair.name.toLowerCase();
  const hint = NAME_PATTERN.test(lower)
    ? `; did you mean ${lower}=…?`
    : '; names are lower-case letters, digits, _ and -, starting with a letter';
  return `invalid parameter name ${shown(pair.name)} in ${shown(pair.text)}${hint}`;
}

function checkFlags(
  flags: FlagToken[],
  allowed: readonly string[],
  context: string,
  usage: string,
): Result<Set<string>> {
  const seen = new Set<string>();
  for (const flag of flags) {
    const details = { token: flag.text, known: KNOWN_FLAGS };
    if (!KNOWN_FLAGS.includes(flag.name))
      return parseError(`unknown flag ${clip(flag.text)}`, usage, details);
    if (!allowed.includes(flag.name)) {
      return parseError(`${clip(flag.text)} does not apply to ${context}`, usage, details);
    }
    if (seen.has(flag.name)) return parseError(`duplicate flag ${flag.text}`, usage, details);
    seen.add(flag.name);
  }
  return ok(seen);
}

// ---------------------------------------------------------------------------------------
// Canonical text

/**
 * The canonical text of a parsed action, without `/ops`: params sorted by name, then
 * ticket, incident, pr, reason and `--break-glass`, values quoted only when they must be.
 * `parseCommandText(formatCanonicalCommand(x))` gives back `x`.
 */
export function formatCanonicalCommand(p: ParsedAction): string {
  const parts = [p.command, p.service, p.environment];
  for (const name of Object.keys(p.params).sort()) {
    parts.push(`${name}=${formatValue(p.params[name] ?? '')}`);
  }
  for (const name of LINK_NAMES) {
    const link = p.links[name];
    if (link !== undefined) parts.push(`${name}=${formatValue(link)}`);
  }
  if (p.reason !== undefined) parts.push(`reason=${formatValue(p.reason)}`);
  if (p.breakGlass) parts.push(BREAK_GLASS);
  return parts.join(' ');
}

/** A value as the tokenizer reads it back: bare when it can be, else double-quoted. */
export function formatValue(value: string): string {
  if (value !== '' && !/\s/.test(value) && !isQuote(value[0])) return value;
  return `"${value.replace(/[\\"\u201c\u201d]/g, (c) => `\\${c}`)}"`;
}

// ---------------------------------------------------------------------------------------
// Errors

function parseError<T>(
  message: string,
  usage: string,
  details: Record<string, unknown> = {},
): Result<T> {
  return fail('PARSE_ERROR', message, { ...details, usage });
}

/** The usage line for a text that did not tokenize, guessed from its first word. */
function usageForText(text: string): string {
  const words = text.trim().split(/\s+/);
  const verb = words[0] === '/ops' ? words[1] : words[0];
  const known = verb === 'help' || BUILTIN_VERBS.some((v) => v === verb);
  return known ? USAGE[verb as 'help' | BuiltinVerb] : ACTION_USAGE;
}
