/**
 * Output hygiene: secrets out, size bounded. Pure string functions, applied to every
 * execution output and error before it reaches chat, the audit trail or the logs.
 *
 * The contract, in order: `redact` first, then `boundOutput` (or `redactAndBound`, which
 * does both), so a secret cut in half at the size limit is never shown.
 */
import type { ParamSpec } from './catalog.ts';
import type { ParamValue } from './request-model.ts';

/** What every redacted span is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Declared sensitive values shorter than this many UTF-16 code units are not redacted by
 * exact match: replacing every "on" or "42" would shred ordinary output. Such values are
 * still hidden wherever a pattern below matches them (e.g. `password=42`).
 */
export const MIN_SENSITIVE_LENGTH = 4;

/** A key in `key=value` / `key: value` form whose value is a secret. Ends the key. */
const SECRET_KEY =
  '[A-Za-z0-9_.-]*(?:password|passwd|secret|secret[_-]?access[_-]?key|secret[_-]?string|' +
  'secret[_-]?binary|session[_-]?token|token|api[_-]?key|private[_-]?key)';

/**
 * A value: quoted, or a run up to whitespace or a delimiter. Never an earlier redaction
 * (so `redact` is idempotent) and never an object or array (`"password": {…}`).
 */
const SECRET_VALUE = `(?!\\[REDACTED\\])(?![{[])(?:"(?:[^"\\\\\\n]|\\\\.)*"|'[^'\\n]*'|[^\\s"',;&}\\]]+)`;

interface Rule {
  /** What the rule finds, for the tests and for readers. */
  name: string;
  pattern: RegExp;
  /** Builds the replacement from the match; default: the whole match becomes `[REDACTED]`. */
  replace?: (match: string, ...groups: string[]) => string;
}

/** Keeps a captured prefix (a key, a scheme) and quotes around a quoted value. */
function keepPrefix(_match: string, prefix: string, value: string): string {
  const quote = value.startsWith('"') || value.startsWith("'") ? value[0] : '';
  return `${prefix}${quote}${REDACTED}${quote}`;
}

/**
 * The patterns, most specific first. Each is global and runs in linear time: a pattern
 * that may fail after a long run of token characters starts only at the start of such a
 * run (a lookbehind, not `\b`, which would rescan the run from every `-` or `.`).
 */
const RULES: readonly Rule[] = [
  {
    // A PEM or PGP private key, the whole block. An unterminated block (cut output)
    // is redacted to the end of the text.
    name: 'private-key-block',
    pattern:
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  {
    // `Authorization: Bearer …`, `"authorization": "Basic …"`, `Authorization=token …`.
    name: 'authorization-header',
    pattern:
      /(\bauthorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest)\s+)?)((?!\[REDACTED\])(?!(?:bearer|basic|token|digest)\s)[^\s"',;]+)/gi,
    replace: (_m, prefix = '') => `${prefix}${REDACTED}`,
  },
  {
    name: 'slack-webhook-url',
    pattern:
      /https:\/\/hooks\.slack(?:-gov)?\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g,
  },
  { name: 'slack-token', pattern: /\b(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{8,}/g },
  { name: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  {
    name: 'github-token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g,
  },
  { name: 'countersign-api-token', pattern: /\bcs_[A-Za-z0-9_-]{8,}/g },
  {
    name: 'jwt',
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
  },
  {
    name: 'bearer-token',
    pattern: /(\bbearer\s+)([A-Za-z0-9._~+/-]{16,}=*)/gi,
    replace: keepPrefix,
  },
  {
    // `password=…`, `DB_PASSWORD: …`, `"api_key": "…"`, `aws_secret_access_key = …`.
    name: 'secret-key-value',
    pattern: new RegExp(
      `((?<![A-Za-z0-9_.-])${SECRET_KEY}["']?\\s*[:=]\\s*)(${SECRET_VALUE})`,
      'gi',
    ),
    replace: keepPrefix,
  },
];

/** The names of the pattern rules, in the order they run. */
export const REDACTION_RULES: readonly string[] = RULES.map((r) => r.name);

/**
 * Replaces secrets in `text` with `[REDACTED]`: every exact occurrence of each declared
 * sensitive value (at least `MIN_SENSITIVE_LENGTH` long; also its JSON-escaped and
 * URL-encoded forms), then every pattern in `REDACTION_RULES`. Keys, schemes and quotes
 * around a redacted value are kept, so `password="x"` becomes `password="[REDACTED]"`
 * and JSON output stays JSON.
 */
export function redact(text: string, sensitiveValues: readonly string[]): string {
  let out = redactExactValues(text, sensitiveValues);
  for (const rule of RULES) {
    const replace = rule.replace;
    out = replace
      ? out.replace(rule.pattern, (m, ...groups) => replace(m, ...(groups as string[])))
      : out.replace(rule.pattern, REDACTED);
  }
  return out;
}

function redactExactValues(text: string, sensitiveValues: readonly string[]): string {
  const forms = new Set<string>();
  for (const value of sensitiveValues) {
    if (value.length < MIN_SENSITIVE_LENGTH) continue;
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
    forms.add(safeEncode(value));
  }
  // Longest first, so a value containing another is replaced whole.
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (form.length >= MIN_SENSITIVE_LENGTH) out = out.split(form).join(REDACTED);
  }
  return out;
}

function safeEncode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value; // A lone surrogate cannot be URL-encoded; the raw form is covered.
  }
}

