// Preview of `scale` (read-only): `{ changes: string[] }`.
import { integerParam, parseEvent, readService } from './demo-state.ts';
import { MAX_REPLICAS } from './scale.ts';

export async function handler(event: unknown): Promise<{ changes: string[] }> {
  const e = parseEvent(event);
  const replicas = integerParam(e, 'replicas', 1, MAX_REPLICAS);
  const { replicas: current } = await readService(e);
  if (current === replicas) return { changes: [`none: already ${replicas} replicas`] };
  return { changes: [`replicas ${current} → ${replicas}`] };
}
