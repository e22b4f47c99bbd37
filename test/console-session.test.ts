/**
 * The web console's sessions: demo sign-in (loopback without OIDC only), the session
 * cookie, sign-out, the absolute and the idle end, and the stored session id (hashed).
 * SQLite, and PostgreSQL when one is available. CSRF is in console-csrf.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Sqlite from 'better-sqlite3';
import { SQLITE_FILE } from '../src/adapters/store/open-store.ts';
import { sha256hex } from '../src/adapters/system.ts';
import { asConsole, call, DEPLOY_PROD, signIn, V1 } from './support/console-client.ts';
import { type Harness, harness } from './support/harness.ts';
import { testPostgres } from './support/postgres.ts';

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

    it('sessions end 12 hours after sign-in, however much they are used', async () => {
      const s = await signIn(h, 'dave');
      const signedInAt = h.clock.now();
      for (let used = 0; used < 12 * 60 - 50; used += 50) {
        h.clock.advance(50 * 60_000);
        assert.equal(
          (await call(h, 'GET', `${V1}/me`, { cookie: s.cookie })).status,
          200,
          `${used}`,
        );
      }
      const left = 12 * 3_600_000 - (h.clock.now() - signedInAt);
      h.clock.advance(left - 1);
      assert.equal((await call(h, 'GET', `${V1}/session`, { cookie: s.cookie })).status, 200);
      h.clock.advance(1);
      assert.equal((await call(h, 'GET', `${V1}/session`, { cookie: s.cookie })).status, 401);
      assert.equal((await call(h, 'GET', `${V1}/me`, { cookie: s.cookie })).status, 401);
    });

    it('an unused session ends after its idle time (60 minutes); calls the page makes by itself do not count', async () => {
      const s = await signIn(h, 'bob');
      const first = await call(h, 'GET', `${V1}/session`, { cookie: s.cookie });
      assert.equal(first.json.idleMs, 60 * 60_000, 'the page is told the idle time');
      h.clock.advance(30 * 60_000);
      assert.equal((await call(h, 'GET', `${V1}/requests`, { cookie: s.cookie })).status, 200);
      // Used at 30 minutes: the idle end moved to 90. Background refreshes do not move it.
      const quiet = { cookie: s.cookie, headers: { 'x-countersign-background': '1' } };
      h.clock.advance(59 * 60_000);
      assert.equal((await call(h, 'GET', `${V1}/me/approvals`, quiet)).status, 200);
      h.clock.advance(60_000 - 1);
      assert.equal((await call(h, 'GET', `${V1}/session`, quiet)).status, 200);
      h.clock.advance(1);
      const gone = await call(h, 'GET', `${V1}/session`, { cookie: s.cookie });
      assert.equal(gone.status, 401);
      assert.equal(gone.json.code, 'UNAUTHENTICATED');
      const post = await call(h, 'POST', `${V1}/requests`, asConsole(s, { text: DEPLOY_PROD }));
      assert.equal(post.status, 401, 'a mutating call after the idle end is refused too');
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
