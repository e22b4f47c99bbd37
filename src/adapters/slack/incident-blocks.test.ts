import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Button, KnownBlock, SectionBlock } from '@slack/types';
import type { ChangeRecord, Incident, IncidentHeaderView } from '../../domain/incident-model.ts';
import {
  assertInert,
  assertMessageWithinLimits,
  assertViewWithinLimits,
  EVIL,
  T0,
  textsOf,
} from './block-kit.test-kit.ts';
import {
  channelPointerMessage,
  type HeaderInput,
  INCIDENT_ACTIONS,
  incidentHeaderMessage,
  incidentLineMessage,
  parseIncidentId,
  parseRunbookValue,
  parseSeverityValue,
  resolveModal,
  runbookButtonValue,
  SHOWN,
  severityButtonValue,
} from './incident-blocks.ts';

const MIN = 60_000;
const ID = 'INC-01J0ABCDEFGH';
const PEOPLE: Record<string, { name: string; slack?: string }> = {
  alice: { name: 'Alice Example', slack: 'U01ALICE' },
  bob: { name: 'Bob Example', slack: 'U01BOB' },
  dave: { name: 'Dave Example', slack: 'U01DAVE' },
  nomad: { name: 'No Slack' },
};

function anIncident(extra: Partial<Incident> = {}): Incident {
  return {
    id: ID,
    title: 'Checkout answers 5xx',
    service: 'checkout-api',
    environment: 'prod',
    team: 'payments',
    severity: { level: 'sev2', confirmed: false },
    status: 'open',
    roles: { commander: 'dave', responders: ['alice', 'bob'] },
    origin: { kind: 'declared', by: 'alice', surface: 'slack' },
    alertGroups: [],
    runbooks: ['high-error-rate'],
    requests: [],
    runs: [],
    createdAt: T0 - 10 * MIN,
    updatedAt: T0,
    version: 3,
    ...extra,
  };
}

const deploy: ChangeRecord = {
  id: 'REQ-01J0DEPLOY',
  service: 'checkout-api',
  environment: 'prod',
  kind: 'deploy',
  source: 'countersign',
  summary: 'deploy version=1.4.2 by alice (REQ-01J0DEPLOY)',
  actor: 'alice',
  at: T0 - 30 * MIN,
  ref: 'REQ-01J0DEPLOY',
};

function aView(
  i: Incident = anIncident(),
  extra: Partial<IncidentHeaderView> = {},
): IncidentHeaderView {
  return {
    incident: i,
    alerts: [{ title: 'CheckoutErrorRate', state: 'firing', since: T0 - 12 * MIN }],
    lastDeploy: deploy,
    runbooks: [{ id: 'high-error-rate', title: 'checkout-api is answering with 5xx' }],
    activeRuns: [{ id: 'RBR-01J0RUN', runbook: 'high-error-rate', step: 'Look at the dashboard' }],
    ...extra,
  };
}

function input(view: IncidentHeaderView, extra: Partial<HeaderInput> = {}): HeaderInput {
  return {
    view,
    names: (id) => PEOPLE[id]?.name ?? id,
    slackIdOf: (id) => PEOPLE[id]?.slack,
    now: T0,
    ...extra,
  };
}

const render = (view: IncidentHeaderView, extra: Partial<HeaderInput> = {}) =>
  incidentHeaderMessage(input(view, extra));
const buttons = (blocks: KnownBlock[]): Button[] =>
  blocks.flatMap((b) => {
    if (b.type === 'actions') return b.elements as Button[];
    const acc = (b as SectionBlock).accessory;
    return acc?.type === 'button' ? [acc] : [];
  });
const allText = (m: unknown) =>
  textsOf(m)
    .map((t) => t.text)
    .join('\n');

