import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testCatalog } from '../../test/support/catalog-fixture.ts';
import { findPerson, type Person } from './catalog.ts';
import type { Result } from './errors.ts';
import {
  assignRole,
  confirmSeverity,
  type IncidentTransition,
  isUnchanged,
  linkAlertGroup,
  linkRequest,
  linkRun,
  markMitigated,
  mayConfirmSeverity,
  type NewIncident,
  openIncident,
  postStatusUpdate,
  proposeSeverity,
  recordFirstAction,
  resolve,
  setChannel,
  setMitigation,
} from './incident-lifecycle.ts';
import type { Incident } from './incident-model.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0);
const MIN = 60_000;

// dave holds incident-commander, the confirm role; alice, bob and erin do not.
const catalog = testCatalog({
  incidents: {
    chat: 'thread',
    channelPattern: 'inc-{date}-{service}',
    severityConfirmRoles: ['incident-commander'],
    reminderMinutes: { sev1: 15, sev2: 30, sev3: 60, sev4: 0 },
  },
});
const who = (id: string): Person => findPerson(catalog, id)!;
const alice = who('alice');
const dave = who('dave');
const erin = who('erin');
const ricky: Person = { ...dave, id: 'ricky' }; // a second confirmer

const value = (r: Result<IncidentTransition>): IncidentTransition => {
  if (!r.ok) throw r.error;
  return r.value;
};
const code = (r: Result<unknown>) => (r.ok ? 'ok' : r.error.code);

const base: Omit<NewIncident, 'severity' | 'origin'> = {
  id: 'INC-1',
  title: 'Checkout  5xx\nrising',
  service: 'checkout-api',
  environment: 'prod',
  team: 'payments',
  channel: 'C01ALERTS',
};

function fromAlert(severity: NewIncident['severity'] = 'sev2'): Incident {
  const origin = { kind: 'alert' as const, route: 'checkout-5xx', groupId: 'G1', alert: 'High5xx' };
  return value(
    openIncident({ ...base, severity, origin, runbooks: ['rb-5xx'] }, catalog, undefined, T0),
  ).incident;
}

function declared(by: Person, severity: NewIncident['severity']): IncidentTransition {
  const origin = { kind: 'declared' as const, by: by.id, surface: 'slack' as const };
  return value(openIncident({ ...base, severity, origin }, catalog, by, T0));
}

