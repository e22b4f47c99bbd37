/**
 * The items of the fault catalogue (`../shared/reference/reliability-and-security.md` §8)
 * this issue reaches and no other test names: approvals (19, 23–27), execution, state and
 * time (53, 56–62). Each test's name starts with its item. Elsewhere: 16–18, 20–22 and 28
 * in test/api-guarded-path.test.ts, 51 in src/domain/redact.test.ts, 52 in the params and
 * grammar tests, 53–55 against a killed server in test/crash.test.ts, 61 through the CLI
 * in test/cli.test.ts. In process, on SQLite, through Fastify's `inject()`.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Sqlite from 'better-sqlite3';
import { openStore, SQLITE_FILE } from '../src/adapters/store/open-store.ts';
import { sha256hex } from '../src/adapters/system.ts';
import { executeEffect } from '../src/app/effects.ts';
import { expireRequests } from '../src/app/expire-requests.ts';
import { verifyAudit } from '../src/app/verify-audit.ts';
import { loadCatalog, loadCatalogOrThrow } from '../src/config/load-catalog.ts';
import type { Catalog } from '../src/domain/catalog.ts';
import { windowStatus } from '../src/domain/policy.ts';
import type { ActionRequest } from '../src/domain/request-model.ts';
import { DEFAULT_INCIDENT_SETTINGS } from '../src/domain/runbook-model.ts';
import {
  changeActor,
  copyDatabase,
  deleteEntry,
  swapEntries,
  truncateTail,
  withRawDatabase,
} from './support/audit-tamper.ts';
import { DEMO_DIR, type Harness, harness, WEDNESDAY_NOON } from './support/harness.ts';

const DEPLOY = 'deploy checkout-api prod version=1.4.2 ticket=CHG-1';
const FLUSH = 'flush-cache checkout-api prod ticket=CHG-2';
const CONFIRM = 'checkout-api/prod';

async function request(h: Harness, text: string, as = 'alice'): Promise<ActionRequest> {
  const res = await h.api('POST', '/api/v1/requests', as, { text });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.request;
}

const approve = (h: Harness, id: string, as: string, body: Record<string, unknown>) =>
  h.api('POST', `/api/v1/requests/${encodeURIComponent(id)}/approve`, as, body);

async function get(h: Harness, id: string): Promise<ActionRequest & { missing: string[] }> {
  const res = await h.api('GET', `/api/v1/requests/${id}`, 'carol');
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.request;
}

/** Every request's state, version and sign-offs, and the outbox size: "nothing changed". */
async function snapshot(h: Harness) {
  const requests = await h.store.listRequests({ limit: 500 });
  return {
    requests: requests.map((r) => `${r.id}:${r.state}:${r.version}:${r.signOffs.length}`),
    outbox: await h.store.countOutbox(),
  };
}

async function auditActions(h: Harness, target: string): Promise<string[]> {
  return (await h.store.queryAudit({ target, limit: 1000 })).map((e) => e.action);
}

const count = (xs: string[], x: string) => xs.filter((y) => y === x).length;

async function statusVersion(h: Harness): Promise<string> {
  const res = await h.api('POST', '/api/v1/requests', 'carol', {
    text: 'status checkout-api prod',
  });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return JSON.parse(res.json.ran.output).version;
}

