import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { DomainError } from '../errors.ts';
import type { EventEnvelope } from '../event-envelope.ts';
import { decodeMessage, type SnsNotification, snsToEnvelope } from './sns-event.ts';

const fixture = <T = Record<string, unknown>>(name: string): T =>
  JSON.parse(
    readFileSync(new URL(`../../../test/fixtures/ingest/${name}`, import.meta.url), 'utf8'),
  );

const sns = (name: string) => fixture<SnsNotification>(name);
/** The value at a dotted path (`state.value`, `metrics.0.id`), for asserting on JSON. */
const at = (v: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], v);

function refusal(msg: unknown): DomainError {
  try {
    snsToEnvelope(msg as SnsNotification);
  } catch (e) {
    assert.equal((e as DomainError).code, 'INVALID_INPUT');
    return e as DomainError;
  }
  return assert.fail('the notification was accepted');
}

describe('snsToEnvelope: CloudWatch alarms', () => {
  it('§8 37: an alarm in a JSON string becomes the envelope EventBridge sends for it', () => {
    const msg = sns('sns-alarm-metric-5xx.json');
    const e = snsToEnvelope(msg);
    assert.equal(e.id, msg.MessageId);
    assert.equal(e.source, 'aws.cloudwatch');
    assert.equal(e['detail-type'], 'CloudWatch Alarm State Change');
    assert.equal(e.account, '111122223333');
    assert.equal(e.region, 'eu-west-1', 'from the alarm ARN, not the display name "EU (Ireland)"');
    assert.equal(e.time, '2024-03-14T09:26:53Z');
    assert.deepEqual(e.resources, [
      'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:payments-api-5xx',
    ]);
    const d = e.detail;
    assert.equal(at(d, 'alarmName'), 'payments-api-5xx');
    assert.equal(at(d, 'state.value'), 'ALARM');
    assert.match(String(at(d, 'state.reason')), /^Threshold Crossed: 2 out of the last 3/);
    assert.equal(at(d, 'state.timestamp'), '2024-03-14T09:26:53.512+0000');
    assert.deepEqual(at(d, 'previousState'), { value: 'OK' });
    assert.deepEqual(at(d, 'configuration'), {
      description: 'Target 5xx responses on the payments API load balancer',
      metrics: [
        {
          id: 'm1',
          metricStat: {
            metric: {
              namespace: 'AWS/ApplicationELB',
              name: 'HTTPCode_Target_5XX_Count',
              dimensions: { LoadBalancer: 'app/payments-api/50dc6c495c0c9188' },
            },
            period: 60,
            stat: 'Sum',
          },
          returnData: true,
        },
      ],
      threshold: 25,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });
  });

  it('the same alarm via SNS and via EventBridge: the fields a route reads are equal', () => {
    const viaSns = snsToEnvelope(sns('sns-alarm-metric-5xx.json'));
    const viaEventBridge = fixture<EventEnvelope>('eventbridge-alarm-metric-5xx.json');
    const routed = (e: EventEnvelope) => {
      const d = e.detail;
      return {
        source: e.source,
        detailType: e['detail-type'],
        account: e.account,
        region: e.region,
        time: e.time,
        resources: e.resources,
        alarmName: at(d, 'alarmName'),
        state: at(d, 'state.value'),
        previousState: at(d, 'previousState.value'),
        stateTimestamp: at(d, 'state.timestamp'),
        description: at(d, 'configuration.description'),
        metricStat: at(d, 'configuration.metrics.0.metricStat'),
      };
    };
    assert.deepEqual(routed(viaSns), routed(viaEventBridge));
  });

  it('an anomaly detection alarm keeps its band expression and ThresholdMetricId', () => {
    const e = snsToEnvelope(sns('sns-alarm-anomaly-latency.json'));
    assert.equal(e.region, 'us-east-1');
    assert.deepEqual(e.resources, [
      'arn:aws:cloudwatch:us-east-1:111122223333:alarm:checkout p99 latency anomaly',
    ]);
    const c = at(e.detail, 'configuration');
    assert.equal(at(c, 'thresholdMetricId'), 'ad1');
    assert.equal(at(c, 'comparisonOperator'), 'GreaterThanUpperThreshold');
    assert.equal(at(c, 'threshold'), undefined);
    assert.deepEqual(at(c, 'metrics'), [
      {
        id: 'm1',
        metricStat: {
          metric: {
            namespace: 'Checkout',
            name: 'Latency',
            dimensions: { ServiceName: 'checkout-api', Environment: 'prod' },
          },
          period: 300,
          stat: 'p99',
        },
        returnData: true,
      },
      {
        id: 'ad1',
        expression: 'ANOMALY_DETECTION_BAND(m1, 2)',
        label: 'Latency (expected)',
        returnData: true,
      },
    ]);
  });

  it('a composite alarm keeps its rule, and its triggering children become reasonData', () => {
    const e = snsToEnvelope(sns('sns-alarm-composite.json'));
    const d = e.detail;
    assert.deepEqual(at(d, 'configuration'), {
      description: 'Checkout errors and latency together',
      alarmRule: 'ALARM("checkout p99 latency anomaly") AND ALARM(checkout-5xx)',
    });
    assert.deepEqual(JSON.parse(String(at(d, 'state.reasonData'))), {
      triggeringAlarms: [
        {
          arn: 'arn:aws:cloudwatch:us-east-1:111122223333:alarm:checkout p99 latency anomaly',
          state: { value: 'ALARM', timestamp: '2024-03-14T10:06:12.301+0000' },
        },
      ],
    });
  });

  it('takes region and account from the TopicArn when the message has none', () => {
    const e = snsToEnvelope({
      MessageId: 'b1d7c2e0-0000-5000-8000-000000000001',
      TopicArn: 'arn:aws:sns:eu-west-1:111122223333:payments-alarms',
      Timestamp: '2024-03-14T09:41:54.000Z',
      Message: JSON.stringify({
        AlarmName: 'payments-api-5xx',
        NewStateValue: 'OK',
        OldStateValue: 'ALARM',
        Region: 'EU (Ireland)',
        StateChangeTime: '2024-03-14T09:41:53.492+0000',
      }),
    });
    assert.equal(e.account, '111122223333');
    assert.equal(e.region, 'eu-west-1');
    assert.deepEqual(e.resources, [
      'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:payments-api-5xx',
    ]);
  });

  it('writes statistics as CloudWatch does, and reads the odd TreatMissingData text', () => {
    const trigger = {
      MetricName: 'Latency',
      Namespace: 'Checkout',
      StatisticType: 'ExtendedStatistic',
      ExtendedStatistic: 'p99',
      Dimensions: [{ Name: 'ServiceName', Value: 'checkout-api' }],
      Period: 60,
      TreatMissingData: '- TreatMissingData:                    missing',
    };
    const e = snsToEnvelope({
      MessageId: 'b1d7c2e0-0000-5000-8000-000000000002',
      TopicArn: 'arn:aws:sns:us-east-1:111122223333:checkout-alarms',
      Timestamp: '2024-03-14T10:00:00.000Z',
      Message: JSON.stringify({ AlarmName: 'p99', NewStateValue: 'ALARM', Trigger: trigger }),
    });
    const c = at(e.detail, 'configuration');
    assert.equal(at(c, 'metrics.0.metricStat.stat'), 'p99');
    assert.deepEqual(at(c, 'metrics.0.metricStat.metric.dimensions'), {
      ServiceName: 'checkout-api',
    });
    assert.equal(at(c, 'treatMissingData'), 'missing');
  });
});

