/**
 * Silences: mute alerts in a service/environment scope (optionally narrowed by an
 * EventBridge pattern) until they expire. Muted alerts are still recorded; they just post
 * nothing. Creating or expiring one takes the approve grant on some command of that
 * service and environment (a `*` scope takes administer on everything), needs a reason,
 * and is audited; so is every refusal.
 */
import type { Catalog, Person } from '../domain/catalog.ts';
import { DomainError, isDomainError } from '../domain/errors.ts';
import { compilePattern } from '../domain/event-pattern.ts';
import { can } from '../domain/policy.ts';
import { type Actor, type AppDeps, auditOf } from './context.ts';
import type { Silence } from './ingest-ports.ts';
import { refuse } from './refuse.ts';

export interface SilenceInput {
  service: string;
  environment: string;
  pattern?: Record<string, unknown>;
  reason: string;
  /** How long it lasts, from now. */
  minutes: number;
}

/** The longest silence: a week. Longer quiet belongs in the catalog (a route with notify: false). */
export const MAX_SILENCE_MINUTES = 7 * 24 * 60;

/** Whether `person` may silence alerts of `service`/`environment` (`*` for all). */
export function maySilence(
  catalog: Catalog,
  person: Person,
  service: string,
  environment: string,
): boolean {
  if (service === '*' || environment === '*') {
    return can(catalog, person, 'administer', { command: '*', service: '*', environment: '*' });
  }
  return catalog.commands.some((c) =>
    can(catalog, person, 'approve', { command: c.id, service, environment }),
  );
}

export async function createSilence(
  deps: AppDeps,
  actor: Actor,
  input: SilenceInput,
): Promise<Silence> {
  const catalog = deps.catalog.current();
  const target = `silence:${input.service}/${input.environment}`;
  try {
    checkInput(catalog, input);
    if (!maySilence(catalog, actor.person, input.service, input.environment)) {
      throw new DomainError(
        'FORBIDDEN',
        `You may not silence alerts of ${input.service}/${input.environment}: it takes the approve grant there.`,
      );
    }
  } catch (err) {
    if (isDomainError(err)) await refuse(deps, actor, 'silence.create', target, err);
    throw err;
  }
  const now = deps.clock.now();
  const silence: Silence = {
    id: deps.ids.next('SIL'),
    service: input.service,
    environment: input.environment,
    pattern: input.pattern ?? {},
    reason: input.reason.trim(),
    createdBy: actor.person.id,
    createdAt: now,
    expiresAt: now + input.minutes * 60_000,
  };
  await deps.store.ingest.transaction(async (tx) => {
    await tx.insertSilence(silence);
    await tx.appendAudit([
      auditOf(actor, now, {
        action: 'silence.created',
        target: silence.id,
        detail: {
          service: silence.service,
          environment: silence.environment,
          pattern: silence.pattern,
          reason: silence.reason,
          expiresAt: new Date(silence.expiresAt).toISOString(),
        },
      }),
    ]);
  });
  deps.log.info({ silence: silence.id, by: actor.person.id, scope: target }, 'silence created');
  return silence;
}

export async function expireSilence(deps: AppDeps, actor: Actor, id: string): Promise<Silence> {
  const catalog = deps.catalog.current();
  const found = (await deps.store.ingest.listSilences(true)).find((s) => s.id === id);
  const now = deps.clock.now();
  try {
    if (!found) throw new DomainError('NOT_FOUND', `No silence ${id}.`);
    if (
      found.createdBy !== actor.person.id &&
      !maySilence(catalog, actor.person, found.service, found.environment)
    ) {
      throw new DomainError(
        'FORBIDDEN',
        'Only its creator or someone who may silence that scope may end it.',
      );
    }
    if (found.expiredAt !== undefined || found.expiresAt <= now) {
      throw new DomainError('NOT_PENDING', `Silence ${id} has already ended.`);
    }
  } catch (err) {
    if (isDomainError(err)) await refuse(deps, actor, 'silence.expire', id, err);
    throw err;
  }
  const expired = await deps.store.ingest.transaction(async (tx) => {
    const ok = await tx.expireSilence(id, actor.person.id, now);
    if (ok) {
      await tx.appendAudit([
        auditOf(actor, now, { action: 'silence.expired', target: id, detail: { early: true } }),
      ]);
    }
    return ok;
  });
  if (!expired) throw new DomainError('NOT_PENDING', `Silence ${id} has already ended.`);
  return { ...found, expiredBy: actor.person.id, expiredAt: now };
}

function checkInput(catalog: Catalog, input: SilenceInput): void {
  if (input.reason.trim() === '')
    throw new DomainError('REASON_REQUIRED', 'A silence needs a reason.');
  if (
    !Number.isInteger(input.minutes) ||
    input.minutes < 1 ||
    input.minutes > MAX_SILENCE_MINUTES
  ) {
    throw new DomainError(
      'INVALID_INPUT',
      `minutes must be a whole number from 1 to ${MAX_SILENCE_MINUTES}.`,
    );
  }
  if (input.service !== '*') {
    const service = catalog.services.find((s) => s.id === input.service);
    if (!service) throw new DomainError('UNKNOWN_SERVICE', `No service "${input.service}".`);
    if (
      input.environment !== '*' &&
      !service.environments.some((e) => e.name === input.environment)
    ) {
      const names = service.environments.map((e) => e.name).join(', ');
      throw new DomainError(
        'UNKNOWN_ENVIRONMENT',
        `${input.service} has no environment "${input.environment}" (has ${names}).`,
      );
    }
  }
  if (input.pattern && Object.keys(input.pattern).length > 0) compilePattern(input.pattern);
}
