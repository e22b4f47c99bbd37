import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoWith, expectOnly } from './catalog-test-kit.ts';
import { formatCatalogErrors, loadCatalog } from './load-catalog.ts';

/** A catalog file holding one runbook with these steps (YAML, indented as list items). */
const runbookFile = (steps: string[]) =>
  [
    'runbooks:',
    '  - id: drill',
    '    team: payments',
    '    title: A drill',
    '    steps:',
    ...steps.map((s) => `      ${s}`),
    '',
  ].join('\n');

const check = (id: string, extra = '') => `- { id: ${id}, kind: check, title: ${id}${extra} }`;
const notify = (id: string, extra = '') =>
  `- { id: ${id}, kind: notify, title: ${id}, text: hello${extra} }`;

async function expectStepError(steps: string[], needle: string, message: RegExp, nth = 1) {
  const dir = await demoWith({ 'drill.yaml': runbookFile(steps) });
  return expectOnly(dir, 'drill.yaml', needle, message, nth);
}

describe('runbook steps: shapes', () => {
  it('accepts every kind, with targets, fall-through and end', async () => {
    const dir = await demoWith({
      'drill.yaml': runbookFile([
        check('look'),
        '- id: pick',
        '  kind: decision',
        '  title: Which?',
        '  branches:',
        '    - { id: fix, label: Fix it, next: fix }',
        '    - { id: stop, label: Stop, next: end }',
        '- id: fix',
        '  kind: command',
        '  title: Scale',
        '  command: scale',
        '  params: { replicas: "3" }',
        '  on_failure: tell',
        '- { id: wait, kind: wait, title: Wait, condition: alarms-ok, timeout_minutes: 5, on_timeout: look }',
        notify('tell'),
      ]),
    });
    const { catalog, errors } = await loadCatalog(dir);
    assert.deepEqual(errors, []);
    const drill = catalog?.runbooks.find((r) => r.id === 'drill');
    assert.deepEqual(drill?.services, ['*'], "services default to '*'");
    assert.deepEqual(drill?.steps[3], {
      id: 'wait',
      title: 'Wait',
      kind: 'wait',
      condition: 'alarms-ok',
      timeoutMinutes: 5,
      onTimeout: 'look',
    });
    assert.deepEqual(drill?.steps[2], {
      id: 'fix',
      title: 'Scale',
      kind: 'command',
      command: 'scale',
      params: { replicas: '3' },
      onFailure: 'tell',
    });
  });

  it('a step needs a kind, and takes only the keys of its kind', async () => {
    await expectStepError(
      [check('look'), '- { id: odd, title: Odd, command: status }'],
      'id: odd',
      /runbooks\[0\]\.steps\[1\]\.kind: a step needs `kind`: command, check, decision, wait or notify/,
    );
    await expectStepError(
      [check('look', ', text: hello')],
      'id: look',
      /steps\[0\]: unknown key "text"/,
    );
  });

  it('a decision has two branches at least, with distinct ids, and no `next` of its own', async () => {
    const decision = (branches: string, extra = '') => [
      `- { id: pick, kind: decision, title: Which?${extra}, branches: [${branches}] }`,
      check('after'),
    ];
    await expectStepError(
      decision('{ id: a, label: A, next: after }'),
      'id: pick',
      /steps\[0\]\.branches: a decision needs two branches at least/,
    );
    await expectStepError(
      decision('{ id: a, label: A, next: after }, { id: a, label: B, next: end }'),
      'id: pick',
      /branches\[1\]\.id: branch id used twice/,
    );
    await expectStepError(
      decision('{ id: a, label: A, next: after }, { id: b, label: B, next: end }', ', next: end'),
      'id: pick',
      /unknown key "next"/,
    );
  });

  it('a wait has the alarms-ok condition and a timeout of 1 to 1440 minutes', async () => {
    await expectStepError(
      ['- { id: w, kind: wait, title: W, condition: alarms-ok, timeout_minutes: 0 }'],
      'id: w',
      /timeout_minutes: Too small/,
    );
    await expectStepError(
      ['- { id: w, kind: wait, title: W, condition: quiet, timeout_minutes: 5 }'],
      'id: w',
      /condition: the one condition is alarms-ok/,
    );
  });

  it('"end" is not a step id; parameter values are quoted strings with known placeholders', async () => {
    await expectStepError([check('end')], 'id: end', /"end" is kept for finishing the run/);
    await expectStepError(
      ['- { id: s, kind: command, title: S, command: scale, params: { replicas: 8 } }'],
      'id: s',
      /params\.replicas: write the value as a quoted string \("8"\)/,
    );
    await expectStepError(
      ['- { id: s, kind: command, title: S, command: scale, params: { replicas: "{{ticket}}" } }'],
      'id: s',
      /params\.replicas: unknown placeholder "\{\{ticket\}\}": use \{\{service\}\}, \{\{environment\}\}, \{\{incident\}\}/,
    );
  });
});

