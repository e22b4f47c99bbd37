/**
 * Test helpers for the Slack views: a checker for the Block Kit limits the views promise,
 * a checker that hostile text came out inert, hostile strings from reliability-and-security
 * §8.46–48, and a request fixture. Used by the `*-blocks.test.ts` files only.
 */
import assert from 'node:assert/strict';
import type { AnyBlock, KnownBlock, View } from '@slack/types';
import type { ApprovalKind, Command } from '../../domain/catalog.ts';
import type { ActionRequest, RequestState } from '../../domain/request-model.ts';

export const T0 = Date.UTC(2027, 0, 15, 13, 50);
export const DIGEST = '3f1c2a9b8c7d6e5f40312233445566778899aabbccddeeff0011223344556677';

/** Every hostile string of §8.46–48, one per entry. */
export const HOSTILE = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U012ABCDEF>',
  '<!subteam^S123>',
  '<#C123>',
  '<https://evil.example|Approve here>',
  '*bold*',
  '_it_',
  '~s~',
  '`code`',
  '```\nfence\n```',
  '@here @channel',
  '&lt;!channel&gt;',
  'invoice\u202Eexe.txt',
  'ad\u200Bmin\u2060',
  'x\u200Dy',
  'Bоb', // Cyrillic о: a homoglyph name
  'z\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308',
  '😀 👨‍👩‍👧 🏳️‍🌈',
  'lone \uD800 high and \uDC00 low',
  'nul\u0000byte',
  'שלום 123',
  '\u001b[31mred\u001b[0m',
];
export const EVIL = HOSTILE.join(' | ');

export function aRequest(extra: Partial<ActionRequest> = {}): ActionRequest {
  return {
    id: 'REQ-01J0ABCDEF',
    command: 'deploy',
    service: 'checkout-api',
    environment: 'prod',
    class: 'mutating',
    params: { version: '1.4.2' },
    links: { ticket: 'CHG-1' },
    reason: 'release train',
    requester: 'alice',
    surface: 'slack',
    digest: DIGEST,
    state: 'pending',
    requirements: [{ kind: 'approval', count: 1, roles: ['approver'], because: 'policy prod' }],
    signOffs: [],
    createdAt: T0,
    updatedAt: T0,
    expiresAt: T0 + 42 * 60_000,
    version: 1,
    ...extra,
  };
}

/** A sign-off of the fixture digest, a minute before T0. */
export const signOff = (by: string, kind: ApprovalKind = 'approval') => ({
  kind,
  by,
  surface: 'slack' as const,
  at: T0 - 60_000,
  digest: DIGEST,
});

/** The fixture request in `state`, with what that state holds. */
export function inState(state: RequestState, extra: Partial<ActionRequest> = {}): ActionRequest {
  const finished = { attempt: 1, startedAt: T0 - 1200, finishedAt: T0 };
  const byState: Partial<Record<RequestState, Partial<ActionRequest>>> = {
    approved: { signOffs: [signOff('bob')] },
    running: {
      signOffs: [signOff('bob'), signOff('dave')],
      execution: { attempt: 1, startedAt: T0 - 5000 },
    },
    succeeded: {
      signOffs: [signOff('bob')],
      execution: { ...finished, outcome: 'succeeded', output: 'ok' },
    },
    failed: {
      execution: { ...finished, outcome: 'failed', output: '', error: 'exit 1: <!here> boom' },
    },
    unknown: { execution: { ...finished, outcome: 'unknown', error: 'the process stopped' } },
    denied: { decidedBy: 'bob', decisionReason: 'not during *peak*' },
    expired: {},
    cancelled: { decidedBy: 'alice' },
  };
  return aRequest({ state, ...byState[state], ...extra });
}

// ---------------------------------------------------------------------------------------
// Limits

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;
/** No lone surrogate (`String.prototype.isWellFormed` is not in the ES2023 lib). */
export const wellFormed = (s: string): boolean =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
const textOf = (v: unknown): string | undefined =>
  isObj(v) && typeof v.text === 'string' ? v.text : undefined;

