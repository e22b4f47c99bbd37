/**
 * The catalog: Countersign's configuration as code, after validation.
 *
 * These types are the domain's view of the YAML folder. `src/config/catalog-schema.ts`
 * validates the files with zod and produces exactly these shapes; the domain never sees
 * YAML. Every identifier is a lower-case slug (`checkout-api`, `deploy`) unless noted.
 */
import type { IncidentSettings, MitigationRule, Runbook } from './runbook-model.ts';

/** How much a command can change. Read-only runs at once; the others go through policy. */
export type CommandClass = 'read-only' | 'mutating' | 'destructive';

/** The verbs a grant can give. `administer` implies every other verb. */
export type GrantAction = 'view' | 'request' | 'approve' | 'administer';

export const GRANT_ACTIONS: readonly GrantAction[] = ['view', 'request', 'approve', 'administer'];

/** The kinds of sign-off a request can need, each satisfied separately. */
export type ApprovalKind = 'approval' | 'window-ack' | 'rollback-confirm';

export interface Team {
  id: string;
  name: string;
}

export interface ApiTokenRef {
  /** A label for the token, shown in audit entries ("ci", "laptop"). */
  name: string;
  /** Lower-case hex SHA-256 of the token. The token itself is never stored. */
  sha256: string;
}

export interface Person {
  id: string;
  name: string;
  team?: string;
  roles: string[];
  slack?: string;
  /** The console login (user name or e-mail) this person signs in with. */
  console?: string;
  tokens: ApiTokenRef[];
}

/** `*` in any list matches every value. */
export interface Grant {
  actions: GrantAction[];
  commands: string[];
  services: string[];
  environments: string[];
}

export interface Role {
  id: string;
  description?: string;
  grants: Grant[];
  /** May run a mutating command without approval, with a mandatory reason (loudly notified). */
  breakGlass: boolean;
}

export interface Environment {
  name: string;
  /** The 12-digit AWS account the environment lives in. */
  awsAccount?: string;
  region?: string;
}

export interface ServiceChannels {
  /** Slack channel id where approval prompts are posted. */
  approvals?: string;
  alerts?: string;
  ops?: string;
}

export interface Service {
  id: string;
  team: string;
  description?: string;
  environments: Environment[];
  channels: ServiceChannels;
}

export type ParamType = 'string' | 'integer' | 'boolean' | 'semver' | 'enum';

export interface ParamSpec {
  name: string;
  type: ParamType;
  required: boolean;
  description?: string;
  /** For `string`: a regular expression the whole value must match. */
  pattern?: string;
  /** For `string`: longest accepted value, in UTF-16 code units. Default 256. */
  maxLength?: number;
  /** For `enum`. */
  values?: string[];
  /** For `integer`, inclusive bounds. */
  min?: number;
  max?: number;
  /** A sensitive value is redacted from outputs, logs, chat and the audit trail. */
  sensitive: boolean;
}

/** Where the code of a command lives. Paths are relative to the catalog folder. */
export type HandlerRef =
  | { kind: 'lambda-module'; module: string; export: string }
  | { kind: 'state-machine'; definition: string; handlers?: string };

export type RollbackPlan = { command: string } | { none: string };

export interface Command {
  id: string;
  team: string;
  description: string;
  class: CommandClass;
  params: ParamSpec[];
  handler: HandlerRef;
  /** A read-only handler that describes what the command would change. */
  preview?: HandlerRef;
  /** Required for mutating and destructive commands. */
  rollback?: RollbackPlan;
  /** Wall-clock limit for one execution, in seconds. Default 60. */
  timeoutSeconds: number;
  /** A command that is safe to run again after a crash mid-call. Default false. */
  idempotent: boolean;
  /** Extra sign-off kinds this command always needs, e.g. a rollback confirmation. */
  confirmations: ApprovalKind[];
  /** Where results go: the channel the request came from, or only the requester. */
  output: 'channel' | 'requester';
}

/** Which requests a policy applies to; an omitted list matches everything. */
export interface PolicyMatch {
  commands?: string[];
  services?: string[];
  environments?: string[];
  classes?: CommandClass[];
}

