/**
 * Errors at the HTTP edge: every refusal becomes `application/problem+json` (RFC 9457)
 * with its stable code. Unexpected errors are logged in full and answered with a bare 500.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ERRORS, type ErrorCode } from '../../domain/errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  [extra: string]: unknown;
}

export function problemOf(
  code: ErrorCode,
  detail?: string,
  extra: Record<string, unknown> = {},
): Problem {
  const { status, title } = ERRORS[code];
  return {
    type: `https://countersign.dev/errors#${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail: detail ?? title,
    code,
    ...extra,
  };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p);
}

/** Maps anything thrown in a route to a problem document. */
export function toProblem(err: unknown, req: FastifyRequest): Problem {
  if (err instanceof DomainError) {
    return { ...problemOf(err.code, err.message, err.details), instance: req.url };
  }
  const fe = err as Partial<FastifyError>;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return problemOf('PAYLOAD_TOO_LARGE');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return problemOf('INVALID_INPUT', 'Send the body as application/json.');
  }
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return problemOf('INVALID_INPUT', 'The body is not valid JSON.');
  }
  if (fe.statusCode === 400 && fe.message && /JSON/i.test(fe.message)) {
    return problemOf('INVALID_INPUT', 'The body is not valid JSON.');
  }
  return {
    ...problemOf('INTERNAL', 'Something went wrong; it has been logged.'),
    instance: req.url,
  };
}
