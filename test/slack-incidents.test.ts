/**
 * Incidents and runbook runs over real, signed Slack payloads, through the Bolt app and a
 * local fake of Slack's Web API: alice declares an incident with /ops, its header is posted
 * once and then updated in place, status lines land in its thread, a person without the
 * confirm role cannot confirm its severity, a runbook's step card moves when a step is
 * acknowledged, a stale button is refused, and a forged signature changes nothing. A second
 * suite gives each incident its own channel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChannelQueue, slackClient } from '../src/adapters/slack/channel-queue.ts';
import {
  channelName,
  INCIDENT_EVENT_TYPES,
  slackIncidentChat,
} from '../src/adapters/slack/slack-incident-chat.ts';
import { loadCatalogOrThrow } from '../src/config/load-catalog.ts';
import type { Catalog } from '../src/domain/catalog.ts';
import type { Incident } from '../src/domain/incident-model.ts';
import { DEMO_DIR, type Harness, harness } from './support/harness.ts';
import {
  blockActionsBody,
  type FakeSlack,
  type FakeSlackCall,
  SLACK_TEST,
  signedSlackRequest,
  slashCommandBody,
  startFakeSlack,
  viewSubmissionBody,
} from './support/slack.ts';
import { waitFor } from './support/wait.ts';

const OPS = 'C01OPS';
type Block = { type: string; elements?: Btn[]; accessory?: Btn };
type Btn = { type: string; action_id: string; value: string };

/**
 * A fake Slack and a harness with Slack mounted on it. The harness does not (yet) wire
 * `deps.incidentChat` from the mount, so it is wired here exactly as `mountSlack` builds it.
 */
function useSlackHarness(catalog?: () => Promise<Catalog>) {
  const ctx = {} as { h: Harness; slack: FakeSlack; queue: ChannelQueue };
  before(async () => {
    ctx.slack = await startFakeSlack();
    ctx.h = await harness({
      slack: { apiUrl: ctx.slack.apiUrl },
      ...(catalog ? { catalog: await catalog() } : {}),
    });
    const client = slackClient(SLACK_TEST.botToken, ctx.slack.apiUrl);
    ctx.queue = new ChannelQueue(client, { minIntervalMs: 0 });
    const { store, catalog: source, clock, log } = ctx.h.deps;
    ctx.h.deps.incidentChat = slackIncidentChat({
      store,
      catalog: source,
      queue: ctx.queue,
      client,
      clock,
      log,
    });
  });
  after(async () => {
    await ctx.h?.close();
    await ctx.queue?.stop();
    await ctx.slack?.close();
  });
  return ctx;
}

function drivers(ctx: { h: Harness; slack: FakeSlack }) {
  let n = 0;
  const deliver = (body: string, secret: string = SLACK_TEST.signingSecret) =>
    ctx.h.app.inject({
      method: 'POST',
      url: '/slack/events',
      ...signedSlackRequest(secret, body, { timestamp: Math.floor(ctx.h.clock.now() / 1000) }),
    });
  const replyOf = (id: string) => () =>
    waitFor(
      `reply ${id}`,
      () => ctx.slack.responses.find((r) => r.id === id)?.body as { text: string } | undefined,
    );
  return {
    deliver,
    async slash(user: string, text: string, channelId = OPS) {
      const id = `r${++n}`;
      const res = await deliver(
        slashCommandBody({ text, userId: user, channelId, responseUrl: ctx.slack.responseUrl(id) }),
      );
      assert.equal(res.statusCode, 200);
      return { res, reply: replyOf(id), id };
    },
    async click(user: string, button: Btn, channelId = OPS, secret?: string) {
      const id = `r${++n}`;
      const body = blockActionsBody({
        actionId: button.action_id,
        value: button.value,
        userId: user,
        channelId,
        responseUrl: ctx.slack.responseUrl(id),
      });
      const res = await deliver(body, secret);
      return { res, reply: replyOf(id), id };
    },
  };
}

const metaOf = (c: FakeSlackCall) =>
  (c.params.metadata as { event_type?: string } | undefined)?.event_type;
const posts = (slack: FakeSlack, type: string) =>
  slack.callsTo('chat.postMessage').filter((c) => metaOf(c) === type);
const buttonsOf = (call: FakeSlackCall | undefined): Btn[] =>
  ((call?.params.blocks ?? []) as Block[])
    .flatMap((b) => [
      ...(b.type === 'actions' ? (b.elements ?? []) : []),
      ...(b.accessory ? [b.accessory] : []),
    ])
    .filter((e) => e.type === 'button');
