/** How requests look to API clients: sensitive values masked, what is missing spelled out. */
import { visibleParams } from '../../app/request-action.ts';
import { type Catalog, findCommand } from '../../domain/catalog.ts';
import { confirmationText, missingSignOffs } from '../../domain/request-lifecycle.ts';
import type { ActionRequest } from '../../domain/request-model.ts';

export function requestView(catalog: Catalog, r: ActionRequest) {
  const command = findCommand(catalog, r.command);
  return {
    ...r,
    params: visibleParams(command, r.params),
    missing: r.state === 'pending' ? missingSignOffs(r) : [],
    ...(r.class === 'destructive' ? { confirmationText: confirmationText(r) } : {}),
    rollback: command?.rollback ?? null,
  };
}
