// `restart` (mutating): restarts every replica; the service comes back healthy.
import { parseEvent, updateService } from './demo-state.ts';

export async function handler(event: unknown) {
  const e = parseEvent(event);
  return await updateService(e, 'restart', (target) => {
    target.lastRestartAt = new Date().toISOString();
    target.healthy = true;
    const result = { restartedAt: target.lastRestartAt, replicas: target.replicas };
    return { detail: `${target.replicas} replicas`, result };
  });
}
