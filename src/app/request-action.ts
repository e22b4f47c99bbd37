/**
 * Use case: a person asks for a catalog command on a service environment.
 *
 * Read-only commands run at once for anyone with the view grant. Mutating and destructive
 * commands are checked (grant, link, parameters, channel), previewed when the command
 * declares a preview, and stored as a pending request with the sign-offs policy needs —
 * or approved at once when it needs none, or when a permitted person breaks glass.
 */
import { type Command, findCommand, findService } from '../domain/catalog.ts';
import { DomainError } from '../domain/errors.ts';
import { validateParams } from '../domain/params.ts';
import { can, mayBreakGlass, requirementsFor, type Target } from '../domain/policy.ts';
import { boundOutput, redact } from '../domain/redact.ts';
import { canonicalRequest, isSatisfied } from '../domain/request-lifecycle.ts';
import type {
  ActionRequest,
  Links,
  ParamValue,
  Preview,
  RequestOrigin,
} from '../domain/request-model.ts';
import { type Actor, type AppDeps, auditOf } from './context.ts';
import { requestCreatedEffects } from './effects.ts';
import type { StoreTx } from './ports.ts';
import { refuse, wasAudited } from './refuse.ts';

export interface RequestActionInput {
  command: string;
  service: string;
  environment: string;
  /** Raw values as typed; checked against the command's parameter specs. */
  params: Record<string, string>;
  links: Links;
  reason?: string;
  breakGlass?: boolean;
  /** Set when Countersign asks on the person's behalf (a runbook step). */
  origin?: RequestOrigin;
  /** More work in the transaction that stores the request (e.g. the run's step moves on). */
  within?: (tx: StoreTx, request: ActionRequest) => Promise<void>;
}

export type RequestActionResult =
  | { kind: 'ran'; command: string; ok: boolean; output: string; error?: string }
  | { kind: 'requested'; request: ActionRequest };

/**
 * Every refusal is audited (who tried what, and the code), then thrown; a refusal changes
 * nothing else.
 */
export async function requestAction(
  deps: AppDeps,
  actor: Actor,
  input: RequestActionInput,
): Promise<RequestActionResult> {
  try {
    return await decideAndAct(deps, actor, input);
  } catch (err) {
    if (err instanceof DomainError && err.status < 500 && !wasAudited(err)) {
      const target = `${input.command}:${input.service}:${input.environment}`.slice(0, 200);
      await refuse(deps, actor, 'request.refused', target, err);
    }
    throw err;
  }
}

async function decideAndAct(
  deps: AppDeps,
  actor: Actor,
  input: RequestActionInput,
): Promise<RequestActionResult> {
  const catalog = deps.catalog.current();
  const command = findCommand(catalog, input.command);
  if (!command) {
    throw new DomainError('UNKNOWN_COMMAND', `There is no command "${input.command}".`);
  }
  const service = findService(catalog, input.service);
  if (!service) {
    throw new DomainError('UNKNOWN_SERVICE', `There is no service "${input.service}".`);
  }
  if (!service.environments.some((e) => e.name === input.environment)) {
    throw new DomainError(
      'UNKNOWN_ENVIRONMENT',
      `${service.id} has no environment "${input.environment}"; it has ${service.environments.map((e) => e.name).join(', ')}.`,
    );
  }
  const target: Target = {
    command: command.id,
    service: service.id,
    environment: input.environment,
  };
  await checkAllowed(deps, actor, command, target, input);
  const checked = validateParams(command, input.params);
  if (!checked.ok) throw checked.error;
  if (command.class === 'read-only') {
    return runReadOnly(deps, actor, command, target, checked.value);
  }
  return createRequest(deps, actor, command, target, checked.value, input);
}

async function checkAllowed(
  deps: AppDeps,
  actor: Actor,
  command: Command,
  target: Target,
  input: RequestActionInput,
): Promise<void> {
  const catalog = deps.catalog.current();
  const action = command.class === 'read-only' ? 'view' : 'request';
  const refusal = (
    code: 'FORBIDDEN' | 'CHANNEL_NOT_ALLOWED' | 'BREAK_GLASS_NOT_ALLOWED',
    msg: string,
  ) =>
    refuse(
      deps,
      actor,
      'request.refused',
      `${command.id}:${target.service}:${target.environment}`,
      new DomainError(code, msg),
    );
  if (!can(catalog, actor.person, action, target)) {
    await refusal(
      'FORBIDDEN',
      `You have no ${action} grant for ${command.id} on ${target.service} ${target.environment}.`,
    );
  }
  if (actor.channel && catalog.channelRules.length > 0) {
    const allowed = catalog.channelRules.some(
      (r) =>
        r.channel === actor.channel &&
        (r.commands.includes('*') || r.commands.includes(command.id)),
    );
    if (!allowed) {
      await refusal('CHANNEL_NOT_ALLOWED', `${command.id} may not be requested from this channel.`);
    }
  }
  if (command.class !== 'read-only') {
    const { ticket, incident, pr } = input.links;
    if (!ticket && !incident && !pr) {
      throw new DomainError(
        'LINK_REQUIRED',
        `${command.id} changes ${target.service} ${target.environment}, so it needs a link: add ticket=…, incident=… or pr=….`,
      );
    }
  }
  if (input.breakGlass) {
    if (!mayBreakGlass(catalog, actor.person)) {
      await refusal('BREAK_GLASS_NOT_ALLOWED', 'None of your roles may break glass.');
    }
    if (!input.reason?.trim()) {
      throw new DomainError('REASON_REQUIRED', 'Breaking glass needs reason="…".');
    }
  }
}

