/**
 * A small catalog built in code for pure domain tests: the demo's shape (team payments,
 * service checkout-api with staging and prod, alice/bob/carol/dave) without YAML.
 */
import type { Catalog, Command, Person } from '../../src/domain/catalog.ts';
import { DEFAULT_INCIDENT_SETTINGS } from '../../src/domain/runbook-model.ts';

const person = (id: string, roles: string[]): Person => ({
  id,
  name: id[0]!.toUpperCase() + id.slice(1),
  team: 'payments',
  roles,
  slack: `U01${id.toUpperCase()}`,
  console: id,
  tokens: [],
});

export const command = (
  id: string,
  klass: Command['class'],
  extra: Partial<Command> = {},
): Command => ({
  id,
  team: 'payments',
  description: id,
  class: klass,
  params: [],
  handler: { kind: 'lambda-module', module: `handlers/${id}.ts`, export: 'handler' },
  ...(klass === 'read-only' ? {} : { rollback: { none: 'test' } }),
  timeoutSeconds: 60,
  idempotent: false,
  confirmations: [],
  output: 'channel',
  ...extra,
});

export function testCatalog(overrides: Partial<Catalog> = {}): Catalog {
  return {
    digest: 'test',
    root: '/nowhere',
    teams: [{ id: 'payments', name: 'Payments' }],
    people: [
      person('alice', ['deployer']),
      person('bob', ['approver']),
      person('carol', ['viewer']),
      person('dave', ['incident-commander', 'administrator']),
      person('erin', ['approver']),
    ],
    roles: [
      {
        id: 'deployer',
        grants: [
          { actions: ['view', 'request'], commands: ['*'], services: ['*'], environments: ['*'] },
        ],
        breakGlass: false,
      },
      {
        id: 'approver',
        grants: [
          { actions: ['view', 'approve'], commands: ['*'], services: ['*'], environments: ['*'] },
        ],
        breakGlass: false,
      },
      {
        id: 'viewer',
        grants: [{ actions: ['view'], commands: ['*'], services: ['*'], environments: ['*'] }],
        breakGlass: false,
      },
      {
        id: 'incident-commander',
        grants: [
          {
            actions: ['view', 'request', 'approve'],
            commands: ['*'],
            services: ['*'],
            environments: ['*'],
          },
        ],
        breakGlass: true,
      },
      {
        id: 'administrator',
        grants: [
          { actions: ['administer'], commands: ['*'], services: ['*'], environments: ['*'] },
        ],
        breakGlass: false,
      },
    ],
    services: [
      {
        id: 'checkout-api',
        team: 'payments',
        environments: [{ name: 'staging' }, { name: 'prod' }],
        channels: { approvals: 'C01APPROVALS', alerts: 'C01ALERTS', ops: 'C01OPS' },
      },
    ],
    commands: [
      command('status', 'read-only'),
      command('deploy', 'mutating', {
        params: [{ name: 'version', type: 'semver', required: true, sensitive: false }],
        rollback: { command: 'rollback' },
      }),
      command('rollback', 'mutating', { confirmations: ['rollback-confirm'] }),
      command('flush-cache', 'destructive'),
    ],
    policies: [
      {
        id: 'prod-changes',
        match: { environments: ['prod'], classes: ['mutating'] },
        approvals: 1,
        approverRoles: ['approver', 'administrator'],
        rollbackConfirmRoles: ['incident-commander'],
        expiresAfterMinutes: 60,
      },
      {
        id: 'prod-destructive',
        match: { environments: ['prod'], classes: ['destructive'] },
        approvals: 2,
        approverRoles: ['approver', 'administrator'],
        rollbackConfirmRoles: [],
        expiresAfterMinutes: 30,
      },
      {
        id: 'staging',
        match: { environments: ['staging'], classes: ['mutating'] },
        approvals: 0,
        approverRoles: [],
        rollbackConfirmRoles: [],
        expiresAfterMinutes: 60,
      },
    ],
    changeWindows: [
      {
        id: 'prod-business-hours',
        kind: 'window',
        services: ['checkout-api'],
        environments: ['prod'],
        days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        start: '07:00',
        end: '20:00',
        timezone: 'UTC',
        acknowledgeRoles: ['incident-commander', 'administrator'],
      },
    ],
    channelRules: [],
    routes: [],
    snsTopics: [],
    alertChannels: [],
    maintenanceWindows: [],
    runbooks: [],
    mitigations: [],
    incidents: DEFAULT_INCIDENT_SETTINGS,
    ...overrides,
  };
}

/** Wednesday 2026-11-25 12:00 UTC: inside the demo's prod window. */
export const IN_WINDOW = Date.UTC(2026, 10, 25, 12, 0);
/** Saturday 2026-11-28 12:00 UTC: outside it. */
export const OUT_OF_WINDOW = Date.UTC(2026, 10, 28, 12, 0);
