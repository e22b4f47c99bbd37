/** The OpenAPI 3.1 document served at `/api/openapi.json`, built from the zod schemas. */
import { ERRORS } from '../../domain/errors.ts';
import { AlertQuery, EventQuery, SilenceBody } from './alert-routes.ts';
import {
  AmendBody,
  ApproveBody,
  CancelBody,
  CreateRequestBody,
  DenyBody,
  ExplainBody,
  RequestListQuery,
  SettleBody,
} from './api-schemas.ts';
import { auditParams, consolePaths, sessionScheme } from './openapi-console.ts';
import { responsePaths } from './openapi-incidents.ts';
import { idemHeader, json, ok, pathParam, post, problem, queryParams } from './openapi-parts.ts';

const idParam = pathParam('id', '^REQ-');

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Countersign API',
      version: '1',
      description:
        'Authenticate with Authorization: Bearer <token>, or (the web console) the cs_session cookie; a mutating call made with the cookie must send X-CSRF-Token.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: sessionScheme },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            code: { type: 'string', enum: Object.keys(ERRORS) },
            instance: { type: 'string' },
          },
        },
      },
    },
    paths: {
      '/me': {
        get: {
          summary: 'Who the token belongs to',
          responses: { 200: ok('The person'), 401: problem },
        },
      },
      '/requests': {
        post: {
          ...post('Request a catalog command (runs at once when read-only)', CreateRequestBody),
          responses: {
            200: ok('A read-only command ran'),
            201: ok('The request was created'),
            400: problem,
            401: problem,
            403: problem,
            404: problem,
            413: problem,
            422: problem,
          },
        },
        get: {
          summary: 'List requests, newest first',
          parameters: queryParams(RequestListQuery),
          responses: { 200: ok('Requests'), 401: problem },
        },
      },
      '/requests/{id}': {
        get: {
          summary: 'One request',
          parameters: [idParam],
          responses: { 200: ok('The request'), 401: problem, 404: problem },
        },
        patch: post('Change a pending request (voids sign-offs given so far)', AmendBody, [
          idParam,
        ]),
      },
      '/requests/{id}/approve': {
        post: post('Give a sign-off bound to the digest you reviewed', ApproveBody, [idParam]),
      },
      '/requests/{id}/deny': { post: post('Deny, with a reason', DenyBody, [idParam]) },
      '/requests/{id}/cancel': {
        post: post('Withdraw your own pending request', CancelBody, [idParam]),
      },
      '/requests/{id}/settle': {
        post: post('Record the real outcome of an unknown execution', SettleBody, [idParam]),
      },
      '/explain': {
        post: {
          summary: 'What a request would need, without acting',
          requestBody: { required: true, content: json(ExplainBody) },
          responses: { 200: ok('The explanation'), 400: problem, 401: problem },
        },
      },
      '/audit': {
        get: {
          summary:
            'Query the audit log: oldest first after afterSeq, or newest first before a seq (before=) or with order=newest; from/to bound the time',
          description:
            'Answers { entries, lastSeq, more }: entries you may see, the seq of the last entry read (seen or not), and whether a next page may exist. Page newest first with before=<lastSeq>, oldest first with afterSeq=<lastSeq>. A bad cursor or time is a 400 naming the parameter.',
          parameters: auditParams(),
          responses: { 200: ok('{ entries, lastSeq?, more }'), 400: problem, 401: problem },
        },
      },
      '/alerts': {
        get: {
          summary: 'Alerts you may view, most recently seen first',
          parameters: queryParams(AlertQuery),
          responses: { 200: ok('Alerts'), 400: problem, 401: problem },
        },
      },
      '/events': {
        get: {
          summary: 'Stored ingested events, newest first (administrators)',
          parameters: queryParams(EventQuery),
          responses: { 200: ok('Events'), 401: problem, 403: problem },
        },
      },
      '/events/{seq}': {
        get: {
          summary: 'One stored event and what became of it (administrators)',
          parameters: [{ name: 'seq', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: { 200: ok('The event'), 401: problem, 403: problem, 404: problem },
        },
      },
      '/silences': {
        get: {
          summary: 'Active silences (all=true: ended ones too)',
          responses: { 200: ok('Silences'), 401: problem },
        },
        post: {
          ...post(
            'Silence alerts of a service/environment for a while, with a reason',
            SilenceBody,
          ),
          responses: {
            201: ok('The silence'),
            400: problem,
            401: problem,
            403: problem,
            404: problem,
            422: problem,
          },
        },
      },
      '/silences/{id}/expire': {
        post: {
          summary: 'End a silence early',
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^SIL' },
            },
            idemHeader,
          ],
          responses: {
            200: ok('The silence'),
            401: problem,
            403: problem,
            404: problem,
            409: problem,
          },
        },
      },
      '/review-items': {
        get: {
          summary: 'Open follow-up reviews (break-glass)',
          responses: { 200: ok('Items'), 401: problem },
        },
      },
      ...responsePaths(),
      ...consolePaths(),
    },
  };
}
