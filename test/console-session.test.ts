/**
 * The web console's server side: demo sign-in (loopback without OIDC only), the session
 * cookie and its CSRF token, sign-out and expiry, the stored session id (hashed), the
 * security headers and the pages, the console's small API routes, and the live feed over a
 * real socket. SQLite, and PostgreSQL when one is available.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Sqlite from 'better-sqlite3';
import { CONTENT_SECURITY_POLICY } from '../src/adapters/http/console-static.ts';
import { SQLITE_FILE } from '../src/adapters/store/open-store.ts';
import { sha256hex } from '../src/adapters/system.ts';
import { auditOf, SYSTEM } from '../src/app/context.ts';
import { loadCatalogOrThrow } from '../src/config/load-catalog.ts';
import type { Catalog } from '../src/domain/catalog.ts';
import { DEMO_DIR, type Harness, harness } from './support/harness.ts';
import { testPostgres } from './support/postgres.ts';

const V1 = '/api/v1';
const DEPLOY_PROD = 'deploy checkout-api prod version=1.4.2 ticket=CHG-1';
const DEPLOY_STAGING = 'deploy checkout-api staging version=1.4.2 ticket=CHG-2';

interface SignedIn {
  /** `cs_session=<value>`, as a browser sends it back. */
  cookie: string;
  value: string;
  csrf: string;
  setCookie: string;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

