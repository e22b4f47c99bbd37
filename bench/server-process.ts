/**
 * The real server as a child process (`node dist/main.js`, compiled by
 * `scripts/build-server.mjs` as `npm start` runs it; `BENCH_SOURCES=1` runs the TypeScript
 * sources through tsx instead), a keep-alive HTTP client, and the load both server benchmarks drive: concurrent
 * requesters each running prod `scale` requests through their whole life — alice asks,
 * dave acknowledges the change window when the request needs it (outside Mon–Fri
 * 07:00–20:00 UTC), bob gives the approval that makes it run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { type Place, processMemory, sleep } from './lib.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** The V8 flags `npm start` passes (package.json), so the benchmark measures what ships. */
const START_FLAGS = [
  '--max-semi-space-size=2',
  ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
];

let built = false;
/** The node arguments that start the server: the compiled one (built once per run) by default. */
function entryArgs(entry: string | undefined): string[] {
  if (entry || process.env.BENCH_SOURCES === '1') {
    return ['--import', 'tsx', entry ?? 'src/main.ts'];
  }
  if (!built) {
    execFileSync(process.execPath, ['scripts/build-server.mjs'], { cwd: ROOT, stdio: 'inherit' });
    built = true;
  }
  return ['dist/main.js'];
}

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: responses are read field by field
  json: any;
  /** Round trip, milliseconds. */
  ms: number;
}

export interface Server {
  pid: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Resident and peak memory of the server process, MB. */
  memory(): { rssMb: number; hwmMb: number };
  call(method: 'GET' | 'POST', path: string, as: string, body?: unknown): Promise<Answer>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

/** Starts the server on `place` with the demo catalog; resolves once `/healthz` answers. */
export async function startServer(
  place: Place,
  options: { env?: Record<string, string>; nodeArgs?: string[]; entry?: string } = {},
): Promise<Server> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env))
    if (k.startsWith('COUNTERSIGN_') || k === 'DATABASE_URL') delete env[k];
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    COUNTERSIGN_DATA: place.dataDir,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ...(place.databaseUrl ? { DATABASE_URL: place.databaseUrl } : {}),
    ...options.env,
  });
  const child: ChildProcess = spawn(
    process.execPath,
    [...START_FLAGS, ...(options.nodeArgs ?? []), ...entryArgs(options.entry)],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  // BENCH_SERVER_LOG=<file> keeps the whole server log there, for looking into a figure.
  const logFile = process.env.BENCH_SERVER_LOG;
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
    if (logFile) appendFileSync(logFile, b);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const gone = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true;
      r();
    }),
  );

  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const call: Server['call'] = (method, path, as, body) =>
    new Promise((ok, fail) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const started = performance.now();
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent,
          headers: {
            authorization: `Bearer cs_demo_${as}`,
            ...(payload ? { 'content-type': 'application/json' } : {}),
          },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => {
            const ms = performance.now() - started;
            const text = Buffer.concat(parts).toString();
            let json: unknown = text;
            try {
              json = JSON.parse(text);
            } catch {}
            ok({ status: res.statusCode ?? 0, json, ms });
          });
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end(payload);
    });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`the server exited while starting:\n${output}`);
    try {
      const r = await call('GET', '/healthz', 'alice');
      if (r.status === 200) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not answer /healthz within 60 s:\n${output}`);
    }
    await sleep(100);
  }
  const pid = child.pid!;
  return {
    pid,
    url: `http://127.0.0.1:${port}`,
    memory: () => processMemory(pid),
    call,
    async stop() {
      agent.destroy();
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** One request's figures. */
export interface Lifecycle {
  id: string;
  /** POST /requests round trip, ms. */
  createMs: number;
  /** POST …/approve round trip of the final approval, ms. */
  approveMs: number;
  /** Whether dave's window acknowledgement was needed. */
  windowAck: boolean;
}

export interface LoadResult {
  lifecycles: Lifecycle[];
  seconds: number;
}

function expect(a: Answer, status: number, what: string): void {
  if (a.status !== status) {
    throw new Error(`${what}: HTTP ${a.status} ${JSON.stringify(a.json).slice(0, 400)}`);
  }
}

/**
 * `requesters` loops, `total` requests between them: each asks for a prod scale, gets the
 * window acknowledged when needed, and approves it, then at once starts the next (or, with
 * `paceMs`, waits for its next turn). Execution happens in the server's
 * outbox worker afterwards; `waitForExecutions` collects the outcome.
 */
export async function driveLifecycles(
  server: Server,
  requesters: number,
  total: number,
  /** When set, each requester starts one request every `paceMs` (a person's pace), not back to back. */
  paceMs?: number,
  /**
   * Closed loop: each requester waits until its request has started running before it asks
   * again, so at most `requesters` requests are in flight (a person watching their change).
   */
  untilStarted = false,
): Promise<LoadResult> {
  const lifecycles: Lifecycle[] = [];
  let next = 0;
  const loop = async () => {
    if (paceMs) await sleep(Math.random() * paceMs);
    while (next < total) {
      const began = performance.now();
      const n = next++;
      const created = await server.call('POST', '/api/v1/requests', 'alice', {
        text: `scale checkout-api prod replicas=${1 + (n % 50)} ticket=CHG-1`,
      });
      expect(created, 201, 'create');
      const r = created.json.request as {
        id: string;
        digest: string;
        requirements: { kind: string }[];
      };
      const windowAck = r.requirements.some((q) => q.kind === 'window-ack');
      if (windowAck) {
        const ack = await server.call('POST', `/api/v1/requests/${r.id}/approve`, 'dave', {
          digest: r.digest,
          kind: 'window-ack',
        });
        expect(ack, 200, 'window-ack');
      }
      const approved = await server.call('POST', `/api/v1/requests/${r.id}/approve`, 'bob', {
        digest: r.digest,
        kind: 'approval',
      });
      expect(approved, 200, 'approve');
      if (approved.json.request.state !== 'approved' && approved.json.request.state !== 'running') {
        // It may already have finished if the worker was quick; anything else is a bug.
        const s = approved.json.request.state;
        if (!['succeeded', 'failed'].includes(s)) throw new Error(`approve left ${r.id} ${s}`);
      }
      lifecycles.push({ id: r.id, createMs: created.ms, approveMs: approved.ms, windowAck });
      if (untilStarted) await waitUntilStarted(server, r.id);
      if (paceMs) await sleep(paceMs - (performance.now() - began));
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: requesters }, loop));
  return { lifecycles, seconds: (performance.now() - started) / 1000 };
}

/** Polls until the request has left `approved` (it is running or done). */
async function waitUntilStarted(server: Server, id: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await server.call('GET', `/api/v1/requests/${id}`, 'carol');
    if (got.json.request?.state !== 'approved') return;
    if (Date.now() > deadline) throw new Error(`${id} did not start in ${timeoutMs} ms`);
    await sleep(5);
  }
}

