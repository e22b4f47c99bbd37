/**
 * The small parts the Slack views are built from: Block Kit limits, text objects, phrases
 * for times and durations, and a request's state line. Arguments named `safe` must already
 * have gone through `safe-text.ts`; functions taking raw text escape it themselves. Pure;
 * no I/O, no clock (callers pass `now`).
 */
import type { ContextBlock, HeaderBlock, MrkdwnElement, PlainTextElement } from '@slack/types';
import { countedSignOffs } from '../../domain/request-lifecycle.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import { escapePlain, fit, plainWithin } from './safe-text.ts';

/** Block Kit limits the views keep to (Slack's reference), lengths in UTF-16 code units. */
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  contextText: 2000,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  contextElements: 10,
  blockId: 255,
  fallbackText: 40_000,
} as const;

const nonEmpty = (s: string): string => (s.trim() === '' ? '—' : s);

/** A plain_text object; Slack rejects empty text, so blank becomes "—". */
export const plainText = (safe: string): PlainTextElement => ({
  type: 'plain_text',
  text: nonEmpty(safe),
  emoji: true,
});

/** `verbatim`: Slack adds no links or mentions of its own; only our explicit `<…>` work. */
export const mrkdwnText = (safe: string): MrkdwnElement => ({
  type: 'mrkdwn',
  text: nonEmpty(safe),
  verbatim: true,
});

export const contextBlock = (...elements: (PlainTextElement | MrkdwnElement)[]): ContextBlock => ({
  type: 'context',
  elements: elements.slice(0, LIMITS.contextElements),
});

/** A header from raw text: escaped and cut to 150. */
export const headerBlock = (raw: string): HeaderBlock => ({
  type: 'header',
  text: plainText(plainWithin(raw, LIMITS.headerText)),
});

/** Whether any text of one rendering was cut, to point people at the full record. */
export interface Cuts {
  any: boolean;
}

/** `safe` within `max` code units, noting a cut in `cuts`. */
export function fitted(cuts: Cuts, safe: string, max: number): string {
  const f = fit(safe, max);
  if (f.cut) cuts.any = true;
  return f.text;
}

/** Safe items joined with ", " within `max`, ending "and N more" when some do not fit. */
export function listWithin(items: string[], max: number): string {
  let out = '';
  let shown = 0;
  for (const item of items) {
    const next = shown === 0 ? item : `${out}, ${item}`;
    if (next.length > max - 20) break;
    out = next;
    shown++;
  }
  if (shown === items.length) return out;
  return `${out}${shown > 0 ? ', ' : ''}and ${items.length - shown} more`;
}

/** The console page of one request. `consoleUrl` comes from settings; the id is encoded. */
export function recordUrl(consoleUrl: string, requestId: string): string {
  return `${consoleUrl.replace(/\/+$/, '')}/requests/${encodeURIComponent(requestId)}`;
}

// ---------------------------------------------------------------------------------------
// Times (always UTC, so every reader sees the same words)

const validTime = (ms: number): boolean =>
  Number.isFinite(ms) && !Number.isNaN(new Date(ms).getTime());

/** "14:32 UTC" on the day of `now`, else "2026-05-01 14:32 UTC"; ms since epoch. */
export function clock(ms: number, now: number): string {
  if (!validTime(ms)) return 'at an unknown time';
  const iso = new Date(ms).toISOString();
  const sameDay = validTime(now) && new Date(now).toISOString().slice(0, 10) === iso.slice(0, 10);
  return `${sameDay ? '' : `${iso.slice(0, 10)} `}${iso.slice(11, 16)} UTC`;
}

