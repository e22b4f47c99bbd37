/**
 * Audit verify entries per second over 1,000,000 entries: `verifyAudit(store, sha256hex)`,
 * the same call as `countersign audit verify`. The log is filled first by `fill-audit.ts`
 * (entries chained with the domain's preimage and hash, written in big multi-row inserts,
 * the head moved as the store moves it). The store's parallel fast path must vouch for the
 * log (checked once, untimed); then 5 timed passes, each waiting (up to 10 s) for the
 * machine to be quiet first and each required to report every entry verified. One more pass
 * times the entry-by-entry check alone, the path taken after a break, for context.
 *
 *   node --import tsx bench/audit-verify.ts [--sqlite|--postgres] [--entries=N]
 */
import { sha256hex } from '../src/adapters/system.ts';
import type { Store } from '../src/app/ports.ts';
import { type VerifyOptions, verifyAudit } from '../src/app/verify-audit.ts';
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
  waitForQuiet,
} from './lib.ts';

export const VERIFY_TARGET = 500_000;
const RUNS = 5;

function entriesArg(): number {
  const arg = process.argv.find((a) => a.startsWith('--entries='));
  return arg ? Number(arg.slice('--entries='.length)) : 1_000_000;
}

/**
 * One timed pass: entries per second, and how busy the whole machine was (%) in the second
 * before it (other jobs: the pass itself keeps every core busy).
 */
async function pass(
  store: Store,
  entries: number,
  options: VerifyOptions = {},
): Promise<{ rate: number; busy: number }> {
  const busy = await waitForQuiet();
  const started = performance.now();
  const report = await verifyAudit(store, sha256hex, options);
  const seconds = (performance.now() - started) / 1000;
  if (!report.ok || report.checked !== entries) {
    throw new Error(`verify did not pass over ${entries} entries: ${report.message}`);
  }
  return { rate: entries / seconds, busy };
}

export async function benchVerify(target: BenchTarget, entries = entriesArg()): Promise<Row[]> {
  const place = await target.fresh();
  await (await place.open()).close(); // creates the schema
  const filled = performance.now();
  await fillAudit(place, entries);
  const fillSeconds = (performance.now() - filled) / 1000;
  const store = await place.open();
  try {
    const fast = await store.verifyAuditParallel?.();
    if (!fast?.intact || fast.checked !== entries) {
      throw new Error(`the parallel fast path did not vouch for the log: ${JSON.stringify(fast)}`);
    }
    const passes = [];
    for (let i = 0; i < RUNS; i++) passes.push(await pass(store, entries));
    const rates = passes.map((p) => p.rate);
    const verify = median(rates);
    const busy = passes.map((p) => p.busy);
    const slow = await pass(store, entries, { entryByEntry: true });
    return [
      {
        store: target.kind,
        metric: `audit verify, ${int(entries)} entries`,
        value: `${int(verify)} entries/s`,
        detail:
          `${range(rates)}; ${(entries / verify).toFixed(2)} s a pass; machine ` +
          `${Math.min(...busy).toFixed(0)}–${Math.max(...busy).toFixed(0)} % busy just before ` +
          `(fill ${fillSeconds.toFixed(0)} s)`,
        target: `≥ ${int(VERIFY_TARGET)}/s`,
        pass: verify >= VERIFY_TARGET,
      },
      {
        store: target.kind,
        metric: 'audit verify, entry by entry (after a break)',
        value: `${int(slow.rate)} entries/s`,
        detail: `one pass; machine ${slow.busy.toFixed(0)} % busy just before`,
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
