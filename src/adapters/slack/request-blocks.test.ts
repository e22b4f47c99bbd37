import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApprovalKind } from '../../domain/catalog.ts';
import type { ActionRequest, RequestState } from '../../domain/request-model.ts';
import {
  aCommand,
  aRequest,
  assertInert,
  assertMessageWithinLimits,
  assertViewWithinLimits,
  DIGEST,
  EVIL,
  inState,
  signOff,
  T0,
} from './block-kit.test-kit.ts';
import {
  ACTIONS,
  approvalPrompt,
  buttonValue,
  confirmModal,
  denyModal,
  type PromptInput,
  parseButtonValue,
  requestSummaryText,
  resultReply,
} from './request-blocks.ts';

const CONSOLE = 'https://console.example';
const RECORD = `${CONSOLE}/requests/`;
const STATES: RequestState[] = [
  'pending',
  'approved',
  'running',
  'succeeded',
  'failed',
  'unknown',
  'denied',
  'expired',
  'cancelled',
];

const NAMES: Record<string, string> = { alice: 'Alice', bob: 'Bob', carol: 'Carol', dave: 'Dave' };
const SLACK: Record<string, string> = { bob: 'U01BOB', carol: 'U01CAROL', dave: 'U01DAVE' };

function input(request: ActionRequest, extra: Partial<PromptInput> = {}): PromptInput {
  return {
    request,
    command: aCommand(),
    eligible: new Map([['approval', ['bob', 'carol', 'dave']]]),
    names: (id) => NAMES[id] ?? id,
    slackIdOf: (id) => SLACK[id],
    consoleUrl: CONSOLE,
    now: T0,
    ...extra,
  };
}

const json = (v: unknown): string => JSON.stringify(v);
const actionsOf = (m: { blocks: unknown[] }) =>
  m.blocks.filter((b) => (b as { type: string }).type === 'actions') as {
    elements: { action_id: string; value: string; style?: string; text: { text: string } }[];
  }[];

/** A request with a hostile string in every field a person, handler or alert can fill. */
function hostile(state: RequestState, previewError: boolean): ActionRequest {
  return aRequest({
    state,
    command: `deploy ${EVIL}`,
    service: EVIL,
    environment: EVIL,
    class: 'destructive',
    params: { version: EVIL, [EVIL]: 'x', secret: 'hunter2' },
    links: {
      ticket: EVIL,
      incident: '<https://evil.example|Approve here>',
      pr: 'https://git.example/o/r/pull/1',
    },
    reason: EVIL,
    preview: previewError
      ? { changes: [], error: EVIL }
      : { changes: [EVIL, `version ${EVIL} → 2`] },
    requirements: [
      { kind: 'approval', count: 2, roles: [EVIL], because: EVIL },
      { kind: 'window-ack', count: 1, roles: ['administrator'], because: EVIL },
    ],
    signOffs: [signOff('bob')],
    decidedBy: 'bob',
    decisionReason: EVIL,
    breakGlass: { reason: EVIL },
    execution: {
      attempt: 2,
      startedAt: T0,
      finishedAt: T0 + 1500,
      outcome: 'failed',
      output: EVIL,
      error: EVIL,
      settledBy: 'eve',
      settleNote: EVIL,
    },
  });
}

function hostileInput(r: ActionRequest): PromptInput {
  const slack: Record<string, string> = {
    carol: 'U01CAROL',
    dave: 'U1>|<!channel',
    erin: '<@U999>',
  };
  return input(r, {
    command: aCommand({ class: 'destructive', rollback: { none: EVIL }, description: EVIL }),
    eligible: new Map<ApprovalKind, string[]>([
      ['approval', ['alice', 'bob', 'carol', 'dave', 'erin']],
      ['window-ack', ['carol']],
    ]),
    names: (id) => `${id} ${EVIL}`,
    slackIdOf: (id) => slack[id],
  });
}