describe('incident lifecycle: opening', () => {
  it('an alert opens an unconfirmed incident with its group, runbooks and reminder', () => {
    const i = fromAlert();
    assert.equal(i.version, 1);
    assert.equal(i.title, 'Checkout 5xx rising');
    assert.deepEqual(i.severity, { level: 'sev2', confirmed: false });
    assert.deepEqual(i.alertGroups, ['G1']);
    assert.deepEqual(i.runbooks, ['rb-5xx']);
    assert.equal(i.status, 'open');
    assert.equal(i.nextReminderAt, T0 + 30 * MIN);
    assert.deepEqual(i.roles, { responders: [] });
  });

  it('the opening line says where it came from', () => {
    const origin = { kind: 'alert' as const, route: 'r1', groupId: 'G1', alert: 'High5xx' };
    const { timeline } = value(
      openIncident({ ...base, severity: 'sev3', origin }, catalog, undefined, T0),
    );
    assert.deepEqual(timeline, [
      {
        incidentId: 'INC-1',
        at: T0,
        kind: 'opened',
        actor: 'system',
        text: 'opened from alert High5xx (route r1), sev3 awaiting confirmation',
        ref: 'G1',
        detail: {},
      },
    ]);
  });

  it('a declarer who may confirm gets a non-sev1 level at once', () => {
    const { incident, timeline } = declared(dave, 'sev2');
    assert.deepEqual(incident.severity, { level: 'sev2', confirmed: true, confirmedBy: 'dave' });
    assert.equal(timeline[0]?.text, 'dave declared sev2 (confirmed): Checkout 5xx rising');
    assert.deepEqual(incident.alertGroups, []);
  });

  it('sev1 always waits for a second person, even from a confirmer', () => {
    assert.deepEqual(declared(dave, 'sev1').incident.severity, { level: 'sev1', confirmed: false });
  });

  it('a declarer without the confirm role proposes', () => {
    assert.equal(declared(alice, 'sev3').incident.severity.confirmed, false);
  });

  it('sev4 has no reminder (0 minutes)', () => {
    assert.equal(declared(dave, 'sev4').incident.nextReminderAt, undefined);
    assert.ok(!('nextReminderAt' in declared(dave, 'sev4').incident));
  });

  it('refuses an empty or overlong title and a declaration without its declarer', () => {
    const origin = { kind: 'declared' as const, by: 'alice', surface: 'cli' as const };
    const input = { ...base, severity: 'sev2' as const, origin };
    assert.equal(
      code(openIncident({ ...input, title: ' \n ' }, catalog, alice, T0)),
      'INVALID_INPUT',
    );
    assert.equal(
      code(openIncident({ ...input, title: 'x'.repeat(201) }, catalog, alice, T0)),
      'INVALID_INPUT',
    );
    assert.equal(code(openIncident(input, catalog, dave, T0)), 'INVALID_INPUT');
    assert.equal(code(openIncident(input, catalog, undefined, T0)), 'INVALID_INPUT');
  });

  it('with no confirm roles configured anyone may confirm', () => {
    assert.equal(mayConfirmSeverity(testCatalog(), alice), true);
    assert.equal(mayConfirmSeverity(catalog, alice), false);
    assert.equal(mayConfirmSeverity(catalog, dave), true);
  });
});

