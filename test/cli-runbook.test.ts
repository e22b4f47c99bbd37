/**
 * `countersign runbook test`, run as people run it: `node bin/countersign.mjs …` in a child
 * process, against a catalog folder written here whose command handlers are real modules
 * run by the local executor, and against the demo catalog's `high-error-rate` runbook with
 * the demo handlers (their state in a temp folder).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/countersign.mjs');
const dir = mkdtempSync(join(tmpdir(), 'countersign-cli-runbook-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CATALOG = join(dir, 'catalog');
mkdirSync(join(CATALOG, 'handlers'), { recursive: true });
writeFileSync(
  join(CATALOG, 'catalog.yaml'),
  `teams:
  - { id: ops, name: Operations }
people:
  - { id: alice, name: Alice, team: ops, roles: [operator] }
  - { id: bob, name: Bob, team: ops, roles: [operator] }
roles:
  - id: operator
    grants:
      - { actions: [view, request, approve], commands: ["*"], services: ["*"], environments: ["*"] }
services:
  - id: app
    team: ops
    environments: [{ name: staging }, { name: prod }]
commands:
  - id: scale
    team: ops
    description: Sets the replica count.
    class: mutating
    params:
      - { name: replicas, type: integer, min: 1, max: 50 }
      - { name: where, type: string }
    handler: { module: handlers/ops.mjs, export: scale }
    rollback: { command: scale }
  - id: restart
    team: ops
    description: Restarts; this one always fails.
    class: mutating
    handler: { module: handlers/ops.mjs, export: restart }
    rollback: { none: "a test command" }
policies:
  - id: one-approval
    match: { classes: [mutating] }
    approvals: 1
    approver_roles: [operator]
runbooks:
  - id: app-down
    team: ops
    title: The app is down
    services: [app]
    steps:
      - { id: look, kind: check, title: Look at the dashboards }
      - id: cause
        kind: decision
        title: Is it load?
        branches:
          - { id: load, label: "Yes: scale out", next: scale }
          - { id: other, label: "No: restart", next: restart }
      - id: scale
        kind: command
        title: Scale out
        command: scale
        params: { replicas: "8", where: "{{service}}/{{environment}}" }
        next: recover
      - { id: restart, kind: command, title: Restart, command: restart, next: recover }
      - id: recover
        kind: wait
        title: Wait for the alarms
        condition: alarms-ok
        timeout_minutes: 5
        on_timeout: page
        next: done
      - { id: done, kind: notify, title: Say so, text: "{{service}} recovered", next: end }
      - { id: page, kind: notify, title: Page, text: paging the owner }
`,
);
writeFileSync(
  join(CATALOG, 'handlers/ops.mjs'),
  `export async function scale(event) {
  console.log('scaling');
  return { replicas: event.params.replicas, where: event.params.where };
}
export async function restart() {
  throw new Error('restart refused');
}
`,
);

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, 'runbook', 'test', ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        COUNTERSIGN_CONFIG: CATALOG,
        COUNTERSIGN_DATA: dir,
        LOG_LEVEL: 'silent',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

const lines = (s: string) => s.trimEnd().split('\n');

describe('countersign runbook test', () => {
  test('walks a runbook, running its commands on the local executor, and exits 0', async () => {
    const r = await run(['app-down', '--answer', 'cause=load']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = lines(r.stdout);
    assert.match(out[0]!, /^runbook app-down \(version [0-9a-f]{12}\) on app\/staging: /);
    assert.equal(out[1], '✓ 1 ack "Look at the dashboards"');
    assert.equal(out[2], '✓ 2 decide "Is it load?" → load');
    assert.match(
      out[3]!,
      /^✓ 3 run scale replicas=8 where=app\/staging \(\d+ ms; approval assumed\): \{"replicas":8,"where":"app\/staging"\}$/,
    );
    assert.deepEqual(out.slice(4), [
      '✓ 5 wait "Wait for the alarms" → alarms ok',
      '✓ 6 notify: app recovered',
      '✓ completed after 4 step(s)',
    ]);
  });

  test('takes answers and the target from a YAML script; --answer wins over it', async () => {
    const script = file(
      'script.yaml',
      'environment: prod\nanswers:\n  look: { skip: seen it }\n  cause: { choose: other }\n  recover: timeout\n',
    );
    const r = await run(['app-down', '--script', script, '--answer', 'cause=choose:load']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /on app\/prod:/);
    assert.match(r.stdout, /✓ 1 skip "Look at the dashboards": seen it/);
    assert.match(r.stdout, /run scale replicas=8 where=app\/prod/);
    assert.match(
      r.stdout,
      /✓ 5 wait "Wait for the alarms" → timed out after 5 min\n✓ 7 notify: paging the owner/,
    );
  });

  test('a decision without an answer stops the walk with exit 1, saying what to add', async () => {
    const r = await run(['app-down']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      lines(r.stdout).at(-1),
      '✗ 2 decide "Is it load?": the script has no answer for step "cause"; add cause: { choose: <load|other> }',
    );
  });

  test('a failed command without on_failure fails the walk with exit 1', async () => {
    const r = await run(['app-down', '--answer', 'cause=other']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /✗ 4 run restart \(\d+ ms; approval assumed\): Error: restart refused\n/,
    );
    assert.equal(lines(r.stdout).at(-1), "✗ the run failed at step 4 'Restart'");
  });

  test('an unknown runbook is a usage error (exit 2) naming the ones there are', async () => {
    const r = await run(['app-up']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /No runbook "app-up" in the catalog \(runbooks: app-down\)/);
  });

  test('a malformed script is a usage error (exit 2) naming what is wrong', async () => {
    const bad = await run(['app-down', '--script', file('bad.yaml', 'answers:\n  look: maybe\n')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /answers\.look: an answer is ack, ok, timeout/);
    const typo = await run(['app-down', '--script', file('typo.yaml', 'answer:\n  look: ack\n')]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /answer/);
    const broken = await run(['app-down', '--script', file('broken.yaml', 'answers: [\n')]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /is not YAML or JSON/);
    const unknownStep = await run(['app-down', '--answer', 'lok=ack']);
    assert.equal(unknownStep.code, 2);
    assert.match(unknownStep.stderr, /no step "lok"/);
    const noEquals = await run(['app-down', '--answer', 'cause']);
    assert.equal(noEquals.code, 2);
    assert.match(noEquals.stderr, /write step=value/);
  });

  test("walks the demo catalog's high-error-rate runbook with the demo handlers", async () => {
    const r = await run([
      'high-error-rate',
      '--config',
      join(ROOT, 'examples/demo'),
      '--answer',
      'cause=scale',
      '--incident',
      'INC-1',
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /on checkout-api\/staging for INC-1/);
    assert.match(r.stdout, /✓ 4 run scale replicas=8 \(\d+ ms; approval assumed\): /);
    assert.equal(lines(r.stdout).at(-1), '✓ completed after 4 step(s)');
  });
});
