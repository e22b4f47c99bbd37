/**
 * Records a refused attempt in the audit log, then throws the refusal. The refusal itself
 * changes nothing else; the audit entry is how "who tried what" survives.
 */
import type { DomainError } from '../domain/errors.ts';
import { type Actor, type AppDeps, auditOf } from './context.ts';

const audited = new WeakSet<DomainError>();

/** True when `refuse` already wrote this refusal to the audit log. */
export function wasAudited(error: DomainError): boolean {
  return audited.has(error);
}

export async function refuse(
  deps: AppDeps,
  actor: Actor | { id: string; surface: Actor['surface'] },
  action: string,
  target: string,
  error: DomainError,
): Promise<never> {
  await deps.store.transaction((tx) =>
    tx.appendAudit([
      auditOf(actor, deps.clock.now(), {
        action,
        target,
        result: error.code,
        detail: { message: error.message },
      }),
    ]),
  );
  audited.add(error);
  throw error;
}
