// `rollback` (mutating): back to the previous version. The two versions swap places, so a
// second rollback undoes the first.
import { parseEvent, updateService } from './demo-state.ts';

class NothingToRollBack extends Error {
  override name = 'NothingToRollBack';
}

export async function handler(event: unknown) {
  const e = parseEvent(event);
  return await updateService(e, 'rollback', (target) => {
    const previous = target.previousVersion;
    if (previous === null) {
      throw new NothingToRollBack(`${e.service} ${e.environment} has no previous version`);
    }
    const from = target.version;
    target.version = previous;
    target.previousVersion = from;
    return {
      detail: `${from} → ${previous}`,
      result: { version: previous, previousVersion: from },
    };
  });
}
