/** The OpenAPI paths the web console adds: sessions, the live feed, the catalog, approvals. */
import { DemoSignInBody } from './console-session.ts';
import { csrfHeader, json, ok, problem } from './openapi-parts.ts';

/** The session cookie and how the console signs in. */
export const sessionScheme = {
  type: 'apiKey',
  in: 'cookie',
  name: 'cs_session',
  description:
    'The console session (HttpOnly, SameSite=Lax). Mutating calls made with it need X-CSRF-Token.',
};

const query = (name: string, description: string, schema: object) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

/** The query parameters of `GET /audit`, with their meaning (the console's audit page uses them). */
export function auditParams() {
  const seq = { type: 'integer', minimum: 0 };
  const time = { type: 'string', format: 'date-time' };
  return [
    query('target', 'Entries about this record (REQ-…, INC-…, RBR-…) or target', {
      type: 'string',
    }),
    query('actor', 'Entries by this person or actor', { type: 'string' }),
    query('action', 'Entries with this action, e.g. request.created', { type: 'string' }),
    query('afterSeq', 'Entries with a larger seq (the cursor of oldest-first pages)', seq),
    query('before', 'Entries with a smaller seq, newest first (the cursor of newest-first pages)', {
      type: 'integer',
      minimum: 1,
    }),
    query('from', 'Entries at or after this time (ISO 8601 with Z or an offset)', time),
    query('to', 'Entries at or before this time (ISO 8601 with Z or an offset)', time),
    query('order', 'oldest (default) or newest first; newest when before is given', {
      type: 'string',
      enum: ['oldest', 'newest'],
    }),
    query('limit', 'Entries read per page, 1–1000, default 100', {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
    }),
  ];
}

export function consolePaths() {
  return {
    '/session': {
      get: {
        summary: 'Who is signed in to the console, with the CSRF token for mutating calls',
        security: [{ session: [] }],
        responses: { 200: ok('{ person, csrf, via }'), 401: problem },
      },
    },
    '/session/demo': {
      get: {
        summary: 'The people the demo sign-in offers (loopback bind without OIDC only)',
        security: [],
        responses: { 200: ok('{ people }'), 404: problem },
      },
      post: {
        summary: 'Demo sign-in as a catalog person; sets the cs_session cookie',
        security: [],
        requestBody: { required: true, content: json(DemoSignInBody) },
        responses: {
          200: ok('{ person, csrf, via: "demo" }'),
          400: problem,
          403: problem,
        },
      },
    },
    '/session/logout': {
      post: {
        summary: 'Sign out of the console; clears the cookie',
        security: [{ session: [] }],
        parameters: [csrfHeader],
        responses: { 204: { description: 'Signed out' }, 401: problem, 403: problem },
      },
    },
    '/feed': {
      get: {
        summary:
          'Live audit feed (text/event-stream): entries after Last-Event-ID or ?after= (newest 500 at most), then new ones you may see; ": ping" every 15 s',
        parameters: [
          { name: 'after', in: 'query', required: false, schema: { type: 'integer' } },
          { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
        ],
        responses: {
          200: {
            description: 'id: <seq>, event: audit, data: the entry as GET /audit returns it',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          400: problem,
          401: problem,
        },
      },
    },
    '/catalog': {
      get: {
        summary:
          'The catalog in force: services, commands (class, policy, rollback), runbooks, routes, policies, digest; never tokens',
        responses: { 200: ok('The catalog'), 401: problem },
      },
    },
    '/me/approvals': {
      get: {
        summary: 'Pending requests you may sign off now, with the kinds of sign-off you may give',
        responses: { 200: ok('{ approvals: [{ request, kinds }] }'), 401: problem },
      },
    },
    '/audit/verify': {
      post: {
        summary: 'Verify the audit hash chain (administrators)',
        parameters: [csrfHeader],
        responses: { 200: ok('{ ok, message, checked }'), 401: problem, 403: problem },
      },
    },
  };
}
