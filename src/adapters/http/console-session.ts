/**
 * Console sign-in: the session cookie, CSRF, the demo sign-in and sign-out.
 *
 * A session is 32 random bytes in an `HttpOnly; SameSite=Lax` cookie (`Secure` over TLS);
 * the store keeps only its SHA-256, with the person and the CSRF token. A mutating call
 * authenticated by the cookie must echo the token in `X-CSRF-Token`, checked before the
 * body is read; a bearer-token call needs none (nothing ambient). The demo sign-in, which
 * lets anyone pick a catalog person, exists only without OIDC on a loopback bind.
 *
 * A session ends at the earlier of its absolute end (`ttlMs` after sign-in) and its idle end
 * (`idleMs` after the last call the person made). Calls the page makes by itself — the live
 * feed, and refreshes marked `X-Countersign-Background: 1` — do not count as use.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type AppDeps, auditOf } from '../../app/context.ts';
import type { ConsoleSession } from '../../app/ports.ts';
import { findPerson, type Person } from '../../domain/catalog.ts';
import { DomainError } from '../../domain/errors.ts';
import { parse } from './api-routes.ts';
import { bearerToken, cookieValue, rememberSession, SESSION_COOKIE, sessionOf } from './auth.ts';

/** How the console signs people in; `console-options` in `build-app.ts` fills it. */
export interface SessionOptions {
  /** True: only this machine can reach the server and no OIDC is configured. */
  demoAllowed: boolean;
  /** Add `Secure` to cookies (the console is served over https). */
  secureCookies: boolean;
  /** How long a sign-in lasts, in milliseconds. */
  ttlMs: number;
  /** How long a session may go unused before it ends, in milliseconds. */
  idleMs: number;
  /**
   * For a session signed in through OIDC: where to send the browser after sign-out so the
   * provider ends its session too (RP-initiated logout); undefined when it offers none.
   */
  providerLogoutUrl?: () => Promise<string | undefined>;
}

/** The header the console sends on calls it makes by itself (they do not keep a session alive). */
export const BACKGROUND_HEADER = 'x-countersign-background';
/** Paths whose calls never count as use: the live feed stays open while nobody is there. */
const NOT_USE = new Set(['/api/v1/feed']);

export const DemoSignInBody = z.strictObject({ person: z.string().min(1).max(64) });

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
/** Signing in starts a session, so it has none to carry a token for yet. */
const CSRF_EXEMPT = new Set(['/api/v1/session/demo']);

export const personView = (p: Person) => ({
  id: p.id,
  name: p.name,
  ...(p.team ? { team: p.team } : {}),
  roles: p.roles,
});

function cookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  const attrs = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  attrs.push(`Max-Age=${maxAgeSeconds}`);
  if (secure) attrs.push('Secure');
  return attrs.join('; ');
}

