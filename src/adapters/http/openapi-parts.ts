/** Building blocks of the OpenAPI document: bodies, refusals, headers and query strings. */
import { z } from 'zod';

export const json = (schema: z.ZodType) => ({
  'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) },
});
export const problem = {
  description: 'A refusal (application/problem+json)',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};
export const ok = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});
export const idemHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', maxLength: 200 },
  description: 'Retry-safe key: the same key and body replay the first answer.',
};
export const csrfHeader = {
  name: 'X-CSRF-Token',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description:
    'With the console session cookie: the csrf value of GET /session (403 CSRF_INVALID without it). Not needed with a bearer token.',
};
export const queryParams = (schema: z.ZodObject) =>
  Object.keys(schema.shape).map((name) => ({
    name,
    in: 'query',
    required: false,
    schema: { type: 'string' },
  }));

/** A mutating route: its body, the Idempotency-Key, and the refusals every one may give. */
export function post(
  summary: string,
  body: z.ZodType,
  params: object[] = [],
  answer = 'The request as it is now',
) {
  return {
    summary,
    parameters: [...params, idemHeader, csrfHeader],
    requestBody: { required: true, content: json(body) },
    responses: {
      200: ok(answer),
      400: problem,
      401: problem,
      403: problem,
      404: problem,
      409: problem,
      413: problem,
      422: problem,
    },
  };
}

/** A path parameter: a string matching `pattern`. */
export const pathParam = (name: string, pattern: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', pattern },
});
