/**
 * The web console from the keyboard only (issue 6: "everything works from the keyboard"), in
 * real headless Chromium against the real server process on the demo catalog. No mouse
 * click anywhere: Tab and Shift+Tab move, Enter and Space act, arrows pick a radio, Escape
 * closes a dialog.
 *
 * - alice signs in and asks, from the command box, for a prod deploy, a second prod deploy
 *   and a destructive cache flush;
 * - bob signs in, reaches Approvals through the main navigation, sees a request made while
 *   the page is open arrive without a reload (the live feed, not the 20 s poll), approves
 *   the deploy, denies the second with a reason in a modal dialog (focus trapped inside,
 *   Escape closes it, focus returns to the button that opened it), and approves the flush
 *   after typing its confirmation;
 * - bob then visits every page through the navigation (Shift+Tab back to it from the page).
 *
 * After every key press the focused element must show a focus indicator (an outline or a
 * box shadow): focus is never invisible and never lost to the page body.
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
  launchChromium,
  reportCspViolations,
  settled,
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
const DEPLOY_TO_DENY = 'deploy checkout-api prod version=1.4.3 ticket=CHG-2';
const FLUSH = 'flush-cache checkout-api staging ticket=CHG-3';
const NAV = [
  'Live feed',
  'Approvals',
  'Requests',
  'Incidents',
  'Runbook runs',
  'Alerts & silences',
  'Audit',
  'Catalog',
  'Review',
];
/** Longest wait for one thing on a page, in ms (the 2-core machine may be busy). */
const STEP_MS = 20_000;

const missing = browserMissing();
if (missing) console.log(`# console keyboard test skipped: ${missing}`);

const expectedFailure = (url: string) => new URL(url).pathname === '/api/v1/session';

/**
 * What the focused element looks like: `ok` when it shows an outline or a box shadow,
 * else a description of the problem (focus on the body, or no indicator).
 */
