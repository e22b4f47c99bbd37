import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KnownBlock } from '@slack/types';
import type {
  AlertFacts,
  AlertGroupView,
  AlertMetric,
  AlertRecord,
  DigestView,
} from '../../domain/alert-model.ts';
import { alertGroupMessage, digestMessage } from './alert-blocks.ts';
import {
  assertInert,
  assertMessageWithinLimits,
  EVIL,
  HOSTILE,
  T0,
  textsOf,
  wellFormed,
} from './block-kit.test-kit.ts';

const MIN = 60_000;
const NOW = { now: T0 };
const RECORD = 'https://console.example/alerts/g-1';
const CONSOLE =
  'https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/Cpu';
const TOP = 'FIRING · critical · checkout-api / prod';

/** The published EventBridge sample "CloudWatch Alarm State Change" (metric alarm), normalised. */
const CPU: AlertMetric = {
  namespace: 'AWS/EC2',
  name: 'CPUUtilization',
  dimensions: { InstanceId: 'i-12345678901234567' },
  statistic: 'Average',
  period: 300,
  threshold: 50,
  comparison: 'GreaterThanThreshold',
  value: 99.50160229693434,
  unit: 'Percent',
};
const latency = (extra: Partial<AlertMetric> = {}): AlertMetric => ({
  name: 'Latency p99',
  statistic: 'Average',
  period: 60,
  threshold: 500,
  comparison: 'GreaterThanThreshold',
  value: 812,
  unit: 'Milliseconds',
  ...extra,
});

/** The published EventBridge samples of an anomaly-detection alarm and a suppressed composite. */
const ANOMALY: Partial<AlertFacts> = {
  title: 'EC2 CPU Utilization Anomaly',
  reason:
    'Thresholds Crossed: 1 out of the last 1 datapoints [0.0 (15/01/27 13:48:00)] was less than the lower thresholds [0.020599444741798756] or greater than the upper thresholds [0.3006915352732461]',
  metric: {
    ...CPU,
    ...{ period: 60, comparison: 'LessThanLowerOrGreaterThanUpperThreshold', value: 0 },
    ...{ threshold: 0.3006915352732461, unit: undefined },
    band: { lower: 0.020599444741798756, upper: 0.3006915352732461 },
  },
  since: T0 - 2 * MIN,
  region: 'eu-west-1',
};
const COMPOSITE: Partial<AlertFacts> = {
  title: 'ServiceAggregatedAlarm',
  reason:
    'arn:aws:cloudwatch:us-east-1:123456789012:alarm:SuppressionDemo.EventBridge.FirstChild transitioned to ALARM at Friday 15 January, 2027 13:45:00 UTC',
  metric: undefined,
  since: T0 - 5 * MIN,
  actionsSuppressed: true,
};

function facts(extra: Partial<AlertFacts> = {}): AlertFacts {
  return {
    fingerprint: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh',
    state: 'firing',
    rawState: 'ALARM',
    title: 'ServerCpuTooHigh',
    description: 'Goes into alarm when server CPU utilization is too high!',
    reason:
      'Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (15/01/27 13:37:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).',
    metric: CPU,
    since: T0 - 12 * MIN,
    account: '123456789012',
    region: 'us-east-1',
    links: [{ label: 'CloudWatch alarm', url: CONSOLE }],
    actionsSuppressed: false,
    labels: {},
    ...extra,
  };
}

function record(extra: Partial<AlertRecord> = {}, f: Partial<AlertFacts> = {}): AlertRecord {
  const fx = facts(f);
  return {
    fingerprint: fx.fingerprint,
    state: fx.state,
    route: 'payments-prod',
    team: 'payments',
    service: 'checkout-api',
    environment: 'prod',
    severity: 'critical',
    channel: 'C0ALERTS',
    runbooks: ['cpu-high'],
    groupKey: 'g-1',
    facts: fx,
    firstSeen: T0 - 40 * MIN,
    lastSeen: T0 - MIN,
    count: 3,
    transitions: [T0 - 12 * MIN],
    flapping: false,
    ...extra,
  };
}