/** A wait in words, rounded up to whole minutes: "42 min", "3 h 5 min", "2 d". */
export function waitWords(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours >= 48) return `${Math.floor(hours / 24)} d`;
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/** How long something took: "350 ms", "1.2 s", "2 min 5 s", "1 h 3 min". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'an unknown time';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** "expires 14:32 UTC, in 42 min", or "expired 14:32 UTC" once `now` has passed it. */
export function expiryText(expiresAt: number, now: number): string {
  if (!validTime(expiresAt)) return 'expiry unknown';
  if (now >= expiresAt) return `expired ${clock(expiresAt, now)}`;
  return `expires ${clock(expiresAt, now)}, in ${waitWords(expiresAt - now)}`;
}

// ---------------------------------------------------------------------------------------
// Request phrases (plain-text safe: every untrusted fragment escaped on its own)

/** A person's plain display name. */
export type Names = (personId: string) => string;
const who = (names: Names, id: string | undefined): string =>
  plainWithin(id === undefined ? 'someone' : names(id), 100);

/** People whose sign-offs of the current digest count, in the order they gave them. */
function signers(r: ActionRequest): string[] {
  const kinds = new Set(r.requirements.map((q) => q.kind));
  const ids = [...kinds].flatMap((k) => countedSignOffs(r, k)).sort((a, b) => a.at - b.at);
  return [...new Set(ids.map((s) => s.by))];
}

function approvedBy(r: ActionRequest, names: Names, now: number): string {
  const ids = signers(r);
  if (r.breakGlass) return 'break-glass, no approval';
  if (ids.length === 0) return 'approved (no sign-off needed)';
  const last = Math.max(...r.signOffs.filter((s) => s.digest === r.digest).map((s) => s.at));
  return `approved by ${listWithin(
    ids.map((id) => who(names, id)),
    600,
  )} · ${clock(last, now)}`;
}

export function settledNote(r: ActionRequest, names: Names): string {
  const ex = r.execution;
  if (!ex?.settledBy) return '';
  return ` · settled by ${who(names, ex.settledBy)}: ${plainWithin(ex.settleNote ?? '', 500)}`;
}

/** One line with the state and who/when, plain-text safe, at most about 2000 code units. */
export function stateLine(r: ActionRequest, names: Names, now: number): string {
  const ex = r.execution;
  switch (r.state) {
    case 'pending': {
      const given = signers(r).map((id) => who(names, id));
      const soFar = given.length > 0 ? ` · signed off so far by ${listWithin(given, 600)}` : '';
      return `⏳ pending · ${expiryText(r.expiresAt, now)}${soFar}`;
    }
    case 'approved':
      return `✅ ${approvedBy(r, names, now)} · waiting to run`;
    case 'running': {
      const attempt = ex && ex.attempt > 1 ? ` · attempt ${ex.attempt}` : '';
      const since = clock(ex?.startedAt ?? r.updatedAt, now);
      return `▶️ ${approvedBy(r, names, now)} · running since ${since}${attempt}`;
    }
    case 'succeeded':
      return `✅ succeeded${ex?.finishedAt !== undefined ? ` in ${duration(ex.finishedAt - ex.startedAt)}` : ''}${settledNote(r, names)}`;
    case 'failed':
      return `❌ failed: ${plainWithin(ex?.error ?? 'no error message', 500)}${settledNote(r, names)}`;
    case 'unknown':
      return '❓ outcome unknown — an administrator must settle it';
    case 'denied':
      return `🚫 denied by ${who(names, r.decidedBy)}: ${plainWithin(r.decisionReason ?? '', 1000)}`;
    case 'expired':
      return `⌛ expired ${clock(r.expiresAt, now)}`;
    case 'cancelled': {
      const why = r.decisionReason?.trim() ? `: ${plainWithin(r.decisionReason, 1000)}` : '';
      return `cancelled by ${who(names, r.decidedBy)}${why}`;
    }
    default:
      return escapePlain(String(r.state));
  }
}

export function breakGlassLine(r: ActionRequest, names: Names): string | undefined {
  if (!r.breakGlass) return undefined;
  const reason = plainWithin(r.breakGlass.reason, 1000);
  return `⚠ BREAK-GLASS by ${who(names, r.requester)}: ${reason} — review required`;
}
