/** Use case: the sweeper ends pending requests whose time is up. */
import { expire } from '../domain/request-lifecycle.ts';
import { type AppDeps, SYSTEM } from './context.ts';
import { notifyEffect, requestAudit } from './effects.ts';

/** Expires up to `limit` overdue requests; returns how many it expired. */
export async function expireRequests(deps: AppDeps, limit = 100): Promise<number> {
  const overdue = await deps.store.listExpired(deps.clock.now(), limit);
  let count = 0;
  for (const candidate of overdue) {
    const done = await deps.store.transaction(async (tx) => {
      const r = await tx.getRequest(candidate.id);
      const now = deps.clock.now();
      const next = r && expire(r, now);
      if (!next?.ok) return false;
      await tx.updateRequest(next.value);
      await tx.appendAudit([requestAudit(SYSTEM, next.value, 'request.expired', now)]);
      await tx.enqueue([notifyEffect(next.value, 'expired', now)]);
      return true;
    });
    if (done) count++;
  }
  return count;
}