function group(alerts: AlertRecord[], extra: Partial<AlertGroupView> = {}): AlertGroupView {
  return {
    groupKey: 'g-1',
    route: 'payments-prod',
    service: 'checkout-api',
    environment: 'prod',
    severity: 'critical',
    channel: 'C0ALERTS',
    runbooks: ['cpu-high'],
    alerts,
    total: alerts.length,
    firing: alerts.filter((a) => a.state === 'firing').length,
    openedAt: T0 - 40 * MIN,
    updatedAt: T0 - MIN,
    recordUrl: RECORD,
    ...extra,
  };
}

/** `a` with some facts (and record fields) changed. */
const change = (a: AlertRecord, f: Partial<AlertFacts>, r: Partial<AlertRecord> = {}) => ({
  ...a,
  ...r,
  facts: { ...a.facts, ...f },
});

const row = (service: string, severity: string, title: string, count: number, firing: number) => ({
  ...{ service, environment: 'prod', severity, title, count, firing },
});

const digest = (extra: Partial<DigestView> = {}): DigestView => ({
  channel: 'C0ALERTS',
  since: T0 - 20 * MIN,
  until: T0 - MIN,
  total: 240,
  firing: 31,
  rows: [
    row('checkout-api', 'critical', 'ServerCpuTooHigh', 120, 20),
    row('cart', 'warning', '5xx', 100, 11),
  ],
  others: 20,
  recordUrl: RECORD,
  ...extra,
});

type Msg = { text: string; blocks: KnownBlock[] };
const joined = (v: unknown): string =>
  textsOf(v)
    .map((t) => t.text)
    .join('\n');
const headerOf = (m: Msg): string => joined(m.blocks.find((b) => b.type === 'header'));
const firstSection = (m: Msg): string => joined(m.blocks.find((b) => b.type === 'section'));
const links = (m: Msg): string[] =>
  [...joined(m).matchAll(/<(https?:[^|>]*)\|/g)].map((x) => x[1] ?? '');
const single = (r: Partial<AlertRecord> = {}, f: Partial<AlertFacts> = {}, g = {}) =>
  alertGroupMessage(group([record(r, f)], g), NOW);

