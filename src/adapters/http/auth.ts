/**
 * API authentication: `Authorization: Bearer <token>`, or the console's session cookie.
 * Tokens are compared by their SHA-256 against the catalog's stored hashes; the token itself
 * is never stored or logged. A cookie's session is looked up before the route runs (see
 * `console-session.ts`) and remembered here for the request, so `authenticate` stays
 * synchronous. A bearer token wins over a cookie.
 */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../app/context.ts';
import type { ConsoleSession, Sha256 } from '../../app/ports.ts';
import { type Catalog, findPerson } from '../../domain/catalog.ts';
import { DomainError } from '../../domain/errors.ts';

/** The console's session cookie: 32 random bytes, base64url. */
export const SESSION_COOKIE = 'cs_session';

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer ([\x21-\x7e]{8,512})$/.exec(h);
  return m?.[1];
}

/** The value of cookie `name` sent with the request, if any (the first, when repeated). */
export function cookieValue(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Sessions found for requests by their cookie; a request that is gone is forgotten. */
const sessions = new WeakMap<FastifyRequest, ConsoleSession>();

export function rememberSession(req: FastifyRequest, session: ConsoleSession): void {
  sessions.set(req, session);
}

/** The live console session the request's cookie names, once looked up. */
export function sessionOf(req: FastifyRequest): ConsoleSession | undefined {
  return sessions.get(req);
}

export function authenticate(
  req: FastifyRequest,
  catalog: Catalog,
  sha256: Sha256,
  surface: Actor['surface'] = 'api',
): Actor {
  const token = bearerToken(req);
  if (!token) return fromSession(req, catalog);
  const hash = sha256(token);
  const person = catalog.people.find((p) => p.tokens.some((t) => t.sha256 === hash));
  if (!person) throw new DomainError('UNAUTHENTICATED', 'That API token is not known.');
  const header = req.headers['x-countersign-surface'];
  return { person, surface: header === 'cli' ? 'cli' : surface };
}

/** The console person, from the session cookie; a session outlives no catalog change. */
function fromSession(req: FastifyRequest, catalog: Catalog): Actor {
  const session = sessions.get(req);
  if (session) {
    const person = findPerson(catalog, session.person);
    if (person) return { person, surface: 'console' };
    throw new DomainError('UNAUTHENTICATED', 'You are no longer in the catalog; sign in again.');
  }
  if (cookieValue(req, SESSION_COOKIE)) {
    throw new DomainError('UNAUTHENTICATED', 'Your console session has ended; sign in again.');
  }
  throw new DomainError('UNAUTHENTICATED', 'Send Authorization: Bearer <your API token>.');
}
