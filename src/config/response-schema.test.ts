import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../domain/audit-chain.ts';
import { DEFAULT_INCIDENT_SETTINGS } from '../domain/runbook-model.ts';
import { DEMO, demoWith, type Edit, replace, sha256 } from './catalog-test-kit.ts';
import { loadCatalogOrThrow } from './load-catalog.ts';

describe('runbooks, mitigations and incident settings of the demo', () => {
  it('has the high-error-rate runbook, walkable from a check through a decision', async () => {
    const catalog = await loadCatalogOrThrow(DEMO);
    assert.deepEqual(
      catalog.runbooks.map((r) => [r.id, r.team, r.services]),
      [
        ['high-error-rate', 'payments', ['checkout-api']],
        ['checkout-latency', 'payments', ['checkout-api']],
      ],
    );
    const [rb] = catalog.runbooks;
    assert.deepEqual(
      rb?.steps.map((s) => [s.id, s.kind]),
      [
        ['look', 'check'],
        ['cause', 'decision'],
        ['roll-back', 'command'],
        ['scale-out', 'command'],
        ['recover', 'wait'],
        ['all-clear', 'notify'],
        ['escalate', 'notify'],
      ],
    );
    const cause = rb?.steps[1];
    assert.deepEqual(cause?.kind === 'decision' && cause.branches.map((b) => [b.id, b.next]), [
      ['rollback', 'roll-back'],
      ['scale', 'scale-out'],
      ['none', 'escalate'],
    ]);
    assert.deepEqual(rb?.steps[3], {
      id: 'scale-out',
      title: 'Scale out to 8 replicas',
      description: 'In prod this needs an approval.',
      kind: 'command',
      command: 'scale',
      params: { replicas: '8' },
      onFailure: 'escalate',
    });
    assert.deepEqual(rb?.steps[4], {
      id: 'recover',
      title: 'Wait for the error-rate alarms to clear',
      next: 'all-clear',
      kind: 'wait',
      condition: 'alarms-ok',
      timeoutMinutes: 15,
      onTimeout: 'escalate',
    });
  });

  it('has the restart mitigation for checkout-5xx and the incident settings', async () => {
    const catalog = await loadCatalogOrThrow(DEMO);
    const { digest, ...rule } = catalog.mitigations[0] ?? { digest: '' };
    assert.deepEqual(rule, {
      id: 'checkout-5xx-restart',
      team: 'payments',
      description:
        'A restart clears most stuck-connection 5xx storms; it is idempotent and changes no configuration.',
      route: 'checkout-5xx',
      service: 'checkout-api',
      environments: ['*'],
      command: 'restart',
      params: {},
    });
    assert.equal(digest, sha256(canonicalJson(rule)));
    assert.deepEqual(catalog.incidents, {
      chat: 'thread',
      channelPattern: 'inc-{date}-{service}',
      severityConfirmRoles: ['incident-commander'],
      reminderMinutes: { sev1: 15, sev2: 30, sev3: 60, sev4: 0 },
    });
  });

  it('digests each runbook: same YAML, same digest; a changed step, a new one', async () => {
    const a = await loadCatalogOrThrow(DEMO);
    for (const rb of a.runbooks) {
      const { digest, ...body } = rb;
      assert.equal(digest, sha256(canonicalJson(body)), rb.id);
      assert.match(digest, /^[0-9a-f]{64}$/);
    }
    const same = await loadCatalogOrThrow(await demoWith({}));
    assert.deepEqual(
      same.runbooks.map((r) => r.digest),
      a.runbooks.map((r) => r.digest),
    );
    const changed = await loadCatalogOrThrow(
      await demoWith({ 'runbooks.yaml': replace('timeout_minutes: 15', 'timeout_minutes: 20') }),
    );
    assert.notEqual(changed.runbooks[0]?.digest, a.runbooks[0]?.digest);
    assert.equal(changed.runbooks[1]?.digest, a.runbooks[1]?.digest, 'the other one is as it was');
    assert.notEqual(changed.digest, a.digest, 'and so is the catalog');
    const reworded = await loadCatalogOrThrow(
      await demoWith({ 'incidents.yaml': replace('environments: ["*"]', 'environments: [prod]') }),
    );
    assert.notEqual(reworded.mitigations[0]?.digest, a.mitigations[0]?.digest);
  });

  it('without an incidents section the settings are the defaults; given keys override', async () => {
    const withoutSection: Edit = (t) => t.replace(/^incidents:\n(?: {2}.*\n)+/m, '');
    const catalog = await loadCatalogOrThrow(await demoWith({ 'incidents.yaml': withoutSection }));
    assert.deepEqual(catalog.incidents, DEFAULT_INCIDENT_SETTINGS);
    const partial = await demoWith({
      'incidents.yaml': withoutSection,
      'more.yaml': 'incidents:\n  reminder_minutes: { sev1: 5 }\n',
    });
    assert.deepEqual((await loadCatalogOrThrow(partial)).incidents, {
      ...DEFAULT_INCIDENT_SETTINGS,
      reminderMinutes: { sev1: 5, sev2: 30, sev3: 60, sev4: 0 },
    });
  });
});
