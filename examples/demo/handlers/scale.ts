// `scale replicas=…` (mutating): sets the replica count.
import { integerParam, parseEvent, updateService } from './demo-state.ts';

/** The demo refuses more replicas than this, as a real quota would. */
export const MAX_REPLICAS = 50;

export async function handler(event: unknown) {
  const e = parseEvent(event);
  const replicas = integerParam(e, 'replicas', 1, MAX_REPLICAS);
  return await updateService(e, 'scale', (target) => {
    const from = target.replicas;
    target.replicas = replicas;
    return { detail: `${from} → ${replicas}`, result: { replicas, previousReplicas: from } };
  });
}
