/**
 * `/api/v1/incidents` and `/api/v1/report`: incidents over the same use cases as chat — list,
 * declare, the header at a glance, the timeline, the postmortem draft, and every change a
 * responder makes — and the review report over a time window.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Actor, AppDeps } from '../../app/context.ts';
import { declareIncident } from '../../app/declare-incident.ts';
import {
  exportPostmortem,
  getIncident,
  incidentHeader,
  incidentTimeline,
  listIncidents,
} from '../../app/read-incidents.ts';
import { buildReviewReport } from '../../app/review-report.ts';
import {
  assignIncidentRole,
  changeSeverity,
  confirmSeverity,
  markMitigated,
  postStatusUpdate,
  resolveIncident,
} from '../../app/update-incident.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Incident, IncidentStatus } from '../../domain/incident-model.ts';
import { parse } from './api-routes.ts';
import {
  DeclareIncidentBody,
  EmptyBody,
  IncidentIdParam,
  IncidentListQuery,
  NoteBody,
  ReportQuery,
  RoleBody,
  SeverityBody,
  StatusUpdateBody,
} from './api-schemas.ts';
import { routeKit } from './route-kit.ts';

/** The longest window a review report covers, in days. */
export const MAX_REPORT_DAYS = 366;
const DAY_MS = 86_400_000;

export function incidentRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    const { actorOf, mutate } = routeKit(deps);
    const idOf = (req: FastifyRequest) => parse(IncidentIdParam, req.params, 'path').id;

    app.get('/incidents', async (req) => {
      const actor = actorOf(req);
      const q = parse(IncidentListQuery, req.query, 'query');
      const incidents = await listIncidents(deps, actor, {
        ...(q.status ? { status: q.status as IncidentStatus[] } : {}),
        ...(q.service ? { service: q.service } : {}),
        ...(q.environment ? { environment: q.environment } : {}),
        ...(q.before ? { before: q.before } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      });
      return { incidents };
    });

    app.post('/incidents', async (req, reply) => {
      const actor = actorOf(req);
      const body = parse(DeclareIncidentBody, req.body, 'body');
      return mutate(req, reply, actor, async () => ({
        status: 201,
        body: { incident: await declareIncident(deps, actor, body) },
      }));
    });

    app.get('/incidents/:id', async (req) => {
      const incident = await getIncident(deps, actorOf(req), idOf(req));
      return { incident, header: await incidentHeader(deps, incident) };
    });

    app.get('/incidents/:id/timeline', async (req) => ({
      entries: await incidentTimeline(deps, actorOf(req), idOf(req)),
    }));

    app.get('/incidents/:id/postmortem', async (req, reply) => {
      const markdown = await exportPostmortem(deps, actorOf(req), idOf(req));
      return reply.type('text/markdown; charset=utf-8').send(markdown);
    });

    /** A responder's change: validate, then run the use case once per Idempotency-Key. */
    const change = <S extends z.ZodType>(
      path: string,
      schema: S,
      act: (actor: Actor, incidentId: string, body: z.infer<S>) => Promise<Incident>,
    ) =>
      app.post(path, async (req: FastifyRequest, reply: FastifyReply) => {
        const actor = actorOf(req);
        const incidentId = idOf(req);
        const body = parse(schema, req.body, 'body');
        return mutate(req, reply, actor, async () => ({
          status: 200,
          body: { incident: await act(actor, incidentId, body) },
        }));
      });

    change('/incidents/:id/severity', SeverityBody, (actor, incidentId, b) =>
      changeSeverity(deps, actor, { incidentId, severity: b.severity }),
    );
    change('/incidents/:id/severity/confirm', EmptyBody, (actor, incidentId) =>
      confirmSeverity(deps, actor, { incidentId }),
    );
    change('/incidents/:id/roles', RoleBody, (actor, incidentId, b) =>
      assignIncidentRole(deps, actor, { incidentId, role: b.role, person: b.person }),
    );
    change('/incidents/:id/updates', StatusUpdateBody, (actor, incidentId, b) =>
      postStatusUpdate(deps, actor, { incidentId, text: b.text }),
    );
    change('/incidents/:id/mitigate', NoteBody, (actor, incidentId, b) =>
      markMitigated(deps, actor, { incidentId, ...(b.note ? { note: b.note } : {}) }),
    );
    change('/incidents/:id/resolve', NoteBody, (actor, incidentId, b) =>
      resolveIncident(deps, actor, { incidentId, ...(b.note ? { note: b.note } : {}) }),
    );

    app.get('/report', async (req) => {
      const actor = actorOf(req);
      const q = parse(ReportQuery, req.query, 'query');
      const now = deps.clock.now();
      const since = instantOf(q.since, now);
      // `until` is exclusive: without one, what was created this millisecond still counts.
      const until = q.until === undefined ? now + 1 : instantOf(q.until, now);
      if (since >= until) {
        throw new DomainError('INVALID_INPUT', 'query.since: must be before query.until.');
      }
      if (until - since > MAX_REPORT_DAYS * DAY_MS) {
        throw new DomainError(
          'INVALID_INPUT',
          `query.since: a report covers at most ${MAX_REPORT_DAYS} days.`,
        );
      }
      return buildReviewReport(deps, actor, { since, until });
    });
  };
}

const UNIT_MS = { d: DAY_MS, h: 3_600_000, m: 60_000 } as const;

/** `7d`, `24h`, `90m` (back from `now`) or an ISO 8601 time, as ms since epoch. */
export function instantOf(value: string, now: number): number {
  const m = /^(\d{1,4})([dhm])$/.exec(value);
  if (m) return now - Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return Date.parse(value);
}
