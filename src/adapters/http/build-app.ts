/**
 * The HTTP server as a factory: tests drive it with `inject()`, only `main.ts` listens.
 * One port for the API, health, metrics and (later) Slack and the console.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Registry } from 'prom-client';
import type { AppDeps } from '../../app/context.ts';
import { alertRoutes } from './alert-routes.ts';
import { apiRoutes } from './api-routes.ts';
import { commandRoutes } from './command-routes.ts';
import { type HookDeps, hookRoutes } from './hook-routes.ts';
import { incidentRoutes } from './incident-routes.ts';
import { openApiDocument } from './openapi.ts';
import { problemOf, sendProblem, toProblem } from './problem.ts';
import { runbookRoutes } from './runbook-routes.ts';

export interface HttpOptions {
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  metrics: Registry;
  /** The process's pino logger; request logging is off, errors are logged. */
  logger: FastifyBaseLogger;
  /** True once start-up finished (catalog loaded, store migrated, dispatcher running). */
  ready: () => boolean;
  /** Mounts `/hooks/*` (ingest) when given. */
  hooks?: HookDeps;
}

export function buildApp(deps: AppDeps, options: HttpOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    return503OnClosing: true,
    // The router refuses a malformed %-escape or a path segment over 100 characters before
    // any route runs; answer those as problems too, not with Fastify's own error shape.
    frameworkErrors: (err, req, reply) => {
      const p =
        err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? problemOf(
              'INVALID_INPUT',
              'The URL is malformed, or a part of its path is longer than 100 characters.',
            )
          : toProblem(err, req);
      return sendProblem(reply, { ...p, instance: req.url.slice(0, 200) });
    },
  });
  app.setErrorHandler((err, req, reply) => {
    const p = toProblem(err, req);
    if (p.status >= 500) deps.log.error({ err, url: req.url }, 'request failed');
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, {
      ...problemOf('NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`),
    }),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const storeOk = await deps.store.ping();
    const ready = storeOk && options.ready();
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not ready', store: storeOk });
  });
  app.get('/metrics', async (_req, reply) =>
    reply.type(options.metrics.contentType).send(await options.metrics.metrics()),
  );
  const doc = openApiDocument();
  app.get('/api/openapi.json', async () => doc);
  app.register(apiRoutes(deps), { prefix: '/api/v1' });
  app.register(alertRoutes(deps), { prefix: '/api/v1' });
  app.register(incidentRoutes(deps), { prefix: '/api/v1' });
  app.register(runbookRoutes(deps), { prefix: '/api/v1' });
  app.register(commandRoutes(deps), { prefix: '/api/v1' });
  if (options.hooks) app.register(hookRoutes(options.hooks));
  return app;
}