describe('runbook steps: how they link up', () => {
  it('step ids are unique within a runbook', async () => {
    await expectStepError(
      [check('look'), check('look')],
      'id: look',
      /steps\[1\]\.id: step id "look" is already used by step 1/,
      2,
    );
  });

  it('every next, branch, on_failure and on_timeout names a step or end', async () => {
    await expectStepError(
      [check('look', ', next: lok'), check('fix')],
      'next: lok',
      /steps\[0\]\.next: no step "lok" in this runbook \(has look, fix\), nor end/,
    );
    await expectStepError(
      [
        '- id: pick',
        '  kind: decision',
        '  title: Which?',
        '  branches:',
        '    - { id: a, label: A, next: fix }',
        '    - { id: b, label: B, next: fixx }',
        check('fix'),
      ],
      'next: fixx',
      /steps\[0\]\.branches\[1\]\.next: no step "fixx"/,
    );
    await expectStepError(
      ['- { id: s, kind: command, title: S, command: status, on_failure: help }'],
      'id: s',
      /steps\[0\]\.on_failure: no step "help"/,
    );
    await expectStepError(
      [
        '- { id: w, kind: wait, title: W, condition: alarms-ok, timeout_minutes: 5, on_timeout: help }',
      ],
      'id: w',
      /steps\[0\]\.on_timeout: no step "help"/,
    );
  });

  it('every step is reachable from the first', async () => {
    await expectStepError(
      [check('look', ', next: end'), check('orphan')],
      'id: orphan',
      /steps\[1\]\.id: step "orphan" is never reached from the first step "look"/,
    );
  });

  it('a loop of notify and wait steps only is refused; one with a person in it is fine', async () => {
    await expectStepError(
      [check('look'), notify('ping', ', next: pong'), notify('pong', ', next: ping')],
      'id: ping',
      /steps\[1\]\.next: steps "ping", "pong" loop without a person ever acting/,
    );
    await expectStepError(
      [notify('ping', ', next: ping')],
      'id: ping',
      /steps\[0\]\.next: step "ping" leads back to itself without a person/,
    );
    await expectStepError(
      [
        '- { id: w, kind: wait, title: W, condition: alarms-ok, timeout_minutes: 5, on_timeout: nag, next: end }',
        notify('nag', ', next: w'),
      ],
      'id: w',
      /steps\[0\]\.on_timeout: steps "w", "nag" loop without a person/,
    );
    const dir = await demoWith({
      'drill.yaml': runbookFile([check('look'), notify('nag', ', next: look')]),
    });
    const { errors } = await loadCatalog(dir);
    assert.deepEqual(errors, [], formatCatalogErrors(errors));
  });
});

describe('runbook command steps', () => {
  it('name a known command', async () => {
    await expectStepError(
      ['- { id: s, kind: command, title: S, command: reboot }'],
      'id: s',
      /steps\[0\]\.command: unknown command "reboot"/,
    );
  });

  it("give values that fit the command's parameters", async () => {
    const step = (params: string) =>
      `- { id: s, kind: command, title: S, command: scale, params: ${params} }`;
    await expectStepError(
      [step('{ replicas: "80" }')],
      'id: s',
      /steps\[0\]\.params\.replicas: replicas must be at most 50, got "80"/,
    );
    await expectStepError(
      [step('{ replica: "8" }')],
      'id: s',
      /params\.replica: unknown parameter replica for scale; accepted: replicas; did you mean replicas\?/,
    );
    await expectStepError(
      ['- { id: s, kind: command, title: S, command: scale }'],
      'id: s',
      /steps\[0\]\.params: missing required parameter replicas for scale/,
    );
    await expectStepError(
      [step('{ size: "{{environment}}" }')],
      'id: s',
      /params\.size: unknown parameter size for scale/,
    );
  });

  it('a notify text may use the placeholders, and only those', async () => {
    await expectStepError(
      ['- { id: tell, kind: notify, title: Tell, text: "{{service}} is back; see {{dashboard}}" }'],
      'id: tell',
      /steps\[0\]\.text: unknown placeholder "\{\{dashboard\}\}"/,
    );
  });

  it('a value with a placeholder is checked when the run starts, not at load', async () => {
    const dir = await demoWith({
      'drill.yaml': runbookFile([
        '- { id: s, kind: command, title: S, command: deploy, params: { version: "{{ incident }}" } }',
      ]),
    });
    const { catalog, errors } = await loadCatalog(dir);
    assert.deepEqual(errors, [], formatCatalogErrors(errors));
    const step = catalog?.runbooks.find((r) => r.id === 'drill')?.steps[0];
    assert.deepEqual(step?.kind === 'command' && step.params, { version: '{{ incident }}' });
  });
});