describe('incident header', () => {
  it('shows title, service · environment, severity, status, roles, alerts, changes, runbooks, runs', () => {
    const m = render(aView());
    assertMessageWithinLimits(m);
    assert.equal(m.blocks[0]?.type, 'header');
    const text = allText(m);
    for (const part of [
      'Checkout answers 5xx',
      'checkout-api · prod',
      '*sev2* · unconfirmed',
      'open since 13:40 UTC',
      '<@U01DAVE>',
      '<@U01ALICE>, <@U01BOB>',
      'CheckoutErrorRate — firing since 13:38 UTC',
      'deploy version=1.4.2 by alice (REQ-01J0DEPLOY)\n13:20 UTC · by Alice Example',
      '*Last config change*\nnone recorded',
      'checkout-api is answering with 5xx',
      'RBR-01J0RUN',
      'now: Look at the dashboard',
      'No status update yet.',
    ]) {
      assert.ok(text.includes(part), `missing ${JSON.stringify(part)} in\n${text}`);
    }
  });

  it('an unconfirmed severity has a Confirm button naming the incident and the level', () => {
    const m = render(aView());
    const confirm = buttons(m.blocks).find((b) => b.action_id === INCIDENT_ACTIONS.confirmSeverity);
    assert.ok(confirm);
    assert.equal(confirm.text.text, 'Confirm sev2');
    assert.deepEqual(parseSeverityValue(confirm.value), { incidentId: ID, severity: 'sev2' });
  });

  it('a proposal waiting on a confirmed severity shows who proposed what, and Confirm names the proposal', () => {
    const i = anIncident({
      severity: {
        level: 'sev2',
        confirmed: true,
        confirmedBy: 'dave',
        proposed: { level: 'sev1', by: 'bob', at: T0 - MIN },
      },
    });
    const m = render(aView(i));
    assert.match(allText(m), /\*sev2\* · sev1 proposed by Bob Example 13:49 UTC/);
    const confirm = buttons(m.blocks).find((b) => b.action_id === INCIDENT_ACTIONS.confirmSeverity);
    assert.equal(confirm?.text.text, 'Confirm sev1');
    assert.equal(parseSeverityValue(confirm?.value)?.severity, 'sev1');
  });

  it('a confirmed severity has no Confirm button; Resolve stays until resolved', () => {
    const i = anIncident({ severity: { level: 'sev3', confirmed: true, confirmedBy: 'dave' } });
    const m = render(aView(i));
    const ids = buttons(m.blocks).map((b) => b.action_id);
    assert.deepEqual(ids.sort(), [INCIDENT_ACTIONS.resolve, INCIDENT_ACTIONS.startRunbook].sort());
    assert.match(allText(m), /confirmed by Dave Example/);
    assert.equal(
      buttons(m.blocks).find((b) => b.action_id === INCIDENT_ACTIONS.resolve)?.value,
      ID,
    );
  });

  it('a resolved incident has no buttons at all', () => {
    const i = anIncident({ status: 'resolved', resolvedAt: T0 - MIN });
    const m = render(aView(i));
    assert.deepEqual(buttons(m.blocks), []);
    assert.match(allText(m), /resolved 13:49 UTC/);
    assert.doesNotMatch(allText(m), /update with/);
  });

  it('each suggested runbook has a Start button whose value names the incident and the runbook', () => {
    const runbooks = Array.from({ length: 8 }, (_, n) => ({ id: `book-${n}`, title: `Book ${n}` }));
    const m = render(aView(anIncident(), { runbooks }));
    const starts = buttons(m.blocks).filter((b) => b.action_id === INCIDENT_ACTIONS.startRunbook);
    assert.equal(starts.length, SHOWN.runbooks);
    assert.deepEqual(parseRunbookValue(starts[0]?.value), { incidentId: ID, runbook: 'book-0' });
    assert.ok((starts[0]?.value ?? '').length < 100, 'a small value');
    assert.match(allText(m), /also: `book-5`, `book-6`, `book-7`/);
  });

  it('the last status update is shown exactly, in plain text, with who and when', () => {
    const i = anIncident({
      lastUpdate: { text: 'Rolled back *1.4.2*; watching', by: 'bob', at: T0 - 2 * MIN },
    });
    const m = render(aView(i));
    const update = m.blocks.find(
      (b) => b.type === 'section' && /Last update/.test(b.text?.text ?? ''),
    ) as SectionBlock;
    assert.match(update.text?.text ?? '', /Bob Example · 13:48 UTC/);
    assert.deepEqual(
      update.fields?.map((f) => [f.type, f.text]),
      [['plain_text', 'Rolled back *1.4.2*; watching']],
    );
  });

  it('links the full record when a console URL is set', () => {
    const m = render(aView(), { consoleUrl: 'https://cs.example/' });
    assert.match(allText(m), /<https:\/\/cs\.example\/incidents\/INC-01J0ABCDEFGH\|full record>/);
  });

  it('the text fallback is one line with id, severity, status, where and title', () => {
    const m = render(aView());
    assert.equal(
      m.text,
      '🟠 INC-01J0ABCDEFGH sev2 (unconfirmed) open — checkout-api prod: Checkout answers 5xx',
    );
  });

  it('keeps hostile text inert everywhere (only role holders are mentioned)', () => {
    const i = anIncident({
      title: EVIL,
      service: EVIL,
      environment: EVIL,
      roles: { commander: EVIL, scribe: 'nomad', responders: [EVIL, 'alice'] },
      origin: { kind: 'alert', route: EVIL, groupId: 'g', alert: EVIL },
      lastUpdate: { text: EVIL, by: EVIL, at: T0 },
      severity: { level: 'sev2', confirmed: true, proposed: { level: 'sev1', by: EVIL, at: T0 } },
    });
    const evilChange = { ...deploy, summary: EVIL, actor: EVIL };
    const m = render(
      aView(i, {
        alerts: [{ title: EVIL, state: EVIL, since: T0 }],
        lastDeploy: evilChange,
        lastConfigChange: { ...evilChange, kind: 'config' },
        runbooks: [{ id: 'high-error-rate', title: EVIL }],
        activeRuns: [{ id: EVIL, runbook: EVIL, step: EVIL }],
      }),
      { names: (id) => (PEOPLE[id]?.name ?? id) + EVIL },
    );
    assertMessageWithinLimits(m);
    assertInert(m, { mentions: ['U01ALICE'] });
    assert.match(allText(m), /No Slack/);
  });

  it('stays within Slack limits with enormous inputs', () => {
    const big = 'x'.repeat(50_000);
    const many = <T>(n: number, f: (k: number) => T) => Array.from({ length: n }, (_, k) => f(k));
    const i = anIncident({
      title: big,
      roles: {
        commander: big,
        scribe: big,
        responders: many(500, (k) => `p${k}${big.slice(0, 300)}`),
      },
      lastUpdate: { text: '🔥'.repeat(30_000), by: big, at: T0 },
      severity: { level: 'sev2', confirmed: false, proposed: { level: 'sev1', by: big, at: T0 } },
    });
    const m = render(
      aView(i, {
        alerts: many(1000, (k) => ({ title: `${k}${big}`, state: big, since: T0 })),
        lastDeploy: { ...deploy, summary: big, actor: big },
        lastConfigChange: { ...deploy, kind: 'config', summary: big },
        runbooks: many(100, (k) => ({ id: `book-${k}`, title: big })),
        activeRuns: many(200, (k) => ({ id: `RBR-${k}`, runbook: big, step: big })),
      }),
      { names: (id) => id, consoleUrl: 'https://cs.example' },
    );
    assertMessageWithinLimits(m);
    assert.ok(m.blocks.length <= 50);
    assert.ok(m.text.length <= 1000);
    // The kit does not look at section accessories: check the Start buttons here.
    for (const b of buttons(m.blocks)) {
      assert.ok(b.text.text.length <= 75 && (b.value ?? '').length <= 2000, b.action_id);
    }
    assert.match(allText(m), /and \d+ more/);
    assert.match(allText(m), /text cut: see the full record/);
  });
});

