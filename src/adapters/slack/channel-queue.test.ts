/**
 * The channel queue against a real WebClient talking HTTP to a small local stand-in for
 * Slack's Web API that records calls and can answer slowly, with 429 or with an error.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { WebClient } from '@slack/web-api';
import { ChannelQueue, SlackCallError, slackClient } from './channel-queue.ts';

interface Call {
  method: string;
  args: Record<string, unknown>;
  /** Wall clock, ms, when the call arrived. */
  at: number;
}

/** How the stand-in answers the next matching call. */
interface Script {
  method: string;
  channel?: string;
  delayMs?: number;
  retryAfter?: number;
  error?: string;
}

async function standIn() {
  const calls: Call[] = [];
  const scripts: Script[] = [];
  let seq = 0;
  const server = createServer((req, res) => void answer(req, res));
  async function answer(req: IncomingMessage, res: ServerResponse) {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const method = (req.url ?? '').replace('/api/', '');
    const args = Object.fromEntries(new URLSearchParams(raw));
    calls.push({ method, args, at: Date.now() });
    const i = scripts.findIndex(
      (s) => s.method === method && (!s.channel || s.channel === args.channel),
    );
    const script = i >= 0 ? scripts.splice(i, 1)[0] : undefined;
    if (script?.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
    if (script?.retryAfter !== undefined) {
      res.writeHead(429, { 'retry-after': String(script.retryAfter) }).end();
      return;
    }
    const body = script?.error
      ? { ok: false, error: script.error }
      : {
          ok: true,
          channel: args.channel,
          ts: args.ts ?? `1800000000.${String(++seq).padStart(6, '0')}`,
        };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    scripts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('ChannelQueue', () => {
  let slack: Awaited<ReturnType<typeof standIn>>;
  let queue: ChannelQueue;
  const texts = (channel: string) =>
    slack.calls.filter((c) => c.args.channel === channel).map((c) => `${c.method} ${c.args.text}`);

  before(async () => {
    slack = await standIn();
  });
  after(() => slack.close());
  beforeEach(async () => {
    await queue?.stop('abandon');
    slack.calls.length = 0;
    slack.scripts.length = 0;
    queue = new ChannelQueue(slackClient('xoxb-test', slack.url), { minIntervalMs: 20 });
  });

  it('sends one lane in call order, leaving the minimum interval between calls', async () => {
    // The same client options as `slackClient`, with a fetch that notes when each call left.
    const left: number[] = [];
    const client = new WebClient('xoxb-test', {
      slackApiUrl: slack.url,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      fetch: (input, init) => {
        left.push(Date.now());
        return fetch(input, init);
      },
    });
    queue = new ChannelQueue(client, { minIntervalMs: 60 });
    const sent = await Promise.all([
      queue.post('C1', { text: 'one' }),
      queue.post('C1', { text: 'two' }),
      queue.update('C1', '1.1', { text: 'three' }),
      queue.post('C1', { text: 'four', thread_ts: '1.1' }),
    ]);
    assert.deepEqual(texts('C1'), [
      'chat.postMessage one',
      'chat.postMessage two',
      'chat.update three',
      'chat.postMessage four',
    ]);
    assert.equal(sent[0]?.channel, 'C1');
    assert.match(sent[0]?.ts ?? '', /^\d+\.\d{6}$/);
    assert.equal(slack.calls[3]?.args.thread_ts, '1.1');
    // The lane spaces the starts of its calls; the client adds a little jitter before fetch.
    const gaps = left.slice(1).map((t, i) => t - (left[i] ?? 0));
    const total = (left.at(-1) ?? 0) - (left[0] ?? 0);
    assert.ok(gaps.every((g) => g >= 30) && total >= 160, `gaps ${gaps.join(', ')} ms`);
  });

  it('coalesces waiting updates of one message; both callers resolve when the newest is sent', async () => {
    slack.scripts.push({ method: 'chat.postMessage', delayMs: 100 });
    const order: string[] = [];
    const first = queue.post('C1', { text: 'prompt' });
    const v2 = queue.update('C1', '1.1', { text: 'v2' }).then(() => order.push('v2'));
    const other = queue.update('C1', '2.2', { text: 'other message' });
    const v3 = queue.update('C1', '1.1', { text: 'v3' }).then(() => order.push('v3'));
    const v4 = queue.update('C1', '1.1', { text: 'v4' }).then(() => order.push('v4'));
    await Promise.all([first, v2, other, v3, v4]);
    assert.deepEqual(texts('C1'), [
      'chat.postMessage prompt',
      'chat.update v4',
      'chat.update other message',
    ]);
    assert.deepEqual(order, ['v2', 'v3', 'v4']);
  });

  it('never replaces an update already on the wire', async () => {
    slack.scripts.push({ method: 'chat.update', delayMs: 80 });
    const v1 = queue.update('C1', '1.1', { text: 'v1' });
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([v1, queue.update('C1', '1.1', { text: 'v2' })]);
    assert.deepEqual(texts('C1'), ['chat.update v1', 'chat.update v2']);
  });

  it('honours 429 Retry-After by pausing the lane, then retries the same call', async () => {
    slack.scripts.push({ method: 'chat.update', retryAfter: 1 });
    const started = Date.now();
    await Promise.all([
      queue.update('C1', '1.1', { text: 'limited' }),
      queue.post('C1', { text: 'after' }),
    ]);
    assert.deepEqual(texts('C1'), [
      'chat.update limited',
      'chat.update limited',
      'chat.postMessage after',
    ]);
    const [first, retry] = slack.calls;
    const waited = (retry?.at ?? 0) - (first?.at ?? 0);
    assert.ok(waited >= 1000, `the retry waited ${waited} ms, Retry-After was 1 s`);
    assert.ok(Date.now() - started >= 1000);
  });

  it('lets a newer update replace one waiting out a 429', async () => {
    slack.scripts.push({ method: 'chat.update', retryAfter: 1 });
    const v1 = queue.update('C1', '1.1', { text: 'v1' });
    await new Promise((r) => setTimeout(r, 100));
    await Promise.all([v1, queue.update('C1', '1.1', { text: 'v2' })]);
    assert.deepEqual(texts('C1'), ['chat.update v1', 'chat.update v2']);
  });

  it('keeps lanes independent: a 429 in one channel does not delay another', async () => {
    slack.scripts.push({ method: 'chat.postMessage', channel: 'C1', retryAfter: 1 });
    const started = Date.now();
    const slow = queue.post('C1', { text: 'limited' });
    await queue.post('C2', { text: 'a' });
    await queue.post('C2', { text: 'b' });
    const other = Date.now() - started;
    assert.ok(other < 500, `channel C2 took ${other} ms`);
    await slow;
    assert.ok(Date.now() - started >= 1000);
    assert.deepEqual(texts('C2'), ['chat.postMessage a', 'chat.postMessage b']);
  });

  it('gives up after the bounded attempts with ratelimited', async () => {
    queue = new ChannelQueue(slackClient('xoxb-test', slack.url), {
      minIntervalMs: 0,
      maxAttempts: 2,
    });
    for (let i = 0; i < 3; i++) slack.scripts.push({ method: 'chat.postMessage', retryAfter: 0 });
    await assert.rejects(
      queue.post('C1', { text: 'x' }),
      (e: unknown) => e instanceof SlackCallError && e.code === 'ratelimited',
    );
    assert.equal(slack.calls.length, 2);
  });

  it('rejects with the Slack error code, without retrying, and the lane goes on', async () => {
    slack.scripts.push({ method: 'chat.postMessage', error: 'channel_not_found' });
    const failed = queue.post('C1', { text: 'lost' });
    const next = queue.post('C1', { text: 'next' });
    await assert.rejects(
      failed,
      (e: unknown) =>
        e instanceof SlackCallError &&
        e.code === 'channel_not_found' &&
        e.method === 'chat.postMessage',
    );
    await next;
    assert.deepEqual(texts('C1'), ['chat.postMessage lost', 'chat.postMessage next']);
  });

  it('sends ephemeral and direct messages, and keeps to a per-method budget across lanes', async () => {
    queue = new ChannelQueue(slackClient('xoxb-test', slack.url), {
      minIntervalMs: 0,
      perMinute: { 'chat.postEphemeral': 2 },
    });
    await queue.postEphemeral('C1', 'U1', { text: 'only you' });
    const dm = await queue.postDm('U2', { text: 'hello' });
    assert.equal(dm.channel, 'U2');
    assert.equal(slack.calls[0]?.args.user, 'U1');
    await queue.postEphemeral('C2', 'U1', { text: 'second' });
    const third = queue.postEphemeral('C3', 'U1', { text: 'third' });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(slack.calls.filter((c) => c.method === 'chat.postEphemeral').length, 2);
    const abandoned = assert.rejects(third, /stopped/);
    await queue.stop('abandon');
    await abandoned;
  });

  it('drains on stop, then refuses new calls', async () => {
    const pending = [queue.post('C1', { text: 'a' }), queue.post('C1', { text: 'b' })];
    await queue.stop();
    assert.equal(slack.calls.length, 2);
    await Promise.all(pending);
    await assert.rejects(queue.post('C1', { text: 'late' }), /stopped/);
  });
});
