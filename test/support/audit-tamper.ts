/**
 * Tampering with a SQLite audit log behind Countersign's back, the way someone with write
 * access to the file could (§8.61): change a row, delete one, swap two rows' contents, cut
 * off the tail. Each works on a copy, so one populated log serves every case.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { AUDIT_COLUMNS } from '../../src/adapters/store/audit-repo.ts';
import { SQLITE_FILE } from '../../src/adapters/store/open-store.ts';

/** Copies `<fromDir>/countersign.db` (a consistent snapshot, WAL included) into `toDir`. */
export function copyDatabase(fromDir: string, toDir: string): string {
  mkdirSync(toDir, { recursive: true });
  const target = join(toDir, SQLITE_FILE);
  const db = new Sqlite(join(fromDir, SQLITE_FILE), { readonly: true });
  try {
    db.prepare('vacuum into ?').run(target);
  } finally {
    db.close();
  }
  return target;
}

/** Runs `fn` on a raw connection to the database file, then closes it. */
export function withRawDatabase<T>(file: string, fn: (db: Sqlite.Database) => T): T {
  const db = new Sqlite(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function auditCount(db: Sqlite.Database): number {
  return (db.prepare('select count(*) as n from audit_log').get() as { n: number }).n;
}

/** (a) Changes who did it in entry `seq`. */
export function changeActor(db: Sqlite.Database, seq: number, actor = 'mallory'): void {
  const r = db.prepare('update audit_log set actor = ? where seq = ?').run(actor, seq);
  if (r.changes !== 1) throw new Error(`no audit entry ${seq}`);
}

/** (b) Removes entry `seq`, leaving a gap. */
export function deleteEntry(db: Sqlite.Database, seq: number): void {
  const r = db.prepare('delete from audit_log where seq = ?').run(seq);
  if (r.changes !== 1) throw new Error(`no audit entry ${seq}`);
}

/** Every column but `seq`. */
const CONTENT = AUDIT_COLUMNS.filter((c) => c !== 'seq');

/** (c) Swaps the contents (everything but `seq`) of entries `a` and `b`: a reordering. */
export function swapEntries(db: Sqlite.Database, a: number, b: number): void {
  const read = db.prepare(`select ${CONTENT.join(', ')} from audit_log where seq = ?`);
  const write = db.prepare(
    `update audit_log set ${CONTENT.map((c) => `${c} = @${c}`).join(', ')} where seq = @seq`,
  );
  const ra = read.get(a) as Record<string, unknown> | undefined;
  const rb = read.get(b) as Record<string, unknown> | undefined;
  if (!ra || !rb) throw new Error(`no audit entry ${ra ? b : a}`);
  db.transaction(() => {
    write.run({ ...rb, seq: a });
    write.run({ ...ra, seq: b });
  })();
}

/** (d) Deletes the last `n` entries, leaving the recorded head where it was. */
export function truncateTail(db: Sqlite.Database, n: number): { from: number; to: number } {
  const last = (db.prepare('select max(seq) as m from audit_log').get() as { m: number }).m;
  db.prepare('delete from audit_log where seq > ?').run(last - n);
  return { from: last - n + 1, to: last };
}
