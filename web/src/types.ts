/**
 * The shapes the console reads from `/api/v1`, declared here so the app depends on the
 * HTTP contract and not on the server's modules. Times are milliseconds since epoch.
 * Fields the console does not show are left out; extra fields are ignored.
 */

export type CommandClass = 'read-only' | 'mutating' | 'destructive';
export type ApprovalKind = 'approval' | 'window-ack' | 'rollback-confirm';
export type RequestState =
  | 'pending'
  | 'approved'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'unknown'
  | 'denied'
  | 'expired'
  | 'cancelled';

export const REQUEST_STATES: readonly RequestState[] = [
  'pending',
  'approved',
  'running',
  'succeeded',
  'failed',
  'unknown',
  'denied',
  'expired',
  'cancelled',
];

export interface Person {
  id: string;
  name: string;
  team?: string | null;
  roles: string[];
}

export interface Session {
  person: Person;
  /** Sent back as `X-CSRF-Token` on every mutating call. */
  csrf: string;
  /** How the person signed in: `demo`, `oidc`. */
  via: string;
  /** The session ends after this long without use, in milliseconds. */
  idleMs: number;
}

export interface Links {
  ticket?: string;
  incident?: string;
  pr?: string;
}

export interface SignOffRequirement {
  kind: ApprovalKind;
  count: number;
  roles: string[];
  because: string;
}

export interface SignOff {
  kind: ApprovalKind;
  by: string;
  surface: string;
  at: number;
  digest: string;
}

export interface ExecutionRecord {
  attempt: number;
  startedAt: number;
  finishedAt?: number;
  outcome?: 'succeeded' | 'failed' | 'unknown';
  output?: string;
  error?: string;
  settledBy?: string;
  settleNote?: string;
}

export type RollbackPlan = { command: string } | { none: string };

/** A request as the API renders it (`requestView`): sensitive values masked. */
export interface ActionRequest {
  id: string;
  command: string;
  service: string;
  environment: string;
  class: CommandClass;
  params: Record<string, string | number | boolean>;
  links: Links;
  reason?: string;
  requester: string;
  surface: string;
  digest: string;
  state: RequestState;
  requirements: SignOffRequirement[];
  signOffs: SignOff[];
  breakGlass?: { reason: string };
  origin?: { kind: string; run?: string; step?: string; rule?: string; incident?: string };
  preview?: { changes: string[]; error?: string };
  execution?: ExecutionRecord;
  decidedBy?: string;
  decisionReason?: string;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  /** Sentences naming each sign-off still missing (pending requests only). */
  missing: string[];
  /** What a destructive command's approver types: `<service>/<environment>`. */
  confirmationText?: string;
  rollback: RollbackPlan | null;
}

/** One entry of `GET /me/approvals`: a request and the sign-offs this person may give. */
export interface ApprovalItem {
  request: ActionRequest;
  /** Sign-off kinds the person may give now. */
  kinds: ApprovalKind[];
}

export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  surface: string;
  action: string;
  target: string;
  result: string;
  paramsDigest: string;
  links: Links;
  detail: Record<string, unknown>;
  hash?: string;
}

/** A page of `GET /audit`: what the person may see, the last seq read, whether more may follow. */
export interface AuditPage {
  entries: AuditEntry[];
  lastSeq?: number;
  more: boolean;
}

export type Severity = 'sev1' | 'sev2' | 'sev3' | 'sev4';
export type IncidentStatus = 'open' | 'mitigated' | 'resolved';

export interface Incident {
  id: string;
  title: string;
  service: string;
  environment: string;
  team: string;
  severity: {
    level: Severity;
    confirmed: boolean;
    confirmedBy?: string;
    proposed?: { level: Severity; by: string; at: number };
  };
  status: IncidentStatus;
  roles: { commander?: string; scribe?: string; responders: string[] };
  origin: { kind: 'alert'; route: string; alert: string } | { kind: 'declared'; by: string };
  runbooks: string[];
  requests: string[];
  runs: string[];
  mitigation?: { rule: string; requestId: string };
  lastUpdate?: { text: string; by: string; at: number };
  createdAt: number;
  updatedAt: number;
  firstActionAt?: number;
  mitigatedAt?: number;
  resolvedAt?: number;
}

