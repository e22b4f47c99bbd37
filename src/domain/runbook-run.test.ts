import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Result } from './errors.ts';
import type { Runbook, RunbookRun, RunbookStep } from './runbook-model.ts';
import {
  applyRunEvent,
  currentRecord,
  currentStep,
  fillParams,
  type RunEvent,
  type RunStep,
  runView,
  startRun,
} from './runbook-run.ts';

const T0 = 1_800_000_000_000;
const MIN = 60_000;

/**
 * look (check) → deploy-started (decision: rollback | scale | again → look)
 * rollback (command, on failure → escalate) → wait; scale (command) → wait
 * wait (15 min, on timeout → escalate) → tell (notify) → end
 * escalate (notify) → page (check) → past the last step
 */
const STEPS: RunbookStep[] = [
  { id: 'look', kind: 'check', title: 'Look at the dashboards' },
  {
    id: 'deploy-started',
    kind: 'decision',
    title: 'Did a deploy start it?',
    branches: [
      { id: 'rollback', label: 'Yes: roll back', next: 'rollback' },
      { id: 'scale', label: 'No: scale out', next: 'scale' },
      { id: 'again', label: 'Not sure: look again', next: 'look' },
    ],
  },
  {
    id: 'rollback',
    kind: 'command',
    title: 'Roll back',
    command: 'rollback',
    params: { target: '{{service}}/{{ environment }}', note: 'for {{incident}} {{other}}' },
    onFailure: 'escalate',
    next: 'wait',
  },
  {
    id: 'scale',
    kind: 'command',
    title: 'Scale out',
    command: 'scale',
    params: { replicas: '8' },
    next: 'wait',
  },
  {
    id: 'wait',
    kind: 'wait',
    title: 'Wait for the alarms to clear',
    condition: 'alarms-ok',
    timeoutMinutes: 15,
    onTimeout: 'escalate',
  },
  { id: 'tell', kind: 'notify', title: 'Say so', text: '{{service}} recovered', next: 'end' },
  { id: 'escalate', kind: 'notify', title: 'Escalate', text: 'Escalating {{incident}}' },
  { id: 'page', kind: 'check', title: 'Page the owner' },
];

const runbook = (steps: RunbookStep[] = STEPS): Runbook => ({
  id: 'high-error-rate',
  team: 'payments',
  title: 'High error rate',
  services: ['checkout-api'],
  steps,
  digest: 'd'.repeat(64),
});

const RB = runbook();
const START = {
  id: 'RBR-1',
  service: 'checkout-api',
  environment: 'prod',
  incident: 'INC-7',
  startedBy: 'alice',
  now: T0,
};

const value = <T>(r: Result<T>): T => {
  if (!r.ok) throw r.error;
  return r.value;
};
const refusal = <T>(r: Result<T>): { code: string; message: string } => {
  assert.equal(r.ok, false, 'expected a refusal');
  return r.ok ? { code: 'ok', message: '' } : r.error;
};

const who = { by: 'bob', surface: 'slack' as const };

/** Applies events in order at one minute apart, returning every step. */
function walk(run: RunbookRun, events: RunEvent[], rb: Runbook = RB): RunStep[] {
  const out: RunStep[] = [];
  let at = run;
  events.forEach((e, i) => {
    const next = value(applyRunEvent(rb, at, e, T0 + (i + 1) * MIN));
    out.push(next);
    at = next.run;
  });
  return out;
}
const last = (steps: RunStep[]): RunbookRun => steps.at(-1)!.run;
const started = () => startRun(RB, START).run;

/** Runs to the decision and picks `branch`. */
const toBranch = (branch: string) =>
  last(
    walk(started(), [
      { kind: 'ack', stepId: 'look', ...who },
      { kind: 'choose', stepId: 'deploy-started', branch, ...who },
    ]),
  );
