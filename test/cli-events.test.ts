/**
 * `countersign events test-pattern` and `countersign events route`, run as people run them:
 * `node bin/countersign.mjs …` in a child process on the demo catalog.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/countersign.mjs');
const dir = mkdtempSync(join(tmpdir(), 'countersign-cli-events-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        COUNTERSIGN_CONFIG: join(ROOT, 'examples/demo'),
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

const alarm = JSON.parse(
  readFileSync(join(ROOT, 'test/fixtures/ingest/eventbridge-alarm-metric-5xx.json'), 'utf8'),
);
const checkoutAlarm = {
  ...alarm,
  account: '222222222222',
  detail: { ...alarm.detail, alarmName: 'checkout-api-latency-p99' },
};

describe('countersign events', () => {
  test('test-pattern prints true and exits 0 on a match, false and 1 otherwise', async () => {
    const pattern = file('p.json', {
      source: ['aws.cloudwatch'],
      detail: { state: { value: ['ALARM'] } },
    });
    const yes = await run([
      'events',
      'test-pattern',
      '--pattern',
      pattern,
      '--event',
      file('e1.json', alarm),
    ]);
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal(yes.stdout.trim(), 'true');
    const ok = { ...alarm, detail: { ...alarm.detail, state: { value: 'OK' } } };
    const no = await run([
      'events',
      'test-pattern',
      '--pattern',
      pattern,
      '--event',
      file('e2.json', ok),
      '--explain',
    ]);
    assert.equal(no.code, 1);
    assert.match(no.stdout, /^false\n/);
    assert.match(no.stdout, /FAIL detail\.state\.value/);
  });

  test('a pattern AWS would reject is an error naming the field, not false', async () => {
    const bad = file('bad.json', { detail: { count: [{ numeric: ['>', 'five'] }] } });
    const r = await run([
      'events',
      'test-pattern',
      '--pattern',
      bad,
      '--event',
      file('e3.json', alarm),
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /detail\.count/);
    assert.equal(r.stdout, '');
    const op = file('op.json', { source: [{ prefixx: 'aws.' }] });
    const r2 = await run([
      'events',
      'test-pattern',
      '--pattern',
      op,
      '--event',
      file('e4.json', alarm),
    ]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /source.*prefixx/);
  });

  test('a file that is not JSON is an error', async () => {
    const r = await run([
      'events',
      'test-pattern',
      '--pattern',
      file('x.json', '{nope'),
      '--event',
      file('e5.json', alarm),
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not JSON/);
  });

  test('route shows the route an event takes, and why the others did not match', async () => {
    const r = await run(['events', 'route', '--event', file('e6.json', checkoutAlarm)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no +checkout-5xx: detail\.alarmName/, 'not a 5xx alarm');
    assert.match(r.stdout, /MATCH checkout-alarms: matched/);
    assert.match(
      r.stdout,
      /→ route checkout-alarms: team payments, checkout-api\/prod, sev2, C01ALERTS/,
    );
    assert.match(r.stdout, /alert: firing/);
  });

  test('route refuses an event that is not an EventBridge envelope, naming the field', async () => {
    const { source: _, ...noSource } = checkoutAlarm;
    const r = await run(['events', 'route', '--event', file('e8.json', noSource)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /source/);
  });

  test('an event no route takes goes to the default route', async () => {
    const other = { ...alarm, detail: { ...alarm.detail, alarmName: 'billing-5xx' } };
    const r = await run(['events', 'route', '--event', file('e7.json', other)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no +checkout-alarms: detail\.alarmName: expected/);
    assert.match(r.stdout, /→ route unrouted \(default\)/);
  });
});
