/**
 * Audit appends per second through the store's own transaction and `appendAudit`: one entry
 * per transaction ("single") and 100 per transaction ("batched"), from one writer and, on
 * PostgreSQL, from 8 concurrent writers (each on its own pooled connection; the head row's
 * `FOR UPDATE` makes them take turns). SQLite has one connection, so concurrency adds nothing.
 *
 *   node --import tsx bench/audit-append.ts [--sqlite|--postgres]
 */
import type { Store } from '../src/app/ports.ts';
import {
  type BenchTarget,
  forEachTarget,
  int,
  isMain,
  median,
  onlyStore,
  printTable,
  type Row,
  range,
  sampleDraft,
} from './lib.ts';

const RUNS = 3;
const RUN_MS = 1000;

interface Mode {
  name: string;
  batch: number;
  writers: number;
}

const MODES: Mode[] = [
  { name: 'single, 1 writer', batch: 1, writers: 1 },
  { name: 'batched 100, 1 writer', batch: 100, writers: 1 },
  { name: 'single, 8 writers', batch: 1, writers: 8 },
  { name: 'batched 100, 8 writers', batch: 100, writers: 8 },
];

let counter = 0;

/** Appends for `RUN_MS` and returns entries per second. */
async function oneRun(store: Store, mode: Mode): Promise<number> {
  const until = performance.now() + RUN_MS;
  let entries = 0;
  const writer = async () => {
    while (performance.now() < until) {
      const drafts = Array.from({ length: mode.batch }, () => sampleDraft(counter++));
      await store.transaction((tx) => tx.appendAudit(drafts));
      entries += drafts.length;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: mode.writers }, writer));
  return entries / ((performance.now() - started) / 1000);
}

export async function benchAppends(target: BenchTarget): Promise<Row[]> {
  const place = await target.fresh();
  const store = await place.open(10);
  const rows: Row[] = [];
  try {
    await oneRun(store, { name: 'warm-up', batch: 10, writers: 1 });
    for (const mode of MODES) {
      if (mode.writers > 1 && target.kind === 'sqlite') continue;
      const rates: number[] = [];
      for (let i = 0; i < RUNS; i++) rates.push(await oneRun(store, mode));
      rows.push({
        store: target.kind,
        metric: `audit appends/s, ${mode.name}`,
        value: `${int(median(rates))} entries/s`,
        detail: range(rates),
      });
    }
  } finally {
    await store.close();
    await place.cleanup();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const rows: Row[] = [];
  await forEachTarget(async (t) => {
    rows.push(...(await benchAppends(t)));
  }, onlyStore());
  printTable(rows);
}
