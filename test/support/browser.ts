/**
 * Driving the built web console in headless Chromium (Debian's `chromium`, through
 * `playwright-core`, which downloads no browser): finding the browser, building the console
 * when `web/src` is newer than `web/dist`, watching a page for console errors and CSP
 * violations, the demo sign-in by keyboard, axe-core, and the phone-width overflow check.
 * Shared by `test/console-browser.test.ts` and `bench/console.ts`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../..');
const WEB = join(ROOT, 'web');
const BUILT_PAGE = join(WEB, 'dist/index.html');
const AXE_SOURCE = join(ROOT, 'node_modules/axe-core/axe.min.js');

/** The Chromium binary: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  const path = chromiumPath();
  return existsSync(path) ? undefined : `no Chromium at ${path} (set CHROMIUM_PATH)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** True when `web/dist/index.html` is missing or older than any source of the console. */
export function consoleBuildStale(): boolean {
  if (!existsSync(BUILT_PAGE)) return true;
  const sources = Math.max(
    newestMtime(join(WEB, 'src')),
    newestMtime(join(WEB, 'index.html')),
    newestMtime(join(WEB, 'vite.config.ts')),
  );
  return statSync(BUILT_PAGE).mtimeMs < sources;
}

/** `npx vite build --config web/vite.config.ts`; throws with Vite's output when it fails. */
export function buildConsole(): number {
  const started = Date.now();
  const r = spawnSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) {
    throw new Error(`the console build failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return Date.now() - started;
}

/** Builds the console when it is stale; returns the build's duration in ms, 0 when skipped. */
export function ensureConsoleBuilt(): number {
  return consoleBuildStale() ? buildConsole() : 0;
}

/**
 * Collects what should never happen on a page: uncaught errors, console errors and CSP
 * violations (Chromium's console message and the page's `securitypolicyviolation` event).
 * A failed load is allowed only where `allowFailed(url, status text)` says so.
 */
export function watchPage(
  page: Page,
  problems: string[],
  allowFailed: (url: string, text: string) => boolean = () => false,
): void {
  const where = () => new URL(page.url()).pathname;
  page.on('pageerror', (e) => problems.push(`${where()}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (text.startsWith('Failed to load resource') && allowFailed(m.location().url, text)) return;
    problems.push(`${where()}: console error: ${text} (${m.location().url})`);
  });
}

/** Reports CSP violations as console errors in every page of `context`. */
export async function reportCspViolations(context: BrowserContext): Promise<void> {
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
    console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI);
  });`);
}

interface AxeNode {
  target: string[];
  html: string;
  failureSummary?: string;
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: AxeNode[];
}

let axeSource: string | undefined;

/**
 * Runs axe-core on the page and returns its serious and critical violations, one line per
 * rule with up to five offending elements. The script goes in through the DevTools protocol
 * (`page.evaluate`), not a `<script>` tag: the console's CSP (`script-src 'self'`) rightly
 * refuses an inline script, and `bypassCSP` would hide the CSP violations this suite looks for.
 */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(AXE_SOURCE, 'utf8');
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`,
  )) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id} (${v.help}): ${v.nodes
          .slice(0, 5)
          .map((n) => `${n.target.join(' ')} ${n.html.slice(0, 120)}`)
          .join(' | ')}`,
    );
}

/** How far the page is wider than its viewport, in CSS pixels (0: no horizontal scroll). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return (await page.evaluate(
    'Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)',
  )) as number;
}

/** The id (or tag and text) of the focused element, for keyboard walks. */
export function focused(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const e = document.activeElement;
    if (!e) return '';
    return e.id || e.getAttribute('value') || e.tagName.toLowerCase() + ':' + (e.textContent || '').trim().slice(0, 40);
  })()`) as Promise<string>;
}

/** Presses Tab until `accept(focused)` holds; fails after `max` presses. */
export async function tabTo(
  page: Page,
  accept: (focus: string) => boolean,
  what: string,
  max = 40,
): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const now = await focused(page);
    if (accept(now)) return;
    seen.push(now);
  }
  throw new Error(`Tab never reached ${what}; focus went through: ${seen.join(' → ')}`);
}

/**
 * The demo sign-in with the keyboard only: Tab into the radio group, arrow keys to the
 * person, Space to choose, Tab to the submit button, Enter. Ends on the live feed.
 */
export async function signInByKeyboard(page: Page, base: string, person: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByRole('radio').first().waitFor();
  await tabTo(page, (f) => /^(alice|bob|carol|dave)$/.test(f), 'the demo people');
  for (let i = 0; i < 10 && (await focused(page)) !== person; i++) {
    await page.keyboard.press('ArrowDown');
  }
  if ((await focused(page)) !== person) throw new Error(`the arrow keys never reached ${person}`);
  await page.keyboard.press('Space');
  await tabTo(page, (f) => f.startsWith('button:Sign in'), 'the sign-in button');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Live feed' }).waitFor();
}

/** The demo sign-in by pointer, for the people whose keyboard use is not under test. */
export async function signIn(page: Page, base: string, person: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.locator(`input[type=radio][value="${person}"]`).check();
  await page.getByRole('button', { name: /sign in as/i }).click();
  await page.getByRole('heading', { level: 1, name: 'Live feed' }).waitFor();
}

/** Waits for the page's heading and for every "Loading…" note to be gone. */
export async function settled(page: Page, timeoutMs = 20_000): Promise<void> {
  await page.locator('h1').first().waitFor();
  // Polled from here: a string predicate in `waitForFunction` would need 'unsafe-eval'.
  const loading = page.locator('[role=status]', { hasText: /^Loading…$/ });
  const until = Date.now() + timeoutMs;
  while ((await loading.count()) > 0) {
    if (Date.now() > until) throw new Error(`${page.url()} still says Loading…`);
    await page.waitForTimeout(50);
  }
}
