import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ExecutionInput } from '../../app/ports.ts';
import type { Command, HandlerRef } from '../../domain/catalog.ts';
import { redactAndBound, utf8Length } from '../../domain/redact.ts';
import type { ParamValue } from '../../domain/request-model.ts';
import { LOGS_HEADER } from './execution-output.ts';
import { LocalExecutor, validateStateMachine } from './local-executor.ts';
import { WorkerPool } from './worker-pool.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const DEMO = join(import.meta.dirname, '../../../examples/demo');

const command = { id: 'deploy', params: [] } as unknown as Command;

function input(
  handler: HandlerRef,
  params: Record<string, ParamValue> = {},
  timeoutMs = 10_000,
): ExecutionInput {
  return {
    requestId: 'REQ-01TEST',
    command,
    handler,
    service: 'checkout-api',
    environment: 'prod',
    params,
    requester: 'alice',
    timeoutMs,
  };
}

function lambda(module: string, exportName = 'handler'): HandlerRef {
  return { kind: 'lambda-module', module: `handlers/${module}.ts`, export: exportName };
}

function machine(definition: string, handlers = 'handlers/steps.ts'): HandlerRef {
  return { kind: 'state-machine', definition: `state-machines/${definition}.asl.json`, handlers };
}

/** The result line of a successful output (see execution-output.ts). */
function resultOf(output: string): unknown {
  return JSON.parse(output.split('\n', 1)[0] ?? '');
}

