/**
 * An incident as Slack shows it: the header (posted once, then updated in place through the
 * incident's life), the one-line posts in its thread, the Resolve modal, and the values its
 * buttons carry. Pure functions from the stored view to Block Kit; no I/O, no clock (callers
 * pass `now`). Everything people, alarms and the catalog wrote goes through `safe-text.ts`;
 * the status update, which people must read exactly, sits in a plain_text object. Mentions
 * (`<@U…>`) come only from `slackIdOf`, for the people holding incident roles.
 */
import type { ActionsBlock, Button, KnownBlock, SectionBlock, View } from '@slack/types';
import type { Severity } from '../../domain/catalog.ts';
import type { ChangeRecord, Incident, IncidentHeaderView } from '../../domain/incident-model.ts';
import {
  type Cuts,
  clock,
  contextBlock,
  fitted,
  headerBlock,
  LIMITS,
  listWithin,
  mrkdwnText,
  plainText,
} from './block-text.ts';
import {
  escapeMrkdwn,
  inlineCode,
  link,
  mrkdwnWithin,
  plainWithin,
  truncate,
} from './safe-text.ts';

export type Message = { text: string; blocks: KnownBlock[] };

export const INCIDENT_ACTIONS = {
  /** Value: `severityButtonValue`. */
  confirmSeverity: 'incident_confirm_severity',
  /** Value: `runbookButtonValue`. */
  startRunbook: 'incident_start_runbook',
  /** Value: the incident id; opens `resolveModal`. */
  resolve: 'incident_resolve',
} as const;

/** The Resolve modal's callback id; its private_metadata is the incident id. */
export const RESOLVE_CALLBACK = 'incident_resolve';

export interface HeaderInput {
  view: IncidentHeaderView;
  /** A person's plain display name ("Dave Example"), never markup. */
  names: (personId: string) => string;
  /** A person's Slack user id, for `<@U…>`; ids not shaped like one are ignored. */
  slackIdOf: (personId: string) => string | undefined;
  /** Base URL of the web console: the footer links `${consoleUrl}/incidents/${id}`. */
  consoleUrl?: string;
  /** Milliseconds since epoch. */
  now: number;
}

/** How many alerts, runbooks and runs the header lists before "and N more". */
export const SHOWN = { alerts: 10, runbooks: 5, runs: 10 } as const;
/** The `text` fallback we send, in UTF-16 code units. */
const FALLBACK_MAX = 1000;
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;
const INCIDENT_ID = /^INC-[0-9A-Za-z]{1,40}$/;
const RUNBOOK_ID = /^[a-z][a-z0-9-]{0,62}$/;

const SEVERITY_ICON: Record<Severity, string> = {
  sev1: '🔴',
  sev2: '🟠',
  sev3: '🟡',
  sev4: '🔵',
};
const STATUS_ICON: Record<Incident['status'], string> = {
  open: '🚨',
  mitigated: '🩹',
  resolved: '✅',
};

// ---------------------------------------------------------------------------------------
// Button values

/** The Confirm button's value: the incident and the level the person saw waiting. */
export function severityButtonValue(i: Incident): string {
  return JSON.stringify({ incident: i.id, severity: pendingLevel(i) });
}

/** A small JSON object with exactly `keys`, all strings; anything else is undefined. */
function jsonObject(v: unknown, keys: string[]): Record<string, string> | undefined {
  if (typeof v !== 'string' || v.length > LIMITS.buttonValue) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const o = parsed as Record<string, unknown>;
  if (Object.keys(o).sort().join() !== [...keys].sort().join()) return undefined;
  if (!Object.values(o).every((x) => typeof x === 'string')) return undefined;
  return o as Record<string, string>;
}

export function parseSeverityValue(
  v: unknown,
): { incidentId: string; severity: Severity } | undefined {
  const o = jsonObject(v, ['incident', 'severity']);
  const severity = o?.severity ?? '';
  if (!o || !INCIDENT_ID.test(o.incident ?? '') || !Object.hasOwn(SEVERITY_ICON, severity)) {
    return undefined;
  }
  return { incidentId: o.incident!, severity: severity as Severity };
}

/** A Start runbook button's value: `{incident, runbook}`. */
export function runbookButtonValue(incidentId: string, runbookId: string): string {
  return JSON.stringify({ incident: incidentId, runbook: runbookId });
}

