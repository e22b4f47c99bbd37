/**
 * Slack over Socket Mode, end to end over real sockets: the app (`mountSlack` with an
 * app-level token, on the harness's store, catalog and executor) calls `apps.connections.open`
 * on the fake Web API, connects to the fake Socket Mode server (test/support/slack-socket.ts)
 * through `@slack/socket-mode`'s real client, and gets envelopes as Slack sends them. The
 * last tests run the real server process with SLACK_APP_TOKEN.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../src/adapters/logger.ts';
import { allNotifiers, type MountedSlack, mountSlack } from '../src/adapters/slack/mount-slack.ts';
import { DEMO_DIR, type Harness, harness } from './support/harness.ts';
import { killAllServers, startServerProcess } from './support/server-process.ts';
import { type FakeSlack, SLACK_TEST, startFakeSlack } from './support/slack.ts';
import {
  eventsApiPayload,
  type FakeSocketMode,
  interactivePayload,
  type SocketAck,
  slashCommandPayload,
  startFakeSocketMode,
  waitFor,
} from './support/slack-socket.ts';

const APP_TOKEN = 'xapp-1-A0COUNTER-1700000000000-0123456789abcdef0123456789abcdef';
const APPROVALS = 'C01APPROVALS';
/** The client's heartbeat in these tests, in ms: also how long it waits before reconnecting. */
const PING_MS = 300;

interface Ctx {
  h: Harness;
  slack: FakeSlack;
  socket: FakeSocketMode;
  mounted: MountedSlack;
  /** The app's log lines (pino JSON), parsed. */
  logs: Record<string, unknown>[];
  stopped: boolean;
}

