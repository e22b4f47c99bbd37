/**
 * Runbooks as code and their guided runs. A runbook is a list of steps in the catalog,
 * versioned by digest; a run walks one pinned version of it, recording for every step who
 * acted, what came out and when. Pure data: the walk lives in `runbook-run.ts`.
 *
 * A step goes to `next` when it says so, else to the step after it; `end` finishes the run.
 * Parameter values of a command step may use `{{service}}`, `{{environment}}` and
 * `{{incident}}`, filled from the run.
 */
import type { Surface } from './request-model.ts';

/** Where a step goes next: a step id, or `end`. */
export type StepTarget = string;

interface StepBase {
  id: string;
  title: string;
  /** Shown with the step: what to look at, why it is safe. */
  description?: string;
  next?: StepTarget;
}

/** Runs a catalog command on the run's service and environment; policy applies as anywhere. */
export interface CommandStep extends StepBase {
  kind: 'command';
  command: string;
  params: Record<string, string>;
  /** Where to go when the command fails (default: the run stops at this step as failed). */
  onFailure?: StepTarget;
}

/** A person checks something and acknowledges it. */
export interface CheckStep extends StepBase {
  kind: 'check';
}

export interface DecisionBranch {
  /** A slug the operator picks (`yes`, `rollback`). */
  id: string;
  label: string;
  next: StepTarget;
}

/** A person picks a branch. */
export interface DecisionStep extends StepBase {
  kind: 'decision';
  branches: DecisionBranch[];
}

/** Waits until the incident's alarms are back to OK, or the timeout passes. */
export interface WaitStep extends StepBase {
  kind: 'wait';
  condition: 'alarms-ok';
  timeoutMinutes: number;
  /** Where to go on timeout (default: `next`). */
  onTimeout?: StepTarget;
}

/** Posts a message to the run's channel (or the incident's), then goes on by itself. */
export interface NotifyStep extends StepBase {
  kind: 'notify';
  text: string;
}

export type RunbookStep = CommandStep | CheckStep | DecisionStep | WaitStep | NotifyStep;

export interface Runbook {
  id: string;
  team: string;
  title: string;
  description?: string;
  /** Services it applies to; `*` for any. */
  services: string[];
  steps: RunbookStep[];
  /** Hex SHA-256 of the runbook's canonical JSON: a run pins it. */
  digest: string;
}

/**
 * A catalog rule that pre-approves a first mitigation: when `route` opens an incident for
 * `service` in one of `environments`, run `command` with `params`, once per incident.
 * Destructive commands are refused at load.
 */
export interface MitigationRule {
  id: string;
  team: string;
  description?: string;
  route: string;
  service: string;
  /** Environment names, or `*`. */
  environments: string[];
  command: string;
  params: Record<string, string>;
  /** Hex SHA-256 of the rule's canonical JSON; audited with every run. */
  digest: string;
}

/** Catalog-wide incident settings. */
export interface IncidentSettings {
  /** `thread`: the header is posted in the alert/ops channel and updates go in its thread; `channel`: a channel per incident. */
  chat: 'thread' | 'channel';
  /** For `chat: channel`: the new channel's name, from `{id}`, `{service}`, `{environment}`, `{date}` (YYYYMMDD). */
  channelPattern: string;
  /** Roles whose holders may confirm a proposed severity. */
  severityConfirmRoles: string[];
  /** Minutes between status-update reminders while the incident is open, per severity; 0 never. */
  reminderMinutes: Record<'sev1' | 'sev2' | 'sev3' | 'sev4', number>;
}

export type RunState = 'active' | 'completed' | 'failed' | 'aborted';

export type StepStatus =
  /** Waiting for a person (run, acknowledge, decide) or for a condition. */
  | 'current'
  /** A command step's request exists and waits for approval or execution. */
  | 'requested'
  | 'done'
  | 'skipped'
  | 'failed'
  | 'timed-out';

/** What happened at one step: the evidence. Appended in order; a step visited twice appears twice. */
export interface StepRecord {
  stepId: string;
  status: StepStatus;
  /** ms since epoch: when the step became current, and when it ended. */
  startedAt: number;
  finishedAt?: number;
  /** Who acted on it (ran, acknowledged, decided, skipped). */
  operator?: string;
  surface?: Surface;
  /** The command step's request. */
  requestId?: string;
  /** Redacted, bounded output of the command, or the operator's note. */
  output?: string;
  /** The decision branch taken. */
  choice?: string;
  /** Why it was skipped. */
  reason?: string;
  /** For a wait step: when it gives up (ms since epoch). */
  deadline?: number;
}

export interface RunbookRun {
  /** "RBR-" followed by a sortable id. */
  id: string;
  runbook: string;
  /** The runbook version this run walks. */
  runbookDigest: string;
  /**
   * The runbook as it was when the run started, so a catalog change never changes a run
   * under way. Set by the app when it stores the run.
   */
  definition?: Runbook;
  /** What it was started from: an incident, or a change ticket. */
  incident?: string;
  ticket?: string;
  service: string;
  environment: string;
  startedBy: string;
  state: RunState;
  /** Index into `steps` of the current record while active. */
  steps: StepRecord[];
  /** Milliseconds since epoch. */
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  version: number;
}

/** What a catalog without an `incidents:` section gets. */
export const DEFAULT_INCIDENT_SETTINGS: IncidentSettings = {
  chat: 'thread',
  channelPattern: 'inc-{date}-{service}',
  severityConfirmRoles: [],
  reminderMinutes: { sev1: 15, sev2: 30, sev3: 60, sev4: 0 },
};

/** What a run's step card shows: the chat view and the console's guided view. */
export interface RunView {
  run: RunbookRun;
  runbook: { id: string; title: string; digest: string };
  /** The current step (while active) with what the operator may do now. */
  current?: {
    step: RunbookStep;
    record: StepRecord;
    actions: ('run' | 'ack' | 'skip' | 'choose')[];
  };
  /** The step that follows the current one on its default path: the next safe step. */
  next?: { id: string; title: string };
  /** Every step record with the step's title, in order: the evidence. */
  history: (StepRecord & { title: string })[];
}
