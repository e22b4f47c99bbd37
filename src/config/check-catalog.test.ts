import assert from 'node:assert/strict';
import { rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { demoWith, expectOnly, replace, sha256, tempFolder } from './catalog-test-kit.ts';
import { formatCatalogErrors, loadCatalog } from './load-catalog.ts';

describe('cross-reference refusals, each at the line of the offending reference', () => {
  it('a duplicate id across files, naming where the first one is', async () => {
    const dir = await demoWith({ 'zz-more.yaml': 'teams:\n  - id: payments\n    name: Again\n' });
    const e = await expectOnly(dir, 'zz-more.yaml', 'id: payments', /duplicate team id "payments"/);
    assert.match(e.message, /first defined at teams-and-people\.yaml:5/);
  });

  it('an unknown team, role, service, environment or command', async () => {
    const cases: [string, string, string, RegExp][] = [
      ['services.yaml', 'team: payments', 'team: paymnts', /unknown team "paymnts"/],
      [
        'teams-and-people.yaml',
        'roles: [viewer]',
        'roles: [viewer, ghost]',
        /unknown role "ghost"/,
      ],
      ['policies.yaml', 'services: [checkout-api]', 'services: [checkout]', /unknown service/],
      [
        'policies.yaml',
        'environments: [staging], classes: [mutating]',
        'environments: [stage], classes: [mutating]',
        /unknown environment "stage"/,
      ],
      ['policies.yaml', 'commands: [status]', 'commands: [stats]', /unknown command "stats"/],
      [
        'policies.yaml',
        'approver_roles: [approver, administrator]\n    rollback_confirm_roles',
        'approver_roles: [approver, admin]\n    rollback_confirm_roles',
        /unknown role "admin"/,
      ],
    ];
    for (const [file, from, to, message] of cases) {
      const dir = await demoWith({ [file]: replace(from, to) });
      await expectOnly(dir, file, to.split('\n')[0]!, message);
    }
  });

  it('an unknown command or service in a grant; `*` is accepted', async () => {
    const grant = "commands: ['*']\n        services: ['*']\n        environments: ['*']\n";
    const roles = (g: string) =>
      `roles:\n  - id: extra\n    grants:\n      - actions: [view]\n        ${g}`;
    let dir = await demoWith({
      'extra.yaml': roles(grant.replace("commands: ['*']", 'commands: [deply]')),
    });
    await expectOnly(
      dir,
      'extra.yaml',
      'deply',
      /grants\[0\]\.commands\[0\]: unknown command "deply"/,
    );
    dir = await demoWith({
      'extra.yaml': roles(grant.replace("services: ['*']", 'services: [nope]')),
    });
    await expectOnly(dir, 'extra.yaml', 'nope', /unknown service "nope"/);
  });

  it('a grant may name the reserved incident and runbook work; no command may take those ids', async () => {
    const grant =
      'commands: [incident, runbook]\n        services: [checkout-api]\n        environments: [prod]\n';
    let dir = await demoWith({
      'extra.yaml': `roles:\n  - id: responder\n    grants:\n      - actions: [view, request]\n        ${grant}`,
    });
    const { errors } = await loadCatalog(dir);
    assert.deepEqual(errors, [], formatCatalogErrors(errors));
    dir = await demoWith({
      'commands.yaml': replace('  - id: flush-cache\n', '  - id: incident\n'),
    });
    await expectOnly(
      dir,
      'commands.yaml',
      'id: incident',
      /commands\[5\]\.id: "incident" is reserved: a grant on it covers incident work/,
    );
  });

  it('a command without an owning team', async () => {
    const dir = await demoWith({
      'commands.yaml': replace('  - id: restart\n    team: payments\n', '  - id: restart\n'),
    });
    await expectOnly(dir, 'commands.yaml', 'id: restart', /needs an owning team/);
  });

  it('a mutating or destructive command without a rollback', async () => {
    let dir = await demoWith({
      'commands.yaml': replace('    rollback: { command: rollback }\n', ''),
    });
    await expectOnly(
      dir,
      'commands.yaml',
      'id: deploy',
      /mutating command "deploy" must declare its rollback/,
    );
    dir = await demoWith({
      'commands.yaml': replace(
        '    rollback: { none: "a flushed cache cannot be restored; it refills from the database" }\n',
        '',
      ),
    });
    await expectOnly(dir, 'commands.yaml', 'id: flush-cache', /destructive command "flush-cache"/);
  });

  it('a rollback on a read-only command, or to a command that does not exist', async () => {
    let dir = await demoWith({
      'commands.yaml': replace(
        'class: read-only\n',
        'class: read-only\n    rollback: { none: nothing }\n',
      ),
    });
    await expectOnly(
      dir,
      'commands.yaml',
      'rollback: { none: nothing }',
      /read-only command changes nothing/,
    );
    dir = await demoWith({
      'commands.yaml': replace('rollback: { command: rollback }', 'rollback: { command: undo }'),
    });
    await expectOnly(dir, 'commands.yaml', 'command: undo', /unknown command "undo"/);
    dir = await demoWith({
      'commands.yaml': replace('rollback: { command: scale }', 'rollback: { command: status }'),
    });
    await expectOnly(dir, 'commands.yaml', 'command: status', /is read-only and cannot undo/);
  });

  it('a handler or preview file that does not exist, and a preview on a read-only command', async () => {
    let dir = await demoWith({
      'commands.yaml': replace('handlers/rollback.ts', 'handlers/restrat.ts'),
    });
    await expectOnly(dir, 'commands.yaml', 'restrat', /"handlers\/restrat\.ts" does not exist/);
    dir = await demoWith({
      'commands.yaml': replace('handlers/scale-preview.ts', 'handlers/nope.ts'),
    });
    await expectOnly(dir, 'commands.yaml', 'handlers/nope.ts', /scale.*preview|does not exist/);
    dir = await demoWith({
      'commands.yaml': replace(
        '    handler: { module: handlers/status.ts, export: handler }\n',
        '    handler: { module: handlers/status.ts, export: handler }\n    preview: { module: handlers/status.ts }\n',
      ),
    });
    await expectOnly(
      dir,
      'commands.yaml',
      'preview: { module: handlers/status.ts }',
      /has no preview/,
    );
  });

  it('a handler linked from outside the folder does not count as inside it', async () => {
    const outside = await tempFolder();
    await writeFile(join(outside, 'rollback.ts'), 'export const handler = async () => ({});\n');
    const dir = await demoWith({});
    await rm(join(dir, 'handlers/rollback.ts'));
    await symlink(join(outside, 'rollback.ts'), join(dir, 'handlers/rollback.ts'));
    await expectOnly(dir, 'commands.yaml', 'handlers/rollback.ts', /does not exist in the catalog/);
  });

  it('a state machine handler is checked too', async () => {
    const dir = await demoWith({
      'commands.yaml': replace(
        'handler: { state_machine: state-machines/restart.asl.json, handlers: handlers/restart-steps.ts }',
        'handler: { state_machine: state-machines/missing.asl.json }',
      ),
    });
    await expectOnly(dir, 'commands.yaml', 'missing.asl.json', /does not exist/);
  });

  it('an approval policy that nobody in the catalog can satisfy', async () => {
    // Only bob and dave can approve in prod: three approvers cannot be found.
    let dir = await demoWith({ 'policies.yaml': replace('approvals: 1', 'approvals: 3') });
    const e = await expectOnly(dir, 'policies.yaml', 'approvals: 3', /needs 3 approvers/);
    assert.match(e.message, /only 2 people \(bob, dave\)/);
    // A destructive policy needs two at least, even when it says one.
    dir = await demoWith({
      'policies.yaml': replace(
        '    approvals: 2\n    approver_roles: [approver, administrator]\n\n  - id: staging\n',
        '    approvals: 1\n    approver_roles: [approver]\n\n  - id: staging\n',
      ),
    });
    await expectOnly(dir, 'policies.yaml', 'approvals: 1', /needs 2 approvers \(destructive/, 2);
    // A role that holds no approve grant does not count.
    dir = await demoWith({
      'policies.yaml': replace(
        'approver_roles: [approver, administrator]\n    rollback',
        'approver_roles: [viewer]\n    rollback',
      ),
    });
    await expectOnly(dir, 'policies.yaml', 'approvals: 1', /only 0 people/);
  });

  it('a change window or rollback confirmation nobody can sign off', async () => {
    let dir = await demoWith({
      'policies.yaml': replace(
        'acknowledge_roles: [incident-commander, administrator]',
        'acknowledge_roles: [viewer]',
      ),
    });
    await expectOnly(
      dir,
      'policies.yaml',
      'acknowledge_roles: [viewer]',
      /"prod-business-hours" can never be acknowledged/,
    );
    dir = await demoWith({
      'policies.yaml': replace(
        'rollback_confirm_roles: [incident-commander, administrator]',
        'rollback_confirm_roles: [deployer]',
      ),
    });
    await expectOnly(
      dir,
      'policies.yaml',
      'rollback_confirm_roles: [deployer]',
      /rollback confirmation/,
    );
  });

  it('a Slack id, console login or token hash used by two people', async () => {
    let dir = await demoWith({
      'teams-and-people.yaml': replace('slack: U01BOB', 'slack: U01ALICE'),
    });
    const slack = /people\[1\]\.slack: Slack user id is already used by person "alice"/;
    await expectOnly(dir, 'teams-and-people.yaml', 'slack: U01ALICE', slack, 2);
    dir = await demoWith({ 'teams-and-people.yaml': replace('console: carol', 'console: Alice') });
    const login = /console login is already used by person "alice"/;
    await expectOnly(dir, 'teams-and-people.yaml', 'console: Alice', login);
    const bobHash = sha256('cs_demo_bob');
    dir = await demoWith({ 'teams-and-people.yaml': replace(sha256('cs_demo_carol'), bobHash) });
    const token = /people\[2\]\.tokens\[0\]\.sha256: token hash is already used by person "bob"/;
    await expectOnly(dir, 'teams-and-people.yaml', bobHash, token, 2);
  });

  it('an environment listed twice in a service, and a channel with two rules', async () => {
    let dir = await demoWith({
      'services.yaml': replace('      - name: prod\n', '      - name: prod\n      - name: prod\n'),
    });
    await expectOnly(dir, 'services.yaml', 'name: prod', /environment "prod" is listed twice/, 2);
    dir = await demoWith({ 'policies.yaml': replace('channel: C01APPROVALS', 'channel: C01OPS') });
    const rule = /duplicate rule for channel "C01OPS"; first defined at policies\.yaml:\d+/;
    await expectOnly(dir, 'policies.yaml', 'channel: C01OPS', rule, 2);
  });
});
