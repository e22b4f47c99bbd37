/**
 * An SNS notification (already verified by the HTTP adapter) normalised to the EventBridge
 * envelope. What the `Message` holds decides the shape, so one route pattern matches an
 * event whichever way it arrived:
 *
 * - an EventBridge event (an SNS topic as the target of an EventBridge rule sends the
 *   event's JSON) → that event, as is, with its own id;
 * - a CloudWatch alarm notification → the envelope EventBridge sends for the same change:
 *   source `aws.cloudwatch`, detail-type `CloudWatch Alarm State Change`, detail in
 *   EventBridge's shape (see `cloudWatchAlarmDetail`);
 * - an AWS Config notification (compliance or configuration item change) → source
 *   `aws.config` with the detail-type EventBridge uses; the detail is the message, which
 *   is what EventBridge carries too;
 * - any other JSON object → source `countersign.sns`, detail = the object;
 * - text → source `countersign.sns`, detail `{ subject, message, attributes? }`.
 *
 * `Message` may be a string (what SNS sends), a string holding a JSON string (double
 * encoded; unwrapped once), or an object. The object form is what the AWS Config guide
 * documents; real deliveries carry a string. It is accepted here (§8 37): this module
 * normalises, and the HTTP adapter, which verifies signatures over the string form,
 * decides what it lets in.
 *
 * Dedupe id: the SNS `MessageId`, except for a wrapped EventBridge event, which keeps the
 * event's own id (so the same event via an API destination and via SNS is one event).
 * Account and region come from the message when it has them, else from the `TopicArn`.
 */
import { DomainError } from '../errors.ts';
import type { EventEnvelope } from '../event-envelope.ts';
import { SOURCES } from '../event-envelope.ts';
import {
  accountOrEmpty,
  arnParts,
  eventBridgeTime,
  isEventBridgeEvent,
  isoTime,
  isRecord,
  parseEventBridgeEvent,
  regionOrEmpty,
  timestampMs,
} from './eventbridge-event.ts';

