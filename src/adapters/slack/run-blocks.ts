/**
 * A runbook run as Slack shows it: the step card (posted once, then updated in place as the
 * run moves), the Skip modal, and the values its buttons carry. Pure functions from the
 * stored view to Block Kit; no I/O, no clock (callers pass `now`).
 *
 * Every button names the run and the step it was shown for (`{run, step, branch?}`), never
 * "the current step": a click on a stale card reaches the app with the old step id and is
 * refused there (STEP_OUT_OF_ORDER) instead of acting on whatever step is current now.
 */
import type { ActionsBlock, Button, KnownBlock, SectionBlock, View } from '@slack/types';
import type { RunState, RunView, StepRecord, StepStatus } from '../../domain/runbook-model.ts';
import { fillParams } from '../../domain/runbook-run.ts';
import {
  type Cuts,
  clock,
  contextBlock,
  fitted,
  headerBlock,
  LIMITS,
  mrkdwnText,
  plainText,
} from './block-text.ts';
import { escapeMrkdwn, inlineCode, mrkdwnWithin, plainWithin, truncate } from './safe-text.ts';

export type Message = { text: string; blocks: KnownBlock[] };

export const RUN_ACTIONS = {
  run: 'run_step_run',
  ack: 'run_step_ack',
  /** One button per branch: `run_step_choose.0`, `.1` … (action ids must differ within a block). */
  choose: 'run_step_choose',
  /** Opens `skipModal`. */
  skip: 'run_step_skip',
} as const;

/** Matches every branch button's action id. */
export const CHOOSE_ACTION = /^run_step_choose(?:\.\d{1,2})?$/;
/** The Skip modal's callback id; private_metadata is `stepButtonValue` without a branch. */
export const SKIP_CALLBACK = 'run_step_skip';

export interface RunCardInput {
  view: RunView;
  /** A person's plain display name, never markup. */
  names: (personId: string) => string;
  /** Milliseconds since epoch. */
  now: number;
}

/** History records shown (the newest); older ones are counted. */
export const HISTORY_SHOWN = 30;
const HISTORY_SECTIONS = 4;
const FALLBACK_MAX = 1000;
const RUN_ID = /^RBR-[0-9A-Za-z]{1,40}$/;
const STEP_OR_BRANCH = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

const STATUS_ICON: Record<StepStatus, string> = {
  current: '▶️',
  requested: '⏳',
  done: '✅',
  skipped: '⏭️',
  failed: '❌',
  'timed-out': '⌛',
};
const RUN_ICON: Record<RunState, string> = {
  active: '▶️',
  completed: '✅',
  failed: '❌',
  aborted: '⏹️',
};
const KIND_WORDS = {
  command: 'runs a command',
  check: 'check and acknowledge',
  decision: 'pick a branch',
  wait: 'waits for the alarms to clear',
  notify: 'posts a message',
} as const;

// ---------------------------------------------------------------------------------------
// Button values

export interface StepButton {
  runId: string;
  stepId: string;
  branch?: string;
}

/** `{run, step}` or `{run, step, branch}`: the run and the step the card showed. */
export function stepButtonValue(b: StepButton): string {
  return JSON.stringify({
    run: b.runId,
    step: b.stepId,
    ...(b.branch !== undefined ? { branch: b.branch } : {}),
  });
}

/** The inverse of `stepButtonValue`; anything else (extra keys, bad shapes, > 2000) is undefined. */
export function parseStepValue(v: unknown): StepButton | undefined {
  if (typeof v !== 'string' || v.length > LIMITS.buttonValue) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const o = parsed as Record<string, unknown>;
  const keys = Object.keys(o).sort().join();
  if (keys !== 'run,step' && keys !== 'branch,run,step') return undefined;
  const { run, step, branch } = o;
  if (typeof run !== 'string' || !RUN_ID.test(run)) return undefined;
  if (typeof step !== 'string' || !STEP_OR_BRANCH.test(step)) return undefined;
  if (branch !== undefined && (typeof branch !== 'string' || !STEP_OR_BRANCH.test(branch))) {
    return undefined;
  }
  return { runId: run, stepId: step, ...(branch !== undefined ? { branch } : {}) };
}

// ---------------------------------------------------------------------------------------
// The current step

function button(actionId: string, label: string, value: string, primary = false): Button {
  return {
    type: 'button',
    action_id: actionId,
    text: plainText(plainWithin(label, LIMITS.buttonText)),
    value,
    ...(primary ? { style: 'primary' as const } : {}),
  };
}

