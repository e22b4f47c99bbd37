import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalJson } from '../domain/audit-chain.ts';
import {
  type CatalogError,
  formatCatalogErrors,
  loadCatalog,
  loadCatalogOrThrow,
  MAX_FILE_BYTES,
} from './load-catalog.ts';

const DEMO = resolve(import.meta.dirname, '../../examples/demo');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const folders: string[] = [];
after(() => Promise.all(folders.map((f) => rm(f, { recursive: true, force: true }))));

async function tempFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'countersign-catalog-'));
  folders.push(dir);
  return dir;
}

type Edit = (text: string) => string;

/** A copy of the demo with some files edited (each edit must change its file) or added. */
async function demoWith(edits: Record<string, Edit | string>): Promise<string> {
  const dir = await tempFolder();
  await cp(DEMO, dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const path = join(dir, file);
    await mkdir(dirname(path), { recursive: true });
    if (typeof edit === 'string') {
      await writeFile(path, edit);
      continue;
    }
    const before = await readFile(path, 'utf8');
    const text = edit(before);
    assert.notEqual(text, before, `the edit of ${file} changed nothing`);
    await writeFile(path, text);
  }
  return dir;
}

/** Replaces exactly one occurrence, so a test cannot silently edit the wrong place. */
const replace =
  (from: string, to: string): Edit =>
  (text) => {
    assert.equal(text.split(from).length, 2, `"${from}" must occur exactly once`);
    return text.replace(from, to);
  };

/** The 1-based line of the `nth` line containing `needle` in a file of `dir`. */
async function lineOf(dir: string, file: string, needle: string, nth = 1): Promise<number> {
  const lines = (await readFile(join(dir, file), 'utf8')).split('\n');
  const found = lines.flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  assert.ok(found.length >= nth, `"${needle}" is not ${nth} times in ${file}`);
  return found[nth - 1]!;
}

/**
 * Loads `dir` and checks it fails with exactly one error, in `file` at the line of the
 * `nth` line containing `needle`.
 */
async function expectOnly(
  dir: string,
  file: string,
  needle: string,
  message: RegExp,
  nth = 1,
): Promise<CatalogError> {
  const { catalog, errors } = await loadCatalog(dir);
  assert.equal(catalog, undefined);
  assert.equal(errors.length, 1, `expected one error, got:\n${formatCatalogErrors(errors)}`);
  const [error] = errors as [CatalogError];
  assert.equal(error.file, file);
  assert.equal(error.line, await lineOf(dir, file, needle, nth), formatCatalogErrors(errors));
  assert.match(error.message, message);
  return error;
}

