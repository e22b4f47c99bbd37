import assert from 'node:assert/strict';
import { test } from 'node:test';
import Sqlite from 'better-sqlite3';
import { cachingStatements } from './statement-cache.ts';

/** A real in-memory database that counts how often SQLite is asked to prepare. */
function countingDb() {
  const db = new Sqlite(':memory:');
  db.exec('create table t (id integer primary key, name text)');
  let prepared = 0;
  const counted = {
    prepare: (sql: string) => {
      prepared += 1;
      return db.prepare(sql);
    },
    close: () => db.close(),
  };
  return { counted, prepared: () => prepared, db };
}

test('the same SQL text is prepared once and runs with each call’s own parameters', () => {
  const { counted, prepared } = countingDb();
  const cached = cachingStatements(counted);
  const insert = 'insert into t (name) values (?)';
  for (const name of ['a', 'b', 'c']) cached.prepare(insert).run([name]);
  const select = cached.prepare('select name from t where id = ?');
  assert.deepEqual(select.all([2]), [{ name: 'b' }]);
  assert.deepEqual(cached.prepare('select name from t where id = ?').all([3]), [{ name: 'c' }]);
  assert.equal(prepared(), 2);
});

test('beyond its size the least recently used statement is dropped and prepared again', () => {
  const { counted, prepared } = countingDb();
  const cached = cachingStatements(counted, 2);
  cached.prepare('select 1');
  cached.prepare('select 2');
  cached.prepare('select 1'); // now 2 is the oldest
  cached.prepare('select 3'); // evicts 2
  assert.equal(prepared(), 3);
  cached.prepare('select 1');
  assert.equal(prepared(), 3, 'select 1 was used recently and stays');
  cached.prepare('select 2');
  assert.equal(prepared(), 4, 'select 2 was evicted');
});

test('a statement left mid-iteration is usable again once its iterator is closed', () => {
  const { counted } = countingDb();
  const cached = cachingStatements(counted);
  for (const name of ['a', 'b', 'c']) cached.prepare('insert into t (name) values (?)').run([name]);
  const sql = 'select name from t order by id';
  for (const row of cached.prepare(sql).iterate([])) {
    assert.deepEqual(row, { name: 'a' });
    break; // closes the iterator, as Kysely's stream does when its reader stops early
  }
  assert.equal(cached.prepare(sql).all([]).length, 3);
});

test('a cached statement sees a column added after it was prepared', () => {
  const { counted, db } = countingDb();
  const cached = cachingStatements(counted);
  cached.prepare('insert into t (name) values (?)').run(['a']);
  assert.deepEqual(cached.prepare('select * from t').all([]), [{ id: 1, name: 'a' }]);
  db.exec("alter table t add column team text not null default 'payments'");
  assert.deepEqual(cached.prepare('select * from t').all([]), [
    { id: 1, name: 'a', team: 'payments' },
  ]);
});

test('closing closes the database', () => {
  const { counted, db } = countingDb();
  cachingStatements(counted).close();
  assert.equal(db.open, false);
});
