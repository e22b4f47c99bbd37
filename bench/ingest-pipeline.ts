/**
 * The ingest pipeline in process, without HTTP: CPU time per event of the journal (one
 * synchronous=FULL commit per 64 events, as the 64-client load groups them) and processing
 * (the demo catalog's `checkout-alarms` route; every alarm new, so each folds into the
 * C01ALERTS digest), on SQLite in a temp folder. CPU time (user + system of this process)
 * is much less disturbed by other jobs on a shared machine than rates or latencies, so
 * this is the figure to compare code changes with (alternate runs of old and new code).
 * See bench/README.md, "Ingest vs Alertmanager".
 *
 *   node --import tsx bench/ingest-pipeline.ts [--events=20000]
 */
import { createLogger } from '../src/adapters/logger.ts';
import { createIds, sha256hex, systemClock } from '../src/adapters/system.ts';
import { IngestPipeline } from '../src/app/ingest-pipeline.ts';
import type { AlertChat, NewEvent } from '../src/app/ingest-ports.ts';
import { loadCatalogOrThrow } from '../src/config/load-catalog.ts';
import type { EventEnvelope } from '../src/domain/event-envelope.ts';
import { alarmEventBody } from './ingest-payloads.ts';
import { DEMO } from './ingest-phases.ts';
import { isMain, machineNote, sqliteTarget } from './lib.ts';

/** Events a journal commit takes: the closed-loop load's 64 clients. */
const PER_COMMIT = 64;

export interface PipelineFigure {
  /** CPU time (user + system) per event, µs; `userUs` of it in user mode. */
  cpuUs: number;
  userUs: number;
  /** Wall time per event, µs (includes waiting for the disk). */
  wallUs: number;
}

/** Journals and processes `events` alarms (after a warm-up of 3,000), until all are processed. */
export async function pipelineCpu(events: number): Promise<PipelineFigure> {
  const place = await sqliteTarget().fresh();
  const store = await place.open();
  const catalog = await loadCatalogOrThrow(DEMO);
  const quietChat: AlertChat = { async showGroup() {}, async showDigest() {} };
  const pipeline = new IngestPipeline({
    store,
    catalog: { current: () => catalog },
    clock: systemClock,
    ids: createIds(systemClock),
    sha256: sha256hex,
    log: createLogger('silent'),
    chat: quietChat,
  });
  await pipeline.start();
  const tag = Date.now().toString(36);
  const event = (i: number): NewEvent => {
    const envelope = JSON.parse(alarmEventBody(`${tag}-${i}`, `checkout-api-${tag}-${i}`));
    const e = envelope as EventEnvelope;
    return {
      key: `eventbridge:${e.source}:${e.id}`,
      ingest: 'eventbridge',
      receivedAt: Date.now(),
      envelope: e,
    };
  };
  const run = async (first: number, n: number) => {
    for (let i = first; i < first + n; i += PER_COMMIT) {
      await Promise.all(
        Array.from({ length: PER_COMMIT }, (_, k) => pipeline.accept([event(i + k)])),
      );
    }
    await pipeline.drain();
  };
  try {
    await run(0, 3000);
    const cpu0 = process.cpuUsage();
    const began = performance.now();
    await run(1_000_000, events);
    const cpu = process.cpuUsage(cpu0);
    return {
      cpuUs: (cpu.user + cpu.system) / events,
      userUs: cpu.user / events,
      wallUs: ((performance.now() - began) * 1000) / events,
    };
  } finally {
    await pipeline.stop();
    await store.close();
    await place.cleanup();
  }
}

if (isMain(import.meta.url)) {
  const m = process.argv.map((a) => /^--events=(\d+)$/.exec(a)).find(Boolean);
  const events = m ? Number(m[1]) : 20_000;
  console.log(`# ingest pipeline in process, ${new Date().toISOString()}, ${machineNote()}`);
  const f = await pipelineCpu(events);
  console.log(
    `${events} events, ${PER_COMMIT} a commit: CPU ${f.cpuUs.toFixed(0)} µs/event ` +
      `(user ${f.userUs.toFixed(0)}), wall ${f.wallUs.toFixed(0)} µs/event`,
  );
}