describe('incident lifecycle: severity', () => {
  it('confirming an alert level: the route counts as proposer, so anyone with the role confirms sev1', () => {
    const i = fromAlert('sev1');
    const { incident, timeline } = value(confirmSeverity(i, catalog, dave, T0 + MIN));
    assert.deepEqual(incident.severity, { level: 'sev1', confirmed: true, confirmedBy: 'dave' });
    assert.equal(timeline[0]?.text, 'dave confirmed sev1');
    assert.equal(incident.version, 2);
    assert.equal(incident.updatedAt, T0 + MIN);
  });

  it('a proposal does not change the level in force until confirmed', () => {
    const i = value(confirmSeverity(fromAlert('sev3'), catalog, dave, T0 + MIN)).incident;
    const p = value(proposeSeverity(i, catalog, alice, 'sev2', T0 + 2 * MIN));
    assert.equal(p.incident.severity.level, 'sev3');
    assert.deepEqual(p.incident.severity.proposed, {
      level: 'sev2',
      by: 'alice',
      at: T0 + 2 * MIN,
    });
    assert.equal(p.timeline[0]?.text, 'alice proposed sev2 (in force: sev3)');
    const c = value(confirmSeverity(p.incident, catalog, dave, T0 + 3 * MIN)).incident;
    assert.deepEqual(c.severity, { level: 'sev2', confirmed: true, confirmedBy: 'dave' });
  });

  it('a confirmer proposing a non-sev1 level sets it at once', () => {
    const { incident, timeline } = value(
      proposeSeverity(fromAlert('sev2'), catalog, dave, 'sev3', T0 + MIN),
    );
    assert.deepEqual(incident.severity, { level: 'sev3', confirmed: true, confirmedBy: 'dave' });
    assert.equal(timeline[0]?.text, 'dave set severity to sev3 (was sev2)');
  });

  it('raising to sev1 needs someone other than the proposer', () => {
    const confirmed = value(confirmSeverity(fromAlert('sev2'), catalog, dave, T0 + MIN)).incident;
    const p = value(proposeSeverity(confirmed, catalog, dave, 'sev1', T0 + 2 * MIN)).incident;
    assert.equal(p.severity.level, 'sev2');
    const self = confirmSeverity(p, catalog, dave, T0 + 3 * MIN);
    assert.equal(code(self), 'FORBIDDEN');
    assert.deepEqual(value(confirmSeverity(p, catalog, ricky, T0 + 3 * MIN)).incident.severity, {
      level: 'sev1',
      confirmed: true,
      confirmedBy: 'ricky',
    });
  });

  it('a declared sev1 cannot be confirmed by its declarer', () => {
    const { incident } = declared(dave, 'sev1');
    assert.equal(code(confirmSeverity(incident, catalog, dave, T0 + MIN)), 'FORBIDDEN');
    assert.equal(
      value(confirmSeverity(incident, catalog, ricky, T0 + MIN)).incident.severity.confirmedBy,
      'ricky',
    );
  });

  it('confirming needs the role, named in the refusal', () => {
    const r = confirmSeverity(fromAlert(), catalog, erin, T0 + MIN);
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'FORBIDDEN');
    assert.match(r.error.message, /incident-commander/);
  });

  it('nothing to confirm: SEVERITY_NOT_PENDING', () => {
    const { incident } = declared(dave, 'sev2');
    assert.equal(code(confirmSeverity(incident, catalog, ricky, T0 + MIN)), 'SEVERITY_NOT_PENDING');
  });

  it('proposing what is already in force or proposed is unchanged', () => {
    const { incident } = declared(dave, 'sev2');
    const same = proposeSeverity(incident, catalog, alice, 'sev2', T0 + MIN);
    assert.ok(!same.ok && isUnchanged(same.error));
    const p = value(proposeSeverity(incident, catalog, alice, 'sev1', T0 + MIN)).incident;
    const again = proposeSeverity(p, catalog, erin, 'sev1', T0 + 2 * MIN);
    assert.ok(!again.ok && isUnchanged(again.error));
  });

  it('a confirmer choosing the level in force withdraws a pending proposal', () => {
    const { incident } = declared(dave, 'sev2');
    const p = value(proposeSeverity(incident, catalog, alice, 'sev1', T0 + MIN)).incident;
    const w = value(proposeSeverity(p, catalog, dave, 'sev2', T0 + 2 * MIN));
    assert.deepEqual(w.incident.severity, { level: 'sev2', confirmed: true, confirmedBy: 'dave' });
    assert.equal(w.timeline[0]?.text, 'dave kept sev2; the sev1 proposal is withdrawn');
  });

  it('the reminder follows the confirmed level, counted from the last update, never in the past', () => {
    const i = fromAlert('sev3'); // reminder at +60
    const up = value(postStatusUpdate(i, catalog, 'looking', 'alice', T0 + 10 * MIN)).incident;
    assert.equal(up.nextReminderAt, T0 + 70 * MIN);
    const p = value(proposeSeverity(up, catalog, alice, 'sev1', T0 + 12 * MIN)).incident;
    assert.equal(p.nextReminderAt, T0 + 70 * MIN, 'a proposal changes nothing');
    const c = value(confirmSeverity(p, catalog, dave, T0 + 20 * MIN)).incident;
    assert.equal(c.nextReminderAt, T0 + 25 * MIN); // last update +15
    const late = value(confirmSeverity(p, catalog, dave, T0 + 40 * MIN)).incident;
    assert.equal(late.nextReminderAt, T0 + 40 * MIN); // overdue: now
    const quiet = value(proposeSeverity(c, catalog, dave, 'sev4', T0 + 41 * MIN)).incident;
    assert.ok(!('nextReminderAt' in quiet));
  });
});