function checkText(
  where: string,
  t: unknown,
  max: number,
  types: string[] = ['plain_text', 'mrkdwn'],
) {
  assert.ok(isObj(t), `${where}: a text object`);
  assert.ok(types.includes(String(t.type)), `${where}: type ${String(t.type)}`);
  const s = textOf(t) ?? '';
  assert.ok(s.length >= 1, `${where}: empty text`);
  assert.ok(s.trim().length >= 1, `${where}: blank text`);
  assert.ok(s.length <= max, `${where}: ${s.length} > ${max}`);
  assert.ok(wellFormed(s), `${where}: lone surrogate`);
  assert.ok(!s.includes('\u0000'), `${where}: NUL`);
}

function checkButton(where: string, e: Obj, ids: Set<string>) {
  checkText(`${where}.text`, e.text, 75, ['plain_text']);
  assert.ok(typeof e.action_id === 'string' && e.action_id.length <= 255, `${where}.action_id`);
  assert.ok(!ids.has(e.action_id), `${where}: duplicate action_id ${e.action_id}`);
  ids.add(e.action_id);
  if (e.value !== undefined) assert.ok(String(e.value).length <= 2000, `${where}.value > 2000`);
  if (e.style !== undefined) assert.ok(['primary', 'danger'].includes(String(e.style)));
}

function checkBlock(b: Obj, where: string) {
  switch (b.type) {
    case 'header':
      return checkText(`${where}.text`, b.text, 150, ['plain_text']);
    case 'section': {
      assert.ok(b.text !== undefined || Array.isArray(b.fields), `${where}: text or fields`);
      if (b.text !== undefined) checkText(`${where}.text`, b.text, 3000);
      const fields = (b.fields ?? []) as unknown[];
      assert.ok(fields.length <= 10, `${where}: ${fields.length} fields`);
      for (const [i, f] of fields.entries()) checkText(`${where}.fields[${i}]`, f, 2000);
      return;
    }
    case 'context': {
      const els = b.elements as unknown[];
      assert.ok(els.length >= 1 && els.length <= 10, `${where}: ${els.length} elements`);
      for (const [i, e] of els.entries()) checkText(`${where}.elements[${i}]`, e, 2000);
      return;
    }
    case 'actions': {
      const els = b.elements as Obj[];
      assert.ok(els.length >= 1 && els.length <= 25, `${where}: ${els.length} elements`);
      const ids = new Set<string>();
      for (const [i, e] of els.entries()) checkButton(`${where}.elements[${i}]`, e, ids);
      return;
    }
    case 'input': {
      checkText(`${where}.label`, b.label, 2000, ['plain_text']);
      const el = b.element as Obj;
      assert.equal(el.type, 'plain_text_input');
      assert.ok(Number(el.max_length ?? 0) <= 3000);
      return;
    }
    case 'divider':
      return;
    default:
      assert.fail(`${where}: unexpected block type ${String(b.type)}`);
  }
}

/** Enforces the Block Kit limits the views promise (lengths in UTF-16 code units). */
export function assertWithinBlockKitLimits(blocks: (KnownBlock | AnyBlock)[], maxBlocks = 50) {
  assert.ok(blocks.length >= 1 && blocks.length <= maxBlocks, `${blocks.length} blocks`);
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    const o = b as unknown as Obj;
    if (o.block_id !== undefined) {
      const id = String(o.block_id);
      assert.ok(id.length <= 255 && !blockIds.has(id), `blocks[${i}].block_id`);
      blockIds.add(id);
    }
    checkBlock(o, `blocks[${i}]`);
  });
}

export function assertMessageWithinLimits(m: { text: string; blocks: KnownBlock[] }) {
  assert.ok(m.text.length >= 1 && m.text.length <= 40_000, `text fallback ${m.text.length}`);
  assert.ok(wellFormed(m.text));
  assertWithinBlockKitLimits(m.blocks);
}

