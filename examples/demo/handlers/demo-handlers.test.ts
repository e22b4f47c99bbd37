import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import type { DemoEvent, DemoState } from './demo-state.ts';
import { handler as deploy } from './deploy.ts';
import { handler as deployPreview } from './deploy-preview.ts';
import { handler as flushCache } from './flush-cache.ts';
import { handlers as restartSteps } from './restart-steps.ts';
import { handler as rollback } from './rollback.ts';
import { handler as scale } from './scale.ts';
import { handler as scalePreview } from './scale-preview.ts';
import { handler as status } from './status.ts';

let dir = '';
const saved = process.env.COUNTERSIGN_DEMO_STATE;

function event(params: DemoEvent['params'] = {}, environment = 'prod'): DemoEvent {
  return {
    requestId: 'REQ-01DEMO',
    command: 'test',
    service: 'checkout-api',
    environment,
    params,
    requester: 'alice',
  };
}

async function stateFile(): Promise<DemoState> {
  return JSON.parse(await readFile(join(dir, 'demo-state.json'), 'utf8')) as DemoState;
}

describe('demo handlers', () => {
  beforeEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = await mkdtemp(join(tmpdir(), 'countersign-demo-'));
    process.env.COUNTERSIGN_DEMO_STATE = join(dir, 'demo-state.json');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.COUNTERSIGN_DEMO_STATE;
    else process.env.COUNTERSIGN_DEMO_STATE = saved;
  });

  test('status starts from the initial state without writing it', async () => {
    assert.deepEqual(await status(event()), {
      service: 'checkout-api',
      environment: 'prod',
      version: '1.4.1',
      previousVersion: null,
      replicas: 4,
      healthy: true,
      cacheEntries: 1280,
      lastRestartAt: null,
      recent: [],
    });
    assert.equal(((await status(event({}, 'staging'))) as { replicas: number }).replicas, 2);
    assert.deepEqual(await readdir(dir), []);
  });

  test('deploy, its preview, and rollback (which swaps the versions)', async () => {
    assert.deepEqual(await deployPreview(event({ version: '1.4.2' })), {
      changes: ['version 1.4.1 → 1.4.2'],
    });
    assert.deepEqual(await deploy(event({ version: '1.4.2' })), {
      version: '1.4.2',
      previousVersion: '1.4.1',
      changed: true,
    });
    assert.deepEqual(await deployPreview(event({ version: '1.4.2' })), {
      changes: ['none: version 1.4.2 is already running'],
    });
    assert.deepEqual(await rollback(event()), { version: '1.4.1', previousVersion: '1.4.2' });
    const prod = (await stateFile())['checkout-api']?.prod;
    assert.equal(prod?.version, '1.4.1');
    assert.deepEqual(
      prod?.history.map((h) => [h.action, h.detail, h.by]),
      [
        ['deploy', '1.4.1 → 1.4.2', 'alice'],
        ['rollback', '1.4.2 → 1.4.1', 'alice'],
      ],
    );
  });

  test('rollback with nothing to go back to is refused', async () => {
    await assert.rejects(rollback(event()), { name: 'NothingToRollBack' });
  });

  test('scale, its preview, restart and flush-cache', async () => {
    assert.deepEqual(await scalePreview(event({ replicas: 8 })), { changes: ['replicas 4 → 8'] });
    assert.deepEqual(await scale(event({ replicas: '8' })), { replicas: 8, previousReplicas: 4 });
    await restartSteps.Drain(event());
    const restarted = (await restartSteps.Restart(event())) as { restartedAt: string };
    assert.deepEqual(await restartSteps.Verify(event()), { healthy: true, version: '1.4.1' });
    assert.deepEqual(await flushCache(event()), { flushed: 1280 });
    const prod = (await stateFile())['checkout-api']?.prod;
    assert.equal(prod?.cacheEntries, 0);
    assert.equal(prod?.lastRestartAt, restarted.restartedAt);
    assert.equal((await stateFile())['checkout-api']?.staging?.replicas, 2, 'staging untouched');
  });

  test('§8.52 parameters are checked against an allowlist', async () => {
    for (const version of ['../1.4.2', '1.4', '$(id)', '1.4.2; rm -rf /', 'file:///etc/passwd']) {
      await assert.rejects(deploy(event({ version })), { name: 'InvalidInput' }, version);
    }
    for (const replicas of [0, 51, 2.5, -1, '8 ', '1e3', true]) {
      await assert.rejects(scale(event({ replicas })), { name: 'InvalidInput' }, String(replicas));
    }
  });

  test('malformed events and unknown targets are refused by name', async () => {
    await assert.rejects(status(null), { name: 'InvalidInput' });
    await assert.rejects(status({ ...event(), service: '../etc' }), { name: 'InvalidInput' });
    await assert.rejects(status({ ...event(), params: [] }), { name: 'InvalidInput' });
    await assert.rejects(status(event({}, 'qa')), { name: 'UnknownTarget' });
  });

  test('concurrent changes are serialised by the lock and the file is replaced whole', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => scale(event({ replicas: i + 1 }))));
    const prod = (await stateFile())['checkout-api']?.prod;
    assert.equal(prod?.history.length, 10);
    assert.deepEqual(await readdir(dir), ['demo-state.json'], 'no temporary or lock file left');
  });
});