export interface ApprovalPolicy {
  id: string;
  match: PolicyMatch;
  /** Distinct approvers needed, never counting the requester. 0 means no approval. */
  approvals: number;
  /** Roles an approver must hold (any of them). */
  approverRoles: string[];
  /** Roles that may give a rollback confirmation, when the command asks for one. */
  rollbackConfirmRoles: string[];
  /** How long a request waits for its approvals, in minutes. Default 60. */
  expiresAfterMinutes: number;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** A recurring weekly window (open) or a fixed-interval freeze (closed). */
export type ChangeWindow =
  | {
      id: string;
      kind: 'window';
      services: string[];
      environments: string[];
      days: Weekday[];
      /** "HH:MM", 24-hour, in `timezone`. */
      start: string;
      end: string;
      /** IANA zone name, e.g. "Europe/London". */
      timezone: string;
      acknowledgeRoles: string[];
    }
  | {
      id: string;
      kind: 'freeze';
      services: string[];
      environments: string[];
      /** Milliseconds since epoch, inclusive start and exclusive end. */
      from: number;
      to: number;
      reason: string;
      acknowledgeRoles: string[];
    };

export interface ChannelRule {
  /** Slack channel id, or `dm` for direct messages. */
  channel: string;
  commands: string[];
}

/** Proposed severity of what a route catches: sev1 is the worst. */
export type Severity = 'sev1' | 'sev2' | 'sev3' | 'sev4';

/**
 * Where an ingested event goes. Routes are tried in catalog order; the first that matches
 * wins unless it says `continue`. A route without a pattern is the default route: it takes
 * what no other route took.
 */
export interface Route {
  id: string;
  team: string;
  description?: string;
  /** An EventBridge event pattern (validated at load); absent for the default route. */
  pattern?: Record<string, unknown>;
  isDefault: boolean;
  service?: string;
  /** An environment name, or `from-account`: the service environment whose AWS account (and region) the event comes from. */
  environment: string;
  severity: Severity;
  /** Slack channel id; default the service's alerts channel. */
  channel?: string;
  runbooks: string[];
  /** Envelope paths (`detail.alarmName`, `account`) whose values form the alert group; empty: one group per alert. */
  groupBy: string[];
  /** Alerts with the same group key within this many minutes share one message. */
  groupWindowMinutes: number;
  /** Keep trying later routes after this one matched. */
  continue: boolean;
  /** False: record and count, but post nothing. */
  notify: boolean;
  /** True: a firing alert of this route opens an incident (one per alert group). */
  incident: boolean;
}

/** An SNS topic whose messages are accepted (anyone can sign a message with their own topic). */
export interface SnsTopic {
  arn: string;
  description?: string;
}

/** How many new alert messages a channel takes per minute before alerts collapse into a digest. */
export interface AlertChannel {
  channel: string;
  budgetPerMinute: number;
}

/** A fixed interval in which alerts for these services are recorded but not posted. */
export interface MaintenanceWindow {
  id: string;
  services: string[];
  environments: string[];
  /** Milliseconds since epoch, inclusive start and exclusive end. */
  from: number;
  to: number;
  reason: string;
}

export interface Catalog {
  /** Hex SHA-256 over the canonical catalog, written to the audit log when loaded. */
  digest: string;
  teams: Team[];
  people: Person[];
  roles: Role[];
  services: Service[];
  commands: Command[];
  policies: ApprovalPolicy[];
  changeWindows: ChangeWindow[];
  /** Which commands may be requested from which channels. Empty means anywhere. */
  channelRules: ChannelRule[];
  routes: Route[];
  snsTopics: SnsTopic[];
  alertChannels: AlertChannel[];
  maintenanceWindows: MaintenanceWindow[];
  runbooks: Runbook[];
  /** Pre-approved first mitigations, tried in catalog order; the first that matches runs. */
  mitigations: MitigationRule[];
  incidents: IncidentSettings;
  /** The folder the catalog was loaded from; handler paths resolve against it. */
  root: string;
}

export function findRunbook(catalog: Catalog, id: string): Runbook | undefined {
  return catalog.runbooks.find((r) => r.id === id);
}

export function findCommand(catalog: Catalog, id: string): Command | undefined {
  return catalog.commands.find((c) => c.id === id);
}

export function findService(catalog: Catalog, id: string): Service | undefined {
  return catalog.services.find((s) => s.id === id);
}

export function findPerson(catalog: Catalog, id: string): Person | undefined {
  return catalog.people.find((p) => p.id === id);
}

export function isMutating(command: Command): boolean {
  return command.class !== 'read-only';
}
