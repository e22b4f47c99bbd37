/**
 * `POST /api/v1/commands`: one `/ops` line, as typed in chat, the CLI or the console's
 * command box. A catalog command is handled exactly as `POST /requests {text}`; `incident`
 * and `runbook` verbs go to their use cases; `deny`, `cancel` and `status-of` act on a
 * request. `approve` is refused here: an approval must be bound to the digest the person
 * reviewed, which a line of text does not carry — use `POST /requests/{id}/approve`.
 * Every answer is `{ text, ...structured }`, `text` being plain lines for people.
 */
import type { FastifyInstance } from 'fastify';
import { cancelRequest } from '../../app/cancel-request.ts';
import type { Actor, AppDeps } from '../../app/context.ts';
import { denyRequest } from '../../app/decide-approval.ts';
import { INCIDENT_USAGE, RUNBOOK_USAGE, runOpsVerb } from '../../app/ops-verbs.ts';
import { getRequest } from '../../app/read-requests.ts';
import { requestAction } from '../../app/request-action.ts';
import type { Catalog, Command } from '../../domain/catalog.ts';
import { DomainError } from '../../domain/errors.ts';
import { type ParsedCommand, parseCommandText } from '../../domain/grammar.ts';
import { helpLine, usageFor } from '../../domain/params.ts';
import { can } from '../../domain/policy.ts';
import { missingSignOffs } from '../../domain/request-lifecycle.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import { parse } from './api-routes.ts';
import { CommandBody } from './api-schemas.ts';
import { actionFromText } from './command-input.ts';
import { routeKit } from './route-kit.ts';
import { requestView } from './views.ts';

interface CommandAnswer {
  status: number;
  body: { text: string } & Record<string, unknown>;
}

export function commandRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    const { actorOf, mutate } = routeKit(deps);
    app.post('/commands', async (req, reply) => {
      const actor = actorOf(req);
      const { text } = parse(CommandBody, req.body, 'body');
      const parsed = parseCommandText(text);
      if (!parsed.ok) throw parsed.error;
      const line = parsed.value;
      if (line.kind === 'help')
        return { text: helpText(deps.catalog.current(), actor, line.command) };
      return mutate(req, reply, actor, () => runLine(deps, actor, text, line));
    });
  };
}

async function runLine(
  deps: AppDeps,
  actor: Actor,
  text: string,
  line: Exclude<ParsedCommand, { kind: 'help' }>,
): Promise<CommandAnswer> {
  const view = (r: ActionRequest) => requestView(deps.catalog.current(), r);
  if (line.kind === 'action') {
    const result = await requestAction(deps, actor, actionFromText(text));
    if (result.kind === 'ran') {
      const failed = result.ok ? '' : `\nerror: ${result.error ?? 'failed'}`;
      return { status: 200, body: { text: `${result.output}${failed}`, ran: result } };
    }
    return {
      status: 201,
      body: { text: requestLine(result.request), request: view(result.request) },
    };
  }
  if (line.verb === 'incident' || line.verb === 'runbook') {
    return { status: 200, body: { ...(await runOpsVerb(deps, actor, line)) } };
  }
  const requestId = line.args[0] ?? '';
  const reason = line.params.reason;
  let request: ActionRequest;
  switch (line.verb) {
    case 'approve':
      throw new DomainError(
        'INVALID_INPUT',
        `An approval is bound to the digest you reviewed: GET /api/v1/requests/${requestId}, then POST /api/v1/requests/${requestId}/approve with its digest.`,
      );
    case 'deny':
      request = await denyRequest(deps, actor, { requestId, reason: reason ?? '' });
      break;
    case 'cancel':
      request = await cancelRequest(deps, actor, { requestId, ...(reason ? { reason } : {}) });
      break;
    case 'status-of':
      request = await getRequest(deps, actor, requestId);
      break;
  }
  return { status: 200, body: { text: requestLine(request), request: view(request) } };
}

/** `REQ-… pending` and one `  needs …` line per missing sign-off. */
export function requestLine(r: ActionRequest): string {
  const head = `${r.id} ${r.state} ${r.command} ${r.service} ${r.environment}`;
  const missing = r.state === 'pending' ? missingSignOffs(r) : [];
  return [head, ...missing.map((m) => `  needs ${m}`)].join('\n');
}

/** What the person may run, with usage, and the incident and runbook verbs. */
function helpText(catalog: Catalog, actor: Actor, commandId?: string): string {
  const mayRun = (c: Command) =>
    catalog.services.some((s) =>
      s.environments.some((e) =>
        can(catalog, actor.person, c.class === 'read-only' ? 'view' : 'request', {
          command: c.id,
          service: s.id,
          environment: e.name,
        }),
      ),
    );
  const commands = catalog.commands.filter(mayRun);
  if (commandId !== undefined) {
    const one = commands.find((c) => c.id === commandId);
    if (!one) {
      throw new DomainError('UNKNOWN_COMMAND', `There is no command "${commandId}" you may run.`);
    }
    return `${one.id} (${one.class}) — ${one.description}\nusage: ${usageFor(one)}`;
  }
  return [
    'Commands you may run:',
    ...commands.map((c) => `  ${helpLine(c)}`),
    'Incidents:',
    ...INCIDENT_USAGE.map((u) => `  /ops ${u}`),
    'Runbooks:',
    ...RUNBOOK_USAGE.map((u) => `  /ops ${u}`),
  ].join('\n');
}
