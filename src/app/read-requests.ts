/**
 * Use cases: read requests. A person sees a request only with the view grant on its
 * command, service and environment — deny by default, as for every other verb.
 */
import { DomainError } from '../domain/errors.ts';
import { can } from '../domain/policy.ts';
import type { ActionRequest } from '../domain/request-model.ts';
import type { Actor, AppDeps } from './context.ts';
import type { RequestFilter } from './ports.ts';

export async function listRequests(
  deps: AppDeps,
  actor: Actor,
  filter: RequestFilter,
): Promise<ActionRequest[]> {
  const catalog = deps.catalog.current();
  const found = await deps.store.listRequests(filter);
  return found.filter((r) => can(catalog, actor.person, 'view', r));
}

export async function getRequest(deps: AppDeps, actor: Actor, id: string): Promise<ActionRequest> {
  const r = await deps.store.getRequest(id);
  // Not found and not visible answer alike, so ids of others' requests do not leak.
  if (!r || !can(deps.catalog.current(), actor.person, 'view', r)) {
    throw new DomainError('NOT_FOUND', `No request ${id}.`);
  }
  return r;
}
