/**
 * The demo flow over real, signed Slack payloads: alice asks for a prod deploy with /ops,
 * the prompt appears in the approvals channel, alice's own Approve is refused, bob's runs
 * it, the prompt is updated in place and the result lands in its thread; the audit log
 * shows each step. Bolt's Web API client talks to a local fake of Slack's API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, harness } from './support/harness.ts';
import {
  blockActionsBody,
  eventCallbackBody,
  type FakeSlack,
  SLACK_TEST,
  signedSlackRequest,
  slashCommandBody,
  startFakeSlack,
  viewSubmissionBody,
} from './support/slack.ts';
import { waitFor } from './support/wait.ts';

const APPROVALS = 'C01APPROVALS';

/** A fake Slack and a harness with Slack mounted on it, for the enclosing describe. */
function useSlackHarness(): { h: Harness; slack: FakeSlack } {
  const ctx = {} as { h: Harness; slack: FakeSlack };
  before(async () => {
    ctx.slack = await startFakeSlack();
    ctx.h = await harness({ slack: { apiUrl: ctx.slack.apiUrl } });
  });
  after(async () => {
    await ctx.h?.close();
    await ctx.slack?.close();
  });
  return ctx;
}

/** A correctly signed delivery to /slack/events, stamped with the harness clock. */
function deliver(h: Harness, body: string) {
  return h.app.inject({
    method: 'POST',
    url: '/slack/events',
    ...signedSlackRequest(SLACK_TEST.signingSecret, body, {
      timestamp: Math.floor(h.clock.now() / 1000),
    }),
  });
}

