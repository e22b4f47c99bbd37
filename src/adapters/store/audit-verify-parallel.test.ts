/**
 * The parallel audit verify on SQLite (a WAL file) and PostgreSQL (skipped with a notice when
 * none is available): a clean log passes with every entry counted; every tampering that the
 * entry-by-entry check reports makes it answer "not intact", at a range edge and across the
 * two threads, and `verifyAudit` then reports exactly what the entry-by-entry check reports.
 * Ranges are 50 entries, so seqs 50 and 51 sit on either side of an edge.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import {
  changeActor,
  deleteEntry,
  swapEntries,
  truncateTail,
} from '../../../test/support/audit-tamper.ts';
import { freshDatabase, testPostgres } from '../../../test/support/postgres.ts';
import type { Store } from '../../app/ports.ts';
import { type VerifyReport, verifyAudit } from '../../app/verify-audit.ts';
import type { AuditDraft } from '../../domain/audit-chain.ts';
import { AUDIT_COLUMNS } from './audit-repo.ts';
import { type AuditChainCheck, verifyAuditParallel } from './audit-verify-parallel.ts';
import { type ChunkSource, postgresChunkSource, sqliteChunkSource } from './audit-verify-source.ts';
import type { RemoteLog } from './audit-verify-worker.ts';
import { openStore, SQLITE_FILE } from './open-store.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const T0 = 1_700_000_000_000;
const ENTRIES = 1000;
const RANGE = 50;

function draft(n: number, over: Partial<AuditDraft> = {}): AuditDraft {
  return {
    actor: n % 2 ? 'alice' : 'bob',
    surface: 'api',
    action: 'request.created',
    target: `REQ-${n}`,
    paramsDigest: sha256(String(n)),
    result: 'ok',
    links: { ticket: `CHG-${n}` },
    detail: { n, note: 'héllo ✓' },
    at: T0 + n,
    ...over,
  };
}

/** One database with a store on it, and raw access for tampering. */
interface Site {
  store: Store;
  /** Where worker threads connect. */
  remote: RemoteLog;
  /** A chunk source on a connection of the test's own. */
  source(): Promise<{ source: ChunkSource; release(): void }>;
  /** Runs one statement; `?` placeholders on both dialects. */
  exec(sql: string, params?: unknown[]): Promise<void>;
  tamper: {
    changeActor(seq: number): Promise<void>;
    deleteEntry(seq: number): Promise<void>;
    swapEntries(a: number, b: number): Promise<void>;
    truncateTail(n: number): Promise<void>;
  };
  close(): Promise<void>;
}