const ALLOWED = { mentions: ['U01CAROL'], urlPrefixes: [RECORD, 'https://git.example/o/r/pull/1'] };

function renderEverything(p: PromptInput): unknown[] {
  const r = p.request;
  return [
    approvalPrompt(p),
    resultReply(p),
    requestSummaryText(r),
    requestSummaryText(r, p.command),
    denyModal(r),
    confirmModal(r, 'approval'),
  ];
}

describe('request blocks: hostile text (§8.46–48)', () => {
  for (const previewError of [false, true]) {
    it(`§8.46 §8.47 §8.48 hostile strings in every field render inert in every state (preview error: ${previewError})`, () => {
      for (const state of STATES) {
        const r = hostile(state, previewError);
        const before = structuredClone(r);
        const p = hostileInput(r);
        const out = renderEverything(p);
        assert.deepEqual(r, before, 'the stored request is not changed');
        assertInert(out, ALLOWED);
        const prompt = approvalPrompt(p);
        assertMessageWithinLimits(prompt);
        const reply = resultReply(p);
        if (reply) assertMessageWithinLimits(reply);
        assertViewWithinLimits(denyModal(r));
        assertViewWithinLimits(confirmModal(r, 'approval'));
      }
    });
  }

  it('§8.46 mentions come only from slackIdOf ids shaped like Slack user ids', () => {
    const p = hostileInput(hostile('pending', false));
    const text = json(approvalPrompt(p));
    assert.deepEqual(
      [...text.matchAll(/<@([^>]*)>/g)].map((m) => m[1]),
      ['U01CAROL', 'U01CAROL'],
    );
    assert.ok(!text.includes('<!'));
  });

  it('§8.47 the only links are the https link the requester gave (labelled as itself) and ours', () => {
    const text = json(approvalPrompt(hostileInput(hostile('pending', false))));
    const links = [...text.matchAll(/<(https?:[^|>]*)\|([^>]*)>/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(links, [
      ['https://git.example/o/r/pull/1', 'https://git.example/o/r/pull/1'],
      [`${RECORD}REQ-01J0ABCDEF`, 'full record'],
    ]);
    assert.ok(text.includes('&lt;https://evil.example|Approve here&gt;'));
  });

  it('§8.48 an RTL override in a name or reason is shown as [U+202E], never applied', () => {
    const r = aRequest({ reason: 'fine\u202Eexe.txt' });
    const text = json(approvalPrompt(input(r, { names: () => 'Bob\u202E' })));
    assert.ok(!text.includes('\u202E'));
    assert.ok(text.includes('fine[U+202E]exe.txt'));
    assert.ok(text.includes('Bob[U+202E]'));
  });
});

describe('request blocks: over-long text (§8.49)', () => {
  const huge = (): ActionRequest =>
    aRequest({
      reason: 'r'.repeat(5000),
      params: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`p${i}`, 'v'.repeat(200)])),
      links: { ticket: `https://jira.example/${'x'.repeat(3000)}` },
      preview: { changes: Array.from({ length: 10_000 }, (_, i) => `line ${i} → ${i + 1}`) },
      requirements: [
        { kind: 'approval', count: 2, roles: ['r'.repeat(3000)], because: 'b'.repeat(3000) },
      ],
    });
  const many = new Map<ApprovalKind, string[]>([
    ['approval', Array.from({ length: 500 }, (_, i) => `p${i}`)],
  ]);

  it('§8.49 more than 3000 characters in fields, 200 params and 500 approvers stay within limits, marked as cut', () => {
    const p = input(huge(), {
      eligible: many,
      slackIdOf: (id) => `U${id.toUpperCase()}`,
      names: (id) => id.repeat(500),
    });
    const prompt = approvalPrompt(p);
    assertMessageWithinLimits(prompt);
    const text = json(prompt);
    assert.ok(text.includes('…'));
    assert.ok(text.includes(`<${RECORD}REQ-01J0ABCDEF|text cut: see the full record>`));
    assert.ok(text.includes('more'), 'a long approver list ends "and N more"');
    const noConsole = approvalPrompt({ ...p, consoleUrl: undefined });
    assertMessageWithinLimits(noConsole);
    assert.ok(json(noConsole).includes('text cut to fit Slack'));
  });

  it('§8.49 1 MB of output and a 10,000-character error fit the result reply, with a link to the full output', () => {
    const r = inState('failed', {
      execution: {
        attempt: 1,
        startedAt: T0,
        finishedAt: T0 + 10,
        outcome: 'failed',
        output: 'o'.repeat(1 << 20),
        error: 'e'.repeat(10_000),
      },
    });
    const reply = resultReply(input(r));
    assert.ok(reply);
    assertMessageWithinLimits(reply);
    const text = json(reply);
    assert.ok(text.includes(`full output: <${RECORD}REQ-01J0ABCDEF|full record>`));
    const snippet = reply.blocks.find((b) => json(b).includes('```'));
    assert.ok(snippet && json(snippet).length < 3000);
    const prompt = approvalPrompt(input(r));
    assertMessageWithinLimits(prompt);
  });
});