describe('Slack: the demo flow', () => {
  const ctx = useSlackHarness();
  let n = 0;

  const post = async (body: string) => {
    const started = performance.now();
    const res = await deliver(ctx.h, body);
    return { status: res.statusCode, body: res.body, ms: performance.now() - started };
  };
  const slash = async (user: string, text: string, channelId = 'C01OPS') => {
    const id = `r${++n}`;
    const res = await post(
      slashCommandBody({ text, userId: user, channelId, responseUrl: ctx.slack.responseUrl(id) }),
    );
    return {
      ...res,
      reply: () =>
        waitFor(
          `reply ${id}`,
          () => ctx.slack.responses.find((r) => r.id === id)?.body as { text: string } | undefined,
        ),
    };
  };
  const click = async (user: string, actionId: string, value: string) => {
    const id = `r${++n}`;
    const res = await post(
      blockActionsBody({
        actionId,
        value,
        userId: user,
        channelId: APPROVALS,
        responseUrl: ctx.slack.responseUrl(id),
      }),
    );
    return {
      ...res,
      reply: () =>
        waitFor(
          `reply ${id}`,
          () => ctx.slack.responses.find((r) => r.id === id)?.body as { text: string } | undefined,
        ),
    };
  };
  const promptButtons = (call: { params: Record<string, unknown> }) => {
    const blocks = call.params.blocks as {
      type: string;
      elements?: { action_id: string; value: string }[];
    }[];
    return blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
  };
  // The harness clock stands still, so ids made in one test share a millisecond: find by command.
  const byCommand = async (command: string) =>
    (await ctx.h.store.listRequests({ limit: 100 })).find((r) => r.command === command);
  const latest = async () => (await byCommand('deploy'))!;

  it('alice requests a prod deploy; the prompt goes to the approvals channel and she is told where', async () => {
    const res = await slash(
      'U01ALICE',
      'deploy checkout-api prod version=1.4.2 ticket=CHG-1 reason="ship the fix"',
    );
    assert.equal(res.status, 200);
    assert.ok(res.ms < 3000, `acked in ${res.ms} ms`);
    const reply = await res.reply();
    assert.match(reply.text, /pending/);
    assert.match(reply.text, /<#C01APPROVALS>/);
    await ctx.h.dispatcher.drain();
    const posts = ctx.slack.callsTo('chat.postMessage');
    assert.equal(posts.length, 1);
    assert.equal(posts[0]!.params.channel, APPROVALS);
    const ids = promptButtons(posts[0]!).map((b) => b.action_id);
    assert.deepEqual(ids.sort(), ['cs_approve', 'cs_deny']);
    const r = await latest();
    assert.equal(r.surface, 'slack');
    assert.equal(r.channel, 'C01OPS');
  });

  it("alice's own Approve is refused, politely and audited; nothing changes", async () => {
    const r = await latest();
    const approve = promptButtons(ctx.slack.callsTo('chat.postMessage')[0]!).find(
      (b) => b.action_id === 'cs_approve',
    )!;
    const res = await click('U01ALICE', 'cs_approve', approve.value);
    assert.equal(res.status, 200);
    assert.match((await res.reply()).text, /someone else/i);
    assert.equal((await ctx.h.store.getRequest(r.id))?.state, 'pending');
    const audit = await ctx.h.store.queryAudit({ target: r.id, action: 'approval.given.refused' });
    assert.deepEqual(
      audit.map((e) => [e.actor, e.result]),
      [['alice', 'SELF_APPROVAL']],
    );
  });

  it("bob's Approve runs it; the prompt is updated in place and the result lands in its thread", async () => {
    const r = await latest();
    const prompt = ctx.slack.callsTo('chat.postMessage')[0]!;
    const approve = promptButtons(prompt).find((b) => b.action_id === 'cs_approve')!;
    const res = await click('U01BOB', 'cs_approve', approve.value);
    assert.equal(res.status, 200);
    await waitFor(
      'approval',
      async () => (await ctx.h.store.getRequest(r.id))?.state !== 'pending',
    );
    await ctx.h.dispatcher.drain();
    await waitFor(
      'succeeded',
      async () => (await ctx.h.store.getRequest(r.id))?.state === 'succeeded',
    );
    await ctx.h.dispatcher.drain();
    const promptTs = ctx.slack.messages(APPROVALS).find((m) => !m.thread_ts)!.ts;
    const updates = ctx.slack.callsTo('chat.update').filter((c) => c.params.ts === promptTs);
    assert.ok(updates.length >= 1, 'the prompt was updated in place');
    const last = updates.at(-1)!;
    assert.deepEqual(promptButtons(last), [], 'no buttons once decided');
    assert.match(JSON.stringify(last.params.blocks), /succeeded/i);
    const replies = ctx.slack.messages(APPROVALS).filter((m) => m.thread_ts === promptTs);
    assert.equal(replies.length, 1, 'one result reply in the thread');
    assert.match(JSON.stringify(replies[0]), /1\.4\.2/);
    assert.equal(
      ctx.slack.callsTo('chat.postMessage').filter((c) => !c.params.thread_ts).length,
      1,
      'nothing posted twice',
    );
    const actions = (await ctx.h.store.queryAudit({ target: r.id })).map(
      (e) => `${e.actor}:${e.action}`,
    );
    assert.deepEqual(actions, [
      'alice:request.created',
      'alice:approval.given.refused',
      'bob:approval.given',
      'bob:request.approved',
      'system:execution.started',
      'system:execution.finished',
    ]);
  });

  it('an unknown Slack user is refused politely and the attempt is audited', async () => {
    const res = await slash('U0STRANGER', 'status checkout-api prod');
    assert.equal(res.status, 200);
    assert.match(res.body, /don't know you/);
    const audit = await ctx.h.store.queryAudit({ actor: 'unknown:slack:U0STRANGER' });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.result, 'UNKNOWN_PERSON');
  });

  it('parse errors answer ephemerally, naming the token and the usage', async () => {
    const res = await slash('U01ALICE', 'deploy checkout-api prod 1.4.2');
    assert.equal(res.status, 200);
    const body = JSON.parse(res.body) as { response_type: string; text: string };
    assert.equal(body.response_type, 'ephemeral');
    assert.match(body.text, /1\.4\.2/);
    assert.match(body.text, /Usage/);
  });

  it('help lists only what the caller may run', async () => {
    const carol = JSON.parse((await slash('U01CAROL', 'help')).body) as {
      text: string;
      blocks?: unknown;
    };
    const alice = JSON.parse((await slash('U01ALICE', 'help')).body) as {
      text: string;
      blocks?: unknown;
    };
    assert.match(JSON.stringify(carol), /status/);
    assert.doesNotMatch(JSON.stringify(carol), /flush-cache/);
    assert.match(JSON.stringify(alice), /flush-cache/);
  });

  it('read-only status answers in place', async () => {
    const res = await slash('U01CAROL', 'status checkout-api prod');
    const reply = (await res.reply()) as { text: string; response_type: string };
    assert.equal(reply.response_type, 'in_channel');
    assert.match(reply.text, /1\.4\.2/);
  });

  it('deny opens a modal; its submission needs a reason and denies', async () => {
    await slash('U01ALICE', 'scale checkout-api prod replicas=6 ticket=CHG-2');
    const r = await waitFor('request', () => byCommand('scale'));
    await ctx.h.dispatcher.drain();
    const prompt = ctx.slack.callsTo('chat.postMessage').at(-1)!;
    const deny = promptButtons(prompt).find((b) => b.action_id === 'cs_deny')!;
    await click('U01BOB', 'cs_deny', deny.value);
    const open = await waitFor('views.open', () => ctx.slack.callsTo('views.open').at(-1));
    const view = open.params.view as { callback_id: string; private_metadata: string };
    assert.equal(view.callback_id, 'cs_deny');
    const empty = await post(
      viewSubmissionBody({
        callbackId: 'cs_deny',
        userId: 'U01BOB',
        privateMetadata: view.private_metadata,
        values: { reason: { value: { type: 'plain_text_input', value: ' ' } } },
      }),
    );
    assert.match(empty.body, /"response_action":"errors"/);
    assert.equal((await ctx.h.store.getRequest(r.id))?.state, 'pending');
    const ok = await post(
      viewSubmissionBody({
        callbackId: 'cs_deny',
        userId: 'U01BOB',
        privateMetadata: view.private_metadata,
        values: { reason: { value: { type: 'plain_text_input', value: 'not during the sale' } } },
      }),
    );
    assert.equal(ok.status, 200);
    assert.equal((await ctx.h.store.getRequest(r.id))?.state, 'denied');
  });

  it("a destructive command's Approve asks for the typed target", async () => {
    await slash('U01ALICE', 'flush-cache checkout-api prod ticket=CHG-3');
    const r = await waitFor('request', () => byCommand('flush-cache'));
    await ctx.h.dispatcher.drain();
    const prompt = ctx.slack.callsTo('chat.postMessage').at(-1)!;
    const approve = promptButtons(prompt).find((b) => b.action_id === 'cs_approve')!;
    const before = ctx.slack.callsTo('views.open').length;
    await click('U01BOB', 'cs_approve', approve.value);
    const open = await waitFor('confirm modal', () => ctx.slack.callsTo('views.open')[before]);
    const view = open.params.view as { callback_id: string; private_metadata: string };
    assert.equal(view.callback_id, 'cs_confirm');
    const wrong = await post(
      viewSubmissionBody({
        callbackId: 'cs_confirm',
        userId: 'U01BOB',
        privateMetadata: view.private_metadata,
        values: { confirm: { value: { type: 'plain_text_input', value: 'checkout-api/staging' } } },
      }),
    );
    assert.match(wrong.body, /checkout-api\/prod/);
    const right = await post(
      viewSubmissionBody({
        callbackId: 'cs_confirm',
        userId: 'U01BOB',
        privateMetadata: view.private_metadata,
        values: { confirm: { value: { type: 'plain_text_input', value: 'checkout-api/prod' } } },
      }),
    );
    assert.equal(right.status, 200);
    const after = await ctx.h.store.getRequest(r.id);
    assert.equal(after?.signOffs.filter((s) => s.by === 'bob').length, 1);
    assert.equal(after?.state, 'pending', 'a destructive command needs a second approver');
  });
});

describe('Slack: approval clicks are checked every time', () => {
  const ctx = useSlackHarness();
  let n = 0;

  const post = (body: string) => deliver(ctx.h, body);
  const click = async (user: string, value: string, actionId = 'cs_approve') => {
    const id = `c${++n}`;
    const res = await post(
      blockActionsBody({
        actionId,
        value,
        userId: user,
        channelId: APPROVALS,
        responseUrl: ctx.slack.responseUrl(id),
      }),
    );
    assert.equal(res.statusCode, 200);
    return () =>
      waitFor(
        `reply ${id}`,
        () => ctx.slack.responses.find((r) => r.id === id)?.body as { text: string } | undefined,
      );
  };
  const newRequest = async (text: string) => {
    const res = await ctx.h.api('POST', '/api/v1/requests', 'alice', { text });
    assert.equal(res.status, 201);
    await ctx.h.dispatcher.drain();
    const prompt = ctx.slack.callsTo('chat.postMessage').at(-1)!;
    const blocks = prompt.params.blocks as {
      type: string;
      elements?: { action_id: string; value: string }[];
    }[];
    const approve = blocks
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'cs_approve')!;
    return { id: res.json.request.id as string, value: approve.value };
  };

  it('§8.18 a double click on Approve records one approval and one execution', async () => {
    const r = await newRequest('deploy checkout-api prod version=1.4.2 ticket=CHG-10');
    await Promise.all([click('U01BOB', r.value), click('U01BOB', r.value)]);
    await waitFor(
      'approved',
      async () => (await ctx.h.store.getRequest(r.id))?.state !== 'pending',
    );
    await ctx.h.dispatcher.drain();
    const started = await ctx.h.store.queryAudit({ target: r.id, action: 'execution.started' });
    assert.equal(started.length, 1);
    const given = await ctx.h.store.queryAudit({ target: r.id, action: 'approval.given' });
    assert.equal(given.length, 1);
  });

  it('§8.19 a click replayed after the decision is told it was already decided, and runs nothing', async () => {
    const r = await newRequest('deploy checkout-api prod version=1.4.3 ticket=CHG-11');
    await click('U01BOB', r.value);
    await waitFor(
      'approved',
      async () => (await ctx.h.store.getRequest(r.id))?.state !== 'pending',
    );
    await ctx.h.dispatcher.drain();
    const reply = await (await click('U01DAVE', r.value))();
    assert.match(reply.text, /already/);
    await ctx.h.dispatcher.drain();
    assert.equal(
      (await ctx.h.store.queryAudit({ target: r.id, action: 'execution.started' })).length,
      1,
    );
  });

  it('§8.26 a tampered button value (another request, a forged digest, junk) is refused', async () => {
    const a = await newRequest('scale checkout-api prod replicas=5 ticket=CHG-12');
    const b = await newRequest('scale checkout-api prod replicas=7 ticket=CHG-13');
    const va = JSON.parse(a.value) as { r: string; d: string; k: string };
    const vb = JSON.parse(b.value) as { r: string; d: string; k: string };
    const swapped = JSON.stringify({ ...vb, d: va.d });
    assert.match((await (await click('U01BOB', swapped))()).text, /changed since you reviewed/);
    assert.match(
      (await (await click('U01BOB', '{"r":"REQ-1","d":"x"}'))()).text,
      /not one of ours/,
    );
    assert.match(
      (await (await click('U01BOB', JSON.stringify({ ...va, r: 'REQ-0NOSUCH' })))()).text,
      /No request/,
    );
    assert.equal((await ctx.h.store.getRequest(a.id))?.state, 'pending');
    assert.equal((await ctx.h.store.getRequest(b.id))?.state, 'pending');
  });

  it('§8.17 a viewer clicking Approve is refused; permission is checked on the click, not inferred from the button', async () => {
    const r = await newRequest('scale checkout-api prod replicas=9 ticket=CHG-14');
    assert.match((await (await click('U01CAROL', r.value))()).text, /no approve grant/);
    assert.equal((await ctx.h.store.getRequest(r.id))?.state, 'pending');
  });
});

