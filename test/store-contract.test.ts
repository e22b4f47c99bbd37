/**
 * The `Store` contract, run against SQLite (a temp file) and PostgreSQL (a throwaway
 * cluster or COUNTERSIGN_TEST_DATABASE_URL; skipped with a notice when neither exists).
 * Every test gets an empty database of its own.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../src/adapters/store/open-store.ts';
import type { OutboxDraft, Store } from '../src/app/ports.ts';
import {
  type AuditDraft,
  ChainVerifier,
  describeBreak,
  fromRecord,
  recordPreimage,
} from '../src/domain/audit-chain.ts';
import { DomainError } from '../src/domain/errors.ts';
import type { ActionRequest } from '../src/domain/request-model.ts';
import { freshDatabase, testPostgres } from './support/postgres.ts';

const run = promisify(execFile);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const T0 = 1_700_000_000_000;
const clock = { now: () => T0 };

/** Where one test's database lives; `open` may be called more than once (two workers). */
interface Site {
  open(): Promise<Store>;
  cleanup(): Promise<void>;
  /** The PostgreSQL database, for tests that act on the server directly. */
  url?: string;
}

function sqliteSite(): Site {
  const dir = mkdtempSync(join(tmpdir(), 'cs-store-'));
  return {
    open: () => openStore({ dataDir: join(dir, 'data'), sha256, clock }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

const server = await testPostgres();
after(() => server?.cleanup());

async function postgresSite(): Promise<Site> {
  if (!server) throw new Error('no PostgreSQL');
  const db = await freshDatabase(server.url);
  return {
    open: () => openStore({ databaseUrl: db.url, dataDir: '/nonexistent', sha256, clock }),
    cleanup: () => db.cleanup(),
    url: db.url,
  };
}

/** Ends every other session on the database, as a server restart or failover would. */
async function killSessions(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    'select pg_terminate_backend(pid) from pg_stat_activity ' +
      'where datname = current_database() and pid <> pg_backend_pid()',
  );
  await client.end();
}

/** Retries `fn` until it resolves, for up to two seconds. */
async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= 40) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function request(n: number, over: Partial<ActionRequest> = {}): ActionRequest {
  return {
    id: `REQ-${String(n).padStart(6, '0')}`,
    command: 'scale',
    service: n % 2 ? 'api' : 'web',
    environment: n % 3 ? 'prod' : 'staging',
    class: 'mutating',
    params: { replicas: n, force: false, note: 'héllo' },
    links: { ticket: `CHG-${n}` },
    requester: n % 2 ? 'alice' : 'bob',
    surface: 'slack',
    channel: 'C123',
    digest: sha256(String(n)),
    state: 'pending',
    requirements: [{ kind: 'approval', count: 1, roles: ['sre'], because: 'policy prod' }],
    signOffs: [],
    createdAt: T0 + n,
    updatedAt: T0 + n,
    expiresAt: T0 + 1000 + n,
    version: 1,
    ...over,
  };
}

function draft(n: number, over: Partial<AuditDraft> = {}): AuditDraft {
  return {
    actor: n % 2 ? 'alice' : 'bob',
    surface: 'api',
    action: 'request.created',
    target: `REQ-${n}`,
    paramsDigest: sha256(String(n)),
    result: 'ok',
    links: { ticket: `CHG-${n}` },
    detail: { n },
    at: T0 + n,
    ...over,
  };
}

function effect(key: string, availableAt = T0, payload: Record<string, unknown> = {}): OutboxDraft {
  return { kind: 'execute', key, payload: { key, ...payload }, availableAt };
}

async function verifyChain(store: Store, page = 37): Promise<number> {
  const verifier = new ChainVerifier(sha256);
  for (let from = 1; ; ) {
    const rows = await store.readAudit(from, page);
    if (rows.length === 0) break;
    verifier.check(rows);
    from = (rows.at(-1)?.seq ?? 0) + 1;
  }
  const broken = verifier.finish(await store.auditHead());
  assert.equal(broken && describeBreak(broken), undefined);
  return verifier.count;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof DomainError && e.code === code);
}

