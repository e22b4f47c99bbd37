/**
 * The ingest endpoints end to end on the embedded store: each source in its published
 * format, authentication in every form an API destination can send, bad input refused with
 * nothing stored, duplicates recognised, alerts grouped into messages updated in place.
 * Numbered tests name items of §8 in ../shared/reference/reliability-and-security.md.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { AlertGroupView, DigestView } from '../src/domain/alert-model.ts';
import type { EventEnvelope } from '../src/domain/event-envelope.ts';
import { type Answer, type Harness, harness, INGEST_TOKEN } from './support/harness.ts';
import { testPostgres } from './support/postgres.ts';

const FIXTURES = new URL('./fixtures/ingest/', import.meta.url);
const fixture = (name: string) => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));

const PROD_ACCOUNT = '222222222222';
const STAGING_ACCOUNT = '111111111111';

/** A CloudWatch alarm state change as EventBridge delivers it, from the published-format fixture. */
function alarm(o: {
  name: string;
  state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';
  id?: string;
  account?: string;
  at?: string;
}): EventEnvelope {
  const e = fixture('eventbridge-alarm-metric-5xx.json') as EventEnvelope;
  const account = o.account ?? PROD_ACCOUNT;
  const arn = `arn:aws:cloudwatch:eu-west-1:${account}:alarm:${o.name}`;
  const at = o.at ?? '2026-11-25T11:59:00.000+0000';
  const detail = e.detail as Record<string, unknown>;
  return {
    ...e,
    id: o.id ?? `${o.name}-${o.state}-${at}`,
    account,
    resources: [arn],
    time: at.replace('.000+0000', 'Z'),
    detail: {
      ...detail,
      alarmName: o.name,
      state: { ...(detail.state as object), value: o.state, timestamp: at },
    },
  };
}

const groups = (shown: Harness['shown']) =>
  shown.filter((s) => s.kind === 'group') as { id: string; view: AlertGroupView }[];

