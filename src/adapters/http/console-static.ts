/**
 * The console's files: `web/dist/index.html` at `/` and at every client-side route (a GET
 * outside the server's own prefixes that accepts HTML), and `web/dist/assets/*` with
 * long-lived caching (their names carry a content hash). Every response carries a strict
 * Content-Security-Policy and the other security headers; nothing secret is in the page —
 * it asks `GET /api/v1/session` who is signed in.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** Sent with every response (harmless on JSON; vital on pages). */
export function securityHeaders(tls: boolean): Record<string, string> {
  return {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    ...(tls ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}

/** Paths the server answers itself: never the console's fallback page. */
const SERVER_PREFIXES = ['/api/', '/hooks/', '/slack/', '/auth/', '/assets/'];
const SERVER_PATHS = new Set(['/metrics', '/healthz', '/readyz', '/api']);

/** True when `req` is a page load of a client-side route (`/requests/REQ-1`). */
export function isConsolePage(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = req.url.split('?')[0] ?? '/';
  if (SERVER_PATHS.has(path) || SERVER_PREFIXES.some((p) => path.startsWith(p))) return false;
  return /\btext\/html\b/.test(String(req.headers.accept ?? ''));
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Countersign</title></head>
<body><main><h1>Countersign</h1>
<p>The web console has not been built. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it first), then reload this page.</p>
<p>The API is up: <a href="/api/openapi.json">/api/openapi.json</a>.</p>
</main></body></html>
`;

export interface ConsolePages {
  /** Answers the console's page (or the note to build it). */
  send(reply: FastifyReply): FastifyReply;
}

/**
 * Mounts `/assets/*` when `webDist` holds a built console and returns how to answer a page.
 * The page is read once, at start-up: rebuilding the console needs a restart.
 */
export function consoleStatic(app: FastifyInstance, webDist: string | undefined): ConsolePages {
  const indexFile = webDist ? join(webDist, 'index.html') : undefined;
  const page = indexFile && existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : undefined;
  const assets = webDist ? join(webDist, 'assets') : undefined;
  if (page && assets && existsSync(assets)) {
    app.register(fastifyStatic, {
      root: assets,
      prefix: '/assets/',
      index: false,
      serveDotFiles: false,
      immutable: true,
      maxAge: '365d',
    });
  }
  return {
    send: (reply) =>
      reply
        .code(200)
        .header('cache-control', 'no-cache')
        .type('text/html; charset=utf-8')
        .send(page ?? NOT_BUILT),
  };
}
