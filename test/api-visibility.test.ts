/** Reading is a grant too: a person sees only requests they hold `view` on. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditOf, SYSTEM } from '../src/app/context.ts';
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

  it('the audit log shows the same: nothing about what the reader may not view', async () => {
    // What the server writes at start-up: an entry about no service, for administrators.
    await h.store.transaction((tx) =>
      tx.appendAudit([
        auditOf(SYSTEM, h.clock.now(), {
          action: 'catalog.loaded',
          target: 'catalog',
          detail: { digest: 'test' },
        }),
      ]),
    );
    const prod = await h.api('POST', '/api/v1/requests', 'alice', {
      text: 'deploy checkout-api prod version=1.4.3 ticket=CHG-2',
    });
    const id = prod.json.request.id;
    const staging = await h.api('POST', '/api/v1/requests', 'alice', {
      text: 'scale checkout-api staging replicas=3 ticket=CHG-3',
    });
    const sid = staging.json.request.id;
    const all = await h.api('GET', '/api/v1/audit?limit=1000', 'carol');
    assert.equal(all.status, 200);
    const targets = all.json.entries.map((e: { target: string }) => e.target);
    assert.ok(targets.includes(sid), 'a staging request carol may view');
    assert.ok(!targets.includes(id), 'not the prod request');
    assert.ok(!targets.includes('catalog'), 'catalog loads are for administrators');
    assert.ok(all.json.lastSeq >= Math.max(...all.json.entries.map((e: { seq: number }) => e.seq)));
    const byTarget = await h.api('GET', `/api/v1/audit?target=${id}`, 'carol');
    assert.deepEqual(byTarget.json.entries, [], 'asking for it by id reveals nothing');
    const asBob = await h.api('GET', `/api/v1/audit?target=${id}`, 'bob');
    assert.ok(asBob.json.entries.some((e: { action: string }) => e.action === 'request.created'));
    const asDave = await h.api('GET', '/api/v1/audit?limit=1000', 'dave');
    assert.ok(asDave.json.entries.length > all.json.entries.length, 'administrators see it all');
    assert.ok(
      asDave.json.entries.some((e: { target: string }) => e.target === 'catalog'),
      'the catalog load is there for them',
    );
  });
});
