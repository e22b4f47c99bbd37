/**
 * CSRF on the console's cookie: every mutating call made with the session cookie needs the
 * session's X-CSRF-Token (checked before the body is read, so a refusal changes nothing);
 * a bearer-token call needs none. SQLite, and PostgreSQL when one is available.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  asConsole,
  call,
  DEPLOY_PROD,
  DEPLOY_STAGING,
  signIn,
  V1,
} from './support/console-client.ts';
import { type Harness, harness } from './support/harness.ts';
import { testPostgres } from './support/postgres.ts';

function suite(name: string, databaseUrl: () => string | undefined) {
  describe(`console CSRF (${name})`, () => {
    let h: Harness;
    before(async () => {
      const url = databaseUrl();
      h = await harness(url ? { databaseUrl: url } : {});
    });
    after(async () => h?.close());

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
  });
}

suite('sqlite', () => undefined);

const pg = await testPostgres();
after(async () => pg?.cleanup());
describe('on PostgreSQL', { skip: pg ? false : 'no PostgreSQL available' }, () => {
  suite('postgres', () => pg?.url);
});