async function runReadOnly(
  deps: AppDeps,
  actor: Actor,
  command: Command,
  target: Target,
  params: Record<string, ParamValue>,
): Promise<RequestActionResult> {
  const outcome = await deps.executor.run({
    requestId: deps.ids.next('RUN-'),
    command,
    handler: command.handler,
    service: target.service,
    environment: target.environment,
    params,
    requester: actor.person.id,
    timeoutMs: command.timeoutSeconds * 1000,
  });
  const output = cleanOutput(deps, command, params, outcome.output);
  const error = outcome.error ? cleanOutput(deps, command, params, outcome.error) : undefined;
  await deps.store.transaction((tx) =>
    tx.appendAudit([
      auditOf(actor, deps.clock.now(), {
        action: 'command.ran',
        target: `${command.id}:${target.service}:${target.environment}`,
        result: outcome.ok ? 'ok' : outcome.timedOut ? 'timeout' : 'failed',
        paramsDigest: deps.sha256(canonicalRequest({ ...target, params, links: {} })),
        detail: { outputDigest: deps.sha256(output) },
      }),
    ]),
  );
  return { kind: 'ran', command: command.id, ok: outcome.ok, output, ...(error ? { error } : {}) };
}

/** Redacts secrets (by pattern and the command's sensitive values) and bounds the size. */
export function cleanOutput(
  deps: AppDeps,
  command: Command,
  params: Record<string, ParamValue>,
  text: string,
): string {
  const sensitive = command.params
    .filter((p) => p.sensitive && params[p.name] !== undefined)
    .map((p) => String(params[p.name]));
  return boundOutput(redact(text, sensitive), deps.limits.maxOutputBytes).text;
}

/**
 * Params as people may see them: sensitive values masked. The store keeps the real
 * values (the execution needs them); chat, logs, API views and the audit trail do not.
 */
export function visibleParams(
  command: Command | undefined,
  params: Record<string, ParamValue>,
): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = { ...params };
  for (const p of command?.params ?? [])
    if (p.sensitive && p.name in out) out[p.name] = '[REDACTED]';
  return out;
}

async function createRequest(
  deps: AppDeps,
  actor: Actor,
  command: Command,
  target: Target,
  params: Record<string, ParamValue>,
  input: RequestActionInput,
): Promise<RequestActionResult> {
  const catalog = deps.catalog.current();
  const now = deps.clock.now();
  const needs = requirementsFor(catalog, command, target, now);
  const preview = command.preview
    ? await runPreview(deps, actor, command, target, params)
    : undefined;
  const links = input.links;
  const base: ActionRequest = {
    id: deps.ids.next('REQ-'),
    command: command.id,
    service: target.service,
    environment: target.environment,
    class: command.class,
    params,
    links,
    ...(input.reason ? { reason: input.reason } : {}),
    requester: actor.person.id,
    surface: actor.surface,
    ...(actor.channel ? { channel: actor.channel } : {}),
    digest: deps.sha256(canonicalRequest({ ...target, params, links })),
    state: 'pending',
    requirements: needs.requirements,
    signOffs: [],
    ...(input.breakGlass ? { breakGlass: { reason: input.reason ?? '' } } : {}),
    ...(input.origin ? { origin: input.origin } : {}),
    ...(preview ? { preview } : {}),
    createdAt: now,
    updatedAt: now,
    expiresAt: now + needs.expiresAfterMinutes * 60_000,
    version: 1,
  };
  const request: ActionRequest =
    input.breakGlass || isSatisfied(base) ? { ...base, state: 'approved' } : base;
  await deps.store.transaction(async (tx) => {
    await tx.insertRequest(request);
    const effects = requestCreatedEffects(deps, actor, request, needs.policy);
    await tx.appendAudit(effects.audit);
    await tx.enqueue(effects.outbox);
    if (request.breakGlass) {
      await tx.insertReviewItem({
        id: deps.ids.next('REV-'),
        requestId: request.id,
        kind: 'break-glass',
        createdAt: now,
      });
    }
    await input.within?.(tx, request);
  });
  deps.wakeDispatcher?.();
  return { kind: 'requested', request };
}

async function runPreview(
  deps: AppDeps,
  actor: Actor,
  command: Command,
  target: Target,
  params: Record<string, ParamValue>,
): Promise<Preview> {
  const outcome = await deps.executor.run({
    requestId: deps.ids.next('PRV-'),
    command,
    handler: command.preview!,
    service: target.service,
    environment: target.environment,
    params,
    requester: actor.person.id,
    timeoutMs: Math.min(command.timeoutSeconds * 1000, deps.limits.previewTimeoutMs),
  });
  if (!outcome.ok) {
    return {
      changes: [],
      error: cleanOutput(deps, command, params, outcome.error ?? 'preview failed'),
    };
  }
  try {
    // The result is the first line; the handler's logs may follow it.
    const parsed = JSON.parse(outcome.output.split('\n', 1)[0] ?? '') as { changes?: unknown };
    if (!Array.isArray(parsed.changes)) throw new Error('no changes list');
    const changes = parsed.changes
      .slice(0, 50)
      .map((c) => cleanOutput(deps, command, params, String(c)).slice(0, 500));
    return { changes };
  } catch {
    return { changes: [], error: 'the preview did not return { changes: [...] }' };
  }
}
