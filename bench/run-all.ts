/**
 * `npm run bench`: every benchmark on SQLite, then on PostgreSQL (skipped with a notice when
 * none is available), then ingestion side by side with Alertmanager (SQLite; skipped with a
 * notice without the Alertmanager binary), then one table per store with the targets. See
 * bench/README.md.
 *
 *   npm run bench [-- --sqlite|--postgres]
 */
import { benchAppends } from './audit-append.ts';
import { benchVerify } from './audit-verify.ts';
import { incidentRows, measureIncidentLatency } from './incident-latency.ts';
import { benchIngestVsAlertmanager, optionsFrom } from './ingest-vs-alertmanager.ts';
import {
  type BenchTarget,
  forEachTarget,
  machineBusy,
  machineNote,
  onlyStore,
  printTable,
  type Row,
  sqliteTarget,
  waitForQuiet,
} from './lib.ts';
import { benchServer } from './server-memory.ts';
import { benchSlack } from './slack-ack.ts';

const rows: Row[] = [];
const began = performance.now();

async function section(name: string, target: BenchTarget, run: () => Promise<Row[]>) {
  const before = await waitForQuiet();
  const busy = machineBusy();
  const started = performance.now();
  const got = await run();
  rows.push(...got);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `# ${target.kind} ${name}: ${seconds.toFixed(0)} s, machine ${busy().toFixed(0)} % busy ` +
      `(${before.toFixed(0)} % just before)`,
  );
}

console.log(`# countersign bench, ${new Date().toISOString()}, ${machineNote()}`);
console.log('# medians; this VM is shared and noisy, treat differences under ~20 % as noise');
await forEachTarget(async (target) => {
  await section('audit appends', target, () => benchAppends(target));
  await section('audit verify', target, () => benchVerify(target));
  await section('server latency + memory', target, () =>
    benchServer(target, { total: 10_000, withLatency: true, mixed: true }),
  );
  await section('slack ack + calls', target, () => benchSlack(target));
}, onlyStore());
if (onlyStore() !== 'postgres') {
  await section('alert → incident → first mitigation', sqliteTarget(), async () =>
    incidentRows(await measureIncidentLatency({ minutes: 1, perMinute: 100 })),
  );
  await section('ingest vs Alertmanager', sqliteTarget(), () =>
    benchIngestVsAlertmanager(optionsFrom(process.argv.slice(2))),
  );
}
console.log('');
printTable(rows);
console.log(`\n# total ${((performance.now() - began) / 1000).toFixed(0)} s`);
