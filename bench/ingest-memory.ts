/**
 * Resident memory with many active alerts, then `kill -9` during a load and a restart on
 * the same data, for `ingest-vs-alertmanager.ts` (see bench/README.md).
 */
import { closedLoop, type Endpoint } from './ingest-http.ts';
import { alarmEventBody, apiAlertsBody, webhookBody } from './ingest-payloads.ts';
import {
  amEndpoint,
  DEMO,
  note,
  oursEndpoint,
  runTag,
  type Setup,
  type Side,
} from './ingest-phases.ts';
import {
  type Alertmanager,
  type Countersign,
  type StoredCounts,
  servedByApi,
  startAlertmanager,
  startCountersign,
  storedCounts,
  waitForDrain,
} from './ingest-systems.ts';
import { sleep, sqliteTarget, waitForQuiet } from './lib.ts';

/** Seconds both systems rest after the load before RSS is read (V8 and Go give memory back late). */
const SETTLE_SECONDS = 20;

export interface MemoryFigure {
  /** VmRSS after `SETTLE_SECONDS` at rest, and VmHWM (the peak), MB. */
  rssMb: number;
  hwmMb: number;
  /** VmRSS right after the load (Countersign: once the journal is processed and chat in step), MB. */
  rssAfterLoadMb: number;
  /** Active (firing) alerts the system reported holding when RSS was read. */
  active: number;
  loadSeconds: number;
}

export interface RestartFigure {
  /** Active alerts before the kill (the memory load), and alerts acknowledged during the load the kill interrupted. */
  before: number;
  acknowledged: number;
  /** Active alerts after the restart (Countersign: once the journal is processed again). */
  after: number;
  /** Countersign: events in the journal after the restart, and before the interrupted load. */
  eventsAfter?: number;
  eventsBefore?: number;
  /** Countersign, over the API after the restart: the newest event's seq, firing alerts listed (≤ 1,000). */
  apiNewestSeq?: number;
  apiAlerts?: number;
}

export interface MemoryAndRestart {
  memory: Partial<Record<Side, MemoryFigure>>;
  restart: Partial<Record<Side, RestartFigure>>;
}

/**
 * Loads `alerts` distinct firing alerts in requests of `batch` (4 clients; Countersign:
 * Alertmanager webhooks, Alertmanager: its API, the same labels, 1,000 groups), reads RSS
 * right after and again after `SETTLE_SECONDS` at rest; then sends single alerts with 8 clients, `kill -9`s the
 * process one second in, restarts it on the same data and counts what it holds.
 */
export async function memoryAndRestart(s: Setup): Promise<MemoryAndRestart> {
  const out: MemoryAndRestart = { memory: {}, restart: {} };
  await waitForQuiet();
  const ours = await oursMemoryAndRestart(s);
  out.memory.countersign = ours.memory;
  out.restart.countersign = ours.restart;
  if (!s.amBin) return out;
  await waitForQuiet();
  const am = await amMemoryAndRestart(s, s.amBin);
  out.memory.alertmanager = am.memory;
  out.restart.alertmanager = am.restart;
  return out;
}

/** Batched requests carrying all `alerts` (the last may be shorter); resolves with the seconds taken. */
function loadAll(
  s: Setup,
  endpoint: Endpoint,
  body: (first: number, n: number) => string,
): Promise<number> {
  const { alerts, batch } = s.o;
  const began = performance.now();
  return closedLoop({
    endpoint,
    connections: 4,
    seconds: 3600,
    requests: Math.ceil(alerts / batch),
    body: (i) => body(i * batch, Math.min(batch, alerts - i * batch)),
  }).then(() => (performance.now() - began) / 1000);
}

async function oursMemoryAndRestart(
  s: Setup,
): Promise<{ memory: MemoryFigure; restart: RestartFigure }> {
  const place = await sqliteTarget().fresh();
  const options = { configDir: DEMO, slackApiUrl: `${s.receivers.url}/api/` };
  let cs = await startCountersign(place, options);
  try {
    const tag = runTag('mem', 0);
    const loadSeconds = await loadAll(s, oursEndpoint(cs.port, '/hooks/alertmanager'), (f, n) =>
      webhookBody(tag, f, n),
    );
    const drained = await waitForDrain(place.dataDir);
    const rssAfterLoadMb = cs.memory().rssMb;
    await sleep(SETTLE_SECONDS * 1000);
    const memory = { ...cs.memory(), rssAfterLoadMb, active: drained.firing, loadSeconds };
    note(`memory countersign: ${JSON.stringify(memory)}, drained ${JSON.stringify(drained)}`);
    const before = storedCounts(place.dataDir);
    const acknowledged = await killDuringLoad(
      cs,
      (port) => oursEndpoint(port, '/hooks/eventbridge'),
      (tagged) => (i) => alarmEventBody(`${tagged}-${i}`, `checkout-api-${tagged}-${i}`),
    );
    cs = await cs.restart();
    const after: StoredCounts = await waitForDrain(place.dataDir);
    const api = await servedByApi(cs.port);
    const restart: RestartFigure = {
      before: before.firing,
      acknowledged,
      after: after.firing,
      eventsBefore: before.events,
      eventsAfter: after.events,
      apiNewestSeq: api.newestSeq,
      apiAlerts: api.alerts,
    };
    note(`restart countersign: ${JSON.stringify(restart)}`);
    return { memory, restart };
  } finally {
    await cs.stop();
    await place.cleanup();
  }
}

async function amMemoryAndRestart(
  s: Setup,
  bin: string,
): Promise<{ memory: MemoryFigure; restart: RestartFigure }> {
  let am = await startAlertmanager(bin, s.receivers.url);
  try {
    const tag = runTag('mem', 0);
    const loadSeconds = await loadAll(s, amEndpoint(am.port), (f, n) => apiAlertsBody(tag, f, n));
    const rssAfterLoadMb = am.memory().rssMb;
    await sleep(SETTLE_SECONDS * 1000);
    const active = await am.activeAlerts();
    const memory = { ...am.memory(), rssAfterLoadMb, active, loadSeconds };
    note(`memory alertmanager: ${JSON.stringify(memory)}`);
    const acknowledged = await killDuringLoad(
      am,
      amEndpoint,
      (tagged) => (i) => apiAlertsBody(tagged, i, 1),
    );
    am = await am.restart();
    const restart = { before: memory.active, acknowledged, after: await am.activeAlerts() };
    note(`restart alertmanager: ${JSON.stringify(restart)}`);
    return { memory, restart };
  } finally {
    await am.stop();
    am.cleanup();
  }
}

/** Single-alert load with 8 clients; `kill -9` one second in. Answers the alerts acknowledged. */
async function killDuringLoad(
  sys: Countersign | Alertmanager,
  endpoint: (port: number) => Endpoint,
  body: (tag: string) => (i: number) => string,
): Promise<number> {
  const load = closedLoop({
    endpoint: endpoint(sys.port),
    connections: 8,
    seconds: 5,
    body: body(runTag('kill', 0)),
  });
  await sleep(1000);
  await sys.kill9();
  return (await load).ok;
}
