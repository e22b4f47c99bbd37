/**
 * What the incident, runbook and command routes share: who is calling, and how a mutating
 * route runs once per `Idempotency-Key`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, AppDeps } from '../../app/context.ts';
import { authenticate } from './auth.ts';
import { withIdempotency } from './idempotency.ts';

export interface RouteKit {
  /** The authenticated caller; throws UNAUTHENTICATED (401) without a known token. */
  actorOf(req: FastifyRequest): Actor;
  /** Runs `run` at most once per Idempotency-Key (when one is sent) and sends its answer. */
  mutate(
    req: FastifyRequest,
    reply: FastifyReply,
    actor: Actor,
    run: () => Promise<{ status: number; body: unknown }>,
  ): Promise<unknown>;
}

export function routeKit(deps: AppDeps): RouteKit {
  const idem = { store: deps.store, sha256: deps.sha256, now: () => deps.clock.now() };
  return {
    actorOf: (req) => authenticate(req, deps.catalog.current(), deps.sha256),
    mutate: (req, reply, actor, run) =>
      withIdempotency(req, reply, idem, `${actor.person.id} ${req.routeOptions.url}`, run),
  };
}
