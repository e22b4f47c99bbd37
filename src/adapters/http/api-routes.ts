/**
 * `/api/v1`: the JSON API over the same use cases as chat and the CLI. Every route
 * authenticates, validates its input with zod, calls one use case, and renders a view.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { amendRequest } from '../../app/amend-request.ts';
import { cancelRequest } from '../../app/cancel-request.ts';
import type { Actor, AppDeps } from '../../app/context.ts';
import { approveRequest, denyRequest } from '../../app/decide-approval.ts';
import { getRequest, listRequests } from '../../app/read-requests.ts';
import { requestAction } from '../../app/request-action.ts';
import { settleExecution } from '../../app/settle-execution.ts';
import { auditVisibility } from '../../domain/audit-visibility.ts';
import { DomainError } from '../../domain/errors.ts';
import { explainRequest } from '../../domain/explain.ts';
import { can } from '../../domain/policy.ts';
import type { RequestState } from '../../domain/request-model.ts';
import {
  AmendBody,
  ApproveBody,
  AuditQuery,
  CancelBody,
  CreateRequestBody,
  DenyBody,
  ExplainBody,
  RequestIdParam,
  RequestListQuery,
  SettleBody,
} from './api-schemas.ts';
import { authenticate } from './auth.ts';
import { actionFromBody, actionFromText } from './command-input.ts';
import { withIdempotency } from './idempotency.ts';
import { requestView } from './views.ts';

/** True when `id` names a request, incident or runbook run the actor may view. */
async function mayViewRecord(deps: AppDeps, actor: Actor, id: string): Promise<boolean> {
  const catalog = deps.catalog.current();
  const sees = (command: string, x: { service: string; environment: string } | undefined) =>
    !!x &&
    can(catalog, actor.person, 'view', { command, service: x.service, environment: x.environment });
  if (id.startsWith('REQ-')) {
    const r = await deps.store.getRequest(id);
    return sees(r?.command ?? '', r);
  }
  if (id.startsWith('INC-')) return sees('incident', await deps.store.getIncident(id));
  if (id.startsWith('RBR-')) return sees('runbook', await deps.store.getRun(id));
  return false;
}

