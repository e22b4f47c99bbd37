/**
 * The compiled server `npm start` runs (`scripts/build-server.mjs` → `dist/main.js`, no tsx
 * in the main thread): it builds, starts on the demo catalog, and every lazily loaded part
 * works from the bundle — the handler workers' compiled job loop (a read-only command, a
 * preview and an execution), and the state-machine runner's chunk (the demo restart).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  demoServerEnv,
  killAllServers,
  type ServerProcess,
  startServerProcess,
} from './support/server-process.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DEADLINE_MS = 30_000;

// biome-ignore lint/suspicious/noExplicitAny: API answers are read field by field
type Json = Record<string, any>;

describe('the compiled server (dist/main.js)', () => {
  let server: ServerProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-dist-'));

  before(async () => {
    execFileSync(process.execPath, ['scripts/build-server.mjs'], { cwd: ROOT });
    for (const file of ['main.js', 'handler-worker.mjs', 'handler-worker.js']) {
      assert.ok(existsSync(join(ROOT, 'dist', file)), `dist/${file} was built`);
    }
    server = await startServerProcess(
      (port) => demoServerEnv(port, dataDir),
      ['--max-semi-space-size=2', 'dist/main.js'],
    );
  });
  after(async () => {
    await server?.kill();
    killAllServers();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ask = async (as: string, text: string) => {
    const res = await fetch(`${server.url}/api/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer cs_demo_${as}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const settled = async (id: string) => {
    const end = Date.now() + DEADLINE_MS;
    for (;;) {
      const res = await fetch(`${server.url}/api/v1/requests/${id}`, {
        headers: { authorization: 'Bearer cs_demo_carol' },
      });
      const r = ((await res.json()) as { request: Json }).request;
      if (['succeeded', 'failed', 'unknown'].includes(r.state)) return r;
      if (Date.now() > end) throw new Error(`${id} still ${r.state}\n${server.output()}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
  };

  it('answers /healthz and runs a read-only command in a handler worker', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const status = await ask('carol', 'status checkout-api staging');
    assert.equal(status.status, 200, JSON.stringify(status.json));
    assert.equal(status.json.ran.ok, true);
    assert.match(status.json.ran.output, /"version":"1\.4\.1"/);
  });

  it('previews and runs a deploy, and status then shows the new version', async () => {
    const asked = await ask('alice', 'deploy checkout-api staging version=1.5.0 ticket=CHG-7');
    assert.equal(asked.status, 201, JSON.stringify(asked.json));
    assert.deepEqual(asked.json.request.preview.changes, ['version 1.4.1 → 1.5.0']);
    const done = await settled(asked.json.request.id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.execution));
    const status = await ask('carol', 'status checkout-api staging');
    assert.match(status.json.ran.output, /"version":"1\.5\.0"/);
  });

  it('runs the restart state machine from its lazily loaded chunk', async () => {
    const asked = await ask('alice', 'restart checkout-api staging ticket=CHG-8');
    assert.equal(asked.status, 201, JSON.stringify(asked.json));
    const done = await settled(asked.json.request.id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.execution));
    assert.match(done.execution.output, /verify|healthy/i);
  });
});
