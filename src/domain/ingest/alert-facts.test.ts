import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AlertFacts } from '../alert-model.ts';
import type { EventEnvelope } from '../event-envelope.ts';
import { alertFactsOf, comparisonFromReason, consoleLink, eventSummary } from './alert-facts.ts';
import { alertmanagerToEnvelopes } from './alertmanager-event.ts';
import { genericToEnvelope } from './generic-event.ts';
import { type SnsNotification, snsToEnvelope } from './sns-event.ts';

const fixture = <T = unknown>(name: string): T =>
  JSON.parse(
    readFileSync(new URL(`../../../test/fixtures/ingest/${name}`, import.meta.url), 'utf8'),
  );
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const viaSns = (name: string) => snsToEnvelope(fixture<SnsNotification>(name));
const alertmanager = (name: string) => alertmanagerToEnvelopes(fixture(name), sha256);

function factsOf(e: EventEnvelope): AlertFacts {
  const facts = alertFactsOf(e);
  assert.ok(facts, `no facts for ${e.source} ${e['detail-type']}`);
  return facts;
}

/** The parts of an alarm state change's detail the tests rewrite. */
type AlarmDetail = { state: Record<string, unknown>; configuration: Record<string, unknown> };

const ALARM_5XX = 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:payments-api-5xx';

describe('alertFactsOf: CloudWatch alarms', () => {
  it('a metric alarm via EventBridge: state, metric, threshold, value and console link', () => {
    assert.deepEqual(factsOf(fixture('eventbridge-alarm-metric-5xx.json')), {
      fingerprint: ALARM_5XX,
      state: 'firing',
      rawState: 'ALARM',
      title: 'payments-api-5xx',
      description: 'Target 5xx responses on the payments API load balancer',
      reason:
        'Threshold Crossed: 2 out of the last 3 datapoints [31.0 (14/03/24 09:25:00), 27.0 (14/03/24 09:24:00)] were greater than or equal to the threshold (25.0) (minimum 2 datapoints for OK -> ALARM transition).',
      metric: {
        namespace: 'AWS/ApplicationELB',
        name: 'HTTPCode_Target_5XX_Count',
        dimensions: { LoadBalancer: 'app/payments-api/50dc6c495c0c9188' },
        statistic: 'Sum',
        period: 60,
        threshold: 25,
        comparison: 'GreaterThanOrEqualToThreshold',
        value: 31,
      },
      since: Date.parse('2024-03-14T09:26:53.512Z'),
      account: '111122223333',
      region: 'eu-west-1',
      links: [
        {
          label: 'CloudWatch alarm',
          url: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/payments-api-5xx',
        },
      ],
      actionsSuppressed: false,
      labels: { LoadBalancer: 'app/payments-api/50dc6c495c0c9188' },
    });
  });

  it('the same alarm via SNS has the same facts, less the value SNS does not send', () => {
    const fromEventBridge = factsOf(fixture('eventbridge-alarm-metric-5xx.json'));
    const fromSns = factsOf(viaSns('sns-alarm-metric-5xx.json'));
    const { value: _, ...metric } = fromEventBridge.metric ?? { name: '' };
    assert.deepEqual(fromSns, { ...fromEventBridge, metric });
  });

  it('the alarm going back to OK is resolved, with the latest datapoint', () => {
    const facts = factsOf(fixture('eventbridge-alarm-metric-5xx-ok.json'));
    assert.equal(facts.state, 'resolved');
    assert.equal(facts.rawState, 'OK');
    assert.equal(facts.fingerprint, ALARM_5XX);
    assert.equal(facts.metric?.value, 4);
    assert.equal(facts.since, Date.parse('2024-03-14T09:41:53.492Z'));
  });

  it('an anomaly detection alarm via SNS: the metric, not the band; the band comparison', () => {
    const facts = factsOf(viaSns('sns-alarm-anomaly-latency.json'));
    assert.equal(facts.title, 'checkout p99 latency anomaly');
    assert.deepEqual(facts.metric, {
      namespace: 'Checkout',
      name: 'Latency',
      dimensions: { ServiceName: 'checkout-api', Environment: 'prod' },
      statistic: 'p99',
      period: 300,
      comparison: 'GreaterThanUpperThreshold',
    });
    assert.equal(
      facts.links[0]?.url,
      'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/checkout%20p99%20latency%20anomaly',
    );
  });

  it('a composite alarm has no metric; its reason names the child', () => {
    const facts = factsOf(viaSns('sns-alarm-composite.json'));
    assert.equal(
      facts.fingerprint,
      'arn:aws:cloudwatch:us-east-1:111122223333:alarm:checkout-unhealthy',
    );
    assert.equal(facts.metric, undefined);
    assert.match(facts.reason ?? '', /checkout p99 latency anomaly transitioned to ALARM/);
    assert.equal(facts.actionsSuppressed, false);
    assert.deepEqual(facts.labels, {});
  });

  it('suppressed actions (actionsSuppressedBy, or actions disabled) must not page', () => {
    const e = fixture<EventEnvelope>('eventbridge-alarm-metric-5xx.json');
    const d = e.detail as AlarmDetail;
    const suppressed = {
      ...e,
      detail: {
        ...d,
        state: {
          ...d.state,
          actionsSuppressedBy: 'Alarm',
          actionsSuppressedReason: 'Alarm maintenance is in ALARM',
        },
      },
    };
    const disabled = {
      ...e,
      detail: { ...d, configuration: { ...d.configuration, actionsEnabled: false } },
    };
    assert.equal(factsOf(suppressed).actionsSuppressed, true);
    assert.equal(factsOf(disabled).actionsSuppressed, true);
  });

  it('a detail of the wrong shape gives no facts, and never throws', () => {
    const e = fixture<EventEnvelope>('eventbridge-alarm-metric-5xx.json');
    const d = e.detail as AlarmDetail;
    assert.equal(alertFactsOf({ ...e, detail: {} }), undefined);
    assert.equal(alertFactsOf({ ...e, detail: { ...d, state: { value: 'MAYBE' } } }), undefined);
    assert.equal(alertFactsOf({ ...e, detail: { ...d, state: 'ALARM' } }), undefined);
    const odd = factsOf({
      ...e,
      detail: { ...d, configuration: { metrics: 'x' }, state: { ...d.state, reasonData: '{oops' } },
    });
    assert.equal(odd.metric, undefined);
  });

  it('reads the comparison from CloudWatch reason sentences', () => {
    const cases: [string, string | undefined][] = [
      ['1 datapoint [99.5] was greater than the threshold (50.0)', 'GreaterThanThreshold'],
      [
        '1 datapoint [1.0] was not greater than or equal to the threshold (2.0)',
        'GreaterThanOrEqualToThreshold',
      ],
      ['[0.2] was less than the threshold (1.0)', 'LessThanThreshold'],
      ['[0.2] was less than or equal to the threshold (1.0)', 'LessThanOrEqualToThreshold'],
      [
        '[0.0] was less than the lower thresholds [0.02] or greater than the upper thresholds [0.3]',
        'LessThanLowerOrGreaterThanUpperThreshold',
      ],
      ['[2.8] was greater than the upper thresholds [1.12]', 'GreaterThanUpperThreshold'],
      ['[0.1] was less than the lower thresholds [0.5]', 'LessThanLowerThreshold'],
      ['Unchecked: Initial alarm creation', undefined],
    ];
    for (const [reason, expected] of cases)
      assert.equal(comparisonFromReason(reason), expected, reason);
  });

  it('links to the console of the partition, and not at all for a region it cannot trust', () => {
    assert.equal(
      consoleLink('cn-north-1', 'a/b'),
      'https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/a%2Fb',
    );
    assert.match(
      consoleLink('us-gov-west-1', 'x') ?? '',
      /^https:\/\/console\.amazonaws-us-gov\.com\//,
    );
    assert.equal(consoleLink('evil.example/x', 'x'), undefined);
    assert.equal(consoleLink('', 'x'), undefined);
  });
});