const updatesOf = (slack: FakeSlack, ts: string) =>
  slack.callsTo('chat.update').filter((c) => c.params.ts === ts);
const lastView = (slack: FakeSlack, ts: string, post: FakeSlackCall) =>
  updatesOf(slack, ts).at(-1) ?? post;

describe('Slack: an incident in the ops channel, and a runbook run in its thread', () => {
  const ctx = useSlackHarness();
  const d = drivers(ctx);
  const state = {} as {
    incident: string;
    headerTs: string;
    run: string;
    cardTs: string;
    staleAck: Btn;
  };
  const header = () => posts(ctx.slack, INCIDENT_EVENT_TYPES.header);
  const drain = () => ctx.h.dispatcher.drain();

  it('/ops incident declare posts the header once, in the channel it was declared in', async () => {
    const { reply } = await d.slash(
      'U01ALICE',
      'incident declare checkout-api prod sev=2 title="Checkout answers 5xx" runbook=high-error-rate',
    );
    const text = (await reply()).text;
    assert.match(text, /Declared INC-/);
    const [incident] = await ctx.h.store.listIncidents({ limit: 5 });
    assert.ok(incident);
    state.incident = incident.id;
    await drain();
    await drain();
    assert.equal(header().length, 1, 'one header');
    const post = header()[0]!;
    assert.equal(post.params.channel, OPS);
    state.headerTs = ctx.slack.messages(OPS).find((m) => !m.thread_ts)!.ts;
    const ids = buttonsOf(post).map((b) => b.action_id);
    assert.deepEqual(ids.sort(), [
      'incident_confirm_severity',
      'incident_resolve',
      'incident_start_runbook',
    ]);
    assert.match(JSON.stringify(post.params.blocks), /unconfirmed/);
  });

  it('a status update lands in the header thread; the header is updated in place, not reposted', async () => {
    const before = updatesOf(ctx.slack, state.headerTs).length;
    await (
      await d.slash('U01ALICE', `incident update ${state.incident} text="Rolled back; watching"`)
    ).reply();
    await drain();
    const replies = ctx.slack.messages(OPS).filter((m) => m.thread_ts === state.headerTs);
    assert.ok(
      replies.some((m) => /Rolled back; watching/.test(JSON.stringify(m.blocks))),
      'the line is in the thread',
    );
    const updates = updatesOf(ctx.slack, state.headerTs);
    assert.ok(updates.length > before, 'the header was updated');
    assert.match(JSON.stringify(updates.at(-1)!.params.blocks), /Rolled back; watching/);
    assert.equal(header().length, 1, 'never reposted');
    const lines = ctx.slack
      .callsTo('chat.postMessage')
      .filter((c) => metaOf(c) === INCIDENT_EVENT_TYPES.line);
    await drain();
    assert.equal(
      ctx.slack.callsTo('chat.postMessage').filter((c) => metaOf(c) === INCIDENT_EVENT_TYPES.line)
        .length,
      lines.length,
      'draining again posts nothing twice',
    );
  });

  it('Confirm severity by a person without the confirm role is refused ephemerally; nothing changes', async () => {
    const confirm = buttonsOf(header()[0]).find(
      (b) => b.action_id === 'incident_confirm_severity',
    )!;
    const before = await ctx.h.store.getIncident(state.incident);
    const { res, reply } = await d.click('U01ALICE', confirm);
    assert.equal(res.statusCode, 200);
    const answer = (await reply()) as { text: string; response_type?: string };
    assert.match(answer.text, /^✋ /);
    assert.equal(answer.response_type, 'ephemeral');
    const after = await ctx.h.store.getIncident(state.incident);
    assert.equal(after?.severity.confirmed, false);
    assert.equal(after?.version, before?.version);
  });

  it('Confirm severity by the incident commander confirms it; the button goes away', async () => {
    const confirm = buttonsOf(header()[0]).find(
      (b) => b.action_id === 'incident_confirm_severity',
    )!;
    await d.click('U01DAVE', confirm);
    await waitFor(
      'confirmed',
      async () => (await ctx.h.store.getIncident(state.incident))?.severity.confirmed,
    );
    await drain();
    const shown = lastView(ctx.slack, state.headerTs, header()[0]!);
    assert.ok(!buttonsOf(shown).some((b) => b.action_id === 'incident_confirm_severity'));
  });

  it('Start runbook posts the step card in the incident thread, with buttons naming the step', async () => {
    const start = buttonsOf(header()[0]).find((b) => b.action_id === 'incident_start_runbook')!;
    const { reply } = await d.click('U01ALICE', start);
    assert.match((await reply()).text, /Started RBR-/);
    const [run] = await ctx.h.store.listRuns({ incident: state.incident, limit: 5 });
    assert.ok(run);
    state.run = run.id;
    await drain();
    const cards = posts(ctx.slack, INCIDENT_EVENT_TYPES.run);
    assert.equal(cards.length, 1);
    assert.equal(cards[0]!.params.channel, OPS);
    assert.equal(cards[0]!.params.thread_ts, state.headerTs);
    state.cardTs = ctx.slack
      .messages(OPS)
      .find(
        (m) => m.thread_ts === state.headerTs && JSON.stringify(m.metadata ?? '').includes(run.id),
      )!.ts;
    const buttons = buttonsOf(cards[0]);
    assert.deepEqual(
      buttons.map((b) => b.action_id),
      ['run_step_ack', 'run_step_skip'],
    );
    assert.deepEqual(JSON.parse(buttons[0]!.value), { run: run.id, step: 'look' });
    state.staleAck = buttons[0]!;
  });

  it('Acknowledge advances the run; the card is updated in place with the next step', async () => {
    await d.click('U01ALICE', state.staleAck);
    await waitFor(
      'advanced',
      async () => (await ctx.h.store.getRun(state.run))?.steps.at(-1)?.stepId === 'cause',
    );
    await drain();
    assert.equal(
      posts(ctx.slack, INCIDENT_EVENT_TYPES.run).length,
      1,
      'the card is never reposted',
    );
    const shown = updatesOf(ctx.slack, state.cardTs).at(-1);
    assert.ok(shown, 'the card was updated');
    const ids = buttonsOf(shown).map((b) => b.action_id);
    assert.deepEqual(ids, [
      'run_step_choose.0',
      'run_step_choose.1',
      'run_step_choose.2',
      'run_step_skip',
    ]);
    assert.match(JSON.stringify(shown.params.blocks), /Did a deploy start it/);
  });

  it('a stale button (the old step) is refused by the app; the run does not move', async () => {
    const before = await ctx.h.store.getRun(state.run);
    const { reply } = await d.click('U01ALICE', state.staleAck);
    assert.match((await reply()).text, /^✋ .*(current step|not the current)/i);
    const after = await ctx.h.store.getRun(state.run);
    assert.equal(after?.version, before?.version);
    const audit = await ctx.h.store.queryAudit({
      target: state.run,
      action: 'runbook.step.refused',
    });
    assert.deepEqual(
      audit.map((e) => e.result),
      ['STEP_OUT_OF_ORDER'],
    );
  });

  it('Skip opens a modal; its submission skips the step it names, with the reason', async () => {
    const card = updatesOf(ctx.slack, state.cardTs).at(-1);
    const skip = buttonsOf(card).find((b) => b.action_id === 'run_step_skip')!;
    await d.click('U01ALICE', skip);
    const opened = await waitFor('views.open', () => ctx.slack.callsTo('views.open').at(-1));
    const view = opened.params.view as { callback_id: string; private_metadata: string };
    assert.equal(view.callback_id, 'run_step_skip');
    const res = await d.deliver(
      viewSubmissionBody({
        callbackId: view.callback_id,
        privateMetadata: view.private_metadata,
        userId: 'U01ALICE',
        values: {
          reason: { value: { type: 'plain_text_input', value: 'the dashboard says load' } },
        },
      }),
    );
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '', 'the modal closes');
    const run = await ctx.h.store.getRun(state.run);
    const skipped = run?.steps.find((s) => s.stepId === 'cause');
    assert.equal(skipped?.status, 'skipped');
    assert.equal(skipped?.reason, 'the dashboard says load');
  });

  it('/ops runbook show answers privately with the step card', async () => {
    const { reply } = await d.slash('U01CAROL', `runbook show ${state.run}`);
    const answer = (await reply()) as { text: string; response_type: string; blocks?: Block[] };
    assert.equal(answer.response_type, 'ephemeral');
    assert.match(answer.text, new RegExp(state.run));
    assert.equal(answer.blocks?.[0]?.type, 'header');
  });

  it('a forged signature is refused and changes nothing', async () => {
    await drain();
    const run = await ctx.h.store.getRun(state.run);
    const card = updatesOf(ctx.slack, state.cardTs).at(-1);
    const button = buttonsOf(card)[0] ?? state.staleAck;
    const calls = ctx.slack.calls.length;
    const { res } = await d.click('U01ALICE', button, OPS, 'not-the-signing-secret');
    assert.equal(res.statusCode, 401);
    assert.equal((await ctx.h.store.getRun(state.run))?.version, run?.version);
    const resolved = await d.deliver(
      slashCommandBody({ text: `incident resolve ${state.incident}`, userId: 'U01ALICE' }),
      'forged',
    );
    assert.equal(resolved.statusCode, 401);
    assert.equal((await ctx.h.store.getIncident(state.incident))?.status, 'open');
    await drain();
    assert.equal(ctx.slack.calls.length, calls, 'no call to Slack');
  });

  it('/ops incident resolve updates the header (no buttons) and says so in the thread', async () => {
    await (
      await d.slash('U01ALICE', `incident resolve ${state.incident} note="fixed by rollback"`)
    ).reply();
    assert.equal((await ctx.h.store.getIncident(state.incident))?.status, 'resolved');
    await drain();
    const shown = updatesOf(ctx.slack, state.headerTs).at(-1)!;
    assert.deepEqual(buttonsOf(shown), []);
    assert.match(JSON.stringify(shown.params.blocks), /resolved/);
    assert.equal(header().length, 1);
  });
});

