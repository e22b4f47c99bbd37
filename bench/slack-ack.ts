/**
 * Slack: how fast `/slack/events` acknowledges slash commands with 50 in flight at once
 * (Slack gives up at 3 s; target p99 ≤ 100 ms), and how many Web API calls one approved
 * request costs (target: no more than its views need — one prompt, its in-place updates,
 * one result reply). The real server runs as a child process with its Web API client
 * pointed at a local fake of Slack that records every call.
 *
 *   node --import tsx bench/slack-ack.ts [--sqlite|--postgres]
 */
import {
  blockActionsBody,
  signedSlackRequest,
  slashCommandBody,
  startFakeSlack,
} from '../test/support/slack.ts';
import {
  type BenchTarget,
  forEachTarget,
  isMain,
  median,
  ms,
  percentile,
  printTable,
  type Row,
  range,
  sleep,
} from './lib.ts';
import { startServer } from './server-process.ts';

const SECRET = 'bench-signing-secret-0123456789';
const CONCURRENCY = 50;
const ROUNDS = 5;

export async function benchSlack(target: BenchTarget): Promise<Row[]> {
  const place = await target.fresh();
  const slack = await startFakeSlack();
  const server = await startServer(place, {
    env: {
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_API_URL: slack.apiUrl,
    },
  });
  try {
    const base = server.url;
    const send = async (body: string) => {
      const started = performance.now();
      const res = await fetch(`${base}/slack/events`, { method: 'POST', ...signed(body) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`slack answered ${res.status}`);
      return performance.now() - started;
    };
    // Calls per approved request first, while the channel lanes are idle.
    const calls = await callsPerApprovedRequest(base, slack, server.call.bind(server));
    // Warm up the paths once.
    await send(
      slashCommandBody({
        text: 'status checkout-api staging',
        userId: 'U01CAROL',
        responseUrl: slack.responseUrl('warm'),
      }),
    );
    const acks: number[] = [];
    const p99s: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const batch = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) =>
          send(
            slashCommandBody({
              text: commandText(i, round),
              userId: i % 2 ? 'U01CAROL' : 'U01ALICE',
              responseUrl: slack.responseUrl(`r${round}-${i}`),
            }),
          ),
        ),
      );
      acks.push(...batch);
      p99s.push(percentile(batch, 99));
      await sleep(200);
    }
    return [
      {
        store: target.kind,
        metric: `slash-command ack, ${CONCURRENCY} concurrent, median`,
        value: ms(median(acks)),
      },
      {
        store: target.kind,
        metric: `slash-command ack, ${CONCURRENCY} concurrent, p99`,
        value: ms(percentile(acks, 99)),
        detail: range(p99s, ms),
        target: '≤ 100 ms',
        pass: percentile(acks, 99) <= 100,
      },
      {
        store: target.kind,
        metric: 'Web API calls per approved request',
        value: String(calls.total),
        detail: Object.entries(calls.byMethod)
          .map(([m, n]) => `${m} ${n}`)
          .join(', '),
        target: '1 post + 1 update per state + 1 reply',
        pass: calls.total <= calls.budget,
      },
    ];
  } finally {
    await server.stop();
    await slack.close();
    await place.cleanup();
  }
}

/**
 * Half read-only status runs, half prod deploy requests (each posts a prompt). Set
 * BENCH_TEXT to send one fixed text instead (e.g. `help`, to measure the ack path alone).
 */
function commandText(i: number, round: number): string {
  if (process.env.BENCH_TEXT) return process.env.BENCH_TEXT;
  return i % 2
    ? 'status checkout-api prod'
    : `deploy checkout-api prod version=1.${round}.${i} ticket=CHG-${round}`;
}

function signed(body: string) {
  const req = signedSlackRequest(SECRET, body);
  return { headers: req.headers, body: req.payload };
}

/** One prod deploy from request to result, over Slack payloads; counts the calls it made. */
async function callsPerApprovedRequest(
  base: string,
  slack: Awaited<ReturnType<typeof startFakeSlack>>,
  call: (
    method: 'GET' | 'POST',
    path: string,
    as: string,
    body?: unknown,
  ) => Promise<{
    json: {
      request?: { id: string; digest: string; state: string; requirements: { kind: string }[] };
    };
  }>,
) {
  const before = slack.calls.length;
  const created = await call('POST', '/api/v1/requests', 'alice', {
    text: 'deploy checkout-api prod version=1.4.2 ticket=CHG-99',
  });
  const r = created.json.request!;
  if (r.requirements.some((q) => q.kind === 'window-ack')) {
    await call('POST', `/api/v1/requests/${r.id}/approve`, 'dave', {
      digest: r.digest,
      kind: 'window-ack',
    });
  }
  const prompt = await waitFor(() =>
    slack.callsTo('chat.postMessage').find((c) => JSON.stringify(c.params).includes(r.id)),
  );
  const blocks = prompt.params.blocks as { elements?: { action_id: string; value: string }[] }[];
  const approve = blocks
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === 'cs_approve')!;
  await fetch(`${base}/slack/events`, {
    method: 'POST',
    ...signed(
      blockActionsBody({
        actionId: 'cs_approve',
        value: approve.value,
        userId: 'U01BOB',
        channelId: 'C01APPROVALS',
        responseUrl: slack.responseUrl('approve'),
      }),
    ),
  });
  await waitFor(async () =>
    (await call('GET', `/api/v1/requests/${r.id}`, 'carol')).json.request?.state === 'succeeded'
      ? true
      : undefined,
  );
  await sleep(2500); // let the last coalesced update and the reply go out (1 call/s per channel)
  const mine = slack.calls.slice(before).filter((c) => c.method !== 'auth.test');
  const byMethod: Record<string, number> = {};
  for (const c of mine) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
  // The views it needs: the prompt, one update per later state (window-ack?, approved, running, succeeded), one reply.
  const states = 3 + (r.requirements.some((q) => q.kind === 'window-ack') ? 1 : 0);
  return { total: mine.length, byMethod, budget: 1 + states + 1 };
}

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  msMax = 15_000,
): Promise<T> {
  const deadline = Date.now() + msMax;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(25);
  }
}

if (isMain(import.meta.url)) {
  const rows: Row[] = [];
  await forEachTarget(async (t) => {
    rows.push(...(await benchSlack(t)));
  });
  printTable(rows);
}