/** The buttons `view.current.actions` allows, each naming the step they were shown for. */
export function stepActions(view: RunView): ActionsBlock | undefined {
  const c = view.current;
  if (!c || view.run.state !== 'active' || c.actions.length === 0) return undefined;
  const base = { runId: view.run.id, stepId: c.step.id };
  const value = stepButtonValue(base);
  const buttons: Button[] = [];
  if (c.actions.includes('run') && c.step.kind === 'command') {
    buttons.push(button(RUN_ACTIONS.run, '▶ Run', value, true));
  }
  if (c.actions.includes('ack')) buttons.push(button(RUN_ACTIONS.ack, 'Acknowledge', value, true));
  if (c.actions.includes('choose') && c.step.kind === 'decision') {
    c.step.branches.slice(0, 20).forEach((b, n) => {
      const v = stepButtonValue({ ...base, branch: b.id });
      buttons.push(button(`${RUN_ACTIONS.choose}.${n}`, b.label, v));
    });
  }
  if (c.actions.includes('skip')) buttons.push(button(RUN_ACTIONS.skip, 'Skip…', value));
  if (buttons.length === 0) return undefined;
  const blockId = `cs_run:${view.run.id}:${view.run.version}`.replace(/[^A-Za-z0-9:_-]/g, '_');
  return { type: 'actions', block_id: blockId.slice(0, LIMITS.blockId), elements: buttons };
}

/** What the command step will ask for: `restart checkout-api prod replicas=8`, placeholders filled. */
function commandLine(view: RunView): string | undefined {
  const step = view.current?.step;
  if (step?.kind !== 'command') return undefined;
  const run = view.run;
  const params = fillParams(step.params, {
    service: run.service,
    environment: run.environment,
    ...(run.incident !== undefined ? { incident: run.incident } : {}),
  });
  const pairs = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  return [step.command, run.service, run.environment, ...pairs].join(' ');
}

function waitingLine(record: StepRecord, now: number): string | undefined {
  if (record.status === 'requested') {
    const req = record.requestId ? ` ${mrkdwnWithin(record.requestId, 60)}` : '';
    return `⏳ Request${req} is waiting for approval or running; the card moves on when it finishes.`;
  }
  if (record.deadline !== undefined) return `⌛ Gives up at ${clock(record.deadline, now)}.`;
  return undefined;
}

function currentBlocks(p: RunCardInput, cuts: Cuts): KnownBlock[] {
  const c = p.view.current;
  if (!c || p.view.run.state !== 'active') return [];
  const { step, record } = c;
  const lines = [
    `*Now: ${mrkdwnWithin(step.title, 300)}* · ${KIND_WORDS[step.kind] ?? escapeMrkdwn(step.kind)}`,
  ];
  if (step.description) lines.push(mrkdwnWithin(step.description, 1500));
  const waiting = waitingLine(record, p.now);
  if (waiting) lines.push(waiting);
  const out: KnownBlock[] = [
    { type: 'section', text: mrkdwnText(fitted(cuts, lines.join('\n'), LIMITS.sectionText)) },
  ];
  const command = commandLine(p.view);
  if (command !== undefined) {
    out.push({
      type: 'section',
      text: mrkdwnText('*Command*'),
      fields: [
        plainText(fitted(cuts, plainWithin(command, LIMITS.fieldText * 2), LIMITS.fieldText)),
      ],
    });
  }
  const actions = stepActions(p.view);
  if (actions) out.push(actions);
  if (p.view.next)
    out.push(contextBlock(mrkdwnText(`Next safe step: ${mrkdwnWithin(p.view.next.title, 300)}`)));
  return out;
}

// ---------------------------------------------------------------------------------------
// History

function firstLine(text: string | undefined): string | undefined {
  const line = text?.split('\n').find((l) => l.trim() !== '');
  return line === undefined ? undefined : line.trim();
}

/**
 * One record: icon, title, operator, time, choice/reason, request id, first line of output.
 * Every part is bounded, so a line stays under 800 code units and is never cut (a cut could
 * split a code span).
 */
function historyLine(r: RunView['history'][number], p: RunCardInput): string {
  const parts = [`${STATUS_ICON[r.status] ?? '•'} ${mrkdwnWithin(r.title, 120)}`];
  if (r.operator !== undefined) parts.push(mrkdwnWithin(p.names(r.operator), 60));
  parts.push(clock(r.finishedAt ?? r.startedAt, p.now));
  if (r.choice !== undefined) parts.push(`chose ${inlineCode(r.choice, 60)}`);
  if (r.reason !== undefined) parts.push(`reason: ${mrkdwnWithin(r.reason, 200)}`);
  if (r.requestId) parts.push(mrkdwnWithin(r.requestId, 60));
  const output = firstLine(r.output);
  if (output !== undefined) parts.push(inlineCode(output, 160));
  return parts.join(' · ');
}

