/**
 * `/api/v1` for what ingestion keeps: alerts (filtered to what the caller may view),
 * stored events (administrators: they are raw sender payloads), and silences.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { AppDeps } from '../../app/context.ts';
import { createSilence, expireSilence } from '../../app/manage-silences.ts';
import { DomainError } from '../../domain/errors.ts';
import { can } from '../../domain/policy.ts';
import { parse } from './api-routes.ts';
import { authenticate } from './auth.ts';
import { withIdempotency } from './idempotency.ts';

const slug = z.string().regex(/^(?:\*|[a-z0-9][a-z0-9-]{0,62})$/, 'must be a slug or *');
const limit = z.coerce.number().int().min(1).max(1000).optional();

export const AlertQuery = z.strictObject({
  service: slug.optional(),
  environment: slug.optional(),
  state: z.enum(['firing', 'resolved', 'insufficient-data']).optional(),
  limit,
});

export const EventQuery = z.strictObject({
  source: z.string().max(256).optional(),
  detail_type: z.string().max(256).optional(),
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export const SilenceBody = z.strictObject({
  service: slug,
  environment: slug,
  pattern: z.record(z.string(), z.unknown()).optional(),
  reason: z.string().min(1).max(500),
  minutes: z.number().int().min(1).max(10_080),
});

const SilenceIdParam = z.strictObject({ id: z.string().regex(/^SIL[A-Za-z0-9]{1,64}$/) });
const SeqParam = z.strictObject({ seq: z.coerce.number().int().min(1) });

export function alertRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    const actorOf = (req: FastifyRequest) => authenticate(req, deps.catalog.current(), deps.sha256);
    const idem = { store: deps.store, sha256: deps.sha256, now: () => deps.clock.now() };
    const mayView = (person: Parameters<typeof can>[1], service: string, environment: string) => {
      const catalog = deps.catalog.current();
      return catalog.commands.some((c) =>
        can(catalog, person, 'view', { command: c.id, service, environment }),
      );
    };
    const requireAdmin = (req: FastifyRequest) => {
      const { person } = actorOf(req);
      const all = { command: '*', service: '*', environment: '*' };
      if (!can(deps.catalog.current(), person, 'administer', all)) {
        throw new DomainError(
          'FORBIDDEN',
          'Stored events are raw sender payloads: administrators only.',
        );
      }
    };

    app.get('/alerts', async (req) => {
      const { person } = actorOf(req);
      const q = parse(AlertQuery, req.query, 'query');
      const alerts = await deps.store.ingest.listAlerts({
        ...(q.service ? { service: q.service } : {}),
        ...(q.environment ? { environment: q.environment } : {}),
        ...(q.state ? { state: q.state } : {}),
        limit: q.limit ?? 100,
      });
      return { alerts: alerts.filter((a) => mayView(person, a.service, a.environment)) };
    });

    app.get('/events', async (req) => {
      requireAdmin(req);
      const q = parse(EventQuery, req.query, 'query');
      const events = await deps.store.ingest.listEvents({
        ...(q.source ? { source: q.source } : {}),
        ...(q.detail_type ? { detailType: q.detail_type } : {}),
        ...(q.before ? { beforeSeq: q.before } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      });
      return { events };
    });

    app.get('/events/:seq', async (req) => {
      requireAdmin(req);
      const { seq } = parse(SeqParam, req.params, 'path');
      const event = await deps.store.ingest.getEvent(seq);
      if (!event) throw new DomainError('NOT_FOUND', `No event ${seq}.`);
      return { event };
    });

    app.get('/silences', async (req) => {
      actorOf(req);
      const all = (req.query as { all?: string } | undefined)?.all === 'true';
      return { silences: await deps.store.ingest.listSilences(all) };
    });

    app.post('/silences', async (req, reply: FastifyReply) => {
      const actor = actorOf(req);
      const body = parse(SilenceBody, req.body, 'body');
      return withIdempotency(
        req,
        reply,
        idem,
        `${actor.person.id} ${req.routeOptions.url}`,
        async () => ({
          status: 201,
          body: { silence: await createSilence(deps, actor, body) },
        }),
      );
    });

    app.post('/silences/:id/expire', async (req, reply: FastifyReply) => {
      const actor = actorOf(req);
      const { id } = parse(SilenceIdParam, req.params, 'path');
      return withIdempotency(
        req,
        reply,
        idem,
        `${actor.person.id} ${req.routeOptions.url}`,
        async () => ({
          status: 200,
          body: { silence: await expireSilence(deps, actor, id) },
        }),
      );
    });
  };
}