function sameToken(sent: unknown, expected: string): boolean {
  if (typeof sent !== 'string' || sent.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
}

/** Refuses a browser call another site made (defence in depth beside the JSON body). */
function refuseCrossSite(req: FastifyRequest): void {
  if (req.headers['sec-fetch-site'] === 'cross-site') {
    throw new DomainError('CSRF_INVALID', 'Signing in or out from another site is refused.');
  }
}

/**
 * The `onRequest` hook for `/api/v1/*`: finds the cookie's session (when no bearer token
 * is sent) and checks the CSRF token of mutating calls before anything else runs.
 */
export function sessionHook(deps: AppDeps, opts: SessionOptions) {
  // Slide the idle end in steps, not on every call: at most a twentieth of the idle time late.
  const step = Math.min(60_000, Math.floor(opts.idleMs / 20));
  return async (req: FastifyRequest): Promise<void> => {
    if (!req.url.startsWith('/api/v1/') || bearerToken(req)) return;
    const value = cookieValue(req, SESSION_COOKIE);
    if (!value || !COOKIE_VALUE.test(value)) return;
    const now = deps.clock.now();
    const found = await deps.store.sessions.find(deps.sha256(value), now);
    if (!found) return;
    const path = req.url.split('?')[0] ?? '';
    let session = found;
    const idleEnd = Math.min(found.createdAt + opts.ttlMs, now + opts.idleMs);
    const use = req.headers[BACKGROUND_HEADER] !== '1' && !NOT_USE.has(path);
    if (use && idleEnd - found.expiresAt >= step) {
      await deps.store.sessions.touch(found.idHash, idleEnd, now);
      session = { ...found, expiresAt: idleEnd };
    }
    rememberSession(req, session);
    if (!MUTATING.has(req.method) || CSRF_EXEMPT.has(path)) return;
    if (!sameToken(req.headers['x-csrf-token'], session.csrf)) {
      throw new DomainError(
        'CSRF_INVALID',
        'Send X-CSRF-Token with the csrf value of GET /api/v1/session; nothing was changed.',
      );
    }
  };
}

/** What `GET /session` and a sign-in answer: who, the CSRF token, how, and the idle time. */
export interface SessionView {
  person: ReturnType<typeof personView>;
  csrf: string;
  via: ConsoleSession['via'];
  /** The session ends after this long without use, in milliseconds. */
  idleMs: number;
}

export interface SessionStarter {
  /** Creates a session for `person`, audits it and sets the cookie on `reply`. */
  start(reply: FastifyReply, person: Person, via: ConsoleSession['via']): Promise<SessionView>;
  /** Ends the request's session (if any), audited. */
  end(req: FastifyRequest, reason: string): Promise<void>;
  /** Tells the browser to drop the cookie. */
  clearCookie(reply: FastifyReply): void;
}

export function sessionStarter(
  deps: AppDeps,
  opts: SessionOptions,
  /** Told when a session ends here (to close its live feed). */
  onEnd: (idHash: string) => void = () => undefined,
): SessionStarter {
  return {
    async start(reply, person, via) {
      const value = randomBytes(32).toString('base64url');
      const csrf = randomBytes(32).toString('base64url');
      const now = deps.clock.now();
      const session = {
        idHash: deps.sha256(value),
        person: person.id,
        csrf,
        via,
        createdAt: now,
        expiresAt: now + Math.min(opts.ttlMs, opts.idleMs),
      };
      await deps.store.sessions.start(
        session,
        auditOf({ person, surface: 'console' }, now, {
          action: 'session.started',
          target: person.id,
          detail: { via, expiresAt: now + opts.ttlMs, idleMs: opts.idleMs },
        }),
      );
      reply.header('set-cookie', cookie(value, Math.floor(opts.ttlMs / 1000), opts.secureCookies));
      reply.header('cache-control', 'no-store');
      return { person: personView(person), csrf, via, idleMs: opts.idleMs };
    },
    async end(req, reason) {
      const session = sessionOf(req);
      if (!session) return;
      await deps.store.sessions.end(session.idHash, (s) =>
        auditOf({ id: s.person, surface: 'console' }, deps.clock.now(), {
          action: 'session.ended',
          target: s.person,
          detail: { via: s.via, reason },
        }),
      );
      onEnd(session.idHash);
    },
    clearCookie(reply) {
      reply.header('set-cookie', cookie('', 0, opts.secureCookies));
    },
  };
}

/** `/api/v1/session…`: who is signed in, the demo sign-in, and sign-out. */
export function sessionRoutes(deps: AppDeps, opts: SessionOptions, sessions: SessionStarter) {
  return async (app: FastifyInstance) => {
    app.get('/session', async (req, reply) => {
      const session = sessionOf(req);
      const person = session && findPerson(deps.catalog.current(), session.person);
      if (!session || !person) {
        throw new DomainError('UNAUTHENTICATED', 'Not signed in to the console.');
      }
      reply.header('cache-control', 'no-store');
      const view: SessionView = {
        person: personView(person),
        csrf: session.csrf,
        via: session.via,
        idleMs: opts.idleMs,
      };
      return view;
    });

    app.get('/session/demo', async () => {
      if (!opts.demoAllowed) throw new DomainError('NOT_FOUND', 'The demo sign-in is off here.');
      return { people: deps.catalog.current().people.map(personView) };
    });

    app.post('/session/demo', async (req, reply) => {
      refuseCrossSite(req);
      if (!opts.demoAllowed) {
        throw new DomainError(
          'FORBIDDEN',
          'The demo sign-in is only for a server bound to loopback (127.0.0.1, ::1, localhost) without OIDC; sign in through your organisation instead.',
        );
      }
      const { person: id } = parse(DemoSignInBody, req.body, 'body');
      const person = findPerson(deps.catalog.current(), id);
      if (!person) throw new DomainError('INVALID_INPUT', `body.person: no person "${id}".`);
      await sessions.end(req, 'signed in again');
      return sessions.start(reply, person, 'demo');
    });

    app.post('/session/logout', async (req, reply) => {
      refuseCrossSite(req);
      const via = sessionOf(req)?.via;
      await sessions.end(req, 'signed out');
      sessions.clearCookie(reply);
      // Signed in at the provider: the browser goes there next, so it signs out there too.
      const providerLogout = via === 'oidc' ? await opts.providerLogoutUrl?.() : undefined;
      if (providerLogout) return reply.code(200).send({ providerLogoutUrl: providerLogout });
      return reply.code(204).send();
    });
  };
}
