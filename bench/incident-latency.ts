/**
 * Alert → action (issue 5): at a steady 100 incidents a minute, how long from an alarm's
 * receipt to (a) the incident header's outbound chat request and (b) the pre-approved first
 * mitigation's execution start. Each alarm is a new CloudWatch 5xx alarm of checkout-api in
 * prod, so the demo's `checkout-5xx` route opens an incident for it and the
 * `checkout-5xx-restart` rule runs `restart` at once.
 *
 * Receipt is the event's `received_at` as the server stored it; the header's request is
 * stamped by the fake Slack Web API (bench/ingest-receivers.ts) when its body arrives; the
 * execution start is the request's `execution.started` audit entry. All three come from
 * this machine's one clock. Embedded SQLite store, Slack on, the demo catalog plus one copy
 * of its 5xx incident route and restart rule per alarm (a route's second alarm would join
 * its open incident, as a storm does), spread over `CHANNELS` channels: Slack takes about
 * one message a second per channel, so 100 incidents a minute in one channel would measure
 * Slack's pace, not ours.
 *
 *   npx tsx bench/incident-latency.ts [--minutes 1] [--per-minute 100]
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { parse, stringify } from 'yaml';
import { SQLITE_FILE } from '../src/adapters/store/open-store.ts';
import { alarmEventBody, INGEST_TOKEN } from './ingest-payloads.ts';
import { startReceivers } from './ingest-receivers.ts';
import { startCountersign } from './ingest-systems.ts';
import { isMain, median, ms, percentile, type Row, sleep, sqliteTarget } from './lib.ts';

const DEMO = resolve(import.meta.dirname, '../examples/demo');
/** Channels the incidents are spread over (10 a minute each at the default rate). */
const CHANNELS = 10;

/** The demo catalog with a 5xx incident route and restart rule for each alarm name. */
function benchCatalog(names: readonly string[]): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-incidents-'));
  cpSync(DEMO, dir, { recursive: true });
  const nn = (c: number) => String(c).padStart(2, '0');
  const routesFile = join(dir, 'routes.yaml');
  const routes = parse(readFileSync(routesFile, 'utf8')) as { routes: object[] };
  const bench = names.map((name, i) => ({
    id: `bench-5xx-${i}`,
    team: 'payments',
    pattern: {
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: [name] },
    },
    service: 'checkout-api',
    environment: 'from-account',
    severity: 'sev2',
    channel: `CPROBE${nn(i % CHANNELS)}`,
    runbooks: ['high-error-rate'],
    incident: true,
  }));
  routes.routes = [...bench, ...routes.routes];
  writeFileSync(routesFile, stringify(routes));
  const incidentsFile = join(dir, 'incidents.yaml');
  const incidents = parse(readFileSync(incidentsFile, 'utf8')) as { mitigations: object[] };
  incidents.mitigations.push(
    ...bench.map((r) => ({
      id: `${r.id}-restart`,
      team: 'payments',
      route: r.id,
      service: 'checkout-api',
      environments: ['*'],
      command: 'restart',
      params: {},
    })),
  );
  writeFileSync(incidentsFile, stringify(incidents));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface IncidentLatency {
  incidents: number;
  toHeader: number[];
  toMitigation: number[];
  missingHeaders: number;
  missingMitigations: number;
}