describe('alertFactsOf: Alertmanager and generic alerts', () => {
  it('an Alertmanager alert: alertname, summary, description, links, severity', () => {
    const [e] = alertmanager('alertmanager-firing.json');
    assert.ok(e);
    const facts = factsOf(e);
    assert.equal(facts.fingerprint, 'alertmanager:4b1f2c9a7e3d6b05');
    assert.equal(facts.state, 'firing');
    assert.equal(facts.rawState, 'firing');
    assert.equal(facts.title, 'KubePodCrashLooping');
    assert.equal(facts.reason, 'Pod payments/payments-api-7d9c6b5f4-x2k8p (api) is crash looping');
    assert.match(facts.description ?? '', /CrashLoopBackOff/);
    assert.equal(facts.severity, 'critical');
    assert.equal(facts.since, Date.parse('2024-03-14T09:12:41.118Z'));
    assert.equal(facts.account, '111122223333');
    assert.equal(facts.region, 'eu-west-1');
    assert.deepEqual(
      facts.links.map((l) => l.label),
      ['Source', 'Runbook', 'Alertmanager'],
    );
    assert.equal(facts.labels.pod, 'payments-api-7d9c6b5f4-x2k8p');
    assert.equal(facts.actionsSuppressed, false);
  });

  it('§8 44: truncatedAlerts is carried into the facts', () => {
    for (const e of alertmanager('alertmanager-firing.json')) {
      assert.equal(factsOf(e).truncatedAlerts, 2);
    }
    const [resolved] = alertmanager('alertmanager-resolved.json');
    assert.ok(resolved);
    assert.equal(factsOf(resolved).truncatedAlerts, undefined, 'none left out');
  });

  it('a resolved alert is resolved since its endsAt', () => {
    const [e] = alertmanager('alertmanager-resolved.json');
    assert.ok(e);
    const facts = factsOf(e);
    assert.equal(facts.state, 'resolved');
    assert.equal(facts.since, Date.parse('2024-03-14T09:31:26.502Z'));
    assert.equal(facts.fingerprint, 'alertmanager:4b1f2c9a7e3d6b05');
  });

  it('§8 43: an older payload still gives facts; the dashboard link arrives with its &', () => {
    const [e] = alertmanager('alertmanager-old-format.json');
    assert.ok(e);
    const facts = factsOf(e);
    assert.equal(facts.title, 'DiskWillFillIn4Hours');
    assert.equal(facts.severity, 'warning');
    assert.deepEqual(facts.links, [
      {
        label: 'Dashboard',
        url: 'https://grafana.example.com/d/node?var-instance=db-1&from=now-6h',
      },
      { label: 'Alertmanager', url: 'http://alertmanager-0:9093' },
    ]);
  });

  it('a generic alert: its own fingerprint, and service and environment as labels', () => {
    const e = genericToEnvelope(fixture('generic-firing.json'), { sha256, receivedAt: 0 });
    assert.deepEqual(factsOf(e), {
      fingerprint: 'generic:uptime-4411',
      state: 'firing',
      rawState: 'firing',
      title: 'https://pay.example.com/health is down',
      description: '3 of 3 probe locations got HTTP 503 for 5 minutes.',
      since: Date.parse('2024-03-14T08:55:00Z'),
      account: '111122223333',
      region: 'eu-central-1',
      links: [{ label: 'Check', url: 'https://uptime.example.com/checks/4411' }],
      actionsSuppressed: false,
      severity: 'critical',
      labels: {
        check: '4411',
        probe: 'eu-central',
        service: 'payments-api',
        environment: 'prod',
        source: 'uptime-checker',
      },
    });
  });

  it('§8 45: events that are not alerts give no facts', () => {
    const notAlerts = [
      viaSns('sns-eventbridge-event.json'),
      viaSns('sns-text.json'),
      {
        ...fixture<EventEnvelope>('eventbridge-alarm-metric-5xx.json'),
        'detail-type': 'CloudWatch Alarm Configuration Change',
      },
      {
        ...fixture<EventEnvelope>('eventbridge-alarm-metric-5xx.json'),
        source: 'com.example.fake',
      },
    ];
    for (const e of notAlerts) assert.equal(alertFactsOf(e), undefined, e['detail-type']);
  });
});