describe('LocalExecutor: lambda-module handlers', () => {
  const executor = new LocalExecutor({
    catalogRoot: FIXTURES,
    env: { FIXTURE_VAR: 'from-options' },
    workers: 2,
  });
  before(() => executor.warm());
  after(() => executor.close());

  test('a handler that returns: the event and a Lambda-like context', async () => {
    const outcome = await executor.run(input(lambda('echo'), { version: '1.4.2', replicas: 4 }));
    assert.equal(outcome.ok, true, outcome.error);
    assert.equal(outcome.timedOut, false);
    const result = resultOf(outcome.output) as {
      event: unknown;
      context: Record<string, unknown>;
      env: string;
    };
    assert.deepEqual(result.event, {
      requestId: 'REQ-01TEST',
      command: 'deploy',
      service: 'checkout-api',
      environment: 'prod',
      params: { version: '1.4.2', replicas: 4 },
      requester: 'alice',
    });
    const { remainingMs, ...context } = result.context;
    assert.deepEqual(context, {
      awsRequestId: 'REQ-01TEST',
      functionName: 'deploy',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:deploy',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/deploy',
      callbackWaitsForEmptyEventLoop: true,
    });
    assert.ok(typeof remainingMs === 'number' && remainingMs > 0 && remainingMs <= 10_000);
    assert.equal(result.env, 'from-options');
  });

  test('a handler that returns nothing gives null', async () => {
    const outcome = await executor.run(input(lambda('echo', 'nothing')));
    assert.deepEqual(outcome, { ok: true, output: 'null', timedOut: false });
  });

  test('a handler that throws: the error name and message, never a stack', async () => {
    const outcome = await executor.run(input(lambda('throws')));
    assert.equal(outcome.ok, false);
    assert.equal(outcome.timedOut, false);
    assert.equal(outcome.error, 'DeployRefused: version 9.9.9 is not published');
    const thrownString = await executor.run(input(lambda('throws', 'throwsString')));
    assert.equal(thrownString.error, 'Error: plain string');
    const bigint = await executor.run(input(lambda('throws', 'returnsBigInt')));
    assert.match(bigint.error ?? '', /^TypeError: .*BigInt/);
  });

  test('a handler that loops forever is terminated at the timeout; the next run works', async () => {
    const started = Date.now();
    const outcome = await executor.run(input(lambda('loops'), {}, 300));
    const elapsed = Date.now() - started;
    assert.deepEqual(
      { ok: outcome.ok, timedOut: outcome.timedOut, error: outcome.error },
      { ok: false, timedOut: true, error: 'timed out after 300 ms' },
    );
    assert.ok(elapsed < 2_000, `took ${elapsed} ms`);
    assert.equal(
      outcome.output,
      `${LOGS_HEADER}\nstarting to spin`,
      'logs before the timeout kept',
    );
    for (let i = 0; i < 3; i++) {
      const next = await executor.run(input(lambda('echo', 'nothing')));
      assert.equal(next.ok, true, next.error);
    }
  });

  test('a handler that exhausts its heap fails that run only', async () => {
    const small = new LocalExecutor({ catalogRoot: FIXTURES, workerHeapMb: 48 });
    try {
      const outcome = await small.run(input(lambda('loops', 'hogs'), {}, 20_000));
      assert.equal(outcome.ok, false);
      assert.match(outcome.error ?? '', /^WorkerCrashed: .*memory/i);
      assert.equal((await small.run(input(lambda('echo', 'nothing')))).ok, true);
    } finally {
      await small.close();
    }
  });

  test('a handler that ends its own thread fails that run only', async () => {
    const outcome = await executor.run(input(lambda('loops', 'exits')));
    assert.equal(outcome.ok, false);
    assert.match(outcome.error ?? '', /^WorkerCrashed: /);
    assert.equal((await executor.run(input(lambda('echo', 'nothing')))).ok, true);
  });

  test('console output is captured after the result line', async () => {
    const outcome = await executor.run(input(lambda('logs')));
    assert.equal(outcome.ok, true);
    assert.equal(
      outcome.output,
      `{"done":true}\n\n${LOGS_HEADER}\nstep 1 of 2\nwarning: cache cold\n{ phase: 'finish' }`,
    );
    assert.deepEqual(resultOf(outcome.output), { done: true });
    const failed = await executor.run(input(lambda('logs', 'failsAfterLogging')));
    assert.deepEqual(failed, {
      ok: false,
      output: `${LOGS_HEADER}\nabout to fail`,
      timedOut: false,
      error: 'Error: boom',
    });
  });

  test('direct writes to stdout and stderr are captured too', async () => {
    const outcome = await executor.run(input(lambda('logs', 'writesStreams')));
    assert.equal(outcome.output, `1\n\n${LOGS_HEADER}\nraw out\nraw err`);
  });

  test('the legacy callback form (three parameters)', async () => {
    const outcome = await executor.run(input(lambda('callback')));
    assert.deepEqual(resultOf(outcome.output), { via: 'callback', service: 'checkout-api' });
    const failed = await executor.run(input(lambda('callback', 'fails')));
    assert.equal(failed.error, 'RangeError: replicas out of range');
  });

  test('1 MB of result and of logs: kept to 4× the output bound, then bounded by the caller', async () => {
    const outcome = await executor.run(input(lambda('big')));
    assert.equal(outcome.ok, true, outcome.error);
    const kept = utf8Length(outcome.output);
    assert.ok(kept <= 2 * 4 * 65_536 + 200, `kept ${kept} bytes`);
    assert.match(outcome.output, /\[truncated: \d+ bytes more\]/);
    assert.match(outcome.output, /\[\d+ bytes of logs dropped\]/);
    const shown = redactAndBound(outcome.output, [], 65_536);
    assert.equal(shown.truncated, true);
    assert.ok(utf8Length(shown.text) <= 65_536);
  });

  test('§8.51 secrets a handler logs or throws are raw here and hidden once redacted', async () => {
    const outcome = await executor.run(input(lambda('throws', 'leaksSecrets')));
    assert.equal(outcome.ok, false);
    assert.match(outcome.output, /wJalrXUtnFEMI/);
    const shownOutput = redactAndBound(outcome.output, [], 65_536).text;
    const shownError = redactAndBound(outcome.error ?? '', [], 65_536).text;
    assert.ok(!shownOutput.includes('wJalrXUtnFEMI'), shownOutput);
    assert.ok(!shownError.includes('xoxb-'), shownError);
  });

  test('§8.52 parameters reach the handler as data, never through a shell', async () => {
    const hostile = { cmd: '; rm -rf / #', sub: '$(id)', path: '../../etc/passwd' };
    const outcome = await executor.run(input(lambda('echo'), hostile));
    assert.deepEqual(
      (resultOf(outcome.output) as { event: { params: unknown } }).event.params,
      hostile,
    );
  });

  test('§8.52 a handler path outside the catalog folder is refused', async () => {
    for (const module of ['../../package.json', '/etc/passwd']) {
      const ref: HandlerRef = { kind: 'lambda-module', module, export: 'handler' };
      const outcome = await executor.run(input(ref));
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error, `HandlerPathError: ${module} is outside the catalog folder`);
    }
  });

  test('a missing module or export is a clear error that shows no server path', async () => {
    const missing = await executor.run(input(lambda('no-such-handler')));
    assert.match(
      missing.error ?? '',
      /^HandlerLoadError: cannot load handlers\/no-such-handler\.ts/,
    );
    assert.ok(!(missing.error ?? '').includes(FIXTURES), missing.error);
    const noExport = await executor.run(input(lambda('echo', 'absent')));
    assert.equal(
      noExport.error,
      'HandlerNotFound: handlers/echo.ts exports no function named "absent"',
    );
  });

  test('concurrent executions each get a worker of their own', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => executor.run(input(lambda('callback')))),
    );
    assert.ok(outcomes.every((o) => o.ok));
  });

  test('a bad timeout is refused without running anything', async () => {
    const outcome = await executor.run(input(lambda('echo'), {}, 0));
    assert.deepEqual(outcome, { ok: false, output: '', timedOut: false, error: 'bad timeout: 0' });
  });
});