describe('alert group message: one alert', () => {
  it('shows state, severity, service/environment on top, then the threshold crossed, since when, where, links', () => {
    const m = single();
    assertMessageWithinLimits(m);
    assert.equal(headerOf(m), TOP);
    assert.equal(
      firstSection(m),
      [
        '*ServerCpuTooHigh*',
        '`CPUUtilization` 99.5% &gt; 50% threshold (Average over 5 min)',
        'since 13:38 UTC (12 min) · account 123456789012 · us-east-1',
        `<${CONSOLE}|CloudWatch alarm> · runbooks \`cpu-high\``,
      ].join('\n'),
    );
    const all = joined(m);
    assert.match(all, /Threshold Crossed: 1 out of the last 1 datapoints/);
    assert.match(all, /reported 3 times · first seen 13:10 UTC/);
    assert.match(all, /namespace=AWS\/EC2 · InstanceId=i-12345678901234567/);
    assert.ok(all.includes(`opened 13:10 UTC · updated 13:49 UTC · <${RECORD}|full record>`));
    const fallback = `${TOP}: ServerCpuTooHigh — CPUUtilization 99.5% &gt; 50% threshold`;
    assert.equal(m.text, fallback);
  });

  it('maps comparison operators to symbols and anomaly bands to words', () => {
    const cases: [string, string][] = [
      ['GreaterThanThreshold', '812 ms &gt; 500 ms threshold'],
      ['GreaterThanOrEqualToThreshold', '812 ms ≥ 500 ms threshold'],
      ['LessThanThreshold', '812 ms &lt; 500 ms threshold'],
      ['LessThanOrEqualToThreshold', '812 ms ≤ 500 ms threshold'],
      ['LessThanLowerOrGreaterThanUpperThreshold', '812 ms outside the expected band'],
      ['LessThanLowerThreshold', '812 ms below the expected band'],
      ['GreaterThanUpperThreshold', '812 ms above the expected band'],
      ['SomethingNew', '812 ms SomethingNew 500 ms threshold'],
    ];
    for (const [comparison, phrase] of cases) {
      const shown = firstSection(single({}, { metric: latency({ comparison }) }));
      assert.ok(shown.includes(`\`Latency p99\` ${phrase} (Average over 60 s)`), shown);
    }
    const metric = latency({ value: undefined, threshold: 1234.5, unit: 'Count/Second' });
    assert.ok(
      firstSection(single({}, { metric })).includes('`Latency p99` &gt; 1,234.5/s threshold'),
    );
  });

  it('renders a CloudWatch metric alarm, an anomaly-detection alarm and a suppressed composite alarm with the key facts on top', () => {
    const links = `<${CONSOLE}|CloudWatch alarm> · runbooks \`cpu-high\``;
    const expected: [Msg, string[]][] = [
      [
        single(),
        [
          '*ServerCpuTooHigh*',
          '`CPUUtilization` 99.5% &gt; 50% threshold (Average over 5 min)',
          'since 13:38 UTC (12 min) · account 123456789012 · us-east-1',
        ],
      ],
      [
        single({}, ANOMALY),
        [
          '*EC2 CPU Utilization Anomaly*',
          '`CPUUtilization` 0 outside the expected band 0.0206–0.301 (Average over 60 s)',
          'since 13:48 UTC (2 min) · account 123456789012 · eu-west-1',
        ],
      ],
      [
        single({ count: 1, firstSeen: T0 - 5 * MIN }, COMPOSITE),
        [
          '*ServiceAggregatedAlarm*',
          'actions suppressed — not paging',
          'since 13:45 UTC (5 min) · account 123456789012 · us-east-1',
        ],
      ],
    ];
    for (const [m, lines] of expected) {
      assertMessageWithinLimits(m);
      assert.equal(headerOf(m), TOP);
      assert.equal(firstSection(m), [...lines, links].join('\n'));
      assert.match(joined(m), /Threshold|transitioned to ALARM/, 'the reason follows');
    }
  });

  it('says RESOLVED and INSUFFICIENT DATA at the top, with when', () => {
    const resolved = single({ state: 'resolved' }, { state: 'resolved', since: T0 - 3 * MIN });
    assert.equal(headerOf(resolved), 'RESOLVED · critical · checkout-api / prod');
    assert.match(firstSection(resolved), /resolved 13:47 UTC \(3 min ago\)/);
    assert.match(resolved.text, /^RESOLVED/);
    const noData = single({ state: 'insufficient-data' }, { state: 'insufficient-data' });
    assert.equal(headerOf(noData), 'INSUFFICIENT DATA · critical · checkout-api / prod');
    assert.match(firstSection(noData), /no data since 13:38 UTC \(12 min\)/);
    const yesterday = single({}, { since: T0 - 26 * 60 * MIN });
    assert.match(firstSection(yesterday), /since 2027-01-14 11:50 UTC \(26 h\)/);
  });

  it('marks flapping, silenced and suppressed alerts, and §8 44 alerts Alertmanager left out', () => {
    const transitions = [0, 3, 6, 9, 12, 15].map((n) => T0 - 15 * MIN + n * MIN);
    const m = single(
      { flapping: true, transitions, silencedBy: 'SIL-7', count: 9 },
      { actionsSuppressed: true, truncatedAlerts: 12 },
    );
    assertMessageWithinLimits(m);
    assert.match(firstSection(m), /^\*ServerCpuTooHigh\*\nactions suppressed — not paging\n/);
    const markers = 'silenced by SIL-7 · flapping: 6 state changes in 15 min · reported 9 times';
    assert.ok(joined(m).includes(markers), joined(m));
    assert.match(joined(m), /⚠ Alertmanager left out 12 alerts from this notification/);
    assert.doesNotMatch(joined(single()), /left out/);
  });

  it('links only https URLs from facts.links; a URL with | or >, or not https, is no link', () => {
    const bad = [
      { label: 'plain http', url: 'http://bad.example/a' },
      { label: 'pipe', url: 'https://bad.example/a|Approve' },
      { label: 'angle', url: 'https://bad.example/a>b' },
      { label: 'script', url: 'javascript:alert(1)' },
      { label: '<!here> *runbook*', url: 'https://wiki.example/run' },
    ];
    const m = single({}, { links: bad });
    assertMessageWithinLimits(m);
    assert.deepEqual(links(m), ['https://wiki.example/run', RECORD]);
    assertInert(m, { urlPrefixes: ['https://wiki.example/run', RECORD] });
    const section = firstSection(m);
    for (const label of ['plain http', 'pipe', 'angle', 'script']) {
      assert.ok(section.includes(`${label} (unsafe link not shown)`), section);
    }
    assert.ok(section.includes('<https://wiki.example/run|&lt;!here&gt; ∗runbook∗>'));
    assert.ok(!joined(m).includes('bad.example'), 'an unsafe URL is not shown at all');
    assert.deepEqual(links(single({}, {}, { recordUrl: 'javascript:alert(1)' })), [CONSOLE]);
  });
});