const requestedRollback = () =>
  last(
    walk(toBranch('rollback'), [
      { kind: 'run', stepId: 'rollback', ...who },
      { kind: 'requested', stepId: 'rollback', requestId: 'REQ-1' },
    ]),
  );
const finish = (
  run: RunbookRun,
  outcome: Extract<RunEvent, { kind: 'request-finished' }>['outcome'],
) =>
  value(
    applyRunEvent(
      RB,
      run,
      { kind: 'request-finished', stepId: 'rollback', requestId: 'REQ-1', outcome, output: 'out' },
      T0 + 9 * MIN,
    ),
  );

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

describe('startRun', () => {
  it('opens the first step as current at version 1, pinning the digest and links', () => {
    const { run, effects } = startRun(RB, { ...START, ticket: 'CHG-1' });
    assert.deepEqual(effects, []);
    assert.equal(run.state, 'active');
    assert.equal(run.version, 1);
    assert.equal(run.runbookDigest, RB.digest);
    assert.equal(run.incident, 'INC-7');
    assert.equal(run.ticket, 'CHG-1');
    assert.equal(run.createdAt, T0);
    assert.deepEqual(run.steps, [{ stepId: 'look', status: 'current', startedAt: T0 }]);
    assert.equal(currentStep(RB, run)?.id, 'look');
    assert.equal(currentRecord(run)?.stepId, 'look');
  });

  it('gives a first wait step its deadline', () => {
    const rb = runbook(STEPS.slice(4));
    const { run } = startRun(rb, START);
    assert.equal(run.steps[0]?.deadline, T0 + 15 * MIN);
  });

  it('completes leading notify steps at once, by system, with their effects', () => {
    const rb = runbook(STEPS.slice(6));
    const { run, effects } = startRun(rb, START);
    assert.deepEqual(effects, [{ kind: 'notify', stepId: 'escalate', text: 'Escalating INC-7' }]);
    assert.deepEqual(
      run.steps.map((r) => [r.stepId, r.status, r.operator, r.surface]),
      [
        ['escalate', 'done', 'system', 'system'],
        ['page', 'current', undefined, undefined],
      ],
    );
  });

  it('completes an empty runbook at once', () => {
    const { run } = startRun(runbook([]), START);
    assert.equal(run.state, 'completed');
    assert.equal(run.finishedAt, T0);
  });
});

