/**
 * The web console's weight and speed (issue 6): builds it (`npx vite build --config
 * web/vite.config.ts`), prints the gzipped size of every JavaScript file in
 * `web/dist/assets` and their total (target ≤ 250 kB, 1 kB = 1,000 bytes, gzip level 9 as a
 * static server would precompress), then measures the live feed's time to interactive with
 * 1,000 events: the real server (demo catalog, SQLite in a temp folder), 1,000 read-only
 * `status checkout-api prod` commands from alice through `POST /api/v1/commands` (one audit
 * entry each), and five cold page loads of `/` signed in as alice in headless Chromium, each
 * in a fresh browser context (empty cache). A load is interactive when the feed shows its
 * 1,000th row and the command box is there and enabled; the time is taken in the page from
 * navigation start (`performance.now()` at the first animation frame where that holds) and,
 * from outside, wall-clock from `page.goto`. Prints each load and the median; no target is set
 * for it. Afterwards each load's command box is checked to take typed input.
 *
 *   npx tsx bench/console.ts          (needs Chromium: CHROMIUM_PATH or /usr/bin/chromium)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  browserMissing,
  buildConsole,
  launchChromium,
  reportCspViolations,
  signIn,
  watchPage,
} from '../test/support/browser.ts';
import { alignedTable, isMain, machineNote, median, sleep, sqliteTarget } from './lib.ts';
import { type Server, startServer } from './server-process.ts';

const ASSETS = resolve(import.meta.dirname, '../web/dist/assets');
/** Target for all the console's JavaScript, gzipped, in bytes (250 kB). */
export const JS_TARGET_BYTES = 250_000;
const EVENTS = 1000;
const LOADS = 5;
const SEEDERS = 8;

export interface JsSize {
  file: string;
  bytes: number;
  gzipBytes: number;
}

/** Every `.js` file in `web/dist/assets`, raw and gzipped (level 9). */
export function javascriptSizes(): JsSize[] {
  return readdirSync(ASSETS)
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((file) => {
      const body = readFileSync(join(ASSETS, file));
      return { file, bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length };
    });
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

function printSizes(sizes: JsSize[]): void {
  const total = sizes.reduce((n, s) => n + s.gzipBytes, 0);
  const raw = sizes.reduce((n, s) => n + s.bytes, 0);
  const table = alignedTable(
    ['file', 'raw', 'gzipped'],
    [
      ...sizes.map((s) => [`web/dist/assets/${s.file}`, kb(s.bytes), kb(s.gzipBytes)]),
      ['total JavaScript', kb(raw), kb(total)],
    ],
  );
  console.log(table.head);
  for (const line of table.rows) console.log(line);
  const verdict = total <= JS_TARGET_BYTES ? 'PASS' : 'MISS';
  console.log(`\nconsole JavaScript, gzipped: ${kb(total)} (target ≤ 250 kB): ${verdict}\n`);
}

/** `EVENTS` read-only commands from alice, `SEEDERS` at a time: one audit entry each. */
async function seed(server: Server): Promise<void> {
  let next = 0;
  const loop = async () => {
    while (next < EVENTS) {
      next++;
      const a = await server.call('POST', '/api/v1/commands', 'alice', {
        text: 'status checkout-api prod',
      });
      if (a.status !== 200) {
        throw new Error(`status: HTTP ${a.status} ${JSON.stringify(a.json).slice(0, 300)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: SEEDERS }, loop));
}

/** Installed before the page's own scripts: notes when the feed is full and the box usable. */
const WATCH_READY = `(() => {
  const check = () => {
    const rows = document.querySelectorAll('.feed-row').length;
    const box = document.getElementById('command-line');
    if (rows >= ${EVENTS} && box && !box.disabled && box.offsetParent !== null) {
      window.__consoleReady = { ms: performance.now(), rows };
    } else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;

const READY = `new Promise((resolve, reject) => {
  const until = Date.now() + 60000;
  const wait = () => {
    if (window.__consoleReady) resolve(window.__consoleReady);
    else if (Date.now() > until) reject(new Error('the feed never showed ${EVENTS} rows'));
    else setTimeout(wait, 5);
  };
  wait();
})`;

interface Load {
  /** Navigation start → 1,000th row shown and command box enabled, from the page's clock. */
  pageMs: number;
  /** `page.goto` called → the same moment seen from the test, wall-clock. */
  wallMs: number;
  domContentLoadedMs: number;
}

async function measureLoads(server: Server): Promise<Load[]> {
  const browser = await launchChromium();
  const problems: string[] = [];
  try {
    const first = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const signing = await first.newPage();
    await signIn(signing, server.url, 'alice');
    const storageState = await first.storageState();
    await first.close();
    const loads: Load[] = [];
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        storageState,
      });
      await reportCspViolations(context);
      await context.addInitScript(WATCH_READY);
      const page = await context.newPage();
      watchPage(page, problems);
      const started = Date.now();
      await page.goto(`${server.url}/`, { waitUntil: 'commit' });
      const ready = (await page.evaluate(READY)) as { ms: number; rows: number };
      const wallMs = Date.now() - started;
      const domContentLoadedMs = (await page.evaluate(
        `performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd`,
      )) as number;
      // It really takes input: type into it and read the value back.
      await page.locator('#command-line').pressSequentially('status');
      const typed = await page.locator('#command-line').inputValue();
      if (typed !== 'status') throw new Error(`the command box took "${typed}"`);
      loads.push({ pageMs: ready.ms, wallMs, domContentLoadedMs });
      console.log(
        `load ${i + 1}: ${ready.rows} rows and the command box ready at ${ready.ms.toFixed(0)} ms` +
          ` after navigation start (wall-clock ${wallMs} ms; DOMContentLoaded ${domContentLoadedMs.toFixed(0)} ms)`,
      );
      await context.close();
      await sleep(200);
    }
    if (problems.length) throw new Error(`the console complained:\n${problems.join('\n')}`);
    return loads;
  } finally {
    await browser.close();
  }
}

export async function benchConsole(): Promise<void> {
  console.log(`# console build and live feed, ${machineNote()}`);
  const buildMs = buildConsole();
  console.log(`built web/dist in ${(buildMs / 1000).toFixed(1)} s\n`);
  printSizes(javascriptSizes());

  const missing = browserMissing();
  if (missing) {
    console.log(`# time to interactive skipped: ${missing}`);
    return;
  }
  const place = await sqliteTarget().fresh();
  const server = await startServer(place);
  try {
    const seeding = Date.now();
    await seed(server);
    console.log(`seeded ${EVENTS} audit events in ${Date.now() - seeding} ms\n`);
    const loads = await measureLoads(server);
    const pageMs = median(loads.map((l) => l.pageMs));
    const wallMs = median(loads.map((l) => l.wallMs));
    console.log(
      `\nlive feed with ${EVENTS} events, time to interactive, median of ${LOADS} cold loads: ` +
        `${pageMs.toFixed(0)} ms from navigation start (wall-clock from page.goto ${wallMs.toFixed(0)} ms)`,
    );
  } finally {
    await server.stop();
    await place.cleanup();
  }
}

if (isMain(import.meta.url)) {
  await benchConsole();
}
