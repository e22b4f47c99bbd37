/**
 * Incidents: the persisted shape of one coordinated response, its timeline, and the
 * changes (deploys, config changes) that may explain it. Pure data: the transitions live
 * in `incident-lifecycle.ts`.
 */
import type { Severity } from './catalog.ts';
import type { Surface } from './request-model.ts';

export type IncidentStatus = 'open' | 'mitigated' | 'resolved';

export type IncidentRole = 'commander' | 'scribe' | 'responder';

export const SEVERITIES: readonly Severity[] = ['sev1', 'sev2', 'sev3', 'sev4'];

/** How the incident came to be. */
export type IncidentOrigin =
  | {
      kind: 'alert';
      route: string;
      /** The alert group that opened it: one incident per group. */
      groupId: string;
      /** The alert's title (alarm name or alertname) that opened it. */
      alert: string;
    }
  | { kind: 'declared'; by: string; surface: Surface };

export interface IncidentSeverity {
  /** The severity in force: the proposal until one is confirmed, then the confirmed one. */
  level: Severity;
  confirmed: boolean;
  /** Who confirmed the level in force (absent while unconfirmed). */
  confirmedBy?: string;
  /** A proposed change awaiting confirmation (e.g. raising to sev1). */
  proposed?: { level: Severity; by: string; at: number };
}

export interface IncidentRoles {
  commander?: string;
  scribe?: string;
  responders: string[];
}

export interface Incident {
  /** "INC-" followed by a sortable id. */
  id: string;
  title: string;
  service: string;
  environment: string;
  /** The owning team: the service's team. */
  team: string;
  severity: IncidentSeverity;
  status: IncidentStatus;
  roles: IncidentRoles;
  origin: IncidentOrigin;
  /** Alert group ids behind it (the opening one first). */
  alertGroups: string[];
  /** Suggested runbook ids (from the route, or named when declared). */
  runbooks: string[];
  /** Requests and runbook runs linked to it, in the order they were linked. */
  requests: string[];
  runs: string[];
  /** The first mitigation a catalog rule ran, if any (at most one per incident). */
  mitigation?: { rule: string; ruleDigest: string; requestId: string };
  /** Slack channel the header lives in, and whether it is a dedicated incident channel. */
  channel?: string;
  dedicatedChannel?: boolean;
  /** The last status update (text), who posted it and when. */
  lastUpdate?: { text: string; by: string; at: number };
  /** When the next status-update reminder is due (ms since epoch); absent once resolved. */
  nextReminderAt?: number;
  /** Milliseconds since epoch. */
  createdAt: number;
  updatedAt: number;
  /** The first action anyone took on it (request, runbook step, mitigation): time to action. */
  firstActionAt?: number;
  mitigatedAt?: number;
  resolvedAt?: number;
  /** Optimistic-concurrency counter; every committed change adds one. */
  version: number;
}

export type TimelineKind =
  | 'opened'
  | 'alert'
  | 'severity'
  | 'role'
  | 'status-update'
  | 'status'
  | 'request'
  | 'approval'
  | 'execution'
  | 'mitigation'
  | 'runbook'
  | 'step'
  | 'note'
  | 'change';

/** One line of the incident's story. Append-only. */
export interface TimelineEntry {
  incidentId: string;
  /** 1, 2, 3 … per incident, in the order entries were appended. */
  seq: number;
  /** Milliseconds since epoch. */
  at: number;
  kind: TimelineKind;
  /** Person id, `system`, or `rule:<id>` for a pre-approved action. */
  actor: string;
  /** One line for people, already free of secrets. */
  text: string;
  /** A request id, run id, alert group id … the entry is about. */
  ref?: string;
  detail: Record<string, unknown>;
}

export type TimelineDraft = Omit<TimelineEntry, 'seq'>;

/** A deploy or configuration change of a service environment, from us or from AWS. */
export interface ChangeRecord {
  /** Unique: the request id, or the ingested event's id. */
  id: string;
  service: string;
  environment: string;
  kind: 'deploy' | 'config';
  /** Where we learned of it. */
  source: 'countersign' | 'ecs' | 'codedeploy' | 'config' | 'cloudtrail';
  /** One line: "deploy version=1.4.2 by alice (REQ-…)", "ECS deployment ecs-svc/123 COMPLETED". */
  summary: string;
  /** Who made it, when known. */
  actor?: string;
  /** ms since epoch. */
  at: number;
  /** Request id or event id to follow. */
  ref?: string;
}

export interface IncidentFilter {
  status?: IncidentStatus[];
  service?: string;
  environment?: string;
  /** Only incidents whose id sorts before this one (newest-first paging). */
  before?: string;
  /** Default 50, at most 500. */
  limit?: number;
}

/** What the incident header shows at a glance: the view chat and the console render. */
export interface IncidentHeaderView {
  incident: Incident;
  /** The alerts behind it: title, state, since. */
  alerts: { title: string; state: string; since: number }[];
  lastDeploy?: ChangeRecord;
  lastConfigChange?: ChangeRecord;
  /** Suggested runbooks with their titles. */
  runbooks: { id: string; title: string }[];
  /** Active runbook runs: id, runbook, current step title. */
  activeRuns: { id: string; runbook: string; step?: string }[];
}