export function parseRunbookValue(v: unknown): { incidentId: string; runbook: string } | undefined {
  const o = jsonObject(v, ['incident', 'runbook']);
  if (!o || !INCIDENT_ID.test(o.incident ?? '') || !RUNBOOK_ID.test(o.runbook ?? '')) {
    return undefined;
  }
  return { incidentId: o.incident!, runbook: o.runbook! };
}

/** The incident id a Resolve button or modal carries, when it is shaped like one. */
export function parseIncidentId(v: unknown): string | undefined {
  return typeof v === 'string' && INCIDENT_ID.test(v) ? v : undefined;
}

// ---------------------------------------------------------------------------------------
// Phrases

/** The level a confirmation would put in force: the proposal, else the unconfirmed level. */
export function pendingLevel(i: Incident): Severity {
  return i.severity.proposed?.level ?? i.severity.level;
}

/** True while a severity waits for someone to confirm it (and the incident is not resolved). */
export function awaitsConfirmation(i: Incident): boolean {
  return i.status !== 'resolved' && (!i.severity.confirmed || i.severity.proposed !== undefined);
}

function severityText(p: HeaderInput): string {
  const s = p.view.incident.severity;
  const level = `${SEVERITY_ICON[s.level] ?? ''} *${escapeMrkdwn(s.level)}*`;
  const parts = [level];
  if (!s.confirmed) parts.push('unconfirmed');
  if (s.proposed) {
    const by = mrkdwnWithin(p.names(s.proposed.by), 100);
    parts.push(
      `${escapeMrkdwn(s.proposed.level)} proposed by ${by} ${clock(s.proposed.at, p.now)}`,
    );
  } else if (s.confirmedBy) {
    parts.push(`confirmed by ${mrkdwnWithin(p.names(s.confirmedBy), 100)}`);
  }
  return parts.join(' · ');
}

function statusText(i: Incident, now: number): string {
  const icon = STATUS_ICON[i.status] ?? '';
  if (i.status === 'resolved' && i.resolvedAt !== undefined) {
    return `${icon} resolved ${clock(i.resolvedAt, now)}`;
  }
  if (i.status === 'mitigated' && i.mitigatedAt !== undefined) {
    return `${icon} mitigated ${clock(i.mitigatedAt, now)}`;
  }
  return `${icon} ${escapeMrkdwn(i.status)} since ${clock(i.createdAt, now)}`;
}

function person(p: HeaderInput, id: string): string {
  const slackId = p.slackIdOf(id);
  if (slackId !== undefined && SLACK_USER_ID.test(slackId)) return `<@${slackId}>`;
  return mrkdwnWithin(p.names(id), 100);
}

function peopleText(p: HeaderInput, ids: string[]): string {
  if (ids.length === 0) return 'nobody yet';
  return listWithin(
    ids.map((id) => person(p, id)),
    1500,
  );
}

function changeText(c: ChangeRecord | undefined, p: HeaderInput): string {
  if (!c) return 'none recorded';
  const who = c.actor === undefined ? '' : ` · by ${mrkdwnWithin(p.names(c.actor), 100)}`;
  return `${mrkdwnWithin(c.summary, 1200)}\n${clock(c.at, p.now)}${who}`;
}

function originText(i: Incident, p: HeaderInput): string {
  const o = i.origin;
  if (o.kind === 'alert') return `opened by alert ${mrkdwnWithin(o.alert, 200)}`;
  return `declared by ${mrkdwnWithin(p.names(o.by), 100)}`;
}

// ---------------------------------------------------------------------------------------
// The header

function field(cuts: Cuts, label: string, safe: string) {
  return mrkdwnText(`*${label}*\n${fitted(cuts, safe, LIMITS.fieldText - label.length - 8)}`);
}

function summaryFields(p: HeaderInput, cuts: Cuts): SectionBlock {
  const i = p.view.incident;
  const fields = [
    field(
      cuts,
      'Service · Environment',
      `${mrkdwnWithin(i.service, 80)} · ${mrkdwnWithin(i.environment, 80)}`,
    ),
    field(cuts, 'Severity', severityText(p)),
    field(cuts, 'Status', statusText(i, p.now)),
    field(cuts, 'Commander', i.roles.commander ? person(p, i.roles.commander) : 'nobody yet'),
    field(cuts, 'Scribe', i.roles.scribe ? person(p, i.roles.scribe) : 'nobody yet'),
    field(cuts, 'Responders', peopleText(p, i.roles.responders)),
  ];
  return { type: 'section', fields };
}

