// Task handlers of ../state-machines/restart.asl.json, one per Task state:
// Drain → Restart → Verify. Each receives the state input (the event, plus what the
// earlier steps added under their ResultPath) and returns JSON.
import { parseEvent, readService, updateService } from './demo-state.ts';

export const handlers = {
  /** Takes the service out of the load balancer (simulated: it reports unhealthy). */
  async Drain(input: unknown) {
    const e = parseEvent(input);
    return await updateService(e, 'drain', (target) => {
      target.healthy = false;
      return { detail: `${target.replicas} replicas`, result: { drained: target.replicas } };
    });
  },

  /** Restarts the replicas and puts them back in service. */
  async Restart(input: unknown) {
    const e = parseEvent(input);
    return await updateService(e, 'restart', (target) => {
      target.lastRestartAt = new Date().toISOString();
      target.healthy = true;
      return { detail: 'by state machine', result: { restartedAt: target.lastRestartAt } };
    });
  },

  /** Reads back whether the service is healthy; the machine's Choice state decides on it. */
  async Verify(input: unknown) {
    const e = parseEvent(input);
    const { healthy, version } = await readService(e);
    console.log(`${e.service} ${e.environment} healthy=${healthy} version=${version}`);
    return { healthy, version };
  },
};
