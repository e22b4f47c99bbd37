/**
 * Alerts: what an event says about a condition (its facts), and the alert Countersign keeps
 * per fingerprint across events (first/last seen, count, flapping). Pure types.
 */

/** Normalised state: CloudWatch ALARM/OK/INSUFFICIENT_DATA, Alertmanager firing/resolved. */
export type AlertState = 'firing' | 'resolved' | 'insufficient-data';

export interface AlertMetric {
  namespace?: string;
  name: string;
  dimensions?: Record<string, string>;
  statistic?: string;
  /** Seconds. */
  period?: number;
  threshold?: number;
  /** CloudWatch's ComparisonOperator, e.g. GreaterThanThreshold. */
  comparison?: string;
  /** The value that crossed the threshold, when the event says. */
  value?: number;
  /**
   * An anomaly detection alarm's expected band at the latest datapoint (same unit as
   * `value`). `threshold` is then the edge the value crossed; inside the band, the edge
   * the comparison watches (the upper one when it watches both).
   */
  band?: { lower: number; upper: number };
  unit?: string;
}

export interface AlertLink {
  label: string;
  url: string;
}

/** What one event says about one alert, as the sender reported it. Raw text, unescaped. */
export interface AlertFacts {
  /** Stable identity across events: CloudWatch alarm ARN; Alertmanager fingerprint. */
  fingerprint: string;
  state: AlertState;
  /** As the sender wrote it: "ALARM", "OK", "INSUFFICIENT_DATA", "firing", "resolved". */
  rawState: string;
  /** Alarm name or `alertname`. */
  title: string;
  description?: string;
  /** CloudWatch's stateReason, Alertmanager's summary annotation. */
  reason?: string;
  metric?: AlertMetric;
  /** When the alert entered this state, ms since epoch. */
  since: number;
  account?: string;
  region?: string;
  links: AlertLink[];
  /** A composite alarm whose actions are suppressed, or an alarm with actions disabled: it must not page. */
  actionsSuppressed: boolean;
  /** Severity the sender proposes (an Alertmanager `severity` label), if any. */
  severity?: string;
  /** Labels, dimensions and other key/values worth showing or grouping by. */
  labels: Record<string, string>;
  /** Alertmanager told us it left alerts out of this notification. */
  truncatedAlerts?: number;
}

/** The alert Countersign keeps per fingerprint, across the events that report it. */
export interface AlertRecord {
  fingerprint: string;
  state: AlertState;
  /** The route that claimed it, and what that route says. */
  route: string;
  team: string;
  service: string;
  environment: string;
  severity: string;
  /** Slack channel id its messages go to. */
  channel: string;
  runbooks: string[];
  /** The alert group it belongs to (route-defined keys over a window), and that group's id. */
  groupKey: string;
  groupId?: string;
  /** The latest event's facts. */
  facts: AlertFacts;
  /** ms since epoch. */
  firstSeen: number;
  lastSeen: number;
  /** Events that reported it (duplicates excluded). */
  count: number;
  /** Times of its recent state changes, oldest first, at most 10. */
  transitions: number[];
  flapping: boolean;
  /** Id of the silence that matched it, if one did. */
  silencedBy?: string;
}

/** One chat message: an alert group (one alert or several) updated in place. */
export interface AlertGroupView {
  groupKey: string;
  route: string;
  service: string;
  environment: string;
  severity: string;
  channel: string;
  runbooks: string[];
  /** The most recently changed alerts of the group, newest first (a few, not all). */
  alerts: AlertRecord[];
  /** Alerts in the group in all, and how many of them fire now. */
  total: number;
  firing: number;
  /** ms since epoch. */
  openedAt: number;
  updatedAt: number;
  /** Link to the full record in the console, when a public URL is configured. */
  recordUrl?: string;
}

/** When a channel is over its message budget, alerts collapse into one digest, updated in place. */
export interface DigestView {
  channel: string;
  /** ms since epoch: the digest covers alerts from `since` to `until`. */
  since: number;
  until: number;
  /** Alert events folded into the digest, and how many alerts fire now among them. */
  total: number;
  firing: number;
  /** Per service/environment/title, largest first (a few; the rest are counted in `others`). */
  rows: {
    service: string;
    environment: string;
    severity: string;
    title: string;
    count: number;
    firing: number;
  }[];
  others: number;
  recordUrl?: string;
}
