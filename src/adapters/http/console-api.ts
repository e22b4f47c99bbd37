/**
 * The small reads and checks the console's pages need beside the rest of `/api/v1`: the
 * catalog as configured (never tokens or their hashes), what waits for the caller's
 * sign-off, and verifying the audit chain (administrators).
 */
import type { FastifyInstance } from 'fastify';
import { type Actor, type AppDeps, auditOf } from '../../app/context.ts';
import { listRequests } from '../../app/read-requests.ts';
import { verifyAudit } from '../../app/verify-audit.ts';
import type { ApprovalKind, Catalog, Command } from '../../domain/catalog.ts';
import { DomainError } from '../../domain/errors.ts';
import { can, maySignOff, selectPolicy } from '../../domain/policy.ts';
import { countedSignOffs } from '../../domain/request-lifecycle.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import { personView } from './console-session.ts';
import { routeKit } from './route-kit.ts';
import { runbookSummary } from './runbook-routes.ts';
import { requestView } from './views.ts';

const ALL = { command: '*', service: '*', environment: '*' };

/** For a mutating command: the approval policy in force at each service environment. */
function policiesOf(catalog: Catalog, command: Command) {
  if (command.class === 'read-only') return [];
  return catalog.services.flatMap((s) =>
    s.environments.map((e) => {
      const policy = selectPolicy(catalog, command, {
        command: command.id,
        service: s.id,
        environment: e.name,
      });
      return { service: s.id, environment: e.name, policy: policy?.id ?? null };
    }),
  );
}

/** The catalog as people may read it: no tokens, hashes, Slack ids or handler paths. */
export function catalogView(catalog: Catalog) {
  return {
    digest: catalog.digest,
    teams: catalog.teams,
    people: catalog.people.map(personView),
    roles: catalog.roles,
    services: catalog.services,
    commands: catalog.commands.map((c) => ({
      id: c.id,
      team: c.team,
      description: c.description,
      class: c.class,
      params: c.params,
      rollback: c.rollback ?? null,
      confirmations: c.confirmations,
      output: c.output,
      timeoutSeconds: c.timeoutSeconds,
      idempotent: c.idempotent,
      preview: c.preview !== undefined,
      policies: policiesOf(catalog, c),
    })),
    policies: catalog.policies,
    changeWindows: catalog.changeWindows,
    runbooks: catalog.runbooks.map(runbookSummary),
    routes: catalog.routes.map(({ pattern, ...r }) => ({ ...r, pattern: pattern ?? null })),
    mitigations: catalog.mitigations,
  };
}

/** The sign-off kinds `actor` may give on `r` now (still missing, not yet given by them). */
export function kindsFor(catalog: Catalog, actor: Actor, r: ActionRequest): ApprovalKind[] {
  return r.requirements
    .filter((q) => {
      const given = countedSignOffs(r, q.kind);
      return (
        given.length < q.count &&
        !given.some((s) => s.by === actor.person.id) &&
        maySignOff(catalog, actor.person, r, q.kind).ok
      );
    })
    .map((q) => q.kind);
}

export function consoleApiRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    const { actorOf } = routeKit(deps);

    app.get('/catalog', async (req) => {
      actorOf(req);
      return catalogView(deps.catalog.current());
    });

    app.get('/me/approvals', async (req) => {
      const actor = actorOf(req);
      const catalog = deps.catalog.current();
      const now = deps.clock.now();
      const pending = await listRequests(deps, actor, { states: ['pending'], limit: 500 });
      const approvals = pending
        .filter((r) => r.expiresAt > now)
        .map((r) => ({ request: requestView(catalog, r), kinds: kindsFor(catalog, actor, r) }))
        .filter((a) => a.kinds.length > 0);
      return { approvals };
    });

    app.post('/audit/verify', async (req) => {
      const actor = actorOf(req);
      if (!can(deps.catalog.current(), actor.person, 'administer', ALL)) {
        throw new DomainError('FORBIDDEN', 'Verifying the audit chain is for administrators.');
      }
      const report = await verifyAudit(deps.store, deps.sha256);
      await deps.store.transaction((tx) =>
        tx.appendAudit([
          auditOf(actor, deps.clock.now(), {
            action: 'audit.verified',
            target: 'audit',
            result: report.ok ? 'ok' : 'broken',
            detail: { checked: report.checked, message: report.message },
          }),
        ]),
      );
      return { ok: report.ok, message: report.message, checked: report.checked };
    });
  };
}
