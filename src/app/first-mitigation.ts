/**
 * The first mitigation a catalog rule pre-approved: when a route opens an incident for a
 * service environment a rule names, the rule's command becomes an approved request at once
 * — requester `rule:<id>`, linked to the incident, audited with the rule's digest and
 * owning team — and runs through the outbox like any other approved request. A destructive
 * command is never pre-approvable: the rule is refused (and said so in the timeline).
 */
import type { AuditDraft } from '../domain/audit-chain.ts';
import { type Catalog, findCommand } from '../domain/catalog.ts';
import type { Incident, TimelineDraft } from '../domain/incident-model.ts';
import { validateParams } from '../domain/params.ts';
import { canonicalRequest } from '../domain/request-lifecycle.ts';
import type { ActionRequest } from '../domain/request-model.ts';
import type { MitigationRule } from '../domain/runbook-model.ts';
import type { AppDeps } from './context.ts';
import { executeEffect, notifyEffect, requestAudit } from './effects.ts';
import type { OutboxDraft } from './ports.ts';

export type FirstMitigation =
  | {
      kind: 'run';
      rule: MitigationRule;
      request: ActionRequest;
      audit: AuditDraft[];
      outbox: OutboxDraft[];
      timeline: TimelineDraft[];
    }
  | { kind: 'refused'; rule: MitigationRule; why: string; timeline: TimelineDraft[] };

/** The rule that applies to an incident `route` opened, in catalog order. */
export function mitigationRuleFor(
  catalog: Catalog,
  route: string,
  incident: Pick<Incident, 'service' | 'environment'>,
): MitigationRule | undefined {
  return catalog.mitigations.find(
    (m) =>
      m.route === route &&
      m.service === incident.service &&
      (m.environments.includes('*') || m.environments.includes(incident.environment)),
  );
}

/** Fills `{{service}}`, `{{environment}}` and `{{incident}}` in parameter values. */
export function fillPlaceholders(
  params: Record<string, string>,
  ctx: { service: string; environment: string; incident?: string },
): Record<string, string> {
  const values: Record<string, string | undefined> = {
    service: ctx.service,
    environment: ctx.environment,
    incident: ctx.incident,
  };
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      v.replace(/\{\{\s*(service|environment|incident)\s*\}\}/g, (m, name: string) => {
        return values[name] ?? m;
      }),
    ]),
  );
}

/** What the rule for `route` does for a newly opened incident, or undefined when none applies. */
export function firstMitigation(
  deps: AppDeps,
  catalog: Catalog,
  route: string,
  incident: Incident,
  now: number,
): FirstMitigation | undefined {
  const rule = mitigationRuleFor(catalog, route, incident);
  if (!rule) return undefined;
  const actor = `rule:${rule.id}`;
  const line = (text: string, ref?: string): TimelineDraft => ({
    incidentId: incident.id,
    at: now,
    kind: 'mitigation',
    actor,
    text,
    ...(ref ? { ref } : {}),
    detail: { rule: rule.id, ruleDigest: rule.digest, owner: rule.team },
  });
  const refused = (why: string): FirstMitigation => ({
    kind: 'refused',
    rule,
    why,
    timeline: [line(`first mitigation ${rule.command} not run: ${why}`)],
  });
  const command = findCommand(catalog, rule.command);
  if (!command) return refused(`there is no command "${rule.command}"`);
  if (command.class === 'destructive') {
    return refused(`${command.id} is destructive, and a destructive command is never pre-approved`);
  }
  const checked = validateParams(
    command,
    fillPlaceholders(rule.params, {
      service: incident.service,
      environment: incident.environment,
      incident: incident.id,
    }),
  );
  if (!checked.ok) return refused(checked.error.message);
  const links = { incident: incident.id };
  const target = {
    command: command.id,
    service: incident.service,
    environment: incident.environment,
  };
  const request: ActionRequest = {
    id: deps.ids.next('REQ-'),
    ...target,
    class: command.class,
    params: checked.value,
    links,
    reason: `first mitigation pre-approved by rule ${rule.id} (owner ${rule.team})`,
    requester: actor,
    surface: 'system',
    digest: deps.sha256(canonicalRequest({ ...target, params: checked.value, links })),
    state: 'approved',
    requirements: [],
    signOffs: [],
    origin: {
      kind: 'mitigation',
      rule: rule.id,
      ruleDigest: rule.digest,
      team: rule.team,
      incident: incident.id,
    },
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 60 * 60_000,
    version: 1,
  };
  const who = { id: actor, surface: 'system' as const };
  const detail = { rule: rule.id, ruleDigest: rule.digest, owner: rule.team };
  return {
    kind: 'run',
    rule,
    request,
    audit: [
      requestAudit(who, request, 'request.created', now, {
        class: request.class,
        reason: request.reason,
        ...detail,
      }),
      requestAudit(who, request, 'request.pre-approved', now, detail),
    ],
    outbox: [notifyEffect(request, 'created', now), executeEffect(request, now)],
    timeline: [line(`first mitigation ${command.id} pre-approved by rule ${rule.id}`, request.id)],
  };
}
