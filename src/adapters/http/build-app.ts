/**
 * The HTTP server as a factory: tests drive it with `inject()`, only `main.ts` listens.
 * One port for the API, health, metrics, Slack and the web console.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Registry } from 'prom-client';
import type { AppDeps } from '../../app/context.ts';
import { alertRoutes } from './alert-routes.ts';
import { apiRoutes } from './api-routes.ts';
import { commandRoutes } from './command-routes.ts';
import { type ConsoleOptions, mountConsole } from './console-mount.ts';
import { type HookDeps, hookRoutes } from './hook-routes.ts';
import { incidentRoutes } from './incident-routes.ts';
import { openApiDocument } from './openapi.ts';
import { problemOf, sendProblem, toProblem } from './problem.ts';
import { runbookRoutes } from './runbook-routes.ts';
import { gateRequests } from './turn-gate.ts';

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
  /**
   * The web console: sign-in, its pages and the live feed. Default: no built pages and a
   * host that is not loopback, so no demo sign-in.
   */
  console?: ConsoleOptions;
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
  closeUnusedSockets(app);
  gateRequests(app);
  const web = mountConsole(app, deps, options.console ?? { host: 'unknown' });
  app.setNotFoundHandler(
    (req, reply) =>
      web.fallback(req, reply) ??
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

/**
 * On close, drops connections that never carried a request. Node's `server.close()` ends
 * idle keep-alive sockets but not these, and browsers open them speculatively: one would
 * hold `app.close()` for a minute (until the headers timeout).
 */
function closeUnusedSockets(app: FastifyInstance): void {
  const unused = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  app.server.on('request', (req: IncomingMessage) => unused.delete(req.socket));
  app.addHook('preClose', async () => {
    for (const socket of unused) socket.destroy();
  });
}