describe('§8 fault catalogue: approvals, execution, state and time', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h?.close());

  it('§8.19 a replayed approval after the decision is refused as NOT_PENDING; nothing runs twice', async () => {
    const r = await request(h, DEPLOY);
    const key = { 'idempotency-key': 'approve-click-19' };
    const first = await h.api(
      'POST',
      `/api/v1/requests/${r.id}/approve`,
      'bob',
      { digest: r.digest },
      key,
    );
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.equal(first.json.request.state, 'approved');
    // The same delivery again (same key, same body) gets the first answer, changes nothing.
    const resent = await h.api(
      'POST',
      `/api/v1/requests/${r.id}/approve`,
      'bob',
      { digest: r.digest },
      key,
    );
    assert.equal(resent.status, 200);
    assert.equal(resent.headers['idempotent-replayed'], 'true');
    // A fresh replay of the click (no key) after the decision: already decided.
    const replayed = await approve(h, r.id, 'bob', { digest: r.digest });
    assert.equal(replayed.status, 409);
    assert.equal(replayed.json.code, 'NOT_PENDING');
    await h.dispatcher.drain();
    assert.equal((await get(h, r.id)).state, 'succeeded');
    const settled = await snapshot(h);
    for (const as of ['bob', 'dave']) {
      const late = await approve(h, r.id, as, { digest: r.digest });
      assert.equal(late.status, 409, as);
      assert.equal(late.json.code, 'NOT_PENDING', as);
    }
    assert.deepEqual(await snapshot(h), settled);
    assert.equal(await h.dispatcher.drain(), 0, 'nothing was enqueued by the replays');
    const actions = await auditActions(h, r.id);
    assert.equal(count(actions, 'approval.given'), 1);
    assert.equal(count(actions, 'execution.started'), 1);
    assert.equal(count(actions, 'approval.given.refused'), 3, 'each replay is audited');
  });

  it('§8.24 a quorum of two with one approver clicking many times counts that approver once', async () => {
    const r = await request(h, FLUSH);
    const body = { digest: r.digest, confirmation: CONFIRM };
    // A double click: two deliveries at the same moment.
    const [x, y] = await Promise.all([
      approve(h, r.id, 'bob', body),
      approve(h, r.id, 'bob', body),
    ]);
    assert.deepEqual([x.status, y.status].sort(), [200, 409]);
    assert.equal((x.status === 409 ? x : y).json.code, 'ALREADY_APPROVED');
    const third = await approve(h, r.id, 'bob', body);
    assert.equal(third.status, 409);
    assert.equal(third.json.code, 'ALREADY_APPROVED');
    const still = await get(h, r.id);
    assert.equal(still.state, 'pending');
    assert.equal(still.signOffs.length, 1);
    assert.match(still.missing.join(), /^1 more approval/);
    await h.dispatcher.drain();
    assert.equal(count(await auditActions(h, r.id), 'execution.started'), 0, 'nothing ran');
    const second = await approve(h, r.id, 'dave', body);
    assert.equal(second.json.request.state, 'approved');
    await h.dispatcher.drain();
    assert.equal((await get(h, r.id)).state, 'succeeded');
    assert.equal(count(await auditActions(h, r.id), 'execution.started'), 1);
  });

  it("§8.26 a tampered request id (another request's digest, an unknown id, a malformed id) is refused and changes nothing", async () => {
    const a = await request(h, DEPLOY);
    const b = await request(h, 'deploy checkout-api prod version=1.4.3 ticket=CHG-1');
    assert.notEqual(a.digest, b.digest);
    const before = await snapshot(h);
    // The button of request A pointed at request B: the digest binds it to A.
    const crossed = await approve(h, b.id, 'bob', { digest: a.digest });
    assert.equal(crossed.status, 409);
    assert.equal(crossed.json.code, 'DIGEST_MISMATCH');
    const unknown = await approve(h, 'REQ-01ZZZZZZZZZZZZZZZZZZZZZZZZ', 'bob', { digest: a.digest });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.code, 'NOT_FOUND');
    for (const id of [
      'REQ-',
      '../requests',
      `${a.id};drop table requests`,
      'req-lower',
      'x'.repeat(300),
    ]) {
      const res = await approve(h, id, 'bob', { digest: a.digest });
      assert.equal(res.status, 400, `${id} → ${JSON.stringify(res.json)}`);
      assert.equal(res.json.code, 'INVALID_INPUT');
    }
    // A broken %-escape is refused by the router, as a problem like any other refusal.
    const badEscape = await h.api('POST', '/api/v1/requests/REQ-%E0%A4%A/approve', 'bob', {
      digest: a.digest,
    });
    assert.equal(badEscape.status, 400, JSON.stringify(badEscape.json));
    assert.equal(badEscape.json.code, 'INVALID_INPUT');
    assert.match(String(badEscape.headers['content-type']), /^application\/problem\+json/);
    const denyUnknown = await h.api('POST', '/api/v1/requests/REQ-0NOPE/deny', 'bob', {
      reason: 'no',
    });
    assert.equal(denyUnknown.json.code, 'NOT_FOUND');
    assert.deepEqual(await snapshot(h), before);
    for (const r of [a, b]) {
      const now = await get(h, r.id);
      assert.equal(now.state, 'pending');
      assert.deepEqual(now.signOffs, []);
      await h.api('POST', `/api/v1/requests/${r.id}/cancel`, 'alice', {});
    }
  });

  it('§8.27 stolen, expired or malformed API credentials get 401 and change nothing (the console session and its CSRF token come with the console, issue 6)', async () => {
    const r = await request(h, DEPLOY);
    const before = await snapshot(h);
    const headers = [
      'Bearer cs_demo_mallory', // unknown, or a token since removed from the catalog
      'Bearer cs_demo bob', // a token with a space in it
      'Bearer', // no token
      'Bearer short', // too short to be a token
      'Basic Ym9iOmNzX2RlbW9fYm9i', // another scheme
      'cs_demo_bob', // no scheme
      `Bearer ${'a'.repeat(600)}`, // longer than any token
    ];
    for (const authorization of headers) {
      for (const [method, url, body] of [
        ['POST', `/api/v1/requests/${r.id}/approve`, { digest: r.digest }],
        ['POST', '/api/v1/requests', { text: DEPLOY }],
        ['GET', `/api/v1/requests/${r.id}`, undefined],
      ] as const) {
        const res = await h.api(method, url, undefined, body, { authorization });
        assert.equal(res.status, 401, `${authorization} ${method} ${url}`);
        assert.equal(res.json.code, 'UNAUTHENTICATED');
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      }
    }
    assert.deepEqual(await snapshot(h), before);
    await h.api('POST', `/api/v1/requests/${r.id}/cancel`, 'alice', {});
  });

  it('§8.58 a retried execute delivery never runs twice: a second enqueue of the same effect is a no-op (outbox key)', async () => {
    const r = await request(h, 'restart checkout-api prod ticket=CHG-58');
    const ok = await approve(h, r.id, 'bob', { digest: r.digest });
    assert.equal(ok.json.request.state, 'approved');
    const queued = await h.store.countOutbox();
    const now = h.clock.now();
    await h.store.transaction((tx) =>
      tx.enqueue([executeEffect(ok.json.request, now), executeEffect(ok.json.request, now)]),
    );
    assert.equal(await h.store.countOutbox(), queued, 'the same key is enqueued once');
    await h.dispatcher.drain();
    assert.equal((await get(h, r.id)).state, 'succeeded');
    const actions = await auditActions(h, r.id);
    assert.equal(count(actions, 'execution.started'), 1);
    assert.equal(count(actions, 'execution.finished'), 1);
  });

  it('§8.56 an execute delivery arriving again after the run finished is treated as already done (Step Functions SendTaskSuccess retries are issue 5)', async () => {
    const r = await request(h, 'restart checkout-api prod ticket=CHG-56');
    await approve(h, r.id, 'bob', { digest: r.digest });
    await h.dispatcher.drain();
    const done = await get(h, r.id);
    assert.equal(done.state, 'succeeded');
    // The effect row is gone once it ran, so the late copy is accepted into the outbox…
    await h.store.transaction((tx) => tx.enqueue([executeEffect(done, h.clock.now())]));
    assert.equal(await h.store.countOutbox(), 1);
    // …and dropped when it is carried out: the request is finished, nothing runs again.
    await h.dispatcher.drain();
    assert.equal(await h.store.countOutbox(), 0);
    const after = await get(h, r.id);
    assert.equal(after.state, 'succeeded');
    assert.equal(after.version, done.version);
    assert.equal(count(await auditActions(h, r.id), 'execution.started'), 1);
  });

  it('§8.57 an execute delivery for a request that timed out runs nothing; the request stays expired (Step Functions task timeouts are issue 5)', async () => {
    const r = await request(h, 'restart checkout-api prod ticket=CHG-57');
    try {
      h.clock.t = r.expiresAt;
      await expireRequests(h.deps);
      assert.equal((await get(h, r.id)).state, 'expired');
      const late = await approve(h, r.id, 'bob', { digest: r.digest });
      assert.equal(late.json.code, 'NOT_PENDING');
      await h.store.transaction((tx) => tx.enqueue([executeEffect(r, h.clock.now())]));
      await h.dispatcher.drain();
      assert.equal((await get(h, r.id)).state, 'expired');
      assert.equal(count(await auditActions(h, r.id), 'execution.started'), 0);
      assert.equal(await h.store.countOutbox(), 0);
    } finally {
      h.clock.t = WEDNESDAY_NOON;
    }
  });

  it("§8.59 expiry uses the server's one clock, whatever the client's says; times are stored as UTC milliseconds (Slack's timestamp checks are the Slack issue's)", async () => {
    const skewed = new Date(h.clock.now() + 6 * 60_000).toUTCString();
    const res = await h.api(
      'POST',
      '/api/v1/requests',
      'alice',
      { text: 'restart checkout-api prod ticket=CHG-59' },
      { date: skewed },
    );
    assert.equal(res.status, 201);
    const r: ActionRequest = res.json.request;
    assert.equal(r.createdAt, h.clock.now(), "the server's clock, not the client's Date");
    assert.equal(r.expiresAt, r.createdAt + 60 * 60_000, 'policy prod-changes: 60 minutes');
    const raw = new Sqlite(join(h.dataDir, SQLITE_FILE), { readonly: true });
    try {
      const row = raw
        .prepare(
          'select typeof(created_at) as t, created_at as c, expires_at as e from requests where id = ?',
        )
        .get(r.id) as { t: string; c: number; e: number };
      assert.deepEqual(row, { t: 'integer', c: r.createdAt, e: r.expiresAt });
    } finally {
      raw.close();
    }
    assert.equal(new Date(r.createdAt).toISOString(), '2026-11-25T12:00:00.000Z');
    try {
      h.clock.t = r.expiresAt - 1;
      assert.equal(await expireRequests(h.deps), 0, 'one millisecond early');
      assert.equal((await get(h, r.id)).state, 'pending');
      h.clock.t = r.expiresAt;
      assert.equal(await expireRequests(h.deps), 1);
      const expired = await get(h, r.id);
      assert.equal(expired.state, 'expired');
      assert.equal(expired.updatedAt, r.expiresAt);
      const late = await approve(h, r.id, 'bob', { digest: r.digest });
      assert.equal(late.json.code, 'NOT_PENDING');
      const [entry] = await h.store.queryAudit({ target: r.id, action: 'request.expired' });
      assert.equal(entry?.at, r.expiresAt);
    } finally {
      h.clock.t = WEDNESDAY_NOON;
    }
  });

  describe('§8.61 audit tampering is named by verify (through the CLI: test/cli.test.ts)', () => {
    let dir: string;
    let n: number;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'countersign-tamper-'));
      n = (await verifyAudit(h.store, sha256hex)).checked;
      assert.ok(n > 20, `the tests above wrote ${n} entries`);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    let copies = 0;
    async function verifyTampered(tamper: (db: Sqlite.Database) => void) {
      const copyDir = join(dir, String(++copies));
      withRawDatabase(copyDatabase(h.dataDir, copyDir), tamper);
      const store = await openStore({ dataDir: copyDir, sha256: sha256hex });
      try {
        return await verifyAudit(store, sha256hex);
      } finally {
        await store.close();
      }
    }

    it('§8.61 an untouched copy verifies', async () => {
      const report = await verifyTampered(() => undefined);
      assert.equal(report.ok, true, report.message);
      assert.equal(report.checked, n);
    });

    it('§8.61 a changed row is named', async () => {
      const report = await verifyTampered((db) => changeActor(db, 7));
      assert.equal(report.ok, false);
      assert.deepEqual(report.break, { kind: 'changed', seq: 7 });
      assert.equal(report.message, 'entry 7 was changed (its hash does not match its contents)');
      assert.equal(report.checked, 6);
    });

    it('§8.61 a deleted row is named as the gap', async () => {
      const report = await verifyTampered((db) => deleteEntry(db, 9));
      assert.deepEqual(report.break, { kind: 'gap', seq: 10, expected: 9 });
      assert.match(report.message, /^entry 9 is missing/);
    });

    it('§8.61 two rows swapped (reordered): the first is named', async () => {
      const report = await verifyTampered((db) => swapEntries(db, 11, 12));
      assert.deepEqual(report.break, { kind: 'broken-link', seq: 11 });
      assert.match(report.message, /^entry 11 does not link/);
    });

    it('§8.61 a truncated tail: the missing range is named', async () => {
      let cut = { from: 0, to: 0 };
      const report = await verifyTampered((db) => {
        cut = truncateTail(db, 3);
      });
      assert.deepEqual(cut, { from: n - 2, to: n });
      assert.deepEqual(report.break, { kind: 'truncated', seq: n - 2, expected: n });
      assert.equal(report.message, `entries ${n - 2}..${n} are missing from the end of the log`);
    });
  });
});

