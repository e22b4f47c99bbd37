/**
 * Receipt → outbound chat request, for `ingest-vs-alertmanager.ts`: latency probes inside a
 * paced single-alert load (see bench/README.md, "What receipt → chat request measures").
 */
import { type Endpoint, type PacedRequest, pacedLoad } from './ingest-http.ts';
import { alarmEventBody, apiAlertsBody, apiProbeBody } from './ingest-payloads.ts';
import {
  amEndpoint,
  note,
  oursEndpoint,
  type PerSide,
  runTag,
  type Setup,
  withAlertmanager,
  withCountersign,
} from './ingest-phases.ts';
import type { ReceiverStats, Receivers } from './ingest-receivers.ts';
import { benchCatalog, probeChannel } from './ingest-systems.ts';
import { machineBusy, sleep, waitForQuiet } from './lib.ts';

export interface LatencyRound {
  /** Receipt → chat request of the probes, ms; a probe that never arrived counts as Infinity. */
  delays: number[];
  missing: number;
  /** Probes first seen in a `chat.update` (folded into a digest) rather than a new message. */
  viaUpdate: number;
  /** How far the paced sender fell behind its schedule at worst, ms. */
  behindMs: number;
  refused: number;
  /** Outbound calls during the run, by Web API method or webhook. */
  calls: Record<string, number>;
}

export interface LatencyFigures {
  paced: PerSide<LatencyRound>;
  /** Probes alone, 20 a second, no other load: the floor. */
  idle: PerSide<LatencyRound>;
}

/**
 * Paced load: `rate` single-alert requests a second for `latencySeconds`, of which
 * `probeRate` are probes. A Countersign probe is a CloudWatch alarm of its own in one of
 * `probeChannels` quiet channels (a new message); an Alertmanager probe is an alert of its
 * own name (a new group, sent with group_wait 0s). The rest is the throughput test's
 * single alerts: Countersign folds them into C01ALERTS' digest, Alertmanager into 1,000
 * groups flushed every second.
 */
export async function latency(s: Setup): Promise<LatencyFigures> {
  const { o } = s;
  const out: LatencyFigures = {
    paced: { countersign: [], alertmanager: [] },
    idle: { countersign: [], alertmanager: [] },
  };
  const catalog = benchCatalog(o.probeChannels);
  let probe = 0;
  const oursProbe = (): PacedRequest => {
    const k = probe++;
    const name = `bench-probe-${probeChannel(k % o.probeChannels)}-${k}`;
    return { body: alarmEventBody(`probe-${k}`, name), probe: name };
  };
  const amProbe = (): PacedRequest => {
    const name = `BenchProbe_${probe++}`;
    return { body: apiProbeBody(name), probe: name };
  };
  try {
    for (let r = 0; r < o.rounds; r++) {
      await waitForQuiet();
      await withCountersign(s, catalog.dir, async (cs) => {
        const endpoint = oursEndpoint(cs.port, '/hooks/eventbridge');
        const tag = runTag('l', r);
        const background = (i: number) => ({
          body: alarmEventBody(`${tag}-${i}`, `checkout-api-${tag}-${i}`),
        });
        if (r === 0) out.idle.countersign.push(await probeRun(s, endpoint, 20, 5, oursProbe));
        const every = Math.round(o.rate / o.probeRate);
        const round = await probeRun(s, endpoint, o.rate, o.latencySeconds, (i) =>
          i % every === 0 ? oursProbe() : background(i),
        );
        out.paced.countersign.push(round);
        note(`latency r${r + 1} countersign: ${describe(round)}`);
      });
      if (!s.amBin) continue;
      await waitForQuiet();
      await withAlertmanager(s, async (am) => {
        const endpoint = amEndpoint(am.port);
        const tag = runTag('l', r);
        if (r === 0) out.idle.alertmanager.push(await probeRun(s, endpoint, 20, 5, amProbe));
        const every = Math.round(o.rate / o.probeRate);
        const round = await probeRun(s, endpoint, o.rate, o.latencySeconds, (i) =>
          i % every === 0 ? amProbe() : { body: apiAlertsBody(tag, i, 1) },
        );
        out.paced.alertmanager.push(round);
        note(`latency r${r + 1} alertmanager: ${describe(round)}`);
      });
    }
  } finally {
    catalog.cleanup();
  }
  return out;
}

async function probeRun(
  s: Setup,
  endpoint: Endpoint,
  rate: number,
  seconds: number,
  request: (i: number) => PacedRequest,
): Promise<LatencyRound> {
  await s.receivers.reset();
  const busy = machineBusy();
  const run = await pacedLoad({ endpoint, connections: 64, rate, seconds, request });
  const stats = await waitForProbes(s.receivers, [...run.probesSentAt.keys()], 10_000);
  const delays = [...run.probesSentAt].map(([id, sentAt]) => {
    const got = stats.probes[id];
    return got ? got.at - sentAt : Number.POSITIVE_INFINITY;
  });
  note(`(${rate}/s for ${seconds} s: machine ${busy().toFixed(0)} % busy)`);
  return {
    delays,
    missing: delays.filter((d) => !Number.isFinite(d)).length,
    viaUpdate: Object.values(stats.probes).filter((p) => p.via === 'chat.update').length,
    behindMs: run.maxBehindMs,
    refused:
      run.errors +
      Object.entries(run.statuses)
        .filter(([status]) => Number(status) >= 300)
        .reduce((n, [, c]) => n + c, 0),
    calls: stats.calls,
  };
}

/** Polls the receivers until every probe has arrived, or `timeoutMs` passed. */
async function waitForProbes(
  receivers: Receivers,
  ids: readonly string[],
  timeoutMs: number,
): Promise<ReceiverStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await receivers.stats();
    if (ids.every((id) => stats.probes[id]) || Date.now() > deadline) return stats;
    await sleep(200);
  }
}

function describe(r: LatencyRound): string {
  const finite = r.delays.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (p: number) =>
    finite[Math.min(finite.length - 1, Math.ceil((p / 100) * finite.length) - 1)];
  return (
    `${r.delays.length} probes, median ${at(50)?.toFixed(1)} ms, p99 ${at(99)?.toFixed(1)} ms, ` +
    `${r.missing} missing, ${r.viaUpdate} via update, sender behind ≤ ${r.behindMs.toFixed(0)} ms, ` +
    `${r.refused} refused; calls ${JSON.stringify(r.calls)}`
  );
}
