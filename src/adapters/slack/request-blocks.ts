/**
 * A request as Slack shows it: the approval prompt (updated in place through the request's
 * life), the result reply in its thread, the deny and confirm modals, and the button
 * values that carry the reviewed digest. Pure functions from stored state to Block Kit;
 * no I/O. Untrusted text goes through `safe-text.ts`; values people must read exactly
 * (parameters, reason, changes, errors, output) sit in plain_text objects or code blocks.
 * Mentions (`<@U…>`) come only from `slackIdOf`, and only for the people still needed.
 */
import type {
  ActionsBlock,
  Button,
  ContextBlock,
  KnownBlock,
  PlainTextElement,
  SectionBlock,
  View,
} from '@slack/types';
import { visibleParams } from '../../app/request-action.ts';
import type { ApprovalKind, Command } from '../../domain/catalog.ts';
import {
  confirmationText,
  countedSignOffs,
  missingSignOffs,
} from '../../domain/request-lifecycle.ts';
import type { ActionRequest, ParamValue } from '../../domain/request-model.ts';
import {
  breakGlassLine,
  type Cuts,
  clock,
  contextBlock,
  duration,
  expiryText,
  fitted,
  headerBlock,
  LIMITS,
  listWithin,
  mrkdwnText,
  plainText,
  recordUrl,
  settledNote,
  stateLine,
} from './block-text.ts';
import {
  codeBlockFit,
  escapeMrkdwn,
  inlineCode,
  link,
  mrkdwnWithin,
  plainWithin,
  truncate,
} from './safe-text.ts';

export interface PromptInput {
  /** The request as stored. */
  request: ActionRequest;
  /** Its command from the catalog; absent when the command is gone (then values are hidden). */
  command?: Command;
  /** Person ids who may give each sign-off kind (`policy.eligibleSignOffs`). */
  eligible: Map<ApprovalKind, string[]>;
  /** A person's plain display name ("Bob"), never markup. */
  names: (personId: string) => string;
  /** A person's Slack user id, used for `<@U…>` mentions; ids not shaped like one are ignored. */
  slackIdOf: (personId: string) => string | undefined;
  /** Base URL of the web console, for "full record" links: `${consoleUrl}/requests/${id}`. */
  consoleUrl?: string;
  /** Milliseconds since epoch, for "expires in 42 min". */
  now: number;
}

export type Message = { text: string; blocks: KnownBlock[] };

/** The output snippet in a result reply, fences included, in UTF-16 code units. */
export const OUTPUT_SNIPPET = 2500;
/** The `text` fallback (notifications, screen readers) we send; far below Slack's 40,000. */
const FALLBACK_MAX = 1000;

export const ACTIONS = {
  approve: 'cs_approve',
  deny: 'cs_deny',
  windowAck: 'cs_window_ack',
  rollbackConfirm: 'cs_rollback_confirm',
} as const;

const KIND_ACTION: Record<ApprovalKind, string> = {
  approval: ACTIONS.approve,
  'window-ack': ACTIONS.windowAck,
  'rollback-confirm': ACTIONS.rollbackConfirm,
};
const KINDS = Object.keys(KIND_ACTION) as ApprovalKind[];
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/** A bold label over one plain_text field holding an untrusted value. */
function labelled(label: string, safePlain: string, cuts: Cuts): SectionBlock {
  return {
    type: 'section',
    text: mrkdwnText(`*${label}*`),
    fields: [plainText(fitted(cuts, safePlain, LIMITS.fieldText))],
  };
}

/** "deploy checkout-api prod", each part at most 80 code units once escaped. */
const target = (r: ActionRequest): string =>
  [r.command, r.service, r.environment].map((s) => mrkdwnWithin(s, 80)).join(' ');

// ---------------------------------------------------------------------------------------
// Buttons

/** The value of a sign-off (or Deny) button: JSON `{r, d, k}`, well under 2000 characters. */
export function buttonValue(r: ActionRequest, kind: ApprovalKind): string {
  return JSON.stringify({ r: r.id, d: r.digest, k: kind });
}

const REQUEST_ID = /^REQ-[0-9A-Za-z]{1,40}$/;
const DIGEST = /^[0-9a-f]{64}$/;

/** The inverse of `buttonValue`; anything else (extra keys, bad shapes, > 2000) is undefined. */
export function parseButtonValue(
  v: unknown,
): { requestId: string; digest: string; kind: ApprovalKind } | undefined {
  if (typeof v !== 'string' || v.length > LIMITS.buttonValue) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const o = parsed as Record<string, unknown>;
  if (Object.keys(o).sort().join() !== 'd,k,r') return undefined;
  const { r, d, k } = o;
  if (typeof r !== 'string' || !REQUEST_ID.test(r)) return undefined;
  if (typeof d !== 'string' || !DIGEST.test(d)) return undefined;
  if (typeof k !== 'string' || !(KINDS as string[]).includes(k)) return undefined;
  return { requestId: r, digest: d, kind: k as ApprovalKind };
}

