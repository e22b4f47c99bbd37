/**
 * API authentication: `Authorization: Bearer <token>`. Tokens are compared by their
 * SHA-256 against the catalog's stored hashes; the token itself is never stored or logged.
 */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../app/context.ts';
import type { Sha256 } from '../../app/ports.ts';
import type { Catalog } from '../../domain/catalog.ts';
import { DomainError } from '../../domain/errors.ts';

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer ([\x21-\x7e]{8,512})$/.exec(h);
  return m?.[1];
}

export function authenticate(
  req: FastifyRequest,
  catalog: Catalog,
  sha256: Sha256,
  surface: Actor['surface'] = 'api',
): Actor {
  const token = bearerToken(req);
  if (!token)
    throw new DomainError('UNAUTHENTICATED', 'Send Authorization: Bearer <your API token>.');
  const hash = sha256(token);
  const person = catalog.people.find((p) => p.tokens.some((t) => t.sha256 === hash));
  if (!person) throw new DomainError('UNAUTHENTICATED', 'That API token is not known.');
  const header = req.headers['x-countersign-surface'];
  return { person, surface: header === 'cli' ? 'cli' : surface };
}