describe('alert group message: several alerts', () => {
  const alerts = [
    record(),
    record(
      { state: 'resolved', silencedBy: 'SIL-1' },
      { title: 'DiskFull', state: 'resolved', since: T0 - 4 * MIN, metric: undefined },
    ),
    record({ flapping: true }, { title: 'HighLatency', metric: latency({ statistic: undefined }) }),
  ];

  it('summarises "N alerts, M firing", lists the alerts compactly and counts the rest', () => {
    const m = alertGroupMessage(group(alerts, { total: 5, firing: 3 }), NOW);
    assertMessageWithinLimits(m);
    assert.equal(headerOf(m), TOP);
    assert.equal(
      firstSection(m),
      [
        '*5 alerts, 3 firing* · account 123456789012 · us-east-1',
        'runbooks `cpu-high`',
        '• FIRING *ServerCpuTooHigh* — `CPUUtilization` 99.5% &gt; 50% threshold · since 13:38 UTC (12 min)',
        '• RESOLVED *DiskFull* · resolved 13:46 UTC (4 min ago) · silenced',
        '• FIRING *HighLatency* — `Latency p99` 812 ms &gt; 500 ms threshold · since 13:38 UTC (12 min) · flapping',
        'and 2 more',
      ].join('\n'),
    );
    assert.match(joined(m), /1 silenced · 1 flapping/);
    assert.equal(m.text, `${TOP}: 5 alerts, 3 firing`);
  });

  it('says so at the top when every alert is resolved', () => {
    const done = alerts.map((a) => change(a, { state: 'resolved' }, { state: 'resolved' }));
    const m = alertGroupMessage(group(done), NOW);
    assert.equal(headerOf(m), 'RESOLVED · critical · checkout-api / prod');
    assert.match(firstSection(m), /^\*All 3 alerts resolved\*/);
    assert.match(m.text, /^RESOLVED .*All 3 alerts resolved$/);
  });

  it('§8 44 warns when Alertmanager left alerts out of a notification', () => {
    const cut = alerts.map((a) => change(a, { truncatedAlerts: 40 }));
    const m = alertGroupMessage(group(cut), NOW);
    assert.match(joined(m), /Alertmanager left out 40 alerts from this notification/);
  });
});

