/**
 * The load generator of the ingest comparison: a minimal keep-alive HTTP/1.1 client over
 * `node:net`, used the same way for Countersign and for Alertmanager. Node's `http` client
 * costs about three times the CPU per request (measured on this 2-core box: 2,200 vs 6,100
 * single-alert POSTs/s against the same Alertmanager), and the load generator shares the
 * cores with the server it measures, so the lean client keeps more of the machine for the
 * servers. It understands what both servers answer: a status line, headers and a
 * `Content-Length` body (a chunked answer is an error).
 */
import { connect, type Socket } from 'node:net';
import { percentile } from './lib.ts';

/** Milliseconds since epoch with sub-millisecond precision, comparable across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** Where requests go: a loopback port, a path and fixed headers (content type, token). */
export interface Endpoint {
  port: number;
  path: string;
  headers: Readonly<Record<string, string>>;
}

export interface Answer {
  status: number;
  /** `epochMs()` just before the request was written to the socket. */
  sentAt: number;
  /** Round trip, ms. */
  ms: number;
}

interface Pending {
  resolve(a: Answer): void;
  reject(err: Error): void;
  sentAt: number;
}

/** One connection carrying one request at a time (no pipelining), as a keep-alive client does. */
export class KeepAliveConnection {
  private buffered: Buffer | undefined;
  private pending: Pending | undefined;
  private closed: Error | undefined;
  private readonly prefix: string;

  private constructor(
    private readonly socket: Socket,
    endpoint: Endpoint,
  ) {
    const fixed = Object.entries(endpoint.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    this.prefix = `POST ${endpoint.path} HTTP/1.1\r\nHost: 127.0.0.1:${endpoint.port}\r\n${fixed}Content-Length: `;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    const fail = (err: Error) => {
      this.closed = err;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static open(endpoint: Endpoint): Promise<KeepAliveConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(endpoint.port, '127.0.0.1');
      socket.once('connect', () => resolve(new KeepAliveConnection(socket, endpoint)));
      socket.once('error', reject);
    });
  }

  /** POSTs `body` (JSON text) and resolves with the status once the whole answer is read. */
  post(body: string): Promise<Answer> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.pending) return Promise.reject(new Error('one request at a time'));
    return new Promise((resolve, reject) => {
      const sentAt = epochMs();
      this.pending = { resolve, reject, sentAt };
      this.socket.write(`${this.prefix}${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    const buf = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      this.buffered = buf;
      return;
    }
    const head = buf.toString('latin1', 0, end);
    if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      this.socket.destroy(new Error('chunked answers are not supported by this client'));
      return;
    }
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (buf.length < end + 4 + length) {
      this.buffered = buf;
      return;
    }
    this.buffered = buf.length > end + 4 + length ? buf.subarray(end + 4 + length) : undefined;
    const p = this.pending;
    this.pending = undefined;
    p?.resolve({ status: Number(head.slice(9, 12)), sentAt: p.sentAt, ms: epochMs() - p.sentAt });
  }
}

export interface LoadResult {
  /** Requests answered 2xx. */
  ok: number;
  /** Answers by status, 2xx included. */
  statuses: Record<number, number>;
  /** Requests that got no answer (connection reset, server gone). */
  errors: number;
  /** Wall time of the run, s. */
  seconds: number;
  /** Client-side round trip of the 2xx answers, ms. */
  p50Ms: number;
  p99Ms: number;
}

function tally(): {
  note(a: Answer): void;
  fail(): void;
  result(seconds: number): LoadResult;
} {
  const statuses: Record<number, number> = {};
  const times: number[] = [];
  let errors = 0;
  return {
    note(a) {
      statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      if (a.status >= 200 && a.status < 300) times.push(a.ms);
    },
    fail() {
      errors += 1;
    },
    result(seconds) {
      return {
        ok: times.length,
        statuses,
        errors,
        seconds,
        p50Ms: percentile(times, 50),
        p99Ms: percentile(times, 99),
      };
    },
  };
}

/**
 * Closed loop: `connections` clients, each sending its next request as soon as the last is
 * answered, for `seconds`. `body(i)` makes request i (`firstIndex`, +1, +2 … across all
 * clients). A client whose connection fails stops (the restart test kills the server).
 */
export async function closedLoop(o: {
  endpoint: Endpoint;
  connections: number;
  seconds: number;
  body: (i: number) => string;
  firstIndex?: number;
  /** Stop after this many requests in all (default: no limit). */
  requests?: number;
}): Promise<LoadResult> {
  const t = tally();
  let next = o.firstIndex ?? 0;
  const last = next + (o.requests ?? Number.POSITIVE_INFINITY);
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  const client = async () => {
    let conn: KeepAliveConnection;
    try {
      conn = await KeepAliveConnection.open(o.endpoint);
    } catch {
      t.fail();
      return;
    }
    try {
      while (performance.now() < deadline && next < last) {
        t.note(await conn.post(o.body(next++)));
      }
    } catch {
      t.fail();
    } finally {
      conn.close();
    }
  };
  await Promise.all(Array.from({ length: o.connections }, client));
  return t.result((performance.now() - started) / 1000);
}

/** One request of a paced run; a `probe` id marks the requests whose delay to chat is measured. */
export interface PacedRequest {
  body: string;
  probe?: string;
}

export interface PacedResult extends LoadResult {
  /** `epochMs()` at which each probe was written to its socket. */
  probesSentAt: Map<string, number>;
  /** How far the sender fell behind its schedule at worst, ms (no free connection, busy loop). */
  maxBehindMs: number;
}

/**
 * Open loop: `rate` requests a second for `seconds`, on a pool of up to `connections`
 * keep-alive connections (a request waits for a free one; `maxBehindMs` reports it).
 */
export async function pacedLoad(o: {
  endpoint: Endpoint;
  connections: number;
  rate: number;
  seconds: number;
  request: (i: number) => PacedRequest;
}): Promise<PacedResult> {
  const t = tally();
  const idle: KeepAliveConnection[] = [];
  for (let i = 0; i < o.connections; i++) idle.push(await KeepAliveConnection.open(o.endpoint));
  const total = Math.round(o.rate * o.seconds);
  const probesSentAt = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let maxBehindMs = 0;
  const started = performance.now();
  const send = (conn: KeepAliveConnection, r: PacedRequest) => {
    if (r.probe) probesSentAt.set(r.probe, epochMs());
    const p = conn.post(r.body).then(
      (a) => {
        t.note(a);
        idle.push(conn);
      },
      () => t.fail(),
    );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * o.rate) / 1000));
    while (sent < due) {
      const conn = idle.pop();
      if (!conn) break;
      send(conn, o.request(sent));
      sent += 1;
    }
    const behind = ((due - sent) * 1000) / o.rate;
    if (behind > maxBehindMs) maxBehindMs = behind;
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  for (const c of idle) c.close();
  return { ...t.result((performance.now() - started) / 1000), probesSentAt, maxBehindMs };
}