describe('applyRunEvent: check and decision steps', () => {
  it('an ack finishes the check, records who and the note, and opens the next step', () => {
    const { run, effects } = value(
      applyRunEvent(
        RB,
        started(),
        { kind: 'ack', stepId: 'look', note: 'p99 up', ...who },
        T0 + MIN,
      ),
    );
    assert.deepEqual(effects, []);
    assert.equal(run.version, 2);
    assert.equal(run.updatedAt, T0 + MIN);
    assert.deepEqual(run.steps, [
      {
        stepId: 'look',
        status: 'done',
        startedAt: T0,
        finishedAt: T0 + MIN,
        operator: 'bob',
        surface: 'slack',
        output: 'p99 up',
      },
      { stepId: 'deploy-started', status: 'current', startedAt: T0 + MIN },
    ]);
  });

  it('a choice goes to its branch and is recorded', () => {
    const run = toBranch('scale');
    assert.equal(run.version, 3);
    assert.equal(run.steps[1]?.choice, 'scale');
    assert.equal(currentRecord(run)?.stepId, 'scale');
  });

  it('an unknown branch is INVALID_INPUT naming the branches', () => {
    const run = last(walk(started(), [{ kind: 'ack', stepId: 'look', ...who }]));
    const e = refusal(
      applyRunEvent(
        RB,
        run,
        { kind: 'choose', stepId: 'deploy-started', branch: 'pray', ...who },
        T0,
      ),
    );
    assert.equal(e.code, 'INVALID_INPUT');
    assert.match(e.message, /no branch "pray"; choose one of: rollback, scale, again/);
  });

  it('a decision that goes back appends the earlier step again', () => {
    const run = last(
      walk(toBranch('again'), [
        { kind: 'ack', stepId: 'look', ...who },
        { kind: 'choose', stepId: 'deploy-started', branch: 'scale', ...who },
      ]),
    );
    assert.deepEqual(
      run.steps.map((r) => `${r.stepId}:${r.status}`),
      ['look:done', 'deploy-started:done', 'look:done', 'deploy-started:done', 'scale:current'],
    );
    assert.equal(run.version, 5);
  });

  it('an event meant for another kind of step is INVALID_INPUT saying what the step wants', () => {
    const run = started();
    const cases: [RunEvent, RegExp][] = [
      [{ kind: 'choose', stepId: 'look', branch: 'x', ...who }, /is a check step: acknowledge it/],
      [{ kind: 'run', stepId: 'look', ...who }, /is a check step/],
      [{ kind: 'requested', stepId: 'look', requestId: 'REQ-1' }, /is a check step/],
      [
        { kind: 'request-finished', stepId: 'look', requestId: 'REQ-1', outcome: 'succeeded' },
        /is a check step/,
      ],
      [{ kind: 'condition', stepId: 'look', met: true }, /is a check step/],
    ];
    for (const [event, message] of cases) {
      const e = refusal(applyRunEvent(RB, run, event, T0));
      assert.equal(e.code, 'INVALID_INPUT', event.kind);
      assert.match(e.message, message);
    }
    const decision = toBranch('again');
    const ack = refusal(
      applyRunEvent(
        RB,
        last(walk(decision, [{ kind: 'ack', stepId: 'look', ...who }])),
        { kind: 'ack', stepId: 'deploy-started', ...who },
        T0,
      ),
    );
    assert.match(ack.message, /is a decision step: choose a branch or skip it/);
  });
});