function contract(dialect: 'sqlite' | 'postgres', makeSite: () => Site | Promise<Site>): void {
  /** Runs `body` against a fresh store and removes it afterwards. */
  const withStore = (body: (store: Store, site: Site) => Promise<void>) => async () => {
    const site = await makeSite();
    const store = await site.open();
    try {
      await body(store, site);
    } finally {
      await store.close();
      await site.cleanup();
    }
  };

  it(
    'opens migrated, reports its dialect and migrates again idempotently',
    withStore(async (store, site) => {
      assert.equal(store.dialect, dialect);
      assert.equal(await store.ping(), true);
      await store.transaction((tx) => tx.insertRequest(request(1)));
      const again = await site.open();
      assert.deepEqual(await again.getRequest('REQ-000001'), request(1));
      await again.close();
    }),
  );

  it(
    'round-trips a request and reads its own writes inside a transaction',
    withStore(async (store) => {
      const r = request(7, { breakGlass: { reason: 'outage' }, preview: { changes: ['a → b'] } });
      const seen = await store.transaction(async (tx) => {
        await tx.insertRequest(r);
        return tx.getRequest(r.id);
      });
      assert.deepEqual(seen, r);
      assert.deepEqual(await store.getRequest(r.id), r);
      assert.equal(await store.getRequest('REQ-missing'), undefined);
    }),
  );

  it(
    'updates only over the previous version, else CONFLICT',
    withStore(async (store) => {
      const r = request(1);
      await store.transaction((tx) => tx.insertRequest(r));
      const next = { ...r, state: 'approved' as const, version: 2 };
      await store.transaction((tx) => tx.updateRequest(next));
      await rejectsWith(
        store.transaction((tx) => tx.updateRequest(next)),
        'CONFLICT',
      );
      await rejectsWith(
        store.transaction((tx) => tx.updateRequest({ ...r, version: 4 })),
        'CONFLICT',
      );
      await rejectsWith(
        store.transaction((tx) => tx.updateRequest(request(9, { version: 2 }))),
        'CONFLICT',
      );
      assert.deepEqual(await store.getRequest(r.id), next);
    }),
  );

  it(
    'serialises read-modify-write transactions on one request',
    withStore(async (store) => {
      await store.transaction((tx) => tx.insertRequest(request(1)));
      await Promise.all(
        Array.from({ length: 10 }, () =>
          store.transaction(async (tx) => {
            const r = await tx.getRequest('REQ-000001');
            assert.ok(r);
            await new Promise((resolve) => setTimeout(resolve, 2));
            await tx.updateRequest({ ...r, version: r.version + 1, updatedAt: r.updatedAt + 1 });
          }),
        ),
      );
      assert.equal((await store.getRequest('REQ-000001'))?.version, 11);
    }),
  );

  it(
    'lists requests newest first with filters, paging and limits',
    withStore(async (store) => {
      await store.transaction(async (tx) => {
        for (let n = 1; n <= 520; n++) {
          await tx.insertRequest(request(n, { state: n % 5 ? 'pending' : 'succeeded' }));
        }
      });
      const ids = (rs: ActionRequest[]) => rs.map((r) => r.id);
      assert.equal((await store.listRequests({})).length, 50);
      assert.equal((await store.listRequests({}))[0]?.id, 'REQ-000520');
      assert.equal((await store.listRequests({ limit: 10_000 })).length, 500);
      assert.equal((await store.listRequests({ limit: 0 })).length, 0);
      assert.deepEqual(ids(await store.listRequests({ before: 'REQ-000003' })), [
        'REQ-000002',
        'REQ-000001',
      ]);
      const done = await store.listRequests({ states: ['succeeded', 'failed'], limit: 500 });
      assert.equal(done.length, 104);
      assert.ok(done.every((r) => r.state === 'succeeded'));
      assert.equal((await store.listRequests({ states: [], limit: 500 })).length, 500);
      const some = await store.listRequests({
        requester: 'alice',
        service: 'api',
        environment: 'staging',
        limit: 5,
      });
      assert.deepEqual(ids(some), [
        'REQ-000519',
        'REQ-000513',
        'REQ-000507',
        'REQ-000501',
        'REQ-000495',
      ]);
    }),
  );

  it(
    'lists pending requests expired at or before now',
    withStore(async (store) => {
      await store.transaction(async (tx) => {
        await tx.insertRequest(request(1, { expiresAt: T0 + 10 }));
        await tx.insertRequest(request(2, { expiresAt: T0 + 20 }));
        await tx.insertRequest(request(3, { expiresAt: T0 + 5, state: 'approved' }));
        await tx.insertRequest(request(4, { expiresAt: T0 + 30 }));
      });
      const ids = async (now: number, limit = 10) =>
        (await store.listExpired(now, limit)).map((r) => r.id);
      assert.deepEqual(await ids(T0 + 9), []);
      assert.deepEqual(await ids(T0 + 20), ['REQ-000001', 'REQ-000002']);
      assert.deepEqual(await ids(T0 + 99, 1), ['REQ-000001']);
    }),
  );

  it(
    'rolls back state, audit and outbox together',
    withStore(async (store) => {
      const failing = store.transaction(async (tx) => {
        await tx.insertRequest(request(1));
        await tx.appendAudit([draft(1)]);
        await tx.enqueue([effect('k1')]);
        await tx.insertReviewItem({
          id: 'R1',
          requestId: 'REQ-000001',
          kind: 'break-glass',
          createdAt: T0,
        });
        throw new Error('boom');
      });
      await assert.rejects(failing, /boom/);
      assert.equal(await store.getRequest('REQ-000001'), undefined);
      assert.equal(await store.auditHead(), undefined);
      assert.equal(await store.countOutbox(), 0);
      assert.deepEqual(await store.listReviewItems(false), []);
      await store.transaction((tx) => tx.appendAudit([draft(2)]));
      assert.equal((await store.auditHead())?.seq, 1);
    }),
  );

  it(
    'assembles the verification preimage in SQL byte for byte, and the verifier falls back where it cannot',
    withStore(async (store) => {
      const plain = draft(1, {
        actor: 'alice',
        target: 'REQ-01ÄÖ ✓ 🚀',
        detail: { note: 'quote " and \\ and \n' },
      });
      const awkward = draft(2, { actor: 'line\nbreak\u0001\u2028', result: 'tab\there' });
      await store.transaction((tx) => tx.appendAudit([plain, awkward, draft(3)]));
      const sealed = await store.readAuditSealed(1, 10);
      const records = await store.readAudit(1, 10);
      assert.deepEqual(
        sealed.map((r) => r.seq),
        [1, 2, 3],
      );
      for (const i of [0, 2]) {
        const { hash: _h, ...rest } = records[i]!;
        assert.equal(sealed[i]!.preimage, recordPreimage(rest), `seq ${i + 1} takes the fast path`);
      }
      const { verifyAudit } = await import('../src/app/verify-audit.ts');
      const report = await verifyAudit(store, sha256);
      assert.equal(report.ok, true, report.message);
      assert.equal(report.checked, 3);
    }),
  );

  it(
    'chains audit entries whose JSON round-trips to the same hash',
    withStore(async (store) => {
      assert.deepEqual(await store.transaction((tx) => tx.appendAudit([])), []);
      const odd = draft(1, {
        links: { pr: 'https://x/pull/1', ticket: 'CHG-1' },
        detail: { z: 1, a: { y: [1, 'é ✓ \u0000', null], b: true }, gone: undefined, big: 2 ** 52 },
      });
      const first = await store.transaction((tx) => tx.appendAudit([odd, draft(2)]));
      assert.deepEqual(
        first.map((e) => e.seq),
        [1, 2],
      );
      const more = await store.transaction((tx) => tx.appendAudit([draft(3), draft(4), draft(5)]));
      assert.equal(more[0]?.prevHash, first[1]?.hash);
      assert.deepEqual(await store.auditHead(), { seq: 5, hash: more[2]?.hash });
      const [record] = await store.readAudit(1, 1);
      const read = record && fromRecord(record);
      assert.deepEqual(read?.detail, {
        a: { b: true, y: [1, 'é ✓ \u0000', null] },
        big: 2 ** 52,
        z: 1,
      });
      assert.equal(await verifyChain(store, 2), 5);
      assert.deepEqual(
        (await store.readAudit(4, 100)).map((e) => e.seq),
        [4, 5],
      );
      assert.deepEqual(await store.readAudit(6, 100), []);
    }),
  );

  it(
    'appends large batches and queries by target, actor, action and seq',
    withStore(async (store) => {
      const drafts = Array.from({ length: 1200 }, (_, i) =>
        draft(i, { action: i % 3 ? 'request.created' : 'approval.given' }),
      );
      await store.transaction((tx) => tx.appendAudit(drafts));
      assert.equal(await verifyChain(store, 500), 1200);
      assert.deepEqual(
        (await store.queryAudit({ target: 'REQ-7' })).map((e) => e.seq),
        [8],
      );
      const bob = await store.queryAudit({
        actor: 'bob',
        action: 'approval.given',
        afterSeq: 10,
        limit: 3,
      });
      assert.deepEqual(
        bob.map((e) => e.seq),
        [13, 19, 25],
      );
      assert.equal((await store.queryAudit({})).length, 100);
      assert.equal((await store.queryAudit({ limit: 5000 })).length, 1000);
    }),
  );

  it(
    'keeps the chain contiguous under 20 concurrent appending transactions',
    withStore(async (store) => {
      await Promise.all(
        Array.from({ length: 20 }, (_, t) =>
          store.transaction((tx) =>
            tx.appendAudit(Array.from({ length: 5 }, (_, i) => draft(t * 5 + i))),
          ),
        ),
      );
      assert.equal(await verifyChain(store), 100);
      assert.equal((await store.auditHead())?.seq, 100);
    }),
  );

  it(
    'enqueues once per key and claims available, unleased effects',
    withStore(async (store) => {
      await store.transaction((tx) =>
        tx.enqueue([effect('a', T0, { n: [1, { x: 'é' }] }), effect('b', T0 + 100), effect('c')]),
      );
      await store.transaction((tx) => tx.enqueue([effect('a', T0 - 5), effect('d', T0 - 1)]));
      assert.equal(await store.countOutbox(), 4);
      const claimed = await store.claimOutbox(T0, 10, 1000);
      assert.deepEqual(
        claimed.map((e) => e.key),
        ['d', 'a', 'c'],
      );
      const a = claimed[1];
      assert.deepEqual(a, {
        id: a?.id,
        kind: 'execute',
        key: 'a',
        payload: { key: 'a', n: [1, { x: 'é' }] },
        availableAt: T0,
        attempts: 1,
        createdAt: T0,
      });
      assert.deepEqual(await store.claimOutbox(T0 + 50, 10, 1000), []);
      assert.deepEqual(
        (await store.claimOutbox(T0 + 1000, 2, 1000)).map((e) => [e.key, e.attempts]),
        [
          ['d', 2],
          ['a', 2],
        ],
      );
      assert.deepEqual(await store.claimOutbox(T0 + 1000, 0, 1000), []);
    }),
  );

  it(
    'renews, releases, deletes and frees all leases',
    withStore(async (store) => {
      await store.transaction((tx) => tx.enqueue([effect('a'), effect('b'), effect('c')]));
      const [a, b, c] = await store.claimOutbox(T0, 3, 100);
      assert.ok(a && b && c);
      await store.renewLease(a.id, T0 + 5000);
      await store.releaseOutbox(b.id, T0 + 300, 'timeout talking to AWS');
      assert.deepEqual(
        (await store.claimOutbox(T0 + 200, 10, 1000)).map((e) => e.key),
        ['c'],
      );
      const retried = await store.claimOutbox(T0 + 300, 10, 100);
      assert.deepEqual(
        retried.map((e) => [e.key, e.attempts, e.lastError]),
        [['b', 2, 'timeout talking to AWS']],
      );
      await store.transaction((tx) => tx.deleteOutbox(c.id));
      assert.equal(await store.countOutbox(), 2);
      await store.releaseAllLeases();
      assert.deepEqual(
        (await store.claimOutbox(T0 + 300, 10, 100)).map((e) => e.key),
        ['a', 'b'],
      );
    }),
  );

  it(
    'never gives one effect to two concurrent claimers',
    withStore(async (store, site) => {
      const other = await site.open();
      try {
        const keys = Array.from({ length: 60 }, (_, i) => effect(`k${i}`));
        await store.transaction((tx) => tx.enqueue(keys));
        const worker = async (s: Store) => {
          const got: number[] = [];
          for (;;) {
            const batch = await s.claimOutbox(T0, 3, 60_000);
            if (batch.length === 0) return got;
            got.push(...batch.map((e) => e.id));
          }
        };
        const all = (
          await Promise.all([worker(store), worker(other), worker(store), worker(other)])
        ).flat();
        assert.equal(all.length, 60);
        assert.equal(new Set(all).size, 60);
      } finally {
        await other.close();
      }
    }),
  );

  it(
    'records idempotency keys: new, in progress, mismatch, done, abandoned',
    withStore(async (store) => {
      assert.deepEqual(await store.beginIdempotent('alice', 'k', 'h1', T0), { state: 'new' });
      assert.deepEqual(await store.beginIdempotent('alice', 'k', 'h1', T0), {
        state: 'in-progress',
      });
      assert.deepEqual(await store.beginIdempotent('alice', 'k', 'h2', T0), { state: 'mismatch' });
      assert.deepEqual(await store.beginIdempotent('bob', 'k', 'h2', T0), { state: 'new' });
      await store.abandonIdempotent('bob', 'k');
      assert.deepEqual(await store.beginIdempotent('bob', 'k', 'h3', T0), { state: 'new' });
      await store.finishIdempotent('alice', 'k', 201, '{"id":"REQ-1"}');
      await store.abandonIdempotent('alice', 'k');
      assert.deepEqual(await store.beginIdempotent('alice', 'k', 'h1', T0), {
        state: 'done',
        status: 201,
        body: '{"id":"REQ-1"}',
      });
      assert.deepEqual(await store.beginIdempotent('alice', 'k', 'h9', T0), { state: 'mismatch' });
    }),
  );

  it(
    'gives "new" to exactly one of several concurrent begins',
    withStore(async (store, site) => {
      const other = await site.open();
      try {
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (i % 2 ? store : other).beginIdempotent('s', 'k', 'h', T0),
          ),
        );
        assert.equal(results.filter((r) => r.state === 'new').length, 1);
        assert.ok(results.every((r) => r.state === 'new' || r.state === 'in-progress'));
      } finally {
        await other.close();
      }
    }),
  );

  it(
    'stores and resolves review items once',
    withStore(async (store) => {
      await store.transaction(async (tx) => {
        await tx.insertReviewItem({
          id: 'R2',
          requestId: 'REQ-2',
          kind: 'break-glass',
          createdAt: T0 + 2,
        });
        await tx.insertReviewItem({
          id: 'R1',
          requestId: 'REQ-1',
          kind: 'break-glass',
          createdAt: T0 + 1,
        });
      });
      assert.deepEqual(
        (await store.listReviewItems(true)).map((i) => i.id),
        ['R1', 'R2'],
      );
      assert.equal(
        await store.transaction((tx) => tx.resolveReviewItem('R1', 'carol', T0 + 9, 'fine')),
        true,
      );
      assert.equal(
        await store.transaction((tx) => tx.resolveReviewItem('R1', 'dave', T0 + 10, 'again')),
        false,
      );
      assert.equal(
        await store.transaction((tx) => tx.resolveReviewItem('nope', 'dave', T0, '')),
        false,
      );
      assert.deepEqual(
        (await store.listReviewItems(true)).map((i) => i.id),
        ['R2'],
      );
      assert.deepEqual((await store.listReviewItems(false))[0], {
        id: 'R1',
        requestId: 'REQ-1',
        kind: 'break-glass',
        createdAt: T0 + 1,
        resolvedBy: 'carol',
        resolvedAt: T0 + 9,
        note: 'fine',
      });
    }),
  );

  it(
    'claims a chat message once, then records and reports where it was posted',
    withStore(async (store) => {
      assert.equal(await store.getChatMessage('REQ-1', 'prompt'), undefined);
      assert.deepEqual(await store.claimChatMessage('REQ-1', 'prompt', 'C1', T0), {
        state: 'new',
      });
      assert.deepEqual(await store.claimChatMessage('REQ-1', 'prompt', 'C2', T0 + 5), {
        state: 'posting',
        since: T0,
      });
      assert.equal(await store.getChatMessage('REQ-1', 'prompt'), undefined);
      await store.recordChatMessage('REQ-1', 'prompt', '1700000000.000100');
      const posted = { channel: 'C1', ts: '1700000000.000100' };
      assert.deepEqual(await store.getChatMessage('REQ-1', 'prompt'), posted);
      assert.deepEqual(await store.claimChatMessage('REQ-1', 'prompt', 'C9', T0 + 9), {
        state: 'posted',
        ...posted,
      });
      assert.deepEqual(await store.claimChatMessage('REQ-1', 'result', 'C1', T0), {
        state: 'new',
      });
      assert.deepEqual(await store.claimChatMessage('REQ-2', 'prompt', 'C1', T0), {
        state: 'new',
      });
      await assert.rejects(store.recordChatMessage('REQ-3', 'prompt', '1.2'), /no prompt/);
    }),
  );

  it(
    'gives "new" to exactly one of several concurrent chat message claims',
    withStore(async (store, site) => {
      const other = await site.open();
      try {
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (i % 2 ? store : other).claimChatMessage('REQ-1', 'prompt', 'C1', T0 + i),
          ),
        );
        assert.equal(results.filter((r) => r.state === 'new').length, 1);
        assert.ok(results.every((r) => r.state === 'new' || r.state === 'posting'));
      } finally {
        await other.close();
      }
    }),
  );

  it(
    'claims alert messages through the ingest store (no wait for the disk) on the same rows',
    withStore(async (store) => {
      const ingest = store.ingest;
      assert.deepEqual(await ingest.claimChatMessage('ALG-1', 'alert-group', 'C1', T0), {
        state: 'new',
      });
      assert.deepEqual(await store.claimChatMessage('ALG-1', 'alert-group', 'C1', T0 + 1), {
        state: 'posting',
        since: T0,
      });
      await ingest.recordChatMessage('ALG-1', 'alert-group', '1700000000.000200');
      const posted = { channel: 'C1', ts: '1700000000.000200' };
      assert.deepEqual(await store.getChatMessage('ALG-1', 'alert-group'), posted);
      assert.deepEqual(await ingest.claimChatMessage('ALG-1', 'alert-group', 'C2', T0 + 2), {
        state: 'posted',
        ...posted,
      });
      await assert.rejects(
        ingest.recordChatMessage('ALG-2', 'alert-digest', '1.2'),
        /no alert-digest/,
      );
    }),
  );

  it(
    'refuses its own methods inside its transactions instead of waiting forever',
    withStore(async (store) => {
      const nested = store.transaction(async (tx) => {
        await tx.insertRequest(request(1));
        return store.getRequest('REQ-000001');
      });
      await assert.rejects(nested, /inside one of its own transactions/);
      await assert.rejects(
        store.transaction(() => store.transaction(async () => 1)),
        /inside one of its own transactions/,
      );
      assert.equal(await store.getRequest('REQ-000001'), undefined);
      let later: Promise<unknown> | undefined;
      await store.transaction(async () => {
        later = new Promise((resolve) => setTimeout(resolve, 20)).then(() => store.countOutbox());
      });
      assert.equal(await later, 0);
    }),
  );

  it(
    'answers ping and, once closed, fails with STORE_UNAVAILABLE',
    withStore(async (store, site) => {
      const other = await site.open();
      await other.close();
      await other.close();
      assert.equal(await other.ping(), false);
      await rejectsWith(other.getRequest('x'), 'STORE_UNAVAILABLE');
      await rejectsWith(
        other.transaction(async () => 1),
        'STORE_UNAVAILABLE',
      );
      assert.equal(await store.ping(), true);
    }),
  );

  if (dialect === 'postgres') {
    it(
      'reports sessions killed mid-transaction as STORE_UNAVAILABLE and recovers',
      withStore(async (store, site) => {
        await store.transaction((tx) => tx.insertRequest(request(1)));
        const killed = store.transaction(async (tx) => {
          await tx.getRequest('REQ-000001');
          await killSessions(site.url ?? '');
          await tx.insertRequest(request(2));
        });
        await rejectsWith(killed, 'STORE_UNAVAILABLE');
        assert.equal(await eventually(() => store.getRequest('REQ-000002')), undefined);
        assert.ok(await eventually(() => store.getRequest('REQ-000001')));
        await store.transaction((tx) => tx.insertRequest(request(3)));
        assert.equal(await store.ping(), true);
      }),
    );
  }
}

