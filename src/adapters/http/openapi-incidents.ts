/** The OpenAPI paths of incident response: incidents, runbooks and runs, the report, commands. */
import {
  CommandBody,
  DeclareIncidentBody,
  EmptyBody,
  IncidentListQuery,
  NoteBody,
  ReportQuery,
  RoleBody,
  RunListQuery,
  SeverityBody,
  StartRunBody,
  StatusUpdateBody,
  StepBody,
} from './api-schemas.ts';
import { idemHeader, json, ok, pathParam, post, problem, queryParams } from './openapi-parts.ts';

const incidentId = pathParam('id', '^INC-');
const runId = pathParam('id', '^RBR-');
const runbookId = pathParam('id', '^[a-z][a-z0-9-]*$');
const stepId = pathParam('step', '^[a-z][a-z0-9-]*$');

/** A read: 200, or 401 / 404 (and 400 on a malformed query). */
const read = (summary: string, answer: string, parameters: object[] = []) => ({
  summary,
  parameters,
  responses: { 200: ok(answer), 400: problem, 401: problem, 404: problem },
});

const created = (summary: string, body: Parameters<typeof post>[1], answer: string) => {
  const { responses, ...rest } = post(summary, body, [], answer);
  const { 200: _ok, ...refusals } = responses;
  return { ...rest, responses: { 201: ok(answer), ...refusals } };
};

const change = (summary: string, body: Parameters<typeof post>[1]) =>
  post(summary, body, [incidentId], 'The incident as it is now');

export function responsePaths() {
  return {
    '/incidents': {
      get: read(
        'Incidents you may view, newest first',
        'Incidents',
        queryParams(IncidentListQuery),
      ),
      post: created('Declare an incident', DeclareIncidentBody, 'The incident'),
    },
    '/incidents/{id}': {
      get: read(
        'One incident and its header (alerts, last changes, runbooks, runs)',
        'The incident and its header',
        [incidentId],
      ),
    },
    '/incidents/{id}/timeline': {
      get: read('The incident timeline, oldest first', 'Entries', [incidentId]),
    },
    '/incidents/{id}/postmortem': {
      get: {
        summary: 'A postmortem draft built from the timeline, requests and runs',
        parameters: [incidentId],
        responses: {
          200: {
            description: 'Markdown',
            content: { 'text/markdown': { schema: { type: 'string' } } },
          },
          401: problem,
          404: problem,
        },
      },
    },
    '/incidents/{id}/severity': {
      post: change(
        'Propose a severity (in force at once when you may confirm it, never sev1)',
        SeverityBody,
      ),
    },
    '/incidents/{id}/severity/confirm': {
      post: change('Confirm the proposed severity', EmptyBody),
    },
    '/incidents/{id}/roles': { post: change('Give someone an incident role', RoleBody) },
    '/incidents/{id}/updates': { post: change('Post a status update', StatusUpdateBody) },
    '/incidents/{id}/mitigate': { post: change('Mark the incident mitigated', NoteBody) },
    '/incidents/{id}/resolve': { post: change('Resolve the incident', NoteBody) },
    '/runbooks': {
      get: read('Runbooks you may see: id, title, team, services, digest, steps', 'Runbooks'),
    },
    '/runbooks/{id}': { get: read('One runbook with its steps', 'The runbook', [runbookId]) },
    '/runbook-runs': {
      get: read('Runbook runs you may view, newest first', 'Runs', queryParams(RunListQuery)),
      post: created(
        'Start a guided run from an incident, or from a ticket with service and environment',
        StartRunBody,
        "The run's guided view",
      ),
    },
    '/runbook-runs/{id}': {
      get: read("A run's guided view: the current step, what is next, the evidence", 'The view', [
        runId,
      ]),
    },
    '/runbook-runs/{id}/steps/{step}': {
      post: post(
        'Act on the current step: run its command, acknowledge, choose a branch, or skip',
        StepBody,
        [runId, stepId],
        "The run's guided view",
      ),
    },
    '/report': {
      get: read(
        'The review report over a window: requests, incidents, runs, timings',
        'The report',
        queryParams(ReportQuery),
      ),
    },
    '/commands': {
      post: {
        summary: 'One /ops line, as in chat (approve is refused: use /requests/{id}/approve)',
        parameters: [idemHeader],
        requestBody: { required: true, content: json(CommandBody) },
        responses: {
          200: ok('{ text, ...what it acted on }'),
          201: ok('A request was created: { text, request }'),
          400: problem,
          401: problem,
          403: problem,
          404: problem,
          409: problem,
          413: problem,
          422: problem,
        },
      },
    },
  };
}