describe('WorkerPool', () => {
  test('grows under load up to maxWorkers, then retires surplus workers when idle', async () => {
    const pool = new WorkerPool({ size: 1, maxWorkers: 3, env: {}, heapMb: 64, idleMs: 100 });
    try {
      const job = {
        kind: 'lambda' as const,
        modulePath: join(FIXTURES, 'handlers/callback.ts'),
        moduleLabel: 'handlers/callback.ts',
        exportName: 'handler',
        event: { service: 's' },
        context: {
          awsRequestId: 'r',
          functionName: 'f',
          invokedFunctionArn: 'a',
          memoryLimitInMB: '64',
        },
      };
      const options = { maxLogBytes: 1024, maxResultBytes: 1024, onLog: () => {} };
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => pool.run(job, options)));
      assert.ok(outcomes.every((o) => o.status === 'done' && o.result.ok));
      assert.equal(pool.workerCount, 3);
      const until = Date.now() + 10_000;
      while (pool.workerCount > 1 && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(pool.workerCount, 1);
    } finally {
      await pool.close();
    }
  });

  test('an approved execution takes the next free worker ahead of jobs queued before it', async () => {
    const pool = new WorkerPool({ size: 1, maxWorkers: 1, env: {}, heapMb: 64, idleMs: 100 });
    try {
      const job = (label: string) => ({
        kind: 'lambda' as const,
        modulePath: join(FIXTURES, 'handlers/echo.ts'),
        moduleLabel: 'handlers/echo.ts',
        exportName: 'handler',
        event: { label },
        context: {
          awsRequestId: label,
          functionName: 'f',
          invokedFunctionArn: 'a',
          memoryLimitInMB: '64',
        },
      });
      const options = { maxLogBytes: 1024, maxResultBytes: 4096, onLog: () => {} };
      const finished: string[] = [];
      // One worker, still starting: every job waits for it, in the order asked.
      const runs = [
        ['preview-1', false],
        ['preview-2', false],
        ['read-only', false],
        ['approved', true],
        ['preview-3', false],
      ].map(([label, ahead]) =>
        pool.run(job(String(label)), { ...options, ahead: ahead === true }).then((outcome) => {
          assert.equal(outcome.status, 'done');
          finished.push(String(label));
        }),
      );
      await Promise.all(runs);
      assert.deepEqual(finished, ['approved', 'preview-1', 'preview-2', 'read-only', 'preview-3']);
    } finally {
      await pool.close();
    }
  });
});

