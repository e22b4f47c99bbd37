/**
 * Conformance: the ingest normalisers and alert facts over the payloads AWS and the
 * Prometheus ecosystem publish (../shared/fixtures/published-samples, described in its
 * SOURCES.md, quirks and all). Skipped, with a notice, where that folder is absent.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AlertFacts } from '../src/domain/alert-model.ts';
import type { EventEnvelope } from '../src/domain/event-envelope.ts';
import { alertFactsOf, eventSummary } from '../src/domain/ingest/alert-facts.ts';
import { alertmanagerToEnvelopes } from '../src/domain/ingest/alertmanager-event.ts';
import { parseEventBridgeEvent } from '../src/domain/ingest/eventbridge-event.ts';
import { type SnsNotification, snsToEnvelope } from '../src/domain/ingest/sns-event.ts';

const folder = new URL('../../shared/fixtures/published-samples/', import.meta.url);
const present = existsSync(folder);
if (!present) console.log(`published-samples: ${folder.pathname} is absent; skipping`);

const files = present ? readdirSync(folder).sort() : [];
const text = (name: string) => readFileSync(new URL(name, folder), 'utf8');
const json = (name: string): unknown => JSON.parse(text(name));
/** The value at a dotted path (`state.value`, `metrics.0.id`), for asserting on JSON. */
const at = (v: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The `Sns` record of a Lambda SNS event, as an HTTP notification would carry it. */
const sns = (name: string) => json(name) as SnsNotification;
const lambdaSns = (name: string) => at(json(name), 'Records.0.Sns') as SnsNotification;

function factsOf(e: EventEnvelope): AlertFacts {
  const facts = alertFactsOf(e);
  assert.ok(facts, `no facts for ${e.source} ${e['detail-type']}`);
  return facts;
}

/** Every sample this suite reads; a new sample of these kinds must be added here. */
const covered = new Set<string>();
const use = (name: string) => {
  covered.add(name);
  return name;
};

describe('published samples', { skip: !present && 'the samples folder is absent' }, () => {
  describe('EventBridge events', () => {
    const samples = files.filter((f) => f.startsWith('eventbridge-'));

    it('every EventBridge sample parses as published and sums up in one line', () => {
      assert.ok(samples.length >= 20, `only ${samples.length} samples`);
      for (const name of samples) {
        const body = json(use(name));
        const e = parseEventBridgeEvent(body);
        assert.deepEqual(e, body, name);
        assert.doesNotMatch(eventSummary(e), /\n/, name);
        assert.match(eventSummary(e), new RegExp(`id=${e.id}$`), name);
      }
    });

    it('only alarm state changes are alerts (§8 45)', () => {
      for (const name of samples) {
        const isAlert = alertFactsOf(parseEventBridgeEvent(json(name))) !== undefined;
        assert.equal(isAlert, name.startsWith('eventbridge-cloudwatch-alarm-state-change-'), name);
      }
    });

    it('keeps the quirks SOURCES.md lists', () => {
      const trail = parseEventBridgeEvent(
        json('eventbridge-cloudtrail-aws-api-call-s3-putobject.json'),
      );
      assert.deepEqual(trail.resources, []);
      const ec2 = parseEventBridgeEvent(
        json('eventbridge-ec2-instance-state-change-envelope-example.json'),
      );
      assert.equal(ec2.detail['instance-id'], ' i-1234567890abcdef0');
      assert.equal(ec2.account, '111122223333');
      assert.match(ec2.resources[0] ?? '', /:123456789012:/);
      const health = parseEventBridgeEvent(json('eventbridge-aws-health-event-ec2-issue.json'));
      assert.equal(health.detail.startTime, 'Sat, 05 Jun 2016 15:10:09 GMT');
      assert.deepEqual(health.resources, ['i-abcd1111']);
      const ecs = parseEventBridgeEvent(
        json('eventbridge-ecs-deployment-state-change-failed.json'),
      );
      assert.match(ecs.id, /EXAMPLE$/);
      assert.match(eventSummary(ecs), /"SERVICE_DEPLOYMENT_FAILED" ERROR/);
      const sfn = parseEventBridgeEvent(
        json('eventbridge-stepfunctions-execution-status-change-failed.json'),
      );
      assert.equal(sfn.detail.output, null);
      assert.match(eventSummary(sfn), /"execution-name" FAILED/);
      const config = parseEventBridgeEvent(
        json('eventbridge-config-configuration-item-change.json'),
      );
      assert.equal(typeof at(config.detail, 'configurationItem.configurationStateId'), 'number');
    });
  });

  describe('CloudWatch alarms via EventBridge', () => {
    const sample = (kind: string) =>
      factsOf(
        parseEventBridgeEvent(json(use(`eventbridge-cloudwatch-alarm-state-change-${kind}.json`))),
      );

    it('a metric alarm: threshold and value from reasonData, a +0000 timestamp read right', () => {
      const f = sample('metric-alarm');
      assert.equal(f.state, 'firing');
      assert.equal(f.title, 'ServerCpuTooHigh');
      assert.equal(f.account, '123456789012');
      assert.equal(f.region, 'us-east-1');
      assert.equal(f.since, Date.parse('2019-10-02T17:04:40.989Z'));
      assert.deepEqual(f.metric, {
        namespace: 'AWS/EC2',
        name: 'CPUUtilization',
        dimensions: { InstanceId: 'i-12345678901234567' },
        statistic: 'Average',
        period: 300,
        threshold: 50,
        comparison: 'GreaterThanThreshold',
        value: 99.50160229693434,
      });
    });

    it('a metric math alarm: the expression, named by its label, over its inputs', () => {
      const f = sample('metric-math-alarm');
      assert.equal(f.title, 'TotalNetworkTrafficTooHigh');
      assert.equal(f.state, 'firing');
      assert.deepEqual(f.metric, {
        namespace: 'AWS/EC2',
        name: 'Total Network Traffic',
        dimensions: { InstanceId: 'i-12345678901234567' },
        period: 300,
        threshold: 10000,
        comparison: 'GreaterThanThreshold',
        value: 45628,
      });
    });

    it('an anomaly detection alarm: the threshold is the band edge crossed', () => {
      const f = sample('anomaly-detection-alarm');
      assert.equal(f.title, 'EC2 CPU Utilization Anomaly');
      assert.equal(
        f.fingerprint,
        'arn:aws:cloudwatch:us-east-1:123456789012:alarm:EC2 CPU Utilization Anomaly',
      );
      assert.deepEqual(f.metric, {
        namespace: 'AWS/EC2',
        name: 'CPUUtilization',
        dimensions: { InstanceId: 'i-12345678901234567' },
        statistic: 'Average',
        period: 60,
        threshold: 0.020599444741798756,
        comparison: 'LessThanLowerOrGreaterThanUpperThreshold',
        value: 0,
        band: { lower: 0.020599444741798756, upper: 0.3006915352732461 },
      });
      assert.match(f.links[0]?.url ?? '', /#alarmsV2:alarm\/EC2%20CPU%20Utilization%20Anomaly$/);
    });

    it('a composite alarm whose actions are suppressed (WaitPeriod) must not page', () => {
      const f = sample('composite-alarm-with-suppressor');
      assert.equal(f.state, 'firing');
      assert.equal(f.title, 'ServiceAggregatedAlarm');
      assert.equal(f.actionsSuppressed, true);
      assert.equal(f.metric, undefined);
    });
  });

  describe('CloudWatch alarms via SNS (Lambda event shape, Records[0].Sns)', () => {
    it('§8 36: a single-metric alarm normalises to the EventBridge alarm envelope', () => {
      const msg = lambdaSns(use('lambda-event-cloudwatch-alarm-sns-payload-single-metric.json'));
      assert.equal(typeof at(msg, 'SigningCertUrl'), 'string', 'Lambda casing');
      const e = snsToEnvelope(msg);
      assert.equal(e.source, 'aws.cloudwatch');
      assert.equal(e['detail-type'], 'CloudWatch Alarm State Change');
      assert.equal(e.id, '95df01b4-ee98-5cb9-9903-4c221d41eb5e');
      assert.equal(at(e.detail, 'configuration.treatMissingData'), 'missing');
      const f = factsOf(e);
      assert.equal(f.state, 'firing');
      assert.equal(f.title, 'EXAMPLE');
      assert.equal(f.account, '123456789012');
      assert.equal(f.region, undefined, 'Region "EXAMPLE" and the ARNs name no region');
      assert.equal(f.since, Date.parse('2015-06-03T17:43:27.123Z'));
      assert.deepEqual(f.metric, {
        namespace: 'AWS/EC2',
        name: 'NetworkOut',
        dimensions: { InstanceId: 'TestInstance' },
        statistic: 'Average',
        period: 60,
        threshold: 0,
        comparison: 'GreaterThanThreshold',
        unit: 'Bytes',
      });
    });

    it('a metric math alarm (Trigger.Metrics), with the placeholder account left out', () => {
      const e = snsToEnvelope(
        lambdaSns(use('lambda-event-cloudwatch-alarm-sns-payload-multiple-metrics.json')),
      );
      assert.equal(e.account, '', 'AWSAccountId "EXAMPLE" is not an account');
      const f = factsOf(e);
      assert.equal(f.state, 'firing');
      assert.equal(f.title, 'EXAMPLE');
      assert.equal(f.account, undefined);
      assert.deepEqual(f.metric, {
        namespace: 'AWS/EC2',
        name: 'Expression1',
        dimensions: { InstanceId: 'TestInstance' },
        period: 60,
        threshold: 0,
        comparison: 'GreaterThanThreshold',
      });
    });
  });

  describe('Alertmanager webhooks', () => {
    it('§8 43: an older capture: nanoseconds, -05:00, zero endsAt, no fingerprint', () => {
      const envelopes = alertmanagerToEnvelopes(
        json(use('alertmanager-webhook-v4-firing-single-alert.json')),
        sha256,
      );
      assert.equal(envelopes.length, 1);
      const [e] = envelopes;
      assert.ok(e);
      assert.equal(e.time, '2018-03-07T11:33:21.873Z');
      assert.equal('endsAt' in e.detail, false);
      assert.match(String(e.detail.fingerprint), /^[0-9a-f]{16}$/);
      const f = factsOf(e);
      assert.equal(f.state, 'firing');
      assert.equal(f.title, 'high_memory_load');
      assert.equal(f.reason, 'Server High Memory usage');
      assert.equal(f.severity, 'warning');
      assert.equal(f.truncatedAlerts, undefined);
      assert.deepEqual(f.links, [
        { label: 'Runbook', url: 'https://github.com/bzon/prometheus-msteams' },
        { label: 'Alertmanager', url: 'http://docker.for.mac.host.internal:9093' },
      ]);
    });

    it('§8 43: the Go-encoded capture: three alerts, \\u0026 read as &, a hostless externalURL', () => {
      const name = use('alertmanager-webhook-v4-firing-captured-go-encoded.json');
      assert.match(text(name), /\\u0026/);
      const envelopes = alertmanagerToEnvelopes(json(name), sha256);
      assert.equal(envelopes.length, 3);
      assert.equal(new Set(envelopes.map((e) => e.id)).size, 3);
      assert.equal(new Set(envelopes.map((e) => e.detail.fingerprint)).size, 3);
      for (const e of envelopes) {
        assert.equal(e.time, '2019-09-27T16:27:56.612Z');
        assert.match(String(e.detail.generatorURL), /\+%3D%3D\+0&g0\.tab=1$/);
        assert.match(String(e.detail.groupKey), /severity=~/);
        const f = factsOf(e);
        assert.equal(f.title, 'ICMP ping failed');
        assert.equal(f.severity, 'major');
        assert.match(f.description ?? '', /does not reply to ICMP pings$/);
        assert.deepEqual(
          f.links.map((l) => l.label),
          ['Source'],
          'externalURL "http://:9093" has no host: no link',
        );
      }
    });

    it('the documented format is a template, not JSON, and names the fields read here', () => {
      const doc = text(use('alertmanager-webhook-v4-format-as-documented.txt'));
      assert.throws(() => JSON.parse(doc));
      for (const field of [
        'truncatedAlerts',
        'fingerprint',
        'generatorURL',
        'externalURL',
        'groupKey',
      ]) {
        assert.match(doc, new RegExp(`"${field}"`));
      }
    });
  });

  describe('SNS HTTP notifications', () => {
    it('the documented notification: plain text, account and region from the TopicArn', () => {
      const msg = sns(use('sns-http-notification.json'));
      assert.deepEqual(snsToEnvelope(msg), {
        version: '0',
        id: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
        'detail-type': 'SNS Notification',
        source: 'countersign.sns',
        account: '123456789012',
        time: '2012-05-02T00:54:06.655Z',
        region: 'us-west-2',
        resources: ['arn:aws:sns:us-west-2:123456789012:MyTopic'],
        detail: { message: 'Hello world!', subject: 'My First Message' },
      });
      const http = text(use('sns-http-notification.http'));
      const body = JSON.parse(http.slice(http.indexOf('\n{') + 1));
      assert.deepEqual(snsToEnvelope(body), snsToEnvelope(msg));
    });

    it('the re:Post example: attributes kept, the redacted account left out', () => {
      const e = snsToEnvelope(
        sns(use('sns-http-notification-with-message-attributes-repost-example.json')),
      );
      assert.equal(e.account, '', 'XXXXXXXX is not an account');
      assert.equal(e.region, 'us-east-1');
      assert.deepEqual(e.detail, {
        message: 'TestHTTPS',
        subject: 'Test',
        attributes: { surname: 'SNSHTTPSTest' },
      });
    });

    it('§8 37: the AWS Config sample with an object Message is accepted, as aws.config', () => {
      const e = snsToEnvelope(
        sns(use('sns-config-rules-compliance-change-notification-as-documented.json')),
      );
      assert.equal(e.source, 'aws.config');
      assert.equal(e['detail-type'], 'Config Rules Compliance Change');
      assert.equal(e.id, '11fd05dd-47e1-5523-bc01-55b988bb9478');
      assert.equal(e.account, '123456789012');
      assert.equal(e.region, 'us-east-2');
      assert.equal(e.time, '2016-09-27T19:48:42Z');
      assert.equal(at(e.detail, 'newEvaluationResult.complianceType'), 'COMPLIANT');
      assert.equal(alertFactsOf(e), undefined);
    });
  });

  it('every ingest sample in the folder is read by this suite', () => {
    const ingest = files.filter((f) =>
      /^(eventbridge|lambda-event|alertmanager|sns-http-notification|sns-config)/.test(f),
    );
    assert.deepEqual(
      ingest.filter((f) => !covered.has(f)),
      [],
    );
  });
});
