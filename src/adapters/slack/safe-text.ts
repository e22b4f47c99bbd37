/**
 * Safe text for Slack. Everything people, handlers, alerts and the catalog wrote passes
 * through here before it reaches a Block Kit text object. Pure string functions: they
 * return new strings and never change what is stored (§8.48 "stored losslessly").
 *
 * Decisions (reliability-and-security.md §8.46–49):
 *
 * - Control sequences. `&`, `<`, `>` become `&amp;`, `&lt;`, `&gt;` in every text object we
 *   build, mrkdwn and plain_text alike (Slack decodes these three entities for display; in
 *   plain_text it is belt and braces, and the worst case is a visible `&lt;`), so
 *   `<!channel>`, `<@U…>`, `<#C…>`, `<!subteam^…>` and `<https://evil|Approve here>` show
 *   literally and ping nobody. A bare `@here`/`@channel`/`@everyone` gets a full-width `＠`
 *   in case a poster ever sets `link_names`. Links come only from `link()`.
 * - Markup. Untrusted values people must read or copy exactly (parameters, reasons,
 *   previews, errors, output, usage) go in plain_text objects or code blocks, where Slack
 *   formats nothing. The little untrusted text that must sit in mrkdwn (names, link labels,
 *   one-line summaries) goes through `escapeMrkdwn`, which replaces `*` `_` `~` `` ` `` with
 *   lookalikes (∗ ˍ ∼ ˋ): the characters that open markup are simply absent, which no parser
 *   quirk can undo, whereas an inserted zero-width character would hide in copied text.
 * - Invisible and direction characters (Unicode format characters `Cf`: bidi overrides and
 *   isolates such as U+202E, LRM/RLM, zero-width space/joiners, word joiner, BOM, soft
 *   hyphen, tag characters; and the Hangul fillers that draw blank names) are shown as
 *   visible escapes like `[U+202E]`, so nothing reverses or hides the rest of a message.
 *   A ZWJ inside an emoji sequence (👨‍👩‍👧) and the tags of a subdivision flag stay. A line
 *   holding right-to-left letters is wrapped in FSI…PDI (U+2068…U+2069) so it cannot
 *   reorder the text around it.
 * - Removed outright: NUL and the other C0/C1 controls except tab and newline (CR LF and a
 *   lone CR become LF), and lone surrogates. At most 4 combining marks stay on one base; the
 *   rest become a visible `[+N marks]`.
 * - Length is counted in UTF-16 code units (JavaScript `length`), measured on the escaped
 *   text, since that is what is sent (`&lt;` counts 4). Slack documents its limits "in
 *   characters" without a unit; its refusals come from a JSON-schema check ("must be less
 *   than 3001 characters [json-pointer:…]") and JSON Schema counts code points. A UTF-16 count
 *   is never smaller than the code-point count (a 4-byte emoji counts 2), so a text within
 *   our count is within Slack's under either reading. (One unconfirmed report, BuilderIO/
 *   agent-native#453, saw emoji-heavy text refused below 3000; the largest piece the views
 *   send, the 2,500-unit output snippet, keeps a margin.) Cuts fall on grapheme boundaries,
 *   so no surrogate pair, emoji sequence or base-plus-marks is split, nor an `&amp;` entity;
 *   `mrkdwnWithin`/`plainWithin` escape first and cut after, so pieces of a composed line
 *   have known lengths and a line is never cut through a link or code span.
 */

export const ELLIPSIS = '…';

/** Text cut to a limit, and whether anything was cut. */
export interface Fitted {
  text: string;
  cut: boolean;
}

const CONTROL_OR_LONE_SURROGATE =
  /\r\n?|[\u0000-\u0008\u000B-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** An emoji ZWJ sequence or a subdivision flag (kept, group 1), or one invisible character. */
const KEPT_SEQUENCE_OR_INVISIBLE =
  /(\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F)?(?:\u200D\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F)?)+|\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F})|[\p{Cf}\u115F\u1160\u3164\uFFA0]/gu;

const MAX_MARKS = 4;
const MARK_RUN = new RegExp(`(\\p{M}{${MAX_MARKS}})(\\p{M}+)`, 'gu');
const MASS_MENTION = /@(?=(?:here|channel|everyone)\b)/gi;
const RTL_LETTER =
  /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFC\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;
