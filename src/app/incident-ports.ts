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