/** Confirm severity (when one waits) and Resolve… (until resolved). */
function headerActions(i: Incident): ActionsBlock | undefined {
  if (i.status === 'resolved') return undefined;
  const buttons: Button[] = [];
  if (awaitsConfirmation(i)) {
    buttons.push({
      type: 'button',
      action_id: INCIDENT_ACTIONS.confirmSeverity,
      text: plainText(`Confirm ${pendingLevel(i)}`),
      value: severityButtonValue(i),
      style: 'primary',
    });
  }
  buttons.push({
    type: 'button',
    action_id: INCIDENT_ACTIONS.resolve,
    text: plainText('Resolve…'),
    value: i.id,
  });
  const blockId = `cs_inc:${i.id}:${i.version}`.replace(/[^A-Za-z0-9:_-]/g, '_');
  return { type: 'actions', block_id: blockId.slice(0, LIMITS.blockId), elements: buttons };
}

/**
 * A bulleted section under a bold label: whole lines (each already safe and bounded) while
 * they fit 3000 code units and `max`, then "… and N more"; a line is never cut, so no code
 * span is split.
 */
function bulleted(label: string, lines: string[], max: number): SectionBlock {
  const room = LIMITS.sectionText - 40;
  let text = `*${label}*`;
  let shown = 0;
  for (const line of lines.slice(0, max)) {
    if (text.length + line.length + 3 > room) break;
    text += `\n• ${line}`;
    shown++;
  }
  if (shown < lines.length) text += `\n… and ${lines.length - shown} more`;
  return { type: 'section', text: mrkdwnText(text) };
}

function alertsSection(p: HeaderInput): SectionBlock | undefined {
  const alerts = p.view.alerts;
  if (alerts.length === 0) return undefined;
  const lines = alerts.map(
    (a) =>
      `${mrkdwnWithin(a.title, 150)} — ${mrkdwnWithin(a.state, 30)} since ${clock(a.since, p.now)}`,
  );
  return bulleted('Alerts behind it', lines, SHOWN.alerts);
}

function changesSection(p: HeaderInput, cuts: Cuts): SectionBlock {
  return {
    type: 'section',
    fields: [
      field(cuts, 'Last deploy', changeText(p.view.lastDeploy, p)),
      field(cuts, 'Last config change', changeText(p.view.lastConfigChange, p)),
    ],
  };
}

/** One section per suggested runbook, with its Start button (while the incident is not resolved). */
function runbookSections(p: HeaderInput, cuts: Cuts): KnownBlock[] {
  const i = p.view.incident;
  const books = p.view.runbooks;
  if (books.length === 0) return [];
  const out: KnownBlock[] = books.slice(0, SHOWN.runbooks).map((b) => {
    const text = `📋 *${mrkdwnWithin(b.title, 300)}* ${inlineCode(b.id, 80)}`;
    const section: SectionBlock = { type: 'section', text: mrkdwnText(fitted(cuts, text, 3000)) };
    if (i.status !== 'resolved') {
      section.accessory = {
        type: 'button',
        action_id: INCIDENT_ACTIONS.startRunbook,
        text: plainText('Start runbook'),
        value: runbookButtonValue(i.id, b.id),
      };
    }
    return section;
  });
  out.unshift({ type: 'section', text: mrkdwnText('*Suggested runbooks*') });
  if (books.length > SHOWN.runbooks) {
    const rest = books.slice(SHOWN.runbooks).map((b) => inlineCode(b.id, 80));
    out.push(contextBlock(mrkdwnText(`also: ${listWithin(rest, 1800)}`)));
  }
  return out;
}

function runsSection(p: HeaderInput): SectionBlock | undefined {
  const runs = p.view.activeRuns;
  if (runs.length === 0) return undefined;
  const lines = runs.map((r) => {
    const now = r.step === undefined ? '' : ` — now: ${mrkdwnWithin(r.step, 200)}`;
    return `${mrkdwnWithin(r.id, 60)} ${inlineCode(r.runbook, 80)}${now}`;
  });
  return bulleted('Runbook runs under way', lines, SHOWN.runs);
}

function lastUpdateBlocks(p: HeaderInput, cuts: Cuts): KnownBlock[] {
  const u = p.view.incident.lastUpdate;
  if (!u) return [contextBlock(mrkdwnText('No status update yet.'))];
  const by = mrkdwnWithin(p.names(u.by), 100);
  return [
    {
      type: 'section',
      text: mrkdwnText(`*Last update* · ${by} · ${clock(u.at, p.now)}`),
      fields: [
        plainText(fitted(cuts, plainWithin(u.text, LIMITS.fieldText * 2), LIMITS.fieldText)),
      ],
    },
  ];
}

