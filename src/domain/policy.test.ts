import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  command,
  IN_WINDOW,
  OUT_OF_WINDOW,
  testCatalog,
} from '../../test/support/catalog-fixture.ts';
import { findCommand, findPerson } from './catalog.ts';
import {
  can,
  eligibleSignOffs,
  localTime,
  requirementsFor,
  selectPolicy,
  windowStatus,
} from './policy.ts';

const cat = testCatalog();
const who = (id: string) => findPerson(cat, id)!;
const cmd = (id: string) => findCommand(cat, id)!;
const prod = { service: 'checkout-api', environment: 'prod' };

describe('RBAC', () => {
  it('denies by default and grants only what a role lists', () => {
    const t = { command: 'deploy', ...prod };
    assert.equal(can(cat, who('alice'), 'request', t), true);
    assert.equal(can(cat, who('alice'), 'approve', t), false);
    assert.equal(can(cat, who('carol'), 'request', t), false);
    assert.equal(can(cat, who('carol'), 'view', t), true);
    assert.equal(can(cat, who('bob'), 'approve', t), true);
  });
  it('administer implies every verb', () => {
    assert.equal(can(cat, who('dave'), 'approve', { command: 'deploy', ...prod }), true);
  });
  it('a grant limited to one environment does not reach another', () => {
    const c = testCatalog({
      roles: [
        {
          id: 'deployer',
          grants: [
            {
              actions: ['request'],
              commands: ['deploy'],
              services: ['checkout-api'],
              environments: ['staging'],
            },
          ],
          breakGlass: false,
        },
      ],
    });
    const alice = findPerson(c, 'alice')!;
    assert.equal(
      can(c, alice, 'request', {
        command: 'deploy',
        service: 'checkout-api',
        environment: 'staging',
      }),
      true,
    );
    assert.equal(can(c, alice, 'request', { command: 'deploy', ...prod }), false);
    assert.equal(
      can(c, alice, 'request', {
        command: 'rollback',
        service: 'checkout-api',
        environment: 'staging',
      }),
      false,
    );
  });
});

describe('approval policies', () => {
  it('the most specific policy wins', () => {
    const c = testCatalog({
      policies: [
        ...cat.policies,
        {
          id: 'deploy-prod',
          match: { commands: ['deploy'], environments: ['prod'] },
          approvals: 3,
          approverRoles: [],
          rollbackConfirmRoles: [],
          expiresAfterMinutes: 5,
        },
      ],
    });
    assert.equal(selectPolicy(c, cmd('deploy'), { command: 'deploy', ...prod })?.id, 'deploy-prod');
    assert.equal(
      selectPolicy(c, cmd('rollback'), { command: 'rollback', ...prod })?.id,
      'prod-changes',
    );
  });
  it('prod deploy in the window needs one approval; staging needs none', () => {
    const r = requirementsFor(cat, cmd('deploy'), { command: 'deploy', ...prod }, IN_WINDOW);
    assert.deepEqual(
      r.requirements.map((q) => [q.kind, q.count]),
      [['approval', 1]],
    );
    const s = requirementsFor(
      cat,
      cmd('deploy'),
      { command: 'deploy', service: 'checkout-api', environment: 'staging' },
      OUT_OF_WINDOW,
    );
    assert.deepEqual(s.requirements, []);
  });
  it('outside the window a window acknowledgement is needed as a separate sign-off', () => {
    const r = requirementsFor(cat, cmd('deploy'), { command: 'deploy', ...prod }, OUT_OF_WINDOW);
    assert.deepEqual(
      r.requirements.map((q) => q.kind),
      ['approval', 'window-ack'],
    );
    assert.deepEqual(r.requirements[1]!.roles, ['incident-commander', 'administrator']);
  });
  it('destructive commands need at least two approvers even if a policy says fewer', () => {
    const c = testCatalog({
      policies: [
        {
          id: 'lax',
          match: {},
          approvals: 1,
          approverRoles: [],
          rollbackConfirmRoles: [],
          expiresAfterMinutes: 60,
        },
      ],
    });
    const r = requirementsFor(
      c,
      cmd('flush-cache'),
      { command: 'flush-cache', ...prod },
      IN_WINDOW,
    );
    assert.equal(r.requirements[0]!.count, 2);
  });
  it('a mutating command with no matching policy needs one approval by default', () => {
    const c = testCatalog({ policies: [] });
    const r = requirementsFor(
      c,
      command('restart', 'mutating'),
      { command: 'restart', ...prod },
      IN_WINDOW,
    );
    assert.deepEqual(
      r.requirements.map((q) => [q.kind, q.count]),
      [['approval', 1]],
    );
  });
  it('rollback asks for a rollback confirmation', () => {
    const r = requirementsFor(cat, cmd('rollback'), { command: 'rollback', ...prod }, IN_WINDOW);
    assert.deepEqual(
      r.requirements.map((q) => q.kind),
      ['approval', 'rollback-confirm'],
    );
  });
  it('eligible approvers exclude the requester', () => {
    const r = requirementsFor(cat, cmd('deploy'), { command: 'deploy', ...prod }, IN_WINDOW);
    const e = eligibleSignOffs(cat, {
      requester: 'bob',
      requirements: r.requirements,
      command: 'deploy',
      ...prod,
    });
    assert.deepEqual(e.get('approval'), ['dave', 'erin']);
  });
});

