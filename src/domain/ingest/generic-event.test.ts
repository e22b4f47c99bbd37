import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { canonicalJson } from '../audit-chain.ts';
import type { DomainError } from '../errors.ts';
import { genericToEnvelope } from './generic-event.ts';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL(`../../../test/fixtures/ingest/${name}`, import.meta.url), 'utf8'),
  );
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const receivedAt = Date.parse('2024-03-14T10:00:00.000Z');
const normalise = (body: unknown) => genericToEnvelope(body, { sha256, receivedAt });

function refusal(body: unknown): DomainError {
  try {
    normalise(body);
  } catch (e) {
    assert.equal((e as DomainError).code, 'INVALID_INPUT');
    return e as DomainError;
  }
  return assert.fail('the alert was accepted');
}

describe('genericToEnvelope', () => {
  it('puts a generic alert in the envelope, keeping the sender name under detail', () => {
    const body = fixture('generic-firing.json');
    assert.deepEqual(normalise(body), {
      version: '0',
      id: 'uptime-4411-2024-03-14T08:55:00Z',
      'detail-type': 'Generic Alert',
      source: 'countersign.generic',
      account: '111122223333',
      time: '2024-03-14T08:55:00.000Z',
      region: 'eu-central-1',
      resources: [],
      detail: {
        source: 'uptime-checker',
        title: 'https://pay.example.com/health is down',
        state: 'firing',
        severity: 'critical',
        service: 'payments-api',
        environment: 'prod',
        fingerprint: 'uptime-4411',
        description: '3 of 3 probe locations got HTTP 503 for 5 minutes.',
        labels: { check: '4411', probe: 'eu-central' },
        links: [{ label: 'Check', url: 'https://uptime.example.com/checks/4411' }],
      },
    });
  });

  it('a sender cannot pose as an AWS source', () => {
    const e = normalise({ source: 'aws.cloudwatch', title: 'x', state: 'firing' });
    assert.equal(e.source, 'countersign.generic');
    assert.equal(e.detail.source, 'aws.cloudwatch');
  });

  it('without an id, the id is the digest of the canonical body: a retry is the same event', () => {
    const body = fixture('generic-resolved.json');
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    assert.equal(normalise(body).id, sha256(canonicalJson(body)));
    assert.equal(normalise(reordered).id, normalise(body).id);
    assert.notEqual(normalise({ ...body, time: '2024-03-15T09:07:30Z' }).id, normalise(body).id);
  });

  it('without a fingerprint, one is computed from what names the alert', () => {
    const a = normalise({ title: 'queue backlog', state: 'firing', service: 'payments-api' });
    const b = normalise({ title: 'queue backlog', state: 'resolved', service: 'payments-api' });
    const c = normalise({ title: 'queue backlog', state: 'firing', service: 'ledger' });
    assert.match(String(a.detail.fingerprint), /^[0-9a-f]{64}$/);
    assert.equal(a.detail.fingerprint, b.detail.fingerprint);
    assert.notEqual(a.detail.fingerprint, c.detail.fingerprint);
  });

  it('reads an offset time to UTC, and takes the receipt time when there is none', () => {
    assert.equal(normalise(fixture('generic-resolved.json')).time, '2024-03-14T08:07:30.000Z');
    const e = normalise({ title: 'x', state: 'firing' });
    assert.equal(e.time, '2024-03-14T10:00:00.000Z');
    assert.equal(e.account, '');
    assert.equal(e.region, '');
  });

  it('names the field that is missing, wrong or unknown', () => {
    const base = { title: 'x', state: 'firing' };
    assert.equal(refusal({ state: 'firing' }).message, 'Generic alert: title is required');
    assert.equal(
      refusal({ ...base, state: 'open' }).message,
      'Generic alert: state must be one of "firing", "resolved"',
    );
    assert.deepEqual(refusal({ ...base, titel: 'y' }).details, { field: 'titel' });
    assert.match(refusal({ ...base, titel: 'y' }).message, /titel is not a known field/);
    assert.match(refusal({ ...base, account: '1234' }).message, /account must be a 12-digit/);
    assert.match(refusal({ ...base, region: 'Ireland' }).message, /region must be an AWS region/);
    assert.match(refusal({ ...base, time: 'now' }).message, /time must be an ISO-8601/);
    assert.match(refusal({ ...base, title: '' }).message, /title must not be empty/);
    assert.match(refusal({ ...base, labels: { a: 1 } }).message, /labels\.a must be a string/);
  });

  it('accepts only http(s) links with a host', () => {
    const link = (url: string) => ({ title: 'x', state: 'firing', links: [{ label: 'l', url }] });
    assert.deepEqual(normalise(link('http://grafana.internal:3000/d/x')).detail.links, [
      { label: 'l', url: 'http://grafana.internal:3000/d/x' },
    ]);
    assert.match(
      refusal(link('javascript:alert(1)')).message,
      /links\[0\]\.url must be an http\(s\) URL/,
    );
    assert.match(refusal(link('/relative')).message, /links\[0\]\.url/);
    assert.match(refusal(link('http://:9093')).message, /links\[0\]\.url/);
  });
});