/** Sign-off kinds the request still needs, in requirement order. */
export function outstandingKinds(r: ActionRequest): ApprovalKind[] {
  const kinds: ApprovalKind[] = [];
  for (const q of r.requirements) {
    const missing = countedSignOffs(r, q.kind).length < q.count;
    if (missing && !kinds.includes(q.kind)) kinds.push(q.kind);
  }
  return kinds;
}

function kindLabel(r: ActionRequest, kind: ApprovalKind): string {
  if (kind === 'window-ack') return 'Acknowledge window';
  if (kind === 'rollback-confirm') return 'Confirm rollback';
  return r.class === 'destructive' ? 'Approve…' : 'Approve';
}

/**
 * The buttons of a pending request: one per outstanding kind, then Deny (whose value
 * carries kind `approval`). Undefined in every other state. A destructive command's
 * Approve is still `cs_approve`; the listener opens `confirmModal`.
 */
export function requestActions(r: ActionRequest): ActionsBlock | undefined {
  if (r.state !== 'pending') return undefined;
  const signOffs: Button[] = outstandingKinds(r).map((kind) => ({
    type: 'button',
    action_id: KIND_ACTION[kind],
    text: plainText(kindLabel(r, kind)),
    value: buttonValue(r, kind),
    ...(kind === 'approval' ? { style: 'primary' as const } : {}),
  }));
  const deny: Button = {
    type: 'button',
    action_id: ACTIONS.deny,
    text: plainText('Deny'),
    value: buttonValue(r, 'approval'),
    style: 'danger',
  };
  const blockId = `cs_req:${r.id}:${r.version}`.replace(/[^A-Za-z0-9:_-]/g, '_');
  return {
    type: 'actions',
    block_id: blockId.slice(0, LIMITS.blockId),
    elements: [...signOffs, deny],
  };
}

// ---------------------------------------------------------------------------------------
// The prompt

function linksText(r: ActionRequest): string {
  const parts = (['ticket', 'incident', 'pr'] as const).flatMap((name) => {
    const v = r.links[name];
    if (v === undefined) return [];
    const linked = link(v, v);
    const shown = linked.length <= 500 ? linked : mrkdwnWithin(v, 300);
    return [`${name} ${shown}`];
  });
  return parts.length > 0 ? parts.join('\n') : 'none';
}

function classText(r: ActionRequest): string {
  if (r.class !== 'destructive') return escapeMrkdwn(r.class);
  return `⚠ *destructive* — approving asks you to type ${inlineCode(confirmationText(r), 300)}`;
}

function rollbackText(r: ActionRequest, command: Command | undefined): string {
  if (!command) return 'unknown: the command is no longer in the catalog';
  const plan = command.rollback;
  if (!plan) return r.class === 'read-only' ? 'not needed (read-only)' : 'none declared';
  if ('command' in plan) return `${inlineCode(plan.command, 200)} command`;
  return `none: ${mrkdwnWithin(plan.none, 500)}`;
}

function summaryFields(p: PromptInput, cuts: Cuts): SectionBlock {
  const r = p.request;
  const field = (label: string, safe: string) =>
    mrkdwnText(`*${label}*\n${fitted(cuts, safe, LIMITS.fieldText - label.length - 8)}`);
  const fields = [
    field('Service', escapeMrkdwn(r.service)),
    field('Environment', escapeMrkdwn(r.environment)),
    field('Requester', mrkdwnWithin(p.names(r.requester), 200)),
    field('Class', classText(r)),
    field('Link', linksText(r)),
    field('Rollback', rollbackText(r, p.command)),
  ];
  if (r.state === 'pending') fields.push(field('Expires', expiryText(r.expiresAt, p.now)));
  return { type: 'section', fields };
}

/** Parameter lines with sensitive values masked; all values hidden when the command is gone. */
function paramsText(r: ActionRequest, command: Command | undefined): string {
  const entries = Object.entries(r.params);
  if (entries.length === 0) return 'none';
  const shown: Record<string, ParamValue> = command
    ? visibleParams(command, r.params)
    : Object.fromEntries(entries.map(([k]) => [k, '[hidden: command not in the catalog]']));
  // Cut before escaping: nothing past this many raw code units could fit a field.
  const lines = Object.entries(shown).map(([k, v]) => `${k} = ${String(v)}`);
  return plainWithin(lines.join('\n'), LIMITS.fieldText * 2);
}