/** The values of the parameters the command declares sensitive, as strings. */
export function sensitiveValuesOf(
  specs: readonly ParamSpec[],
  params: Readonly<Record<string, ParamValue>>,
): string[] {
  const values: string[] = [];
  for (const spec of specs) {
    const value = params[spec.name];
    if (spec.sensitive && value !== undefined) values.push(String(value));
  }
  return values;
}

export interface BoundedOutput {
  /** At most `maxBytes` UTF-8 bytes, the marker included (unless `maxBytes` is tinier than it). */
  text: string;
  truncated: boolean;
  /** The UTF-8 length of the input, in bytes. */
  originalBytes: number;
}

export interface BoundOptions {
  /**
   * Move the cut back (by at most 1024 characters) to just after whitespace or a
   * delimiter (`"',;{}[]()<>`), so no token-like run is split. Use it when cutting text
   * that has not been redacted yet. Default false.
   */
  tokenSafe?: boolean;
}

/**
 * Cuts `text` to at most `maxBytes` bytes of UTF-8 on a character boundary (a surrogate
 * pair is never split) and appends `\n… [truncated: N bytes more]`, N being the bytes
 * dropped. Text that fits is returned unchanged.
 */
export function boundOutput(
  text: string,
  maxBytes: number,
  options: BoundOptions = {},
): BoundedOutput {
  const originalBytes = utf8Length(text);
  if (originalBytes <= maxBytes) return { text, truncated: false, originalBytes };
  const budget = Math.max(0, maxBytes - utf8Length(marker(originalBytes)));
  let cut = prefixEndWithin(text, budget);
  if (options.tokenSafe) cut = backToDelimiter(text, cut);
  const keptBytes = utf8Length(text.slice(0, cut));
  return {
    text: text.slice(0, cut) + marker(originalBytes - keptBytes),
    truncated: true,
    originalBytes,
  };
}

/** Redacts, then bounds: the order the output contract requires. */
export function redactAndBound(
  text: string,
  sensitiveValues: readonly string[],
  maxBytes: number,
): BoundedOutput {
  return boundOutput(redact(text, sensitiveValues), maxBytes);
}

function marker(droppedBytes: number): string {
  return `\n… [truncated: ${droppedBytes} bytes more]`;
}

/** UTF-8 bytes of one UTF-16 code unit at `i` (4 for a pair, counted at its high half). */
function unitBytes(text: string, i: number): { bytes: number; units: number } {
  const c = text.charCodeAt(i);
  if (c < 0x80) return { bytes: 1, units: 1 };
  if (c < 0x800) return { bytes: 2, units: 1 };
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return { bytes: 4, units: 2 };
  }
  // Other BMP characters, and lone surrogates (written as U+FFFD, 3 bytes).
  return { bytes: 3, units: 1 };
}

/** The length of `text` in UTF-8, in bytes. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const u = unitBytes(text, i);
    bytes += u.bytes;
    i += u.units;
  }
  return bytes;
}

/** The largest UTF-16 index whose prefix fits in `budget` bytes, on a character boundary. */
function prefixEndWithin(text: string, budget: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const u = unitBytes(text, i);
    if (bytes + u.bytes > budget) break;
    bytes += u.bytes;
    i += u.units;
  }
  return i;
}

const DELIMITER = /[\s"',;{}[\]()<>]/;

function backToDelimiter(text: string, cut: number): number {
  for (let i = cut; i > 0 && i > cut - 1024; i--) {
    if (DELIMITER.test(text[i - 1] ?? '')) return i;
  }
  return cut;
}
