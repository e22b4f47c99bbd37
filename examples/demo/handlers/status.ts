// `status` (read-only): what the simulated service runs now, and its recent history.
import { parseEvent, readService } from './demo-state.ts';

export async function handler(event: unknown) {
  const e = parseEvent(event);
  const { history, ...now } = await readService(e);
  return { service: e.service, environment: e.environment, ...now, recent: history.slice(-5) };
}
