/**
 * The notifier of the embedded default: notifications go to the log (loud ones at warn).
 * Slack replaces it when configured.
 */
import type { Log } from '../app/context.ts';
import type { Notifier } from '../app/ports.ts';

export function logNotifier(log: Log): Notifier {
  return {
    async notify(event) {
      const entry = { notification: event.kind, request: event.requestId, text: event.text };
      if (event.loud) log.warn(entry, `LOUD: ${event.text}`);
      else log.info(entry, event.text);
    },
  };
}