describe('incident channel names', () => {
  const incident = {
    id: 'INC-01J0ABCDEFXYZ',
    service: 'Checkout API',
    environment: 'Prod/EU',
    createdAt: Date.UTC(2026, 10, 25, 12),
  };
  const name = (pattern: string, suffix?: string) =>
    channelName(pattern, incident as Incident, suffix);

  it('fills the pattern, lower-cases it and keeps only a-z, 0-9, - and _', () => {
    assert.equal(name('inc-{date}-{service}'), 'inc-20261125-checkout-api');
    assert.equal(name('{id} {service} {environment}'), 'inc-01j0abcdefxyz-checkout-api-prod-eu');
    assert.equal(name('🔥🔥'), 'inc-01j0abcdefxyz');
  });

  it('is at most 80 characters, suffix included', () => {
    const long = name(`${'x'.repeat(200)}-{id}`, '-abc123-2');
    assert.equal(long.length, 80);
    assert.ok(long.endsWith('-abc123-2'));
    assert.match(long, /^[a-z0-9_-]+$/);
  });
});

describe('Slack: an incident with its own channel', () => {
  const ctx = useSlackHarness(async () => {
    const demo = await loadCatalogOrThrow(DEMO_DIR);
    return {
      ...demo,
      incidents: { ...demo.incidents, chat: 'channel', channelPattern: 'inc-{date}-{service}' },
    };
  });
  const d = drivers(ctx);

  it('creates the channel once (a taken name gets a suffix), posts the header there and points to it', async () => {
    ctx.slack.addChannel('inc-20261125-checkout-api', 'C0TAKEN');
    await (
      await d.slash('U01ALICE', 'incident declare checkout-api prod sev=3 title="Slow checkout"')
    ).reply();
    const [incident] = await ctx.h.store.listIncidents({ limit: 5 });
    assert.ok(incident);
    await ctx.h.dispatcher.drain();
    await ctx.h.dispatcher.drain();
    const creates = ctx.slack.callsTo('conversations.create');
    assert.deepEqual(
      creates.map((c) => c.params.name),
      [
        'inc-20261125-checkout-api',
        `inc-20261125-checkout-api-${incident.id.slice(-6).toLowerCase()}`,
      ],
    );
    const channel = ctx.slack.channelsByName.get(String(creates[1]!.params.name))!;
    const headers = posts(ctx.slack, INCIDENT_EVENT_TYPES.header);
    assert.equal(headers.length, 1);
    assert.equal(headers[0]!.params.channel, channel);
    assert.deepEqual(
      ctx.slack.callsTo('conversations.invite').map((c) => [c.params.channel, c.params.users]),
      [[channel, 'U01ALICE']],
    );
    const pointer = posts(ctx.slack, INCIDENT_EVENT_TYPES.pointer);
    assert.equal(pointer.length, 1);
    assert.equal(pointer[0]!.params.channel, OPS);
    assert.match(String(pointer[0]!.params.text), new RegExp(`<#${channel}>`));
    const stored = await ctx.h.store.getIncident(incident.id);
    assert.equal(stored?.channel, channel);
    assert.equal(stored?.dedicatedChannel, true);

    await (
      await d.slash('U01ALICE', `incident update ${incident.id} text="Looking at the database"`)
    ).reply();
    await ctx.h.dispatcher.drain();
    assert.equal(ctx.slack.callsTo('conversations.create').length, 2, 'created once');
    const line = posts(ctx.slack, INCIDENT_EVENT_TYPES.line).find((c) =>
      /database/.test(JSON.stringify(c.params.blocks)),
    );
    assert.equal(line?.params.channel, channel);
    assert.equal(line?.params.thread_ts, undefined, 'top level in its own channel');
  });
});