describe('Slack: App Home', () => {
  const ctx = useSlackHarness();

  const openHome = async (user: string) => {
    const before = ctx.slack.callsTo('views.publish').length;
    const body = eventCallbackBody({
      event: { type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home' },
    });
    const res = await deliver(ctx.h, body);
    assert.equal(res.statusCode, 200);
    const call = await waitFor('views.publish', () => ctx.slack.callsTo('views.publish')[before]);
    assert.equal(call.params.user_id, user);
    return JSON.stringify(call.params.view);
  };

  it("shows the viewer's pending approvals and their own open requests", async () => {
    const created = await ctx.h.api('POST', '/api/v1/requests', 'alice', {
      text: 'scale checkout-api prod replicas=6 ticket=CHG-20',
    });
    const id = created.json.request.id as string;
    const bob = await openHome('U01BOB');
    assert.match(bob, new RegExp(id));
    assert.match(bob, /cs_approve/, 'bob can sign it off from Home');
    const alice = await openHome('U01ALICE');
    assert.match(alice, new RegExp(id), "it is among alice's own open requests");
    assert.doesNotMatch(alice, /cs_approve/, 'alice cannot approve her own request');
    const carol = await openHome('U01CAROL');
    assert.doesNotMatch(carol, new RegExp(id), 'carol has nothing to sign and asked for nothing');
  });
});