/** The fields of an SNS notification this module reads (HTTP and Lambda shapes alike). */
export interface SnsNotification {
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string | Record<string, unknown>;
  Timestamp: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** detail-type of `countersign.sns` events (text or JSON that is neither alarm nor event). */
export const SNS_DETAIL_TYPE = 'SNS Notification';

/** AWS Config `messageType` → the detail-type EventBridge gives the same notification. */
const CONFIG_DETAIL_TYPES: Readonly<Record<string, string>> = {
  ComplianceChangeNotification: 'Config Rules Compliance Change',
  ConfigurationItemChangeNotification: 'Config Configuration Item Change',
};

/** Normalises one SNS notification. Throws DomainError INVALID_INPUT on a bad shape. */
export function snsToEnvelope(msg: SnsNotification): EventEnvelope {
  checkShape(msg);
  const topic = arnParts(msg.TopicArn);
  const fallback = {
    account: accountOrEmpty(topic?.account),
    region: regionOrEmpty(topic?.region),
    time: isoTime(msg.Timestamp) as string,
    partition: topic?.partition,
  };
  const message = decodeMessage(msg.Message);

  if (typeof message === 'string') return textEnvelope(msg, message, fallback);
  const event = isEventBridgeEvent(message) ? eventOrUndefined(message) : undefined;
  if (event) return event;
  if (isCloudWatchAlarmNotification(message)) {
    const alarm = cloudWatchAlarmDetail(message, fallback);
    return {
      version: '0',
      id: msg.MessageId,
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: alarm.account,
      time: alarm.time,
      region: alarm.region,
      resources: alarm.alarmArn ? [alarm.alarmArn] : [],
      detail: alarm.detail,
    };
  }
  const configType =
    typeof message.messageType === 'string' ? CONFIG_DETAIL_TYPES[message.messageType] : undefined;
  if (configType) return configEnvelope(msg.MessageId, configType, message, fallback);
  return {
    version: '0',
    id: msg.MessageId,
    'detail-type': SNS_DETAIL_TYPE,
    source: SOURCES.snsText,
    account: fallback.account,
    time: fallback.time,
    region: fallback.region,
    resources: [msg.TopicArn],
    detail: message,
  };
}

/** The wrapped EventBridge event, or undefined when it is not a valid one (then kept as JSON). */
function eventOrUndefined(message: Record<string, unknown>): EventEnvelope | undefined {
  try {
    return parseEventBridgeEvent(message);
  } catch {
    return undefined;
  }
}

/**
 * The message as text or as a JSON object. A string is parsed when it looks like JSON; a
 * JSON string that itself holds JSON is unwrapped once. Anything that does not end as an
 * object (text, a number, an array) is kept as the original text.
 */
export function decodeMessage(message: unknown): string | Record<string, unknown> {
  if (isRecord(message)) return message;
  if (typeof message !== 'string') return String(message);
  let value: unknown = message;
  for (let depth = 0; depth < 2 && typeof value === 'string'; depth++) {
    const text = value.trim();
    if (!(text.startsWith('{') || text.startsWith('"'))) break;
    try {
      value = JSON.parse(text);
    } catch {
      break;
    }
  }
  return isRecord(value) ? value : message;
}

function checkShape(msg: SnsNotification): void {
  const m = msg as unknown as Record<string, unknown>;
  if (!isRecord(m)) throw invalid('(body)', 'the notification must be a JSON object');
  for (const field of ['MessageId', 'TopicArn', 'Timestamp'] as const) {
    if (typeof m[field] !== 'string' || m[field] === '') {
      throw invalid(field, `${field} is required and must be a string`);
    }
  }
  if (timestampMs(m.Timestamp as string) === undefined) {
    throw invalid('Timestamp', 'Timestamp must be an ISO-8601 timestamp');
  }
  if (typeof m.Message !== 'string' && !isRecord(m.Message)) {
    throw invalid('Message', 'Message must be a string or a JSON object');
  }
  if (m.Subject !== undefined && m.Subject !== null && typeof m.Subject !== 'string') {
    throw invalid('Subject', 'Subject must be a string');
  }
  if (m.MessageAttributes !== undefined && !isRecord(m.MessageAttributes)) {
    throw invalid('MessageAttributes', 'MessageAttributes must be an object');
  }
}

const invalid = (field: string, problem: string) =>
  new DomainError('INVALID_INPUT', `SNS notification: ${problem}`, { field });

function textEnvelope(
  msg: SnsNotification,
  text: string,
  at: { account: string; region: string; time: string },
): EventEnvelope {
  const detail: Record<string, unknown> = { message: text };
  if (typeof msg.Subject === 'string') detail.subject = msg.Subject;
  const attributes = attributesOf(msg.MessageAttributes);
  if (attributes) detail.attributes = attributes;
  return {
    version: '0',
    id: msg.MessageId,
    'detail-type': SNS_DETAIL_TYPE,
    source: SOURCES.snsText,
    account: at.account,
    time: at.time,
    region: at.region,
    resources: [msg.TopicArn],
    detail,
  };
}

/** `{ name: value }` from SNS message attributes (String, Number and String.Array values). */
function attributesOf(
  attrs: SnsNotification['MessageAttributes'],
): Record<string, string> | undefined {
  if (!isRecord(attrs)) return undefined;
  const out: Record<string, string> = {};
  for (const [name, attr] of Object.entries(attrs)) {
    if (isRecord(attr) && typeof attr.Value === 'string' && attr.Type !== 'Binary') {
      out[name] = attr.Value;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function configEnvelope(
  id: string,
  detailType: string,
  message: Record<string, unknown>,
  at: { account: string; region: string; time: string },
): EventEnvelope {
  const created =
    typeof message.notificationCreationTime === 'string'
      ? timestampMs(message.notificationCreationTime)
      : undefined;
  const item = isRecord(message.configurationItem) ? message.configurationItem : {};
  return {
    version: '0',
    id,
    'detail-type': detailType,
    source: 'aws.config',
    account: accountOrEmpty(message.awsAccountId) || at.account,
    time: created === undefined ? at.time : eventBridgeTime(created),
    region: regionOrEmpty(message.awsRegion) || at.region,
    resources: typeof item.ARN === 'string' ? [item.ARN] : [],
    detail: message,
  };
}

// ── CloudWatch alarm notifications ────────────────────────────────────────────────────

/** True for the JSON CloudWatch publishes to an alarm's SNS topic. */
export function isCloudWatchAlarmNotification(m: Record<string, unknown>): boolean {
  return typeof m.AlarmName === 'string' && typeof m.NewStateValue === 'string';
}

/** SNS writes statistics in capitals; EventBridge and the API in CloudWatch's own case. */
const STATISTICS: Readonly<Record<string, string>> = {
  AVERAGE: 'Average',
  SUM: 'Sum',
  MINIMUM: 'Minimum',
  MAXIMUM: 'Maximum',
  SAMPLE_COUNT: 'SampleCount',
};

/**
 * The EventBridge `CloudWatch Alarm State Change` detail for an alarm's SNS notification:
 * `alarmName`, `state` {value, reason, reasonData?, timestamp}, `previousState` {value}
 * and `configuration` {description, metrics[], alarmRule?}. What SNS says and the state
 * change event does not (threshold, comparison, evaluation periods, missing-data
 * treatment, the anomaly band's id) goes into `configuration` under the names EventBridge
 * uses in its own `CloudWatch Alarm Configuration Change` event. A composite alarm's
 * `TriggeringChildren` become `reasonData` `{"triggeringAlarms":[…]}`, as EventBridge
 * writes it. SNS `Region` is a display name ("US East (N. Virginia)"), so the region is
 * taken from the alarm ARN, then from the topic ARN.
 */
export function cloudWatchAlarmDetail(
  m: Record<string, unknown>,
  at: { account: string; region: string; time: string; partition?: string },
): {
  account: string;
  region: string;
  time: string;
  alarmArn?: string;
  detail: Record<string, unknown>;
} {
  const given = typeof m.AlarmArn === 'string' && m.AlarmArn.startsWith('arn:') ? m.AlarmArn : '';
  const parts = arnParts(given);
  const account = accountOrEmpty(m.AWSAccountId) || accountOrEmpty(parts?.account) || at.account;
  const region = regionOrEmpty(parts?.region) || regionOrEmpty(m.Region) || at.region;
  const name = String(m.AlarmName);
  const built =
    account && region
      ? `arn:${at.partition || 'aws'}:cloudwatch:${region}:${account}:alarm:${name}`
      : undefined;
  const changedAt = typeof m.StateChangeTime === 'string' ? m.StateChangeTime : undefined;
  const changedMs = changedAt === undefined ? undefined : timestampMs(changedAt);

  const state: Record<string, unknown> = { value: m.NewStateValue };
  if (typeof m.NewStateReason === 'string') state.reason = m.NewStateReason;
  const reasonData = triggeringAlarmsOf(m.TriggeringChildren);
  if (reasonData) state.reasonData = reasonData;
  state.timestamp = changedAt ?? at.time;

  const detail: Record<string, unknown> = { alarmName: name, state };
  if (typeof m.OldStateValue === 'string') detail.previousState = { value: m.OldStateValue };
  detail.configuration = configurationOf(m);
  return {
    account,
    region,
    time: changedMs === undefined ? at.time : eventBridgeTime(changedMs),
    alarmArn: given || built,
    detail,
  };
}

function configurationOf(m: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (typeof m.AlarmDescription === 'string') config.description = m.AlarmDescription;
  if (typeof m.AlarmRule === 'string') config.alarmRule = m.AlarmRule;
  const t = isRecord(m.Trigger) ? m.Trigger : undefined;
  if (!t) return config;
  const metrics = metricsOf(t);
  if (metrics.length > 0) config.metrics = metrics;
  const numbers = { Threshold: 'threshold', EvaluationPeriods: 'evaluationPeriods' } as const;
  for (const [from, to] of Object.entries(numbers)) {
    if (typeof t[from] === 'number') config[to] = t[from];
  }
  if (typeof t.DatapointsToAlarm === 'number') config.datapointsToAlarm = t.DatapointsToAlarm;
  if (typeof t.ComparisonOperator === 'string') config.comparisonOperator = t.ComparisonOperator;
  if (typeof t.ThresholdMetricId === 'string') config.thresholdMetricId = t.ThresholdMetricId;
  if (typeof t.TreatMissingData === 'string') {
    // SNS writes e.g. "- TreatMissingData:                    missing": keep the value.
    const value = /([A-Za-z]+)\s*$/.exec(t.TreatMissingData)?.[1];
    if (value) config.treatMissingData = value;
  }
  return config;
}

/** `configuration.metrics[]` in EventBridge's shape, from `Trigger` (one metric or `Metrics`). */
function metricsOf(t: Record<string, unknown>): Record<string, unknown>[] {
  if (Array.isArray(t.Metrics)) {
    return t.Metrics.filter(isRecord).map((q) => {
      const out: Record<string, unknown> = { id: typeof q.Id === 'string' ? q.Id : '' };
      if (typeof q.Expression === 'string') out.expression = q.Expression;
      if (typeof q.Label === 'string') out.label = q.Label;
      if (isRecord(q.MetricStat)) out.metricStat = metricStatOf(q.MetricStat);
      if (typeof q.Period === 'number') out.period = q.Period;
      out.returnData = q.ReturnData !== false;
      return out;
    });
  }
  if (typeof t.MetricName !== 'string') return [];
  const extended =
    t.StatisticType === 'ExtendedStatistic' && typeof t.ExtendedStatistic === 'string';
  const stat = extended
    ? t.ExtendedStatistic
    : typeof t.Statistic === 'string'
      ? (STATISTICS[t.Statistic] ?? t.Statistic)
      : undefined;
  return [
    {
      id: 'm1',
      metricStat: metricStatOf({
        Metric: { Namespace: t.Namespace, MetricName: t.MetricName, Dimensions: t.Dimensions },
        Period: t.Period,
        Stat: stat,
        Unit: t.Unit,
      }),
      returnData: true,
    },
  ];
}

function metricStatOf(ms: Record<string, unknown>): Record<string, unknown> {
  const metric = isRecord(ms.Metric) ? ms.Metric : {};
  const out: Record<string, unknown> = {
    metric: {
      ...(typeof metric.Namespace === 'string' ? { namespace: metric.Namespace } : {}),
      name: typeof metric.MetricName === 'string' ? metric.MetricName : '',
      dimensions: dimensionsOf(metric.Dimensions),
    },
  };
  if (typeof ms.Period === 'number') out.period = ms.Period;
  if (typeof ms.Stat === 'string') out.stat = ms.Stat;
  if (typeof ms.Unit === 'string') out.unit = ms.Unit;
  return out;
}

/** `[{name, value}]` (SNS writes lower case; the API `Name`/`Value`) → `{ name: value }`. */
function dimensionsOf(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(list)) return out;
  for (const d of list) {
    if (!isRecord(d)) continue;
    const name = d.name ?? d.Name;
    const value = d.value ?? d.Value;
    if (typeof name === 'string' && typeof value === 'string') out[name] = value;
  }
  return out;
}

/** A composite alarm's `TriggeringChildren` as EventBridge's `reasonData` JSON string. */
function triggeringAlarmsOf(children: unknown): string | undefined {
  if (!Array.isArray(children) || children.length === 0) return undefined;
  const triggeringAlarms = children.filter(isRecord).map((c) => {
    const state = isRecord(c.State) ? c.State : {};
    return { arn: c.Arn, state: { value: state.Value, timestamp: state.Timestamp } };
  });
  return JSON.stringify({ triggeringAlarms });
}
