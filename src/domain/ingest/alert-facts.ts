/**
 * What an ingested event says about an alert (its `AlertFacts`), read from the normalised
 * envelope: CloudWatch alarm state changes (metric, metric math, anomaly detection and
 * composite alarms; via EventBridge or SNS, which produce the same envelope), Alertmanager
 * alerts and generic alerts. Every other event (ECS, CodeDeploy, Config, CloudTrail, Step
 * Functions status changes, alarm configuration changes …) is stored and routed but is not
 * an alert: `alertFactsOf` returns undefined for it (§8 45).
 *
 * The detail is read defensively: any sender holding the ingest token can write any
 * detail, so a field of the wrong type is treated as absent, never trusted or thrown on.
 * Pure.
 */
import type { AlertFacts, AlertLink, AlertMetric, AlertState } from '../alert-model.ts';
import type { EventEnvelope } from '../event-envelope.ts';
import { SOURCES } from '../event-envelope.ts';
import { ALERTMANAGER_DETAIL_TYPE } from './alertmanager-event.ts';
import { isRecord, REGION_PATTERN, timestampMs } from './eventbridge-event.ts';
import { GENERIC_DETAIL_TYPE, isWebUrl } from './generic-event.ts';

export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

/** The alert facts of an alert event, or undefined for any other event. */
export function alertFactsOf(e: EventEnvelope): AlertFacts | undefined {
  const type = e['detail-type'];
  if (e.source === 'aws.cloudwatch' && type === ALARM_STATE_CHANGE) return cloudWatchFacts(e);
  if (e.source === SOURCES.alertmanager && type === ALERTMANAGER_DETAIL_TYPE) {
    return alertmanagerFacts(e);
  }
  if (e.source === SOURCES.generic && type === GENERIC_DETAIL_TYPE) return genericFacts(e);
  return undefined;
}

// ── small readers ─────────────────────────────────────────────────────────────────────

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const rec = (v: unknown): Record<string, unknown> | undefined => (isRecord(v) ? v : undefined);
const lastNumber = (v: unknown): number | undefined =>
  Array.isArray(v) ? num(v[v.length - 1]) : undefined;

/** The string-valued entries of an object. */
function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** The object without its undefined fields (so facts compare and print cleanly). */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const timeMs = (e: EventEnvelope, ...candidates: unknown[]): number => {
  for (const c of candidates) {
    const ms = typeof c === 'string' ? timestampMs(c) : undefined;
    if (ms !== undefined) return ms;
  }
  return timestampMs(e.time) ?? 0;
};

// ── CloudWatch ────────────────────────────────────────────────────────────────────────

const CLOUDWATCH_STATES: Readonly<Record<string, AlertState>> = {
  ALARM: 'firing',
  OK: 'resolved',
  INSUFFICIENT_DATA: 'insufficient-data',
};

function cloudWatchFacts(e: EventEnvelope): AlertFacts | undefined {
  const d = e.detail;
  const name = str(d.alarmName);
  const state = rec(d.state);
  const rawState = str(state?.value);
  const normalised = rawState === undefined ? undefined : CLOUDWATCH_STATES[rawState];
  if (!name || !state || !rawState || !normalised) return undefined;
  const config = rec(d.configuration) ?? {};
  const reason = str(state.reason);
  const metric = metricOf(config, reasonDataOf(state.reasonData), reason);
  const fingerprint =
    e.resources.find((r) => /^arn:[^:]+:cloudwatch:[^:]*:[^:]*:alarm:/.test(r)) ??
    `arn:aws:cloudwatch:${e.region}:${e.account}:alarm:${name}`;
  const link = consoleLink(e.region, name);
  return compact<AlertFacts>({
    fingerprint,
    state: normalised,
    rawState,
    title: name,
    description: str(config.description),
    reason,
    metric,
    since: timeMs(e, state.timestamp),
    account: e.account || undefined,
    region: e.region || undefined,
    links: link ? [{ label: 'CloudWatch alarm', url: link }] : [],
    actionsSuppressed:
      str(state.actionsSuppressedBy) !== undefined || config.actionsEnabled === false,
    labels: { ...(metric?.dimensions ?? {}) },
  });
}

/** `state.reasonData`: a JSON string in EventBridge events (an object is accepted too). */
function reasonDataOf(v: unknown): Record<string, unknown> | undefined {
  if (isRecord(v)) return v;
  if (typeof v !== 'string') return undefined;
  try {
    return rec(JSON.parse(v));
  } catch {
    return undefined;
  }
}