describe('loading the demo catalog', () => {
  it('loads with no errors and the expected contents', async () => {
    const { catalog, errors } = await loadCatalog(DEMO);
    assert.deepEqual(errors, []);
    assert.ok(catalog);
    assert.equal(catalog.root, DEMO);
    assert.deepEqual(catalog.teams, [{ id: 'payments', name: 'Payments' }]);
    assert.deepEqual(
      catalog.people.map((p) => [p.id, p.roles, p.slack, p.console, p.tokens[0]?.sha256]),
      [
        ['alice', ['deployer'], 'U01ALICE', 'alice', sha256('cs_demo_alice')],
        ['bob', ['approver'], 'U01BOB', 'bob', sha256('cs_demo_bob')],
        ['carol', ['viewer'], 'U01CAROL', 'carol', sha256('cs_demo_carol')],
        [
          'dave',
          ['incident-commander', 'administrator'],
          'U01DAVE',
          'dave',
          sha256('cs_demo_dave'),
        ],
      ],
    );
    const roles = Object.fromEntries(catalog.roles.map((r) => [r.id, r]));
    assert.deepEqual(roles.deployer?.grants[0]?.actions, ['view', 'request']);
    assert.deepEqual(roles.approver?.grants[0]?.actions, ['view', 'approve']);
    assert.deepEqual(roles.viewer?.grants[0]?.actions, ['view']);
    assert.deepEqual(roles.administrator?.grants[0]?.actions, ['administer']);
    assert.equal(roles.administrator?.breakGlass, true);
    assert.deepEqual(catalog.services, [
      {
        id: 'checkout-api',
        team: 'payments',
        description: 'Takes payments at checkout.',
        environments: [
          { name: 'staging', awsAccount: '111111111111', region: 'eu-west-1' },
          { name: 'prod', awsAccount: '222222222222', region: 'eu-west-1' },
        ],
        channels: { approvals: 'C01APPROVALS', alerts: 'C01ALERTS', ops: 'C01OPS' },
      },
    ]);
  });

  it('has the demo commands with their classes, rollbacks, previews and parameters', async () => {
    const catalog = await loadCatalogOrThrow(DEMO);
    const cmd = Object.fromEntries(catalog.commands.map((c) => [c.id, c]));
    assert.deepEqual(
      catalog.commands.map((c) => [c.id, c.class, c.team]),
      [
        ['status', 'read-only', 'payments'],
        ['deploy', 'mutating', 'payments'],
        ['rollback', 'mutating', 'payments'],
        ['restart', 'mutating', 'payments'],
        ['scale', 'mutating', 'payments'],
        ['flush-cache', 'destructive', 'payments'],
      ],
    );
    assert.equal(cmd.status?.rollback, undefined);
    assert.deepEqual(cmd.deploy?.rollback, { command: 'rollback' });
    assert.deepEqual(cmd.scale?.rollback, { command: 'scale' });
    assert.ok(cmd.rollback?.rollback && 'none' in cmd.rollback.rollback);
    assert.ok(cmd['flush-cache']?.rollback && 'none' in cmd['flush-cache'].rollback);
    assert.deepEqual(cmd.rollback?.confirmations, ['rollback-confirm']);
    assert.equal(cmd.restart?.idempotent, true);
    assert.equal(cmd.status?.idempotent, false);
    assert.equal(cmd.status?.timeoutSeconds, 60);
    assert.deepEqual(cmd.deploy?.handler, {
      kind: 'lambda-module',
      module: 'handlers/deploy.ts',
      export: 'handler',
    });
    assert.deepEqual(cmd.deploy?.preview, {
      kind: 'lambda-module',
      module: 'handlers/deploy-preview.ts',
      export: 'handler',
    });
    assert.equal(
      cmd.scale?.preview?.kind === 'lambda-module' && cmd.scale.preview.module,
      'handlers/scale-preview.ts',
    );
    assert.deepEqual(cmd.deploy?.params, [
      {
        name: 'version',
        type: 'semver',
        required: true,
        description: 'The released version to deploy, e.g. 1.4.2.',
        maxLength: 256,
        sensitive: false,
      },
    ]);
    const [replicas] = cmd.scale?.params ?? [];
    assert.deepEqual([replicas?.type, replicas?.min, replicas?.max], ['integer', 1, 50]);
  });

  it('has the demo policies, change window and channel rules', async () => {
    const catalog = await loadCatalogOrThrow(DEMO);
    assert.deepEqual(catalog.policies[0], {
      id: 'prod-changes',
      match: { environments: ['prod'], classes: ['mutating'] },
      approvals: 1,
      approverRoles: ['approver', 'administrator'],
      rollbackConfirmRoles: ['incident-commander', 'administrator'],
      expiresAfterMinutes: 60,
    });
    assert.deepEqual(
      catalog.policies.map((p) => [p.id, p.match.environments, p.match.classes, p.approvals]),
      [
        ['prod-changes', ['prod'], ['mutating'], 1],
        ['prod-destructive', ['prod'], ['destructive'], 2],
        ['staging', ['staging'], ['mutating'], 0],
        ['staging-destructive', ['staging'], ['destructive'], 2],
      ],
    );
    assert.deepEqual(catalog.changeWindows, [
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
    ]);
    assert.deepEqual(catalog.channelRules, [
      { channel: 'C01OPS', commands: ['*'] },
      { channel: 'C01APPROVALS', commands: ['*'] },
      { channel: 'dm', commands: ['status'] },
    ]);
  });

  it('digests the canonical catalog without root, stably', async () => {
    const a = await loadCatalogOrThrow(DEMO);
    const { digest, root: _root, ...body } = a;
    assert.equal(digest, sha256(canonicalJson(body)));
    const copy = await demoWith({});
    const b = await loadCatalogOrThrow(copy);
    assert.equal(b.digest, a.digest, 'the folder it was loaded from is not part of the digest');
    const changed = await demoWith({
      'roles.yaml': replace('break_glass: true', 'break_glass: false'),
    });
    assert.notEqual((await loadCatalogOrThrow(changed)).digest, a.digest);
  });

  it('reads nested folders in sorted order and skips dot-folders', async () => {
    const dir = await demoWith({
      'z/extra.yml': 'teams:\n  - id: search\n    name: Search\n',
      'a/more.yaml': 'teams:\n  - id: billing\n    name: Billing\n',
      '.git/ignored.yaml': 'not: [valid',
    });
    const catalog = await loadCatalogOrThrow(dir);
    assert.deepEqual(
      catalog.teams.map((t) => t.id),
      ['billing', 'payments', 'search'],
    );
  });
});

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
      'commands.yaml': replace('handlers/restart.ts', 'handlers/restrat.ts'),
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
    await writeFile(join(outside, 'restart.ts'), 'export const handler = async () => ({});\n');
    const dir = await demoWith({});
    await rm(join(dir, 'handlers/restart.ts'));
    await symlink(join(outside, 'restart.ts'), join(dir, 'handlers/restart.ts'));
    await expectOnly(dir, 'commands.yaml', 'handlers/restart.ts', /does not exist in the catalog/);
  });

  it('a state machine handler is checked too', async () => {
    const dir = await demoWith({
      'commands.yaml': replace(
        'handler: { module: handlers/restart.ts, export: handler }',
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

describe('malformed and hostile catalog files', () => {
  it('reports YAML syntax errors at their line, and nothing else', async () => {
    const dir = await demoWith({
      'broken.yaml': 'teams:\n  - id: x\n    name: [unclosed\n  - id: y\n',
    });
    const { errors } = await loadCatalog(dir);
    assert.ok(errors.length >= 1);
    assert.ok(
      errors.every((e) => e.file === 'broken.yaml'),
      formatCatalogErrors(errors),
    );
    assert.equal(errors[0]?.line, 4);
    assert.match(errors[0]!.message, /^YAML: .*sequence/);
  });

  it('refuses a key given twice in one mapping', async () => {
    const dir = await demoWith({ 'extra.yaml': 'teams:\n  - id: x\n    name: X\n    name: Y\n' });
    await expectOnly(dir, 'extra.yaml', 'name: Y', /YAML: Map keys must be unique/);
  });

  it('names the expected type for a wrong one, at its line and column', async () => {
    const dir = await demoWith({ 'policies.yaml': replace('approvals: 0', 'approvals: none') });
    const e = await expectOnly(dir, 'policies.yaml', 'approvals: none', /expected number/);
    assert.equal(e.column, 16);
    assert.match(e.message, /^policies\[2\]\.approvals: /);
  });

  it('refuses unknown keys at the key, suggesting the intended one', async () => {
    let dir = await demoWith({
      'commands.yaml': replace('    timeout_seconds: 120\n', '    timeout_secnds: 120\n'),
    });
    const e = await expectOnly(
      dir,
      'commands.yaml',
      'timeout_secnds',
      /commands\[3\]: unknown key "timeout_secnds" \(did you mean "timeout_seconds"\?\)/,
    );
    assert.equal(e.column, 5);
    dir = await demoWith({ 'commands.yaml': replace('commands:\n', 'comands:\n') });
    const top = await loadCatalog(dir);
    assert.equal(top.errors[0]?.file, 'commands.yaml');
    assert.match(top.errors[0]!.message, /unknown key "comands" \(did you mean "commands"\?\)/);
    dir = await demoWith({ 'policies.yaml': replace('change_windows:', 'change_window:') });
    const { errors } = await loadCatalog(dir);
    assert.match(errors[0]!.message, /did you mean "change_windows"/);
  });

  it('refuses a section that is not a list and a file that is not a mapping', async () => {
    let dir = await demoWith({ 'extra.yaml': '# note\nteams: payments\n' });
    await expectOnly(dir, 'extra.yaml', 'teams:', /`teams` must be a list/);
    dir = await demoWith({ 'extra.yaml': '- teams\n- people\n' });
    await expectOnly(dir, 'extra.yaml', '- teams', /a catalog file is a mapping of sections/);
  });

  it('accepts an empty file and modest YAML anchors', async () => {
    const dir = await demoWith({
      'empty.yaml': '# nothing yet\n',
      'anchors.yaml': [
        'roles:',
        '  - id: auditor',
        '    grants:',
        '      - actions: &view [view]',
        "        commands: &all ['*']",
        '        services: *all',
        '        environments: *all',
        '  - id: reader',
        '    grants:',
        '      - { actions: *view, commands: *all, services: *all, environments: *all }',
        '',
      ].join('\n'),
    });
    const catalog = await loadCatalogOrThrow(dir);
    assert.deepEqual(catalog.roles.find((r) => r.id === 'reader')?.grants[0]?.services, ['*']);
  });

  it('refuses an oversized file before parsing it', async () => {
    const big = `# ${'x'.repeat(MAX_FILE_BYTES)}\n`;
    const dir = await demoWith({ 'big.yaml': big });
    const { errors } = await loadCatalog(dir);
    assert.deepEqual(errors, [
      {
        file: 'big.yaml',
        line: 1,
        column: 1,
        message: `file is ${big.length} bytes; a catalog file may hold at most ${MAX_FILE_BYTES}`,
      },
    ]);
  });

  it('refuses an alias bomb ("billion laughs") at its first alias', async () => {
    const lines = ['lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [prev, name] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const dir = await demoWith({ 'bomb.yaml': `${lines.join('\n')}\n` });
    const { errors } = await loadCatalog(dir);
    assert.equal(errors.length, 1, formatCatalogErrors(errors));
    assert.deepEqual([errors[0]?.file, errors[0]?.line, errors[0]?.column], ['bomb.yaml', 2, 8]);
    assert.match(errors[0]!.message, /aliases expand too far/);
  });

  it('refuses control characters in ids, and never echoes them', async () => {
    let dir = await demoWith({ 'extra.yaml': 'teams:\n  - id: "pay\\aments"\n    name: X\n' });
    const e = await expectOnly(
      dir,
      'extra.yaml',
      'id:',
      /teams\[0\]\.id: id contains a control character/,
    );
    assert.doesNotMatch(formatCatalogErrors([e]), /[\u0000-\u0008\u000b-\u001f]/);
    dir = await demoWith({
      'extra.yaml': 'teams:\n  - id: x\n    name: X\n    "evil\\u0007\\u202ekey": 1\n',
    });
    const { errors } = await loadCatalog(dir);
    const text = formatCatalogErrors(errors);
    assert.match(text, /^extra\.yaml:4:5: teams\[0\]: unknown key "evil\\u0007\\u202ekey"$/);
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u202e]/);
  });

  it('refuses a raw token in place of its hash', async () => {
    const dir = await demoWith({
      'teams-and-people.yaml': replace(
        `        sha256: ${sha256('cs_demo_carol')}`,
        '        token: cs_demo_carol',
      ),
    });
    const { errors } = await loadCatalog(dir);
    const line = await lineOf(dir, 'teams-and-people.yaml', 'token: cs_demo_carol');
    const raw = errors.find((x) => x.line === line);
    assert.ok(raw, formatCatalogErrors(errors));
    assert.match(raw.message, /"token" is not allowed: the catalog never holds a raw secret/);
    assert.doesNotMatch(formatCatalogErrors(errors), /cs_demo_carol/);
  });

  it('refuses a file that is not UTF-8 and a stream of several documents', async () => {
    const dir = await demoWith({});
    await writeFile(join(dir, 'latin1.yaml'), Buffer.from([0x74, 0x3a, 0x20, 0xe9, 0x0a]));
    await writeFile(join(dir, 'multi.yaml'), 'teams: []\n---\npeople: []\n');
    const { errors } = await loadCatalog(dir);
    assert.equal(errors[0]?.file, 'latin1.yaml');
    assert.match(errors[0]!.message, /not valid UTF-8/);
    assert.equal(errors[1]?.file, 'multi.yaml');
    assert.match(errors[1]!.message, /YAML: .*multiple documents/i);
  });

  it('refuses a handler path that leaves the catalog folder', async () => {
    const dir = await demoWith({
      'commands.yaml': replace('handlers/restart.ts', '../outside/restart.ts'),
    });
    await expectOnly(dir, 'commands.yaml', 'outside', /inside the catalog folder/);
  });

  it('reports an empty or missing folder', async () => {
    const empty = await tempFolder();
    assert.deepEqual((await loadCatalog(empty)).errors, [
      { file: '.', line: 1, column: 1, message: 'no *.yaml or *.yml files in the catalog folder' },
    ]);
    const missing = await loadCatalog(join(empty, 'nope'));
    assert.match(missing.errors[0]!.message, /does not exist/);
  });

  it('keeps checking after a bad item, without blaming references to it', async () => {
    const dir = await demoWith({
      'teams-and-people.yaml': replace('name: Payments', 'name: ""'),
      'commands.yaml': replace(
        'timeout_seconds: 300\n\n  - id: rollback',
        'timeout_seconds: 0\n\n  - id: rollback',
      ),
    });
    const { errors } = await loadCatalog(dir);
    assert.deepEqual(
      errors.map((e) => [e.file, e.line]),
      [
        ['commands.yaml', await lineOf(dir, 'commands.yaml', 'timeout_seconds: 0')],
        ['teams-and-people.yaml', await lineOf(dir, 'teams-and-people.yaml', 'name: ""')],
      ],
      formatCatalogErrors(errors),
    );
  });
});

describe('reporting', () => {
  it('formats one file:line:column: message per line', () => {
    const text = formatCatalogErrors([
      { file: 'a.yaml', line: 3, column: 5, message: 'first' },
      { file: 'b/c.yml', line: 10, column: 1, message: 'second' },
    ]);
    assert.equal(text, 'a.yaml:3:5: first\nb/c.yml:10:1: second');
  });

  it('loadCatalogOrThrow throws the formatted list', async () => {
    const bad = await demoWith({
      'teams-and-people.yaml': replace('roles: [viewer]', 'roles: [ghost]'),
    });
    const { errors } = await loadCatalog(bad);
    await assert.rejects(loadCatalogOrThrow(bad), (err: Error) => {
      assert.equal(err.message, formatCatalogErrors(errors));
      assert.match(
        err.message,
        /^teams-and-people\.yaml:\d+:\d+: people\[2\]\.roles\[0\]: unknown role "ghost"$/,
      );
      return true;
    });
  });
});
