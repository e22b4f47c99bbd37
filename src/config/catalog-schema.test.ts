import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type * as z from 'zod';
import { CATALOG_SCHEMA_FILE, renderCatalogJsonSchema } from '../../scripts/export-schema.ts';
import {
  changeWindowSchema,
  commandSchema,
  personSchema,
  policySchema,
  roleSchema,
  serviceSchema,
  teamSchema,
  unknownKeyMessage,
} from './catalog-schema.ts';

/** The messages of a failed parse, each prefixed by its dotted path. */
function problems(schema: z.ZodType, input: unknown): string[] {
  const r = schema.safeParse(input);
  assert.equal(r.success, false, 'expected the input to be refused');
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function assertRefused(schema: z.ZodType, input: unknown, pattern: RegExp): void {
  const found = problems(schema, input);
  assert.ok(
    found.some((m) => pattern.test(m)),
    `no problem matches ${pattern}:\n${found.join('\n')}`,
  );
}

const command = {
  id: 'deploy',
  team: 'payments',
  description: 'Deploys.',
  class: 'mutating',
  params: [{ name: 'version', type: 'semver' }],
  handler: { module: 'handlers/deploy.ts' },
  rollback: { command: 'rollback' },
};

describe('catalog schema: defaults and mapping to the domain types', () => {
  it('applies the command defaults documented in catalog.ts', () => {
    const c = commandSchema.parse(command);
    assert.deepEqual(c, {
      id: 'deploy',
      team: 'payments',
      description: 'Deploys.',
      class: 'mutating',
      params: [
        { name: 'version', type: 'semver', required: true, maxLength: 256, sensitive: false },
      ],
      handler: { kind: 'lambda-module', module: 'handlers/deploy.ts', export: 'handler' },
      rollback: { command: 'rollback' },
      timeoutSeconds: 60,
      idempotent: false,
      confirmations: [],
      output: 'channel',
    });
  });

  it('maps a state-machine handler and a rollback with a reason', () => {
    const c = commandSchema.parse({
      ...command,
      handler: { state_machine: 'state-machines/restart.asl.json' },
      rollback: { none: 'nothing to undo' },
      timeout_seconds: 120,
      idempotent: true,
      output: 'requester',
    });
    assert.deepEqual(c.handler, {
      kind: 'state-machine',
      definition: 'state-machines/restart.asl.json',
    });
    assert.deepEqual(c.rollback, { none: 'nothing to undo' });
    assert.equal(c.timeoutSeconds, 120);
    assert.equal(c.idempotent, true);
    assert.equal(c.output, 'requester');
  });

  it('defaults people, roles and policies', () => {
    assert.deepEqual(personSchema.parse({ id: 'erin', name: 'Erin' }), {
      id: 'erin',
      name: 'Erin',
      roles: [],
      tokens: [],
    });
    assert.deepEqual(roleSchema.parse({ id: 'viewer' }), {
      id: 'viewer',
      grants: [],
      breakGlass: false,
    });
    assert.deepEqual(policySchema.parse({ id: 'p', match: {}, approvals: 0 }), {
      id: 'p',
      match: {},
      approvals: 0,
      approverRoles: [],
      rollbackConfirmRoles: [],
      expiresAfterMinutes: 60,
    });
  });

  it('maps snake_case service keys to camelCase', () => {
    const s = serviceSchema.parse({
      id: 'checkout-api',
      team: 'payments',
      environments: [{ name: 'prod', aws_account: '012345678901', region: 'eu-west-1' }],
    });
    assert.deepEqual(s.environments, [
      { name: 'prod', awsAccount: '012345678901', region: 'eu-west-1' },
    ]);
    assert.deepEqual(s.channels, {});
  });

  it('turns freeze instants into milliseconds since epoch', () => {
    const f = changeWindowSchema.parse({
      id: 'year-end',
      kind: 'freeze',
      services: ['*'],
      environments: ['prod'],
      from: '2025-12-20T00:00:00Z',
      to: '2026-01-02T09:00:00+01:00',
      reason: 'year-end freeze',
      acknowledge_roles: ['administrator'],
    });
    assert.equal(f.kind, 'freeze');
    assert.equal(f.kind === 'freeze' && f.from, Date.UTC(2025, 11, 20));
    assert.equal(f.kind === 'freeze' && f.to, Date.UTC(2026, 0, 2, 8));
  });
});

describe('catalog schema: refusals', () => {
  it('refuses unknown keys (typos are not ignored)', () => {
    assertRefused(teamSchema, { id: 'a', name: 'A', nmae: 'x' }, /Unrecognized key/);
    assertRefused(commandSchema, { ...command, timeout_secs: 5 }, /Unrecognized key/);
  });

  it('refuses ids that are not slugs, including control characters', () => {
    for (const id of ['Payments', '1payments', 'pay_ments', 'a'.repeat(64), '', 'pay ments']) {
      assertRefused(teamSchema, { id, name: 'P' }, /^id: id must be a slug/);
    }
    assertRefused(teamSchema, { id: 'pay\u0007ments', name: 'P' }, /control character/);
    assertRefused(teamSchema, { id: 'payments\n', name: 'P' }, /control character/);
    assertRefused(teamSchema, { id: 'p', name: 'Pay\u202Ements' }, /control character/);
    assert.equal(teamSchema.parse({ id: `a${'-'.repeat(62)}`, name: 'P' }).id.length, 63);
  });

  it('keeps raw tokens out of the catalog', () => {
    const person = { id: 'erin', name: 'Erin' };
    assertRefused(
      personSchema,
      { ...person, tokens: [{ name: 'ci', token: 'cs_live_secret' }] },
      /Unrecognized key/,
    );
    assertRefused(personSchema, { ...person, tokens: ['cs_live_secret'] }, /never the token/);
    assertRefused(
      personSchema,
      { ...person, tokens: [{ name: 'ci', sha256: 'cs_live_secret' }] },
      /SHA-256 of the token/,
    );
    assertRefused(
      personSchema,
      { ...person, tokens: [{ name: 'ci', sha256: 'A'.repeat(64) }] },
      /lower-case hex/,
    );
    assert.match(unknownKeyMessage('token'), /never holds a raw secret/);
  });

  it('suggests the key that was meant', () => {
    assert.equal(
      unknownKeyMessage('aprover_roles'),
      'unknown key "aprover_roles" (did you mean "approver_roles"?)',
    );
    assert.equal(unknownKeyMessage('zzzzzzzz'), 'unknown key "zzzzzzzz"');
    // `incident` is a route's key: at the top of a file, the section is meant.
    assert.equal(
      unknownKeyMessage('incident'),
      'unknown key "incident" (did you mean "incidents"?)',
    );
  });

  it('checks parameter options against the parameter type', () => {
    const withParam = (p: object) => ({ ...command, params: [p] });
    assertRefused(commandSchema, withParam({ name: 'level', type: 'enum' }), /needs `values`/);
    assertRefused(
      commandSchema,
      withParam({ name: 'n', type: 'integer', pattern: '\\d+' }),
      /only a string/,
    );
    assertRefused(
      commandSchema,
      withParam({ name: 'n', type: 'string', pattern: '(' }),
      /not a valid regex/,
    );
    assertRefused(
      commandSchema,
      withParam({ name: 'n', type: 'integer', min: 5, max: 1 }),
      /less than min/,
    );
    assertRefused(commandSchema, withParam({ name: 'ticket', type: 'string' }), /reserved/);
    assertRefused(
      commandSchema,
      { ...command, params: [command.params[0], command.params[0]] },
      /named twice/,
    );
  });

  it('wants exactly one handler form and one rollback form', () => {
    assertRefused(commandSchema, { ...command, handler: {} }, /exactly one of `module`/);
    assertRefused(
      commandSchema,
      { ...command, handler: { module: 'h.ts', state_machine: 'm.json' } },
      /exactly one of `module`/,
    );
    assertRefused(commandSchema, { ...command, handler: { module: '../outside.ts' } }, /inside/);
    assertRefused(commandSchema, { ...command, handler: { module: '/etc/x.ts' } }, /inside/);
    assertRefused(commandSchema, { ...command, handler: { module: 'h.sh' } }, /module/);
    assertRefused(commandSchema, { ...command, rollback: {} }, /exactly one of `command`/);
    assertRefused(
      commandSchema,
      { ...command, rollback: { command: 'x', none: 'y' } },
      /exactly one of `command`/,
    );
  });

  it('names the owning team as required', () => {
    const { team: _team, ...noTeam } = command;
    assertRefused(commandSchema, noTeam, /needs an owning team/);
  });

  it('refuses wrong types with the expected type named', () => {
    assertRefused(policySchema, { id: 'p', match: {}, approvals: 'two' }, /expected number/);
    assertRefused(commandSchema, { ...command, idempotent: 'yes' }, /expected boolean/);
    assertRefused(commandSchema, { ...command, class: 'dangerous' }, /class/);
  });

  it('asks for AWS account ids as quoted strings', () => {
    assertRefused(
      serviceSchema,
      { id: 's', team: 't', environments: [{ name: 'prod', aws_account: 111111111111 }] },
      /quoted string/,
    );
  });

  it('checks window times, zones and freeze instants', () => {
    const window = {
      id: 'w',
      kind: 'window',
      services: ['*'],
      environments: ['prod'],
      days: ['mon'],
      start: '07:00',
      end: '20:00',
      timezone: 'Europe/London',
      acknowledge_roles: ['administrator'],
    };
    assert.equal(changeWindowSchema.parse(window).kind, 'window');
    assert.equal(changeWindowSchema.parse({ ...window, start: '22:00', end: '02:00' }).id, 'w');
    assertRefused(changeWindowSchema, { ...window, start: '7:00' }, /HH:MM/);
    assertRefused(changeWindowSchema, { ...window, end: '24:00' }, /HH:MM/);
    assertRefused(changeWindowSchema, { ...window, end: '07:00' }, /must differ/);
    assertRefused(changeWindowSchema, { ...window, timezone: 'Mars/Olympus' }, /IANA/);
    assertRefused(changeWindowSchema, { ...window, timezone: '+01:00' }, /IANA/);
    assertRefused(changeWindowSchema, { ...window, days: ['monday'] }, /days/);
    assertRefused(changeWindowSchema, { ...window, kind: 'weekly' }, /kind: window/);
    const freeze = {
      id: 'f',
      kind: 'freeze',
      services: ['*'],
      environments: ['*'],
      from: '2025-12-20T00:00:00Z',
      to: '2025-12-21T00:00:00Z',
      reason: 'why',
    };
    assertRefused(changeWindowSchema, { ...freeze, from: '2025-12-20' }, /offset/);
    assertRefused(changeWindowSchema, { ...freeze, from: '2025-12-20T00:00:00' }, /offset/);
    assertRefused(changeWindowSchema, { ...freeze, to: '2025-12-19T00:00:00Z' }, /after `from`/);
  });
});

describe('the published JSON Schema', () => {
  it('is up to date (run: node --import tsx scripts/export-schema.ts)', () => {
    assert.equal(readFileSync(CATALOG_SCHEMA_FILE, 'utf8'), renderCatalogJsonSchema());
  });

  it('describes the YAML as written: snake_case keys, no extra keys', () => {
    const schema = JSON.parse(renderCatalogJsonSchema());
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties), [
      'teams',
      'people',
      'roles',
      'services',
      'commands',
      'policies',
      'change_windows',
      'channel_rules',
      'routes',
      'sns_topics',
      'alert_channels',
      'maintenance_windows',
      'runbooks',
      'mitigations',
      'incidents',
    ]);
    const route = schema.properties.routes.items;
    assert.ok('group_by' in route.properties);
    assert.equal(route.properties.environment.default, 'from-account');
    const policy = schema.properties.policies.items;
    assert.ok('approver_roles' in policy.properties);
    assert.equal(policy.properties.expires_after_minutes.default, 60);
  });
});
