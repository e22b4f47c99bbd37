/**
 * Alerts as Slack shows them: one alert group's message and the channel digest, both
 * updated in place. Pure functions from stored views to Block Kit; no I/O, no clock (`now`
 * comes in). What matters comes first: state, severity, service and environment in the
 * header; then the alert, what crossed which threshold, since when, where, and links.
 *
 * Every piece of alert text (titles, reasons, descriptions, metric names and units, labels,
 * link labels, account, region) is escaped through `safe-text.ts`; reasons, descriptions and
 * labels sit in plain_text objects, where Slack formats nothing. Links come only from
 * `facts.links` entries whose URL is a clean `https` URL, and from our own `recordUrl`;
 * alert text never becomes a link.
 */
import type { KnownBlock, SectionBlock } from '@slack/types';
import type {
  AlertFacts,
  AlertGroupView,
  AlertLink,
  AlertMetric,
  AlertRecord,
  AlertState,
  DigestView,
} from '../../domain/alert-model.ts';
import {
  type Cuts,
  clock,
  contextBlock,
  headerBlock,
  LIMITS,
  listWithin,
  mrkdwnText,
  plainText,
  waitWords,
} from './block-text.ts';
import type { Message } from './request-blocks.ts';
import {
  escapeMrkdwn,
  type Fitted,
  inlineCode,
  isLinkableUrl,
  link,
  mrkdwnFit,
  mrkdwnWithin,
  plainFit,
  plainWithin,
  truncate,
} from './safe-text.ts';

export interface AlertViewOptions {
  /** Milliseconds since epoch; "since 14:02 UTC (12 min)" is measured to it. */
  now: number;
}

/** The `text` fallback (notifications, screen readers), in UTF-16 code units. */
const FALLBACK_MAX = 300;
/** Reason and description in the single-alert view, after escaping. */
const REASON_MAX = 500;
const DESCRIPTION_MAX = 300;
const TITLE_MAX = 200;
/** Room for list lines in one section, leaving space for "and N more" under 3000. */
const LIST_BUDGET = LIMITS.sectionText - 100;
/** Labels shown in the details line; the rest are counted. */
const MAX_LABELS = 10;

const NOT_PAGING = 'actions suppressed — not paging';

const STATE_WORD: Record<AlertState, string> = {
  firing: 'FIRING',
  resolved: 'RESOLVED',
  'insufficient-data': 'INSUFFICIENT DATA',
};

/** Raw (unescaped) state word; a state outside the union shows as stored, upper-cased. */
const stateWord = (s: AlertState): string =>
  Object.hasOwn(STATE_WORD, s) ? STATE_WORD[s] : truncate(String(s), 30).toUpperCase();

const plural = (n: number, one: string): string => `${formatNumber(n)} ${one}${n === 1 ? '' : 's'}`;

/** Notes a cut and returns the text. */
function noted(cuts: Cuts, f: Fitted): string {
  if (f.cut) cuts.any = true;
  return f.text;
}

// ---------------------------------------------------------------------------------------
// Numbers, units, thresholds (raw phrases: callers escape them)

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const DECIMAL = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const SMALL = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

/** "1,234", "99.5", "0.0206". */
function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return INTEGER.format(v);
  return (Math.abs(v) >= 1 ? DECIMAL : SMALL).format(v);
}

/** Short suffixes for common CloudWatch units; others show as named ("5 Kilobytes/s"). */
const UNITS = new Map([
  ['Percent', '%'],
  ['Seconds', ' s'],
  ['Milliseconds', ' ms'],
  ['Microseconds', ' µs'],
  ['Bytes', ' B'],
  ['Count', ''],
  ['None', ''],
]);

function unitSuffix(unit: string | undefined): string {
  if (unit === undefined || unit.trim() === '') return '';
  const perSecond = unit.endsWith('/Second');
  const base = perSecond ? unit.slice(0, -'/Second'.length) : unit;
  const short = UNITS.get(base) ?? ` ${truncate(base, 20)}`;
  return perSecond ? `${short}/s` : short;
}

const COMPARISON = new Map([
  ['GreaterThanThreshold', '>'],
  ['GreaterThanOrEqualToThreshold', '≥'],
  ['LessThanThreshold', '<'],
  ['LessThanOrEqualToThreshold', '≤'],
]);

