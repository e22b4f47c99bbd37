import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { command, testCatalog } from '../../test/support/catalog-fixture.ts';
import type { Catalog } from '../domain/catalog.ts';
import type { Runbook, RunbookStep } from '../domain/runbook-model.ts';
import type { ExecutionInput, ExecutionOutcome, Executor } from './ports.ts';
import { type RunbookScript, testRunbook } from './test-runbook.ts';

const STEPS: RunbookStep[] = [
  { id: 'look', kind: 'check', title: 'Look at the dashboards' },
  {
    id: 'deploy-started',
    kind: 'decision',
    title: 'Did a deploy start it?',
    branches: [
      { id: 'rollback', label: 'Roll back', next: 'rollback' },
      { id: 'scale', label: 'Scale out', next: 'scale' },
      { id: 'again', label: 'Look again', next: 'look' },
    ],
  },
  {
    id: 'rollback',
    kind: 'command',
    title: 'Roll back',
    command: 'rollback',
    params: {},
    onFailure: 'page',
    next: 'wait',
  },
  {
    id: 'scale',
    kind: 'command',
    title: 'Scale out',
    command: 'scale',
    params: { replicas: '8', token: 'sekrit-{{incident}}', where: '{{service}}/{{environment}}' },
    next: 'wait',
  },
  {
    id: 'wait',
    kind: 'wait',
    title: 'Wait for the alarms',
    condition: 'alarms-ok',
    timeoutMinutes: 10,
    onTimeout: 'page',
  },
  { id: 'tell', kind: 'notify', title: 'Tell', text: '{{service}} is back', next: 'end' },
  { id: 'page', kind: 'notify', title: 'Page', text: 'paging the owner' },
  { id: 'escalated', kind: 'check', title: 'Escalated' },
];

const RUNBOOK: Runbook = {
  id: 'high-error-rate',
  team: 'payments',
  title: 'High error rate',
  services: ['checkout-api'],
  steps: STEPS,
  digest: 'a'.repeat(64),
};

const catalog = (runbooks: Runbook[] = [RUNBOOK]): Catalog =>
  testCatalog({
    runbooks,
    commands: [
      ...testCatalog().commands,
      command('scale', 'mutating', {
        params: [
          { name: 'replicas', type: 'integer', required: true, sensitive: false },
          { name: 'token', type: 'string', required: true, sensitive: true },
          { name: 'where', type: 'string', required: false, sensitive: false },
        ],
        timeoutSeconds: 5,
      }),
    ],
  });

/** Answers each command with `reply`, recording what it was asked; the clock moves 7 ms a run. */
function fakeExecutor(reply: (input: ExecutionInput) => ExecutionOutcome) {
  const calls: ExecutionInput[] = [];
  let t = 1_800_000_000_000;
  const clock = { now: () => t };
  const executor: Executor = {
    run: async (input) => {
      calls.push(input);
      t += 7;
      return reply(input);
    },
  };
  return { calls, clock, executor };
}
const succeed = (input: ExecutionInput): ExecutionOutcome => ({
  ok: true,
  output: `${JSON.stringify({ ran: input.command.id, params: input.params })}\n\n--- logs ---\nhello`,
  timedOut: false,
});

async function walk(script: RunbookScript, reply = succeed, runbooks?: Runbook[]) {
  const fake = fakeExecutor(reply);
  const r = await testRunbook({ ...fake, catalog: catalog(runbooks) }, 'high-error-rate', script);
  if (!r.ok) throw r.error;
  return { ...r.value, calls: fake.calls };
}

