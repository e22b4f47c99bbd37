/**
 * The postmortem draft: one Markdown document built from the incident record — summary,
 * timeline, actions taken, runbook runs — with the sections people write left empty.
 * Pure and deterministic: the same record gives the same bytes (times are the record's,
 * printed in UTC; nothing reads the clock).
 *
 * Text that came from people or systems (titles, status updates, outputs, notes) goes
 * through `escapeMarkdown`, so it cannot open a heading, a code span, a link, an HTML
 * comment or a new table cell. Parameter values are shown only for parameters the
 * catalog declares and does not mark sensitive; without a catalog every value is hidden.
 */
import type { Catalog } from './catalog.ts';
import type { Incident, TimelineEntry } from './incident-model.ts';
import { countedSignOffs } from './request-lifecycle.ts';
import type { ActionRequest } from './request-model.ts';
import type { RunbookRun, StepRecord } from './runbook-model.ts';

export interface PostmortemRun {
  run: RunbookRun;
  runbookTitle: string;
  /** Step titles by step id (of the pinned runbook version). */
  stepTitles: Record<string, string>;
}

export interface PostmortemInput {
  incident: Incident;
  /** The incident's timeline; printed in `seq` order whatever order it comes in. */
  timeline: readonly TimelineEntry[];
  runs: readonly PostmortemRun[];
  /** The requests linked to the incident; printed in the order the incident linked them, then by creation. */
  requests: readonly ActionRequest[];
  /** For parameter sensitivity; without it no parameter value is shown. */
  catalog?: Pick<Catalog, 'commands'>;
}

const TO_FILL = '_To be written._';
const NONE = '—';
const HIDDEN = '[REDACTED]';