/** Anomaly-detection operators compare with a band, not a single threshold. */
const BAND = new Map([
  ['LessThanLowerOrGreaterThanUpperThreshold', 'outside the expected band'],
  ['LessThanLowerThreshold', 'below the expected band'],
  ['GreaterThanUpperThreshold', 'above the expected band'],
]);

/** 60 → "60 s", 300 → "5 min", 3600 → "1 h"; seconds. */
function periodWords(s: number): string {
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600} h`;
  if (s >= 120 && s % 60 === 0) return `${s / 60} min`;
  return `${formatNumber(s)} s`;
}

/** "812 ms > 500 ms threshold", "0 outside the expected band 0.0206–0.301"; raw, or undefined. */
function crossing(m: AlertMetric): string | undefined {
  const unit = unitSuffix(m.unit);
  const amount = (v: number): string => `${formatNumber(v)}${unit}`;
  const value = m.value === undefined ? undefined : amount(m.value);
  const op = m.comparison?.trim() ? m.comparison : undefined;
  const band = op === undefined ? undefined : BAND.get(op);
  if (band !== undefined) {
    const range = m.band ? ` ${amount(m.band.lower)}–${amount(m.band.upper)}` : '';
    return `${value === undefined ? '' : `${value} `}${band}${range}`;
  }
  const symbol = op === undefined ? undefined : (COMPARISON.get(op) ?? truncate(op, 60));
  if (m.threshold === undefined) return value === undefined ? undefined : `value ${value}`;
  const threshold = amount(m.threshold);
  if (symbol === undefined) {
    return value === undefined ? `threshold ${threshold}` : `${value} (threshold ${threshold})`;
  }
  return `${value === undefined ? '' : `${value} `}${symbol} ${threshold} threshold`;
}

/** "Average over 60 s", raw, or undefined. */
function statWindow(m: AlertMetric): string | undefined {
  const stat = m.statistic?.trim() ? truncate(m.statistic, 40) : undefined;
  const period =
    m.period !== undefined && Number.isFinite(m.period) && m.period > 0
      ? `over ${periodWords(m.period)}`
      : undefined;
  const parts = [stat, period].filter((p) => p !== undefined);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/** "`Latency p99` 812 ms &gt; 500 ms threshold (Average over 60 s)", mrkdwn-safe. */
function metricLine(m: AlertMetric, withWindow: boolean): string {
  const what = crossing(m);
  const over = withWindow ? statWindow(m) : undefined;
  const phrase = [what, over === undefined ? undefined : what ? `(${over})` : over]
    .filter((p) => p !== undefined)
    .join(' ');
  const name = inlineCode(m.name.trim() === '' ? 'metric' : m.name, 120);
  return phrase === '' ? name : `${name} ${mrkdwnWithin(phrase, 400)}`;
}

// ---------------------------------------------------------------------------------------
// Times, places, links

const validTime = (ms: number): boolean => Number.isFinite(ms) && Math.abs(ms) <= 8.64e15;

/** "since 14:02 UTC (12 min)", "resolved 14:14 UTC (3 min ago)"; safe text. */
function stateSince(f: AlertFacts, now: number): string {
  if (!validTime(f.since)) return 'since an unknown time';
  const at = clock(f.since, now);
  const waited = f.since <= now ? waitWords(now - f.since) : undefined;
  if (f.state === 'resolved') return `resolved ${at}${waited ? ` (${waited} ago)` : ''}`;
  const lead = f.state === 'insufficient-data' ? 'no data since' : 'since';
  return `${lead} ${at}${waited ? ` (${waited})` : ''}`;
}

/** "account 123456789012 · us-east-1"; mrkdwn-safe pieces. */
function place(f: AlertFacts): string[] {
  const out: string[] = [];
  if (f.account?.trim()) out.push(`account ${mrkdwnWithin(f.account, 64)}`);
  if (f.region?.trim()) out.push(mrkdwnWithin(f.region, 64));
  return out;
}

/** A link we render: a clean `https` URL of reasonable length (see `isLinkableUrl`). */
const isTrustedLink = (url: string): boolean =>
  url.length <= 1000 && /^https:\/\//i.test(url) && isLinkableUrl(url);

function linkItem(l: AlertLink): string {
  const label = truncate(l.label.trim() === '' ? 'link' : l.label, 80);
  return isTrustedLink(l.url)
    ? link(l.url, label)
    : `${escapeMrkdwn(label)} (unsafe link not shown)`;
}

/** Console links and runbook names as one mrkdwn line, or undefined. */
function linksLine(links: AlertLink[], runbooks: string[]): string | undefined {
  const parts: string[] = [];
  if (links.length > 0) parts.push(listWithin(links.map(linkItem), 1200));
  const names = runbooks.map((r) => inlineCode(r, 80));
  if (names.length > 0) parts.push(`runbooks ${listWithin(names, 600)}`);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

const boldTitle = (cuts: Cuts, title: string, max: number): string =>
  `*${noted(cuts, mrkdwnFit(title.trim() === '' ? '(untitled alert)' : title.trim(), max))}*`;

/** "FIRING · critical · checkout-api / prod", raw (headerBlock escapes it). */
function headline(state: AlertState, v: AlertGroupView): string {
  const where = `${truncate(v.service, 50)} / ${truncate(v.environment, 40)}`;
  return [stateWord(state), truncate(v.severity, 30), where].filter((p) => p.trim()).join(' · ');
}

const section = (safeMrkdwn: string): SectionBlock => ({
  type: 'section',
  text: mrkdwnText(truncate(safeMrkdwn, LIMITS.sectionText)),
});

// ---------------------------------------------------------------------------------------
// Markers and footer

function flapWords(transitions: number[]): string {
  const first = transitions[0];
  const last = transitions[transitions.length - 1];
  if (transitions.length < 2 || first === undefined || last === undefined) return 'flapping';
  return `flapping: ${transitions.length} state changes in ${waitWords(last - first)}`;
}

/** What the single-alert context line says, raw, most important first. */
function alertMarkers(a: AlertRecord, now: number): string[] {
  const out: string[] = [];
  if (a.silencedBy !== undefined) out.push(`silenced by ${truncate(a.silencedBy, 60)}`);
  if (a.flapping) out.push(flapWords(a.transitions));
  out.push(a.count === 1 ? 'reported once' : `reported ${plural(a.count, 'time')}`);
  if (validTime(a.firstSeen) && a.firstSeen < a.facts.since) {
    out.push(`first seen ${clock(a.firstSeen, now)}`);
  }
  return out;
}

/** Counts over the listed alerts of a group, raw. */
function groupMarkers(v: AlertGroupView): string[] {
  const n = (p: (a: AlertRecord) => boolean): number => v.alerts.filter(p).length;
  const suppressed = n((a) => a.facts.actionsSuppressed);
  const silenced = n((a) => a.silencedBy !== undefined);
  const flapping = n((a) => a.flapping);
  const out: string[] = [];
  if (suppressed > 0) {
    const which = suppressed === v.alerts.length ? '' : ` on ${suppressed} of them`;
    out.push(`actions suppressed${which} — not paging`);
  }
  if (silenced > 0) out.push(`${silenced} silenced`);
  if (flapping > 0) out.push(`${flapping} flapping`);
  return out;
}

/** §8 44: say so when Alertmanager left alerts out of a notification (the largest count). */
function truncatedBlock(alerts: AlertRecord[]): KnownBlock[] {
  const most = (n: number, a: AlertRecord) => Math.max(n, a.facts.truncatedAlerts ?? 0);
  const left = Math.floor(alerts.reduce(most, 0));
  if (!(left > 0 && Number.isFinite(left))) return [];
  const text = `⚠ Alertmanager left out ${plural(left, 'alert')} from this notification: the group may be larger than shown here`;
  return [contextBlock(plainText(text))];
}

/** Namespace, dimensions and labels as "key=value · …", plain-text safe, or undefined. */
function details(cuts: Cuts, a: AlertRecord): string | undefined {
  const f = a.facts;
  const entries = new Map<string, string>();
  if (f.metric?.namespace?.trim()) entries.set('namespace', f.metric.namespace);
  for (const [k, v] of Object.entries(f.metric?.dimensions ?? {})) entries.set(k, v);
  for (const [k, v] of Object.entries(f.labels)) if (k !== 'alertname') entries.set(k, v);
  if (entries.size === 0) return undefined;
  const shown = [...entries]
    .slice(0, MAX_LABELS)
    .map(([k, v]) => `${truncate(k, 60)}=${truncate(v, 200)}`);
  const more = entries.size > MAX_LABELS ? [`${entries.size - MAX_LABELS} more`] : [];
  return noted(cuts, plainFit([...shown, ...more].join(' · '), LIMITS.contextText));
}

function footer(v: AlertGroupView, now: number, cuts: Cuts): KnownBlock {
  const parts = [`opened ${clock(v.openedAt, now)}`, `updated ${clock(v.updatedAt, now)}`];
  if (v.recordUrl !== undefined && isLinkableUrl(v.recordUrl)) {
    parts.push(link(v.recordUrl, cuts.any ? 'text cut: see the full record' : 'full record'));
  } else if (cuts.any) parts.push('text cut to fit Slack');
  return contextBlock(mrkdwnText(parts.join(' · ')));
}

// ---------------------------------------------------------------------------------------
// The alert group message

function singleAlertBlocks(v: AlertGroupView, a: AlertRecord, o: AlertViewOptions, cuts: Cuts) {
  const f = a.facts;
  const lines = [boldTitle(cuts, f.title, TITLE_MAX)];
  if (f.actionsSuppressed) lines.push(NOT_PAGING);
  if (f.metric) lines.push(metricLine(f.metric, true));
  lines.push([stateSince(f, o.now), ...place(f)].join(' · '));
  const links = linksLine(f.links, v.runbooks);
  if (links !== undefined) lines.push(links);
  const blocks: KnownBlock[] = [section(lines.join('\n'))];
  const said: string[] = [];
  if (f.reason?.trim()) said.push(noted(cuts, plainFit(f.reason.trim(), REASON_MAX)));
  if (f.description?.trim() && f.description.trim() !== f.reason?.trim()) {
    said.push(noted(cuts, plainFit(f.description.trim(), DESCRIPTION_MAX)));
  }
  if (said.length > 0) blocks.push({ type: 'section', text: plainText(said.join('\n')) });
  const markers = plainText(plainWithin(alertMarkers(a, o.now).join(' · '), 1000));
  const keys = details(cuts, a);
  blocks.push(contextBlock(markers, ...(keys === undefined ? [] : [plainText(keys)])));
  return [...blocks, ...truncatedBlock([a])];
}

/** "• FIRING *ServerCpuTooHigh* — `CPUUtilization` 99.5% > 50% threshold · since 14:02 UTC". */
function alertLine(a: AlertRecord, o: AlertViewOptions, cuts: Cuts): string {
  const f = a.facts;
  const metric = f.metric ? ` — ${metricLine(f.metric, false)}` : '';
  const flags = [
    f.actionsSuppressed ? 'not paging' : '',
    a.silencedBy !== undefined ? 'silenced' : '',
    a.flapping ? 'flapping' : '',
  ].filter((s) => s !== '');
  const tail = [stateSince(f, o.now), ...flags].join(' · ');
  return `• ${escapeMrkdwn(stateWord(a.state))} ${boldTitle(cuts, f.title, 120)}${metric} · ${tail}`;
}

function summaryLine(v: AlertGroupView, state: AlertState): string {
  const total = Math.max(v.total, v.alerts.length);
  if (state === 'resolved') return total === 1 ? '*Resolved*' : `*All ${total} alerts resolved*`;
  return `*${plural(total, 'alert')}, ${v.firing > 0 ? formatNumber(v.firing) : 'none'} firing*`;
}

function groupBlocks(v: AlertGroupView, state: AlertState, o: AlertViewOptions, cuts: Cuts) {
  const accounts = new Set(v.alerts.map((a) => place(a.facts).join(' · ')));
  const where = accounts.size === 1 ? [...accounts].filter((p) => p !== '') : [];
  const head = [[summaryLine(v, state), ...where].join(' · ')];
  const links = linksLine([], v.runbooks);
  if (links !== undefined) head.push(links);
  let text = head.join('\n');
  let shown = 0;
  for (const a of v.alerts) {
    const line = alertLine(a, o, cuts);
    if (text.length + 1 + line.length > LIST_BUDGET) break;
    text += `\n${line}`;
    shown++;
  }
  const hidden = Math.max(v.total, v.alerts.length) - shown;
  if (hidden > 0) text += `\nand ${formatNumber(hidden)} more`;
  const blocks: KnownBlock[] = [section(text)];
  const markers = groupMarkers(v);
  if (markers.length > 0) blocks.push(contextBlock(plainText(markers.join(' · '))));
  blocks.push(...truncatedBlock(v.alerts));
  return blocks;
}

function groupState(v: AlertGroupView, only: AlertRecord | undefined): AlertState {
  if (only !== undefined) return only.state;
  if (v.firing > 0) return 'firing';
  return v.alerts.some((a) => a.state === 'insufficient-data') ? 'insufficient-data' : 'resolved';
}

/** One alert group's message, updated in place as its alerts change. */
export function alertGroupMessage(v: AlertGroupView, o: AlertViewOptions): Message {
  const cuts: Cuts = { any: false };
  // A one-alert group shows its alert in full; a group of several, a compact list.
  const only = v.total <= 1 && v.alerts.length === 1 ? v.alerts[0] : undefined;
  const state = groupState(v, only);
  const body =
    only !== undefined ? singleAlertBlocks(v, only, o, cuts) : groupBlocks(v, state, o, cuts);
  const blocks: KnownBlock[] = [headerBlock(headline(state, v)), ...body, footer(v, o.now, cuts)];
  return { text: mrkdwnFit(fallbackText(v, state, only), FALLBACK_MAX).text, blocks };
}

/** "FIRING · critical · checkout-api / prod: ServerCpuTooHigh — CPUUtilization 99.5% > 50% threshold", raw. */
function fallbackText(v: AlertGroupView, state: AlertState, only: AlertRecord | undefined): string {
  if (only === undefined)
    return `${headline(state, v)}: ${summaryLine(v, state).replace(/\*/g, '')}`;
  const m = only.facts.metric;
  const metric = m ? ` — ${truncate(m.name, 120)} ${crossing(m) ?? ''}` : '';
  const line = `${headline(state, v)}: ${truncate(only.facts.title, TITLE_MAX)}${metric}`;
  return line.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------
// The digest

/** "• *checkout-api / prod* · critical · ServerCpuTooHigh — 12 alerts, 3 firing". */
function digestRow(r: DigestView['rows'][number]): string {
  const target = `${mrkdwnWithin(r.service, 60)} / ${mrkdwnWithin(r.environment, 40)}`;
  const title = mrkdwnWithin(r.title.trim() === '' ? '(untitled alert)' : r.title, 150);
  const counts = `${plural(r.count, 'alert')}, ${formatNumber(r.firing)} firing`;
  return `• *${target}* · ${mrkdwnWithin(r.severity, 30)} · ${title} — ${counts}`;
}

/**
 * The channel digest used when a channel is over its message budget; updated in place.
 * `others` counts alert events outside the listed rows; rows that do not fit the section
 * add their counts to it.
 */
export function digestMessage(d: DigestView, o: AlertViewOptions): Message {
  const firing = d.firing > 0 ? formatNumber(d.firing) : 'none';
  const head = `Alert storm in this channel: ${plural(d.total, 'alert')} since ${clock(d.since, o.now)} (${firing} firing)`;
  let text = '';
  let more = Math.max(0, d.others);
  let full = false;
  for (const r of d.rows) {
    const line: string = full ? '' : digestRow(r);
    full = full || text.length + 1 + line.length > LIST_BUDGET;
    if (full) more += Math.max(0, r.count);
    else text += `${text === '' ? '' : '\n'}${line}`;
  }
  if (more > 0) text += `${text === '' ? '' : '\n'}and ${formatNumber(more)} more`;
  const parts = [
    'this channel is over its alert message budget, so alerts are counted here',
    `latest ${clock(d.until, o.now)}`,
  ];
  if (d.recordUrl !== undefined && isLinkableUrl(d.recordUrl)) {
    parts.push(link(d.recordUrl, 'full record'));
  }
  const blocks: KnownBlock[] = [headerBlock(head)];
  if (text !== '') blocks.push(section(text));
  blocks.push(contextBlock(mrkdwnText(parts.join(' · '))));
  return { text: mrkdwnFit(head, FALLBACK_MAX).text, blocks };
}