function footer(p: HeaderInput, cuts: Cuts) {
  const i = p.view.incident;
  const parts = [mrkdwnWithin(i.id, 60), originText(i, p), `opened ${clock(i.createdAt, p.now)}`];
  if (i.status !== 'resolved') {
    parts.push(`update with ${inlineCode(`/ops incident update ${i.id} text="…"`, 200)}`);
  }
  if (p.consoleUrl !== undefined) {
    const url = `${p.consoleUrl.replace(/\/+$/, '')}/incidents/${encodeURIComponent(i.id)}`;
    parts.push(link(url, cuts.any ? 'text cut: see the full record' : 'full record'));
  } else if (cuts.any) parts.push('text cut to fit Slack');
  return contextBlock(mrkdwnText(truncate(parts.join(' · '), LIMITS.contextText)));
}

/** The incident header, a view of the stored incident in any state. */
export function incidentHeaderMessage(p: HeaderInput): Message {
  const i = p.view.incident;
  const cuts: Cuts = { any: false };
  const icon =
    i.status === 'resolved' ? STATUS_ICON.resolved : (SEVERITY_ICON[i.severity.level] ?? '');
  const blocks: KnownBlock[] = [headerBlock(`${icon} ${i.title}`), summaryFields(p, cuts)];
  const actions = headerActions(i);
  if (actions) blocks.push(actions);
  const alerts = alertsSection(p);
  if (alerts) blocks.push(alerts);
  blocks.push(changesSection(p, cuts), ...runbookSections(p, cuts));
  const runs = runsSection(p);
  if (runs) blocks.push(runs);
  blocks.push(...lastUpdateBlocks(p, cuts));
  blocks.push(footer(p, cuts));
  return { text: incidentSummaryText(i), blocks };
}

/**
 * One mrkdwn line for the `text` fallback and ephemeral replies:
 * "🟠 INC-… sev2 (unconfirmed) open — checkout-api prod: Checkout is failing".
 */
export function incidentSummaryText(i: Incident): string {
  const s = i.severity;
  const sev = `${s.level}${s.confirmed ? '' : ' (unconfirmed)'}${s.proposed ? `, ${s.proposed.level} proposed` : ''}`;
  const head = `${SEVERITY_ICON[s.level] ?? ''} ${mrkdwnWithin(i.id, 60)} ${escapeMrkdwn(sev)} ${escapeMrkdwn(i.status)}`;
  const where = `${mrkdwnWithin(i.service, 80)} ${mrkdwnWithin(i.environment, 80)}`;
  return truncate(`${head} — ${where}: ${mrkdwnWithin(i.title, 400)}`, FALLBACK_MAX);
}

// ---------------------------------------------------------------------------------------
// Thread lines and the Resolve modal

/** One line posted in the incident's thread (or channel); `text` is raw, shown exactly. */
export function incidentLineMessage(i: Incident, text: string): Message {
  return {
    text: truncate(`${mrkdwnWithin(i.id, 60)}: ${mrkdwnWithin(text, 800)}`, FALLBACK_MAX),
    blocks: [{ type: 'section', text: plainText(plainWithin(text, LIMITS.sectionText)) }],
  };
}

/** Where a dedicated channel is announced: in the channel the incident started from. */
export function channelPointerMessage(i: Incident, channelId: string): Message {
  const line = `${SEVERITY_ICON[i.severity.level] ?? ''} ${mrkdwnWithin(i.id, 60)} ${mrkdwnWithin(i.title, 400)} — follow it in <#${channelId}>`;
  return {
    text: truncate(line, FALLBACK_MAX),
    blocks: [{ type: 'section', text: mrkdwnText(line) }],
  };
}

/** Asks for an optional closing note; private_metadata is the incident id. */
export function resolveModal(i: Incident): View {
  const what = plainWithin(`${i.id} ${i.title}`, 400);
  return {
    type: 'modal',
    callback_id: RESOLVE_CALLBACK,
    private_metadata: i.id,
    title: plainText('Resolve incident'),
    submit: plainText('Resolve'),
    close: plainText('Cancel'),
    blocks: [
      { type: 'section', text: plainText(`You are resolving ${what}.`) },
      {
        type: 'input',
        block_id: 'note',
        optional: true,
        label: plainText('Closing note (optional)'),
        element: {
          type: 'plain_text_input',
          action_id: 'value',
          multiline: true,
          max_length: 1000,
        },
      },
    ],
  };
}
