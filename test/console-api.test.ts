/**
 * The console's small API routes — the catalog as people may read it, what waits for my
 * sign-off, verifying the audit chain — and `GET /audit` paged newest first with a cursor
 * (`before`) and a time range (`from`, `to`), as the audit page reads it; every console
 * route is in the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asConsole, call, DEPLOY_PROD, signIn, V1 } from './support/console-client.ts';
import { type Harness, harness } from './support/harness.ts';

describe('console API routes', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h?.close());

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
    const item = mine.json.approvals.find((a: { request: { id: string } }) => a.request.id === id);
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

  describe('GET /audit, newest first with a cursor and a time range', () => {
    const entriesOf = (json: { entries: { seq: number }[] }) => json.entries.map((e) => e.seq);
    const times: number[] = [];
    const ids: string[] = [];
    before(async () => {
      for (const version of ['2.0.1', '2.0.2', '2.0.3']) {
        h.clock.advance(3_600_000);
        times.push(h.clock.now());
        const made = await h.api('POST', `${V1}/requests`, 'alice', {
          text: `deploy checkout-api staging version=${version} ticket=CHG-9`,
        });
        assert.equal(made.status, 201, JSON.stringify(made.json));
        ids.push(made.json.request.id);
      }
    });

    it('pages newest first with before=<lastSeq> until more is false, covering the log once', async () => {
      const all = await h.api('GET', `${V1}/audit?limit=1000`, 'dave');
      const oldestFirst = entriesOf(all.json);
      assert.ok(oldestFirst.length > 6);
      const first = await h.api('GET', `${V1}/audit?order=newest&limit=4`, 'dave');
      assert.equal(first.status, 200);
      assert.equal(first.json.more, true);
      const seqs = entriesOf(first.json);
      assert.deepEqual(seqs, oldestFirst.slice(-4).reverse(), 'the newest four, newest first');
      assert.equal(first.json.lastSeq, seqs.at(-1));
      let cursor: number = first.json.lastSeq;
      let more = true;
      while (more) {
        const page = await h.api('GET', `${V1}/audit?before=${cursor}&limit=4`, 'dave');
        assert.equal(page.status, 200, JSON.stringify(page.json));
        const got = entriesOf(page.json);
        assert.ok(got.every((s, n) => s < cursor && (n === 0 || s < (got[n - 1] ?? 0))));
        seqs.push(...got);
        more = page.json.more;
        if (got.length) cursor = page.json.lastSeq;
      }
      assert.deepEqual(seqs, [...oldestFirst].reverse());
      const end = await h.api('GET', `${V1}/audit?before=1`, 'dave');
      assert.deepEqual([end.json.entries, end.json.more], [[], false]);
    });

    it('from and to (ISO 8601, inclusive) bound the time; offsets are understood', async () => {
      const iso = (ms: number) => new Date(ms).toISOString();
      const created = (json: { entries: { target: string }[] }) =>
        json.entries.map((e) => e.target);
      const at = (t: number) => `from=${iso(t)}&to=${iso(t)}`;
      const middle = await h.api(
        'GET',
        `${V1}/audit?action=request.created&${at(times[1]!)}`,
        'dave',
      );
      assert.deepEqual(created(middle.json), [ids[1]]);
      const since = await h.api(
        'GET',
        `${V1}/audit?action=request.created&order=newest&from=${iso(times[1]!)}`,
        'dave',
      );
      assert.deepEqual(created(since.json), [ids[2], ids[1]]);
      // The same instant written with a +02:00 offset.
      const local = new Date(times[0]! + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
      const until = await h.api(
        'GET',
        `${V1}/audit?action=request.created&target=${ids[0]}&to=${encodeURIComponent(local)}`,
        'dave',
      );
      assert.deepEqual(created(until.json), [ids[0]]);
      const before = await h.api(
        'GET',
        `${V1}/audit?action=request.created&to=${iso(times[0]! - 1)}&from=${iso(times[0]! - 60_000)}`,
        'dave',
      );
      assert.deepEqual(before.json.entries, []);
    });

    it('a bad cursor or time is a 400 naming the parameter, and nothing changes', async () => {
      const head = await h.store.auditHead();
      for (const [query, names] of [
        ['before=0', 'query.before'],
        ['before=-3', 'query.before'],
        ['before=abc', 'query.before'],
        ['before=1.5', 'query.before'],
        ['afterSeq=-1', 'query.afterSeq'],
        ['from=yesterday', 'query.from'],
        ['from=2025-06-04', 'query.from'],
        ['to=2025-06-04T12:00:00', 'query.to'],
        ['to=2025-13-40T12:00:00Z', 'query.to'],
        ['from=2025-06-05T00:00:00Z&to=2025-06-04T00:00:00Z', 'query.from'],
        ['before=5&order=oldest', 'query.order'],
        ['order=sideways', 'query.order'],
        ['limit=0', 'query.limit'],
        ['cursor=5', 'cursor'],
      ] as const) {
        const res = await h.api('GET', `${V1}/audit?${query}`, 'dave');
        assert.equal(res.status, 400, query);
        assert.equal(res.json.code, 'INVALID_INPUT', query);
        assert.ok(String(res.json.detail).includes(names), `${query}: ${res.json.detail}`);
      }
      assert.deepEqual(await h.store.auditHead(), head);
    });

    it('the OpenAPI document describes the cursor and the time range', async () => {
      const doc = (await h.api('GET', '/api/openapi.json', undefined)).json;
      const params = doc.paths['/audit'].get.parameters as { name: string; schema: object }[];
      const byName = new Map(params.map((p) => [p.name, p.schema]));
      assert.deepEqual(byName.get('before'), { type: 'integer', minimum: 1 });
      assert.deepEqual(byName.get('from'), { type: 'string', format: 'date-time' });
      assert.deepEqual(byName.get('to'), { type: 'string', format: 'date-time' });
      assert.ok(byName.has('order') && byName.has('afterSeq') && byName.has('limit'));
      assert.ok(doc.paths['/audit'].get.responses['400']);
    });
  });
});
