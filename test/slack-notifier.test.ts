/**
 * The Slack notifier end to end in one process: the real store, the demo catalog, the real
 * use cases and outbox dispatcher (test/support/harness.ts), a real WebClient through the
 * channel queue, and the fake Slack Web API of test/support/slack.ts, which keeps the
 * messages it was sent (with metadata and threads), records every call and can answer 429
 * or fail.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ChannelQueue, slackClient } from '../src/adapters/slack/channel-queue.ts';
import { PRIVATE_RESULT_NOTE, slackNotifier } from '../src/adapters/slack/slack-notifier.ts';
import type { Notifier, Store } from '../src/app/ports.ts';
import { loadCatalogOrThrow } from '../src/config/load-catalog.ts';
import type { Catalog } from '../src/domain/catalog.ts';
import { DEMO_DIR, type Harness, harness, type NotifierParts } from './support/harness.ts';
import { type FakeSlack, type FakeSlackCall, startFakeSlack } from './support/slack.ts';

const APPROVALS = 'C01APPROVALS';
const OPS = 'C01OPS';

const DEPLOY = 'deploy checkout-api prod version=1.4.2 ticket=CHG-1';

describe('slack notifier', () => {
  let slack: FakeSlack;
  let h: Harness;
  let demo: Catalog;
  let catalog: Catalog;
  let notifier: Notifier;
  let parts: NotifierParts;
  /** When set, the notifier's store fails `recordChatMessage` this many more times. */
  let recordFailures = 0;

  /** A fresh notifier over a fresh queue whose lanes leave `minIntervalMs` between calls. */
  function rewire(minIntervalMs = 5): void {
    const queue = new ChannelQueue(slackClient('xoxb-test', slack.apiUrl), { minIntervalMs });
    notifier = slackNotifier({ ...parts, store: crashing(parts.store), queue });
  }

  before(async () => {
    slack = await startFakeSlack();
    demo = await loadCatalogOrThrow(DEMO_DIR);
    catalog = demo;
    h = await harness({
      catalogSource: { current: () => catalog },
      notifier: (given) => {
        parts = given;
        rewire();
        return { notify: (event) => notifier.notify(event) };
      },
    });
  });
  after(async () => {
    await h?.close();
    await slack?.close();
  });
  beforeEach(async () => {
    await h.dispatcher.drain();
    catalog = demo;
    rewire();
    recordFailures = 0;
    slack.calls.length = 0;
  });

  /** The store, except that `recordChatMessage` throws while `recordFailures` > 0 (a crash). */
  function crashing(store: Store): Store {
    return new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'recordChatMessage' && recordFailures > 0) {
          return async () => {
            recordFailures--;
            throw new Error('crashed between post and record');
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  const request = async (text: string, as = 'alice') => {
    const res = await h.api('POST', '/api/v1/requests', as, { text });
    assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.json));
    return res.json.request as { id: string; digest: string };
  };
  const approve = async (r: { id: string; digest: string }, as = 'bob') => {
    const res = await h.api('POST', `/api/v1/requests/${r.id}/approve`, as, { digest: r.digest });
    assert.equal(res.status, 200, JSON.stringify(res.json));
  };
  /** The errors of notifications still in the outbox, for an assertion's message. */
  const whyNot = async () => {
    const left = await h.store.claimOutbox(h.clock.now() + 3_600_000, 10, 1);
    return `left in the outbox: ${JSON.stringify(left.map((e) => [e.payload, e.lastError]))}`;
  };
  const methods = () => slack.calls.map((c) => c.method);
  const posts = () => slack.calls.filter((c) => c.method === 'chat.postMessage');
  const updates = () => slack.calls.filter((c) => c.method === 'chat.update');
  /** The state line of a prompt's blocks, and whether it still has buttons. */
  const view = (c: FakeSlackCall | undefined) => {
    const json = JSON.stringify(c?.params.blocks ?? []);
    const state =
      /⏳ pending|waiting to run|running since|✅ succeeded|🚫 denied|❓ outcome unknown/.exec(
        json,
      )?.[0];
    return {
      state,
      buttons: ((c?.params.blocks ?? []) as { type: string }[]).some((b) => b.type === 'actions'),
    };
  };

  it('posts the prompt once, updates it in place through its life and replies once in the thread', async () => {
    const r = await request(DEPLOY);
    await h.dispatcher.drain();
    assert.deepEqual(methods(), ['chat.postMessage'], await whyNot());
    const prompt = posts()[0]!;
    assert.equal(prompt.params.channel, APPROVALS);
    assert.equal(prompt.params.unfurl_links, 'false');
    assert.deepEqual(prompt.params.metadata, {
      event_type: 'countersign_request',
      event_payload: { request_id: r.id },
    });
    assert.deepEqual(view(prompt), { state: '⏳ pending', buttons: true });
    const ts = slack.messages(APPROVALS).at(-1)?.ts;
    assert.deepEqual(await h.store.getChatMessage(r.id, 'prompt'), { channel: APPROVALS, ts });

    // Notifications run while the execution does, as with the dispatcher's own loop.
    const executor = h.deps.executor;
    const run = executor.run.bind(executor);
    executor.run = async (input) => {
      await h.dispatcher.drain();
      return run(input);
    };
    try {
      await approve(r);
      await h.dispatcher.drain();
    } finally {
      executor.run = run;
    }
    assert.deepEqual(methods(), [
      'chat.postMessage',
      'chat.update',
      'chat.update',
      'chat.update',
      'chat.postMessage',
    ]);
    assert.ok(updates().every((u) => u.params.channel === APPROVALS && u.params.ts === ts));
    assert.deepEqual(
      updates().map((u) => view(u)),
      [
        { state: 'waiting to run', buttons: false },
        { state: 'running since', buttons: false },
        { state: '✅ succeeded', buttons: false },
      ],
    );
    const result = posts()[1]!;
    assert.equal(result.params.channel, APPROVALS);
    assert.equal(result.params.thread_ts, ts);
    assert.match(JSON.stringify(result.params.blocks), /succeeded[\s\S]*1\.4\.2/);
    assert.deepEqual(result.params.metadata, {
      event_type: 'countersign_result',
      event_payload: { request_id: r.id },
    });

    const again = await h.store.getRequest(r.id);
    await notifier.notify({ kind: 'finished', requestId: r.id, text: '', loud: false });
    assert.equal(slack.calls.length, 5, 'a repeated notification sends nothing new');
    console.log(
      `# Web API calls per approved request, one state change at a time: ${slack.calls.length} ` +
        `(1 post, ${updates().length} updates, 1 threaded reply; request ${again?.state})`,
    );
  });

  it('coalesces updates that come quickly: approved → running → succeeded within the lane interval', async () => {
    const r = await request('deploy checkout-api prod version=1.4.3 ticket=CHG-2');
    await h.dispatcher.drain();
    slack.calls.length = 0;
    rewire(1000); // Slack's ~1 message per second per channel
    await approve(r);
    h.dispatcher.start();
    for (let i = 0; i < 100 && posts().length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await h.dispatcher.stop();
    assert.equal(posts().length, 1, 'one threaded result');
    assert.ok(updates().length < 3, `${updates().length} updates for 3 state changes`);
    assert.equal(view(updates().at(-1)).state, '✅ succeeded');
    console.log(
      `# Web API calls per approved request, changes within a second: ${slack.calls.length + 1} ` +
        `(1 post, ${updates().length} update(s), 1 threaded reply)`,
    );
  });

  it('adopts a prompt posted before a crash between post and record: nothing is posted twice', async () => {
    recordFailures = 1;
    const r = await request('deploy checkout-api prod version=1.4.4 ticket=CHG-3');
    await h.dispatcher.drain();
    assert.deepEqual(methods(), ['chat.postMessage'], 'posted, then crashed before recording');
    assert.equal(await h.store.getChatMessage(r.id, 'prompt'), undefined);
    assert.equal(await h.store.countOutbox(), 1, 'the notification is retried');

    h.clock.advance(5_000);
    await h.dispatcher.drain();
    // Found by its metadata and adopted; then brought up to date, as it may be stale.
    assert.deepEqual(methods(), ['chat.postMessage', 'conversations.history', 'chat.update']);
    assert.equal(slack.calls[1]?.params.include_all_metadata, 'true');
    assert.equal(slack.calls[1]?.params.limit, '100');
    const posted = slack.messages(APPROVALS).at(-1);
    assert.deepEqual(await h.store.getChatMessage(r.id, 'prompt'), {
      channel: APPROVALS,
      ts: posted?.ts,
    });
    await approve(r);
    await h.dispatcher.drain();
    assert.equal(posts().length, 2, 'the prompt and the result reply only');
    assert.ok(updates().every((u) => u.params.ts === posted?.ts));
  });

  it('posts a claimed prompt that never reached Slack only after the grace period', async () => {
    const r = await request('deploy checkout-api prod version=1.4.5 ticket=CHG-4');
    await h.store.claimChatMessage(r.id, 'prompt', APPROVALS, h.clock.now());
    await h.dispatcher.drain();
    assert.deepEqual(methods(), ['conversations.history'], 'maybe another worker is posting');
    h.clock.advance(61_000);
    await h.dispatcher.drain();
    assert.deepEqual(methods(), [
      'conversations.history',
      'conversations.history',
      'chat.postMessage',
    ]);
    assert.ok(await h.store.getChatMessage(r.id, 'prompt'));
  });

  it('honours a 429 on chat.update and still updates in place', async () => {
    const r = await request('deploy checkout-api prod version=1.4.6 ticket=CHG-5');
    await h.dispatcher.drain();
    slack.rateLimitNext('chat.update', 1, 1);
    const denied = await h.api('POST', `/api/v1/requests/${r.id}/deny`, 'bob', {
      reason: 'not now',
    });
    assert.equal(denied.status, 200);
    await h.dispatcher.drain();
    assert.deepEqual(methods(), ['chat.postMessage', 'chat.update', 'chat.update']);
    const [first, retry] = updates();
    assert.ok((retry?.at ?? 0) - (first?.at ?? 0) >= 1000, 'waited for Retry-After');
    assert.deepEqual(view(retry), { state: '🚫 denied', buttons: false });
  });

  it('throws on a Slack error so the outbox retries, then posts once', async () => {
    const r = await request('deploy checkout-api prod version=1.4.7 ticket=CHG-6');
    slack.failNext('chat.postMessage', 'not_in_channel');
    await h.dispatcher.drain();
    assert.equal(await h.store.countOutbox(), 1);
    assert.equal(await h.store.getChatMessage(r.id, 'prompt'), undefined);
    h.clock.advance(2_000);
    await h.dispatcher.drain();
    assert.deepEqual(methods(), ['chat.postMessage', 'chat.postMessage'], 'refused: no search');
    assert.ok(await h.store.getChatMessage(r.id, 'prompt'));
  });

  it("sends a 'requester' command's result privately, with a note in the thread", async () => {
    catalog = {
      ...demo,
      commands: demo.commands.map((c) => (c.id === 'deploy' ? { ...c, output: 'requester' } : c)),
    };
    const r = await request('deploy checkout-api prod version=1.4.8 ticket=CHG-7');
    await h.dispatcher.drain();
    await approve(r);
    await h.dispatcher.drain();
    const [prompt, dm, note] = posts();
    assert.equal(dm?.params.channel, 'U01ALICE');
    assert.match(JSON.stringify(dm?.params.blocks), /1\.4\.8/);
    assert.equal(note?.params.channel, APPROVALS);
    assert.equal(note?.params.thread_ts, (await h.store.getChatMessage(r.id, 'prompt'))?.ts);
    assert.equal(note?.params.text, PRIVATE_RESULT_NOTE);
    assert.doesNotMatch(JSON.stringify(note?.params), /1\.4\.8/);
    assert.ok(prompt && posts().length === 3);
    assert.ok(await h.store.getChatMessage(r.id, 'result-dm'));
  });

  it('alerts the ops channel once on break-glass and on an unknown outcome', async () => {
    const r = await request(
      'deploy checkout-api prod version=1.4.9 ticket=CHG-8 reason="checkout down" --break-glass',
      'dave',
    );
    await h.dispatcher.drain();
    const alerts = () => posts().filter((c) => c.params.channel === OPS);
    assert.equal(alerts().length, 1);
    assert.match(
      String(alerts()[0]?.params.text),
      /Break-glass: Dave Example ran `deploy`.*checkout down/,
    );
    await notifier.notify({ kind: 'break-glass', requestId: r.id, text: '', loud: true });
    assert.equal(alerts().length, 1, 'claimed: not posted again');

    const done = await h.store.getRequest(r.id);
    assert.equal(done?.state, 'succeeded');
    await h.store.transaction((tx) =>
      tx.updateRequest({ ...done!, state: 'unknown', version: done!.version + 1 }),
    );
    await notifier.notify({ kind: 'unknown', requestId: r.id, text: '', loud: true });
    assert.equal(alerts().length, 2);
    assert.match(String(alerts()[1]?.params.text), /outcome of `deploy`.*is unknown/);
    assert.deepEqual(view(updates().at(-1)), { state: '❓ outcome unknown', buttons: false });
  });

  it('posts nothing for read-only requests or a service without an approvals channel', async () => {
    await h.api('POST', '/api/v1/requests', 'carol', { text: 'status checkout-api prod' });
    await h.dispatcher.drain();
    catalog = {
      ...demo,
      services: demo.services.map((s) => ({ ...s, channels: {} })),
    };
    await request('deploy checkout-api prod version=1.5.0 ticket=CHG-9');
    await h.dispatcher.drain();
    assert.deepEqual(methods(), []);
    assert.equal(await h.store.countOutbox(), 0);
  });
});
