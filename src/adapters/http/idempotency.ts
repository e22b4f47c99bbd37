/**
 * `Idempotency-Key` on mutating routes: the first request with a key runs and its answer
 * is kept; a retry with the same key and body gets the same answer (`Idempotent-Replayed:
 * true`), a retry while the first still runs gets 409, and a different body 422.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Sha256, Store } from '../../app/ports.ts';
import { canonicalJson } from '../../domain/audit-chain.ts';
import { DomainError } from '../../domain/errors.ts';
import { problemOf } from './problem.ts';

const KEY = /^[\x21-\x7e]{1,200}$/;

export async function withIdempotency(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: { store: Store; sha256: Sha256; now: () => number },
  scope: string,
  run: () => Promise<{ status: number; body: unknown }>,
): Promise<unknown> {
  const header = req.headers['idempotency-key'];
  if (header === undefined) return send(reply, await run());
  if (typeof header !== 'string' || !KEY.test(header)) {
    throw new DomainError(
      'INVALID_INPUT',
      'Idempotency-Key must be 1–200 visible ASCII characters.',
    );
  }
  const bodyHash = deps.sha256(`${req.method} ${req.url}\n${canonicalJson(req.body ?? null)}`);
  const begun = await deps.store.beginIdempotent(scope, header, bodyHash, deps.now());
  if (begun.state === 'in-progress') throw new DomainError('IDEMPOTENCY_IN_PROGRESS');
  if (begun.state === 'mismatch') throw new DomainError('IDEMPOTENCY_MISMATCH');
  if (begun.state === 'done') {
    reply.header('idempotent-replayed', 'true');
    const isProblem = begun.status >= 400;
    return reply
      .code(begun.status)
      .type(isProblem ? 'application/problem+json' : 'application/json')
      .send(begun.body);
  }
  try {
    const result = await run();
    await deps.store.finishIdempotent(scope, header, result.status, JSON.stringify(result.body));
    return send(reply, result);
  } catch (err) {
    if (err instanceof DomainError && err.status < 500) {
      const p = { ...problemOf(err.code, err.message, err.details), instance: req.url };
      await deps.store.finishIdempotent(scope, header, p.status, JSON.stringify(p));
    } else {
      await deps.store.abandonIdempotent(scope, header).catch(() => undefined);
    }
    throw err;
  }
}

function send(reply: FastifyReply, r: { status: number; body: unknown }) {
  return reply.code(r.status).send(r.body);
}
