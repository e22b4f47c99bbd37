import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { TurnGate } from './turn-gate.ts';

test('requests start in order, a few per turn, and a message from a worker gets in between', async () => {
  const gate = new TurnGate(2);
  const seen: string[] = [];
  const { port1, port2 } = new MessageChannel();
  port2.on('message', (m: string) => seen.push(m));
  const starts = Array.from({ length: 6 }, (_, i) =>
    gate.enter().then(() => {
      seen.push(`request ${i}`);
      // As a handler worker's result would: it arrives while requests are still waiting.
      if (i === 0) port1.postMessage('worker result');
    }),
  );
  assert.equal(gate.waiting, 6);
  await Promise.all(starts);
  port1.close();
  assert.deepEqual(
    seen.filter((s) => s.startsWith('request')),
    ['request 0', 'request 1', 'request 2', 'request 3', 'request 4', 'request 5'],
  );
  const result = seen.indexOf('worker result');
  assert.ok(result >= 2 && result <= 3, `read after the first turn's two requests: ${seen}`);
  assert.equal(gate.waiting, 0);
});