function detailSections(p: PromptInput, cuts: Cuts): SectionBlock[] {
  const r = p.request;
  const out = [labelled('Parameters', paramsText(r, p.command), cuts)];
  if (r.reason !== undefined) {
    out.push(labelled('Reason', plainWithin(r.reason, LIMITS.fieldText * 2), cuts));
  }
  if (r.preview) {
    const { changes, error } = r.preview;
    const text =
      error !== undefined
        ? `preview failed: ${error}`
        : changes.length > 0
          ? changes.join('\n')
          : 'no changes reported';
    out.push(labelled('Changes', plainWithin(text, LIMITS.fieldText * 2), cuts));
  }
  return out;
}

function mention(p: PromptInput, personId: string): string {
  const slackId = p.slackIdOf(personId);
  if (slackId !== undefined && SLACK_USER_ID.test(slackId)) return `<@${slackId}>`;
  return mrkdwnWithin(p.names(personId), 100);
}

/** What is still missing and who may give it: mentions only for people still needed, never the requester. */
function signOffSection(p: PromptInput): SectionBlock {
  const r = p.request;
  const missing = missingSignOffs(r).map((m) => `• ${mrkdwnWithin(m, 300)}`);
  const kinds = outstandingKinds(r);
  const budget = Math.floor(1800 / Math.max(1, kinds.length));
  const whoLines = kinds.map((kind) => {
    const done = new Set(countedSignOffs(r, kind).map((s) => s.by));
    const people = (p.eligible.get(kind) ?? []).filter((id) => id !== r.requester && !done.has(id));
    const list =
      people.length > 0
        ? listWithin(
            people.map((id) => mention(p, id)),
            budget,
          )
        : 'nobody';
    return `${escapeMrkdwn(kind)}: ${list}`;
  });
  const text = [
    '*Still needed*',
    ...(missing.length > 0 ? missing : ['nothing']),
    '*Who may sign off*',
    ...whoLines,
  ].join('\n');
  return { type: 'section', text: mrkdwnText(truncate(text, LIMITS.sectionText)) };
}

function footer(p: PromptInput, cuts: Cuts): ContextBlock {
  const r = p.request;
  const parts = [mrkdwnWithin(r.id, 60), `request digest ${escapeMrkdwn(r.digest.slice(0, 12))}…`];
  const url = p.consoleUrl === undefined ? undefined : recordUrl(p.consoleUrl, r.id);
  if (url !== undefined)
    parts.push(link(url, cuts.any ? 'text cut: see the full record' : 'full record'));
  else if (cuts.any) parts.push('text cut to fit Slack');
  return contextBlock(mrkdwnText(parts.join(' · ')));
}

/** The approval prompt, a view of the stored request in any state. */
export function approvalPrompt(p: PromptInput): Message {
  const r = p.request;
  const cuts: Cuts = { any: false };
  const warn = r.class === 'destructive' ? '⚠ ' : '';
  const blocks: KnownBlock[] = [headerBlock(`${warn}${r.command} ${r.service} ${r.environment}`)];
  const banner = breakGlassLine(r, p.names);
  if (banner !== undefined) {
    blocks.push({ type: 'section', text: plainText(fitted(cuts, banner, LIMITS.sectionText)) });
  }
  blocks.push(summaryFields(p, cuts), ...detailSections(p, cuts));
  const actions = requestActions(r);
  if (actions) blocks.push(signOffSection(p), actions);
  blocks.push(contextBlock(plainText(fitted(cuts, stateLine(r, p.names, p.now), 2000))));
  blocks.push(footer(p, cuts));
  return { text: requestSummaryText(r, p.command), blocks };
}

// ---------------------------------------------------------------------------------------
// The result reply, the summary line and the modals

const OUTCOME_ICON = { succeeded: '✅', failed: '❌', unknown: '❓' } as const;

function runFacts(p: PromptInput): string {
  const r = p.request;
  const ex = r.execution;
  if (!ex) return '';
  const took =
    ex.finishedAt === undefined ? [] : [`took ${duration(ex.finishedAt - ex.startedAt)}`];
  const ended = ex.finishedAt === undefined ? [] : [`finished ${clock(ex.finishedAt, p.now)}`];
  return [`attempt ${ex.attempt}`, ...took, ...ended].join(' · ') + settledNote(r, p.names);
}