describe('incident lifecycle: roles, updates, status', () => {
  it('sets commander and scribe, adds responders once', () => {
    const i = fromAlert();
    const a = value(assignRole(i, 'commander', 'bob', 'dave', T0 + MIN));
    assert.equal(a.timeline[0]?.text, 'bob is commander');
    assert.equal(a.timeline[0]?.actor, 'dave');
    const b = value(assignRole(a.incident, 'commander', 'erin', 'dave', T0 + 2 * MIN));
    assert.equal(b.timeline[0]?.text, 'erin is commander (was bob)');
    const c = value(assignRole(b.incident, 'responder', 'alice', 'alice', T0 + 3 * MIN)).incident;
    const d = value(assignRole(c, 'scribe', 'carol', 'dave', T0 + 4 * MIN)).incident;
    assert.deepEqual(d.roles, { commander: 'erin', scribe: 'carol', responders: ['alice'] });
    assert.equal(d.version, 5);
    const twice = assignRole(d, 'responder', 'alice', 'alice', T0 + 5 * MIN);
    assert.ok(!twice.ok && isUnchanged(twice.error));
    assert.ok(!assignRole(d, 'scribe', 'carol', 'x', T0).ok);
  });

  it('a status update is 1 to 2000 characters and becomes lastUpdate', () => {
    const i = fromAlert();
    assert.equal(code(postStatusUpdate(i, catalog, '   ', 'alice', T0)), 'INVALID_INPUT');
    assert.equal(
      code(postStatusUpdate(i, catalog, 'x'.repeat(2001), 'alice', T0)),
      'INVALID_INPUT',
    );
    const ok2000 = postStatusUpdate(i, catalog, 'x'.repeat(2000), 'alice', T0);
    assert.equal(code(ok2000), 'ok');
    const { incident, timeline } = value(
      postStatusUpdate(i, catalog, ' Rolled back.\nWatching. ', 'alice', T0 + MIN),
    );
    assert.deepEqual(incident.lastUpdate, {
      text: 'Rolled back.\nWatching.',
      by: 'alice',
      at: T0 + MIN,
    });
    assert.equal(timeline[0]?.kind, 'status-update');
    assert.equal(timeline[0]?.text, 'alice: Rolled back. Watching.');
  });

  it('mitigate then resolve; resolve clears the reminder; a resolved incident refuses changes', () => {
    const i = fromAlert();
    const m = value(markMitigated(i, 'bob', T0 + 5 * MIN, 'traffic drained')).incident;
    assert.equal(m.status, 'mitigated');
    assert.equal(m.mitigatedAt, T0 + 5 * MIN);
    assert.equal(m.nextReminderAt, i.nextReminderAt, 'reminders go on while mitigated');
    const again = markMitigated(m, 'bob', T0 + 6 * MIN);
    assert.ok(!again.ok && isUnchanged(again.error));
    const r = value(resolve(m, 'bob', T0 + 9 * MIN, 'fixed'));
    assert.equal(r.incident.status, 'resolved');
    assert.equal(r.incident.resolvedAt, T0 + 9 * MIN);
    assert.equal(r.incident.mitigatedAt, T0 + 5 * MIN);
    assert.ok(!('nextReminderAt' in r.incident));
    assert.equal(r.timeline[0]?.text, 'bob resolved it: fixed');
    const done = r.incident;
    const refusals = [
      resolve(done, 'bob', T0),
      markMitigated(done, 'bob', T0),
      assignRole(done, 'commander', 'bob', 'bob', T0),
      postStatusUpdate(done, catalog, 'x', 'bob', T0),
      proposeSeverity(done, catalog, dave, 'sev3', T0),
      confirmSeverity(done, catalog, dave, T0),
      linkRequest(done, 'REQ-9', 'bob', T0),
      linkRun(done, 'RBR-9', 'rb', 'bob', T0),
      linkAlertGroup(done, 'G9', 'x', T0),
      recordFirstAction(done, 'bob', T0, 'x'),
      setMitigation(done, { id: 'r', digest: 'd', command: 'c' }, 'REQ-9', T0),
    ];
    assert.deepEqual(
      refusals.map(code),
      refusals.map(() => 'INCIDENT_CLOSED'),
    );
    assert.equal(code(setChannel(done, 'C9', true, T0)), 'ok');
  });

  it('resolving straight from open counts as mitigated then', () => {
    const r = value(resolve(fromAlert(), 'bob', T0 + 7 * MIN)).incident;
    assert.equal(r.mitigatedAt, T0 + 7 * MIN);
  });
});