describe('change windows', () => {
  it('reads local time in the window zone', () => {
    assert.deepEqual(localTime(Date.UTC(2026, 10, 25, 23, 30), 'Asia/Tokyo'), {
      day: 'thu',
      minute: 8 * 60 + 30,
    });
  });
  it('open inside, closed outside, unrestricted where no window applies', () => {
    assert.equal(windowStatus(cat, { command: 'deploy', ...prod }, IN_WINDOW).status, 'open');
    assert.equal(windowStatus(cat, { command: 'deploy', ...prod }, OUT_OF_WINDOW).status, 'closed');
    assert.equal(
      windowStatus(
        cat,
        { command: 'deploy', service: 'checkout-api', environment: 'staging' },
        OUT_OF_WINDOW,
      ).status,
      'unrestricted',
    );
  });
  it('a freeze closes an open window', () => {
    const c = testCatalog({
      changeWindows: [
        ...cat.changeWindows,
        {
          id: 'black-friday',
          kind: 'freeze',
          services: ['*'],
          environments: ['prod'],
          from: IN_WINDOW - 1000,
          to: IN_WINDOW + 1000,
          reason: 'peak',
          acknowledgeRoles: ['administrator'],
        },
      ],
    });
    const w = windowStatus(c, { command: 'deploy', ...prod }, IN_WINDOW);
    assert.equal(w.status, 'frozen');
  });
  it('an overnight window belongs to the day it starts on', () => {
    const c = testCatalog({
      changeWindows: [
        {
          id: 'night',
          kind: 'window',
          services: ['*'],
          environments: ['*'],
          days: ['fri'],
          start: '22:00',
          end: '02:00',
          timezone: 'UTC',
          acknowledgeRoles: ['administrator'],
        },
      ],
    });
    const t = { command: 'deploy', ...prod };
    assert.equal(windowStatus(c, t, Date.UTC(2026, 10, 27, 23, 0)).status, 'open'); // Fri 23:00
    assert.equal(windowStatus(c, t, Date.UTC(2026, 10, 28, 1, 0)).status, 'open'); // Sat 01:00
    assert.equal(windowStatus(c, t, Date.UTC(2026, 10, 28, 3, 0)).status, 'closed');
    assert.equal(windowStatus(c, t, Date.UTC(2026, 10, 27, 1, 0)).status, 'closed'); // Fri 01:00 (Thu night)
  });
});