describe('testRunbook', () => {
  it('walks a scripted path, running commands as if approved, one line per step', async () => {
    const r = await walk({
      incident: 'INC-7',
      answers: { 'deploy-started': { choose: 'scale' } },
    });
    assert.equal(r.ok, true, r.lines.join('\n'));
    assert.deepEqual(r.lines.slice(0, 3), [
      `runbook high-error-rate (version ${'a'.repeat(12)}) on checkout-api/staging for INC-7: commands run for real, as if approved`,
      '✓ 1 ack "Look at the dashboards"',
      '✓ 2 decide "Did a deploy start it?" → scale',
    ]);
    assert.match(
      r.lines[3]!,
      /^✓ 4 run scale replicas=8 token=\[REDACTED\] where=checkout-api\/staging \(7 ms; approval assumed\): \{"ran":"scale","params":\{"replicas":8,"token":"\[REDACTED\]","where":"checkout-api\/staging"\}\}$/,
    );
    assert.deepEqual(r.lines.slice(4), [
      '✓ 5 wait "Wait for the alarms" → alarms ok',
      '✓ 6 notify: checkout-api is back',
      '✓ completed after 4 step(s)',
    ]);
    assert.equal(r.run.state, 'completed');
    assert.equal(r.calls.length, 1);
    const call = r.calls[0]!;
    assert.deepEqual(call.params, {
      replicas: 8,
      token: 'sekrit-INC-7',
      where: 'checkout-api/staging',
    });
    assert.equal(call.service, 'checkout-api');
    assert.equal(call.environment, 'staging');
    assert.equal(call.requester, 'runbook-test');
    assert.equal(call.timeoutMs, 5000);
  });

  it('hands each line to onLine as it is written', async () => {
    const fake = fakeExecutor(succeed);
    const seen: string[] = [];
    const r = await testRunbook(
      { ...fake, catalog: catalog() },
      'high-error-rate',
      {
        answers: { 'deploy-started': { choose: 'rollback' } },
      },
      { onLine: (l) => seen.push(l), as: 'alice' },
    );
    assert.ok(r.ok);
    assert.deepEqual(seen, r.value.lines);
    assert.equal(fake.calls[0]?.requester, 'alice');
    assert.equal(r.value.run.steps[0]?.operator, 'alice');
  });

  it('takes the service and environment from the script', async () => {
    const r = await walk({
      environment: 'prod',
      answers: { 'deploy-started': { choose: 'rollback' } },
    });
    assert.equal(r.calls[0]?.environment, 'prod');
    assert.equal(r.ok, true);
  });

  it('stops when a decision has no answer, saying what to add', async () => {
    const r = await walk({ answers: {} });
    assert.equal(r.ok, false);
    assert.equal(
      r.lines.at(-1),
      '✗ 2 decide "Did a deploy start it?": the script has no answer for step "deploy-started"; add deploy-started: { choose: <rollback|scale|again> }',
    );
    assert.equal(r.calls.length, 0);
  });

  it('a failed command goes to on_failure; without one the walk fails', async () => {
    const boom = (): ExecutionOutcome => ({
      ok: false,
      output: '',
      error: 'Error: boom',
      timedOut: false,
    });
    const handled = await walk({ answers: { 'deploy-started': { choose: 'rollback' } } }, boom);
    assert.equal(
      handled.lines[3],
      '✗ 3 run rollback (7 ms; approval assumed): Error: boom → on failure: page',
    );
    assert.equal(handled.lines[4], '✓ 7 notify: paging the owner');
    assert.equal(handled.ok, true);
    const r = await walk({ answers: { 'deploy-started': { choose: 'scale' } } }, boom);
    assert.equal(r.ok, false);
    assert.equal(r.run.state, 'failed');
    assert.equal(r.lines.at(-1), "✗ the run failed at step 4 'Scale out'");
  });

  it('skips, scripted failures and timeouts follow their paths', async () => {
    const r = await walk({
      answers: {
        look: { skip: 'seen it' },
        'deploy-started': { choose: 'rollback' },
        rollback: { fail: true },
        escalated: 'ack',
      },
    });
    assert.deepEqual(r.lines.slice(1), [
      '✓ 1 skip "Look at the dashboards": seen it',
      '✓ 2 decide "Did a deploy start it?" → rollback',
      '✓ 3 run rollback: failed, as the script says → on failure: page',
      '✓ 7 notify: paging the owner',
      '✓ 8 ack "Escalated"',
      '✓ completed after 4 step(s)',
    ]);
    assert.equal(r.calls.length, 0);
    const t = await walk({
      answers: { 'deploy-started': { choose: 'rollback' }, wait: 'timeout' },
    });
    assert.equal(t.lines[4], '✓ 5 wait "Wait for the alarms" → timed out after 10 min');
    assert.equal(t.lines[5], '✓ 7 notify: paging the owner');
    assert.equal(t.run.steps.find((s) => s.stepId === 'wait')?.status, 'timed-out');
  });

  it('gives a list of answers one per visit, and calls an endless loop a loop', async () => {
    const r = await walk({
      answers: { 'deploy-started': [{ choose: 'again' }, { choose: 'rollback' }] },
    });
    assert.equal(r.ok, true);
    assert.equal(r.lines.filter((l) => l.includes('decide')).length, 2);
    const short = await walk({ answers: { 'deploy-started': [{ choose: 'again' }] } });
    assert.match(short.lines.at(-1)!, /no answer for visit 2 for step "deploy-started"/);
    const loop = await walk({ answers: { 'deploy-started': { choose: 'again' } } });
    assert.equal(loop.ok, false);
    assert.equal(loop.lines.at(-1), '✗ stopped after 100 steps: a loop?');
  });

  it('refuses an unknown runbook, service or environment, and a script that does not fit', async () => {
    const { executor, clock } = fakeExecutor(succeed);
    const deps = { executor, clock, catalog: catalog() };
    const code = async (id: string, script: RunbookScript) => {
      const r = await testRunbook(deps, id, script);
      return r.ok ? 'ok' : `${r.error.code}: ${r.error.message}`;
    };
    assert.match(
      await code('nope', { answers: {} }),
      /^UNKNOWN_RUNBOOK: .*runbooks: high-error-rate/,
    );
    assert.match(await code('high-error-rate', { service: 'x', answers: {} }), /^UNKNOWN_SERVICE/);
    assert.match(
      await code('high-error-rate', { environment: 'dev', answers: {} }),
      /^UNKNOWN_ENVIRONMENT: .*staging, prod/,
    );
    const bad = await code('high-error-rate', {
      answers: {
        lok: 'ack',
        look: 'timeout',
        'deploy-started': { choose: 'pray' },
        tell: 'ok',
      },
    });
    assert.match(bad, /^INVALID_INPUT: /);
    assert.match(bad, /no step "lok"/);
    assert.match(bad, /step "look" is a check step: it takes ack, skip, not timeout/);
    assert.match(bad, /no branch "pray" \(rollback, scale, again\)/);
    assert.match(bad, /step "tell" is a notify step: it takes no answer/);
  });

  it('stops on a step whose params the command refuses', async () => {
    const broken: Runbook = {
      ...RUNBOOK,
      steps: [
        {
          id: 'scale',
          kind: 'command',
          title: 'Scale',
          command: 'scale',
          params: { replicas: 'lots' },
        },
      ],
    };
    const r = await walk({ answers: {} }, succeed, [broken]);
    assert.equal(r.ok, false);
    assert.match(r.lines.at(-1)!, /^✗ step 1 'Scale': .*replicas/);
  });
});
