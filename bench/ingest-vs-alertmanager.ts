/**
 * Ingestion side by side with Prometheus Alertmanager, on this machine, in one run:
 * alerts accepted per second (one per request, as EventBridge sends them, and 100 per
 * request), receipt → outbound chat request at a paced 1,000 events/s (median, p99),
 * resident memory with 100,000 active alerts, and what survives `kill -9` and a restart.
 * Countersign runs on SQLite (every event committed with synchronous=FULL before its 2xx).
 * Without the Alertmanager binary (Debian: `apt-get install prometheus-alertmanager`, or
 * `ALERTMANAGER_BIN`) its column is skipped with a notice and the targets are checked
 * against the reference figures from the issue. See bench/README.md, "Ingest vs
 * Alertmanager".
 *
 *   node --import tsx bench/ingest-vs-alertmanager.ts [--rounds=3] [--seconds=10]
 *        [--latency-seconds=20] [--alerts=100000] [--quick]
 */
import { latency } from './ingest-latency.ts';
import { memoryAndRestart, type RestartFigure } from './ingest-memory.ts';
import { type Options, type PerSide, type Setup, throughput } from './ingest-phases.ts';
import { startReceivers } from './ingest-receivers.ts';
import { alertmanagerBinary, type FsyncCost, measureFsync } from './ingest-systems.ts';
import { alignedTable, int, isMain, machineNote, median, percentile, type Row } from './lib.ts';

/** The reference figures of the issue (Alertmanager 0.25, this machine, wrk, 64 clients). */
const REFERENCE = { singlePerSecond: 5400, rssMb: 361 };

export function optionsFrom(argv: readonly string[]): Options {
  const flag = (name: string, fallback: number) => {
    const m = argv.map((a) => new RegExp(`^--${name}=(\\d+)$`).exec(a)).find(Boolean);
    return m ? Number(m[1]) : fallback;
  };
  const quick = argv.includes('--quick');
  return {
    rounds: flag('rounds', quick ? 1 : 3),
    seconds: flag('seconds', quick ? 5 : 10),
    warmSeconds: quick ? 1 : 2,
    connections: 64,
    batchConnections: 8,
    batch: 100,
    rate: 1000,
    probeRate: 10,
    probeChannels: 100,
    latencySeconds: flag('latency-seconds', quick ? 10 : 20),
    alerts: flag('alerts', quick ? 20_000 : 100_000),
  };
}

/** One line of the comparison table. */
interface Compared {
  figure: string;
  ours: string;
  am: string;
  ratio: string;
  target?: string;
  pass?: boolean;
  detail?: string;
}

export async function benchIngestVsAlertmanager(o: Options): Promise<Row[]> {
  const bin = alertmanagerBinary();
  if (!bin) {
    console.log(
      '# Alertmanager is not installed (apt-get install prometheus-alertmanager, or set ' +
        'ALERTMANAGER_BIN): its column is skipped; targets are checked against the issue’s ' +
        `reference figures (${int(REFERENCE.singlePerSecond)} alerts/s, ${REFERENCE.rssMb} MB)`,
    );
  }
  const fsync = await measureFsync();
  console.log(`# durable commit here: ${fsyncText(fsync)}`);
  const receivers = await startReceivers();
  const s: Setup = { o, receivers, ...(bin ? { amBin: bin.path } : {}) };
  try {
    console.log('# single-alert ingestion');
    const single = await throughput(s, 'single');
    console.log('# batched ingestion');
    const batch = await throughput(s, 'batch');
    console.log('# receipt → chat request');
    const lat = await latency(s);
    console.log('# memory and restart');
    const mr = await memoryAndRestart(s);
    const table = compare(o, single, batch, lat, mr, bin?.version);
    printCompared(table, bin?.version, fsync);
    return table.map((c) => ({
      store: 'sqlite',
      metric: `vs Alertmanager: ${c.figure}`,
      value: c.ours,
      detail: [c.am && `Alertmanager ${c.am}`, c.ratio && `ratio ${c.ratio}`, c.detail]
        .filter(Boolean)
        .join('; '),
      ...(c.target ? { target: c.target } : {}),
      ...(c.pass !== undefined ? { pass: c.pass } : {}),
    }));
  } finally {
    await receivers.stop();
  }
}

type Throughput = Awaited<ReturnType<typeof throughput>>;