describe('WorkerPool: approved executions first', () => {
  const options = { maxLogBytes: 1024, maxResultBytes: 4096, onLog: () => {} };
  const job = (exportName: string, module: string, event: unknown) => ({
    kind: 'lambda' as const,
    modulePath: join(FIXTURES, `handlers/${module}.ts`),
    moduleLabel: `handlers/${module}.ts`,
    exportName,
    event,
    context: {
      awsRequestId: 'r',
      functionName: 'f',
      invokedFunctionArn: 'a',
      memoryLimitInMB: '64',
    },
  });
  const clock = (sleepMs = 0) => job('handler', 'clock', { sleepMs });
  const times = (o: Awaited<ReturnType<WorkerPool['run']>>) => {
    assert.equal(o.status, 'done');
    const r = (o as { result: { ok: boolean; json?: string } }).result;
    assert.equal(r.ok, true);
    return JSON.parse(r.json ?? '') as { started: number; ended: number };
  };
  const pools: WorkerPool[] = [];
  const pool = async (o: { maxWorkers: number; reserved?: number }) => {
    const p = new WorkerPool({ size: o.maxWorkers, env: {}, heapMb: 64, idleMs: 10_000, ...o });
    pools.push(p);
    // Every worker ready and warm before the test's jobs.
    await Promise.all(Array.from({ length: o.maxWorkers }, () => p.run(clock(50), options)));
    return p;
  };
  after(() => Promise.all(pools.map((p) => p.close())));

  test('an approved execution handed to a busy worker starts when its job ends, even while this thread is blocked', async () => {
    const p = await pool({ maxWorkers: 1 });
    const first = p.run(clock(150), options);
    const approved = p.run(clock(), { ...options, ahead: true });
    await new Promise((resolve) => setTimeout(resolve, 20)); // both handed over
    // This thread is busy for 1 s; the worker does not need it to start the next job.
    const blockedUntil = Date.now() + 1_000;
    while (Date.now() < blockedUntil) {
      // Spin, as a saturated event loop would.
    }
    const [a, b] = [times(await first), times(await approved)];
    assert.ok(b.started >= a.ended, 'one job at a time');
    assert.ok(
      b.started < blockedUntil - 400,
      `started ${blockedUntil - b.started} ms before the thread was free`,
    );
  });

  test('other jobs leave the reserved worker to approved executions', async () => {
    const p = await pool({ maxWorkers: 2, reserved: 1 });
    const preview = p.run(clock(300), options);
    const readOnly = p.run(clock(), options);
    const approved = p.run(clock(), { ...options, ahead: true });
    const [a, b, c] = [times(await preview), times(await readOnly), times(await approved)];
    assert.ok(c.ended <= a.ended, 'the approved execution did not wait for the preview');
    assert.ok(b.started >= a.ended, 'the read-only job waited for the preview’s worker');
  });

  test('a job waiting behind one that times out runs on another worker', async () => {
    const p = await pool({ maxWorkers: 1 });
    const spinning = p.run(job('handler', 'loops', {}), { ...options, timeoutMs: 300 });
    const approved = p.run(clock(), { ...options, ahead: true, timeoutMs: 5_000 });
    assert.equal((await spinning).status, 'timeout');
    times(await approved);
    assert.equal(p.workerCount, 1);
  });

  test('a job waiting behind a long one moves to a worker that becomes free', async () => {
    const p = new WorkerPool({ size: 1, maxWorkers: 2, env: {}, heapMb: 64, idleMs: 10_000 });
    pools.push(p);
    times(await p.run(clock(), options)); // one warm worker
    const long = p.run(clock(5_000), options); // longer than starting a worker on a busy box
    await new Promise((resolve) => setTimeout(resolve, 50));
    const approved = times(await p.run(clock(), { ...options, ahead: true }));
    const first = times(await long);
    assert.ok(approved.ended < first.ended, 'it did not wait for the long job');
    assert.equal(p.workerCount, 2);
  });

  test('every job runs at most once, and exactly once unless aborted, through moves, aborts and timeouts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pool-once-'));
    const file = join(dir, 'starts');
    const p = new WorkerPool({ size: 1, maxWorkers: 2, env: {}, heapMb: 64, idleMs: 10_000 });
    pools.push(p);
    try {
      const runs = Array.from({ length: 60 }, async (_, i) => {
        const stop = new AbortController();
        if (i % 5 === 1) setTimeout(() => stop.abort(), (i * 7) % 40);
        const outcome = await p.run(
          job('handler', 'counts', { id: `job-${i}`, file, sleepMs: i % 3 }),
          {
            ...options,
            ahead: i % 2 === 0,
            signal: stop.signal,
            timeoutMs: i % 11 === 3 ? 1 : 5_000,
          },
        );
        return { id: `job-${i}`, status: outcome.status };
      });
      const outcomes = await Promise.all(runs);
      const starts = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
      for (const { id, status } of outcomes) {
        const n = starts.filter((s) => s === id).length;
        assert.ok(n <= 1, `${id} started ${n} times`);
        if (status === 'done') assert.equal(n, 1, `${id} is done but never started`);
      }
      assert.ok(outcomes.filter((o) => o.status === 'done').length >= 30);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a job cancelled before it starts is dropped; the worker and its job go on', async () => {
    const p = await pool({ maxWorkers: 1 });
    const first = p.run(clock(200), options);
    const stop = new AbortController();
    const cancelled = p.run(clock(), { ...options, ahead: true, signal: stop.signal });
    stop.abort();
    assert.equal((await cancelled).status, 'aborted');
    times(await first);
    times(await p.run(clock(), options));
    assert.equal(p.workerCount, 1);
  });
});

