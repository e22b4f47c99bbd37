/**
 * The alert chat of the embedded default: without Slack, alert messages go to the log
 * (firing groups at warn). Slack replaces it when configured.
 */
import type { Log } from '../app/context.ts';
import type { AlertChat } from '../app/ingest-ports.ts';

export function logAlertChat(log: Log): AlertChat {
  return {
    async showGroup(id, v) {
      const first = v.alerts[0];
      const entry = {
        alertGroup: id,
        // `service` names the process in every log line; the alert's goes apart.
        alertService: v.service,
        environment: v.environment,
        severity: v.severity,
        firing: v.firing,
        total: v.total,
        title: first?.facts.title,
      };
      const text = `${v.firing > 0 ? 'FIRING' : 'RESOLVED'} ${v.severity} ${v.service}/${v.environment}: ${first?.facts.title ?? ''} (${v.firing}/${v.total} firing)`;
      if (v.firing > 0) log.warn(entry, text);
      else log.info(entry, text);
    },
    async showDigest(id, d) {
      log.warn(
        { alertDigest: id, channel: d.channel, total: d.total, firing: d.firing },
        `alert storm in ${d.channel}: ${d.total} alerts folded into a digest (${d.firing} firing)`,
      );
    },
  };
}
