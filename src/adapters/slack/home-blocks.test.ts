import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Person } from '../../domain/catalog.ts';
import type { ActionRequest } from '../../domain/request-model.ts';
import {
  aCommand,
  aRequest,
  assertInert,
  assertViewWithinLimits,
  EVIL,
  T0,
} from './block-kit.test-kit.ts';
import { type HomeInput, homeView } from './home-blocks.ts';
import { approvalPrompt } from './request-blocks.ts';

const CONSOLE = 'https://console.example';
const bob: Person = { id: 'bob', name: 'Bob', roles: ['approver'], slack: 'U01BOB', tokens: [] };
const names = (id: string) => ({ alice: 'Alice', bob: 'Bob' })[id] ?? id;

const home = (extra: Partial<HomeInput> = {}) =>
  homeView({
    person: bob,
    awaitingMe: [],
    mine: [],
    names,
    now: T0,
    consoleUrl: CONSOLE,
    ...extra,
  });
const json = (v: unknown) => JSON.stringify(v);
const many = (n: number, extra: Partial<ActionRequest> = {}) =>
  Array.from({ length: n }, (_, i) => aRequest({ id: `REQ-${i}`, ...extra }));

describe('home view', () => {
  it('is a home view with an empty-state line for each list', () => {
    const v = home();
    assert.equal(v.type, 'home');
    const text = json(v);
    for (const s of [
      'Waiting for your sign-off (0)',
      'Nothing is waiting for your sign-off.',
      'Your open requests (0)',
      'You have no open requests.',
      'Open incidents (0)',
      'No open incidents.',
    ]) {
      assert.ok(text.includes(s), s);
    }
    assertViewWithinLimits(v);
  });

  it('requests waiting for me carry the same buttons, action ids and values as the prompt', () => {
    const r = aRequest();
    const fromHome = home({ awaitingMe: [r] }).blocks.find((b) => b.type === 'actions');
    const prompt = approvalPrompt({
      request: r,
      command: aCommand(),
      eligible: new Map(),
      names,
      slackIdOf: () => undefined,
      now: T0,
    });
    assert.deepEqual(
      fromHome,
      prompt.blocks.find((b) => b.type === 'actions'),
    );
    const text = json(home({ awaitingMe: [r] }));
    assert.ok(
      text.includes(
        '*deploy checkout-api prod* · <https://console.example/requests/REQ-01J0ABCDEF|REQ-01J0ABCDEF>',
      ),
    );
    assert.ok(
      text.includes(
        'requested by Alice · still needed: 1 more approval from approver (policy prod)',
      ),
    );
  });

  it('my open requests show their state line; incidents list id, severity and title', () => {
    const mine = [aRequest({ state: 'running', execution: { attempt: 1, startedAt: T0 } })];
    const openIncidents = [{ id: 'INC-7', title: 'checkout errors', severity: 1 }];
    const text = json(home({ mine, openIncidents }));
    assert.ok(text.includes('▶️ approved (no sign-off needed) · running since 13:50 UTC'));
    assert.ok(text.includes('• INC-7 · sev 1 — checkout errors'));
  });

  it('§8.49 hundreds of requests and incidents stay within 100 blocks, ending "and N more"', () => {
    const openIncidents = Array.from({ length: 500 }, (_, i) => ({
      id: `INC-${i}`,
      title: 't'.repeat(300),
      severity: 2,
    }));
    const v = home({
      awaitingMe: many(300),
      mine: many(300, { state: 'approved' }),
      openIncidents,
    });
    assertViewWithinLimits(v);
    const text = json(v);
    assert.ok(text.includes('and 280 more — see <https://console.example|the console>'));
    assert.ok(text.includes('Open incidents (500)'));
  });

  it('§8.46 §8.47 §8.48 hostile request fields, names and incident titles render inert', () => {
    const hostile = aRequest({
      command: EVIL,
      service: EVIL,
      environment: EVIL,
      reason: EVIL,
      decisionReason: EVIL,
      requirements: [{ kind: 'approval', count: 1, roles: [EVIL], because: EVIL }],
    });
    const input: HomeInput = {
      person: bob,
      awaitingMe: [hostile],
      mine: [{ ...hostile, state: 'denied', decidedBy: 'bob' }],
      openIncidents: [{ id: EVIL, title: EVIL, severity: Number.NaN }],
      names: () => EVIL,
      now: T0,
      consoleUrl: CONSOLE,
    };
    const before = structuredClone(input.awaitingMe);
    const v = homeView(input);
    assert.deepEqual(input.awaitingMe, before);
    assertInert(v, { urlPrefixes: [`${CONSOLE}/requests/`] });
    assertViewWithinLimits(v);
    assert.ok(json(v).includes('sev ?'));
  });
});