async function sqliteSite(): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-verify-'));
  const store = await openStore({ dataDir: dir, sha256 });
  const file = join(dir, SQLITE_FILE);
  const raw = new Sqlite(file);
  raw.pragma('busy_timeout = 5000');
  return {
    store,
    remote: { dialect: 'sqlite', file },
    async source() {
      const db = new Sqlite(file, { readonly: true });
      return { source: sqliteChunkSource(db), release: () => db.close() };
    },
    exec: async (sql, params = []) => void raw.prepare(sql).run(...params),
    tamper: {
      changeActor: async (seq) => changeActor(raw, seq),
      deleteEntry: async (seq) => deleteEntry(raw, seq),
      swapEntries: async (a, b) => swapEntries(raw, a, b),
      truncateTail: async (n) => void truncateTail(raw, n),
    },
    async close() {
      raw.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const server = await testPostgres();
after(() => server?.cleanup());

const CONTENT = AUDIT_COLUMNS.filter((c) => c !== 'seq');

async function postgresSite(): Promise<Site> {
  if (!server) throw new Error('no PostgreSQL');
  const db = await freshDatabase(server.url);
  const store = await openStore({ databaseUrl: db.url, dataDir: '/nonexistent', sha256 });
  const raw = new pg.Client({ connectionString: db.url });
  await raw.connect();
  const exec = async (sql: string, params: unknown[] = []) => {
    let i = 0;
    await raw.query(
      sql.replace(/\?/g, () => `$${++i}`),
      params,
    );
  };
  return {
    store,
    remote: { dialect: 'postgres', url: db.url },
    async source() {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      return { source: postgresChunkSource(client), release: () => void client.end() };
    },
    exec,
    tamper: {
      changeActor: (seq) => exec(`update audit_log set actor = 'mallory' where seq = ?`, [seq]),
      deleteEntry: (seq) => exec('delete from audit_log where seq = ?', [seq]),
      // One statement reads both rows before either changes.
      swapEntries: (a, b) =>
        exec(
          `update audit_log t set (${CONTENT.join(', ')}) = (select ${CONTENT.join(', ')}
            from audit_log s where s.seq = case t.seq when ?::int8 then ?::int8 else ?::int8 end)
           where t.seq in (?::int8, ?::int8)`,
          [a, b, a, a, b],
        ),
      truncateTail: (n) =>
        exec('delete from audit_log where seq > (select max(seq) from audit_log) - ?', [n]),
    },
    async close() {
      await raw.end();
      await store.close();
      await db.cleanup();
    },
  };
}

/** The fast path over `site`, with 50-entry ranges shared by this thread and one worker. */
async function fast(
  site: Site,
  head: Store['auditHead'] = () => site.store.auditHead(),
): Promise<AuditChainCheck> {
  return verifyAuditParallel({
    local: () => site.source(),
    head,
    readAudit: (fromSeq, limit) => site.store.readAudit(fromSeq, limit),
    remote: site.remote,
    rangeSize: RANGE,
    threads: 2,
    minEntriesPerWorker: 0,
  });
}

/** What `verifyAudit` reports without the fast path: the entry-by-entry check. */
function entryByEntry(store: Store): Promise<VerifyReport> {
  return verifyAudit(store, sha256, { entryByEntry: true });
}

async function fill(store: Store, drafts: AuditDraft[]): Promise<void> {
  await store.transaction((tx) => tx.appendAudit(drafts));
}

const drafts = (n: number, start = 1) => Array.from({ length: n }, (_, i) => draft(start + i));

function suite(name: string, open: () => Promise<Site>, skip: boolean) {
  /** A fresh site with a clean log of `ENTRIES` entries. */
  async function withLog(fn: (site: Site) => Promise<void>): Promise<void> {
    const site = await open();
    try {
      await fill(site.store, drafts(ENTRIES));
      await fn(site);
    } finally {
      await site.close();
    }
  }

  /** Tampers, then expects the fast path to doubt and `verifyAudit` to name `message`. */
  const detects = (tamper: (site: Site) => Promise<void>, message: string | RegExp) => () =>
    withLog(async (site) => {
      await tamper(site);
      assert.deepEqual(await fast(site), { intact: false, checked: 0 });
      const report = await verifyAudit(site.store, sha256);
      assert.deepEqual(report, await entryByEntry(site.store));
      assert.equal(report.ok, false);
      assert.match(report.message, typeof message === 'string' ? literal(message) : message);
    });

  describe(`parallel audit verify on ${name}`, { skip }, () => {
    it('vouches for a clean log and counts every entry', () =>
      withLog(async (site) => {
        assert.deepEqual(await fast(site), { intact: true, checked: ENTRIES });
        const report = await verifyAudit(site.store, sha256);
        assert.deepEqual(report, { ok: true, checked: ENTRIES, message: '1000 entries verified' });
        assert.deepEqual(report, await entryByEntry(site.store));
      }));

    it('vouches for an empty log only through the entry-by-entry check', async () => {
      const site = await open();
      try {
        assert.deepEqual(await fast(site), { intact: false, checked: 0 });
        assert.equal((await verifyAudit(site.store, sha256)).message, '0 entries verified');
      } finally {
        await site.close();
      }
    });

    it('re-checks entries JSON would escape from their fields, at a range edge', async () => {
      const site = await open();
      try {
        const odd = [
          draft(50, { actor: 'quote " and \\ back', target: 'tab\there\u0001' }),
          draft(51, {
            actor: 'line\nbreak\u2028',
            result: 'é ✓ 🚀',
            detail: { s: '\u001e\u001f' },
          }),
        ];
        await fill(site.store, [...drafts(49), ...odd, ...drafts(ENTRIES - 51, 52)]);
        assert.deepEqual(await fast(site), { intact: true, checked: ENTRIES });
        assert.equal((await verifyAudit(site.store, sha256)).ok, true);
      } finally {
        await site.close();
      }
    });

    it('checks entries appended while it ran, up to the moved head', async () => {
      const site = await open();
      try {
        await fill(site.store, drafts(900));
        const stale = await site.store.auditHead();
        await fill(site.store, drafts(100, 901));
        let calls = 0;
        const head = async () => (calls++ === 0 ? stale : site.store.auditHead());
        assert.deepEqual(await fast(site, head), { intact: true, checked: ENTRIES });
      } finally {
        await site.close();
      }
    });

    it(
      'a changed actor on either side of a range edge',
      detects((s) => s.tamper.changeActor(51), 'entry 51 was changed'),
    );
    it(
      'a changed actor at the end of a range',
      detects((s) => s.tamper.changeActor(50), 'entry 50 was changed'),
    );
    it(
      'a deleted row at a range edge',
      detects((s) => s.tamper.deleteEntry(51), 'entry 51 is missing or out of order (found 52'),
    );
    it(
      'two rows swapped across a range edge',
      detects((s) => s.tamper.swapEntries(50, 51), 'entry 50 does not link to the entry before it'),
    );
    it(
      'a cut-off tail',
      detects((s) => s.tamper.truncateTail(3), 'entries 998..1000 are missing from the end'),
    );
    it(
      'a hash rewritten in upper case',
      detects(
        (s) => s.exec('update audit_log set hash = upper(hash) where seq = 50'),
        'entry 50 was changed',
      ),
    );
    it(
      'a record separator smuggled into a row',
      detects(
        (s) =>
          s.exec(`update audit_log set detail = detail || ? where seq = 50`, ['\u001e51\u001f']),
        'entry 50 was changed',
      ),
    );
    it(
      'a prev_hash with a field separator before the real one',
      detects(
        (s) =>
          s.exec(`update audit_log set prev_hash = ? || prev_hash where seq = 51`, ['x\u001f']),
        'entry 51 does not link',
      ),
    );
    it(
      'a head that does not match the last entry',
      detects(
        (s) => s.exec(`update audit_head set hash = ? where id = 1`, ['f'.repeat(64)]),
        'entry 1000 was changed',
      ),
    );
    it(
      'rows past a head that was moved back',
      detects(
        (s) =>
          s.exec(
            'update audit_head set seq = 999, hash = (select hash from audit_log where seq = 999)',
          ),
        /missing from the end of the log/,
      ),
    );
  });
}

suite('SQLite', sqliteSite, false);
suite('PostgreSQL', postgresSite, !server);

describe('parallel audit verify through the store', () => {
  it('checks an in-memory SQLite log on the store connection', async () => {
    const store = await openStore({ dataDir: ':memory:', sha256 });
    try {
      await fill(store, drafts(300));
      assert.deepEqual(await store.verifyAuditParallel?.(), { intact: true, checked: 300 });
    } finally {
      await store.close();
    }
  });

  it('leaves the work to this thread when a worker cannot connect', async () => {
    const site = await sqliteSite();
    try {
      await fill(site.store, drafts(ENTRIES));
      const check = await verifyAuditParallel({
        local: () => site.source(),
        head: () => site.store.auditHead(),
        readAudit: (fromSeq, limit) => site.store.readAudit(fromSeq, limit),
        remote: { dialect: 'sqlite', file: join(tmpdir(), 'cs-verify-missing', SQLITE_FILE) },
        rangeSize: RANGE,
        threads: 2,
        minEntriesPerWorker: 0,
      });
      assert.deepEqual(check, { intact: true, checked: ENTRIES });
    } finally {
      await site.close();
    }
  });
});

describe('parallel audit verify on SQLite: a value stored as another type, same bytes', () => {
  /** `tamper` keeps what each value reads as in SQL, but not what JavaScript reads. */
  const retyped = (tamper: string) => async () => {
    const site = await sqliteSite();
    try {
      await fill(site.store, drafts(ENTRIES));
      assert.deepEqual(await fast(site), { intact: true, checked: ENTRIES });
      await site.exec(tamper);
      assert.deepEqual(await fast(site), { intact: false, checked: 0 });
      // The entry-by-entry check itself throws on a BLOB it cannot quote: the same here.
      assert.deepEqual(
        await outcome(verifyAudit(site.store, sha256)),
        await outcome(entryByEntry(site.store)),
      );
    } finally {
      await site.close();
    }
  };
  it(
    'a hash stored as a BLOB',
    retyped('update audit_log set hash = cast(hash as blob) where seq = 50'),
  );
  it(
    'a target stored as a BLOB',
    retyped('update audit_log set target = cast(target as blob) where seq = 51'),
  );
});

const outcome = (p: Promise<VerifyReport>) =>
  p.then(
    (report) => report,
    (err: unknown) => ({ thrown: String(err) }),
  );

const literal = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