describe('request blocks: states', () => {
  it('pending: the prompt is narrow and reviewable', () => {
    const r = aRequest({
      links: { ticket: 'https://jira.example/CHG-1' },
      preview: { changes: ['version 1.4.1 → 1.4.2'] },
    });
    const text = json(approvalPrompt(input(r)));
    for (const expected of [
      'deploy checkout-api prod',
      '*Service*\\ncheckout-api',
      '*Environment*\\nprod',
      'version = 1.4.2',
      '*Requester*\\nAlice',
      '<https://jira.example/CHG-1|https://jira.example/CHG-1>',
      'release train',
      '*Class*\\nmutating',
      '`rollback` command',
      'version 1.4.1 → 1.4.2',
      'expires 14:32 UTC, in 42 min',
      '1 more approval from approver (policy prod)',
      'approval: <@U01BOB>, <@U01CAROL>, <@U01DAVE>',
      'request digest 3f1c2a9b8c7d…',
    ]) {
      assert.ok(text.includes(expected), `missing ${expected} in ${text}`);
    }
  });

  it('pending: one button per outstanding kind plus Deny; a given kind loses its button', () => {
    const r = aRequest({
      requirements: [
        { kind: 'approval', count: 1, roles: [], because: 'p' },
        { kind: 'window-ack', count: 1, roles: [], because: 'w' },
        { kind: 'rollback-confirm', count: 1, roles: [], because: 'c' },
      ],
      signOffs: [signOff('carol', 'window-ack')],
    });
    const [actions, ...rest] = actionsOf(approvalPrompt(input(r)));
    assert.equal(rest.length, 0);
    assert.deepEqual(
      actions?.elements.map((e) => [e.action_id, e.text.text, e.style]),
      [
        [ACTIONS.approve, 'Approve', 'primary'],
        [ACTIONS.rollbackConfirm, 'Confirm rollback', undefined],
        [ACTIONS.deny, 'Deny', 'danger'],
      ],
    );
    assert.deepEqual(parseButtonValue(actions?.elements[1]?.value), {
      requestId: r.id,
      digest: DIGEST,
      kind: 'rollback-confirm',
    });
  });

  it('pending destructive: the Approve button is still cs_approve, flagged, and says what to type', () => {
    const r = aRequest({ class: 'destructive' });
    const prompt = approvalPrompt(input(r));
    assert.equal(actionsOf(prompt)[0]?.elements[0]?.action_id, ACTIONS.approve);
    const text = json(prompt);
    assert.ok(text.includes('⚠ deploy checkout-api prod'));
    assert.ok(text.includes('⚠ *destructive* — approving asks you to type `checkout-api/prod`'));
  });

  it('mentions only people still needed, never the requester or who already signed', () => {
    const r = aRequest({
      requirements: [{ kind: 'approval', count: 2, roles: [], because: 'p' }],
      signOffs: [signOff('bob')],
    });
    const eligible = new Map<ApprovalKind, string[]>([['approval', ['alice', 'bob', 'carol']]]);
    const text = json(
      approvalPrompt(input(r, { eligible, slackIdOf: (id) => `U01${id.toUpperCase()}` })),
    );
    assert.deepEqual(
      [...text.matchAll(/<@(U\w+)>/g)].map((m) => m[1]),
      ['U01CAROL'],
    );
    assert.ok(text.includes('signed off so far by Bob'));
  });

  const lines: [RequestState, string, Partial<ActionRequest>?][] = [
    ['approved', '✅ approved by Bob · 13:49 UTC · waiting to run'],
    ['running', '▶️ approved by Bob, Dave · 13:49 UTC · running since 13:49 UTC'],
    ['succeeded', '✅ succeeded in 1.2 s'],
    ['failed', '❌ failed: exit 1: &lt;!here&gt; boom'],
    ['unknown', '❓ outcome unknown — an administrator must settle it'],
    ['denied', '🚫 denied by Bob: not during *peak*'],
    ['expired', '⌛ expired 14:32 UTC'],
    ['cancelled', 'cancelled by Alice'],
    ['cancelled', 'cancelled by Alice: wrong version', { decisionReason: 'wrong version' }],
    ['approved', '✅ break-glass, no approval', { breakGlass: { reason: 'site down' } }],
  ];
  for (const [state, line, extra] of lines) {
    it(`${state}: no actions, and the line "${line}"`, () => {
      const prompt = approvalPrompt(input(inState(state, extra)));
      assert.equal(actionsOf(prompt).length, 0);
      assert.ok(json(prompt).includes(line), json(prompt));
      assert.ok(!json(prompt).includes('Who may sign off'));
      assertMessageWithinLimits(prompt);
    });
  }

  it('break-glass: a loud banner in every state', () => {
    const r = inState('succeeded', { requester: 'dave', breakGlass: { reason: 'checkout down' } });
    const text = json(approvalPrompt(input(r)));
    assert.ok(text.includes('⚠ BREAK-GLASS by Dave: checkout down — review required'));
  });
});

