import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { isValidSlackRequest } from '@slack/bolt';
import { MAX_SKEW_SECONDS, verifySlackSignature } from './verify-signature.ts';

const SAMPLES = resolve(import.meta.dirname, '../../../../shared/fixtures/published-samples');
const VECTOR = resolve(SAMPLES, 'slack-signature-test-vector-docs-example.json');
const NO_SAMPLES = existsSync(VECTOR)
  ? false
  : `published samples not found at ${SAMPLES} (../shared is absent); skipped`;

const SECRET = 'unit-test-secret';
const NOW = 1_800_000_000;
const sign = (ts: string, body: string, secret = SECRET) =>
  `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
const check = (over: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) => {
  const body = over.rawBody ?? 'a=1';
  const ts = over.timestamp ?? String(NOW);
  return verifySlackSignature({
    signingSecret: SECRET,
    rawBody: body,
    timestamp: ts,
    signature: sign(String(ts), String(body)),
    nowSeconds: NOW,
    ...over,
  });
};

test('the published worked example verifies at its own time', { skip: NO_SAMPLES }, () => {
  const v = JSON.parse(readFileSync(VECTOR, 'utf8'));
  const at = Number(v.headers['X-Slack-Request-Timestamp']);
  assert.equal(v.basestring, `v0:${v.headers['X-Slack-Request-Timestamp']}:${v.raw_body}`);
  assert.equal(v.headers['X-Slack-Signature'], v.expected_signature);
  const req = {
    signingSecret: v.signing_secret,
    rawBody: v.raw_body,
    signature: v.headers['X-Slack-Signature'],
    timestamp: v.headers['X-Slack-Request-Timestamp'],
  };
  assert.deepEqual(verifySlackSignature({ ...req, nowSeconds: at }), { ok: true });
  assert.deepEqual(
    verifySlackSignature({ ...req, rawBody: Buffer.from(v.raw_body), nowSeconds: at }),
    {
      ok: true,
    },
  );
  // From 2018: with a real clock it is stale, as it must be.
  assert.deepEqual(verifySlackSignature({ ...req, nowSeconds: Date.now() / 1000 }), {
    ok: false,
    reason: 'stale',
  });
  assert.deepEqual(verifySlackSignature({ ...req, signingSecret: 'other', nowSeconds: at }), {
    ok: false,
    reason: 'mismatch',
  });
});

test('a correct signature inside the window is accepted, at both edges', () => {
  assert.deepEqual(check(), { ok: true });
  for (const ts of [NOW - MAX_SKEW_SECONDS, NOW + MAX_SKEW_SECONDS]) {
    assert.deepEqual(check({ timestamp: String(ts), signature: sign(String(ts), 'a=1') }), {
      ok: true,
    });
  }
});

test('missing headers', () => {
  for (const over of [{ signature: undefined }, { timestamp: undefined }, { signature: '' }]) {
    assert.deepEqual(check(over), { ok: false, reason: 'missing' });
  }
});

test('malformed signatures: other versions, empty or short hash, upper case, two joined', () => {
  const good = sign(String(NOW), 'a=1');
  const hex = good.slice(3);
  for (const signature of [
    `v1=${hex}`,
    'v0=',
    `v0=${hex.slice(2)}`,
    `v0=${hex.toUpperCase()}`,
    `${good},${good}`,
    `${good}, v0=${'0'.repeat(64)}`,
    ` ${good}`,
    `v0=${hex}00`,
    hex,
  ]) {
    assert.deepEqual(check({ signature }), { ok: false, reason: 'malformed' }, signature);
  }
});

test('malformed timestamps: not digits, exponent, too long, negative, fractional', () => {
  for (const ts of ['abc', '1e309', '1'.repeat(20), '-1', '1.5', '', ' 1', '0x10', '１２３']) {
    const r = check({ timestamp: ts, signature: sign(ts, 'a=1') });
    assert.deepEqual(
      r,
      ts === '' ? { ok: false, reason: 'missing' } : { ok: false, reason: 'malformed' },
      ts,
    );
  }
});

test('stale and future timestamps are refused even with a correct HMAC', () => {
  const stale = String(NOW - MAX_SKEW_SECONDS - 1);
  const future = String(NOW + 600);
  assert.deepEqual(check({ timestamp: stale, signature: sign(stale, 'a=1') }), {
    ok: false,
    reason: 'stale',
  });
  assert.deepEqual(check({ timestamp: future, signature: sign(future, 'a=1') }), {
    ok: false,
    reason: 'future',
  });
});

test("Bolt's own check accepts a future timestamp; ours does not", () => {
  const now = Math.floor(Date.now() / 1000);
  const ts = now + 600;
  const body = 'command=%2Fops&text=x';
  const signature = sign(String(ts), body);
  const bolt = isValidSlackRequest({
    signingSecret: SECRET,
    body,
    headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
  });
  assert.equal(bolt, true, 'Bolt 5.1 checks only the past; if this changes, drop this note');
  assert.deepEqual(
    verifySlackSignature({
      signingSecret: SECRET,
      rawBody: body,
      signature,
      timestamp: String(ts),
      nowSeconds: now,
    }),
    { ok: false, reason: 'future' },
  );
});

test('a changed body, timestamp or secret is a mismatch', () => {
  const ts = String(NOW);
  const signature = sign(ts, 'text=a+b');
  assert.deepEqual(check({ rawBody: 'text=a%20b', signature }), { ok: false, reason: 'mismatch' });
  assert.deepEqual(check({ timestamp: String(NOW + 1), signature }), {
    ok: false,
    reason: 'mismatch',
  });
  assert.deepEqual(check({ rawBody: 'text=a+b', signature, signingSecret: 'other' }), {
    ok: false,
    reason: 'mismatch',
  });
});

test('an empty signing secret is a programming error', () => {
  assert.throws(() => check({ signingSecret: '' }), TypeError);
});
