import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { DomainError } from '../errors.ts';
import { alertmanagerToEnvelopes, labelsFingerprint } from './alertmanager-event.ts';

const fixtureText = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/ingest/${name}`, import.meta.url), 'utf8');
type Webhook = { alerts: Record<string, unknown>[] } & Record<string, unknown>;
const fixture = (name: string): Webhook => JSON.parse(fixtureText(name));
/** The value at a dotted path (`state.value`, `metrics.0.id`), for asserting on JSON. */
const at = (v: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const envelopes = (body: unknown) => alertmanagerToEnvelopes(body, sha256);

function refusal(body: unknown): DomainError {
  try {
    envelopes(body);
  } catch (e) {
    assert.equal((e as DomainError).code, 'INVALID_INPUT');
    return e as DomainError;
  }
  return assert.fail('the webhook was accepted');
}

describe('alertmanagerToEnvelopes', () => {
  it('makes one envelope per alert, with what the group and the alert say', () => {
    const [first, second, ...rest] = envelopes(fixture('alertmanager-firing.json'));
    assert.equal(rest.length, 0);
    assert.ok(first && second);
    assert.equal(first.source, 'countersign.alertmanager');
    assert.equal(first['detail-type'], 'Alertmanager Alert');
    assert.equal(first.account, '111122223333');
    assert.equal(first.region, 'eu-west-1');
    assert.equal(first.time, '2024-03-14T09:12:41.118Z');
    assert.deepEqual(first.resources, []);
    const d = first.detail;
    assert.equal(at(d, 'status'), 'firing');
    assert.equal(at(d, 'labels.pod'), 'payments-api-7d9c6b5f4-x2k8p');
    assert.equal(
      at(d, 'annotations.summary'),
      'Pod payments/payments-api-7d9c6b5f4-x2k8p (api) is crash looping',
    );
    assert.equal(at(d, 'startsAt'), '2024-03-14T09:12:41.118Z');
    assert.equal(at(d, 'fingerprint'), '4b1f2c9a7e3d6b05');
    assert.equal(at(d, 'receiver'), 'countersign');
    assert.equal(at(d, 'externalURL'), 'https://alertmanager.example.com');
    assert.match(String(at(d, 'groupKey')), /alertname="KubePodCrashLooping"/);
    assert.match(String(at(d, 'generatorURL')), /^https:\/\/prometheus\.example\.com\/graph\?/);
    assert.equal(second.detail.fingerprint, '9e07c3d85a1f2b64');
  });

  it('§8 44: truncatedAlerts is carried into every alert of the notification', () => {
    for (const e of envelopes(fixture('alertmanager-firing.json'))) {
      assert.equal(e.detail.truncatedAlerts, 2);
    }
  });

  it('§8 42: a resend of the same group (same fingerprint and startsAt) is the same event', () => {
    const body = fixture('alertmanager-firing.json');
    const resent = { ...body, alerts: [...body.alerts].reverse(), truncatedAlerts: 0 };
    const ids = (b: unknown) =>
      envelopes(b)
        .map((e) => e.id)
        .sort();
    assert.deepEqual(ids(resent), ids(body));
    const [first] = envelopes(body);
    assert.equal(first?.id, sha256('4b1f2c9a7e3d6b05|firing|2024-03-14T09:12:41.118Z'));
  });

  it('the alert resolving is a new event, timed at endsAt', () => {
    const [firing] = envelopes(fixture('alertmanager-firing.json'));
    const [resolved] = envelopes(fixture('alertmanager-resolved.json'));
    assert.ok(firing && resolved);
    assert.notEqual(resolved.id, firing.id);
    assert.equal(resolved.time, '2024-03-14T09:31:26.502Z');
    assert.equal(resolved.detail.endsAt, '2024-03-14T09:31:26.502Z');
    assert.equal(resolved.detail.status, 'resolved');
    assert.equal(resolved.detail.fingerprint, firing.detail.fingerprint);
  });

  it('§8 43: endsAt 0001-01-01 means still firing: no endsAt in the detail', () => {
    const [e] = envelopes(fixture('alertmanager-firing.json'));
    assert.equal(e?.detail.status, 'firing');
    assert.equal('endsAt' in (e?.detail ?? {}), false);
  });

  it('§8 43: an older payload without fingerprint, status, truncatedAlerts or generatorURL', () => {
    const [e, ...rest] = envelopes(fixture('alertmanager-old-format.json'));
    assert.equal(rest.length, 0);
    assert.ok(e);
    const d = e.detail;
    assert.equal(at(d, 'status'), 'firing', "the group's status");
    assert.equal(
      at(d, 'fingerprint'),
      labelsFingerprint(at(d, 'labels') as Record<string, string>),
    );
    assert.match(String(at(d, 'fingerprint')), /^[0-9a-f]{16}$/);
    assert.equal(at(d, 'truncatedAlerts'), 0);
    assert.equal('generatorURL' in d, false);
    assert.equal(e.account, '');
    assert.equal(e.region, '');
  });

  it('§8 43: nanoseconds and a -05:00 offset parse to the right millisecond', () => {
    const [e] = envelopes(fixture('alertmanager-old-format.json'));
    assert.equal(e?.time, '2024-03-14T09:12:41.118Z');
    assert.equal(e?.detail.startsAt, '2024-03-14T09:12:41.118Z');
  });

  it('§8 43: \\u0026 escapes arrive as &', () => {
    assert.match(fixtureText('alertmanager-old-format.json'), /\\u0026/);
    const [e] = envelopes(fixture('alertmanager-old-format.json'));
    const annotations = e?.detail.annotations as Record<string, string>;
    assert.equal(
      annotations.dashboard_url,
      'https://grafana.example.com/d/node?var-instance=db-1&from=now-6h',
    );
  });

  it("computes a missing fingerprint as Alertmanager does (prometheus/common's test vectors)", () => {
    assert.equal(labelsFingerprint({}), BigInt('14695981039346656037').toString(16));
    const fp = labelsFingerprint({ name: 'garland, briggs', fear: 'love is not enough' });
    assert.equal(fp, BigInt('5799056148416392346').toString(16).padStart(16, '0'));
  });

  it('reads account and region from labels only when they hold an account id and a region', () => {
    const body = fixture('alertmanager-old-format.json');
    const alert = body.alerts[0] ?? {};
    const own = alert.labels as Record<string, string>;
    const withLabels = (labels: Record<string, string>) =>
      envelopes({ ...body, alerts: [{ ...alert, labels: { ...own, ...labels } }] })[0];
    assert.equal(
      withLabels({ aws_account: '444455556666', region: 'us-west-2' })?.account,
      '444455556666',
    );
    assert.equal(withLabels({ account_id: '444455556666' })?.account, '444455556666');
    assert.equal(withLabels({ account: 'prod', region: 'europe' })?.account, '');
    assert.equal(withLabels({ account: 'prod', region: 'europe' })?.region, '');
  });

  it('an empty notification has no alerts', () => {
    assert.deepEqual(envelopes({ version: '4', status: 'firing', alerts: [] }), []);
  });

  it('names the field that is missing or wrong', () => {
    const body = fixture('alertmanager-firing.json');
    const { alerts: _, ...noAlerts } = body;
    assert.equal(refusal(noAlerts).message, 'Alertmanager webhook: alerts is required');
    assert.equal(
      refusal({ ...body, status: 'pending' }).message,
      'Alertmanager webhook: status must be one of "firing", "resolved"',
    );
    const badAlert = { ...body.alerts[0], startsAt: undefined };
    assert.deepEqual(refusal({ ...body, alerts: [badAlert] }).details, {
      field: 'alerts[0].startsAt',
    });
    const badLabel = { ...body.alerts[0], labels: { severity: 3 } };
    assert.match(
      refusal({ ...body, alerts: [badLabel] }).message,
      /alerts\[0\]\.labels\.severity must be a string/,
    );
    assert.match(
      refusal({ ...body, truncatedAlerts: -1 }).message,
      /truncatedAlerts must be at least 0/,
    );
    assert.match(refusal([body]).message, /\(body\) must be a JSON object/);
  });
});
