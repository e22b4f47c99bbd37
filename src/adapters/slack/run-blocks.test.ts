import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionsBlock, Button } from '@slack/types';
import type { RunbookRun, RunbookStep, RunView, StepRecord } from '../../domain/runbook-model.ts';
import {
  assertInert,
  assertMessageWithinLimits,
  assertViewWithinLimits,
  DIGEST,
  EVIL,
  T0,
  textsOf,
} from './block-kit.test-kit.ts';
import {
  CHOOSE_ACTION,
  HISTORY_SHOWN,
  parseStepValue,
  RUN_ACTIONS,
  type RunCardInput,
  runCardMessage,
  skipModal,
  stepButtonValue,
} from './run-blocks.ts';

const MIN = 60_000;
const RUN = 'RBR-01J0RUNABCDEF';
const NAMES: Record<string, string> = { alice: 'Alice Example', bob: 'Bob Example' };

const LOOK: RunbookStep = {
  id: 'look',
  kind: 'check',
  title: 'Look at the error dashboard',
  description: 'Errors by endpoint and status code.',
};
const CAUSE: RunbookStep = {
  id: 'cause',
  kind: 'decision',
  title: 'Did a deploy start it?',
  branches: [
    { id: 'rollback', label: 'Yes: roll the deploy back', next: 'roll-back' },
    { id: 'scale', label: 'No, load is up: add replicas', next: 'scale-out' },
    { id: 'none', label: 'Neither: hand over', next: 'escalate' },
  ],
};
const SCALE: RunbookStep = {
  id: 'scale-out',
  kind: 'command',
  title: 'Scale out to 8 replicas',
  command: 'scale',
  params: { replicas: '8', note: 'for {{incident}} on {{service}}/{{environment}}' },
};

function aRun(steps: StepRecord[], extra: Partial<RunbookRun> = {}): RunbookRun {
  return {
    id: RUN,
    runbook: 'high-error-rate',
    runbookDigest: DIGEST,
    incident: 'INC-01J0INCIDENT',
    service: 'checkout-api',
    environment: 'prod',
    startedBy: 'alice',
    state: 'active',
    steps,
    createdAt: T0 - 10 * MIN,
    updatedAt: T0,
    version: steps.length,
    ...extra,
  };
}

const done = (stepId: string, extra: Partial<StepRecord> = {}): StepRecord => ({
  stepId,
  status: 'done',
  startedAt: T0 - 9 * MIN,
  finishedAt: T0 - 8 * MIN,
  operator: 'alice',
  surface: 'slack',
  ...extra,
});
const current = (stepId: string, extra: Partial<StepRecord> = {}): StepRecord => ({
  stepId,
  status: 'current',
  startedAt: T0 - MIN,
  ...extra,
});

const TITLES: Record<string, string> = {
  look: LOOK.title,
  cause: CAUSE.title,
  'scale-out': SCALE.title,
};
const ACTIONS_OF = {
  command: ['run', 'skip'],
  check: ['ack', 'skip'],
  decision: ['choose', 'skip'],
} as const;

function aView(
  step: RunbookStep | undefined,
  records: StepRecord[],
  extra: Partial<RunView> = {},
): RunView {
  const run = aRun(records, step ? {} : { state: 'completed', finishedAt: T0 });
  const record = records[records.length - 1];
  return {
    run,
    runbook: { id: 'high-error-rate', title: 'checkout-api is answering with 5xx', digest: DIGEST },
    ...(step && record
      ? {
          current: {
            step,
            record,
            actions:
              record.status === 'requested'
                ? []
                : [...ACTIONS_OF[step.kind as keyof typeof ACTIONS_OF]],
          },
        }
      : {}),
    history: records.map((r) => ({ ...r, title: TITLES[r.stepId] ?? r.stepId })),
    ...extra,
  };
}