describe('applyRunEvent: command steps', () => {
  it('run asks for a request with placeholders filled; the step stays current', () => {
    const { run, effects } = value(
      applyRunEvent(
        RB,
        toBranch('rollback'),
        { kind: 'run', stepId: 'rollback', ...who },
        T0 + 5 * MIN,
      ),
    );
    assert.deepEqual(effects, [
      {
        kind: 'request',
        stepId: 'rollback',
        command: 'rollback',
        params: { target: 'checkout-api/prod', note: 'for INC-7 {{other}}' },
        by: 'bob',
      },
    ]);
    assert.equal(currentRecord(run)?.status, 'current');
    assert.equal(currentRecord(run)?.operator, 'bob');
    assert.equal(run.version, 4);
  });

  it('requested marks the step and leaves no actions on the card', () => {
    const run = requestedRollback();
    assert.equal(currentRecord(run)?.status, 'requested');
    assert.equal(currentRecord(run)?.requestId, 'REQ-1');
    assert.deepEqual(runView(RB, run).current?.actions, []);
    for (const event of [
      { kind: 'run', stepId: 'rollback', ...who },
      { kind: 'skip', stepId: 'rollback', reason: 'later', ...who },
      { kind: 'requested', stepId: 'rollback', requestId: 'REQ-2' },
    ] as RunEvent[]) {
      const e = refusal(applyRunEvent(RB, run, event, T0));
      assert.equal(e.code, 'INVALID_INPUT');
      assert.match(e.message, /waits for request REQ-1/);
    }
  });

  it('succeeded finishes the step with its output and opens the next with a deadline', () => {
    const { run } = finish(requestedRollback(), 'succeeded');
    const [done, wait] = run.steps.slice(-2);
    assert.equal(done?.status, 'done');
    assert.equal(done?.output, 'out');
    assert.equal(done?.finishedAt, T0 + 9 * MIN);
    assert.equal(wait?.stepId, 'wait');
    assert.equal(wait?.deadline, T0 + 9 * MIN + 15 * MIN);
  });

  it('failed or unknown goes to on_failure, through notify steps', () => {
    for (const outcome of ['failed', 'unknown'] as const) {
      const { run, effects } = finish(requestedRollback(), outcome);
      assert.equal(run.state, 'active');
      assert.deepEqual(
        run.steps.slice(-3).map((r) => `${r.stepId}:${r.status}`),
        ['rollback:failed', 'escalate:done', 'page:current'],
      );
      assert.deepEqual(effects, [{ kind: 'notify', stepId: 'escalate', text: 'Escalating INC-7' }]);
    }
  });

  it('failed without on_failure fails the run at that step', () => {
    const scale = last(
      walk(toBranch('scale'), [
        { kind: 'run', stepId: 'scale', ...who },
        { kind: 'requested', stepId: 'scale', requestId: 'REQ-9' },
        { kind: 'request-finished', stepId: 'scale', requestId: 'REQ-9', outcome: 'failed' },
      ]),
    );
    assert.equal(scale.state, 'failed');
    assert.equal(scale.finishedAt, T0 + 3 * MIN);
    assert.equal(scale.steps.at(-1)?.status, 'failed');
    assert.equal(currentRecord(scale), undefined);
  });

  it('denied, expired or cancelled puts the step back to current, to run again or skip', () => {
    for (const outcome of ['denied', 'expired', 'cancelled'] as const) {
      const before = requestedRollback();
      const { run, effects } = finish(before, outcome);
      assert.deepEqual(effects, []);
      assert.equal(run.steps.length, before.steps.length);
      assert.deepEqual(currentRecord(run), {
        stepId: 'rollback',
        status: 'current',
        startedAt: currentRecord(before)?.startedAt,
      });
      assert.deepEqual(runView(RB, run).current?.actions, ['run', 'skip']);
      const again = value(applyRunEvent(RB, run, { kind: 'run', stepId: 'rollback', ...who }, T0));
      assert.equal(again.effects[0]?.kind, 'request');
    }
  });

  it('a finish for another request, or before any request, is refused', () => {
    const e = refusal(
      applyRunEvent(
        RB,
        requestedRollback(),
        { kind: 'request-finished', stepId: 'rollback', requestId: 'REQ-2', outcome: 'succeeded' },
        T0,
      ),
    );
    assert.equal(e.code, 'INVALID_INPUT');
    assert.match(e.message, /waits for request REQ-1, not "REQ-2"/);
    const early = refusal(
      applyRunEvent(
        RB,
        toBranch('rollback'),
        { kind: 'request-finished', stepId: 'rollback', requestId: 'REQ-1', outcome: 'succeeded' },
        T0,
      ),
    );
    assert.match(early.message, /waits for no request, not "REQ-1"/);
  });

  it('a read-only command that ran at once finishes with an empty request id', () => {
    const [asked, ran] = walk(toBranch('scale'), [
      { kind: 'run', stepId: 'scale', ...who },
      {
        kind: 'request-finished',
        stepId: 'scale',
        requestId: '',
        outcome: 'succeeded',
        output: '{}',
      },
    ]);
    assert.equal(asked?.effects[0]?.kind, 'request');
    const done = ran!.run.steps.find((r) => r.stepId === 'scale');
    assert.equal(done?.status, 'done');
    assert.equal(done?.output, '{}');
    assert.equal(done?.requestId, undefined);
    const late = refusal(
      applyRunEvent(
        RB,
        requestedRollback(),
        { kind: 'request-finished', stepId: 'rollback', requestId: '', outcome: 'succeeded' },
        T0,
      ),
    );
    assert.match(late.message, /waits for request REQ-1/);
  });
});