const med = (xs: readonly number[]) => (xs.length ? median(xs) : Number.NaN);
const perSec = (n: number) => (Number.isFinite(n) ? `${int(n)}/s` : 'n/a');
const mb = (n: number | undefined) =>
  n !== undefined && Number.isFinite(n) ? `${int(n)} MB` : 'n/a';
const msText = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : 'n/a');
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '');
const parts = (...xs: string[]) => xs.filter(Boolean).join('; ');
const spread = (xs: number[], f: (n: number) => string) =>
  xs.length > 1 ? `rounds ${f(Math.min(...xs))}–${f(Math.max(...xs))}` : '';

function compare(
  o: Options,
  single: Throughput,
  batch: Throughput,
  lat: Awaited<ReturnType<typeof latency>>,
  mr: Awaited<ReturnType<typeof memoryAndRestart>>,
  amVersion: string | undefined,
): Compared[] {
  return [
    ...throughputRows(o, single, batch, amVersion),
    ...latencyRows(o, lat),
    ...durabilityRows(o, mr, amVersion),
  ];
}

function throughputRows(
  o: Options,
  single: Throughput,
  batch: Throughput,
  amVersion: string | undefined,
): Compared[] {
  const rate = (p: Throughput, side: 'countersign' | 'alertmanager') =>
    med(p[side].map((r) => r.alertsPerSecond));
  const cpu = (p: Throughput, side: 'countersign' | 'alertmanager') =>
    med(p[side].map((r) => r.cpuUsPerAlert));
  const one = { ours: rate(single, 'countersign'), am: rate(single, 'alertmanager') };
  const amSingle = amVersion ? one.am : REFERENCE.singlePerSecond;
  const allStored = [...single.countersign, ...batch.countersign].every((r) => r.allStored);
  const cpuText = (side: 'countersign' | 'alertmanager') =>
    `${int(cpu(single, side))} / ${int(cpu(batch, side))} µs`;
  return [
    {
      figure: `single-alert requests, ${o.connections} clients (alerts/s)`,
      ours: perSec(one.ours),
      am: perSec(one.am),
      ratio: ratio(one.ours, amSingle),
      target: '≥ 1.5× Alertmanager, each stored before its 2xx',
      pass: one.ours >= 1.5 * amSingle && allStored,
      detail: parts(
        spread(
          single.countersign.map((r) => r.alertsPerSecond),
          int,
        ),
        `every 2xx in the journal: ${allStored}`,
      ),
    },
    {
      figure: `batched, ${o.batch} alerts/request, ${o.batchConnections} clients (alerts/s)`,
      ours: perSec(rate(batch, 'countersign')),
      am: perSec(rate(batch, 'alertmanager')),
      ratio: ratio(rate(batch, 'countersign'), rate(batch, 'alertmanager')),
      detail: spread(
        batch.countersign.map((r) => r.alertsPerSecond),
        int,
      ),
    },
    {
      figure: 'server CPU per accepted alert, single / batched',
      ours: cpuText('countersign'),
      am: cpuText('alertmanager'),
      ratio: [single, batch]
        .map((p) => ratio(cpu(p, 'countersign'), cpu(p, 'alertmanager')))
        .join(' / '),
      detail: 'all threads, user + system; less disturbed by other jobs than the rates',
    },
  ];
}

function latencyRows(o: Options, lat: Awaited<ReturnType<typeof latency>>): Compared[] {
  const pacedMedian = sideMedians(lat.paced, 50);
  const pacedP99 = sideMedians(lat.paced, 99);
  const idleMedian = sideMedians(lat.idle, 50);
  const idleP99 = sideMedians(lat.idle, 99);
  const missing = lat.paced.countersign.reduce((n, r) => n + r.missing, 0);
  return [
    {
      figure: `receipt → chat request at ${int(o.rate)} events/s, median`,
      ours: msText(pacedMedian.ours),
      am: msText(pacedMedian.am),
      ratio: ratio(pacedMedian.ours, pacedMedian.am),
      detail: `probes: new messages (ours) / new groups (Alertmanager), ${o.probeRate}/s`,
    },
    {
      figure: `receipt → chat request at ${int(o.rate)} events/s, p99`,
      ours: msText(pacedP99.ours),
      am: msText(pacedP99.am),
      ratio: ratio(pacedP99.ours, pacedP99.am),
      target: '≤ 10 ms',
      pass: pacedP99.ours <= 10,
      detail: parts(
        spread(
          lat.paced.countersign.map((r) => percentile(r.delays, 99)),
          msText,
        ),
        `missing ${missing}`,
      ),
    },
    {
      figure: 'receipt → chat request, probes alone (20/s), median / p99',
      ours: `${msText(idleMedian.ours)} / ${msText(idleP99.ours)}`,
      am: `${msText(idleMedian.am)} / ${msText(idleP99.am)}`,
      ratio: '',
    },
  ];
}

