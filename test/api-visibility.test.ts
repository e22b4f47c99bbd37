/** Reading is a grant too: a person sees only requests they hold `view` on. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadCatalogOrThrow } from '../src/config/load-catalog.ts';
import { DEMO_DIR, type Harness, harness } from './support/harness.ts';

describe('request visibility', () => {
  let h: Harness;
  before(async () => {
    const demo = await loadCatalogOrThrow(DEMO_DIR);
    const roles = demo.roles.map((r) =>
      r.id === 'viewer'
        ? {
            ...r,
            grants: [
              {
                actions: ['view' as const],
                commands: ['*'],
                services: ['*'],
                environments: ['staging'],
              },
            ],
          }
        : r,
    );
    h = await harness({ catalog: { ...demo, roles } });
  });
  after(async () => h?.close());

  it('lists and shows only what the reader may view; others answer as not found', async () => {
    const prod = await h.api('POST', '/api/v1/requests', 'alice', {
      text: 'deploy checkout-api prod version=1.4.2 ticket=CHG-1',
    });
    assert.equal(prod.status, 201);
    const id = prod.json.request.id;
    const asCarol = await h.api('GET', `/api/v1/requests/${id}`, 'carol');
    assert.equal(asCarol.status, 404);
    assert.equal(asCarol.json.code, 'NOT_FOUND');
    const list = await h.api('GET', '/api/v1/requests', 'carol');
    assert.deepEqual(list.json.requests, []);
    const asBob = await h.api('GET', `/api/v1/requests/${id}`, 'bob');
    assert.equal(asBob.json.request.id, id);
  });
});
