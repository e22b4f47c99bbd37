/**
 * Fills an audit log quickly for the verify benchmark: entries are chained exactly as
 * `appendAudit` chains them (the domain's preimage and SHA-256, `links`/`detail` stored as
 * their `canonicalJson` text),
 * written in large multi-row inserts outside Kysely, and the head row is moved the same way
 * the store moves it. `verifyAudit` passing over the result is the check that it matches.
 * The store must be closed while this runs (SQLite allows one writer).
 */

import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import type { RawRow } from '../src/adapters/store/audit-read.ts';
import { AUDIT_COLUMNS } from '../src/adapters/store/audit-repo.ts';
import { SQLITE_FILE } from '../src/adapters/store/open-store.ts';
import { sha256hex } from '../src/adapters/system.ts';
import { canonicalJson, recordPreimage } from '../src/domain/audit-chain.ts';
import type { Place } from './lib.ts';
import { sampleDraft } from './lib.ts';

const CHUNK = 10_000;

/** One `audit_log` row in `AUDIT_COLUMNS` order, as the store reads it. */
type Row = RawRow;

/**
 * Yields chained rows after `head`, `CHUNK` at a time. Every sample entry has the same
 * `links` and `detail`, so their canonical text is computed once; the preimage and hash are
 * the domain's own (`recordPreimage`, the function `chainEntry` hashes through).
 */
function* chunks(head: { seq: number; hash: string }, n: number): Generator<Row[]> {
  const first = sampleDraft(0);
  const linksJson = canonicalJson(first.links);
  const detailJson = canonicalJson(first.detail);
  let { seq, hash: prevHash } = head;
  for (let done = 0; done < n; done += CHUNK) {
    const rows: Row[] = [];
    for (let i = 0; i < Math.min(CHUNK, n - done); i++) {
      const d = sampleDraft(seq);
      seq++;
      const hash = sha256hex(
        recordPreimage({
          seq,
          at: d.at,
          actor: d.actor,
          surface: d.surface,
          action: d.action,
          target: d.target,
          paramsDigest: d.paramsDigest,
          result: d.result,
          linksJson,
          detailJson,
          prevHash,
        }),
      );
      rows.push([
        seq,
        d.at,
        d.actor,
        d.surface,
        d.action,
        d.target,
        d.paramsDigest,
        d.result,
        linksJson,
        detailJson,
        prevHash,
        hash,
      ]);
      prevHash = hash;
    }
    yield rows;
  }
}

/** Appends `n` chained entries after the current head. */
export async function fillAudit(place: Place, n: number): Promise<void> {
  if (place.databaseUrl) await fillPostgres(place.databaseUrl, n);
  else fillSqlite(place.dataDir, n);
}

function fillSqlite(dataDir: string, n: number): void {
  const db = new Sqlite(join(dataDir, SQLITE_FILE));
  try {
    db.pragma('busy_timeout = 5000');
    const head = db.prepare('select seq, hash from audit_head where id = 1').get() as {
      seq: number;
      hash: string;
    };
    const insert = db.prepare(
      `insert into audit_log (${AUDIT_COLUMNS.join(', ')}) values (${AUDIT_COLUMNS.map(() => '?').join(', ')})`,
    );
    const setHead = db.prepare('update audit_head set seq = ?, hash = ? where id = 1');
    const write = db.transaction((rows: Row[]) => {
      for (const r of rows) insert.run(r);
      const last = rows[rows.length - 1]!;
      setHead.run(last[0], last[11]);
    });
    for (const rows of chunks(head, n)) write.immediate(rows);
  } finally {
    db.close();
  }
}

/** Column types for `unnest`, in `AUDIT_COLUMNS` order. */
const PG_TYPES = ['int8', 'int8', ...Array<string>(10).fill('text')];

/**
 * Plain inserts on two connections at once (each chunk is one statement, so PostgreSQL's
 * work overlaps with hashing the next chunk here), then the head moves once at the end and
 * the table is vacuumed and analysed. Commit order does not matter: no reader looks before
 * the fill returns.
 */
async function fillPostgres(url: string, n: number): Promise<void> {
  const clients = [0, 1].map(() => new pg.Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  try {
    const res = await clients[0]!.query<{ seq: string; hash: string }>(
      'select seq, hash from audit_head where id = 1',
    );
    const head = { seq: Number(res.rows[0]!.seq), hash: res.rows[0]!.hash };
    const arrays = PG_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
    const text = `insert into audit_log (${AUDIT_COLUMNS.join(', ')}) select * from unnest(${arrays})`;
    const inFlight: (Promise<unknown> | undefined)[] = [undefined, undefined];
    let last: Row | undefined;
    let k = 0;
    for (const rows of chunks(head, n)) {
      const slot = k++ % clients.length;
      await inFlight[slot];
      const columns = AUDIT_COLUMNS.map((_, c) => rows.map((r) => r[c]));
      inFlight[slot] = clients[slot]!.query(text, columns);
      last = rows[rows.length - 1];
    }
    await Promise.all(inFlight);
    if (last) {
      await clients[0]!.query('update audit_head set seq = $1, hash = $2 where id = 1', [
        last[0],
        last[11],
      ]);
    }
    // What autovacuum does to any table this size within minutes: statistics (without
    // them range reads plan a bitmap scan and a sort) and hint bits (else the first
    // reader sets them, writing every page).
    await clients[0]!.query('vacuum analyze audit_log');
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}
