import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { canonicalJson } from '../domain/audit-chain.ts';
import {
  DEMO,
  demoWith,
  expectOnly,
  lineOf,
  replace,
  sha256,
  tempFolder,
} from './catalog-test-kit.ts';
import {
  formatCatalogErrors,
  loadCatalog,
  loadCatalogOrThrow,
  MAX_FILE_BYTES,
} from './load-catalog.ts';

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
      'commands.yaml': replace('handlers/rollback.ts', '../outside/rollback.ts'),
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