function focusIndicator(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const e = document.activeElement;
    if (!e || e === document.body || e === document.documentElement) return 'focus is on the page body';
    const s = getComputedStyle(e);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1;
    const shadow = s.boxShadow && s.boxShadow !== 'none';
    if (outline || shadow) return 'ok';
    return 'no focus indicator on ' + e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || '').trim().slice(0, 40);
  })()`) as Promise<string>;
}

/** True when the focused element is inside an open modal dialog. */
function focusInDialog(page: Page): Promise<boolean> {
  return page.evaluate(
    `!!(document.activeElement && document.activeElement.closest('dialog[open]'))`,
  ) as Promise<boolean>;
}

describe('the web console from the keyboard only', () => {
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  let dataDir = '';
  const problems: string[] = [];
  /** Every place focus was invisible: `<where>: <what>`. */
  const invisible: string[] = [];

  before(async () => {
    if (missing) return;
    ensureConsoleBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'countersign-console-keyboard-'));
    server = await startServerProcess((port) => demoServerEnv(port, dataDir));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.kill().catch(() => undefined);
    killAllServers();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function open() {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(STEP_MS);
    await reportCspViolations(context);
    const page = await context.newPage();
    watchPage(page, problems, expectedFailure);
    return { context, page };
  }

  /**
   * Presses `key` and checks that focus is visible afterwards. Tab past the last control
   * leaves the document for the browser's own UI (headless Chromium shows that as focus on
   * the body); any other key that leaves focus on the body lost it.
   */
  async function press(page: Page, key: string): Promise<void> {
    await page.keyboard.press(key);
    const seen = await focusIndicator(page);
    if (seen === 'ok') return;
    if (/^(Shift\+)?Tab$/.test(key) && seen === 'focus is on the page body') return;
    invisible.push(`${new URL(page.url()).pathname} after ${key}: ${seen}`);
  }

  /** Presses `key` (Tab or Shift+Tab) until `accept(focused)` holds; fails after `max`. */
  async function moveTo(
    page: Page,
    accept: (focus: string) => boolean,
    what: string,
    key = 'Tab',
    max = 60,
  ): Promise<void> {
    const seen: string[] = [];
    for (let i = 0; i < max; i++) {
      await press(page, key);
      const now = await focused(page);
      if (accept(now)) return;
      seen.push(now);
    }
    throw new Error(`${key} never reached ${what}; focus went through: ${seen.join(' → ')}`);
  }

  async function signIn(page: Page, person: string): Promise<void> {
    await page.goto(`${server!.url}/`);
    await page.getByRole('radio').first().waitFor();
    await moveTo(page, (f) => /^(alice|bob|carol|dave)$/.test(f), 'the demo people');
    for (let i = 0; i < 10 && (await focused(page)) !== person; i++) {
      await press(page, 'ArrowDown');
    }
    assert.equal(await focused(page), person, `the arrow keys reach ${person}`);
    await press(page, 'Space');
    await moveTo(page, (f) => f.startsWith('button:Sign in'), 'the sign-in button');
    await press(page, 'Enter');
    await page.getByRole('heading', { level: 1, name: 'Live feed' }).waitFor();
  }

  /** Sends one command line from the command box; returns the request id it made. */
  async function ask(page: Page, line: string): Promise<string> {
    if ((await focused(page)) !== 'command-line') {
      await moveTo(page, (f) => f === 'command-line', 'the command box');
    }
    await page.keyboard.type(line);
    await press(page, 'Enter');
    const reply = page.locator('.reply').first();
    await reply.filter({ hasText: line }).waitFor();
    const link = reply.getByRole('link', { name: /^Open REQ-/ });
    await link.waitFor();
    const id = ((await link.textContent()) ?? '').replace(/^Open /, '');
    assert.match(id, /^REQ-[0-9A-Z]+$/, `a request from ${line}`);
    return id;
  }

  /** Follows the main navigation to `label` from the page's heading, backwards (Shift+Tab). */
  async function navigateTo(page: Page, label: string, title: RegExp): Promise<void> {
    await moveTo(page, (f) => f === `a:${label}`, `the ${label} link`, 'Shift+Tab');
    await press(page, 'Enter');
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    await settled(page);
    const now = await focused(page);
    assert.match(now, /^h1:/, `after following ${label}, focus is on the page heading: ${now}`);
    const seen = await focusIndicator(page);
    if (seen !== 'ok') invisible.push(`${label} heading: ${seen}`);
  }

  it('alice asks and bob approves, denies in a dialog, confirms a destructive command, and visits every page', {
    timeout: 240_000,
    skip: missing ?? false,
  }, async () => {
    const base = server!.url;
    const alice = await open();
    await signIn(alice.page, 'alice');
    const deploy = await ask(alice.page, DEPLOY);
    const toDeny = await ask(alice.page, DEPLOY_TO_DENY);
    const flush = await ask(alice.page, FLUSH);
    assert.equal((await requestOf(base, flush)).class, 'destructive');

    const bob = await open();
    const page = bob.page;
    await signIn(page, 'bob');
    await moveTo(page, (f) => f === 'a:Approvals', 'the Approvals link');
    await press(page, 'Enter');
    await page.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
    await settled(page);
    for (const id of [deploy, toDeny, flush]) {
      await page.getByRole('link', { name: id, exact: true }).waitFor();
    }

    // Live: a request made while the inbox is open shows up without a reload, well inside
    // the fallback poll's 20 seconds.
    await page.evaluate('window.__sameDocument = true');
    const later = await askByApi(base, 'deploy checkout-api prod version=1.4.4 ticket=CHG-4');
    await page.getByRole('link', { name: later, exact: true }).waitFor({ timeout: 8_000 });
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page reloaded');

    // Approve the deploy: Tab to its button, Enter.
    await moveTo(page, (f) => f === `button:Approve ${deploy}`, `Approve ${deploy}`);
    await press(page, 'Enter');
    await until('bob’s approval of the deploy', async () =>
      (await requestOf(base, deploy)).signOffs.some((s) => s.by === 'bob' && s.kind === 'approval'),
    );

    // Deny the second in the dialog. Escape first: the dialog closes, focus comes back.
    const denyButton = `button:Deny… ${toDeny}`;
    await moveTo(page, (f) => f === denyButton, `Deny ${toDeny}`);
    await press(page, 'Enter');
    const dialog = page.getByRole('dialog', { name: `Deny ${toDeny}` });
    await dialog.waitFor();
    assert.ok(await focusInDialog(page), 'the dialog takes focus');
    assert.match(await focused(page), /-reason$/, 'on the reason box');
    await press(page, 'Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await focused(page), denyButton, 'focus returns to the button that opened it');
    await press(page, 'Enter');
    await dialog.waitFor();
    await page.keyboard.type('Not during the freeze; ship 1.4.2 first.');
    // Focus is trapped: twelve Tabs and twelve Shift+Tabs never leave the dialog.
    for (const key of ['Tab', 'Shift+Tab']) {
      for (let i = 0; i < 12; i++) {
        await press(page, key);
        assert.ok(await focusInDialog(page), `${key} #${i + 1} stayed in the dialog`);
      }
    }
    await page.screenshot({ path: join(ARTIFACTS, 'keyboard-deny-dialog-1280.png') });
    await moveTo(page, (f) => f === 'button:Deny the request', 'the dialog’s Deny button');
    await press(page, 'Enter');
    await dialog.waitFor({ state: 'detached' });
    await until('the denial', async () => (await requestOf(base, toDeny)).state === 'denied');
    const denied = await requestOf(base, toDeny);
    assert.deepEqual(
      [denied.decidedBy, denied.decisionReason],
      ['bob', 'Not during the freeze; ship 1.4.2 first.'],
    );
    await page.getByRole('link', { name: toDeny, exact: true }).waitFor({ state: 'detached' });
    const after = await focusIndicator(page);
    assert.equal(after, 'ok', 'focus is still visible after the card went away');

    // The destructive flush: Approve is disabled until the target is typed out.
    await moveTo(page, (f) => f.endsWith('-confirm'), 'the typed confirmation');
    const approveFlush = page.getByRole('button', { name: `Approve ${flush}` });
    assert.equal(await approveFlush.isDisabled(), true, 'not before the confirmation');
    await page.keyboard.type('checkout-api/staging');
    await moveTo(page, (f) => f === `button:Approve ${flush}`, `Approve ${flush}`);
    await press(page, 'Enter');
    await until('bob’s approval of the flush', async () =>
      (await requestOf(base, flush)).signOffs.some((s) => s.by === 'bob' && s.kind === 'approval'),
    );

    // Every page through the main navigation, from the page's heading backwards.
    await press(page, 'Shift+Tab');
    for (const [label, title] of [
      ['Live feed', /^Live feed$/],
      ['Requests', /^Requests$/],
      ['Incidents', /^Incidents$/],
      ['Runbook runs', /^Runbook runs$/],
      ['Alerts & silences', /^Alerts/],
      ['Audit', /^Audit$/],
      ['Catalog', /^Catalog$/],
      ['Review', /^Review/],
      ['Approvals', /^Approvals$/],
    ] as const) {
      assert.ok(NAV.includes(label));
      await navigateTo(page, label, title);
      // A few steps into the page: each control shows its focus.
      for (let i = 0; i < 6; i++) await press(page, 'Tab');
    }
    await bob.context.close();
    await alice.context.close();
    assert.deepEqual(invisible, [], `focus was not visible:\n${invisible.join('\n')}`);
    assert.deepEqual(problems, []);
  });
});

interface RequestSeen {
  state: string;
  class: string;
  decidedBy?: string;
  decisionReason?: string;
  signOffs: { by: string; kind: string }[];
}

/** A request as the API shows it to dave (administrator). */
async function requestOf(base: string, id: string): Promise<RequestSeen> {
  const res = await fetch(`${base}/api/v1/requests/${id}`, {
    headers: { authorization: 'Bearer cs_demo_dave' },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { request: RequestSeen }).request;
}

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

/** Polls every 100 ms until `probe` holds, or fails naming what it waited for. */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STEP_MS;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`waited ${STEP_MS} ms for ${what}`);
}