describe('snsToEnvelope: other messages', () => {
  it('§8 37: a plain-text Message is kept as text', () => {
    const msg = sns('sns-text.json');
    const e = snsToEnvelope(msg);
    assert.deepEqual(e, {
      version: '0',
      id: msg.MessageId,
      'detail-type': 'SNS Notification',
      source: 'countersign.sns',
      account: '111122223333',
      time: '2024-03-14T02:15:00.042Z',
      region: 'eu-west-1',
      resources: ['arn:aws:sns:eu-west-1:111122223333:legacy-cron'],
      detail: {
        message: 'nightly-export exited with status 2\nsee /var/log/export.log',
        subject: 'nightly-export failed',
        attributes: { team: 'payments', retries: '3' },
      },
    });
  });

  it('§8 37: a JSON string holding a JSON string is unwrapped once', () => {
    const msg = sns('sns-alarm-metric-5xx.json');
    const twice = { ...msg, Message: JSON.stringify(msg.Message) };
    assert.deepEqual(snsToEnvelope(twice), snsToEnvelope(msg));
  });

  it('§8 37: an object Message (as the AWS Config guide documents it) is accepted', () => {
    const e = snsToEnvelope({
      MessageId: '11fd05dd-0000-5000-8000-000000000003',
      TopicArn: 'arn:aws:sns:us-east-2:111122223333:config-topic',
      Timestamp: '2024-03-14T10:00:00.100Z',
      Message: {
        awsAccountId: '111122223333',
        configRuleName: 's3-bucket-versioning-enabled',
        awsRegion: 'us-east-2',
        resourceType: 'AWS::S3::Bucket',
        resourceId: 'payments-exports',
        newEvaluationResult: { complianceType: 'NON_COMPLIANT' },
        notificationCreationTime: '2024-03-14T09:59:58.620Z',
        messageType: 'ComplianceChangeNotification',
        recordVersion: '1.0',
      },
    });
    assert.equal(e.source, 'aws.config');
    assert.equal(e['detail-type'], 'Config Rules Compliance Change');
    assert.equal(e.account, '111122223333');
    assert.equal(e.region, 'us-east-2');
    assert.equal(e.time, '2024-03-14T09:59:58Z');
    assert.equal(at(e.detail, 'configRuleName'), 's3-bucket-versioning-enabled');
  });

  it('an EventBridge event sent to SNS by a rule is used as is, with its own id', () => {
    const msg = sns('sns-eventbridge-event.json');
    const inner = JSON.parse(msg.Message as string);
    assert.deepEqual(snsToEnvelope(msg), inner);
  });

  it('a message shaped like an EventBridge event but not valid is kept as JSON, not lost', () => {
    const inner = {
      ...JSON.parse(sns('sns-eventbridge-event.json').Message as string),
      account: 'x',
    };
    const e = snsToEnvelope({
      ...sns('sns-eventbridge-event.json'),
      Message: JSON.stringify(inner),
    });
    assert.equal(e.source, 'countersign.sns');
    assert.deepEqual(e.detail, inner);
  });

  it('any other JSON object becomes the detail of a countersign.sns event', () => {
    const e = snsToEnvelope({
      MessageId: 'b1d7c2e0-0000-5000-8000-000000000004',
      TopicArn: 'arn:aws:sns:eu-west-1:111122223333:builds',
      Subject: 'build',
      Timestamp: '2024-03-14T10:00:00.000Z',
      Message: '{"build":"1842","result":"failed"}',
    });
    assert.equal(e.source, 'countersign.sns');
    assert.deepEqual(e.detail, { build: '1842', result: 'failed' });
  });

  it('JSON that is not an object, and broken JSON, stay text', () => {
    assert.equal(decodeMessage('42'), '42');
    assert.equal(decodeMessage('[1,2]'), '[1,2]');
    assert.equal(decodeMessage('{not json'), '{not json');
    assert.equal(decodeMessage('"just a string"'), '"just a string"');
  });

  it('§8 36: a Lambda-shaped record (SigningCertUrl) normalises like the HTTP one', () => {
    const http = sns('sns-alarm-metric-5xx.json') as unknown as Record<string, unknown>;
    const { SigningCertURL, UnsubscribeURL, ...rest } = http;
    const lambda = { ...rest, SigningCertUrl: SigningCertURL, UnsubscribeUrl: UnsubscribeURL };
    assert.deepEqual(
      snsToEnvelope(lambda as unknown as SnsNotification),
      snsToEnvelope(http as unknown as SnsNotification),
    );
  });

  it('§8 36: a notification missing a field is refused naming it, never a crash', () => {
    const msg = sns('sns-text.json') as unknown as Record<string, unknown>;
    const { MessageId: _, ...noId } = msg;
    assert.deepEqual(refusal(noId).details, { field: 'MessageId' });
    assert.deepEqual(refusal({ ...msg, Message: 42 }).details, { field: 'Message' });
    assert.deepEqual(refusal({ ...msg, Timestamp: 'soon' }).details, { field: 'Timestamp' });
    assert.deepEqual(refusal({ ...msg, MessageAttributes: 'x' }).details, {
      field: 'MessageAttributes',
    });
    assert.deepEqual(refusal(null).details, { field: '(body)' });
  });
});