function durabilityRows(
  o: Options,
  mr: Awaited<ReturnType<typeof memoryAndRestart>>,
  amVersion: string | undefined,
): Compared[] {
  const ours = mr.memory.countersign;
  const theirs = mr.memory.alertmanager;
  const oursRss = ours?.rssMb ?? Number.NaN;
  const amRss = amVersion ? (theirs?.rssMb ?? Number.NaN) : REFERENCE.rssMb;
  // The verdict takes the harder pair: Countersign's higher reading, Alertmanager's lower.
  const oursWorst = Math.max(oursRss, ours?.rssAfterLoadMb ?? Number.NaN);
  const amBest = amVersion ? Math.min(amRss, theirs?.rssAfterLoadMb ?? amRss) : amRss;
  const rc = mr.restart.countersign;
  const ra = mr.restart.alertmanager;
  const kept = (r: RestartFigure | undefined) =>
    r ? `${int(r.after)} of ${int(r.before + r.acknowledged)}` : 'n/a';
  return [
    {
      figure: `resident memory with ${int(o.alerts)} active alerts`,
      ours: mb(ours?.rssMb),
      am: mb(theirs?.rssMb),
      ratio: ratio(oursRss, amRss),
      target: '≤ ½ Alertmanager',
      pass: oursWorst <= amBest / 2,
      detail: `after 20 s at rest (verdict on ${mb(oursWorst)} vs ${mb(amBest)}, the harder pair); right after the load ${mb(ours?.rssAfterLoadMb)} / ${mb(theirs?.rssAfterLoadMb)}, peak ${mb(ours?.hwmMb)} / ${mb(theirs?.hwmMb)}; active ${int(ours?.active ?? Number.NaN)} / ${int(theirs?.active ?? Number.NaN)}`,
    },
    {
      figure: 'alerts still there after kill -9 and restart',
      ours: kept(rc),
      am: kept(ra),
      ratio: '',
      target: 'all',
      pass: !!rc && rc.after >= rc.before + rc.acknowledged,
      detail: rc
        ? `killed during a single-alert load; journal ${int(rc.eventsAfter ?? 0)} events ≥ ${int((rc.eventsBefore ?? 0) + rc.acknowledged)} acknowledged; API after restart: newest seq ${int(rc.apiNewestSeq ?? 0)}, ${int(rc.apiAlerts ?? 0)} firing listed (capped at 1,000)`
        : '',
    },
  ];
}

/** Per side, the median over rounds of each round's `p`-th percentile delay. */
function sideMedians(p: PerSide<{ delays: number[] }>, pct: number): { ours: number; am: number } {
  const of = (rounds: { delays: number[] }[]) =>
    rounds.length ? median(rounds.map((r) => percentile(r.delays, pct))) : Number.NaN;
  return { ours: of(p.countersign), am: of(p.alertmanager) };
}

function printCompared(rows: Compared[], amVersion: string | undefined, fsync: FsyncCost): void {
  const head = [
    'figure',
    'Countersign',
    `Alertmanager ${amVersion ?? '(absent)'}`,
    'ratio',
    'target',
    'verdict',
    'detail',
  ];
  const cells = rows.map((r) => [
    r.figure,
    r.ours,
    r.am,
    r.ratio,
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS',
    r.detail ?? '',
  ]);
  const table = alignedTable(head, cells);
  console.log('');
  console.log(table.head);
  for (const row of table.rows) console.log(row);
  console.log(`# durable commit: ${fsyncText(fsync)}`);
}

function fsyncText(f: FsyncCost): string {
  return (
    `one-row SQLite commit, WAL, synchronous=FULL: ${f.backToBackMs.toFixed(2)} ms back to back, ` +
    `${f.pacedMs.toFixed(2)} ms (p90 ${f.pacedP90Ms.toFixed(2)}) one every 10 ms; ` +
    `synchronous=NORMAL ${f.normalMs.toFixed(3)} ms`
  );
}

if (isMain(import.meta.url)) {
  const o = optionsFrom(process.argv.slice(2));
  console.log(`# ingest vs Alertmanager, ${new Date().toISOString()}, ${machineNote()}`);
  console.log(`# ${JSON.stringify(o)}`);
  await benchIngestVsAlertmanager(o);
}
