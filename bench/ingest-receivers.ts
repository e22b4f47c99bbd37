/**
 * Where the two systems' notifications land, in a process of its own (so the load
 * generator's work never delays a timestamp): a fake of Slack's Web API for Countersign
 * (enough of it for alert messages: `auth.test`, `chat.postMessage`, `chat.update`, empty
 * `conversations.history`) and Alertmanager webhook receivers (`/hook/probe`,
 * `/hook/bulk`). Each request's arrival (once its body is read) is stamped with
 * `performance.timeOrigin + performance.now()`, ms since epoch, which agrees with the
 * parent's clock to a few microseconds. Latency probes are recognised by name in the body:
 * `bench-probe-<channel>-<n>` (Countersign) and `BenchProbe_<n>` (Alertmanager); a message
 * that also names an incident (`INC-…`) is recorded as `<probe>:incident`.
 *
 * `GET /stats` answers `{ calls: {<method or hook>: count}, probes: {<id>: {at, via}} }`;
 * `POST /reset` forgets everything. The parent starts it with `startReceivers()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const PROBE = /bench-probe-\d+-\d+|BenchProbe_\d+/g;

export interface ProbeArrival {
  /** ms since epoch, sub-ms precision. */
  at: number;
  /** `chat.postMessage`, `chat.update` or `hook/probe`. */
  via: string;
}

export interface ReceiverStats {
  calls: Record<string, number>;
  probes: Record<string, ProbeArrival>;
}

function serve(): void {
  const calls: Record<string, number> = {};
  let probes: Record<string, ProbeArrival> = {};
  let ts = 1_700_000_000;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.timeOrigin + performance.now();
      const url = req.url ?? '/';
      if (req.method === 'GET' && url === '/stats') return json(res, { calls, probes });
      if (req.method === 'POST' && url === '/reset') {
        for (const k of Object.keys(calls)) delete calls[k];
        probes = {};
        return json(res, { ok: true });
      }
      const api = /^\/api\/([A-Za-z.]+)$/.exec(url);
      const what = api ? api[1]! : url.replace(/^\//, '');
      calls[what] = (calls[what] ?? 0) + 1;
      if (what === 'chat.postMessage' || what === 'chat.update' || what === 'hook/probe') {
        const body = Buffer.concat(chunks).toString('utf8');
        // An incident header (it names an INC- id) is told apart from the alert's message.
        const tag = /INC-[0-9A-Z]{10,}/.test(body) ? ':incident' : '';
        for (const id of body.match(PROBE) ?? []) probes[`${id}${tag}`] ??= { at, via: what };
      }
      if (!api) return json(res, {});
      return json(
        res,
        slackAnswer(what, req, () => `${++ts}.000100`),
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    console.log(`listening ${(server.address() as AddressInfo).port}`);
  });
  process.on('SIGTERM', () => process.exit(0));
}

function slackAnswer(method: string, req: IncomingMessage, nextTs: () => string): object {
  if (!/^Bearer /.test(req.headers.authorization ?? '')) return { ok: false, error: 'not_authed' };
  switch (method) {
    case 'auth.test':
      return { ok: true, team_id: 'T0BENCH', user_id: 'U0BOT', bot_id: 'B0BOT', user: 'bench' };
    case 'chat.postMessage': {
      const ts = nextTs();
      return { ok: true, ts, message: { ts, user: 'U0BOT', bot_id: 'B0BOT' } };
    }
    case 'conversations.history':
    case 'conversations.replies':
      return { ok: true, messages: [], has_more: false, response_metadata: { next_cursor: '' } };
    default:
      return { ok: true };
  }
}

function json(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export interface Receivers {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  stats(): Promise<ReceiverStats>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the receivers as a child process; resolves once it listens. */
export async function startReceivers(): Promise<Receivers> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(import.meta.dirname, 'ingest-receivers.ts')],
    { cwd: resolve(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((ok, fail) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.once('exit', (code) => fail(new Error(`the receivers exited (${code})`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    stats: async () => (await (await fetch(`${url}/stats`)).json()) as ReceiverStats,
    reset: async () => {
      await (await fetch(`${url}/reset`, { method: 'POST' })).arrayBuffer();
    },
    stop: async () => {
      child.kill('SIGTERM');
      await gone;
    },
  };
}

// Not `isMain` from lib.ts: that module loads the stores, which this process never needs.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) serve();
