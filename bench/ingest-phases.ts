/**
 * The measurements of `ingest-vs-alertmanager.ts`, each run the same way on both systems,
 * and what they share: options, the two systems' endpoints, fresh instances. Here:
 * accepted alerts per second (one per request, and 100 per request); receipt → chat request
 * is in `ingest-latency.ts`, memory and restart in `ingest-memory.ts`. Each round starts a
 * fresh instance of each system (as the reference runs did), alternating Countersign and
 * Alertmanager so that other jobs on the shared machine disturb both alike. See
 * bench/README.md, "Ingest vs Alertmanager".
 */
import { resolve } from 'node:path';
import { closedLoop, type Endpoint, type LoadResult } from './ingest-http.ts';
import { alarmEventBody, apiAlertsBody, INGEST_TOKEN, webhookBody } from './ingest-payloads.ts';
import type { Receivers } from './ingest-receivers.ts';
import {
  type Alertmanager,
  type Countersign,
  type Running,
  startAlertmanager,
  startCountersign,
  storedCounts,
  waitForDrain,
} from './ingest-systems.ts';
import { machineBusy, sqliteTarget, waitForQuiet } from './lib.ts';

export const DEMO = resolve(import.meta.dirname, '../examples/demo');

export interface Options {
  /** Rounds of each timed measurement; figures are medians over them. Default 3. */
  rounds: number;
  /** Measured seconds of a throughput round, after `warmSeconds` of the same load. Default 10 / 2. */
  seconds: number;
  warmSeconds: number;
  /** Clients with one alert per request (64) and with 100 per request (8). */
  connections: number;
  batchConnections: number;
  /** Alerts per batched request. Default 100. */
  batch: number;
  /** Requests a second of the paced run (1,000), of which `probeRate` (10) are probes. */
  rate: number;
  probeRate: number;
  /** Quiet channels the probes rotate over (100: each gets one every 10 s). */
  probeChannels: number;
  /** Seconds of each paced round. Default 20. */
  latencySeconds: number;
  /** Active alerts for the memory figure. Default 100,000. */
  alerts: number;
}

export interface Setup {
  o: Options;
  receivers: Receivers;
  /** Absent when the Alertmanager binary is not installed. */
  amBin?: string;
}

export type Side = 'countersign' | 'alertmanager';
export type PerSide<T> = { countersign: T[]; alertmanager: T[] };

const jsonHeaders = { 'Content-Type': 'application/json' };
export const oursEndpoint = (port: number, path: string): Endpoint => ({
  port,
  path,
  headers: { ...jsonHeaders, Authorization: `Bearer ${INGEST_TOKEN}` },
});
export const amEndpoint = (port: number): Endpoint => ({
  port,
  path: '/api/v2/alerts',
  headers: jsonHeaders,
});
export const runTag = (what: string, round: number) => `${what}${round}${Date.now().toString(36)}`;

/** A fresh Countersign on a fresh SQLite folder; `fn` runs with it, then both go. */
export async function withCountersign<T>(
  s: Setup,
  configDir: string,
  fn: (cs: Countersign) => Promise<T>,
): Promise<T> {
  const place = await sqliteTarget().fresh();
  const cs = await startCountersign(place, { configDir, slackApiUrl: `${s.receivers.url}/api/` });
  try {
    return await fn(cs);
  } finally {
    await cs.stop();
    await place.cleanup();
  }
}

export async function withAlertmanager<T>(
  s: Setup,
  fn: (am: Alertmanager) => Promise<T>,
): Promise<T> {
  const am = await startAlertmanager(s.amBin!, s.receivers.url);
  try {
    return await fn(am);
  } finally {
    await am.stop();
    am.cleanup();
  }
}

export function note(line: string): void {
  console.log(`#   ${line}`);
}

// ── throughput ───────────────────────────────────────────────────────────────────────

export interface ThroughputRound {
  alertsPerSecond: number;
  requestsPerSecond: number;
  /** Answers other than 2xx, and requests without an answer. */
  refused: number;
  clientP99Ms: number;
  /** The server's CPU time (all threads) per accepted alert, µs: less disturbed by other jobs than rates. */
  cpuUsPerAlert: number;
  /** Countersign: every acknowledged event was in the journal right after the run. */
  allStored?: boolean;
  /** Countersign: seconds until processing caught up after the run. */
  drainSeconds?: number;
}

