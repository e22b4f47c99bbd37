/**
 * The running dispatcher (not `drain`): an approved execution holds its work slot only
 * until it is taken and handed to the executor, so a long run never keeps the next
 * approved request from starting; `maxRunning` bounds the runs in hand, past which
 * approved work stays `approved` (not yet `running`); `stop` waits for runs in hand to be
 * recorded. The executor is the real local one behind a gate the test opens.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { OutboxDispatcher } from '../src/app/outbox-dispatcher.ts';
import type { ExecutionInput, ExecutionOutcome, Executor } from '../src/app/ports.ts';
import { type Harness, harness } from './support/harness.ts';
import { waitFor } from './support/wait.ts';

/** Server executions on a busy machine: longer than `waitFor`'s default. */
const wait = <T>(
  what: string,
  probe: () => T | false | undefined | Promise<T | false | undefined>,
) => waitFor(what, probe, 10_000);

/** Runs through the real executor once the test opens the gate for that request. */
class GatedExecutor implements Executor {
  readonly entered: string[] = [];
  private readonly gates = new Map<string, () => void>();
  private readonly waiting = new Map<string, Promise<void>>();
  constructor(private readonly real: Executor) {}

  async run(input: ExecutionInput): Promise<ExecutionOutcome> {
    this.entered.push(input.requestId);
    await this.gate(input.requestId);
    return this.real.run(input);
  }

  open(requestId: string): void {
    void this.gate(requestId);
    this.gates.get(requestId)?.();
  }

  private gate(requestId: string): Promise<void> {
    let p = this.waiting.get(requestId);
    if (!p) {
      p = new Promise<void>((resolve) => this.gates.set(requestId, resolve));
      this.waiting.set(requestId, p);
    }
    return p;
  }
}

describe('outbox dispatcher: executions', () => {
  let h: Harness | undefined;
  let dispatcher: OutboxDispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.stop();
    await h?.close();
  });

  async function setUp(options: { concurrency: number; maxRunning?: number }) {
    h = await harness();
    const gated = new GatedExecutor(h.deps.executor);
    const deps = { ...h.deps, executor: gated };
    dispatcher = new OutboxDispatcher(deps, { leaseMs: 5_000, pollMs: 20, ...options });
    const approved = async (version: string) => {
      const made = await h!.api('POST', '/api/v1/requests', 'alice', {
        text: `deploy checkout-api prod version=${version} ticket=CHG-1`,
      });
      assert.equal(made.status, 201, JSON.stringify(made.json));
      const r = made.json.request;
      const ok = await h!.api('POST', `/api/v1/requests/${r.id}/approve`, 'bob', {
        digest: r.digest,
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      return r.id as string;
    };
    const state = async (id: string) =>
      (await h!.api('GET', `/api/v1/requests/${id}`, 'carol')).json.request.state as string;
    return { gated, approved, state, dispatcher };
  }

  it('a long run does not keep the next approved request from starting', async () => {
    const { gated, approved, state, dispatcher } = await setUp({ concurrency: 1 });
    dispatcher.start();
    const first = await approved('1.4.2');
    await wait('the first is handed over', () => gated.entered.includes(first));
    const second = await approved('1.4.3');
    // The first still runs (its gate is shut), yet the one work slot took the second.
    await wait('the second is handed over', () => gated.entered.includes(second));
    assert.equal(await state(first), 'running');
    assert.equal(await state(second), 'running');
    gated.open(first);
    gated.open(second);
    await wait('both succeed', async () => {
      const states = [await state(first), await state(second)];
      return states.every((s) => s === 'succeeded');
    });
  });

  it('past maxRunning approved work waits in the outbox, not marked running', async () => {
    const { gated, approved, state, dispatcher } = await setUp({ concurrency: 4, maxRunning: 1 });
    dispatcher.start();
    const first = await approved('1.4.2');
    await wait('the first is handed over', () => gated.entered.includes(first));
    const second = await approved('1.4.3');
    await new Promise((r) => setTimeout(r, 300)); // 15 polls
    assert.equal(await state(second), 'approved');
    assert.deepEqual(gated.entered, [first]);
    gated.open(first);
    await wait('the second is handed over', () => gated.entered.includes(second));
    gated.open(second);
    await wait('the second succeeds', async () => (await state(second)) === 'succeeded');
    assert.equal(await state(first), 'succeeded');
  });

  it('stop waits for a run in hand to be recorded', async () => {
    const { gated, approved, state, dispatcher } = await setUp({ concurrency: 1 });
    dispatcher.start();
    const id = await approved('1.4.2');
    await wait('it is handed over', () => gated.entered.includes(id));
    let stopped = false;
    const stopping = dispatcher.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(stopped, false, 'stop returned with a run still in hand');
    gated.open(id);
    await stopping;
    assert.equal(await state(id), 'succeeded');
    // The execution's effect is gone; only the notification its record enqueued is left.
    assert.equal(await h!.store.countOutbox(), 1);
  });
});
