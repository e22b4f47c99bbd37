/**
 * `policy explain`: what a request would need, without acting. Answers the questions a
 * reviewer of the catalog asks — may this person ask, what sign-offs, from whom, and is
 * the change window open — so policies can be tested like code.
 */
import { type Catalog, findCommand, findService, type Person } from './catalog.ts';
import { validateParams } from './params.ts';
import {
  can,
  eligibleSignOffs,
  mayBreakGlass,
  requirementsFor,
  type WindowStatus,
} from './policy.ts';
import type { Links, SignOffRequirement } from './request-model.ts';

export interface ExplainInput {
  command: string;
  service: string;
  environment: string;
  params: Record<string, string>;
  links: Links;
  breakGlass: boolean;
  reason?: string;
}

export interface Explanation {
  allowed: boolean;
  /** Why not, one sentence each; empty when allowed. */
  refusals: string[];
  class?: string;
  policy?: string;
  window?: WindowStatus;
  requirements: (SignOffRequirement & { eligible: string[] })[];
  /** True when the request would run at once (read-only, nothing needed, or break-glass). */
  runsAtOnce: boolean;
}

export function explainRequest(
  catalog: Catalog,
  person: Person,
  input: ExplainInput,
  at: number,
): Explanation {
  const refusals: string[] = [];
  const command = findCommand(catalog, input.command);
  const service = findService(catalog, input.service);
  if (!command) refusals.push(`there is no command "${input.command}"`);
  if (!service) refusals.push(`there is no service "${input.service}"`);
  else if (!service.environments.some((e) => e.name === input.environment)) {
    refusals.push(`${service.id} has no environment "${input.environment}"`);
  }
  if (!command || refusals.length > 0)
    return { allowed: false, refusals, requirements: [], runsAtOnce: false };
  const target = { command: command.id, service: input.service, environment: input.environment };
  const verb = command.class === 'read-only' ? 'view' : 'request';
  if (!can(catalog, person, verb, target)) {
    refusals.push(
      `${person.id} has no ${verb} grant for ${command.id} on ${input.service} ${input.environment}`,
    );
  }
  const params = validateParams(command, input.params);
  if (!params.ok) refusals.push(params.error.message);
  const mutating = command.class !== 'read-only';
  if (mutating && !input.links.ticket && !input.links.incident && !input.links.pr) {
    refusals.push('a mutating request needs ticket=…, incident=… or pr=…');
  }
  if (input.breakGlass && !mayBreakGlass(catalog, person))
    refusals.push(`${person.id} may not break glass`);
  if (input.breakGlass && !input.reason?.trim()) refusals.push('breaking glass needs reason="…"');
  const needs = requirementsFor(catalog, command, target, at);
  const eligible = eligibleSignOffs(catalog, {
    requester: person.id,
    requirements: needs.requirements,
    ...target,
  });
  const requirements = needs.requirements.map((q) => ({
    ...q,
    eligible: eligible.get(q.kind) ?? [],
  }));
  for (const q of requirements) {
    if (q.eligible.length < q.count) {
      refusals.push(
        `${q.count} ${q.kind} needed but only ${q.eligible.length} eligible: ${q.eligible.join(', ') || 'nobody'}`,
      );
    }
  }
  return {
    allowed: refusals.length === 0,
    refusals,
    class: command.class,
    ...(needs.policy ? { policy: needs.policy } : {}),
    window: needs.window,
    requirements,
    runsAtOnce: !mutating || input.breakGlass || needs.requirements.length === 0,
  };
}