async function call(
  h: Harness,
  method: Method,
  url: string,
  o: { cookie?: string; csrf?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const res = await h.app.inject({
    method,
    url,
    headers: {
      ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(o.cookie ? { cookie: o.cookie } : {}),
      ...(o.csrf ? { 'x-csrf-token': o.csrf } : {}),
      ...o.headers,
    },
    ...(o.body === undefined ? {} : { payload: JSON.stringify(o.body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are inspected field by field
  let json: any;
  try {
    json = res.json();
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json, headers: res.headers, body: res.body };
}

async function signIn(h: Harness, person: string): Promise<SignedIn> {
  const res = await call(h, 'POST', `${V1}/session/demo`, { body: { person } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const setCookie = String(res.headers['set-cookie']);
  const value = /cs_session=([^;]*)/.exec(setCookie)?.[1] ?? '';
  return { cookie: `cs_session=${value}`, value, csrf: res.json.csrf, setCookie };
}

/** Same-origin like the console: cookie, CSRF token and JSON. */
const asConsole = (s: SignedIn, body: unknown = {}) => ({
  cookie: s.cookie,
  csrf: s.csrf,
  body,
});

function suite(name: string, databaseUrl: () => string | undefined) {
  describe(`console sessions (${name})`, () => {
    let h: Harness;
    before(async () => {
      const url = databaseUrl();
      h = await harness(url ? { databaseUrl: url } : {});
    });
    after(async () => h?.close());

    it('demo sign-in on loopback: a HttpOnly SameSite=Lax cookie, then GET /session knows you', async () => {
      const people = await call(h, 'GET', `${V1}/session/demo`);
      assert.equal(people.status, 200);
      assert.deepEqual(
        people.json.people.map((p: { id: string }) => p.id),
        ['alice', 'bob', 'carol', 'dave'],
      );
      assert.ok(!JSON.stringify(people.json).includes('sha256'), 'no token hashes');
      const s = await signIn(h, 'alice');
      assert.match(s.value, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      for (const attr of ['HttpOnly', 'SameSite=Lax', 'Path=/']) {
        assert.ok(s.setCookie.includes(attr), `${attr} in ${s.setCookie}`);
      }
      assert.ok(!s.setCookie.includes('Secure'), 'not Secure over plain http');
      const session = await call(h, 'GET', `${V1}/session`, { cookie: s.cookie });
      assert.equal(session.status, 200);
      assert.deepEqual(session.json.person, {
        id: 'alice',
        name: 'Alice Example',
        team: 'payments',
        roles: ['deployer'],
      });
      assert.equal(session.json.csrf, s.csrf);
      assert.equal(session.json.via, 'demo');
      const [started] = await h.store.queryAudit({ action: 'session.started', actor: 'alice' });
      assert.equal(started?.surface, 'console');
      assert.equal(started?.detail.via, 'demo');
    });

    it('an unknown person is refused with 400; no session, no cookie', async () => {
      const res = await call(h, 'POST', `${V1}/session/demo`, { body: { person: 'mallory' } });
      assert.equal(res.status, 400);
      assert.equal(res.json.code, 'INVALID_INPUT');
      assert.equal(res.headers['set-cookie'], undefined);
      const cross = await call(h, 'POST', `${V1}/session/demo`, {
        body: { person: 'alice' },
        headers: { 'sec-fetch-site': 'cross-site' },
      });
      assert.equal(cross.status, 403);
      assert.equal(cross.json.code, 'CSRF_INVALID');
    });

    it('the cookie authenticates GETs on every /api/v1 route', async () => {
      const s = await signIn(h, 'bob');
      const me = await call(h, 'GET', `${V1}/me`, { cookie: s.cookie });
      assert.equal(me.status, 200);
      assert.equal(me.json.id, 'bob');
      const list = await call(h, 'GET', `${V1}/requests`, { cookie: s.cookie });
      assert.equal(list.status, 200);
      const none = await call(h, 'GET', `${V1}/me`);
      assert.equal(none.status, 401);
    });

    it('a mutating call with the cookie and no or a wrong X-CSRF-Token: 403 CSRF_INVALID, nothing changed', async () => {
      const s = await signIn(h, 'alice');
      const before = await h.store.listRequests({});
      const head = await h.store.auditHead();
      for (const csrf of [undefined, 'wrong', `${s.csrf.slice(0, -1)}x`]) {
        const res = await call(h, 'POST', `${V1}/requests`, {
          cookie: s.cookie,
          ...(csrf ? { csrf } : {}),
          body: { text: DEPLOY_PROD },
        });
        assert.equal(res.status, 403, String(csrf));
        assert.equal(res.json.code, 'CSRF_INVALID');
      }
      const patched = await call(h, 'PATCH', `${V1}/requests/REQ-X`, {
        cookie: s.cookie,
        body: { params: {} },
      });
      assert.equal(patched.json.code, 'CSRF_INVALID');
      const verified = await call(h, 'POST', `${V1}/audit/verify`, { cookie: s.cookie, body: {} });
      assert.equal(verified.json.code, 'CSRF_INVALID');
      assert.equal((await h.store.listRequests({})).length, before.length);
      assert.deepEqual(await h.store.auditHead(), head);
    });

    it('with the token the call works, and the request comes from the console surface', async () => {
      const s = await signIn(h, 'alice');
      const res = await call(h, 'POST', `${V1}/requests`, asConsole(s, { text: DEPLOY_PROD }));
      assert.equal(res.status, 201, JSON.stringify(res.json));
      assert.equal(res.json.request.requester, 'alice');
      assert.equal(res.json.request.surface, 'console');
      const [created] = await h.store.queryAudit({
        action: 'request.created',
        target: res.json.request.id,
      });
      assert.equal(created?.surface, 'console');
    });

    it('a bearer-token POST needs no CSRF token, even with a cookie beside it', async () => {
      const res = await h.api('POST', `${V1}/requests`, 'alice', { text: DEPLOY_PROD });
      assert.equal(res.status, 201);
      assert.equal(res.json.request.surface, 'api');
      const s = await signIn(h, 'bob');
      const both = await h.api(
        'POST',
        `${V1}/requests`,
        'alice',
        { text: DEPLOY_STAGING },
        { cookie: s.cookie },
      );
      assert.equal(both.status, 201);
      assert.equal(both.json.request.requester, 'alice', 'the bearer token wins');
    });

    it('logout needs the CSRF token, ends the session, clears the cookie; the old cookie is refused', async () => {
      const s = await signIn(h, 'carol');
      const forced = await call(h, 'POST', `${V1}/session/logout`, { cookie: s.cookie, body: {} });
      assert.equal(forced.status, 403);
      assert.equal((await call(h, 'GET', `${V1}/session`, { cookie: s.cookie })).status, 200);
      const out = await call(h, 'POST', `${V1}/session/logout`, asConsole(s));
      assert.equal(out.status, 204);
      assert.match(String(out.headers['set-cookie']), /cs_session=;.*Max-Age=0/);
      const again = await call(h, 'GET', `${V1}/session`, { cookie: s.cookie });
      assert.equal(again.status, 401);
      const me = await call(h, 'GET', `${V1}/me`, { cookie: s.cookie });
      assert.equal(me.status, 401);
      assert.equal(me.json.code, 'UNAUTHENTICATED');
      const ended = await h.store.queryAudit({ action: 'session.ended', actor: 'carol' });
      assert.equal(ended.length, 1);
      assert.equal(ended[0]?.detail.reason, 'signed out');
      const twice = await call(h, 'POST', `${V1}/session/logout`, { cookie: s.cookie, body: {} });
      assert.equal(twice.status, 204, 'signing out without a session is harmless');
    });

    it('a forged or malformed cookie is 401', async () => {
      for (const value of ['A'.repeat(43), 'not-a-session', '']) {
        const cookie = `cs_session=${value}`;
        const res = await call(h, 'GET', `${V1}/me`, { cookie });
        assert.equal(res.status, 401, value);
        const post = await call(h, 'POST', `${V1}/requests`, {
          cookie,
          body: { text: DEPLOY_PROD },
        });
        assert.equal(post.status, 401, value);
      }
    });

    it('sessions expire after 12 hours', async () => {
      const s = await signIn(h, 'dave');
      h.clock.advance(12 * 3_600_000 - 1);
      assert.equal((await call(h, 'GET', `${V1}/session`, { cookie: s.cookie })).status, 200);
      h.clock.advance(1);
      assert.equal((await call(h, 'GET', `${V1}/session`, { cookie: s.cookie })).status, 401);
      assert.equal((await call(h, 'GET', `${V1}/me`, { cookie: s.cookie })).status, 401);
    });

    it('the store keeps the SHA-256 of the session id, never the cookie value', async () => {
      const s = await signIn(h, 'bob');
      const now = h.clock.now();
      assert.equal(await h.store.sessions.find(s.value, now), undefined);
      const stored = await h.store.sessions.find(sha256hex(s.value), now);
      assert.equal(stored?.person, 'bob');
      assert.notEqual(stored?.idHash, s.value);
      if (h.store.dialect === 'sqlite') {
        const db = new Sqlite(join(h.dataDir, SQLITE_FILE), { readonly: true });
        const rows = db.prepare('select * from console_sessions').all();
        db.close();
        const text = JSON.stringify(rows);
        assert.ok(text.includes(sha256hex(s.value)));
        assert.ok(!text.includes(s.value), 'the cookie value is not stored');
      }
    });

    it('GET /catalog: the catalog without tokens; /me/approvals: what waits for you', async () => {
      const bob = await signIn(h, 'bob');
      const cat = await call(h, 'GET', `${V1}/catalog`, { cookie: bob.cookie });
      assert.equal(cat.status, 200);
      assert.equal(cat.json.digest, h.deps.catalog.current().digest);
      const text = JSON.stringify(cat.json);
      assert.ok(!/sha256|tokens|U01ALICE|handler/.test(text), 'no tokens, Slack ids or handlers');
      const deploy = cat.json.commands.find((c: { id: string }) => c.id === 'deploy');
      assert.equal(deploy.class, 'mutating');
      assert.ok(deploy.rollback);
      assert.ok(deploy.policies.some((p: { environment: string }) => p.environment === 'prod'));
      const created = await h.api('POST', `${V1}/requests`, 'alice', { text: DEPLOY_PROD });
      const id = created.json.request.id;
      const mine = await call(h, 'GET', `${V1}/me/approvals`, { cookie: bob.cookie });
      const item = mine.json.approvals.find(
        (a: { request: { id: string } }) => a.request.id === id,
      );
      assert.deepEqual(item?.kinds, ['approval']);
      const alice = await h.api('GET', `${V1}/me/approvals`, 'alice');
      assert.ok(
        !alice.json.approvals.some((a: { request: { id: string } }) => a.request.id === id),
        'never your own request',
      );
    });

    it('POST /audit/verify: administrators only, with the chain report', async () => {
      const bob = await h.api('POST', `${V1}/audit/verify`, 'bob', {});
      assert.equal(bob.status, 403);
      const dave = await signIn(h, 'dave');
      const res = await call(h, 'POST', `${V1}/audit/verify`, asConsole(dave));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.ok, true);
      assert.ok(res.json.checked > 0);
      assert.match(res.json.message, /verified/);
    });

    it('every console route is in the OpenAPI document', async () => {
      const doc = (await h.api('GET', '/api/openapi.json', undefined)).json;
      for (const [path, method] of [
        ['/session', 'get'],
        ['/session/demo', 'get'],
        ['/session/demo', 'post'],
        ['/session/logout', 'post'],
        ['/feed', 'get'],
        ['/catalog', 'get'],
        ['/me/approvals', 'get'],
        ['/audit/verify', 'post'],
      ] as const) {
        assert.ok(doc.paths[path]?.[method], `${method} ${path}`);
        assert.ok(h.app.hasRoute({ method: method.toUpperCase() as 'GET', url: `${V1}${path}` }));
      }
      assert.equal(doc.components.securitySchemes.session.in, 'cookie');
    });
  });
}

suite('sqlite', () => undefined);

const pg = await testPostgres();
after(async () => pg?.cleanup());
describe('on PostgreSQL', { skip: pg ? false : 'no PostgreSQL available' }, () => {
  suite('postgres', () => pg?.url);
});

describe('demo sign-in is refused off loopback and with OIDC', () => {
  const OIDC = {
    issuer: 'https://login.example.com',
    clientId: 'countersign',
    clientSecret: { reveal: () => 'secret' },
    redirectUrl: 'https://ops.example.com/auth/callback',
  };
  for (const [label, consoleOptions] of [
    ['bound to 0.0.0.0', { host: '0.0.0.0' }],
    ['bound to a LAN address', { host: '10.1.2.3' }],
    ['OIDC configured', { host: '127.0.0.1', oidc: OIDC }],
  ] as const) {
    it(label, async () => {
      const h = await harness({ console: consoleOptions });
      try {
        assert.equal((await call(h, 'GET', `${V1}/session/demo`)).status, 404);
        const res = await call(h, 'POST', `${V1}/session/demo`, { body: { person: 'alice' } });
        assert.equal(res.status, 403);
        assert.equal(res.json.code, 'FORBIDDEN');
        assert.match(res.json.detail, /only for a server bound to loopback/);
        assert.equal(res.headers['set-cookie'], undefined);
        assert.deepEqual(await h.store.queryAudit({ action: 'session.started' }), []);
      } finally {
        await h.close();
      }
    });
  }

  it('cookies are Secure, with HSTS, when the public URL is https', async () => {
    const h = await harness({ console: { publicUrl: 'https://ops.example.com' } });
    try {
      const s = await signIn(h, 'alice');
      assert.match(s.setCookie, /; Secure/);
      const page = await call(h, 'GET', '/');
      assert.match(String(page.headers['strict-transport-security']), /max-age=/);
    } finally {
      await h.close();
    }
  });
});

describe('console pages and security headers', () => {
  let h: Harness;
  let built: Harness;
  let dist: string;
  before(async () => {
    dist = mkdtempSync(join(tmpdir(), 'countersign-web-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(
      join(dist, 'index.html'),
      '<!doctype html><title>Countersign</title><script type="module" src="/assets/app-1a2b.js"></script>',
    );
    writeFileSync(join(dist, 'assets', 'app-1a2b.js'), 'console.log("console");\n');
    h = await harness();
    built = await harness({ console: { webDist: dist } });
  });
  after(async () => {
    await h?.close();
    await built?.close();
    rmSync(dist, { recursive: true, force: true });
  });

  const html = { accept: 'text/html,application/xhtml+xml' };

  it('without a build, / says to run npm run build:web, with the security headers', async () => {
    const res = await call(h, 'GET', '/', { headers: html });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.match(res.body, /npm run build:web/);
    assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.equal(
      CONTENT_SECURITY_POLICY,
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'same-origin');
    assert.equal(res.headers['x-frame-options'], 'DENY');
  });

  it('serves index.html at / and at client-side routes; assets with long caching', async () => {
    const root = await call(built, 'GET', '/', { headers: html });
    assert.match(root.body, /app-1a2b\.js/);
    assert.equal(root.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    for (const path of ['/requests/REQ-1', '/incidents', '/audit?after=3']) {
      const res = await call(built, 'GET', path, { headers: html });
      assert.equal(res.status, 200, path);
      assert.match(res.body, /app-1a2b\.js/, path);
      assert.equal(res.headers['x-frame-options'], 'DENY');
    }
    const asset = await call(built, 'GET', '/assets/app-1a2b.js');
    assert.equal(asset.status, 200);
    assert.match(String(asset.headers['content-type']), /javascript/);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    assert.equal(asset.headers['x-content-type-options'], 'nosniff');
  });

  it('the fallback never hides the server’s own routes or non-page requests', async () => {
    for (const path of [
      '/api/v1/nope',
      '/hooks/nope',
      '/slack/nope',
      '/auth/nope',
      '/assets/missing.js',
    ]) {
      const res = await call(built, 'GET', path, { headers: html });
      assert.equal(res.status, 404, path);
      assert.equal(res.json?.code, 'NOT_FOUND', path);
    }
    const json = await call(built, 'GET', '/requests/REQ-1', {
      headers: { accept: 'application/json' },
    });
    assert.equal(json.status, 404);
    const post = await call(built, 'POST', '/requests/REQ-1', { headers: html, body: {} });
    assert.equal(post.status, 404);
    const metrics = await call(built, 'GET', '/metrics', { headers: html });
    assert.equal(metrics.status, 200);
    assert.doesNotMatch(String(metrics.headers['content-type']), /html/);
  });

  it('no secret in the page: it is the same for everyone and carries no token', async () => {
    const s = await signIn(built, 'alice');
    const page = await call(built, 'GET', '/', { headers: html, cookie: s.cookie });
    assert.ok(!page.body.includes(s.csrf));
    assert.ok(!page.body.includes(s.value));
  });
});

// --- The live feed, over a real socket --------------------------------------------------

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