function suite(name: string, databaseUrl: () => string | undefined) {
  describe(`ingest hooks (${name})`, () => {
    let h: Harness;
    before(async () => {
      const url = databaseUrl();
      h = await harness(url ? { databaseUrl: url } : {});
      await h.pipeline.start();
    });
    after(() => h.close());

    test('a CloudWatch alarm via EventBridge is stored before the 2xx, routed to its service and environment, and shown once', async () => {
      const before = h.shown.length;
      const res = await h.hook(
        '/hooks/eventbridge',
        alarm({ name: 'checkout-api-errors', state: 'ALARM' }),
      );
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(res.json, { accepted: 1, duplicates: 0 });
      await h.pipeline.drain();
      const [a] = await h.store.ingest.listAlerts({ service: 'checkout-api' });
      assert.ok(a);
      assert.equal(a.environment, 'prod', 'resolved from the prod account');
      assert.equal(a.state, 'firing');
      assert.equal(a.route, 'checkout-alarms');
      assert.equal(a.channel, 'C01ALERTS');
      const shown = groups(h.shown.slice(before));
      assert.equal(shown.length, 1);
      assert.equal(shown[0]!.view.service, 'checkout-api');
      assert.equal(shown[0]!.view.firing, 1);
    });

    test("an incident route's alarm is not posted as an alert message: its incident's header shows it", async () => {
      const before = h.shown.length;
      await h.hook('/hooks/eventbridge', alarm({ name: 'checkout-api-5xx', state: 'ALARM' }));
      await h.pipeline.drain();
      const a = (await h.store.ingest.listAlerts({ service: 'checkout-api' })).find(
        (x) => x.facts.title === 'checkout-api-5xx',
      );
      assert.equal(a?.route, 'checkout-5xx', 'a 5xx alarm takes the incident route');
      assert.equal(h.shown.length, before, 'no alert message of its own');
      await h.dispatcher.drain();
      const [incident] = await h.store.listIncidents({ service: 'checkout-api' });
      assert.equal(incident?.origin.kind === 'alert' && incident.origin.alert, 'checkout-api-5xx');
    });

    test('§8 39: the same EventBridge id again is acknowledged and not acted on twice', async () => {
      const e = alarm({ name: 'checkout-api-dup', state: 'ALARM' });
      const first = await h.hook('/hooks/eventbridge', e);
      await h.pipeline.drain();
      const shownAfterFirst = h.shown.length;
      const again = await h.hook('/hooks/eventbridge', e);
      await h.pipeline.drain();
      assert.deepEqual(first.json, { accepted: 1, duplicates: 0 });
      assert.equal(again.status, 200);
      assert.deepEqual(again.json, { accepted: 0, duplicates: 1 });
      assert.equal(h.shown.length, shownAfterFirst, 'no second message');
      const alerts = await h.store.ingest.listAlerts({ service: 'checkout-api' });
      assert.equal(alerts.find((a) => a.facts.title === 'checkout-api-dup')?.count, 1);
    });

    test('OK closes the alert and updates the same message in place', async () => {
      await h.hook('/hooks/eventbridge', alarm({ name: 'checkout-api-latency', state: 'ALARM' }));
      await h.pipeline.drain();
      const opened = groups(h.shown).at(-1)!;
      await h.hook(
        '/hooks/eventbridge',
        alarm({ name: 'checkout-api-latency', state: 'OK', at: '2026-11-25T11:59:30.000+0000' }),
      );
      await h.pipeline.drain();
      const closed = groups(h.shown).at(-1)!;
      assert.equal(closed.id, opened.id, 'the same message');
      assert.equal(closed.view.firing, 0);
      assert.equal(closed.view.alerts[0]!.state, 'resolved');
    });

    test('§8 40: an older state arriving late does not move the alert back', async () => {
      await h.hook(
        '/hooks/eventbridge',
        alarm({ name: 'checkout-api-order', state: 'OK', at: '2026-11-25T11:58:00.000+0000' }),
      );
      await h.hook(
        '/hooks/eventbridge',
        alarm({ name: 'checkout-api-order', state: 'ALARM', at: '2026-11-25T11:57:00.000+0000' }),
      );
      await h.pipeline.drain();
      const a = (await h.store.ingest.listAlerts({ service: 'checkout-api' })).find(
        (x) => x.facts.title === 'checkout-api-order',
      );
      assert.equal(a?.state, 'resolved');
      assert.equal(a?.count, 2);
    });

    test('the environment follows the account the alarm comes from', async () => {
      await h.hook(
        '/hooks/eventbridge',
        alarm({ name: 'checkout-api-staging', state: 'ALARM', account: STAGING_ACCOUNT }),
      );
      await h.pipeline.drain();
      const [a] = await h.store.ingest.listAlerts({
        service: 'checkout-api',
        environment: 'staging',
      });
      assert.equal(a?.facts.title, 'checkout-api-staging');
    });

    test('§8 39: a replayed event is recorded but pages nobody', async () => {
      const before = h.shown.length;
      const e = {
        ...alarm({ name: 'checkout-api-replayed', state: 'ALARM' }),
        'replay-name': 'r1',
      };
      assert.equal((await h.hook('/hooks/eventbridge', e)).status, 200);
      await h.pipeline.drain();
      assert.equal(h.shown.length, before);
      const a = (await h.store.ingest.listAlerts({ service: 'checkout-api' })).find(
        (x) => x.facts.title === 'checkout-api-replayed',
      );
      assert.equal(a?.state, 'firing');
    });

    test('§8 45: an unknown source is stored and acknowledged, and only counted', async () => {
      const e: EventEnvelope = {
        version: '0',
        id: 'unknown-1',
        'detail-type': 'Something Else Happened',
        source: 'com.example.unknown',
        account: PROD_ACCOUNT,
        time: '2026-11-25T11:59:00Z',
        region: 'eu-west-1',
        resources: [],
        detail: { anything: true },
      };
      const res = await h.hook('/hooks/eventbridge', e);
      assert.equal(res.status, 200);
      await h.pipeline.drain();
      const [stored] = await h.store.ingest.listEvents({ source: 'com.example.unknown' });
      assert.ok(stored);
      const withOutcome = await h.store.ingest.getEvent(stored.seq);
      assert.deepEqual(withOutcome?.outcome?.routes, ['unrouted']);
      assert.equal(withOutcome?.outcome?.result, 'not-an-alert');
    });

    test('Alertmanager v4: one event per alert; §8 42 a resend of the same group is not a new page', async () => {
      const body = fixture('alertmanager-firing.json');
      const first = await h.hook('/hooks/alertmanager', body);
      assert.equal(first.status, 200, JSON.stringify(first.json));
      assert.ok(first.json.accepted >= 1);
      await h.pipeline.drain();
      const shown = h.shown.length;
      const again = await h.hook('/hooks/alertmanager', body);
      assert.deepEqual(again.json, { accepted: 0, duplicates: first.json.accepted });
      await h.pipeline.drain();
      assert.equal(h.shown.length, shown);
    });

    test('generic JSON is accepted in its documented shape', async () => {
      const res = await h.hook('/hooks/generic', fixture('generic-firing.json'));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.accepted, 1);
    });
  });
}

suite('sqlite', () => undefined);
const pg = await testPostgres();
after(async () => pg?.cleanup());
describe('on PostgreSQL', { skip: pg ? false : 'no PostgreSQL available' }, () => {
  suite('postgres', () => pg?.url);
});