export async function measureIncidentLatency(
  o: { minutes: number; perMinute: number } = { minutes: 1, perMinute: 100 },
): Promise<IncidentLatency> {
  const place = await sqliteTarget().fresh();
  const receivers = await startReceivers();
  const n = Math.round(o.minutes * o.perMinute);
  const gapMs = 60_000 / o.perMinute;
  const names = Array.from(
    { length: n },
    (_, i) => `checkout-api-5xx-bench-probe-${String(i % CHANNELS).padStart(2, '0')}-${i}`,
  );
  const catalog = benchCatalog(names);
  const cs = await startCountersign(place, {
    configDir: catalog.dir,
    slackApiUrl: `${receivers.url}/api/`,
  });
  try {
    const began = performance.now();
    for (const [i, name] of names.entries()) {
      const due = began + i * gapMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const res = await fetch(`http://127.0.0.1:${cs.port}/hooks/eventbridge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
        body: alarmEventBody(`incident-bench-${i}`, name),
      });
      if (res.status !== 200) throw new Error(`alarm ${i}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    // Let the last incidents open and their mitigations start.
    const deadline = Date.now() + 30_000;
    const headers = async () =>
      Object.keys((await receivers.stats()).probes).filter((k) => k.endsWith(':incident')).length;
    while (Date.now() < deadline && (started(place.dataDir) < n || (await headers()) < n)) {
      await sleep(200);
    }
    const stats = await receivers.stats();
    if (process.env.BENCH_DEBUG) console.log(stats.calls);
    return measure(place.dataDir, names, (probe) => stats.probes[`${probe}:incident`]?.at);
  } finally {
    await cs.stop();
    await receivers.stop();
    await place.cleanup();
    catalog.cleanup();
  }
}

function started(dataDir: string): number {
  const db = new Sqlite(join(dataDir, SQLITE_FILE), { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare(
        `select count(*) as n from audit_log where action = 'execution.started' and actor = 'system'
           and target in (select json_extract(doc, '$.mitigation.requestId') from incidents)`,
      )
      .get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

function measure(
  dataDir: string,
  names: readonly string[],
  headerAt: (probe: string) => number | undefined,
): IncidentLatency {
  const db = new Sqlite(join(dataDir, SQLITE_FILE), { readonly: true, fileMustExist: true });
  try {
    const receipt = new Map<string, number>();
    for (const row of db
      .prepare(
        `select received_at as at, json_extract(envelope, '$.detail.alarmName') as name from events`,
      )
      .all() as { at: number; name: string }[]) {
      receipt.set(row.name, row.at);
    }
    const mitigationOf = new Map<string, string>();
    for (const row of db
      .prepare(
        `select json_extract(doc, '$.origin.alert') as name,
                json_extract(doc, '$.mitigation.requestId') as request from incidents`,
      )
      .all() as { name: string; request: string | null }[]) {
      if (row.request) mitigationOf.set(row.name, row.request);
    }
    const startedAt = new Map<string, number>();
    for (const row of db
      .prepare(`select target, at from audit_log where action = 'execution.started'`)
      .all() as { target: string; at: number }[]) {
      startedAt.set(row.target, row.at);
    }
    const out: IncidentLatency = {
      incidents: mitigationOf.size,
      toHeader: [],
      toMitigation: [],
      missingHeaders: 0,
      missingMitigations: 0,
    };
    for (const name of names) {
      const at = receipt.get(name);
      if (at === undefined) continue;
      const probe = /bench-probe-\d+-\d+/.exec(name)?.[0] ?? name;
      const header = headerAt(probe);
      if (header === undefined) out.missingHeaders++;
      else out.toHeader.push(header - at);
      const request = mitigationOf.get(name);
      const start = request ? startedAt.get(request) : undefined;
      if (start === undefined) out.missingMitigations++;
      else out.toMitigation.push(start - at);
    }
    return out;
  } finally {
    db.close();
  }
}

export function incidentRows(r: IncidentLatency): Row[] {
  const row = (metric: string, xs: number[], target: number, missing: number): Row => ({
    store: 'sqlite',
    metric,
    value: ms(median(xs)),
    detail: `p99 ${ms(percentile(xs, 99))}, ${xs.length} samples${missing ? `, ${missing} missing` : ''}`,
    target: `median ≤ ${target} ms, p99 ≤ 100 ms`,
    pass: missing === 0 && median(xs) <= target && percentile(xs, 99) <= 100,
  });
  return [
    row('alarm receipt → incident header chat request', r.toHeader, 50, r.missingHeaders),
    row('alarm receipt → pre-approved mitigation starts', r.toMitigation, 50, r.missingMitigations),
  ];
}

if (isMain(import.meta.url)) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const r = await measureIncidentLatency({
    minutes: arg('minutes', 1),
    perMinute: arg('per-minute', 100),
  });
  console.log(`${r.incidents} incidents opened`);
  for (const row of incidentRows(r)) {
    console.log(
      `${row.metric}: median ${row.value} (${row.detail}) — target ${row.target}: ${row.pass ? 'PASS' : 'MISS'}`,
    );
  }
}