describe('alert views: hostile text (§8.46–49)', () => {
  const OK_URL = 'https://console.example/ok';
  const ALLOWED = { urlPrefixes: [OK_URL, RECORD] };
  /** Every field an alert, a route or a label can fill holds `text`. */
  const hostileGroup = (text: string, n = 1): AlertGroupView => {
    const metric = { ...CPU, namespace: text, name: text, dimensions: { [text]: text } };
    const f: Partial<AlertFacts> = {
      ...{ title: text, rawState: text, description: text, reason: text, account: text },
      ...{ region: text, severity: text, labels: { [text]: text, alertname: text } },
      metric: { ...metric, statistic: text, comparison: text, unit: text },
      links: [
        { label: text, url: OK_URL },
        { label: text, url: text },
      ],
    };
    const alerts = Array.from({ length: n }, () =>
      record({ silencedBy: text, runbooks: [text] }, f),
    );
    const where = { service: text, environment: text, severity: text, route: text };
    return group(alerts, { ...where, runbooks: [text, text] });
  };
  const render = (text: string, n = 1): Msg => {
    const m = alertGroupMessage(hostileGroup(text, n), NOW);
    assertMessageWithinLimits(m);
    assertInert(m, ALLOWED);
    return m;
  };

  it('§8 46: <!channel> in an alarm name pings nobody (nor <!here>, <!everyone>, <@U…>, <!subteam^…>, <#C…>)', () => {
    const mentions = HOSTILE.slice(0, 6);
    assert.deepEqual(mentions.at(-1), '<#C123>');
    for (const mention of mentions) {
      for (const m of [render(mention), render(mention, 3)]) {
        assert.ok(!m.text.includes('<'), m.text);
        assert.ok(firstSection(m).includes(`&lt;${mention.slice(1, -1)}&gt;`), firstSection(m));
      }
    }
  });

  it('§8 47: a disguised link <https://evil|Approve> is no link and markup is inert', () => {
    for (const s of [...HOSTILE.slice(6, 12), '*bold* _it_ ~s~ `code`']) {
      const m = render(s);
      assert.ok(!links(m).some((u) => u.includes('evil')));
      assert.ok(!joined(m).includes('<https://evil'));
    }
  });

  it('§8 48: RTL override, zero-width, lone surrogates, NUL and 4-byte emoji display safely and cut whole', () => {
    const tricks = ['invoice\u202Eexe.txt', 'ad\u200Bmin\u2060', 'x\u200Dy', 'lone \uD800 \uDC00'];
    for (const s of [...tricks, 'nul\u0000byte', '😀'.repeat(400), 'שלום 123']) {
      for (const t of textsOf(render(s))) assert.ok(wellFormed(t.text) && !t.text.includes('\0'));
    }
    assert.ok(firstSection(render('invoice\u202Eexe.txt')).includes('invoice[U+202E]exe.txt'));
    assert.match(firstSection(single({}, { title: `x${'😀'.repeat(400)}` })), /^\*x(😀)+…\*/u);
  });

  it('§8 49: over-long text and many alerts are cut to Block Kit limits with an indicator', () => {
    const long = 'A'.repeat(20_000);
    assert.match(joined(render(long)), /text cut: see the full record/);
    // Escaping lengthens `&<>` fivefold; every piece is bounded after escaping.
    const entities = render('&<>'.repeat(7000));
    assert.ok(firstSection(entities).length < 3000, 'not cut by the section limit');
    assert.match(firstSection(entities), /<https:\/\/console\.example\/ok\|[^<>]+…>/);
    const many = render(`${EVIL} ${long}`, 500);
    const lines = firstSection(many).split('\n');
    const shown = lines.filter((l) => l.startsWith('• ')).length;
    assert.ok(shown >= 1 && shown < 500);
    assert.equal(lines.at(-1), `and ${500 - shown} more`);
    const rows = Array.from({ length: 500 }, () => row(long, long, long, 2, 1));
    const d = digestMessage(digest({ rows, others: 0 }), NOW);
    assertMessageWithinLimits(d);
    assert.match(firstSection(d), /\nand [\d,]+ more$/);
  });

  it('every hostile string in every field of a group and a digest renders inert, and the views are not changed', () => {
    for (const n of [1, 4]) {
      const v = hostileGroup(EVIL, n);
      const before = structuredClone(v);
      const m = alertGroupMessage(v, NOW);
      assert.deepEqual(v, before);
      assertMessageWithinLimits(m);
      assertInert(m, ALLOWED);
    }
    const rows = HOSTILE.map((s) => ({ ...row(s, s, s, 1, 1), environment: s }));
    const d = digestMessage(digest({ rows }), NOW);
    assertMessageWithinLimits(d);
    assertInert(d, { urlPrefixes: [RECORD] });
  });
});

describe('digest message', () => {
  it('says "Alert storm in this channel", lists rows with counts, counts the rest, links the record', () => {
    const m = digestMessage(digest(), NOW);
    assertMessageWithinLimits(m);
    const head = 'Alert storm in this channel: 240 alerts since 13:30 UTC (31 firing)';
    assert.equal(headerOf(m), head);
    assert.equal(
      firstSection(m),
      [
        '• *checkout-api / prod* · critical · ServerCpuTooHigh — 120 alerts, 20 firing',
        '• *cart / prod* · warning · 5xx — 100 alerts, 11 firing',
        'and 20 more',
      ].join('\n'),
    );
    assert.ok(joined(m).includes(`latest 13:49 UTC · <${RECORD}|full record>`));
    assert.equal(m.text, head);
  });

  it('renders the same view the same way (updated in place), and says when none fire', () => {
    assert.deepEqual(digestMessage(digest(), NOW), digestMessage(digest(), NOW));
    const quiet = { firing: 0, rows: [], others: 0, recordUrl: undefined };
    const calm = digestMessage(digest(quiet), NOW);
    assertMessageWithinLimits(calm);
    assert.match(headerOf(calm), /\(none firing\)$/);
    assert.equal(links(calm).length, 0);
  });
});