const FSI = '\u2068';
const PDI = '\u2069';

const MARKUP_LOOKALIKE: Record<string, string> = { '*': '∗', _: 'ˍ', '~': '∼', '`': 'ˋ' };

/** `[U+202E]` for one character. */
function visibleEscape(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return `[U+${cp.toString(16).toUpperCase().padStart(4, '0')}]`;
}

/** Removes NUL, other controls (tab and newline stay; CR LF → LF) and lone surrogates. */
export function stripControls(text: string): string {
  return text.replace(CONTROL_OR_LONE_SURROGATE, (m) => (m.startsWith('\r') ? '\n' : ''));
}

/**
 * Text that displays as it reads: controls and lone surrogates removed, invisible and bidi
 * characters shown as `[U+XXXX]`, long runs of combining marks capped, bare mass mentions
 * defused, and right-to-left lines isolated. Not yet entity-escaped.
 */
export function displayText(text: string): string {
  return stripControls(text)
    .replace(KEPT_SEQUENCE_OR_INVISIBLE, (m, kept: string | undefined) => kept ?? visibleEscape(m))
    .replace(MARK_RUN, (_m, first: string, rest: string) => {
      return `${first}[+${Array.from(rest).length} marks]`;
    })
    .replace(MASS_MENTION, '＠')
    .split('\n')
    .map((line) => (RTL_LETTER.test(line) ? `${FSI}${line}${PDI}` : line))
    .join('\n');
}

const entities = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** For a plain_text object: display-safe and entity-escaped; markup is inert there anyway. */
export function escapePlain(text: string): string {
  return entities(displayText(text));
}