describe('incident header, hostile and huge at once', () => {
  it('never cuts through a code span or an entity', () => {
    const evil = EVIL.repeat(20);
    const many = <T>(n: number, f: (k: number) => T) => Array.from({ length: n }, (_, k) => f(k));
    const m = render(
      aView(anIncident({ title: evil }), {
        alerts: many(50, () => ({ title: evil, state: evil, since: T0 })),
        runbooks: many(20, (k) => ({ id: `book-${k}`, title: evil })),
        activeRuns: many(50, () => ({ id: evil, runbook: evil, step: evil })),
      }),
      { names: () => evil },
    );
    assertMessageWithinLimits(m);
    assertInert(m, { mentions: ['U01ALICE', 'U01BOB', 'U01DAVE'] });
  });
});

describe('incident button values', () => {
  it('round-trip and refuse anything else', () => {
    const i = anIncident();
    assert.deepEqual(parseSeverityValue(severityButtonValue(i)), {
      incidentId: ID,
      severity: 'sev2',
    });
    assert.deepEqual(parseRunbookValue(runbookButtonValue(ID, 'high-error-rate')), {
      incidentId: ID,
      runbook: 'high-error-rate',
    });
    for (const bad of [
      undefined,
      '',
      'null',
      '[]',
      '{"incident":"INC-1"}',
      '{"incident":"INC-1","severity":"sev9"}',
      '{"incident":"REQ-1","severity":"sev1"}',
      '{"incident":"INC-1","severity":"sev1","x":"y"}',
      '{"incident":"INC-1","severity":"toString"}',
      `{"incident":"INC-1","severity":"sev1","pad":"${'x'.repeat(2000)}"}`,
    ]) {
      assert.equal(parseSeverityValue(bad), undefined, String(bad));
    }
    for (const bad of [
      '{"incident":"INC-1","runbook":"Bad Book"}',
      '{"incident":"INC-1"}',
      '{"incident":1,"runbook":"a"}',
    ]) {
      assert.equal(parseRunbookValue(bad), undefined, bad);
    }
    assert.equal(parseIncidentId(ID), ID);
    assert.equal(parseIncidentId('INC-<!channel>'), undefined);
  });
});

describe('thread lines, the channel pointer and the Resolve modal', () => {
  it('a line is shown exactly in plain text, with a short fallback', () => {
    const m = incidentLineMessage(anIncident(), `Status update by alice: ${EVIL}`);
    assertMessageWithinLimits(m);
    assertInert(m);
    assert.equal(m.blocks[0]?.type, 'section');
    const huge = incidentLineMessage(anIncident(), 'y'.repeat(100_000));
    assertMessageWithinLimits(huge);
  });

  it('the pointer links the new channel and nothing else', () => {
    const m = channelPointerMessage(anIncident({ title: EVIL }), 'C0INCIDENT');
    assertMessageWithinLimits(m);
    assert.match(m.text, /<#C0INCIDENT>/);
  });

  it('the Resolve modal carries the incident id and asks for an optional note', () => {
    const v = resolveModal(anIncident({ title: EVIL }));
    assertViewWithinLimits(v);
    assertInert(v);
    assert.equal(v.private_metadata, ID);
  });
});
