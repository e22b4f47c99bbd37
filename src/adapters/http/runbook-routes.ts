/**
 * `/api/v1/runbooks` and `/api/v1/runbook-runs`: the catalog's runbooks (what a person may
 * see of them), starting a guided run, and acting on its current step. A run is answered
 * as its guided view (`RunView`): the run, the step to act on now, what comes next, and
 * the evidence so far.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actOnStep } from '../../app/advance-runbook.ts';
import type { Actor, AppDeps } from '../../app/context.ts';
import { getRun, listRuns } from '../../app/read-incidents.ts';
import { startRunbook } from '../../app/start-runbook.ts';
import { type Catalog, findRunbook } from '../../domain/catalog.ts';
import { DomainError } from '../../domain/errors.ts';
import { can } from '../../domain/policy.ts';
import type { Runbook, RunState } from '../../domain/runbook-model.ts';
import { parse } from './api-routes.ts';
import {
  RunbookIdParam,
  RunIdParam,
  RunListQuery,
  StartRunBody,
  StepBody,
  StepParam,
} from './api-schemas.ts';
import { routeKit } from './route-kit.ts';

/**
 * A person sees a runbook when they may view runs (reserved command id `runbook`) on some
 * environment of a service it applies to.
 */
export function maySeeRunbook(catalog: Catalog, actor: Actor, book: Runbook): boolean {
  const any = book.services.includes('*');
  return catalog.services.some(
    (s) =>
      (any || book.services.includes(s.id)) &&
      s.environments.some((e) =>
        can(catalog, actor.person, 'view', {
          command: 'runbook',
          service: s.id,
          environment: e.name,
        }),
      ),
  );
}

/** The list entry: what the runbook is for and its steps in brief. */
export function runbookSummary(book: Runbook) {
  return {
    id: book.id,
    title: book.title,
    team: book.team,
    ...(book.description ? { description: book.description } : {}),
    services: book.services,
    digest: book.digest,
    steps: book.steps.map((s) => ({ id: s.id, kind: s.kind, title: s.title })),
  };
}

export function runbookRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    const { actorOf, mutate } = routeKit(deps);
    const runIdOf = (req: FastifyRequest) => parse(RunIdParam, req.params, 'path').id;

    app.get('/runbooks', async (req) => {
      const actor = actorOf(req);
      const catalog = deps.catalog.current();
      return {
        runbooks: catalog.runbooks
          .filter((b) => maySeeRunbook(catalog, actor, b))
          .map(runbookSummary),
      };
    });

    app.get('/runbooks/:id', async (req) => {
      const actor = actorOf(req);
      const { id } = parse(RunbookIdParam, req.params, 'path');
      const catalog = deps.catalog.current();
      const book = findRunbook(catalog, id);
      if (!book || !maySeeRunbook(catalog, actor, book)) {
        throw new DomainError('UNKNOWN_RUNBOOK', `There is no runbook "${id}".`);
      }
      return { runbook: book };
    });

    app.post('/runbook-runs', async (req, reply) => {
      const actor = actorOf(req);
      const body = parse(StartRunBody, req.body, 'body');
      return mutate(req, reply, actor, async () => {
        const run = await startRunbook(deps, actor, body);
        return { status: 201, body: await getRun(deps, actor, run.id) };
      });
    });

    app.get('/runbook-runs', async (req) => {
      const actor = actorOf(req);
      const q = parse(RunListQuery, req.query, 'query');
      const runs = await listRuns(deps, actor, {
        ...(q.incident ? { incident: q.incident } : {}),
        ...(q.state ? { states: q.state as RunState[] } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      });
      return { runs };
    });

    app.get('/runbook-runs/:id', async (req) => getRun(deps, actorOf(req), runIdOf(req)));

    app.post('/runbook-runs/:id/steps/:step', async (req, reply) => {
      const actor = actorOf(req);
      const { id, step } = parse(StepParam, req.params, 'path');
      const b = parse(StepBody, req.body, 'body');
      return mutate(req, reply, actor, async () => {
        await actOnStep(deps, actor, {
          runId: id,
          stepId: step,
          action: b.action,
          ...(b.branch ? { branch: b.branch } : {}),
          ...(b.reason !== undefined ? { reason: b.reason } : {}),
          ...(b.note ? { note: b.note } : {}),
        });
        return { status: 200, body: await getRun(deps, actor, id) };
      });
    });
  };
}