describe('request blocks: results, summaries and modals', () => {
  it('resultReply is undefined until the request finished', () => {
    for (const state of [
      'pending',
      'approved',
      'running',
      'denied',
      'expired',
      'cancelled',
    ] as const) {
      assert.equal(resultReply(input(inState(state))), undefined, state);
    }
  });

  it('resultReply: outcome, attempt, duration and the output in a code block', () => {
    const reply = resultReply(input(inState('succeeded')));
    assert.ok(reply);
    const text = json(reply);
    for (const s of [
      '✅ *succeeded* — deploy checkout-api prod',
      'attempt 1 · took 1.2 s · finished 13:50 UTC',
      '```\\nok\\n```',
    ]) {
      assert.ok(text.includes(s), `${s} in ${text}`);
    }
    assert.ok(!text.includes('full output'));
    const failed = json(resultReply(input(inState('failed'))));
    assert.ok(failed.includes('exit 1: &lt;!here&gt; boom') && failed.includes('no output'));
    const unknown = json(resultReply(input(inState('unknown'))));
    assert.ok(unknown.includes('❓ *unknown*'));
  });

  it('sensitive params are masked everywhere; all values hidden when the command is gone', () => {
    const r = aRequest({ params: { version: '1.4.2', secret: 'hunter2' } });
    for (const out of [
      approvalPrompt(input(r)),
      requestSummaryText(r, aCommand()),
      requestSummaryText(r),
    ]) {
      assert.ok(!json(out).includes('hunter2'));
    }
    assert.ok(json(approvalPrompt(input(r))).includes('secret = [REDACTED]'));
    const gone = json(approvalPrompt(input(r, { command: undefined })));
    assert.ok(!gone.includes('hunter2') && !gone.includes('1.4.2'));
    assert.ok(gone.includes('unknown: the command is no longer in the catalog'));
  });

  it('requestSummaryText: one line with target, masked params and what is missing', () => {
    const r = aRequest({ params: { version: '1.4.2', secret: 'hunter2' } });
    assert.equal(
      requestSummaryText(r, aCommand()),
      'REQ-01J0ABCDEF deploy checkout-api prod `version=1.4.2 secret=[REDACTED]` — pending: 1 more approval from approver (policy prod)',
    );
    assert.equal(
      requestSummaryText(inState('denied')),
      'REQ-01J0ABCDEF deploy checkout-api prod — denied',
    );
  });

  it('denyModal: cs_deny, {r, d} metadata, one multiline reason input of at most 1000', () => {
    const v = denyModal(aRequest());
    assert.equal(v.type, 'modal');
    assert.equal(v.callback_id, 'cs_deny');
    assert.deepEqual(JSON.parse(v.private_metadata ?? ''), { r: 'REQ-01J0ABCDEF', d: DIGEST });
    const inputs = v.blocks.filter((b) => b.type === 'input');
    assert.equal(inputs.length, 1);
    assert.deepEqual(
      [
        inputs[0]?.block_id,
        json(inputs[0]).includes('"action_id":"value","multiline":true,"max_length":1000'),
      ],
      ['reason', true],
    );
    assertViewWithinLimits(v);
  });

  it('confirmModal: cs_confirm, {r, d, k} metadata, and a label naming what to type', () => {
    const v = confirmModal(aRequest({ class: 'destructive' }), 'approval');
    assert.equal(v.callback_id, 'cs_confirm');
    assert.deepEqual(JSON.parse(v.private_metadata ?? ''), {
      r: 'REQ-01J0ABCDEF',
      d: DIGEST,
      k: 'approval',
    });
    const field = v.blocks.find((b) => b.type === 'input');
    assert.equal(field?.block_id, 'confirm');
    assert.ok(
      json(field).includes(
        '"label":{"type":"plain_text","text":"Type checkout-api/prod to confirm"',
      ),
    );
    assert.ok(json(field).includes('"action_id":"value"'));
    assertViewWithinLimits(v);
  });
});