describe('applyRunEvent: wait and notify steps', () => {
  const waiting = () => finish(requestedRollback(), 'succeeded').run;
  const deadline = () => currentRecord(waiting())!.deadline!;

  it('a met condition finishes the wait and runs the notify chain to the end', () => {
    const { run, effects } = value(
      applyRunEvent(RB, waiting(), { kind: 'condition', stepId: 'wait', met: true }, T0 + 10 * MIN),
    );
    assert.deepEqual(effects, [{ kind: 'notify', stepId: 'tell', text: 'checkout-api recovered' }]);
    assert.equal(run.state, 'completed');
    assert.equal(run.finishedAt, T0 + 10 * MIN);
    assert.deepEqual(
      run.steps.slice(-2).map((r) => `${r.stepId}:${r.status}`),
      ['wait:done', 'tell:done'],
    );
  });

  it('an unmet condition, or a tick before the deadline, changes nothing', () => {
    const run = waiting();
    const unmet = value(
      applyRunEvent(RB, run, { kind: 'condition', stepId: 'wait', met: false }, T0),
    );
    assert.equal(unmet.run, run);
    const early = value(applyRunEvent(RB, run, { kind: 'tick' }, deadline() - 1));
    assert.equal(early.run, run);
    assert.deepEqual(early.effects, []);
  });

  it('a tick at the deadline times the wait out and goes to on_timeout', () => {
    const run = waiting();
    const { run: next, effects } = value(applyRunEvent(RB, run, { kind: 'tick' }, deadline()));
    assert.equal(next.version, run.version + 1);
    assert.deepEqual(
      next.steps.slice(-3).map((r) => `${r.stepId}:${r.status}`),
      ['wait:timed-out', 'escalate:done', 'page:current'],
    );
    assert.equal(effects.length, 1);
  });

  it('a wait without on_timeout goes to its next step on timeout', () => {
    const rb = runbook([
      { id: 'w', kind: 'wait', title: 'Wait', condition: 'alarms-ok', timeoutMinutes: 1 },
      { id: 'c', kind: 'check', title: 'Check' },
    ]);
    const { run } = startRun(rb, START);
    const next = value(applyRunEvent(rb, run, { kind: 'tick' }, T0 + MIN)).run;
    assert.equal(currentRecord(next)?.stepId, 'c');
  });

  it('a tick on a step that is not a wait changes nothing', () => {
    const run = started();
    assert.equal(value(applyRunEvent(RB, run, { kind: 'tick' }, T0 + 999 * MIN)).run, run);
  });

  it('running past the last step completes the run', () => {
    const page = finish(requestedRollback(), 'failed').run;
    const { run } = value(
      applyRunEvent(RB, page, { kind: 'ack', stepId: 'page', ...who }, T0 + 20 * MIN),
    );
    assert.equal(run.state, 'completed');
    assert.equal(run.finishedAt, T0 + 20 * MIN);
  });

  it('a cycle of notify steps, or a target the runbook lacks, fails the run instead of stalling', () => {
    const cycle = runbook([
      { id: 'c', kind: 'check', title: 'Check' },
      { id: 'n1', kind: 'notify', title: 'One', text: '1', next: 'n2' },
      { id: 'n2', kind: 'notify', title: 'Two', text: '2', next: 'n1' },
    ]);
    const a = value(
      applyRunEvent(cycle, startRun(cycle, START).run, { kind: 'ack', stepId: 'c', ...who }, T0),
    );
    assert.equal(a.run.state, 'failed');
    const dangling = runbook([{ id: 'c', kind: 'check', title: 'Check', next: 'gone' }]);
    const b = value(
      applyRunEvent(
        dangling,
        startRun(dangling, START).run,
        { kind: 'ack', stepId: 'c', ...who },
        T0,
      ),
    );
    assert.equal(b.run.state, 'failed');
  });
});