export function assertViewWithinLimits(v: View) {
  assertWithinBlockKitLimits(v.blocks, 100);
  assert.ok((v.private_metadata ?? '').length <= 3000);
  assert.ok((v.callback_id ?? '').length <= 255);
  if (v.type === 'modal') {
    for (const t of [v.title, v.submit, v.close]) if (t) checkText('modal', t, 24, ['plain_text']);
  }
}

// ---------------------------------------------------------------------------------------
// Inertness

/** Every text object (and the fallback) in a message or view, with its kind. */
export function textsOf(value: unknown): { kind: 'mrkdwn' | 'plain_text'; text: string }[] {
  const out: { kind: 'mrkdwn' | 'plain_text'; text: string }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
      return;
    }
    if (!isObj(v)) return;
    if ((v.type === 'mrkdwn' || v.type === 'plain_text') && typeof v.text === 'string') {
      out.push({ kind: v.type, text: v.text });
      return;
    }
    for (const [k, child] of Object.entries(v)) {
      if (k === 'text' && typeof child === 'string') out.push({ kind: 'mrkdwn', text: child });
      else walk(child);
    }
  };
  walk(value);
  return out;
}

const INVISIBLE = /[\u200B\u200C\u200E\u200F\u202A-\u202E\u2060\u2066\u2067\uFEFF\u0000]/;

/**
 * Hostile text came out inert: every `<` opens only an allowed mention or a link to an
 * allowed URL prefix; no raw bidi override or zero-width character; isolates balanced;
 * no lone surrogate; and mrkdwn holds none of the hostile markup.
 */
export function assertInert(
  value: unknown,
  allowed: { mentions?: string[]; urlPrefixes?: string[] } = {},
) {
  for (const { kind, text } of textsOf(value)) {
    for (const m of text.matchAll(/<([^>]*)>?/g)) {
      const inner = m[1] ?? '';
      const mention = /^@([A-Z0-9]+)$/.exec(inner);
      if (mention) {
        assert.ok(allowed.mentions?.includes(mention[1] ?? ''), `mention ${m[0]} in ${text}`);
        continue;
      }
      const url = inner.split('|')[0] ?? '';
      const ok = (allowed.urlPrefixes ?? []).some((p) => url.startsWith(p));
      assert.ok(ok && m[0].endsWith('>'), `unexpected <…> ${m[0]} in ${JSON.stringify(text)}`);
    }
    assert.ok(!INVISIBLE.test(text), `invisible character in ${JSON.stringify(text)}`);
    assert.ok(wellFormed(text), 'lone surrogate');
    assert.equal(text.split('\u2068').length, text.split('\u2069').length, 'unbalanced isolate');
    assert.ok(!/@(here|channel|everyone)\b/.test(text), `bare mass mention in ${text}`);
    if (kind === 'mrkdwn') {
      // Markup inside code is inert; the views neutralise every backtick they did not write.
      const outsideCode = text.replace(/```\n[\s\S]*?\n```/g, '').replace(/`[^`\n]*`/g, '');
      assert.ok(!outsideCode.includes('`'), `a stray backtick in ${JSON.stringify(text)}`);
      for (const markup of ['*bold*', '_it_', '~s~']) {
        assert.ok(
          !outsideCode.includes(markup),
          `live markup ${markup} in ${JSON.stringify(text)}`,
        );
      }
    }
  }
}

export function aCommand(extra: Partial<Command> = {}): Command {
  return {
    id: 'deploy',
    team: 'payments',
    description: 'Deploys a released version.',
    class: 'mutating',
    params: [
      { name: 'version', type: 'semver', required: true, sensitive: false },
      { name: 'secret', type: 'string', required: false, sensitive: true },
    ],
    handler: { kind: 'lambda-module', module: 'handlers/deploy.ts', export: 'handler' },
    rollback: { command: 'rollback' },
    timeoutSeconds: 60,
    idempotent: false,
    confirmations: [],
    output: 'channel',
    ...extra,
  };
}