describe('request blocks: button values', () => {
  it('round-trips request id, digest and kind, well under 2000 characters', () => {
    const r = aRequest();
    for (const kind of ['approval', 'window-ack', 'rollback-confirm'] as const) {
      const v = buttonValue(r, kind);
      assert.ok(v.length <= 2000);
      assert.deepEqual(parseButtonValue(v), { requestId: r.id, digest: DIGEST, kind });
    }
  });

  it('rejects tampered, oversized and non-JSON values', () => {
    const good = { r: 'REQ-01J0ABCDEF', d: DIGEST, k: 'approval' };
    const rejected: unknown[] = [
      undefined,
      null,
      42,
      {},
      good,
      '',
      'not json',
      '[]',
      'null',
      '"REQ-1"',
      '{"r":1}',
      json({ ...good, k: 'admin' }),
      json({ ...good, d: DIGEST.toUpperCase() }),
      json({ ...good, d: DIGEST.slice(1) }),
      json({ ...good, r: 'REQ-1|<!here>' }),
      json({ ...good, r: 'XYZ-1' }),
      json({ ...good, extra: true }),
      json({ r: good.r, d: good.d }),
      `{"r":"REQ-01J0ABCDEF","d":"${DIGEST}","k":"approval","__proto__":{"x":1}}`,
      json({ ...good, pad: 'x'.repeat(2000) }),
      `${json(good)}${' '.repeat(2000)}`,
    ];
    for (const v of rejected) assert.equal(parseButtonValue(v), undefined, String(v).slice(0, 80));
    assert.deepEqual(parseButtonValue(json(good)), {
      requestId: good.r,
      digest: DIGEST,
      kind: 'approval',
    });
  });
});
