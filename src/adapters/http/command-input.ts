/** Turns an API body (chat-grammar text or structured fields) into a use-case input. */

import type { z } from 'zod';
import type { RequestActionInput } from '../../app/request-action.ts';
import { DomainError } from '../../domain/errors.ts';
import { parseCommandText } from '../../domain/grammar.ts';
import type { CreateRequestBody } from './api-schemas.ts';

export function actionFromText(text: string): RequestActionInput {
  const parsed = parseCommandText(text);
  if (!parsed.ok) throw parsed.error;
  const p = parsed.value;
  if (p.kind !== 'action') {
    throw new DomainError(
      'PARSE_ERROR',
      `"${text.split(/\s+/)[0] ?? ''}" is not a catalog command here; use the matching API route.`,
    );
  }
  return {
    command: p.command,
    service: p.service,
    environment: p.environment,
    params: p.params,
    links: p.links,
    ...(p.reason !== undefined ? { reason: p.reason } : {}),
    breakGlass: p.breakGlass,
  };
}

export function actionFromBody(body: z.infer<typeof CreateRequestBody>): RequestActionInput {
  if ('text' in body) return actionFromText(body.text);
  return {
    command: body.command,
    service: body.service,
    environment: body.environment,
    params: Object.fromEntries(Object.entries(body.params).map(([k, v]) => [k, String(v)])),
    links: body.links,
    ...(body.reason !== undefined ? { reason: body.reason } : {}),
    breakGlass: body.breakGlass,
  };
}
