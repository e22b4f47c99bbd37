/**
 * Everything the web console needs from the server, mounted on the root instance (so its
 * hooks see every route): security headers, the session cookie and CSRF check, sign-in
 * (demo on loopback, or OIDC), the console's pages and files, its small API routes and
 * the live feed, which `app.close()` ends.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app/context.ts';
import { consoleApiRoutes } from './console-api.ts';
import { AuditFeed, type FeedOptions, feedRoutes } from './console-feed.ts';
import { type OidcOptions, oidcClient, oidcRoutes } from './console-oidc.ts';
import { sessionHook, sessionRoutes, sessionStarter } from './console-session.ts';
import { consoleStatic, isConsolePage, securityHeaders } from './console-static.ts';

export interface ConsoleOptions {
  /** The address the server listens on; the demo sign-in needs 127.0.0.1, ::1 or localhost. */
  host: string;
  /** The base URL people reach the console at; `https:` makes cookies `Secure`. */
  publicUrl?: string;
  /** How long a sign-in lasts, in milliseconds. Default 12 hours. */
  sessionTtlMs?: number;
  /** How long a session may go unused before it ends, in milliseconds. Default 60 minutes. */
  sessionIdleMs?: number;
  /** Sign-in through the organisation's provider; when set there is no demo sign-in. */
  oidc?: OidcOptions;
  /** The built console (`web/dist`); without its `index.html`, `/` says how to build it. */
  webDist?: string;
  feed?: FeedOptions;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);
const TWELVE_HOURS = 12 * 3_600_000;
const ONE_HOUR = 3_600_000;

export interface MountedConsole {
  /** For the not-found handler: answers a client-side route with the console's page. */
  fallback(req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined;
}

export function mountConsole(
  app: FastifyInstance,
  deps: AppDeps,
  options: ConsoleOptions,
): MountedConsole {
  const tls = options.publicUrl?.startsWith('https:') ?? false;
  const headers = securityHeaders(tls);
  app.addHook('onRequest', async (_req, reply) => {
    reply.headers(headers);
  });
  const oidc = options.oidc ? oidcClient(deps, options.oidc) : undefined;
  const sessionOptions = {
    demoAllowed: !options.oidc && LOOPBACK.has(options.host.toLowerCase()),
    secureCookies: tls,
    ttlMs: options.sessionTtlMs ?? TWELVE_HOURS,
    idleMs: options.sessionIdleMs ?? ONE_HOUR,
    ...(oidc ? { providerLogoutUrl: () => oidc.logoutUrl() } : {}),
  };
  app.addHook('onRequest', sessionHook(deps, sessionOptions));
  const feed = new AuditFeed(deps, {
    pollMs: options.feed?.pollMs ?? 250,
    pingMs: options.feed?.pingMs ?? 15_000,
  });
  const sessions = sessionStarter(deps, sessionOptions, (idHash) => feed.endSession(idHash));
  app.addHook('preClose', async () => feed.close());
  app.register(sessionRoutes(deps, sessionOptions, sessions), { prefix: '/api/v1' });
  app.register(consoleApiRoutes(deps), { prefix: '/api/v1' });
  app.register(feedRoutes(deps, feed, headers), { prefix: '/api/v1' });
  if (options.oidc && oidc) app.register(oidcRoutes(deps, options.oidc, oidc, sessions, tls));
  const pages = consoleStatic(app, options.webDist);
  app.get('/', async (_req, reply) => pages.send(reply));
  return {
    fallback: (req, reply) => (isConsolePage(req) ? pages.send(reply) : undefined),
  };
}
