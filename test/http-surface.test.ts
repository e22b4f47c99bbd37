/**
 * The HTTP surface around the API: health, readiness, metrics, the OpenAPI document, the
 * problem format for unknown routes, and logs that never carry a token.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '../src/adapters/logger.ts';
import { createMetrics } from '../src/adapters/metrics.ts';
import { ERRORS } from '../src/domain/errors.ts';
import { type Harness, harness } from './support/harness.ts';

describe('HTTP surface', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h?.close());

  it('/healthz and /readyz answer; readyz checks the store', async () => {
    assert.deepEqual((await h.api('GET', '/healthz', undefined)).json, { status: 'ok' });
    const ready = await h.api('GET', '/readyz', undefined);
    assert.equal(ready.status, 200);
    assert.equal(ready.json.store, true);
  });

  it('/api/openapi.json documents every route and the problem codes', async () => {
    const doc = (await h.api('GET', '/api/openapi.json', undefined)).json;
    assert.equal(doc.openapi, '3.1.0');
    for (const path of [
      '/requests',
      '/requests/{id}',
      '/requests/{id}/approve',
      '/requests/{id}/deny',
      '/requests/{id}/cancel',
      '/requests/{id}/settle',
      '/audit',
      '/explain',
      '/alerts',
      '/events',
      '/silences',
      '/silences/{id}/expire',
    ]) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
    assert.deepEqual(doc.components.schemas.Problem.properties.code.enum, Object.keys(ERRORS));
    const body =
      doc.paths['/requests/{id}/approve'].post.requestBody.content['application/json'].schema;
    assert.ok(body.properties.digest, 'approve documents the digest it binds to');
  });

  it('an unknown route is a problem document, not an HTML page', async () => {
    const res = await h.api('GET', '/api/v1/nope', 'alice');
    assert.equal(res.status, 404);
    assert.equal(res.json.code, 'NOT_FOUND');
  });

  it('/metrics exposes the outbox depth and pending requests', async () => {
    const registry = createMetrics(h.store);
    await h.api('POST', '/api/v1/requests', 'alice', {
      text: 'deploy checkout-api prod version=1.4.2 ticket=CHG-1',
    });
    const text = await registry.metrics();
    assert.match(text, /^countersign_outbox_depth \d+$/m);
    assert.match(text, /^countersign_requests_pending 1$/m);
    assert.ok(registry instanceof Registry);
  });

  it('logs redact authorization headers and secret fields (§8.50 lines stay JSON)', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger('info', sink);
    log.info(
      {
        req: { headers: { authorization: 'Bearer cs_demo_alice' } },
        token: 'xoxb-1-2-3',
        detail: { secret: 's3cr3t' },
      },
      'alarm "x"\n2026-01-01 INFO approved by admin',
    );
    const out = lines.join('');
    assert.doesNotMatch(out, /cs_demo_alice|xoxb-1-2-3|s3cr3t/);
    assert.equal(
      out.trim().split('\n').length,
      1,
      'a newline in a message cannot forge a second log line',
    );
    assert.equal(JSON.parse(out).msg, 'alarm "x"\n2026-01-01 INFO approved by admin');
  });
});