describe('§8.23 the same human under two identities', () => {
  const SECOND_TOKEN = 'cs_bob_second_laptop_token';
  let h: Harness;
  before(async () => {
    const demo = await loadCatalogOrThrow(DEMO_DIR);
    const catalog: Catalog = {
      ...demo,
      people: demo.people.map((p) =>
        p.id === 'bob'
          ? { ...p, tokens: [...p.tokens, { name: 'laptop', sha256: sha256hex(SECOND_TOKEN) }] }
          : p,
      ),
    };
    h = await harness({ catalog });
  });
  after(async () => h?.close());

  it('§8.23 two API tokens of one person count once: ALREADY_APPROVED (docs/adr/0002)', async () => {
    const me = await h.api('GET', '/api/v1/me', undefined, undefined, {
      authorization: `Bearer ${SECOND_TOKEN}`,
    });
    assert.equal(me.json.id, 'bob', 'the second token maps to the same person id');
    const r = await request(h, FLUSH);
    const body = { digest: r.digest, confirmation: CONFIRM };
    const first = await approve(h, r.id, 'bob', body);
    assert.equal(first.status, 200);
    assert.equal(first.json.request.state, 'pending');
    const again = await h.api('POST', `/api/v1/requests/${r.id}/approve`, undefined, body, {
      authorization: `Bearer ${SECOND_TOKEN}`,
    });
    assert.equal(again.status, 409);
    assert.equal(again.json.code, 'ALREADY_APPROVED');
    const still = await get(h, r.id);
    assert.equal(still.state, 'pending');
    assert.deepEqual(
      still.signOffs.map((s) => s.by),
      ['bob'],
    );
    assert.match(still.missing.join(), /^1 more approval/);
    const other = await approve(h, r.id, 'dave', body);
    assert.equal(other.json.request.state, 'approved', 'a second person completes the quorum');
  });

  it('§8.23 the loader refuses one identity (token, Slack id, console login) on two people', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-identity-'));
    try {
      cpSync(DEMO_DIR, dir, { recursive: true });
      const demo = await loadCatalogOrThrow(DEMO_DIR);
      const bob = demo.people.find((p) => p.id === 'bob')!;
      writeFileSync(
        join(dir, 'zz-bob-again.yaml'),
        [
          'people:',
          '  - id: robert',
          '    name: Robert (Bob again)',
          '    team: payments',
          '    roles: [approver]',
          '    slack: U01BOB',
          '    console: bob',
          '    tokens:',
          `      - { name: demo, sha256: ${bob.tokens[0]!.sha256} }`,
          '',
        ].join('\n'),
      );
      const { catalog, errors } = await loadCatalog(dir);
      assert.equal(catalog, undefined);
      const lines = errors.map((e) => `${e.file}:${e.line}: ${e.message}`);
      const about = (what: RegExp) =>
        lines.filter((l) => l.startsWith('zz-bob-again.yaml:') && what.test(l));
      assert.equal(about(/Slack.*already used by person "bob"/i).length, 1, lines.join('\n'));
      assert.equal(about(/login.*already used by person "bob"/i).length, 1, lines.join('\n'));
      assert.equal(about(/token hash.*already used by person "bob"/i).length, 1, lines.join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('§8.25 permission revoked between approval and execution', () => {
  let current: Catalog;
  let demo: Catalog;
  let h: Harness;
  before(async () => {
    demo = await loadCatalogOrThrow(DEMO_DIR);
    current = demo;
    h = await harness({ catalogSource: { current: () => current } });
  });
  after(async () => h?.close());

  it('§8.25 the execution-time re-check refuses it: back to pending, the sign-off withdrawn, nothing ran', async () => {
    const r = await request(h, DEPLOY);
    const ok = await approve(h, r.id, 'bob', { digest: r.digest });
    assert.equal(ok.json.request.state, 'approved');
    // A catalog reload takes bob's approver role away before the worker picks the run up.
    current = {
      ...demo,
      people: demo.people.map((p) => (p.id === 'bob' ? { ...p, roles: ['viewer'] } : p)),
    };
    await h.dispatcher.drain();
    const back = await get(h, r.id);
    assert.equal(back.state, 'pending');
    assert.deepEqual(back.signOffs, [], "bob's sign-off is withdrawn");
    assert.equal(back.execution, undefined);
    assert.match(back.missing.join(), /^1 more approval/);
    const entries = await h.store.queryAudit({ target: r.id, action: 'execution.refused' });
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.result, 'NOT_AN_APPROVER');
    assert.equal(count(await auditActions(h, r.id), 'execution.started'), 0);
    assert.equal(await statusVersion(h), '1.4.1', 'the deploy did not run');
    assert.ok(h.notifications.some((n) => n.requestId === r.id && n.kind === 'approval-withdrawn'));
    // Bob may not sign it off again; someone who still may, can.
    const bobAgain = await approve(h, r.id, 'bob', { digest: r.digest });
    assert.equal(bobAgain.json.code, 'NOT_AN_APPROVER');
    const dave = await approve(h, r.id, 'dave', { digest: r.digest });
    assert.equal(dave.json.request.state, 'approved');
    await h.dispatcher.drain();
    assert.equal((await get(h, r.id)).state, 'succeeded');
    assert.equal(await statusVersion(h), '1.4.2');
  });
});

describe('§8.60 time formats and zones in the catalog', () => {
  async function loadWith(yaml: string) {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-times-'));
    try {
      cpSync(DEMO_DIR, dir, { recursive: true });
      writeFileSync(join(dir, 'freezes.yaml'), yaml);
      return await loadCatalog(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const freeze = (id: string, from: string, to = '2030-01-01T00:00:00Z') =>
    `  - { id: ${id}, kind: freeze, services: ["*"], environments: [prod], from: ${from}, to: ${to}, reason: test }`;

  it('§8.60 Z, +00:00 and +02:00 forms of one instant (quoted or not) normalise to the same UTC millisecond', async () => {
    const forms = [
      '2016-06-05T06:27:57Z',
      '"2016-06-05T06:27:57+00:00"',
      '2016-06-05T08:27:57+02:00',
      '2016-06-05T01:27:57-05:00',
      '"2016-06-05T06:27:57.000Z"',
    ];
    const { catalog, errors } = await loadWith(
      ['change_windows:', ...forms.map((f, i) => freeze(`f${i}`, f)), ''].join('\n'),
    );
    assert.deepEqual(errors, []);
    const froms = catalog!.changeWindows.flatMap((w) => (w.kind === 'freeze' ? [w.from] : []));
    assert.deepEqual(
      froms,
      forms.map(() => Date.UTC(2016, 5, 5, 6, 27, 57)),
    );
  });

  it('§8.60 RFC-1123, epoch, zone-less, leap-second and +0000 forms are refused, each once, with a clear error at its line', async () => {
    const refused = [
      '"Sun, 05 Jun 2016 06:27:57 GMT"',
      '1465108077000',
      '"1465108077000"',
      '2016-06-05T06:27:57',
      '"2016-06-05 06:27:57Z"',
      '2016-12-31T23:59:60Z',
      '2016-06-05T06:27:57+0000',
    ];
    const { catalog, errors } = await loadWith(
      ['change_windows:', ...refused.map((f, i) => freeze(`f${i}`, f)), ''].join('\n'),
    );
    assert.equal(catalog, undefined);
    assert.deepEqual(
      errors.map((e) => `${e.file}:${e.line}`),
      refused.map((_, i) => `freezes.yaml:${i + 2}`),
      JSON.stringify(errors, null, 1),
    );
    for (const e of errors) {
      assert.match(e.message, /from: must be an ISO-8601 date-time with an offset \(Z or ±hh:mm\)/);
    }
  });

  it('§8.60 a change window follows its time zone across daylight-saving changes', () => {
    const base: Catalog = {
      digest: 'x',
      root: '/nowhere',
      teams: [],
      people: [],
      roles: [],
      services: [],
      commands: [],
      policies: [],
      channelRules: [],
      routes: [],
      snsTopics: [],
      alertChannels: [],
      maintenanceWindows: [],
      runbooks: [],
      mitigations: [],
      incidents: DEFAULT_INCIDENT_SETTINGS,
      changeWindows: [
        {
          id: 'berlin-days',
          kind: 'window',
          services: ['*'],
          environments: ['*'],
          days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
          start: '07:00',
          end: '20:00',
          timezone: 'Europe/Berlin',
          acknowledgeRoles: [],
        },
      ],
    };
    const t = { command: 'deploy', service: 'checkout-api', environment: 'prod' };
    const at = (iso: string) => windowStatus(base, t, Date.parse(iso)).status;
    // Saturday 28 March 2026: CET, UTC+1.
    assert.equal(at('2026-03-28T05:59:00Z'), 'closed');
    assert.equal(at('2026-03-28T06:00:00Z'), 'open');
    // Sunday 29 March 2026: clocks went forward at 02:00; CEST, UTC+2.
    assert.equal(at('2026-03-29T04:59:00Z'), 'closed');
    assert.equal(at('2026-03-29T05:00:00Z'), 'open');
    assert.equal(at('2026-03-29T17:59:00Z'), 'open');
    assert.equal(at('2026-03-29T18:00:00Z'), 'closed');
    // Sunday 25 October 2026: back to CET.
    assert.equal(at('2026-10-25T05:59:00Z'), 'closed');
    assert.equal(at('2026-10-25T06:00:00Z'), 'open');
  });
});

describe('§8.53 §8.62 the store fails during an approval', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h?.close());

  it('§8.53 the database locked mid-approval: 503 STORE_UNAVAILABLE, "try again", nothing recorded or run; the retry works', async () => {
    const r = await request(h, DEPLOY);
    await h.dispatcher.drain();
    const before = await snapshot(h);
    const lock = new Sqlite(join(h.dataDir, SQLITE_FILE));
    let res: Awaited<ReturnType<Harness['api']>>;
    try {
      lock.exec('begin immediate'); // another writer holds the lock past busy_timeout (5 s)
      res = await approve(h, r.id, 'bob', { digest: r.digest });
    } finally {
      lock.exec('rollback');
      lock.close();
    }
    assert.equal(res.status, 503, JSON.stringify(res.json));
    assert.equal(res.json.code, 'STORE_UNAVAILABLE');
    assert.match(res.json.detail, /nothing was changed.*try again/i);
    assert.deepEqual(await snapshot(h), before);
    await h.dispatcher.drain();
    const still = await get(h, r.id);
    assert.equal(still.state, 'pending');
    assert.deepEqual(still.signOffs, []);
    assert.deepEqual(await auditActions(h, r.id), ['request.created']);
    const retry = await approve(h, r.id, 'bob', { digest: r.digest });
    assert.equal(retry.json.request.state, 'approved');
    await h.dispatcher.drain();
    assert.equal((await get(h, r.id)).state, 'succeeded');
    assert.equal(count(await auditActions(h, r.id), 'execution.started'), 1);
  });

  it('§8.62 without the audit log, requests and approvals are refused and nothing runs: no unaudited action', async () => {
    const r = await request(h, 'restart checkout-api prod ticket=CHG-62');
    await h.dispatcher.drain();
    const before = await snapshot(h);
    const file = join(h.dataDir, SQLITE_FILE);
    withRawDatabase(file, (db) => db.exec('alter table audit_log rename to audit_log_away'));
    try {
      const attempts = [
        await h.api('POST', '/api/v1/requests', 'alice', { text: DEPLOY }),
        await approve(h, r.id, 'bob', { digest: r.digest }),
        await h.api('POST', `/api/v1/requests/${r.id}/deny`, 'bob', { reason: 'no' }),
        await h.api('POST', `/api/v1/requests/${r.id}/cancel`, 'alice', {}),
      ];
      for (const res of attempts) {
        assert.equal(res.status, 500, JSON.stringify(res.json));
        assert.equal(res.json.code, 'INTERNAL');
        assert.doesNotMatch(JSON.stringify(res.json), /audit_log|sqlite/i, 'no internals leak');
      }
      await h.dispatcher.drain();
    } finally {
      withRawDatabase(file, (db) => db.exec('alter table audit_log_away rename to audit_log'));
    }
    assert.deepEqual(await snapshot(h), before, 'every change rolled back with its audit entry');
    assert.equal((await get(h, r.id)).state, 'pending');
    const report = await verifyAudit(h.store, sha256hex);
    assert.equal(report.ok, true, report.message);
    await h.api('POST', `/api/v1/requests/${r.id}/cancel`, 'alice', {});
  });

  it('§8.62 with the store closed, every state-changing route answers 503 STORE_UNAVAILABLE and nothing runs', async () => {
    const r = await request(h, 'restart checkout-api prod ticket=CHG-63');
    const before = await snapshot(h);
    await h.store.close();
    const attempts = [
      await h.api('POST', '/api/v1/requests', 'alice', { text: DEPLOY }),
      await approve(h, r.id, 'bob', { digest: r.digest }),
      await h.api('POST', `/api/v1/requests/${r.id}/deny`, 'bob', { reason: 'no' }),
      await h.api('POST', `/api/v1/requests/${r.id}/cancel`, 'alice', {}),
    ];
    for (const res of attempts) {
      assert.equal(res.status, 503, JSON.stringify(res.json));
      assert.equal(res.json.code, 'STORE_UNAVAILABLE');
    }
    await assert.rejects(h.dispatcher.drain(), { code: 'STORE_UNAVAILABLE' });
    const reopened = await openStore({ dataDir: h.dataDir, sha256: sha256hex });
    try {
      const requests = await reopened.listRequests({ limit: 500 });
      assert.deepEqual(
        {
          requests: requests.map((x) => `${x.id}:${x.state}:${x.version}:${x.signOffs.length}`),
          outbox: await reopened.countOutbox(),
        },
        before,
      );
      assert.deepEqual(
        (await reopened.queryAudit({ target: r.id })).map((e) => e.action),
        ['request.created'],
      );
      assert.equal((await verifyAudit(reopened, sha256hex)).ok, true);
    } finally {
      await reopened.close();
    }
  });
});
