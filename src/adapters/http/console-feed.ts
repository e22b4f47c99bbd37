/**
 * `GET /api/v1/feed`: the audit log as it is written, as server-sent events.
 *
 * On connect the client gets the entries after `Last-Event-ID` (or `?after=`), at most the
 * newest 500 of them, then every new entry it may see: `id: <seq>`, `event: audit`, `data:`
 * the entry as `GET /api/v1/audit` returns it. One poller (every 250 ms, only while someone
 * listens) reads new entries for all clients, so a hundred open consoles cost one query.
 * Joining and polling run one at a time, so an entry is never sent twice or skipped between
 * the replay and the live part. A `: ping` comment every 15 s keeps proxies from closing the
 * stream; a client that stops reading (over 1 MB queued) is dropped.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../../app/context.ts';
import type { AuditEntry } from '../../domain/audit-chain.ts';
import { auditVisibility } from '../../domain/audit-visibility.ts';

import { parse } from './api-routes.ts';
import { sessionOf } from './auth.ts';
import { routeKit } from './route-kit.ts';

export interface FeedOptions {
  /** How often new entries are looked for while someone listens, in ms. Default 250. */
  pollMs?: number;
  /** How often an idle stream gets a `: ping` comment, in ms. Default 15 000. */
  pingMs?: number;
}

export const FeedQuery = z.strictObject({ after: z.coerce.number().int().min(0).optional() });

/** Replayed on connect at most; older missed entries are in `GET /api/v1/audit`. */
const REPLAY = 500;
const PAGE = 1000;
/** A client with this much unsent output is not reading: it is dropped. */
const MAX_QUEUED_BYTES = 1_048_576;

export interface FeedClient {
  res: ServerResponse;
  /** Set when the connection closed; such a client is never (re)added. */
  gone: boolean;
  /** The largest seq this client has been given or skipped. */
  cursor: number;
  visible: (e: AuditEntry) => boolean;
  /** For a console session: its id hash and end (ms since epoch); the stream ends with it. */
  session?: { idHash: string; expiresAt: number };
}

/** The one poller behind every open feed. */
export class AuditFeed {
  private readonly clients = new Set<FeedClient>();
  /** The largest seq read from the store; undefined until the first client joins. */
  private lastSeq: number | undefined;
  private queue: Promise<void> = Promise.resolve();
  private poller: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly deps: AppDeps,
    private readonly opts: Required<FeedOptions>,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Sends the replay after `after` (if given), then keeps `client` for new entries. */
  join(client: FeedClient, after: number | undefined): Promise<void> {
    return this.serially(async () => {
      if (this.closed) return void client.res.end();
      this.lastSeq ??= (await this.deps.store.auditHead())?.seq ?? 0;
      client.cursor = this.lastSeq;
      if (after !== undefined) {
        const head = (await this.deps.store.auditHead())?.seq ?? 0;
        client.cursor = Math.max(after, head - REPLAY);
        const entries = await this.deps.store.queryAudit({
          afterSeq: client.cursor,
          limit: REPLAY,
        });
        this.deliver(client, entries);
      }
      if (client.gone) return;
      this.clients.add(client);
      this.startTimers();
    });
  }

  /** Ends every stream and stops polling; later joins end at once. */
  close(): void {
    this.closed = true;
    this.stopTimers();
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  /** Ends the streams of a session that ended (sign-out) in this process. */
  endSession(idHash: string): void {
    for (const c of this.clients) {
      if (c.session?.idHash === idHash) this.drop(c);
    }
  }

  private drop(client: FeedClient): void {
    this.leave(client);
    client.res.end();
  }

  /** Forgets a client whose connection closed. */
  leave(client: FeedClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopTimers();
  }

  private poll(): Promise<void> {
    return this.serially(async () => {
      if (this.clients.size === 0 || this.lastSeq === undefined) return;
      const now = this.deps.clock.now();
      for (const c of this.clients) {
        if (c.session && c.session.expiresAt <= now) this.drop(c);
      }
      for (;;) {
        const entries = await this.deps.store.queryAudit({ afterSeq: this.lastSeq, limit: PAGE });
        for (const c of this.clients) this.deliver(c, entries);
        if (entries.length > 0) this.lastSeq = entries[entries.length - 1]!.seq;
        if (entries.length < PAGE || this.closed) return;
      }
    });
  }

  private deliver(client: FeedClient, entries: readonly AuditEntry[]): void {
    let out = '';
    for (const e of entries) {
      if (e.seq <= client.cursor) continue;
      client.cursor = e.seq;
      if (client.visible(e)) out += `id: ${e.seq}\nevent: audit\ndata: ${JSON.stringify(e)}\n\n`;
    }
    if (out) this.write(client, out);
  }

  private write(client: FeedClient, text: string): void {
    if (client.gone) return;
    if (client.res.writableLength > MAX_QUEUED_BYTES) {
      this.leave(client);
      client.res.destroy();
      return;
    }
    client.res.write(text);
  }

  /** Runs `fn` after everything queued before it; a failure is logged, not thrown on. */
  private serially(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn).catch((err: unknown) => {
      this.deps.log.warn({ err }, 'audit feed: reading new entries failed');
    });
    this.queue = run;
    return run;
  }

  private startTimers(): void {
    if (this.poller || this.closed) return;
    this.poller = setInterval(() => void this.poll(), this.opts.pollMs);
    this.pinger = setInterval(() => {
      for (const c of this.clients) this.write(c, ': ping\n\n');
    }, this.opts.pingMs);
    this.poller.unref();
    this.pinger.unref();
  }

  private stopTimers(): void {
    clearInterval(this.poller);
    clearInterval(this.pinger);
    this.poller = undefined;
    this.pinger = undefined;
  }
}

function lastEventId(req: FastifyRequest): number | undefined {
  const h = req.headers['last-event-id'];
  return typeof h === 'string' && /^\d{1,15}$/.test(h) ? Number(h) : undefined;
}

/** Mounts `GET /feed` (under `/api/v1`); the feed is closed by `app.close()`. */
export function feedRoutes(deps: AppDeps, feed: AuditFeed, headers: Record<string, string>) {
  return async (app: FastifyInstance) => {
    const { actorOf } = routeKit(deps);
    app.get('/feed', async (req, reply) => {
      const actor = actorOf(req);
      const q = parse(FeedQuery, req.query, 'query');
      const after = lastEventId(req) ?? q.after;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        // The socket goes with the stream: a kept-alive one would hold `app.close()` for
        // the keep-alive timeout once the server ends the stream.
        connection: 'close',
      });
      res.write('retry: 2000\n\n');
      const visible = auditVisibility(deps.catalog.current(), actor.person);
      const session = actor.surface === 'console' ? sessionOf(req) : undefined;
      const client: FeedClient = {
        res,
        gone: false,
        cursor: 0,
        visible,
        ...(session ? { session: { idHash: session.idHash, expiresAt: session.expiresAt } } : {}),
      };
      res.once('close', () => {
        client.gone = true;
        feed.leave(client);
      });
      await feed.join(client, after);
    });
  };
}
