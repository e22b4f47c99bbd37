/**
 * The web console in real headless Chromium (issue 6), against the real server process on
 * the demo catalog, bound to loopback so the demo sign-in is offered:
 *
 * - alice signs in and sends a prod deploy from the feed's command box, both by keyboard;
 * - bob, in a second browser context, approves it from the Approvals inbox — and when the
 *   clock is outside the demo's prod change window (Mon–Fri 07:00–20:00 UTC), dave, in a
 *   third, first acknowledges the window;
 * - alice's feed shows the approval and the execution as they happen (SSE, no reload), and
 *   the request's audit entries show `execution.finished`;
 * - every page at 1280×800 and 390×844: a screenshot in `test-artifacts/console/`, no
 *   horizontal scroll on the phone, no serious or critical axe-core violation;
 * - no page error, console error or CSP violation anywhere.
 *
 * Skips with a notice when there is no Chromium (`CHROMIUM_PATH`, else /usr/bin/chromium).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  browserMissing,
  ensureConsoleBuilt,
  focused,
  horizontalOverflow,
  launchChromium,
  reportCspViolations,
  seriousAxeViolations,
  settled,
  signIn,
  signInByKeyboard,
  tabTo,
  watchPage,
} from './support/browser.ts';
import {
  demoServerEnv,
  killAllServers,
  type ServerProcess,
  startServerProcess,
} from './support/server-process.ts';

const ROOT = resolve(import.meta.dirname, '..');
const ARTIFACTS = join(ROOT, 'test-artifacts/console');
const DEPLOY = 'deploy checkout-api prod version=1.4.2 ticket=CHG-1';
/** Longest wait for one thing on a page, in ms (the 2-core machine may be busy). */
const STEP_MS = 20_000;
const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
] as const;

const missing = browserMissing();
if (missing) console.log(`# console browser tests skipped: ${missing}`);

/** The signed-out page's `GET /session` answers 401 by design; nothing else may fail. */
const expectedFailure = (url: string) => new URL(url).pathname === '/api/v1/session';