describe('eventSummary', () => {
  it('says what happened in one plain line, for alerts and other events', () => {
    assert.equal(
      eventSummary(fixture('eventbridge-alarm-metric-5xx.json')),
      'aws.cloudwatch "CloudWatch Alarm State Change" "payments-api-5xx" OK -> ALARM value=31 account=111122223333 region=eu-west-1 id=0b2e6f1c-8d4a-7e39-5c1b-2f6a9d3e4c80',
    );
    assert.equal(
      eventSummary(viaSns('sns-eventbridge-event.json')),
      'aws.states "Step Functions Execution Status Change" "req-01HS2X" SUCCEEDED account=111122223333 region=eu-west-1 id=e5a1c7d2-9b3f-4e60-a8c4-1d2e3f4a5b6c',
    );
    const [am] = alertmanager('alertmanager-firing.json');
    assert.ok(am);
    assert.match(
      eventSummary(am),
      /^countersign\.alertmanager "Alertmanager Alert" "KubePodCrashLooping" firing truncated=2 /,
    );
    assert.match(
      eventSummary(viaSns('sns-text.json')),
      /^countersign\.sns "SNS Notification" "nightly-export failed" /,
    );
  });

  it('§8 50: a name with a newline, ANSI or bidi control cannot forge a log line', () => {
    const e = fixture<EventEnvelope>('eventbridge-alarm-metric-5xx.json');
    const name = 'x\n2026-01-01 INFO approved by admin\u001b[31m\u202e';
    const line = eventSummary({ ...e, detail: { ...e.detail, alarmName: name } });
    assert.equal(line.includes('\n'), false);
    assert.equal(/[\u0000-\u001f\u202e]/.test(line), false);
    assert.match(line, /\\n2026-01-01 INFO approved by admin\\u001b\[31m\\u202e/);
  });

  it('marks a replay and stays short', () => {
    const e = fixture<EventEnvelope>('eventbridge-alarm-metric-5xx.json');
    assert.match(eventSummary({ ...e, 'replay-name': 'restore' }), / replay="restore" id=/);
    const long = eventSummary({ ...e, detail: { ...e.detail, alarmName: 'a'.repeat(1000) } });
    assert.equal(long.length, 400);
    assert.ok(long.endsWith('…'));
  });
});
