/**
 * The live feed, `GET /api/v1/feed`, over a real socket: server-sent events to whoever may
 * see each entry, the replay after Last-Event-ID, the end of a signed-out session's stream,
 * and `app.close()` not waiting for open streams.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { auditOf, SYSTEM } from '../src/app/context.ts';
import { loadCatalogOrThrow } from '../src/config/load-catalog.ts';
import type { Catalog } from '../src/domain/catalog.ts';
import {
  asConsole,
  call,
  DEPLOY_PROD,
  DEPLOY_STAGING,
  signIn,
  V1,
} from './support/console-client.ts';
import { DEMO_DIR, type Harness, harness } from './support/harness.ts';

interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Reads server-sent events from a fetch response, one at a time, with a deadline. */
function sse(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queue: SseEvent[] = [];
  let done = false;
  const pump = async (deadline: number) => {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('no event in time');
    let timer: NodeJS.Timeout | undefined;
    const chunk = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no event in time')), left);
      }),
    ]).finally(() => clearTimeout(timer));
    if (chunk.done) {
      done = true;
      return;
    }
    buffer += decoder.decode(chunk.value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const e: SseEvent = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) e.id = line.slice(4);
        else if (line.startsWith('event: ')) e.event = line.slice(7);
        else if (line.startsWith('data: ')) e.data += line.slice(6);
      }
      if (e.event) queue.push(e);
    }
  };
  return {
    /** The next audit entry matching `pred`, within `ms`; skipped entries are returned too. */
    async next(
      pred: (entry: { seq: number; action: string; target: string }) => boolean,
      ms = 1000,
    ) {
      const deadline = Date.now() + ms;
      const skipped: { seq: number; action: string; target: string }[] = [];
      for (;;) {
        const e = queue.shift();
        if (e) {
          const entry = JSON.parse(e.data);
          assert.equal(e.event, 'audit');
          assert.equal(e.id, String(entry.seq));
          if (pred(entry)) return { entry, skipped };
          skipped.push(entry);
          continue;
        }
        if (done) throw new Error('the stream ended');
        await pump(deadline);
      }
    },
    /** Resolves when the server ends the stream. */
    async ended(ms = 2000) {
      const deadline = Date.now() + ms;
      while (!done) await pump(deadline);
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}

describe('GET /api/v1/feed (server-sent events)', () => {
  let h: Harness;
  let base: string;
  let closed = false;
  before(async () => {
    const demo = await loadCatalogOrThrow(DEMO_DIR);
    // Carol may view staging only.
    const roles = demo.roles.map((r) =>
      r.id === 'viewer'
        ? {
            ...r,
            grants: [
              {
                actions: ['view' as const],
                commands: ['*'],
                services: ['*'],
                environments: ['staging'],
              },
            ],
          }
        : r,
    );
    const catalog: Catalog = { ...demo, roles };
    h = await harness({ catalog });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    if (!closed) await h?.close();
  });

  const open = async (headers: Record<string, string>, query = '') => {
    const res = await fetch(`${base}${V1}/feed${query}`, { headers });
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^text\/event-stream/);
    assert.equal(res.headers.get('x-accel-buffering'), 'no');
    assert.equal(res.headers.get('content-encoding'), null);
    return sse(res);
  };

  it('refuses without authentication', async () => {
    const res = await fetch(`${base}${V1}/feed`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: string }).code, 'UNAUTHENTICATED');
  });

  it('streams a new entry within a second, to whoever may see it', async () => {
    const carolSession = await signIn(h, 'carol');
    const carol = await open({ cookie: carolSession.cookie });
    const dave = await open({ authorization: 'Bearer cs_demo_dave' });
    await h.store.transaction((tx) =>
      tx.appendAudit([
        auditOf(SYSTEM, h.clock.now(), { action: 'catalog.loaded', target: 'catalog' }),
      ]),
    );
    const prod = await h.api('POST', `${V1}/requests`, 'alice', { text: DEPLOY_PROD });
    assert.equal(prod.status, 201);
    const started = Date.now();
    const seen = await dave.next((e) => e.target === prod.json.request.id);
    assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
    assert.equal(seen.entry.action, 'request.created');
    assert.ok(
      seen.skipped.some((e) => e.action === 'catalog.loaded'),
      'admins see everything',
    );

    const staging = await h.api('POST', `${V1}/requests`, 'alice', { text: DEPLOY_STAGING });
    const committed = Date.now();
    const forCarol = await carol.next((e) => e.target === staging.json.request.id);
    assert.deepEqual(
      forCarol.skipped.filter((e) => e.action !== 'session.started'),
      [],
      'carol saw neither the catalog load nor the prod request',
    );
    assert.ok(Date.now() - committed < 1000, `${Date.now() - committed} ms`);
    await carol.cancel();
    await dave.cancel();
  });

  it('replays what came after Last-Event-ID (or ?after=), then goes on live', async () => {
    const first = await h.api('POST', `${V1}/requests`, 'alice', { text: DEPLOY_PROD });
    const [entry] = await h.store.queryAudit({
      action: 'request.created',
      target: first.json.request.id,
    });
    const resumed = await open({
      authorization: 'Bearer cs_demo_dave',
      'last-event-id': String(entry!.seq - 1),
    });
    const replayed = await resumed.next(() => true, 500);
    assert.equal(replayed.entry.seq, entry!.seq);
    const viaQuery = await open({ authorization: 'Bearer cs_demo_dave' }, `?after=${entry!.seq}`);
    const later = await h.api('POST', `${V1}/requests`, 'alice', { text: DEPLOY_PROD });
    const live = await viaQuery.next((e) => e.target === later.json.request.id);
    assert.ok(
      live.skipped.every((e) => e.seq > entry!.seq),
      'nothing at or before after=',
    );
    const again = await resumed.next((e) => e.target === later.json.request.id);
    const seqs = [...again.skipped.map((e) => e.seq), again.entry.seq];
    assert.equal(new Set(seqs).size, seqs.length, 'no entry twice');
    await resumed.cancel();
    await viaQuery.cancel();
  });

  it('a feed opened with the cookie ends when its session is signed out', async () => {
    const s = await signIn(h, 'carol');
    const feed = await open({ cookie: s.cookie });
    const out = await call(h, 'POST', `${V1}/session/logout`, asConsole(s));
    assert.equal(out.status, 204);
    await feed.ended(1000);
    const again = await fetch(`${base}${V1}/feed`, { headers: { cookie: s.cookie } });
    assert.equal(again.status, 401);
  });

  it('app.close() ends open streams instead of waiting for them (or for unused sockets)', async () => {
    const feed = await open({ authorization: 'Bearer cs_demo_dave' });
    // A connection that never sends a request, as browsers open speculatively.
    const { port } = h.app.server.address() as AddressInfo;
    const idle = connect(port, '127.0.0.1');
    await new Promise((resolve) => idle.once('connect', resolve));
    const started = Date.now();
    closed = true;
    await h.close();
    await feed.ended(2000);
    assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`);
    idle.destroy();
  });
});