describe('LocalExecutor: state-machine handlers', () => {
  const executor = new LocalExecutor({ catalogRoot: FIXTURES, workers: 2 });
  before(() => executor.warm());
  after(() => executor.close());

  test('two Task states and a Choice, both ways', async () => {
    const unhealthy = await executor.run(input(machine('inspect-repair'), { healthy: false }));
    assert.equal(unhealthy.ok, true, unhealthy.error);
    const repaired = resultOf(unhealthy.output) as Record<string, unknown>;
    assert.deepEqual(repaired.inspect, { healthy: false });
    assert.deepEqual(repaired.repair, { repaired: true });
    assert.equal(repaired.requestId, 'REQ-01TEST', 'the input is the handler event');
    assert.match(unhealthy.output, /--- logs ---\ninspecting\nrepairing$/);

    const healthy = await executor.run(input(machine('inspect-repair'), { healthy: true }));
    const done = resultOf(healthy.output) as Record<string, unknown>;
    assert.deepEqual(done.inspect, { healthy: true });
    assert.equal(done.repair, undefined, 'the Choice skipped Repair');
  });

  test('Task states inside Parallel branches run their handlers too', async () => {
    const outcome = await executor.run(input(machine('parallel')));
    assert.deepEqual(outcome, { ok: true, output: '["left","right"]', timedOut: false });
  });

  test('a failing Task fails the execution with its error name', async () => {
    const outcome = await executor.run(input(machine('fails')));
    assert.deepEqual(outcome, {
      ok: false,
      output: '',
      timedOut: false,
      error: 'TypeError: bad input for Fails',
    });
  });

  test('a stuck Task is stopped at the timeout; the next execution works', async () => {
    const outcome = await executor.run(input(machine('inspect-repair'), { spin: true }, 400));
    assert.equal(outcome.timedOut, true);
    assert.equal(outcome.error, 'timed out after 400 ms');
    const next = await executor.run(input(machine('inspect-repair'), { healthy: true }));
    assert.equal(next.ok, true, next.error);
  });

  test('an invalid definition is refused with the validator errors', async () => {
    const outcome = await executor.run(input(machine('invalid')));
    assert.equal(outcome.ok, false);
    assert.match(outcome.error ?? '', /^InvalidStateMachine: .*MISSING_TRANSITION_TARGET/);
  });

  test('a Task without a handlers module never calls AWS', async () => {
    const ref: HandlerRef = {
      kind: 'state-machine',
      definition: 'state-machines/fails.asl.json',
    };
    const outcome = await executor.run(input(ref));
    assert.equal(outcome.error, 'HandlerNotFound: no handlers module for Task "Fails"');
  });

  test('validateStateMachine reports errors, and nothing for a valid file', async () => {
    assert.deepEqual(await validateStateMachine(join(DEMO, 'state-machines/restart.asl.json')), []);
    const errors = await validateStateMachine(join(FIXTURES, 'state-machines/invalid.asl.json'));
    assert.ok(
      errors.some((e) => e.includes('State A is not reachable')),
      errors.join('\n'),
    );
    const missing = await validateStateMachine(join(FIXTURES, 'state-machines/none.asl.json'));
    assert.match(missing[0] ?? '', /^cannot read .*: ENOENT$/);
  });
});

describe('LocalExecutor: the demo handlers', () => {
  let dir: string;
  let executor: LocalExecutor;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'countersign-demo-'));
    executor = new LocalExecutor({
      catalogRoot: DEMO,
      env: { COUNTERSIGN_DEMO_STATE: join(dir, 'demo-state.json') },
    });
    executor.warm();
  });
  after(async () => {
    await executor.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a deploy visibly changes what status reports', async () => {
    const status = async () =>
      resultOf((await executor.run(input(lambda('status')))).output) as {
        version: string;
        previousVersion: string | null;
      };
    assert.equal((await status()).version, '1.4.1');
    const preview = await executor.run(input(lambda('deploy-preview'), { version: '1.4.2' }));
    assert.deepEqual(resultOf(preview.output), { changes: ['version 1.4.1 → 1.4.2'] });
    const deploy = await executor.run(input(lambda('deploy'), { version: '1.4.2' }));
    assert.equal(deploy.ok, true, deploy.error);
    const now = await status();
    assert.deepEqual([now.version, now.previousVersion], ['1.4.2', '1.4.1']);
  });

  test('the restart state machine drains, restarts and verifies', async () => {
    const ref: HandlerRef = {
      kind: 'state-machine',
      definition: 'state-machines/restart.asl.json',
      handlers: 'handlers/restart-steps.ts',
    };
    const outcome = await executor.run(input(ref));
    assert.equal(outcome.ok, true, outcome.error);
    const result = resultOf(outcome.output) as Record<string, { [k: string]: unknown }>;
    assert.deepEqual(result.drain, { drained: 4 });
    assert.equal(result.verify?.healthy, true);
    assert.match(String(result.restart?.restartedAt), /^\d{4}-\d\d-\d\dT/);
  });
});