/** Log lines land in `logs`, so connection states can be asserted. */
function capture(logs: Record<string, unknown>[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
}

async function mountOverSocket(
  h: Harness,
  slack: FakeSlack,
  appToken: string,
  logs: Record<string, unknown>[],
): Promise<MountedSlack> {
  const mounted = mountSlack(
    h.app,
    h.deps,
    {
      botToken: SLACK_TEST.botToken,
      appToken,
      apiUrl: slack.apiUrl,
      bodyLimit: 1_048_576,
      minIntervalMs: 0,
      socketPingMs: PING_MS,
    },
    createLogger('info', capture(logs)),
  );
  h.deps.notifier = allNotifiers(h.deps.notifier, mounted.notifier);
  return mounted;
}

/** A harness with Slack mounted over Socket Mode and started, for the enclosing describe. */
function useSocketSlack(): Ctx {
  const ctx = { logs: [], stopped: false } as unknown as Ctx;
  before(async () => {
    ctx.slack = await startFakeSlack();
    ctx.socket = await startFakeSocketMode({ appToken: APP_TOKEN });
    ctx.slack.onConnectionsOpen((token) => ctx.socket.connectionsOpen(token));
    ctx.h = await harness();
    ctx.mounted = await mountOverSocket(ctx.h, ctx.slack, APP_TOKEN, ctx.logs);
    await ctx.mounted.start();
  });
  after(async () => {
    if (!ctx.stopped) await ctx.mounted?.stop();
    await ctx.h?.close();
    await ctx.socket?.close();
    await ctx.slack?.close();
  });
  return ctx;
}

const logged = (ctx: Ctx, msg: string) => ctx.logs.filter((l) => l.msg === msg);

describe('Slack over Socket Mode: the demo flow', () => {
  const ctx = useSocketSlack();
  let n = 0;

  /** A slash command over the socket: its ack, how long it took, and the respond() reply. */
  const slash = async (user: string, text: string, extra: { triggerId?: string } = {}) => {
    const id = `s${++n}`;
    const started = Date.now();
    const payload = slashCommandPayload({
      text,
      userId: user,
      responseUrl: ctx.slack.responseUrl(id),
      ...extra,
    });
    const ack = await ctx.socket.send('slash_commands', payload);
    return { ack, ms: ack.at - started, reply: () => replyTo(id), id, payload };
  };
  const click = async (user: string, actionId: string, value: string) => {
    const id = `c${++n}`;
    const payload = interactivePayload({
      actionId,
      value,
      userId: user,
      channelId: APPROVALS,
      responseUrl: ctx.slack.responseUrl(id),
    });
    const ack = await ctx.socket.send('interactive', payload);
    return { ack, reply: () => replyTo(id) };
  };
  const replyTo = (id: string) =>
    waitFor(`reply ${id}`, () => {
      const r = ctx.slack.responses.find((x) => x.id === id);
      return r ? { ...(r.body as { text: string }), at: r.at } : undefined;
    });
  const promptButtons = (call: { params: Record<string, unknown> }) => {
    const blocks = call.params.blocks as {
      type: string;
      elements?: { action_id: string; value: string }[];
    }[];
    return blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
  };
  const byCommand = async (command: string) =>
    (await ctx.h.store.listRequests({ limit: 100 })).filter((r) => r.command === command);

  it('connects with the app token (apps.connections.open, then hello); /slack/events is not mounted', async () => {
    const opens = ctx.slack.callsTo('apps.connections.open');
    assert.equal(opens.length, 1);
    assert.equal(opens[0]!.token, APP_TOKEN, 'the app-level token, as a bearer token');
    assert.equal(ctx.socket.connections.length, 1);
    assert.equal(ctx.mounted.transport, 'socket');
    assert.equal(ctx.mounted.socketState(), 'connected');
    assert.equal(logged(ctx, 'slack socket connected').length, 1);
    const res = await ctx.h.app.inject({ method: 'POST', url: '/slack/events', payload: '{}' });
    assert.equal(res.statusCode, 404);
  });

  it('alice requests a prod deploy over the socket; acked before the work, the prompt goes to the approvals channel', async () => {
    const res = await slash(
      'U01ALICE',
      'deploy checkout-api prod version=1.4.2 ticket=CHG-1 reason="ship the fix"',
    );
    assert.ok(res.ms < 3000, `acked in ${res.ms} ms`);
    assert.deepEqual(res.ack.payload ?? {}, {}, 'an empty ack: the answer comes by respond()');
    const reply = await res.reply();
    assert.match(reply.text, /pending/);
    assert.match(reply.text, /<#C01APPROVALS>/);
    assert.ok(res.ack.at <= reply.at, 'the ack went out before the answer');
    await ctx.h.dispatcher.drain();
    const posts = ctx.slack.callsTo('chat.postMessage');
    assert.equal(posts.length, 1);
    assert.equal(posts[0]!.params.channel, APPROVALS);
    assert.equal(posts[0]!.token, SLACK_TEST.botToken, 'Web API calls carry the bot token');
    assert.deepEqual(
      promptButtons(posts[0]!)
        .map((b) => b.action_id)
        .sort(),
      ['cs_approve', 'cs_deny'],
    );
    const [r] = await byCommand('deploy');
    assert.equal(r?.surface, 'slack');
    assert.equal(r?.requester, 'alice');
  });

  it("alice's own Approve is refused and audited; nothing changes", async () => {
    const [r] = await byCommand('deploy');
    const approve = promptButtons(ctx.slack.callsTo('chat.postMessage')[0]!).find(
      (b) => b.action_id === 'cs_approve',
    )!;
    const res = await click('U01ALICE', 'cs_approve', approve.value);
    assert.match((await res.reply()).text, /someone else/i);
    assert.equal((await ctx.h.store.getRequest(r!.id))?.state, 'pending');
    const audit = await ctx.h.store.queryAudit({ target: r!.id, action: 'approval.given.refused' });
    assert.deepEqual(
      audit.map((e) => [e.actor, e.result]),
      [['alice', 'SELF_APPROVAL']],
    );
  });

  it("bob's Approve runs it; the prompt is updated in place and the result lands in its thread", async () => {
    const [r] = await byCommand('deploy');
    const approve = promptButtons(ctx.slack.callsTo('chat.postMessage')[0]!).find(
      (b) => b.action_id === 'cs_approve',
    )!;
    await click('U01BOB', 'cs_approve', approve.value);
    await waitFor(
      'approval',
      async () => (await ctx.h.store.getRequest(r!.id))?.state !== 'pending',
    );
    await ctx.h.dispatcher.drain();
    await waitFor(
      'succeeded',
      async () => (await ctx.h.store.getRequest(r!.id))?.state === 'succeeded',
    );
    await ctx.h.dispatcher.drain();
    const promptTs = ctx.slack.messages(APPROVALS).find((m) => !m.thread_ts)!.ts;
    const updates = ctx.slack.callsTo('chat.update').filter((c) => c.params.ts === promptTs);
    assert.ok(updates.length >= 1, 'the prompt was updated in place');
    assert.deepEqual(promptButtons(updates.at(-1)!), [], 'no buttons once decided');
    assert.match(JSON.stringify(updates.at(-1)!.params.blocks), /succeeded/i);
    const replies = ctx.slack.messages(APPROVALS).filter((m) => m.thread_ts === promptTs);
    assert.equal(replies.length, 1, 'one result reply in the thread');
    assert.match(JSON.stringify(replies[0]), /1\.4\.2/);
    const actions = (await ctx.h.store.queryAudit({ target: r!.id })).map(
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

  it('an unknown Slack user is refused in the ack, and the attempt is audited', async () => {
    const res = await slash('U0STRANGER', 'status checkout-api prod');
    assert.match(String(res.ack.payload?.text), /don't know you/);
    assert.equal(res.ack.payload?.response_type, 'ephemeral');
    const audit = await ctx.h.store.queryAudit({ actor: 'unknown:slack:U0STRANGER' });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.result, 'UNKNOWN_PERSON');
  });

  it('a redelivered slash command (same payload, new envelope) is acked and acted on once', async () => {
    const first = await slash('U01ALICE', 'scale checkout-api prod replicas=6 ticket=CHG-2');
    await first.reply();
    const again = await ctx.socket.send('slash_commands', first.payload);
    assert.notEqual(again.envelope_id, first.ack.envelope_id);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await byCommand('scale')).length, 1, 'one request');
    assert.equal(ctx.slack.responses.filter((x) => x.id === first.id).length, 1, 'one answer');
  });

  it('a redelivered Events API envelope (retry_attempt 1) is acked and acted on once', async () => {
    const payload = eventsApiPayload({
      eventId: 'Ev0SOCKETHOME1',
      event: { type: 'app_home_opened', user: 'U01BOB', channel: 'D01BOB', tab: 'home' },
    });
    const published = () => ctx.slack.callsTo('views.publish').length;
    const before = published();
    await ctx.socket.send('events_api', payload);
    await waitFor('views.publish', () => published() > before);
    const retry = await ctx.socket.send('events_api', payload, {
      retryAttempt: 1,
      retryReason: 'timeout',
    });
    assert.ok(retry);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(published(), before + 1, 'App Home published once');
  });

  it('malformed messages are ignored without crashing; the socket keeps working', async () => {
    const connections = ctx.socket.connections.length;
    ctx.socket.sendRaw('{"envelope_id":"e-cut","type":"slash_commands","payload":{');
    ctx.socket.sendRaw('[1,2,3]');
    // The library reads payload.event.type of an events_api envelope without checking it.
    ctx.socket.sendRaw(
      JSON.stringify({ envelope_id: 'e-noevent', type: 'events_api', payload: {} }),
    );
    const odd = await ctx.socket.send('interactive', 'not an object');
    assert.ok(odd, 'an envelope of no known shape is acked, so Slack stops sending it');
    const help = await slash('U01CAROL', 'help');
    assert.match(JSON.stringify(help.ack.payload), /status/);
    assert.equal(ctx.socket.connections.length, connections, 'no reconnect was needed');
    assert.equal(ctx.mounted.socketState(), 'connected');
    assert.ok(logged(ctx, 'slack socket message is not a JSON object; ignored').length >= 2);
  });

  it('disconnect refresh_requested: reconnects with a fresh URL and keeps working', async () => {
    const before = ctx.socket.connections.length;
    const opens = ctx.slack.callsTo('apps.connections.open').length;
    ctx.socket.disconnect('refresh_requested');
    const old = ctx.socket.connections[before - 1]!;
    assert.equal((await old.closed).code, 1000, 'the app closed the old socket normally');
    const next = await ctx.socket.connection(before + 1);
    assert.notEqual(next.ticket, old.ticket);
    assert.equal(ctx.slack.callsTo('apps.connections.open').length, opens + 1);
    await waitFor('connected', () => ctx.mounted.socketState() === 'connected');
    const help = await slash('U01CAROL', 'help');
    assert.equal(help.ack.connection, next.id, 'acked on the new connection');
    assert.match(JSON.stringify(help.ack.payload), /status/);
    const asked = logged(ctx, 'slack asked to reconnect');
    assert.equal(asked.at(-1)?.reason, 'refresh_requested');
  });

  it('a dropped socket: reconnects and keeps working', async () => {
    const before = ctx.socket.connections.length;
    ctx.socket.drop();
    await waitFor('reconnecting', () => ctx.mounted.socketState() !== 'connected', 2000).catch(
      () => undefined, // It may already be back.
    );
    const next = await ctx.socket.connection(before + 1);
    await waitFor('connected', () => ctx.mounted.socketState() === 'connected');
    const res = await slash('U01CAROL', 'status checkout-api prod');
    assert.equal(res.ack.connection, next.id);
    assert.match((await res.reply()).text, /1\.4\.2/);
    assert.ok(logged(ctx, 'slack socket closed; reconnecting').length >= 2);
    assert.ok(logged(ctx, 'slack socket connected').length >= 3);
  });

  it('every envelope sent was acked exactly once', () => {
    const counts = new Map<string, number>();
    for (const a of ctx.socket.acks)
      counts.set(a.envelope_id, (counts.get(a.envelope_id) ?? 0) + 1);
    assert.ok(ctx.socket.sent.length >= 10);
    for (const e of ctx.socket.sent) {
      assert.equal(counts.get(e.envelope_id), 1, `${e.type} ${e.envelope_id}`);
    }
    assert.deepEqual(ctx.socket.other, [], 'nothing but acks was sent');
  });

  it('stop() closes the socket normally and does not reconnect', async () => {
    const last = ctx.socket.connections.at(-1)!;
    await ctx.mounted.stop();
    ctx.stopped = true;
    assert.equal((await last.closed).code, 1000);
    assert.equal(ctx.mounted.socketState(), 'disconnected');
    const count = ctx.socket.connections.length;
    await new Promise((r) => setTimeout(r, PING_MS * 3));
    assert.equal(ctx.socket.connections.length, count, 'no new connection');
  });
});

describe('Slack over Socket Mode: start-up', () => {
  let slack: FakeSlack;
  let socket: FakeSocketMode;
  let dataDir: string;
  before(async () => {
    slack = await startFakeSlack();
    socket = await startFakeSocketMode({ appToken: APP_TOKEN });
    slack.onConnectionsOpen((token) => socket.connectionsOpen(token));
    dataDir = mkdtempSync(join(tmpdir(), 'countersign-socket-'));
  });
  after(async () => {
    killAllServers();
    await socket?.close();
    await slack?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const serverEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(COUNTERSIGN_|SLACK_)/.test(k) && k !== 'DATABASE_URL') env[k] = v;
    }
    return {
      ...env,
      COUNTERSIGN_CONFIG: DEMO_DIR,
      COUNTERSIGN_DATA: dataDir,
      LOG_LEVEL: 'info',
      SLACK_BOT_TOKEN: SLACK_TEST.botToken,
      SLACK_API_URL: slack.apiUrl,
      ...extra,
    };
  };
  /** Runs the server process expecting it to stop at start-up; its exit code and stderr. */
  const failedStart = async (extra: Record<string, string>) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: join(import.meta.dirname, '..'),
      env: serverEnv({ PORT: '0', ...extra }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    return { code, stderr };
  };

  it('a refused app token fails start with a message naming the reason', async () => {
    const logs: Record<string, unknown>[] = [];
    const h = await harness();
    try {
      const mounted = await mountOverSocket(h, slack, 'xapp-1-A0COUNTER-1-0000000000', logs);
      await assert.rejects(mounted.start(), (e: Error) => {
        assert.equal((e as Error & { code?: string }).code, 'SLACK_SOCKET_REFUSED');
        assert.match(e.message, /invalid_auth/);
        assert.match(e.message, /connections:write/);
        assert.doesNotMatch(e.message, /xapp-/, 'the token is not echoed');
        return true;
      });
      assert.equal(mounted.socketState(), 'failed');
      await mounted.stop();
    } finally {
      await h.close();
    }
  });

  it('the server refuses to start with a refused or malformed SLACK_APP_TOKEN, naming it', async () => {
    const refused = await failedStart({ SLACK_APP_TOKEN: 'xapp-1-A0COUNTER-1-0000000000' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /SLACK_APP_TOKEN: Slack refused .*\(invalid_auth\)/);
    const malformed = await failedStart({ SLACK_APP_TOKEN: SLACK_TEST.botToken });
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /SLACK_APP_TOKEN: must be an app-level token \(xapp-/);
    assert.doesNotMatch(malformed.stderr, /xoxb-test-token/);
  });

  it('the real server runs Slack over Socket Mode without a signing secret', async () => {
    const before = socket.connections.length;
    const server = await startServerProcess((port) =>
      serverEnv({ PORT: String(port), HOST: '127.0.0.1', SLACK_APP_TOKEN: APP_TOKEN }),
    );
    try {
      const connection = await socket.connection(before + 1);
      const ack: SocketAck = await socket.send(
        'slash_commands',
        slashCommandPayload({ text: 'help', userId: 'U01ALICE' }),
      );
      assert.equal(ack.connection, connection.id);
      assert.match(JSON.stringify(ack.payload), /deploy/);
      const res = await fetch(`${server.url}/slack/events`, { method: 'POST', body: '{}' });
      assert.equal(res.status, 404, '/slack/events is not mounted in Socket Mode');
      assert.match(server.stdout(), /"transport":"socket"/);
      assert.match(server.stdout(), /slack socket connected/);
    } finally {
      await server.kill();
    }
  });
});