describe('ingest hooks refuse bad input and store nothing', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(() => h.close());

  const e = () => alarm({ name: 'checkout-api-auth', state: 'ALARM', id: 'auth-1' });

  async function storesNothing(fn: () => Promise<Answer>, status: number) {
    const count = await h.store.ingest.countEvents();
    const res = await fn();
    assert.equal(res.status, status, JSON.stringify(res.json));
    assert.equal(typeof res.json.code, 'string');
    assert.equal(await h.store.ingest.countEvents(), count, 'nothing stored');
    return res;
  }

  test('§8 38: no token, a wrong token, or a token in the wrong place gets 401', async () => {
    for (const path of ['/hooks/eventbridge', '/hooks/alertmanager', '/hooks/generic']) {
      await storesNothing(() => h.hook(path, e(), { authorization: '' }), 401);
      await storesNothing(() => h.hook(path, e(), { authorization: 'Bearer wrong-token' }), 401);
      await storesNothing(() => h.hook(path, e(), { authorization: `Token ${INGEST_TOKEN}` }), 401);
    }
  });

  test('§8 38: the token is accepted as Bearer, as the Basic password, and as x-api-key', async () => {
    const basic = `Basic ${Buffer.from(`eventbridge:${INGEST_TOKEN}`).toString('base64')}`;
    const forms: Record<string, string>[] = [
      { authorization: `Bearer ${INGEST_TOKEN}` },
      { authorization: basic },
      { authorization: '', 'x-api-key': INGEST_TOKEN },
    ];
    for (const [i, headers] of forms.entries()) {
      const res = await h.hook('/hooks/eventbridge', { ...e(), id: `form-${i}` }, headers);
      assert.equal(res.status, 200, JSON.stringify(res.json));
    }
  });

  test('the token never reaches the answer', async () => {
    const res = await h.hook('/hooks/eventbridge', e(), { authorization: 'Bearer not-the-token' });
    assert.doesNotMatch(JSON.stringify(res.json), /not-the-token|cs_ingest/);
  });

  test('malformed JSON gets 400; a wrong content type 415; an oversized body 413', async () => {
    await storesNothing(() => h.hook('/hooks/eventbridge', '{"version":'), 400);
    await storesNothing(
      () => h.hook('/hooks/eventbridge', JSON.stringify(e()), { 'content-type': 'text/xml' }),
      415,
    );
    const big = { ...e(), detail: { blob: 'x'.repeat(1_100_000) } };
    await storesNothing(() => h.hook('/hooks/eventbridge', big), 413);
  });

  test('SNS: a text/plain body that is not JSON gets 400; another content type 415', async () => {
    await storesNothing(
      () => h.hook('/hooks/sns', 'not json', { 'content-type': 'text/plain; charset=UTF-8' }),
      400,
    );
    await storesNothing(
      () => h.hook('/hooks/sns', '{}', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
    );
  });

  test('the API refuses a malformed events or alerts query', async () => {
    assert.equal((await h.api('GET', '/api/v1/events?before=abc', 'dave')).status, 400);
    assert.equal((await h.api('GET', '/api/v1/alerts?limit=0', 'carol')).status, 400);
    assert.equal((await h.api('GET', '/api/v1/alerts?unknown=1', 'carol')).status, 400);
  });

  test('an envelope missing its fields gets 400 naming the field', async () => {
    const { source: _, ...noSource } = e();
    const res = await storesNothing(() => h.hook('/hooks/eventbridge', noSource), 400);
    assert.match(res.json.detail, /source/);
    await storesNothing(() => h.hook('/hooks/alertmanager', { version: '4', alerts: 'x' }), 400);
    await storesNothing(() => h.hook('/hooks/generic', { title: 3 }), 400);
  });
});

describe('a store failure answers 5xx so the sender retries', () => {
  test('§8 35: with the store gone the hook answers 503, not 4xx', async () => {
    const h = await harness();
    try {
      await h.store.close();
      const res = await h.hook(
        '/hooks/eventbridge',
        alarm({ name: 'checkout-api-x', state: 'ALARM' }),
      );
      assert.equal(res.status, 503, JSON.stringify(res.json));
    } finally {
      await h.close().catch(() => undefined);
    }
  });
});

describe('quiet channels', () => {
  test('a storm of 10,000 alarms for one service within 10 s produces at most 20 chat messages, and every alarm is recorded', async () => {
    const h = await harness();
    try {
      await h.pipeline.start();
      const start = h.clock.t;
      const batch = 50;
      for (let i = 0; i < 10_000; i += batch) {
        h.clock.t = start + Math.floor((i / 10_000) * 10_000);
        await Promise.all(
          Array.from({ length: batch }, (_, k) =>
            h.hook(
              '/hooks/eventbridge',
              alarm({ name: `checkout-api-storm-${i + k}`, state: 'ALARM' }),
            ),
          ),
        );
      }
      await h.pipeline.drain();
      const messages = new Set(h.shown.map((s) => s.id));
      assert.ok(messages.size <= 20, `${messages.size} messages`);
      assert.ok(messages.size >= 2, 'the first alarms are posted, then a digest');
      const digest = h.shown.filter((s) => s.kind === 'digest').at(-1)?.view as DigestView;
      assert.ok(digest, 'a digest');
      const posted = new Set(groups(h.shown).map((g) => g.id)).size;
      assert.equal(digest.total, 10_000 - posted, 'the digest counts every alarm it folded');
      assert.equal(await h.store.ingest.countEvents(), 10_000);
      assert.equal(await h.store.ingest.countAlerts({ service: 'checkout-api' }), 10_000);
    } finally {
      await h.close();
    }
  });
});