export function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`);
  throw new DomainError('INVALID_INPUT', issues.join('; '), { issues });
}

const STATES = new Set([
  'pending',
  'approved',
  'running',
  'succeeded',
  'failed',
  'unknown',
  'denied',
  'expired',
  'cancelled',
]);

export function apiRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    const actorOf = (req: FastifyRequest): Actor =>
      authenticate(req, deps.catalog.current(), deps.sha256);
    const idem = { store: deps.store, sha256: deps.sha256, now: () => deps.clock.now() };
    const mutate = (
      req: FastifyRequest,
      reply: FastifyReply,
      actor: Actor,
      run: () => Promise<{ status: number; body: unknown }>,
    ) => withIdempotency(req, reply, idem, `${actor.person.id} ${req.routeOptions.url}`, run);
    const view = (r: Parameters<typeof requestView>[1]) => requestView(deps.catalog.current(), r);
    const idOf = (req: FastifyRequest) => parse(RequestIdParam, req.params, 'path').id;

    app.get('/me', async (req) => {
      const { person } = actorOf(req);
      return { id: person.id, name: person.name, roles: person.roles, team: person.team ?? null };
    });

    app.post('/requests', async (req, reply) => {
      const actor = actorOf(req);
      const body = parse(CreateRequestBody, req.body, 'body');
      return mutate(req, reply, actor, async () => {
        const result = await requestAction(deps, actor, actionFromBody(body));
        if (result.kind === 'ran') return { status: 200, body: { ran: result } };
        return { status: 201, body: { request: view(result.request) } };
      });
    });

    app.get('/requests', async (req) => {
      const actor = actorOf(req);
      const q = parse(RequestListQuery, req.query, 'query');
      const states = q.state?.split(',').filter(Boolean);
      if (states?.some((s) => !STATES.has(s)))
        throw new DomainError('INVALID_INPUT', `query.state: unknown state in ${q.state}`);
      const requests = await listRequests(deps, actor, {
        ...(states ? { states: states as RequestState[] } : {}),
        ...(q.requester ? { requester: q.requester } : {}),
        ...(q.service ? { service: q.service } : {}),
        ...(q.environment ? { environment: q.environment } : {}),
        ...(q.before ? { before: q.before } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      });
      return { requests: requests.map(view) };
    });

    app.get('/requests/:id', async (req) => {
      const r = await getRequest(deps, actorOf(req), idOf(req));
      return { request: view(r) };
    });

    const decision = <S extends z.ZodType>(
      path: string,
      schema: S,
      act: (actor: Actor, id: string, body: z.infer<S>) => Promise<Parameters<typeof view>[0]>,
    ) =>
      app.post(path, async (req, reply) => {
        const actor = actorOf(req);
        const id = idOf(req);
        const body = parse(schema, req.body, 'body');
        return mutate(req, reply, actor, async () => ({
          status: 200,
          body: { request: view(await act(actor, id, body)) },
        }));
      });

    decision('/requests/:id/approve', ApproveBody, (actor, requestId, b) =>
      approveRequest(deps, actor, {
        requestId,
        kind: b.kind,
        digest: b.digest,
        ...(b.confirmation !== undefined ? { confirmation: b.confirmation } : {}),
      }),
    );
    decision('/requests/:id/deny', DenyBody, (actor, requestId, b) =>
      denyRequest(deps, actor, { requestId, reason: b.reason }),
    );
    decision('/requests/:id/cancel', CancelBody, (actor, requestId, b) =>
      cancelRequest(deps, actor, {
        requestId,
        ...(b.reason !== undefined ? { reason: b.reason } : {}),
      }),
    );
    decision('/requests/:id/settle', SettleBody, (actor, requestId, b) =>
      settleExecution(deps, actor, { requestId, outcome: b.outcome, note: b.note }),
    );

    app.patch('/requests/:id', async (req, reply) => {
      const actor = actorOf(req);
      const requestId = idOf(req);
      const b = parse(AmendBody, req.body, 'body');
      const params = Object.fromEntries(Object.entries(b.params).map(([k, v]) => [k, String(v)]));
      return mutate(req, reply, actor, async () => ({
        status: 200,
        body: {
          request: view(
            await amendRequest(deps, actor, {
              requestId,
              params,
              ...(b.links ? { links: b.links } : {}),
            }),
          ),
        },
      }));
    });

    app.post('/explain', async (req) => {
      const actor = actorOf(req);
      const input = actionFromText(parse(ExplainBody, req.body, 'body').text);
      return explainRequest(
        deps.catalog.current(),
        actor.person,
        { ...input, breakGlass: input.breakGlass ?? false },
        deps.clock.now(),
      );
    });

    app.get('/audit', async (req) => {
      const actor = actorOf(req);
      const { before, from, to, order, ...q } = parse(AuditQuery, req.query, 'query');
      const limit = q.limit ?? 100;
      const page = await deps.store.queryAudit({
        ...q,
        limit,
        order: order ?? (before !== undefined ? 'newest' : 'oldest'),
        ...(before !== undefined ? { beforeSeq: before } : {}),
        ...(from !== undefined ? { fromAt: from } : {}),
        ...(to !== undefined ? { toAt: to } : {}),
      });
      // The whole history of a record the caller may see (refusals included); otherwise
      // the entries the caller's grants cover, as in the live feed.
      const whole = q.target !== undefined && (await mayViewRecord(deps, actor, q.target));
      const visible = whole ? () => true : auditVisibility(deps.catalog.current(), actor.person);
      // `lastSeq` (the last entry read, seen or not) is the next page's afterSeq, or its
      // `before` when reading newest first; `more` says whether there may be one.
      const last = page.at(-1)?.seq;
      return {
        entries: page.filter(visible),
        ...(last !== undefined ? { lastSeq: last } : {}),
        more: page.length === limit,
      };
    });

    app.get('/review-items', async (req) => {
      actorOf(req);
      return { items: await deps.store.listReviewItems(true) };
    });
  };
}
