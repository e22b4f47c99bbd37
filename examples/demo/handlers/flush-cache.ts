// `flush-cache` (destructive): empties the cache; the next requests run cold.
import { parseEvent, updateService } from './demo-state.ts';

export async function handler(event: unknown) {
  const e = parseEvent(event);
  return await updateService(e, 'flush-cache', (target) => {
    const flushed = target.cacheEntries;
    target.cacheEntries = 0;
    return { detail: `${flushed} entries`, result: { flushed } };
  });
}
