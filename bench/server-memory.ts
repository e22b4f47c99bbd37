/**
 * The server's resident memory (VmRSS of the server process, from /proc/<pid>/status)
 * after start and after 10,000 requests; the peak (VmHWM) is reported beside it. "After" is
 * read once every execution has finished and the outbox is empty.
 *
 * Standalone, all 10,000 are complete mutating requests: a prod `scale` that alice asks for
 * (the preview handler runs), dave acknowledges when outside the change window, bob
 * approves, and the outbox worker executes (the handler runs again) — so every table, the
 * audit log, the outbox and the handler workers are exercised. At this machine's ~60–100
 * such requests a second that takes 2–3 minutes per store.
 *
 * `npm run bench` folds the latency runs of `approval-latency.ts` into the same server and,
 * to stay within its time budget, makes up the rest of the 10,000 with read-only `status`
 * requests (POST /api/v1/requests, run at once in a handler worker, audited):
 * 1,800 prod scale requests (300 warm-up, 1,000 back to back, 500 paced) + 8,200 status.
 *
 *   node --import tsx bench/server-memory.ts [--sqlite|--postgres] [--requests=N] [--mixed]
 */
import {
  type LatencyStats,
  latencyRows,
  measureLatency,
  PACED_REQUESTS,
  REQUESTERS,
  WARM_UP,
} from './approval-latency.ts';
import {
  type BenchTarget,
  forEachTarget,
  int,
  isMain,
  onlyStore,
  printTable,
  type Row,
  sleep,
} from './lib.ts';
import { type Server, startServer } from './server-process.ts';

export const MEMORY_TARGET_MB = 150;
/** Back-to-back prod scale requests in the latency sample. */
export const LATENCY_REQUESTS = 1000;

function requestsArg(fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith('--requests='));
  return arg ? Number(arg.slice('--requests='.length)) : fallback;
}

/** `n` read-only `status checkout-api prod` requests from `REQUESTERS` loops. */
async function statusRuns(server: Server, n: number): Promise<void> {
  let next = 0;
  const loop = async () => {
    while (next < n) {
      next++;
      const a = await server.call('POST', '/api/v1/requests', 'alice', {
        text: 'status checkout-api prod',
      });
      if (a.status !== 200 || a.json.ran?.ok !== true) {
        throw new Error(`status: HTTP ${a.status} ${JSON.stringify(a.json).slice(0, 300)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: REQUESTERS }, loop));
}

export interface ServerBenchOptions {
  /** Requests in all. */
  total: number;
  /** Run the back-to-back and paced latency samples and report them. */
  withLatency: boolean;
  /** Make up the rest of `total` with read-only status requests instead of prod scales. */
  mixed: boolean;
}

/** One server run: memory after start, `total` requests, memory again. */
export async function benchServer(target: BenchTarget, o: ServerBenchOptions): Promise<Row[]> {
  const place = await target.fresh();
  const server = await startServer(place);
  const rows: Row[] = [];
  const runs: LatencyStats[] = [];
  try {
    await sleep(1000);
    const atStart = server.memory();
    const started = performance.now();
    let done = 0;
    const run = async (n: number, paceMs?: number, untilStarted = false) => {
      const stats = await measureLatency(server, Math.min(n, o.total - done), paceMs, untilStarted);
      done += stats.total;
      runs.push(stats);
      return stats;
    };
    await run(WARM_UP);
    if (o.withLatency) {
      const closed = await run(LATENCY_REQUESTS, undefined, true);
      const busy = await run(LATENCY_REQUESTS);
      const paced = await run(PACED_REQUESTS, 1000);
      rows.push(...latencyRows(target.kind, busy, paced, closed));
    }
    const midway = { done, ...server.memory() };
    const scales = o.mixed ? done : o.total;
    while (done < scales) await run(scales - done);
    const status = o.total - done;
    if (status > 0) await statusRuns(server, status);
    const seconds = (performance.now() - started) / 1000;
    const after = server.memory();
    const calls = runs.reduce((a, r) => a + r.total * 2 + r.windowAcks, 0);
    const what =
      `${int(scales)} prod scale requests (${int(calls)} mutating API calls, ${int(scales)} executions)` +
      (status > 0 ? ` + ${int(status)} status requests` : '');
    rows.push(
      {
        store: target.kind,
        metric: 'server RSS after start',
        value: `${atStart.rssMb.toFixed(0)} MB`,
        target: `≤ ${MEMORY_TARGET_MB} MB`,
        pass: atStart.rssMb <= MEMORY_TARGET_MB,
      },
      {
        store: target.kind,
        metric: `server RSS after ${int(o.total)} requests`,
        value: `${after.rssMb.toFixed(0)} MB`,
        detail:
          `peak ${after.hwmMb.toFixed(0)} MB, ${midway.rssMb.toFixed(0)} MB after ${int(midway.done)}; ` +
          `${what} in ${seconds.toFixed(0)} s`,
        target: `≤ ${MEMORY_TARGET_MB} MB`,
        pass: after.rssMb <= MEMORY_TARGET_MB,
      },
    );
  } finally {
    await server.stop();
    await place.cleanup();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const rows: Row[] = [];
  const options = {
    total: requestsArg(10_000),
    withLatency: false,
    mixed: process.argv.includes('--mixed'),
  };
  await forEachTarget(async (t) => {
    rows.push(...(await benchServer(t, options)));
  }, onlyStore());
  printTable(rows);
}