/**
 * Closed-loop ingestion for `seconds` after `warmSeconds` of the same load. `single`: one
 * alert per request with `connections` clients (Countersign: EventBridge events on
 * /hooks/eventbridge; Alertmanager: /api/v2/alerts). `batch`: `batch` alerts per request
 * with `batchConnections` clients (Countersign: Alertmanager webhooks on
 * /hooks/alertmanager).
 */
export async function throughput(
  s: Setup,
  kind: 'single' | 'batch',
): Promise<PerSide<ThroughputRound>> {
  const out: PerSide<ThroughputRound> = { countersign: [], alertmanager: [] };
  const { o } = s;
  const per = kind === 'single' ? 1 : o.batch;
  const connections = kind === 'single' ? o.connections : o.batchConnections;
  for (let r = 0; r < o.rounds; r++) {
    await waitForQuiet();
    out.countersign.push(
      await withCountersign(s, DEMO, async (cs) => {
        const path = kind === 'single' ? '/hooks/eventbridge' : '/hooks/alertmanager';
        const body = (tag: string) =>
          kind === 'single'
            ? (i: number) => alarmEventBody(`${tag}-${i}`, `checkout-api-${tag}-${i}`)
            : (i: number) => webhookBody(tag, i * per, per);
        const endpoint = oursEndpoint(cs.port, path);
        const load = (tag: string, seconds: number) =>
          closedLoop({ endpoint, connections, seconds, body: body(tag) });
        const fig = await measured(load, cs, runTag('w', r), runTag('m', r), per, o);
        const stored = storedCounts(cs.place.dataDir);
        const began = performance.now();
        await waitForDrain(cs.place.dataDir, false);
        const round: ThroughputRound = {
          ...fig.round,
          allStored: stored.events >= fig.acknowledged,
          drainSeconds: (performance.now() - began) / 1000,
        };
        note(
          `${kind} r${r + 1} countersign: ${round.alertsPerSecond.toFixed(0)} alerts/s, ` +
            `${fig.busy} ; journal ${stored.events} ≥ ${fig.acknowledged} acknowledged: ` +
            `${round.allStored}; processing caught up ${round.drainSeconds?.toFixed(1)} s after`,
        );
        return round;
      }),
    );
    if (!s.amBin) continue;
    await waitForQuiet();
    out.alertmanager.push(
      await withAlertmanager(s, async (am) => {
        const endpoint = amEndpoint(am.port);
        const load = (tag: string, seconds: number) =>
          closedLoop({
            endpoint,
            connections,
            seconds,
            body: (i) => apiAlertsBody(tag, i * per, per),
          });
        const fig = await measured(load, am, runTag('w', r), runTag('m', r), per, o);
        note(
          `${kind} r${r + 1} alertmanager: ${fig.round.alertsPerSecond.toFixed(0)} alerts/s, ${fig.busy}`,
        );
        return fig.round;
      }),
    );
  }
  return out;
}

async function measured(
  load: (tag: string, seconds: number) => Promise<LoadResult>,
  server: Running,
  warmTag: string,
  tag: string,
  per: number,
  o: Options,
): Promise<{ round: ThroughputRound; acknowledged: number; busy: string }> {
  const warm = await load(warmTag, o.warmSeconds);
  const busy = machineBusy();
  const cpu0 = server.cpuMs();
  const run = await load(tag, o.seconds);
  const cpuMs = server.cpuMs() - cpu0;
  const refused = Object.entries(run.statuses)
    .filter(([status]) => Number(status) >= 300)
    .reduce((n, [, c]) => n + c, run.errors);
  return {
    round: {
      alertsPerSecond: (run.ok * per) / run.seconds,
      requestsPerSecond: run.ok / run.seconds,
      refused,
      clientP99Ms: run.p99Ms,
      cpuUsPerAlert: (cpuMs * 1000) / (run.ok * per),
    },
    acknowledged: (warm.ok + run.ok) * per,
    busy: `server CPU ${((cpuMs * 1000) / (run.ok * per)).toFixed(0)} µs/alert, client p50/p99 ${run.p50Ms.toFixed(1)}/${run.p99Ms.toFixed(1)} ms, ${refused} refused, machine ${busy().toFixed(0)} % busy`,
  };
}
