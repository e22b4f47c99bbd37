/**
 * Audit verify entries per second over 1,000,000 entries: `verifyAudit(store, sha256hex)`,
 * the same call as `countersign audit verify`, reading pages from the store and re-hashing
 * every entry. The log is filled first by `fill-audit.ts` (entries chained with the domain's
 * preimage and hash, written in big multi-row inserts, the head moved as the store moves it),
 * then verified 3 times; each pass must report every entry verified.
 *
 *   node --import tsx bench/audit-verify.ts [--sqlite|--postgres] [--entries=N]
 */
import { sha256hex } from '../src/adapters/system.ts';
import { verifyAudit } from '../src/app/verify-audit.ts';
import { fillAudit } from './fill-audit.ts';
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
} from './lib.ts';

export const VERIFY_TARGET = 500_000;
const RUNS = 3;

function entriesArg(): number {
  const arg = process.argv.find((a) => a.startsWith('--entries='));
  return arg ? Number(arg.slice('--entries='.length)) : 1_000_000;
}

export async function benchVerify(target: BenchTarget, entries = entriesArg()): Promise<Row[]> {
  const place = await target.fresh();
  await (await place.open()).close(); // creates the schema
  const filled = performance.now();
  await fillAudit(place, entries);
  const fillSeconds = (performance.now() - filled) / 1000;
  const store = await place.open();
  try {
    const rates: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const report = await verifyAudit(store, sha256hex);
      const seconds = (performance.now() - started) / 1000;
      if (!report.ok || report.checked !== entries) {
        throw new Error(`verify did not pass over ${entries} entries: ${report.message}`);
      }
      rates.push(entries / seconds);
    }
    const verify = median(rates);
    return [
      {
        store: target.kind,
        metric: `audit verify, ${int(entries)} entries`,
        value: `${int(verify)} entries/s`,
        detail: `${range(rates)}; ${(entries / verify).toFixed(2)} s a pass (fill ${fillSeconds.toFixed(0)} s)`,
        target: `≥ ${int(VERIFY_TARGET)}/s`,
        pass: verify >= VERIFY_TARGET,
      },
    ];
  } finally {
    await store.close();
    await place.cleanup();
  }
}

if (isMain(import.meta.url)) {
  const rows: Row[] = [];
  await forEachTarget(async (t) => {
    rows.push(...(await benchVerify(t)));
  }, onlyStore());
  printTable(rows);
}