/** The draft document, ending in a newline. */
export function postmortemMarkdown(input: PostmortemInput): string {
  const i = input.incident;
  const lines = [
    `# Postmortem: ${esc(i.id)} — ${esc(i.title)}`,
    '',
    '_A draft generated from the incident record. Times are UTC._',
    '',
    '## Summary',
    '',
    ...summaryTable(i),
    '',
    '## Timeline',
    '',
    ...timelineTable(i, input.timeline),
    '',
    '## Actions taken',
    '',
    ...actionsTable(i, input.requests, input.catalog),
    '',
    '## Runbook runs',
    '',
    ...runSections(i, input.runs),
  ];
  for (const section of ['Impact', 'Root cause', 'What went well', 'What to improve']) {
    lines.push(`## ${section}`, '', TO_FILL, '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function summaryTable(i: Incident): string[] {
  const sev = i.severity;
  const severity = [
    sev.level,
    sev.confirmed ? `confirmed by ${sev.confirmedBy ?? 'unknown'}` : 'unconfirmed',
    ...(sev.proposed ? [`${sev.proposed.level} proposed by ${sev.proposed.by}`] : []),
  ].join(', ');
  const origin =
    i.origin.kind === 'alert'
      ? `alert ${i.origin.alert} (route ${i.origin.route})`
      : `declared by ${i.origin.by} (${i.origin.surface})`;
  const since = (at: number | undefined) => (at === undefined ? NONE : duration(at - i.createdAt));
  const rows: [string, string][] = [
    ['Incident', i.id],
    ['Service', `${i.service} (team ${i.team})`],
    ['Environment', i.environment],
    ['Severity', severity],
    ['Status', i.status],
    ['Origin', origin],
    ['Commander', i.roles.commander ?? NONE],
    ['Scribe', i.roles.scribe ?? NONE],
    ['Responders', i.roles.responders.join(', ') || NONE],
    ['Opened', isoTime(i.createdAt)],
    ['First action', optionalIso(i.firstActionAt)],
    ['Mitigated', optionalIso(i.mitigatedAt)],
    ['Resolved', optionalIso(i.resolvedAt)],
    ['Time to first action', since(i.firstActionAt)],
    ['Time to mitigation', since(i.mitigatedAt)],
    ['Time to resolution', since(i.resolvedAt)],
    [
      'Pre-approved mitigation',
      i.mitigation ? `rule ${i.mitigation.rule} (${i.mitigation.requestId})` : NONE,
    ],
  ];
  return table(['Field', 'Value'], rows);
}

function timelineTable(i: Incident, timeline: readonly TimelineEntry[]): string[] {
  if (timeline.length === 0) return ['_No entries._'];
  const entries = [...timeline].sort((a, b) => a.seq - b.seq);
  return table(
    ['Time', 'Who', 'What', 'Ref'],
    entries.map((e) => [clock(e.at, i.createdAt), e.actor, e.text, e.ref ?? '']),
  );
}

function actionsTable(
  i: Incident,
  requests: readonly ActionRequest[],
  catalog: Pick<Catalog, 'commands'> | undefined,
): string[] {
  if (requests.length === 0) return ['_No requests._'];
  const order = (r: ActionRequest) => {
    const at = i.requests.indexOf(r.id);
    return at < 0 ? Number.MAX_SAFE_INTEGER : at;
  };
  const sorted = [...requests].sort(
    (a, b) => order(a) - order(b) || a.createdAt - b.createdAt || compare(a.id, b.id),
  );
  return table(
    ['Request', 'Command', 'Requested by', 'Approved by', 'State', 'Requested', 'Finished'],
    sorted.map((r) => [
      r.id,
      commandLine(r, catalog),
      r.requester,
      approvedBy(r),
      r.state,
      clock(r.createdAt, i.createdAt),
      r.execution?.finishedAt === undefined ? '' : clock(r.execution.finishedAt, i.createdAt),
    ]),
  );
}

/** `deploy checkout-api prod version=1.4.2`, values hidden unless declared and not sensitive. */
function commandLine(r: ActionRequest, catalog: Pick<Catalog, 'commands'> | undefined): string {
  const specs = catalog?.commands.find((c) => c.id === r.command)?.params ?? [];
  const params = Object.entries(r.params).map(([name, value]) => {
    const spec = specs.find((p) => p.name === name);
    return `${name}=${spec && !spec.sensitive ? String(value) : HIDDEN}`;
  });
  return [r.command, r.service, r.environment, ...params].join(' ');
}

function approvedBy(r: ActionRequest): string {
  const who = r.requirements.flatMap((q) =>
    countedSignOffs(r, q.kind).map((s) => (q.kind === 'approval' ? s.by : `${s.by} (${q.kind})`)),
  );
  if (r.origin?.kind === 'mitigation') who.push(`pre-approved by rule ${r.origin.rule}`);
  if (r.breakGlass) who.push(`break glass: ${r.breakGlass.reason}`);
  if (who.length === 0 && r.requirements.length === 0) return 'not needed';
  return who.join(', ') || NONE;
}

function runSections(i: Incident, runs: readonly PostmortemRun[]): string[] {
  if (runs.length === 0) return ['_No runbook runs._', ''];
  const sorted = [...runs].sort(
    (a, b) => a.run.createdAt - b.run.createdAt || compare(a.run.id, b.run.id),
  );
  return sorted.flatMap(({ run, runbookTitle, stepTitles }) => [
    `### ${esc(run.id)}: ${esc(runbookTitle)} (${esc(run.runbook)}), ${run.state}`,
    '',
    `Started by ${esc(run.startedBy)} at ${clock(run.createdAt, i.createdAt)}` +
      (run.finishedAt === undefined ? '.' : `; finished at ${clock(run.finishedAt, i.createdAt)}.`),
    '',
    ...(run.steps.length === 0
      ? ['_No steps._']
      : table(
          ['Step', 'Status', 'Operator', 'Outcome', 'Started', 'Finished'],
          run.steps.map((s) => [
            stepTitles[s.stepId] ?? s.stepId,
            s.status,
            s.operator ?? '',
            outcome(s),
            clock(s.startedAt, i.createdAt),
            s.finishedAt === undefined ? '' : clock(s.finishedAt, i.createdAt),
          ]),
        )),
    '',
  ]);
}

/** What came of a step: the output's first line, the branch chosen, why it was skipped. */
function outcome(s: StepRecord): string {
  const first = s.output?.split(/\r?\n/).find((l) => l.trim() !== '');
  return [
    ...(first ? [first.trim()] : []),
    ...(s.choice ? [`chose ${s.choice}`] : []),
    ...(s.reason ? [`reason: ${s.reason}`] : []),
    ...(s.requestId ? [s.requestId] : []),
  ].join('; ');
}

/** A GFM table; every cell is escaped. */
function table(head: string[], rows: string[][]): string[] {
  const row = (cells: string[]) => `| ${cells.map(esc).join(' | ')} |`;
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---|').join('')}`, ...rows.map(row)];
}

/**
 * Text made safe to put inline in Markdown (and in a table cell): whitespace runs,
 * newlines included, become one space, and every character that could start markup
 * (`\` `` ` `` `*` `_` `[` `]` `<` `>` `|` `#` `~`) is backslash-escaped. Entities
 * (`&lt;`) and bare URLs stay: they render as text or a link, never as structure.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\`*_[\]<>|#~]/g, (ch) => `\\${ch}`);
}

const esc = escapeMarkdown;

/** `2026-11-25T12:00:00Z`: seconds are enough for a postmortem. */
export function isoTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19)}Z`;
}

const optionalIso = (at: number | undefined) => (at === undefined ? NONE : isoTime(at));

/** `HH:MM:SS`, with the date in front when it is not the day the incident opened. */
function clock(at: number, opened: number): string {
  const iso = isoTime(at);
  const time = iso.slice(11, 19);
  return iso.slice(0, 10) === isoTime(opened).slice(0, 10) ? time : `${iso.slice(0, 10)} ${time}`;
}

/** `45s`, `3m 05s`, `1h 02m`: whole seconds, rounded down; negative spans print as 0s. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
