/**
 * Which audit entries a person may read, on every surface (the API's audit query and the
 * console's live feed): the same grants that decide what they may see elsewhere.
 */
import type { AuditEntry } from './audit-chain.ts';
import type { Catalog, Person } from './catalog.ts';
import { can } from './policy.ts';

const ALL = { command: '*', service: '*', environment: '*' };

/**
 * What `person` may see of the audit log. Administrators see everything. Others see their
 * own entries, and entries about a service environment they hold `view` on (the entry's
 * `detail.service`/`detail.environment`, or a `command:service:environment` target), for
 * its `detail.command` when it names one. Entries about no service — catalog loads, other
 * people's sign-ins, refusals before a target was known — are for administrators only.
 */
export function auditVisibility(catalog: Catalog, person: Person): (e: AuditEntry) => boolean {
  if (can(catalog, person, 'administer', ALL)) return () => true;
  const commands = [...catalog.commands.map((c) => c.id), 'runbook'];
  const seen = new Map<string, boolean>();
  const mayView = (service: string, environment: string, command: string | undefined) => {
    const key = `${command ?? '*'}\u0000${service}\u0000${environment}`;
    let yes = seen.get(key);
    if (yes === undefined) {
      yes = (command ? [command] : commands).some((c) =>
        can(catalog, person, 'view', { command: c, service, environment }),
      );
      seen.set(key, yes);
    }
    return yes;
  };
  return (e) => {
    if (e.actor === person.id) return true;
    const { service, environment, command } = e.detail;
    if (typeof service === 'string' && typeof environment === 'string') {
      return mayView(service, environment, typeof command === 'string' ? command : undefined);
    }
    const m = /^([a-z0-9][a-z0-9-]*):([a-z0-9][a-z0-9-]*):([a-z0-9][a-z0-9-]*)$/.exec(e.target);
    return m ? mayView(m[2]!, m[3]!, m[1]!) : false;
  };
}