/** Room for lines in one history section, leaving space for its heading. */
const HISTORY_ROOM = LIMITS.sectionText - 100;

/**
 * The newest records (at most `HISTORY_SHOWN`, in at most `HISTORY_SECTIONS` sections of
 * at most 3000 code units), oldest first, under a heading that counts the ones left out.
 */
function historyBlocks(p: RunCardInput): KnownBlock[] {
  const all = p.view.history;
  if (all.length === 0) return [];
  const packed: string[] = [];
  let section = '';
  let shown = 0;
  for (let k = all.length - 1; k >= 0 && shown < HISTORY_SHOWN; k--) {
    const line = historyLine(all[k]!, p);
    if (section !== '' && section.length + 1 + line.length > HISTORY_ROOM) {
      if (packed.length + 1 >= HISTORY_SECTIONS) break;
      packed.push(section);
      section = '';
    }
    section = section === '' ? line : `${line}\n${section}`;
    shown++;
  }
  packed.push(section);
  const sections = packed.reverse();
  const earlier = all.length - shown;
  const heading = `*History*${earlier > 0 ? ` · ${earlier} earlier steps not shown` : ''}`;
  sections[0] = `${heading}\n${sections[0]}`;
  return sections.map((t): SectionBlock => ({ type: 'section', text: mrkdwnText(t) }));
}

// ---------------------------------------------------------------------------------------
// The card

function facts(p: RunCardInput): string {
  const run = p.view.run;
  const parts = [
    mrkdwnWithin(run.id, 60),
    `${mrkdwnWithin(run.service, 80)} ${mrkdwnWithin(run.environment, 80)}`,
  ];
  if (run.incident !== undefined) parts.push(`incident ${mrkdwnWithin(run.incident, 60)}`);
  if (run.ticket !== undefined) parts.push(`ticket ${mrkdwnWithin(run.ticket, 100)}`);
  parts.push(
    `started by ${mrkdwnWithin(p.names(run.startedBy), 100)} ${clock(run.createdAt, p.now)}`,
  );
  parts.push(
    `runbook ${inlineCode(p.view.runbook.id, 80)} @ ${escapeMrkdwn(p.view.runbook.digest.slice(0, 12))}`,
  );
  return parts.join(' · ');
}

function stateLine(p: RunCardInput): string {
  const run = p.view.run;
  const icon = RUN_ICON[run.state] ?? '';
  if (run.state === 'active') return `${icon} *active*`;
  const when = run.finishedAt !== undefined ? ` ${clock(run.finishedAt, p.now)}` : '';
  return `${icon} *${escapeMrkdwn(run.state)}*${when}`;
}

/** The step card: a view of the stored run in any state. */
export function runCardMessage(p: RunCardInput): Message {
  const cuts: Cuts = { any: false };
  const blocks: KnownBlock[] = [
    headerBlock(`📋 ${p.view.runbook.title}`),
    { type: 'section', text: mrkdwnText(stateLine(p)) },
    contextBlock(mrkdwnText(truncate(facts(p), LIMITS.contextText))),
    ...currentBlocks(p, cuts),
    ...historyBlocks(p),
  ];
  if (cuts.any)
    blocks.push(contextBlock(mrkdwnText('text cut to fit Slack; the full run is in the console')));
  return { text: runSummaryText(p.view), blocks };
}

/** One mrkdwn line: "📋 RBR-… high-error-rate active — now: Look at the dashboard". */
export function runSummaryText(view: RunView): string {
  const run = view.run;
  const now =
    view.current && run.state === 'active'
      ? ` — now: ${mrkdwnWithin(view.current.step.title, 300)}`
      : '';
  const line = `📋 ${mrkdwnWithin(run.id, 60)} ${mrkdwnWithin(view.runbook.title, 300)} ${escapeMrkdwn(run.state)}${now}`;
  return truncate(line, FALLBACK_MAX);
}

/** Asks why the step is skipped; private_metadata is `{run, step}`. */
export function skipModal(b: { runId: string; stepId: string }, stepTitle: string): View {
  const what = plainWithin(`${b.runId}: ${stepTitle}`, 400);
  return {
    type: 'modal',
    callback_id: SKIP_CALLBACK,
    private_metadata: stepButtonValue({ runId: b.runId, stepId: b.stepId }),
    title: plainText('Skip step'),
    submit: plainText('Skip'),
    close: plainText('Cancel'),
    blocks: [
      { type: 'section', text: plainText(`You are skipping ${what}.`) },
      {
        type: 'input',
        block_id: 'reason',
        label: plainText('Why is it safe to skip?'),
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 500 },
      },
    ],
  };
}