describe('applyRunEvent: skip and abort', () => {
  it('any current step can be skipped with a reason, on its default path', () => {
    const steps: [RunbookRun, string, string][] = [
      [started(), 'look', 'deploy-started'],
      [
        last(walk(started(), [{ kind: 'ack', stepId: 'look', ...who }])),
        'deploy-started',
        'rollback',
      ],
      [toBranch('rollback'), 'rollback', 'wait'],
      [finish(requestedRollback(), 'succeeded').run, 'wait', 'tell'],
    ];
    for (const [run, stepId, next] of steps) {
      const out = value(
        applyRunEvent(
          RB,
          run,
          { kind: 'skip', stepId, reason: 'not needed', ...who },
          T0 + 30 * MIN,
        ),
      );
      const skipped = out.run.steps.find(
        (r, i) => r.stepId === stepId && i >= run.steps.length - 1,
      );
      assert.equal(skipped?.status, 'skipped', stepId);
      assert.equal(skipped?.reason, 'not needed');
      assert.equal(skipped?.operator, 'bob');
      const following = out.run.steps[run.steps.length];
      assert.equal(following?.stepId, next, stepId);
    }
  });

  it('a skip without a reason is REASON_REQUIRED; an over-long one INVALID_INPUT', () => {
    const blank = refusal(
      applyRunEvent(RB, started(), { kind: 'skip', stepId: 'look', reason: '  ', ...who }, T0),
    );
    assert.equal(blank.code, 'REASON_REQUIRED');
    const long = refusal(
      applyRunEvent(
        RB,
        started(),
        { kind: 'skip', stepId: 'look', reason: 'x'.repeat(1001), ...who },
        T0,
      ),
    );
    assert.equal(long.code, 'INVALID_INPUT');
  });

  it('abort ends the run, records the reason on the current step, and needs a reason', () => {
    assert.equal(
      refusal(applyRunEvent(RB, started(), { kind: 'abort', by: 'bob', reason: '' }, T0)).code,
      'REASON_REQUIRED',
    );
    const { run, effects } = value(
      applyRunEvent(RB, started(), { kind: 'abort', by: 'bob', reason: 'false alarm' }, T0 + MIN),
    );
    assert.deepEqual(effects, []);
    assert.equal(run.state, 'aborted');
    assert.equal(run.finishedAt, T0 + MIN);
    assert.equal(run.steps[0]?.status, 'skipped');
    assert.equal(run.steps[0]?.reason, 'run aborted: false alarm');
  });

  it('aborting while a step request is out asks to cancel that request', () => {
    const { effects } = value(
      applyRunEvent(
        RB,
        requestedRollback(),
        { kind: 'abort', by: 'bob', surface: 'cli', reason: 'stop' },
        T0,
      ),
    );
    assert.deepEqual(effects, [{ kind: 'cancel-request', stepId: 'rollback', requestId: 'REQ-1' }]);
  });
});