describe('the web console in headless Chromium', () => {
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  let dataDir = '';
  const problems: string[] = [];
  /** What the journey made, for the page tour (which makes its own when the journey failed). */
  const made: { request?: string } = {};

  before(async () => {
    if (missing) return;
    ensureConsoleBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'countersign-console-browser-'));
    server = await startServerProcess((port) => demoServerEnv(port, dataDir));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.kill().catch(() => undefined);
    killAllServers();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function open(size: { width: number; height: number } = SIZES[0]) {
    const context = await browser!.newContext({ viewport: size });
    context.setDefaultTimeout(STEP_MS);
    await reportCspViolations(context);
    const page = await context.newPage();
    watchPage(page, problems, expectedFailure);
    return { context, page };
  }

  it('alice asks, dave and bob sign off, alice watches it run live and finds it audited', {
    timeout: 120_000,
    skip: missing ?? false,
  }, async () => {
    const base = server!.url;
    const alice = await open();
    await signInByKeyboard(alice.page, base, 'alice');
    await alice.page.evaluate('window.__sameDocument = true');

    // The command box by keyboard: Tab to it, type, Enter.
    await tabTo(alice.page, (f) => f === 'command-line', 'the command box');
    await alice.page.keyboard.type(DEPLOY);
    await alice.page.keyboard.press('Enter');
    const reply = alice.page.locator('.reply').first();
    const open_ = reply.getByRole('link', { name: /^Open REQ-/ });
    await open_.waitFor();
    const id = ((await open_.textContent()) ?? '').replace(/^Open /, '');
    assert.match(id, /^REQ-[0-9A-Z]+$/);
    assert.match((await reply.textContent()) ?? '', new RegExp(id));
    made.request = id;

    const needs = await requestNeeds(base, id);
    assert.ok(needs.includes('approval'), `the prod deploy needs an approval: ${needs}`);
    if (needs.includes('window-ack')) {
      // Outside the change window: dave acknowledges it from the request's page.
      const dave = await open();
      await signIn(dave.page, base, 'dave');
      await dave.page.goto(`${base}/requests/${id}`);
      await settled(dave.page);
      await dave.page.getByRole('button', { name: /^Acknowledge the change window/ }).click();
      await signedOff(dave.page, 'window-ack');
      await dave.context.close();
    }

    const bob = await open();
    await signIn(bob.page, base, 'bob');
    await bob.page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Approvals' })
      .click();
    const card = bob.page.locator('.card', { has: bob.page.getByRole('link', { name: id }) });
    await card.waitFor();
    await bob.page.screenshot({ path: join(ARTIFACTS, 'journey-approvals-bob-1280.png') });
    // The approval button, by keyboard: focus it and press Enter.
    await card.getByRole('button', { name: `Approve ${id}` }).press('Enter');
    await card.waitFor({ state: 'detached' });
    await bob.context.close();

    // Alice's feed, never reloaded, shows the approval and the execution as they happen.
    const row = (action: string) =>
      alice.page.locator('.feed-row', { hasText: action }).filter({ hasText: id }).first();
    await row('approval.given').waitFor();
    await row('execution.finished').waitFor({ timeout: 60_000 });
    assert.equal(await alice.page.evaluate('window.__sameDocument'), true, 'the feed reloaded');
    await alice.page.screenshot({ path: join(ARTIFACTS, 'journey-feed-live-1280.png') });
    assert.match((await alice.page.locator('.feed-status').textContent()) ?? '', /^Live/);

    // The request's audit entries, reached from the reply's link.
    await open_.click();
    await alice.page.getByRole('heading', { level: 1, name: `Request ${id}` }).waitFor();
    const audit = alice.page.getByRole('table', { name: `Audit entries for ${id}` });
    await audit.getByText('execution.finished').waitFor();
    await alice.page.screenshot({
      path: join(ARTIFACTS, 'journey-request-audit-1280.png'),
      fullPage: true,
    });
    await alice.context.close();
    assert.deepEqual(problems, []);
  });

  it('every page at 1280×800 and 390×844: screenshot, no sideways scroll, no serious axe violation', {
    timeout: 120_000,
    skip: missing ?? false,
  }, async () => {
    const base = server!.url;
    const request = made.request ?? (await askByApi(base, DEPLOY));
    const failures: string[] = [];
    const check = async (page: Page, name: string, width: number) => {
      await settled(page);
      await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
      const overflow = width < 1000 ? await horizontalOverflow(page) : 0;
      if (overflow > 0) failures.push(`${name} at ${width}: ${overflow}px of horizontal scroll`);
      for (const v of await seriousAxeViolations(page)) failures.push(`${name} at ${width}: ${v}`);
    };

    // dave (administrator) sees every record and every control.
    let incident = '';
    let run = '';
    for (const size of SIZES) {
      const { context, page } = await open(size);
      const response = await page.goto(`${base}/`);
      assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
      await page.getByRole('heading', { level: 1, name: /Sign in/ }).waitFor();
      await check(page, 'sign-in', size.width);
      await signIn(page, base, 'dave');
      await page.locator('.feed-status', { hasText: /^Live/ }).waitFor();
      await check(page, 'feed', size.width);
      if (size.width === 1280) await skipLinkWorks(page);

      for (const [name, path] of [
        ['approvals', '/approvals'],
        ['requests', '/requests'],
        ['request', `/requests/${request}`],
        ['incidents', '/incidents'],
      ] as const) {
        await page.goto(`${base}${path}`);
        await check(page, name, size.width);
      }

      if (!incident) {
        await page.getByRole('button', { name: 'Declare an incident' }).click();
        await page.getByLabel('Service').fill('checkout-api');
        await page.getByLabel('Environment').fill('prod');
        await page.getByLabel('What is wrong').fill('Checkout is slow for some customers');
        await check(page, 'incident-declare', size.width);
        await page.getByRole('button', { name: 'Declare', exact: true }).click();
        await page.waitForURL(/\/incidents\/INC-/);
        incident = new URL(page.url()).pathname.split('/').pop() ?? '';
      } else {
        await page.getByRole('button', { name: 'Declare an incident' }).click();
        await check(page, 'incident-declare', size.width);
        await page.goto(`${base}/incidents/${incident}`);
      }
      await check(page, 'incident', size.width);

      if (!run) {
        await page.getByRole('button', { name: 'Start the run' }).click();
        await page.waitForURL(/\/runs\/RBR-/);
        run = new URL(page.url()).pathname.split('/').pop() ?? '';
      } else {
        await page.goto(`${base}/runs/${run}`);
      }
      await check(page, 'run', size.width);

      for (const [name, path] of [
        ['runs', '/runs'],
        ['alerts', '/alerts'],
        ['audit', '/audit'],
        ['catalog', '/catalog'],
        ['review', '/review'],
      ] as const) {
        await page.goto(`${base}${path}`);
        await check(page, name, size.width);
      }
      await context.close();
    }
    assert.deepEqual(failures, [], `accessibility or layout problems:\n${failures.join('\n')}`);
    assert.deepEqual(problems, []);
  });
});

/** The sign-off kinds a request still lacks, from the API (the demo token of alice). */
async function requestNeeds(base: string, id: string): Promise<string[]> {
  const res = await fetch(`${base}/api/v1/requests/${id}`, {
    headers: { authorization: 'Bearer cs_demo_alice' },
  });
  assert.equal(res.status, 200);
  const { request } = (await res.json()) as {
    request: { requirements: { kind: string; count: number }[] };
  };
  return request.requirements.map((r) => r.kind);
}

/** A request made over the API, for the page tour when the journey did not make one. */
async function askByApi(base: string, text: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/commands`, {
    method: 'POST',
    headers: { authorization: 'Bearer cs_demo_alice', 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  const body = (await res.json()) as { request?: { id: string } };
  assert.ok(body.request, `no request from ${text}: ${JSON.stringify(body)}`);
  return body.request.id;
}

/** The first Tab lands on "Skip to content", and Enter moves focus into the main landmark. */
async function skipLinkWorks(page: Page): Promise<void> {
  await page.goto(page.url());
  await settled(page);
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'a:Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await focused(page), 'main');
}

/** Waits for a sign-off of `kind` in the request's table; fails with the page's refusal. */
async function signedOff(page: Page, kind: string): Promise<void> {
  const cell = page.getByRole('cell', { name: kind, exact: true });
  const refusal = page.locator('.sign-off [role=alert]');
  await cell.or(refusal).first().waitFor();
  if (await refusal.count()) assert.fail(`${kind} refused: ${await refusal.first().textContent()}`);
}