export interface Executed {
  id: string;
  /** `execution.startedAt` − the final approval's `at`, server clock, ms. */
  approvalToStartMs: number;
  state: string;
  /** The execution's error, when it failed. */
  error?: string;
}

/** Waits until every request's execution has finished, then reads the server-side timings. */
export async function waitForExecutions(
  server: Server,
  ids: readonly string[],
  timeoutMs = 120_000,
): Promise<Executed[]> {
  const deadline = Date.now() + timeoutMs;
  const out: Executed[] = [];
  const pending = [...ids];
  while (pending.length > 0) {
    const id = pending[pending.length - 1]!;
    const a = await server.call('GET', `/api/v1/requests/${id}`, 'carol');
    expect(a, 200, 'get');
    const r = a.json.request as {
      state: string;
      signOffs: { kind: string; by: string; at: number }[];
      execution?: { startedAt: number; error?: string };
    };
    if (r.execution?.startedAt === undefined || r.state === 'running') {
      if (Date.now() > deadline) throw new Error(`${id} did not finish within the timeout`);
      await sleep(50);
      continue;
    }
    pending.pop();
    const approval = r.signOffs.filter((s) => s.kind === 'approval').at(-1);
    if (!approval) throw new Error(`${id} ran without an approval`);
    out.push({
      id,
      approvalToStartMs: r.execution.startedAt - approval.at,
      state: r.state,
      ...(r.execution.error ? { error: r.execution.error } : {}),
    });
  }
  return out;
}

/**
 * Waits until no request is approved or running and the outbox is empty (executions and
 * notifications done), reading `countersign_outbox_depth` from /metrics.
 */
export async function waitForQuietOutbox(server: Server, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = await server.call('GET', '/api/v1/requests?state=approved,running&limit=1', 'carol');
    expect(a, 200, 'list');
    const m = await server.call('GET', '/metrics', 'carol');
    const depth = Number(/^countersign_outbox_depth (\d+)/m.exec(String(m.json))?.[1] ?? 0);
    if ((a.json.requests as unknown[]).length === 0 && depth === 0) return;
    if (Date.now() > deadline) throw new Error('the outbox did not empty within the timeout');
    await sleep(200);
  }
}
