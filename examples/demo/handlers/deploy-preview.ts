// Preview of `deploy` (read-only): `{ changes: string[] }`, what approvers review.
import { parseEvent, readService, semverParam } from './demo-state.ts';

export async function handler(event: unknown): Promise<{ changes: string[] }> {
  const e = parseEvent(event);
  const version = semverParam(e, 'version');
  const { version: current } = await readService(e);
  if (current === version) return { changes: [`none: version ${version} is already running`] };
  return { changes: [`version ${current} → ${version}`] };
}