const input = (view: RunView, extra: Partial<RunCardInput> = {}): RunCardInput => ({
  view,
  names: (id) => NAMES[id] ?? id,
  now: T0,
  ...extra,
});
const buttons = (m: { blocks: unknown[] }): Button[] =>
  (m.blocks as ActionsBlock[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements as Button[]);
const allText = (m: unknown) =>
  textsOf(m)
    .map((t) => t.text)
    .join('\n');

describe('run step card', () => {
  it('a check step: title, description, kind, Acknowledge and Skip naming the step, next safe step', () => {
    const view = aView(LOOK, [current('look')], { next: { id: 'cause', title: CAUSE.title } });
    const m = runCardMessage(input(view));
    assertMessageWithinLimits(m);
    const text = allText(m);
    assert.match(text, /checkout-api is answering with 5xx/);
    assert.match(text, /\*Now: Look at the error dashboard\* · check and acknowledge/);
    assert.match(text, /Errors by endpoint and status code\./);
    assert.match(text, /Next safe step: Did a deploy start it\?/);
    assert.match(text, /▶️ \*active\*/);
    const ids = buttons(m).map((b) => b.action_id);
    assert.deepEqual(ids, [RUN_ACTIONS.ack, RUN_ACTIONS.skip]);
    for (const b of buttons(m))
      assert.deepEqual(parseStepValue(b.value), { runId: RUN, stepId: 'look' });
  });

  it('a decision step: one button per branch, distinct action ids, each value naming step and branch', () => {
    const m = runCardMessage(input(aView(CAUSE, [done('look'), current('cause')])));
    assertMessageWithinLimits(m);
    const branches = buttons(m).filter((b) => CHOOSE_ACTION.test(b.action_id ?? ''));
    assert.deepEqual(
      branches.map((b) => [b.action_id, b.text.text, parseStepValue(b.value)?.branch]),
      [
        ['run_step_choose.0', 'Yes: roll the deploy back', 'rollback'],
        ['run_step_choose.1', 'No, load is up: add replicas', 'scale'],
        ['run_step_choose.2', 'Neither: hand over', 'none'],
      ],
    );
    assert.ok(branches.every((b) => parseStepValue(b.value)?.stepId === 'cause'));
    assert.ok(!CHOOSE_ACTION.test(RUN_ACTIONS.skip) && !CHOOSE_ACTION.test('run_step_choose.x'));
  });

  it('a command step: Run, and the command with its parameters filled from the run', () => {
    const m = runCardMessage(input(aView(SCALE, [done('look'), current('scale-out')])));
    const text = allText(m);
    assert.match(
      text,
      /scale checkout-api prod replicas=8 note=for INC-01J0INCIDENT on checkout-api\/prod/,
    );
    assert.deepEqual(
      buttons(m).map((b) => b.action_id),
      [RUN_ACTIONS.run, RUN_ACTIONS.skip],
    );
  });

  it('while the step request is out: no buttons, and which request it waits for', () => {
    const records = [
      done('look'),
      current('scale-out', { status: 'requested', requestId: 'REQ-01J0SCALE' }),
    ];
    const m = runCardMessage(input(aView(SCALE, records)));
    assert.deepEqual(buttons(m), []);
    assert.match(allText(m), /Request REQ-01J0SCALE is waiting/);
  });

  it('the history: icon, title, operator, time, choice, reason, request id and first line of output', () => {
    const records = [
      done('look', { output: '\n  all green  \nsecond line' }),
      done('cause', { choice: 'scale', operator: 'bob' }),
      done('scale-out', {
        status: 'failed',
        requestId: 'REQ-01J0SCALE',
        output: 'AccessDenied\nmore',
      }),
      done('look', { status: 'skipped', reason: 'seen already' }),
    ];
    const m = runCardMessage(input(aView(undefined, records)));
    const text = allText(m);
    assert.match(text, /✅ Look at the error dashboard · Alice Example · 13:42 UTC · `all green`/);
    assert.match(text, /✅ Did a deploy start it\? · Bob Example · 13:42 UTC · chose `scale`/);
    assert.match(
      text,
      /❌ Scale out to 8 replicas · Alice Example · 13:42 UTC · REQ-01J0SCALE · `AccessDenied`/,
    );
    assert.match(text, /⏭️ Look at the error dashboard · .* · reason: seen already/);
    assert.doesNotMatch(text, /second line|more/);
  });

  it('a finished run: its state and time, no buttons', () => {
    const m = runCardMessage(input(aView(undefined, [done('look')])));
    assert.deepEqual(buttons(m), []);
    assert.match(allText(m), /✅ \*completed\* 13:50 UTC/);
    assert.equal(m.text, '📋 RBR-01J0RUNABCDEF checkout-api is answering with 5xx completed');
  });

  it('the fallback names the current step', () => {
    const m = runCardMessage(input(aView(LOOK, [current('look')])));
    assert.equal(
      m.text,
      '📋 RBR-01J0RUNABCDEF checkout-api is answering with 5xx active — now: Look at the error dashboard',
    );
  });

  it('keeps hostile text inert', () => {
    const evilStep: RunbookStep = {
      ...CAUSE,
      title: EVIL,
      description: EVIL,
      branches: [{ id: 'yes', label: EVIL, next: 'end' }],
    };
    const records = [
      done('look', { output: EVIL, operator: EVIL, reason: EVIL, choice: EVIL, requestId: EVIL }),
      current('cause'),
    ];
    const view = aView(evilStep, records, { next: { id: 'x', title: EVIL } });
    view.runbook.title = EVIL;
    view.run.ticket = EVIL;
    view.history[0]!.title = EVIL;
    const m = runCardMessage(input(view, { names: (id) => id + EVIL }));
    assertMessageWithinLimits(m);
    assertInert(m);
    const cmd = runCardMessage(
      input(aView({ ...SCALE, command: EVIL, params: { p: EVIL } }, [current('scale-out')])),
    );
    assertMessageWithinLimits(cmd);
    assertInert(cmd);
  });

  it('stays within Slack limits with a huge history and enormous text', () => {
    const big = 'z'.repeat(20_000);
    const records = Array.from({ length: 500 }, (_, k) =>
      done(k % 2 ? 'look' : 'cause', {
        output: `${big}\n${big}`,
        reason: big,
        operator: big,
        requestId: `REQ-${k}`,
      }),
    );
    records.push(current('cause'));
    const step: RunbookStep = {
      ...CAUSE,
      title: big,
      description: big,
      branches: Array.from({ length: 30 }, (_, k) => ({ id: `b${k}`, label: big, next: 'end' })),
    };
    const m = runCardMessage(input(aView(step, records, { next: { id: 'n', title: big } })));
    assertMessageWithinLimits(m);
    assert.match(allText(m), /\d+ earlier steps not shown/);
  });

  it(`shows the newest ${HISTORY_SHOWN} records and counts the rest`, () => {
    const records = Array.from({ length: HISTORY_SHOWN + 10 }, (_, k) =>
      done('look', { requestId: `REQ-${k}` }),
    );
    const m = runCardMessage(input(aView(undefined, records)));
    const text = allText(m);
    assert.match(text, /\*History\* · 10 earlier steps not shown/);
    assert.doesNotMatch(text, /REQ-9 /);
    assert.match(text, /REQ-10\n[\s\S]*REQ-39$/m);
  });
});

describe('step button values and the Skip modal', () => {
  it('round-trip and refuse anything else', () => {
    const v = { runId: RUN, stepId: 'cause', branch: 'rollback' };
    assert.deepEqual(parseStepValue(stepButtonValue(v)), v);
    assert.deepEqual(parseStepValue(stepButtonValue({ runId: RUN, stepId: 'look' })), {
      runId: RUN,
      stepId: 'look',
    });
    for (const bad of [
      undefined,
      '',
      '{}',
      '{"run":"RBR-1"}',
      '{"run":"INC-1","step":"look"}',
      '{"run":"RBR-1","step":"<!channel>"}',
      '{"run":"RBR-1","step":"look","branch":7}',
      '{"run":"RBR-1","step":"look","extra":"x"}',
      `{"run":"RBR-1","step":"${'a'.repeat(2000)}"}`,
    ]) {
      assert.equal(parseStepValue(bad), undefined, String(bad));
    }
  });

  it('the Skip modal names the run and step and asks why', () => {
    const v = skipModal({ runId: RUN, stepId: 'look' }, EVIL);
    assertViewWithinLimits(v);
    assertInert(v);
    assert.deepEqual(parseStepValue(v.private_metadata), { runId: RUN, stepId: 'look' });
  });
});