describe('store contract: sqlite', () => contract('sqlite', sqliteSite));

describe('store contract: postgres', { skip: server ? false : 'no PostgreSQL available' }, () =>
  contract('postgres', postgresSite),
);

/** A test body given a fresh temp folder, removed afterwards whatever happens. */
const inTempDir = (body: (dir: string) => Promise<void>) => async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-store-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

describe('openStore', () => {
  it('uses an in-memory SQLite for :memory:', async () => {
    const store = await openStore({ dataDir: ':memory:', sha256 });
    assert.equal(store.dialect, 'sqlite');
    await store.transaction((tx) => tx.appendAudit([draft(1)]));
    assert.equal(await verifyChain(store), 1);
    await store.close();
  });

  it(
    'creates the data folder and a database in WAL mode',
    inTempDir(async (dir) => {
      const store = await openStore({
        dataDir: join(dir, 'a', 'b'),
        sha256,
        databaseUrl: 'file:x',
      });
      const file = new Sqlite(join(dir, 'a', 'b', 'countersign.db'), { readonly: true });
      assert.equal(file.pragma('journal_mode', { simple: true }), 'wal');
      file.close();
      await store.close();
    }),
  );

  it(
    'serialises migrations and appends from two processes on one SQLite file',
    inTempDir(async (dir) => {
      const storeModule = new URL('../src/adapters/store/open-store.ts', import.meta.url).href;
      const child = `
      import { createHash } from 'node:crypto';
      import { openStore } from ${JSON.stringify(storeModule)};
      const sha256 = (s) => createHash('sha256').update(s).digest('hex');
      const store = await openStore({ dataDir: ${JSON.stringify(dir)}, sha256 });
      for (let i = 0; i < 10; i++) {
        await store.transaction(async (tx) => {
          const d = { actor: 'p' + process.pid, surface: 'cli', action: 'x', target: 't',
            paramsDigest: '', result: 'ok', links: {}, detail: { i }, at: i };
          await tx.appendAudit([d]);
          await new Promise((r) => setTimeout(r, 1));
          await tx.appendAudit([d]);
        });
      }
      await store.close();`;
      const args = ['--import', 'tsx', '--input-type=module', '-e', child];
      await Promise.all([run(process.execPath, args), run(process.execPath, args)]);
      const store = await openStore({ dataDir: dir, sha256 });
      assert.equal(await verifyChain(store), 40);
      await store.close();
    }),
  );

  it(
    'reports an unusable SQLite file as STORE_UNAVAILABLE',
    inTempDir(async (dir) => {
      writeFileSync(
        join(dir, 'countersign.db'),
        'this is not a database, just some text '.repeat(200),
      );
      await rejectsWith(openStore({ dataDir: dir, sha256 }), 'STORE_UNAVAILABLE');
    }),
  );

  it('reports an unreachable PostgreSQL as STORE_UNAVAILABLE', async () => {
    const url = 'postgresql://nobody@127.0.0.1:1/none';
    await rejectsWith(
      openStore({ databaseUrl: url, dataDir: ':memory:', sha256 }),
      'STORE_UNAVAILABLE',
    );
  });
});
