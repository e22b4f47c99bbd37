/**
 * Request → approval → execution start under 50 concurrent requesters, against the real
 * server process (see `server-process.ts` for the load). Two loads, each after a warm-up:
 *   - back to back: 50 loops, each starting its next request as soon as the last is
 *     approved (the server is saturated: this is the target's load);
 *   - paced: 50 loops, each starting one request a second (≈ 50 requests/s, below what this
 *     machine can execute), to show the latency when work does not queue.
 * Figures:
 *   - create: POST /api/v1/requests round trip (includes the preview handler run);
 *   - approve: the final approval's POST …/approve round trip;
 *   - approval → execution start: `execution.startedAt` − the approval's `at`, both stamped
 *     by the server's clock (ms), read back from GET /api/v1/requests/:id afterwards.
 *
 *   node --import tsx bench/approval-latency.ts [--sqlite|--postgres] [--requests=N]
 */
import {
  type BenchTarget,
  forEachTarget,
  isMain,
  median,
  ms,
  onlyStore,
  percentile,
  printTable,
  type Row,
} from './lib.ts';
import {
  driveLifecycles,
  type Server,
  startServer,
  waitForExecutions,
  waitForQuietOutbox,
} from './server-process.ts';

export const REQUESTERS = 50;
export const LATENCY_TARGET_MS = 20;
/** Enough back-to-back requests to grow the handler worker pool to its maximum and warm the JIT. */
export const WARM_UP = 300;
/** Requests in the paced run: 10 s at 50 requests/s. */
export const PACED_REQUESTS = 500;

export interface LatencyStats {
  total: number;
  seconds: number;
  toStart: number[];
  create: number[];
  approve: number[];
  windowAcks: number;
  notSucceeded: number;
  /** The first execution error seen, if any. */
  firstError?: string;
}

/** Drives `total` lifecycles on a running server and waits for every execution to start. */
export async function measureLatency(
  server: Server,
  total: number,
  paceMs?: number,
  untilStarted = false,
): Promise<LatencyStats> {
  const load = await driveLifecycles(server, REQUESTERS, total, paceMs, untilStarted);
  const executed = await waitForExecutions(
    server,
    load.lifecycles.map((l) => l.id),
  );
  await waitForQuietOutbox(server);
  return {
    total,
    seconds: load.seconds,
    toStart: executed.map((e) => e.approvalToStartMs),
    create: load.lifecycles.map((l) => l.createMs),
    approve: load.lifecycles.map((l) => l.approveMs),
    windowAcks: load.lifecycles.filter((l) => l.windowAck).length,
    notSucceeded: executed.filter((e) => e.state !== 'succeeded').length,
    ...(executed.find((e) => e.error) ? { firstError: executed.find((e) => e.error)?.error } : {}),
  };
}

const medP99 = (xs: number[]) => `${ms(median(xs))} / ${ms(percentile(xs, 99))}`;

export function latencyRows(
  kind: BenchTarget['kind'],
  busy: LatencyStats,
  paced?: LatencyStats,
  closed?: LatencyStats,
): Row[] {
  const acks = busy.windowAcks > 0 ? `; dave's window-ack first on ${busy.windowAcks}` : '';
  const rows: Row[] = [];
  if (closed) {
    const p99 = percentile(closed.toStart, 99);
    rows.push({
      store: kind,
      metric: 'approval → execution start, 50 requesters, p99 (median)',
      value: `${ms(p99)} (${ms(median(closed.toStart))})`,
      detail: `${closed.total} requests; each requester asks again once its last has started; max ${ms(Math.max(...closed.toStart))}`,
      target: `≤ ${LATENCY_TARGET_MS} ms${kind === 'sqlite' ? '' : ' on SQLite'}`,
      ...(kind === 'sqlite' ? { pass: p99 <= LATENCY_TARGET_MS } : {}),
    });
  }
  rows.push(
    {
      store: kind,
      metric: 'saturated: approval → execution start, p99 (median)',
      value: `${ms(percentile(busy.toStart, 99))} (${ms(median(busy.toStart))})`,
      detail: `${busy.total} requests, ${REQUESTERS} requesters asking again as soon as approved (approvals outrun executions: a queue); max ${ms(Math.max(...busy.toStart))}`,
    },
    {
      store: kind,
      metric: 'create request round trip, median / p99',
      value: medP99(busy.create),
      detail: 'POST /api/v1/requests, runs the preview handler',
    },
    {
      store: kind,
      metric: 'approve round trip, median / p99',
      value: medP99(busy.approve),
      detail: `bob's approval, the final sign-off${acks}`,
    },
    {
      store: kind,
      metric: 'requests through approval per second',
      value: `${(busy.total / busy.seconds).toFixed(0)} /s`,
      detail: `back to back${busy.notSucceeded ? `; ${busy.notSucceeded} executions did not succeed (${busy.firstError?.slice(0, 80)})` : ''}`,
    },
  );
  if (paced) {
    rows.push({
      store: kind,
      metric: 'paced: approval → execution start, p99 (median)',
      value: `${ms(percentile(paced.toStart, 99))} (${ms(median(paced.toStart))})`,
      detail: `${paced.total} requests, ${REQUESTERS} requesters at 1 request/s each; create ${medP99(paced.create)}, approve ${medP99(paced.approve)}`,
    });
  }
  return rows;
}

function requestsArg(fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith('--requests='));
  return arg ? Number(arg.slice('--requests='.length)) : fallback;
}

/** A server of its own: warm-up, back-to-back run, paced run. */
export async function benchLatency(target: BenchTarget, total = requestsArg(1000)): Promise<Row[]> {
  const place = await target.fresh();
  const server = await startServer(place);
  try {
    await measureLatency(server, WARM_UP);
    const closed = await measureLatency(server, total, undefined, true);
    const busy = await measureLatency(server, total);
    const paced = await measureLatency(server, PACED_REQUESTS, 1000);
    return latencyRows(target.kind, busy, paced, closed);
  } finally {
    await server.stop();
    await place.cleanup();
  }
}

if (isMain(import.meta.url)) {
  const rows: Row[] = [];
  await forEachTarget(async (t) => {
    rows.push(...(await benchLatency(t)));
  }, onlyStore());
  printTable(rows);
}