/** For the prompt's thread once the request finished: outcome, facts, error, output snippet. */
export function resultReply(p: PromptInput): Message | undefined {
  const r = p.request;
  const ex = r.execution;
  if (!ex || (r.state !== 'succeeded' && r.state !== 'failed' && r.state !== 'unknown')) {
    return undefined;
  }
  const cuts: Cuts = { any: false };
  const blocks: KnownBlock[] = [
    { type: 'section', text: mrkdwnText(`${OUTCOME_ICON[r.state]} *${r.state}* — ${target(r)}`) },
    contextBlock(plainText(fitted(cuts, runFacts(p), 2000))),
  ];
  if (ex.error !== undefined) blocks.push(labelled('Error', plainWithin(ex.error, 4000), cuts));
  const output = ex.output ?? '';
  if (output.trim() === '') blocks.push(contextBlock(plainText('no output')));
  else {
    const snippet = codeBlockFit(output, OUTPUT_SNIPPET);
    blocks.push({ type: 'section', text: mrkdwnText(snippet.text) });
    if (snippet.cut) cuts.any = true;
  }
  if (cuts.any) {
    const url = p.consoleUrl === undefined ? undefined : recordUrl(p.consoleUrl, r.id);
    const where = url
      ? `full output: ${link(url, 'full record')}`
      : 'cut to fit Slack; the full output is in the request record';
    blocks.push(contextBlock(mrkdwnText(where)));
  }
  const text = `${mrkdwnWithin(r.id, 60)} ${target(r)} — ${r.state}`;
  return { text: truncate(text, FALLBACK_MAX), blocks };
}

/**
 * One mrkdwn line for ephemeral replies and the `text` fallback:
 * "REQ-… deploy checkout-api prod `version=1.4.2` — pending: 1 more approval …".
 * Parameters appear only when `command` is given (sensitive ones masked), since the
 * request alone cannot say which values are sensitive.
 */
export function requestSummaryText(r: ActionRequest, command?: Command): string {
  // Pieces are bounded (60 + 3 × 81 + 250 + 400 + separators < FALLBACK_MAX), so the line
  // is never cut through its code span.
  const head = `${mrkdwnWithin(r.id, 60)} ${target(r)}`;
  const params = command
    ? Object.entries(visibleParams(command, r.params)).map(([k, v]) => `${k}=${String(v)}`)
    : [];
  const shown = params.length > 0 ? ` ${inlineCode(params.join(' '), 250)}` : '';
  const missing = missingSignOffs(r).join('; ');
  const status = r.state === 'pending' ? `pending: ${missing || 'ready to run'}` : r.state;
  return truncate(`${head}${shown} — ${mrkdwnWithin(status, 400)}`, FALLBACK_MAX);
}

const modalTitle = (s: string): PlainTextElement => plainText(s.slice(0, 24));

/** Asks the approver why they deny; `view_submission` carries `{r, d}` in private_metadata. */
export function denyModal(r: ActionRequest): View {
  const what = plainWithin(`${r.id} ${r.command} ${r.service} ${r.environment}`, 400);
  return {
    type: 'modal',
    callback_id: ACTIONS.deny,
    private_metadata: JSON.stringify({ r: r.id, d: r.digest }),
    title: modalTitle('Deny request'),
    submit: modalTitle('Deny'),
    close: modalTitle('Cancel'),
    blocks: [
      { type: 'section', text: plainText(`You are denying ${what}.`) },
      {
        type: 'input',
        block_id: 'reason',
        label: plainText('Why do you deny it?'),
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

const CONFIRM_TITLE: Record<ApprovalKind, string> = {
  approval: 'Confirm approval',
  'window-ack': 'Acknowledge window',
  'rollback-confirm': 'Confirm rollback',
};

/** Asks the approver to type `<service>/<environment>`; private_metadata is `{r, d, k}`. */
export function confirmModal(r: ActionRequest, kind: ApprovalKind): View {
  const expected = plainWithin(confirmationText(r), 300);
  const what = plainWithin(`${r.id} ${r.command} ${r.service} ${r.environment}`, 400);
  return {
    type: 'modal',
    callback_id: 'cs_confirm',
    private_metadata: JSON.stringify({ r: r.id, d: r.digest, k: kind }),
    title: modalTitle(CONFIRM_TITLE[kind] ?? 'Confirm'),
    submit: modalTitle('Approve'),
    close: modalTitle('Cancel'),
    blocks: [
      { type: 'section', text: plainText(`⚠ ${what} is destructive.`) },
      {
        type: 'input',
        block_id: 'confirm',
        label: plainText(`Type ${expected} to confirm`),
        element: { type: 'plain_text_input', action_id: 'value', max_length: 300 },
      },
    ],
  };
}