const isBand = (q: Record<string, unknown>) =>
  /^\s*ANOMALY_DETECTION_BAND\s*\(/i.test(str(q.expression) ?? '');

/**
 * The alarmed metric: the first returned query that is not an anomaly band (a metric
 * alarm's one metric, a metric math alarm's expression, an anomaly alarm's metric).
 * Period and statistic come from its `metricStat`, else `reasonData`; the threshold from
 * `configuration.threshold` (SNS-normalised events), else `reasonData.threshold`, else the
 * anomaly band; the comparison from `configuration.comparisonOperator`, else the reason
 * text (EventBridge's state change event does not carry it). Undefined for composites.
 */
function metricOf(
  config: Record<string, unknown>,
  reasonData: Record<string, unknown> | undefined,
  reason: string | undefined,
): AlertMetric | undefined {
  const queries = (Array.isArray(config.metrics) ? config.metrics : []).filter(isRecord);
  const bandId = str(config.thresholdMetricId) ?? str(queries.find(isBand)?.id);
  const others = queries.filter((q) => q.id !== bandId || bandId === undefined);
  const primary = others.find((q) => q.returnData !== false) ?? others[0];
  if (!primary) return undefined;
  const stat = rec(primary.metricStat);
  const inputs = others
    .filter((q) => q !== primary)
    .flatMap((q) => (isRecord(q.metricStat) ? [q.metricStat] : []));
  const metric: AlertMetric = stat ? metricStatFacts(stat) : mathFacts(primary, inputs);
  metric.period ??= num(reasonData?.period);
  metric.statistic ??= str(reasonData?.statistic);
  metric.threshold = num(config.threshold) ?? num(reasonData?.threshold);
  metric.comparison = str(config.comparisonOperator) ?? comparisonFromReason(reason);
  metric.value = lastNumber(reasonData?.recentDatapoints);
  const lower = lastNumber(reasonData?.recentLowerThresholds);
  const upper = lastNumber(reasonData?.recentUpperThresholds);
  if (lower !== undefined && upper !== undefined) {
    metric.band = { lower, upper };
    const v = metric.value;
    const below = v !== undefined ? v < lower : metric.comparison === 'LessThanLowerThreshold';
    metric.threshold ??= below ? lower : upper;
  }
  return compact(metric);
}

function metricStatFacts(stat: Record<string, unknown>): AlertMetric {
  const m = rec(stat.metric) ?? {};
  const dimensions = stringMap(m.dimensions);
  return {
    namespace: str(m.namespace),
    name: str(m.name) ?? '',
    dimensions: Object.keys(dimensions).length > 0 ? dimensions : undefined,
    statistic: str(stat.stat),
    period: num(stat.period),
    unit: str(stat.unit),
  };
}

/** A math expression: named by its label; namespace and dimensions its inputs share. */
function mathFacts(
  expression: Record<string, unknown>,
  inputs: Record<string, unknown>[],
): AlertMetric {
  const facts = inputs.map(metricStatFacts);
  const namespaces = new Set(facts.map((f) => f.namespace));
  const shared: Record<string, string> = { ...(facts[0]?.dimensions ?? {}) };
  for (const f of facts.slice(1)) {
    for (const [k, v] of Object.entries(shared)) if (f.dimensions?.[k] !== v) delete shared[k];
  }
  return {
    namespace: namespaces.size === 1 ? [...namespaces][0] : undefined,
    name: str(expression.label) ?? str(expression.expression) ?? str(expression.id) ?? '',
    dimensions: Object.keys(shared).length > 0 ? shared : undefined,
    period: num(expression.period) ?? facts[0]?.period,
  };
}

/** CloudWatch's ComparisonOperator from its own reason sentence, when it can be read. */
export function comparisonFromReason(reason: string | undefined): string | undefined {
  if (!reason) return undefined;
  const lower = /less than the lower thresholds?/i.test(reason);
  const upper = /greater than the upper thresholds?/i.test(reason);
  if (lower && upper) return 'LessThanLowerOrGreaterThanUpperThreshold';
  if (upper) return 'GreaterThanUpperThreshold';
  if (lower) return 'LessThanLowerThreshold';
  const m = /\b(greater|less) than (or equal to )?the threshold/i.exec(reason);
  if (!m) return undefined;
  const side = m[1]?.toLowerCase() === 'greater' ? 'Greater' : 'Less';
  return `${side}Than${m[2] ? 'OrEqualTo' : ''}Threshold`;
}

/** The alarm in the CloudWatch console, for a region code (other text gives no link). */
export function consoleLink(region: string, alarmName: string): string | undefined {
  if (!REGION_PATTERN.test(region)) return undefined;
  const host = region.startsWith('cn-')
    ? 'console.amazonaws.cn'
    : region.startsWith('us-gov-')
      ? 'console.amazonaws-us-gov.com'
      : `${region}.console.aws.amazon.com`;
  const name = encodeURIComponent(alarmName);
  return `https://${host}/cloudwatch/home?region=${region}#alarmsV2:alarm/${name}`;
}

// ── Alertmanager and generic ──────────────────────────────────────────────────────────

function alertmanagerFacts(e: EventEnvelope): AlertFacts | undefined {
  const d = e.detail;
  const status = str(d.status);
  const fingerprint = str(d.fingerprint);
  if ((status !== 'firing' && status !== 'resolved') || !fingerprint) return undefined;
  const labels = stringMap(d.labels);
  const annotations = stringMap(d.annotations);
  const links = webLinks([
    ['Source', d.generatorURL],
    ['Runbook', annotations.runbook_url ?? annotations.runbook],
    ['Dashboard', annotations.dashboard_url ?? annotations.dashboard],
    ['Alertmanager', d.externalURL],
  ]);
  const truncated = num(d.truncatedAlerts);
  return compact<AlertFacts>({
    fingerprint: `alertmanager:${fingerprint}`,
    state: status,
    rawState: status,
    title: labels.alertname ?? annotations.summary ?? 'Alertmanager alert',
    description: annotations.description,
    reason: annotations.summary ?? annotations.message,
    since: status === 'resolved' ? timeMs(e, d.endsAt, d.startsAt) : timeMs(e, d.startsAt),
    account: e.account || undefined,
    region: e.region || undefined,
    links,
    actionsSuppressed: false,
    severity: labels.severity,
    labels,
    truncatedAlerts: truncated !== undefined && truncated > 0 ? truncated : undefined,
  });
}

function genericFacts(e: EventEnvelope): AlertFacts | undefined {
  const d = e.detail;
  const state = str(d.state);
  const title = str(d.title);
  const fingerprint = str(d.fingerprint);
  if ((state !== 'firing' && state !== 'resolved') || !title || !fingerprint) return undefined;
  const labels = stringMap(d.labels);
  for (const key of ['service', 'environment', 'source'] as const) {
    const v = str(d[key]);
    if (v !== undefined && labels[key] === undefined) labels[key] = v;
  }
  const given = Array.isArray(d.links) ? d.links.filter(isRecord) : [];
  return compact<AlertFacts>({
    fingerprint: `generic:${fingerprint}`,
    state,
    rawState: state,
    title,
    description: str(d.description),
    since: timeMs(e),
    account: e.account || undefined,
    region: e.region || undefined,
    links: webLinks(given.map((l) => [str(l.label) ?? 'Link', l.url])),
    actionsSuppressed: false,
    severity: str(d.severity),
    labels,
  });
}

/** The pairs whose URL is an http(s) URL with a host, as links. */
function webLinks(pairs: [string, unknown][]): AlertLink[] {
  return pairs
    .filter((p): p is [string, string] => typeof p[1] === 'string' && isWebUrl(p[1]))
    .map(([label, url]) => ({ label, url }));
}

// ── one-line summaries ────────────────────────────────────────────────────────────────

/** Detail fields that name what an event is about, and what state it reports, in order. */
const SUBJECT_KEYS = ['alarmName', 'name', 'eventName', 'eventTypeCode', 'configRuleName'];
const STATE_KEYS = ['status', 'state', 'lastStatus', 'eventType', 'operation'];

/**
 * One plain line for logs and audit, for any event: source, detail-type, what it is about,
 * its state, where, replay and id. Control, line-separator and bidi characters are
 * escaped (an alarm name cannot forge a log line, §8 50); at most 400 characters.
 */
export function eventSummary(e: EventEnvelope): string {
  const parts = [e.source, JSON.stringify(e['detail-type'])];
  const facts = alertFactsOf(e);
  if (facts) {
    const previous = str(rec(e.detail.previousState)?.value);
    parts.push(
      JSON.stringify(facts.title),
      previous ? `${previous} -> ${facts.rawState}` : facts.rawState,
    );
    if (facts.metric?.value !== undefined) parts.push(`value=${facts.metric.value}`);
    if (facts.actionsSuppressed) parts.push('actions-suppressed');
    if (facts.truncatedAlerts) parts.push(`truncated=${facts.truncatedAlerts}`);
  } else {
    const d = e.detail;
    const subject =
      SUBJECT_KEYS.map((k) => str(d[k])).find(Boolean) ??
      str(d.subject) ??
      (typeof d.message === 'string' ? d.message.slice(0, 80) : undefined) ??
      e.resources[0];
    const state = STATE_KEYS.map((k) => str(d[k])).find(Boolean);
    if (subject) parts.push(JSON.stringify(subject));
    if (state) parts.push(state);
  }
  if (e.account) parts.push(`account=${e.account}`);
  if (e.region) parts.push(`region=${e.region}`);
  if (e['replay-name']) parts.push(`replay=${JSON.stringify(e['replay-name'])}`);
  parts.push(`id=${e.id}`);
  return oneLine(parts.join(' '), 400);
}

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function oneLine(text: string, max: number): string {
  const safe = text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}
