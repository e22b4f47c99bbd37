/**
 * Where incidents and runbook runs are shown. Chat is a view: the outbox calls these after
 * the state committed, and they post once, then update in place. Implemented by
 * `src/adapters/slack/slack-incident-chat.ts` (and a log-only version without Slack).
 */

import type { Incident, IncidentHeaderView } from '../domain/incident-model.ts';
import type { IncidentSettings, RunView } from '../domain/runbook-model.ts';

export interface IncidentChat {
  /**
   * Posts the incident header, or updates it in place. With `settings.chat === 'channel'`
   * it first creates the incident's channel (once) and posts there; otherwise it posts in
   * `incident.channel`. Returns the channel the header lives in.
   */
  showIncident(
    view: IncidentHeaderView,
    settings: IncidentSettings,
  ): Promise<{ channel: string } | undefined>;
  /** Posts one line in the incident's thread (or channel), at most once per `key`. */
  postToIncident(incident: Incident, key: string, text: string): Promise<void>;
  /** Posts the run's step card in the incident's thread (or the run's channel), or updates it. */
  showRun(view: RunView, incident: Incident | undefined): Promise<void>;
}

/** Incident-response counters and histograms (Prometheus in production; see `metrics.ts`). */
export interface ResponseMetrics {
  /** An incident was opened: by an alert route or declared by a person. */
  incidentOpened(origin: 'alert' | 'declared'): void;
  /** A catalog mitigation rule ran its pre-approved command. */
  preapprovedRun(rule: string): void;
  /** A runbook step ended (`done`, `skipped`, `failed`, `timed-out`). */
  runbookStep(runbook: string, status: string): void;
  /** From an alert opening an incident to the first action on it, by the alert's route. */
  alertToAction(route: string, seconds: number): void;
  /** From a request being made to it being approved (all sign-offs given). */
  requestToApproval(command: string, seconds: number): void;
  /** From approval to the execution's result (`succeeded`, `failed`, `unknown`). */
  approvalToResult(command: string, outcome: string, seconds: number): void;
}
