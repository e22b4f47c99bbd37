/**
 * The console's pages as the server sends them: index.html at / and at client routes, the
 * assets with long caching, the security headers (CSP, nosniff, frame and referrer
 * policies) on every response, and no secret in the page.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONTENT_SECURITY_POLICY } from '../src/adapters/http/console-static.ts';
import { call, signIn } from './support/console-client.ts';
import { type Harness, harness } from './support/harness.ts';

describe('console pages and security headers', () => {
  let h: Harness;
  let built: Harness;
  let dist: string;
  before(async () => {
    dist = mkdtempSync(join(tmpdir(), 'countersign-web-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(
      join(dist, 'index.html'),
      '<!doctype html><title>Countersign</title><script type="module" src="/assets/app-1a2b.js"></script>',
    );
    writeFileSync(join(dist, 'assets', 'app-1a2b.js'), 'console.log("console");\n');
    h = await harness();
    built = await harness({ console: { webDist: dist } });
  });
  after(async () => {
    await h?.close();
    await built?.close();
    rmSync(dist, { recursive: true, force: true });
  });

  const html = { accept: 'text/html,application/xhtml+xml' };

  it('without a build, / says to run npm run build:web, with the security headers', async () => {
    const res = await call(h, 'GET', '/', { headers: html });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.match(res.body, /npm run build:web/);
    assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.equal(
      CONTENT_SECURITY_POLICY,
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'same-origin');
    assert.equal(res.headers['x-frame-options'], 'DENY');
  });

  it('serves index.html at / and at client-side routes; assets with long caching', async () => {
    const root = await call(built, 'GET', '/', { headers: html });
    assert.match(root.body, /app-1a2b\.js/);
    assert.equal(root.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    for (const path of ['/requests/REQ-1', '/incidents', '/audit?after=3']) {
      const res = await call(built, 'GET', path, { headers: html });
      assert.equal(res.status, 200, path);
      assert.match(res.body, /app-1a2b\.js/, path);
      assert.equal(res.headers['x-frame-options'], 'DENY');
    }
    const asset = await call(built, 'GET', '/assets/app-1a2b.js');
    assert.equal(asset.status, 200);
    assert.match(String(asset.headers['content-type']), /javascript/);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    assert.equal(asset.headers['x-content-type-options'], 'nosniff');
  });

  it('the fallback never hides the server’s own routes or non-page requests', async () => {
    for (const path of [
      '/api/v1/nope',
      '/hooks/nope',
      '/slack/nope',
      '/auth/nope',
      '/assets/missing.js',
    ]) {
      const res = await call(built, 'GET', path, { headers: html });
      assert.equal(res.status, 404, path);
      assert.equal(res.json?.code, 'NOT_FOUND', path);
    }
    const json = await call(built, 'GET', '/requests/REQ-1', {
      headers: { accept: 'application/json' },
    });
    assert.equal(json.status, 404);
    const post = await call(built, 'POST', '/requests/REQ-1', { headers: html, body: {} });
    assert.equal(post.status, 404);
    const metrics = await call(built, 'GET', '/metrics', { headers: html });
    assert.equal(metrics.status, 200);
    assert.doesNotMatch(String(metrics.headers['content-type']), /html/);
  });

  it('no secret in the page: it is the same for everyone and carries no token', async () => {
    const s = await signIn(built, 'alice');
    const page = await call(built, 'GET', '/', { headers: html, cookie: s.cookie });
    assert.ok(!page.body.includes(s.csrf));
    assert.ok(!page.body.includes(s.value));
  });
});