export interface ChangeRecord {
  id: string;
  kind: 'deploy' | 'config';
  source: string;
  summary: string;
  actor?: string;
  at: number;
  ref?: string;
}

export interface IncidentHeader {
  alerts: { title: string; state: string; since: number }[];
  lastDeploy?: ChangeRecord;
  lastConfigChange?: ChangeRecord;
  runbooks: { id: string; title: string }[];
  activeRuns: { id: string; runbook: string; step?: string }[];
}

export interface TimelineEntry {
  seq: number;
  at: number;
  kind: string;
  actor: string;
  text: string;
  ref?: string;
}

export type StepKind = 'command' | 'check' | 'decision' | 'wait' | 'notify';
export type StepAction = 'run' | 'ack' | 'skip' | 'choose';

export interface RunbookStep {
  id: string;
  kind: StepKind;
  title: string;
  description?: string;
  command?: string;
  params?: Record<string, string>;
  branches?: { id: string; label: string; next: string }[];
  timeoutMinutes?: number;
  text?: string;
}

export interface StepRecord {
  stepId: string;
  status: 'current' | 'requested' | 'done' | 'skipped' | 'failed' | 'timed-out';
  startedAt: number;
  finishedAt?: number;
  operator?: string;
  requestId?: string;
  output?: string;
  choice?: string;
  reason?: string;
  deadline?: number;
}

export type RunState = 'active' | 'completed' | 'failed' | 'aborted';

export interface RunbookRun {
  id: string;
  runbook: string;
  runbookDigest: string;
  incident?: string;
  ticket?: string;
  service: string;
  environment: string;
  startedBy: string;
  state: RunState;
  steps: StepRecord[];
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
}

export interface RunView {
  run: RunbookRun;
  runbook: { id: string; title: string; digest: string };
  current?: { step: RunbookStep; record: StepRecord; actions: StepAction[] };
  next?: { id: string; title: string };
  history: (StepRecord & { title: string })[];
}

export interface RunbookSummary {
  id: string;
  title: string;
  team: string;
  description?: string;
  services: string[];
  digest: string;
  steps: { id: string; kind: StepKind; title: string }[];
}

export interface AlertRecord {
  fingerprint: string;
  state: 'firing' | 'resolved' | 'insufficient-data';
  route: string;
  team: string;
  service: string;
  environment: string;
  severity: string;
  channel: string;
  facts: { title: string; description?: string; reason?: string; since: number };
  firstSeen: number;
  lastSeen: number;
  count: number;
  flapping: boolean;
  silencedBy?: string;
}

export interface Silence {
  id: string;
  service: string;
  environment: string;
  pattern: Record<string, unknown>;
  reason: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  expiredBy?: string;
  expiredAt?: number;
}

export interface DurationStats {
  samples: number;
  median?: number;
  p90?: number;
}

export interface OutcomeStats {
  alertToFirstAction: DurationStats;
  requestToApproval: DurationStats;
  approvalToResult: DurationStats;
  finished: number;
  failed: number;
  failureRate?: number;
  rollbackEligible: number;
  rolledBack: number;
  rollbackRate?: number;
  preApproved: number;
  breakGlass: number;
}

export interface ReviewReport {
  window: { since: number; until: number };
  workflows: (OutcomeStats & { workflow: string; count: number })[];
  totals: OutcomeStats & { requests: number; incidents: number; runs: number };
}

/** The answer of `POST /commands`: plain text for people, with what it made or found. */
export interface CommandAnswer {
  text: string;
  request?: ActionRequest;
  incident?: Incident;
  incidents?: Incident[];
  run?: RunbookRun;
  view?: RunView;
  ran?: { ok: boolean; output: string; error?: string };
}

export interface VerifyReport {
  ok: boolean;
  checked: number;
  message: string;
}