describe('incident lifecycle: links and actions', () => {
  it('the first linked request or run is the first action; links are kept once, in order', () => {
    const i = fromAlert();
    const a = value(linkRequest(i, 'REQ-1', 'alice', T0 + 3 * MIN, 'deploy checkout-api prod'));
    assert.equal(a.incident.firstActionAt, T0 + 3 * MIN);
    assert.equal(a.timeline[0]?.text, 'alice requested deploy checkout-api prod');
    assert.equal(a.timeline[0]?.ref, 'REQ-1');
    const b = value(linkRun(a.incident, 'RBR-1', 'rb-5xx', 'bob', T0 + 4 * MIN));
    assert.equal(b.incident.firstActionAt, T0 + 3 * MIN);
    assert.deepEqual(b.incident.runs, ['RBR-1']);
    assert.equal(b.timeline[0]?.text, 'bob started runbook rb-5xx');
    const twice = linkRequest(b.incident, 'REQ-1', 'alice', T0 + 5 * MIN);
    assert.ok(!twice.ok && isUnchanged(twice.error));
    const g = value(linkAlertGroup(b.incident, 'G2', 'Latency', T0 + 6 * MIN)).incident;
    assert.deepEqual(g.alertGroups, ['G1', 'G2']);
  });

  it('an alert group joining is not an action', () => {
    const g = value(linkAlertGroup(fromAlert(), 'G2', 'Latency', T0 + MIN)).incident;
    assert.equal(g.firstActionAt, undefined);
  });

  it('recordFirstAction sets it once', () => {
    const a = value(
      recordFirstAction(fromAlert(), 'bob', T0 + MIN, 'acknowledged step check-dashboards'),
    );
    assert.equal(a.incident.firstActionAt, T0 + MIN);
    const again = recordFirstAction(a.incident, 'bob', T0 + 2 * MIN, 'x');
    assert.ok(!again.ok && isUnchanged(again.error));
  });

  it('a mitigation is recorded at most once, links its request and is an action', () => {
    const rule = { id: 'drain', digest: 'abc', command: 'drain-traffic' };
    const m = value(setMitigation(fromAlert(), rule, 'REQ-7', T0 + 1000));
    assert.deepEqual(m.incident.mitigation, {
      rule: 'drain',
      ruleDigest: 'abc',
      requestId: 'REQ-7',
    });
    assert.deepEqual(m.incident.requests, ['REQ-7']);
    assert.equal(m.incident.firstActionAt, T0 + 1000);
    assert.equal(m.timeline[0]?.actor, 'rule:drain');
    const same = setMitigation(m.incident, rule, 'REQ-7', T0 + 2000);
    assert.ok(!same.ok && isUnchanged(same.error));
    const other = setMitigation(m.incident, rule, 'REQ-8', T0 + 2000);
    assert.ok(!other.ok && other.error.code === 'INVALID_INPUT' && !isUnchanged(other.error));
  });

  it('setChannel records the header channel; the same again is unchanged', () => {
    const c = value(setChannel(fromAlert(), 'C0INC', true, T0 + MIN));
    assert.equal(c.incident.channel, 'C0INC');
    assert.equal(c.incident.dedicatedChannel, true);
    assert.equal(c.timeline[0]?.text, 'incident channel C0INC created');
    const again = setChannel(c.incident, 'C0INC', true, T0 + 2 * MIN);
    assert.ok(!again.ok && isUnchanged(again.error));
  });

  it('never mutates its input', () => {
    const i = fromAlert();
    const frozen = structuredClone(i);
    value(assignRole(i, 'responder', 'bob', 'bob', T0 + MIN));
    value(linkRequest(i, 'REQ-1', 'bob', T0 + MIN));
    value(resolve(i, 'bob', T0 + MIN));
    value(proposeSeverity(i, catalog, alice, 'sev1', T0 + MIN));
    assert.deepEqual(i, frozen);
  });
});
