/**
 * The idle timeout as a person meets it, in headless Chromium: the built console served by
 * the app in this process (so the test owns the server's clock), with a 4-second idle time.
 * While the server still holds the session, the page's own check changes nothing; once the
 * session has gone unused past its idle time, the page returns to sign-in by itself and
 * says why. Skips with a notice when there is no Chromium.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  browserMissing,
  ensureConsoleBuilt,
  launchChromium,
  signIn,
  watchPage,
} from './support/browser.ts';
import { type Harness, harness } from './support/harness.ts';

const ROOT = resolve(import.meta.dirname, '..');
const IDLE_MS = 4_000;

const missing = browserMissing();
if (missing) console.log(`# console idle test skipped: ${missing}`);

describe('an idle console session in the browser', () => {
  let h: Harness | undefined;
  let browser: Browser | undefined;
  let base = '';

  before(async () => {
    if (missing) return;
    ensureConsoleBuilt();
    h = await harness({
      console: { webDist: join(ROOT, 'web/dist'), sessionIdleMs: IDLE_MS },
    });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await h?.close();
  });

  it('returns to sign-in by itself once the session went unused past its idle time', {
    timeout: 60_000,
    skip: missing ?? false,
  }, async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const problems: string[] = [];
    watchPage(page, problems, (url) => new URL(url).pathname === '/api/v1/session');
    await signIn(page, base, 'alice');
    await page.goto(`${base}/requests`);
    await page.getByRole('heading', { level: 1, name: 'Requests' }).waitFor();

    // Idle in this browser for longer than the idle time, but the server's clock has not
    // moved: the page asks, the session holds, nothing changes.
    await page.waitForTimeout(IDLE_MS + 2_500);
    assert.equal(await page.getByRole('heading', { level: 1, name: 'Requests' }).count(), 1);

    // Now the server's clock passes the idle end: the page's next check signs it out.
    h!.clock.advance(IDLE_MS + 1);
    await page.getByRole('heading', { level: 1, name: /Sign in/ }).waitFor();
    const notice = page.getByRole('status').filter({ hasText: /session ended/ });
    assert.equal(await notice.count(), 1, 'the page says why');
    const res = await page.request.get(`${base}/api/v1/session`);
    assert.equal(res.status(), 401, 'the server ended it');
    await context.close();
    assert.deepEqual(problems, []);
  });
});