describe('applyRunEvent: order, finished runs, immutability', () => {
  it('an event for another step is STEP_OUT_OF_ORDER naming the current step', () => {
    const run = last(walk(started(), [{ kind: 'ack', stepId: 'look', ...who }]));
    const e = refusal(applyRunEvent(RB, run, { kind: 'ack', stepId: 'look', ...who }, T0));
    assert.equal(e.code, 'STEP_OUT_OF_ORDER');
    assert.match(e.message, /the current step is 2 'Did a deploy start it\?'/);
  });

  it('every event on a finished run is RUN_FINISHED', () => {
    const aborted = value(
      applyRunEvent(RB, started(), { kind: 'abort', by: 'bob', reason: 'x' }, T0),
    ).run;
    const events: RunEvent[] = [
      { kind: 'ack', stepId: 'look', ...who },
      { kind: 'tick' },
      { kind: 'abort', by: 'bob', reason: 'again' },
      { kind: 'skip', stepId: 'look', reason: 'x', ...who },
    ];
    for (const event of events) {
      const e = refusal(applyRunEvent(RB, aborted, event, T0));
      assert.equal(e.code, 'RUN_FINISHED', event.kind);
      assert.match(e.message, /has already been aborted/);
    }
  });

  it('never mutates the runbook, the run or the event', () => {
    const rb = deepFreeze(runbook(structuredClone(STEPS)));
    const snapshot = JSON.stringify(rb);
    let run = deepFreeze(startRun(rb, START).run);
    const events: RunEvent[] = [
      { kind: 'ack', stepId: 'look', ...who },
      { kind: 'choose', stepId: 'deploy-started', branch: 'rollback', ...who },
      { kind: 'run', stepId: 'rollback', ...who },
      { kind: 'requested', stepId: 'rollback', requestId: 'REQ-1' },
      { kind: 'request-finished', stepId: 'rollback', requestId: 'REQ-1', outcome: 'denied' },
      { kind: 'skip', stepId: 'rollback', reason: 'manual', ...who },
      { kind: 'tick' },
      { kind: 'condition', stepId: 'wait', met: true },
    ];
    let version = run.version;
    for (const event of events) {
      const before = JSON.stringify(run);
      const next = value(applyRunEvent(rb, run, deepFreeze(event), T0 + 60 * MIN));
      assert.equal(JSON.stringify(run), before);
      if (event.kind !== 'tick') assert.equal(next.run.version, ++version, event.kind);
      run = deepFreeze(next.run);
    }
    assert.equal(run.state, 'completed');
    assert.equal(JSON.stringify(rb), snapshot);
  });
});

describe('runView', () => {
  it('shows the actions of each kind and the next step on the default path', () => {
    const look = runView(RB, started());
    assert.deepEqual(look.current?.actions, ['ack', 'skip']);
    assert.deepEqual(look.next, { id: 'deploy-started', title: 'Did a deploy start it?' });
    assert.deepEqual(look.runbook, { id: RB.id, title: RB.title, digest: RB.digest });

    const decide = runView(RB, last(walk(started(), [{ kind: 'ack', stepId: 'look', ...who }])));
    assert.deepEqual(decide.current?.actions, ['choose', 'skip']);
    assert.equal(decide.next, undefined);

    const rollback = runView(RB, toBranch('rollback'));
    assert.deepEqual(rollback.current?.actions, ['run', 'skip']);
    assert.deepEqual(rollback.next, { id: 'wait', title: 'Wait for the alarms to clear' });

    const wait = runView(RB, finish(requestedRollback(), 'succeeded').run);
    assert.deepEqual(wait.current?.actions, ['skip']);
    assert.deepEqual(wait.next, { id: 'tell', title: 'Say so' });
    assert.deepEqual(
      wait.history.map((h) => h.title),
      [
        'Look at the dashboards',
        'Did a deploy start it?',
        'Roll back',
        'Wait for the alarms to clear',
      ],
    );
  });

  it('shows no current or next step once the run has finished, but all the history', () => {
    const view = runView(
      RB,
      value(applyRunEvent(RB, started(), { kind: 'abort', by: 'bob', reason: 'x' }, T0)).run,
    );
    assert.equal(view.current, undefined);
    assert.equal(view.next, undefined);
    assert.equal(view.history.length, 1);
  });

  it('has no next step when the current one goes to end', () => {
    const rb = runbook([{ id: 'c', kind: 'check', title: 'Check', next: 'end' }, STEPS[0]!]);
    assert.equal(runView(rb, startRun(rb, START).run).next, undefined);
  });
});

describe('fillParams', () => {
  it('fills the known placeholders, leaves the rest, and does not touch its input', () => {
    const params = Object.freeze({
      a: '{{service}}-{{environment}}',
      b: '{{incident}}',
      c: '{{nope}}',
    });
    assert.deepEqual(fillParams(params, { service: 's', environment: 'e' }), {
      a: 's-e',
      b: '{{incident}}',
      c: '{{nope}}',
    });
    assert.deepEqual(
      fillParams(params, { service: 's', environment: 'e', incident: 'INC-1' }).b,
      'INC-1',
    );
  });
});