/** For mrkdwn: display-safe, entity-escaped, and `*` `_` `~` `` ` `` replaced by lookalikes. */
export function escapeMrkdwn(text: string): string {
  return escapePlain(text).replace(/[*_~`]/g, (c) => MARKUP_LOOKALIKE[c] ?? c);
}

// ---------------------------------------------------------------------------------------
// Cutting

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The last grapheme boundary at or before `i` (UTF-16 index). Segmenting starts at the last
 * space or newline before `i`, which always begins a cluster (only a combining mark or
 * joiner could attach to what precedes it, and those follow); in text without one nearby it
 * starts 1024 code units back, where only a regional-indicator (flag) pair could misalign.
 */
function boundaryAtOrBefore(s: string, i: number): number {
  if (i >= s.length) return s.length;
  const space = Math.max(s.lastIndexOf(' ', i), s.lastIndexOf('\n', i));
  const from = Math.max(0, space, i - 1024);
  let last = from;
  for (const { index } of graphemes.segment(s.slice(from, i + 64))) {
    if (from + index > i) break;
    last = from + index;
  }
  return last;
}

/** Moves a cut at `end` back to the start of an `&amp;`/`&lt;`/`&gt;` it would split. */
function outsideEntity(s: string, end: number): number {
  const amp = s.lastIndexOf('&', end - 1);
  if (amp < 0 || end - amp > 4) return end;
  const entity = /^&(?:amp|lt|gt);/.exec(s.slice(amp, amp + 5));
  return entity && amp + entity[0].length > end ? amp : end;
}

const count = (s: string, ch: string): number => s.split(ch).length - 1;

function keptPart(s: string, room: number): string {
  const end = outsideEntity(s, boundaryAtOrBefore(s, Math.max(0, room)));
  return s.slice(0, end);
}

/**
 * `text` within `max` UTF-16 code units, marker included; cut on a grapheme boundary and
 * never inside an entity. NUL, controls and lone surrogates are removed first. A cut that
 * leaves an FSI isolate open closes it, so the marker and what follows read normally.
 */
export function fit(text: string, max: number, marker = ELLIPSIS): Fitted {
  const clean = stripControls(text);
  if (clean.length <= max) return { text: clean, cut: false };
  if (max < marker.length) return { text: '', cut: true };
  const room = max - marker.length;
  let kept = keptPart(clean, room);
  let open = Math.max(0, count(kept, FSI) - count(kept, PDI));
  if (kept.length + open > room) {
    kept = keptPart(clean, room - open);
    open = Math.max(0, count(kept, FSI) - count(kept, PDI));
  }
  return { text: `${kept}${PDI.repeat(open)}${marker}`, cut: true };
}

/**
 * `fit(escape(text), max)` without escaping more of `text` than could be shown: a raw
 * prefix of `2 × max + 16` code units is plenty (escaping only lengthens text, apart from
 * removed controls), and text longer than that is always reported as cut.
 */
function fitEscaped(escaper: (t: string) => string, text: string, max: number): Fitted {
  const room = max * 2 + 16;
  if (text.length <= room) return fit(escaper(text), max);
  const kept = fit(escaper(text.slice(0, room)), max - ELLIPSIS.length, '');
  return { text: `${kept.text}${ELLIPSIS}`, cut: true };
}

/** `escapeMrkdwn(text)` cut to at most `max` code units (measured after escaping). */
export const mrkdwnWithin = (text: string, max: number): string =>
  fitEscaped(escapeMrkdwn, text, max).text;

/** `escapePlain(text)` cut to at most `max` code units (measured after escaping). */
export const plainWithin = (text: string, max: number): string =>
  fitEscaped(escapePlain, text, max).text;

/** `mrkdwnWithin` that also says whether anything was cut. */
export const mrkdwnFit = (text: string, max: number): Fitted => fitEscaped(escapeMrkdwn, text, max);

/** `plainWithin` that also says whether anything was cut. */
export const plainFit = (text: string, max: number): Fitted => fitEscaped(escapePlain, text, max);

/** `fit(text, max, marker).text`: at most `max` UTF-16 code units, marker included. */
export function truncate(text: string, max: number, marker = ELLIPSIS): string {
  return fit(text, max, marker).text;
}

// ---------------------------------------------------------------------------------------
// Code and links

const FENCE = '```';
const FENCE_OVERHEAD = FENCE.length * 2 + 2;

/**
 * A fenced code block of at most `max` code units (`max` ≥ 16) for output snippets: the
 * text is display-safe and entity-escaped, every backtick becomes `ˋ` so nothing inside
 * can close the fence, and a cut ends in `…`. Markup is inert inside a code block.
 */
export function codeBlockFit(text: string, max: number): Fitted {
  const room = Math.max(ELLIPSIS.length, max - FENCE_OVERHEAD);
  // Escaping only lengthens text, so nothing past `room` raw code units could be shown.
  const rawCut = text.length > room;
  const body = escapePlain(rawCut ? text.slice(0, room) : text).replace(/`/g, 'ˋ');
  const fitted = rawCut
    ? { text: fit(body, room - ELLIPSIS.length, '').text + ELLIPSIS, cut: true }
    : fit(body, room);
  const shown = fitted.text.trim() === '' ? '(empty)' : fitted.text;
  return { text: `${FENCE}\n${shown}\n${FENCE}`, cut: fitted.cut || rawCut };
}

/** `codeBlockFit(text, max).text`. */
export function codeBlock(text: string, max: number): string {
  return codeBlockFit(text, max).text;
}

/**
 * One line of inline code (newlines become spaces) of at most `max` code units, backticks
 * included, for values people copy: markup is inert inside, and the text stays exact.
 */
export function inlineCode(text: string, max = 1000): string {
  const raw = text.length > max ? text.slice(0, max) : text;
  const body = escapePlain(raw).replace(/`/g, 'ˋ').replace(/\n/g, ' ');
  if (body.trim() === '') return '—';
  return `\`${raw === text ? fit(body, max - 2).text : truncate(body, max - 3)}\``;
}

/** A printable-ASCII http(s) URL with no `|`, `<`, `>` or whitespace, that parses. */
const LINKABLE = /^https?:\/\/[\x21-\x7E]+$/i;

export function isLinkableUrl(url: string): boolean {
  return LINKABLE.test(url) && !/[|<>]/.test(url) && URL.canParse(url);
}

/**
 * `<url|label>` when `url` is a linkable http(s) URL (see `isLinkableUrl`), else the
 * label as escaped text. The label is escaped either way. Pass the URL itself as the label
 * for URLs people supplied, so a link never shows one address and opens another.
 */
export function link(url: string, label: string): string {
  const shown = escapeMrkdwn(label.trim() === '' ? url : label);
  if (!isLinkableUrl(url)) return shown;
  return `<${url.replace(/&/g, '&amp;')}|${shown}>`;
}
