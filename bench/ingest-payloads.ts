/**
 * Request bodies of the ingest comparison, built from templates so the load generator
 * spends little CPU on them. Every alert is distinct (its own id, alarm name or `instance`
 * label), so each request is a new alert, never a duplicate of an earlier one.
 *
 * - Countersign, one alert per request: a CloudWatch "Alarm State Change" event as an
 *   EventBridge API destination POSTs it (account 222222222222, alarm `checkout-api-…`:
 *   the demo route `checkout-alarms`, channel C01ALERTS).
 * - Countersign, batched: an Alertmanager webhook (payload version 4) with labels
 *   service=checkout-api env=prod (the demo route `checkout-prometheus`).
 * - Alertmanager: the same alerts' labels POSTed to its own API, `/api/v2/alerts`.
 *
 * Alert names cycle over `GROUPS` values, so grouping by alert name gives at most that many
 * groups on both sides (as the reference run's 1,000 groups).
 */

export const INGEST_TOKEN = 'bench-ingest-token-0123456789';
export const ACCOUNT = '222222222222';
/** Aggregation groups the batched and memory loads spread over (alertname values). */
export const GROUPS = 1000;

/** Splits a JSON template at its `@@name@@` markers, for fast filling. */
function template(obj: unknown): (values: Record<string, string>) => string {
  const parts = JSON.stringify(obj).split(/@@(\w+)@@/);
  return (values) => {
    let out = parts[0]!;
    for (let i = 1; i < parts.length; i += 2) out += values[parts[i]!]! + parts[i + 1]!;
    return out;
  };
}

const reason =
  'Threshold Crossed: 2 out of the last 3 datapoints [31.0 (14/03/24 09:25:00), 27.0 (14/03/24 09:24:00)] were greater than or equal to the threshold (25.0) (minimum 2 datapoints for OK -> ALARM transition).';

const alarmEvent = template({
  version: '0',
  id: '@@id@@',
  'detail-type': 'CloudWatch Alarm State Change',
  source: 'aws.cloudwatch',
  account: ACCOUNT,
  time: '@@time@@',
  region: 'eu-west-1',
  resources: [`arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:@@name@@`],
  detail: {
    alarmName: '@@name@@',
    state: { value: 'ALARM', reason, timestamp: '@@time@@' },
    previousState: {
      value: 'OK',
      reason:
        'Threshold Crossed: 1 out of the last 3 datapoints was not greater than or equal to the threshold (25.0).',
      timestamp: '@@time@@',
    },
    configuration: {
      description: 'Target 5xx responses on the checkout-api load balancer',
      metrics: [
        {
          id: 'm1',
          metricStat: {
            metric: {
              namespace: 'AWS/ApplicationELB',
              name: 'HTTPCode_Target_5XX_Count',
              dimensions: { LoadBalancer: 'app/checkout-api/50dc6c495c0c9188' },
            },
            period: 60,
            stat: 'Sum',
          },
          returnData: true,
        },
      ],
    },
  },
});

/** One CloudWatch alarm state change (to ALARM) as EventBridge sends it; about 1.3 KB. */
export function alarmEventBody(id: string, alarmName: string): string {
  return alarmEvent({ id, name: alarmName, time: new Date().toISOString() });
}

const webhookAlert = template({
  status: 'firing',
  labels: {
    alertname: '@@name@@',
    service: 'checkout-api',
    env: 'prod',
    instance: '@@instance@@',
    severity: 'warning',
  },
  annotations: { summary: 'bench alert @@instance@@', description: 'synthetic load' },
  startsAt: '@@time@@',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://127.0.0.1/bench',
  fingerprint: '@@fingerprint@@',
});

/** An Alertmanager webhook (version 4) carrying alerts `first` … `first + n − 1`. */
export function webhookBody(tag: string, first: number, n: number): string {
  const time = new Date().toISOString();
  const alerts: string[] = [];
  for (let i = first; i < first + n; i++) {
    alerts.push(
      webhookAlert({
        name: `BenchAlert${i % GROUPS}`,
        instance: `${tag}-${i}`,
        time,
        fingerprint: `${tag}${i.toString(16).padStart(10, '0')}`,
      }),
    );
  }
  return (
    `{"version":"4","groupKey":"{}:{alertname=\\"bench\\"}","truncatedAlerts":0,"status":"firing",` +
    `"receiver":"countersign","groupLabels":{},"commonLabels":{"service":"checkout-api","env":"prod"},` +
    `"commonAnnotations":{},"externalURL":"http://127.0.0.1/bench","alerts":[${alerts.join(',')}]}`
  );
}

const apiAlert = template({
  labels: {
    alertname: '@@name@@',
    service: 'checkout-api',
    env: 'prod',
    instance: '@@instance@@',
    severity: 'warning',
  },
  annotations: { summary: 'bench alert @@instance@@', description: 'synthetic load' },
  startsAt: '@@time@@',
  endsAt: '@@ends@@',
  generatorURL: 'http://127.0.0.1/bench',
});

/**
 * Alerts `first` … `first + n − 1` for Alertmanager's `/api/v2/alerts`, the same labels as
 * `webhookBody`. `endsAt` one hour ahead, so nothing resolves during a run (without it
 * Alertmanager sets now + resolve_timeout).
 */
export function apiAlertsBody(tag: string, first: number, n: number, name?: string): string {
  const time = new Date().toISOString();
  const ends = new Date(Date.now() + 3_600_000).toISOString();
  const alerts: string[] = [];
  for (let i = first; i < first + n; i++) {
    alerts.push(
      apiAlert({ name: name ?? `BenchAlert${i % GROUPS}`, instance: `${tag}-${i}`, time, ends }),
    );
  }
  return `[${alerts.join(',')}]`;
}

const probeAlert = template({
  labels: { alertname: '@@name@@', service: 'probe', kind: 'probe', severity: 'critical' },
  annotations: { summary: 'latency probe' },
  startsAt: '@@time@@',
  endsAt: '@@ends@@',
});

/**
 * A latency probe for Alertmanager: one alert with a name of its own (so it opens a new
 * aggregation group) and `kind=probe`, which the bench config routes to its own receiver.
 */
export function apiProbeBody(name: string): string {
  const ends = new Date(Date.now() + 3_600_000).toISOString();
  return `[${probeAlert({ name, time: new Date().toISOString(), ends })}]`;
}
