/**
 * The API over what ingestion keeps: alerts (what the caller may view), stored events
 * (administrators only), and silences (approvers of the scope; audited, refusals too).
 * Demo people: alice deployer, bob approver, carol viewer, dave administrator.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { EventEnvelope } from '../src/domain/event-envelope.ts';
import { type Harness, harness } from './support/harness.ts';

const base = JSON.parse(
  readFileSync(
    new URL('./fixtures/ingest/eventbridge-alarm-metric-5xx.json', import.meta.url),
    'utf8',
  ),
) as EventEnvelope;

let n = 0;
function alarm(name: string, state = 'ALARM'): EventEnvelope {
  n += 1;
  const detail = base.detail as Record<string, unknown>;
  return {
    ...base,
    id: `api-${n}`,
    account: '222222222222',
    resources: [`arn:aws:cloudwatch:eu-west-1:222222222222:alarm:${name}`],
    detail: { ...detail, alarmName: name, state: { ...(detail.state as object), value: state } },
  };
}

describe('alerts, events and silences over the API', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
    await h.pipeline.start();
    await h.hook('/hooks/eventbridge', alarm('checkout-api-api-1'));
    await h.pipeline.drain();
  });
  after(() => h.close());

  test('anyone with a view grant lists alerts; without a token it is 401', async () => {
    const res = await h.api('GET', '/api/v1/alerts?service=checkout-api&state=firing', 'carol');
    assert.equal(res.status, 200);
    assert.equal(res.json.alerts[0].facts.title, 'checkout-api-api-1');
    assert.equal((await h.api('GET', '/api/v1/alerts', undefined)).status, 401);
    assert.equal((await h.api('GET', '/api/v1/alerts?state=burning', 'carol')).status, 400);
  });

  test('stored events are for administrators only', async () => {
    assert.equal((await h.api('GET', '/api/v1/events', 'carol')).status, 403);
    const res = await h.api('GET', '/api/v1/events?source=aws.cloudwatch', 'dave');
    assert.equal(res.status, 200);
    const seq = res.json.events[0].seq;
    const one = await h.api('GET', `/api/v1/events/${seq}`, 'dave');
    assert.equal(one.json.event.outcome.routes[0], 'checkout-alarms');
    assert.equal((await h.api('GET', '/api/v1/events/999999', 'dave')).status, 404);
  });

  test('a silence mutes matching alerts (still recorded) until it is ended; both are audited', async () => {
    const created = await h.api('POST', '/api/v1/silences', 'bob', {
      service: 'checkout-api',
      environment: 'prod',
      pattern: { detail: { alarmName: [{ prefix: 'checkout-api-noisy' }] } },
      reason: 'Known noisy during the migration',
      minutes: 60,
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const id = created.json.silence.id as string;
    const shown = h.shown.length;
    await h.hook('/hooks/eventbridge', alarm('checkout-api-noisy-1'));
    await h.pipeline.drain();
    assert.equal(h.shown.length, shown, 'silenced: nothing posted');
    const listed = (await h.api('GET', '/api/v1/alerts?service=checkout-api', 'bob')).json.alerts;
    const a = listed.find(
      (x: { facts: { title: string } }) => x.facts.title === 'checkout-api-noisy-1',
    );
    assert.equal(a.silencedBy, id);
    // Not silenced: a different alarm name.
    await h.hook('/hooks/eventbridge', alarm('checkout-api-other'));
    await h.pipeline.drain();
    assert.equal(h.shown.length, shown + 1);

    const ended = await h.api('POST', `/api/v1/silences/${id}/expire`, 'bob', {});
    assert.equal(ended.status, 200, JSON.stringify(ended.json));
    await h.hook('/hooks/eventbridge', alarm('checkout-api-noisy-2'));
    await h.pipeline.drain();
    assert.equal(h.shown.length, shown + 2, 'the silence no longer applies');
    const audit = (await h.api('GET', `/api/v1/audit?target=${id}`, 'dave')).json.entries;
    assert.deepEqual(
      audit.map((e: { action: string }) => e.action),
      ['silence.created', 'silence.expired'],
    );
    assert.equal((await h.api('POST', `/api/v1/silences/${id}/expire`, 'bob', {})).status, 409);
  });

  test('who may not silence is refused, audited, and nothing changes', async () => {
    const body = { service: 'checkout-api', environment: 'prod', reason: 'x', minutes: 10 };
    const before = (await h.api('GET', '/api/v1/silences', 'alice')).json.silences.length;
    const res = await h.api('POST', '/api/v1/silences', 'carol', body);
    assert.equal(res.status, 403);
    assert.equal(res.json.code, 'FORBIDDEN');
    const everything = await h.api('POST', '/api/v1/silences', 'bob', { ...body, service: '*' });
    assert.equal(everything.status, 403, 'a * scope takes administer');
    assert.equal((await h.api('GET', '/api/v1/silences', 'alice')).json.silences.length, before);
    const refused = (await h.api('GET', '/api/v1/audit?action=silence.create&actor=carol', 'dave'))
      .json.entries;
    assert.equal(refused[0]?.result, 'FORBIDDEN');
  });

  test('bad silences get a clear 4xx', async () => {
    const ok = { service: 'checkout-api', environment: 'prod', reason: 'r', minutes: 10 };
    const cases: [object, number, RegExp][] = [
      [{ ...ok, reason: '   ' }, 422, /reason/],
      [{ ...ok, minutes: 0 }, 400, /minutes/],
      [{ ...ok, minutes: 20_000 }, 400, /minutes/],
      [{ ...ok, service: 'nope' }, 404, /nope/],
      [{ ...ok, environment: 'qa' }, 404, /qa/],
      [{ ...ok, pattern: { source: [{ prefixx: 'a' }] } }, 400, /prefixx/],
      [{ ...ok, extra: 1 }, 400, /extra|Unrecognized/i],
    ];
    for (const [body, status, message] of cases) {
      const res = await h.api('POST', '/api/v1/silences', 'bob', body);
      assert.equal(res.status, status, JSON.stringify(res.json));
      assert.match(res.json.detail, message);
    }
  });
});
