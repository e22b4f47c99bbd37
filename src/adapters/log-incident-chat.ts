/**
 * The incident chat of the embedded default: without Slack, incident headers, status lines
 * and runbook step cards go to the log. Slack replaces it when configured.
 */
import type { Log } from '../app/context.ts';
import type { IncidentChat } from '../app/incident-ports.ts';

export function logIncidentChat(log: Log): IncidentChat {
  return {
    async showIncident(v) {
      const i = v.incident;
      log.info(
        {
          incident: i.id,
          // `service` names the process in every log line; the incident's goes apart.
          incidentService: i.service,
          environment: i.environment,
          severity: i.severity.level,
          confirmed: i.severity.confirmed,
          status: i.status,
          lastDeploy: v.lastDeploy?.summary,
        },
        `${i.id} ${i.status} ${i.severity.level}${i.severity.confirmed ? '' : ' (unconfirmed)'} ${i.service}/${i.environment}: ${i.title}`,
      );
      return i.channel ? { channel: i.channel } : undefined;
    },
    async postToIncident(incident, key, text) {
      log.info({ incident: incident.id, key }, `${incident.id}: ${text}`);
    },
    async showRun(v) {
      const step = v.current?.step;
      log.info(
        { run: v.run.id, runbook: v.runbook.id, state: v.run.state, step: step?.id },
        `${v.run.id} ${v.runbook.id} ${v.run.state}${step ? `: now ${step.title}` : ''}`,
      );
    },
  };
}
