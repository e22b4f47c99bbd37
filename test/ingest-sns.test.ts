/**
 * `/hooks/sns` end to end: signed deliveries (as `test/support/sns.ts` signs them, exactly as
 * AWS does) go through Fastify, the real verifier, the certificate fetched over real TLS from
 * a local host posing as `sns.us-east-1.amazonaws.com`, the journal and the pipeline. Every
 * refusal is checked to store nothing and, where it matters, to fetch nothing. Numbered tests
 * name items of §8 in ../shared/reference/reliability-and-security.md.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { CertificateCache } from '../src/adapters/ingest/sns-verify.ts';
import { loadCatalogOrThrow } from '../src/config/load-catalog.ts';
import type { AlertGroupView } from '../src/domain/alert-model.ts';
import type { Catalog } from '../src/domain/catalog.ts';
import { type Answer, DEMO_DIR, type Harness, harness } from './support/harness.ts';
import {
  type FakeSnsHost,
  type SignedSnsDelivery,
  SNS_TEST,
  signedNotification,
  signedSubscriptionConfirmation,
  snsTestPki,
  startFakeSnsHost,
  tamperedDelivery,
} from './support/sns.ts';

const PROD_ACCOUNT = '222222222222';
const FIXTURE = new URL('./fixtures/ingest/sns-alarm-metric-5xx.json', import.meta.url);

/** The CloudWatch alarm JSON SNS carries in `Message`, from the published-format fixture,
 * renamed and moved to the demo's prod account. `at` is milliseconds since the epoch. */
function alarmMessage(name: string, at: number, state = 'ALARM'): Record<string, unknown> {
  const base = JSON.parse(JSON.parse(readFileSync(FIXTURE, 'utf8')).Message);
  return {
    ...base,
    AlarmName: name,
    AWSAccountId: PROD_ACCOUNT,
    AlarmArn: `arn:aws:cloudwatch:eu-west-1:${PROD_ACCOUNT}:alarm:${name}`,
    NewStateValue: state,
    StateChangeTime: new Date(at).toISOString().replace('Z', '+0000'),
  };
}

/** A catalog that is the demo's plus the kit's topic. */
async function catalogWithTestTopic(): Promise<Catalog> {
  const demo = await loadCatalogOrThrow(DEMO_DIR);
  return { ...demo, snsTopics: [...demo.snsTopics, { arn: SNS_TEST.topicArn }] };
}

const groupsShowing = (h: Harness, title: string) =>
  h.shown.filter(
    (s) =>
      s.kind === 'group' && (s.view as AlertGroupView).alerts.some((a) => a.facts.title === title),
  );

describe('/hooks/sns end to end', () => {
  let host: FakeSnsHost;
  let certs: CertificateCache;
  let h: Harness;
  before(async () => {
    host = await startFakeSnsHost();
    // Short deadline: the slow certificate URL must fail fast; real fetches here take ms.
    certs = host.certificates({ timeoutMs: 300 });
    h = await harness({
      at: Date.now(), // the test certificates are valid from the moment they were made
      catalog: await catalogWithTestTopic(),
      snsCerts: certs,
      snsHttps: host.https,
    });
    await h.pipeline.start();
  });
  after(async () => {
    await h.close();
    await host.close();
  });

  const now = () => h.clock.now();
  const deliver = (d: Pick<SignedSnsDelivery, 'headers' | 'payload'>) =>
    h.hook('/hooks/sns', d.payload, d.headers);
  const notification = (o: { message: string; version?: '1' | '2'; messageId?: string }) =>
    signedNotification({ version: o.version ?? '2', timestamp: now(), ...o });

  /** Runs `fn`, checks its status (and code), and that no event was stored meanwhile. */
  async function storesNothing(fn: () => Promise<Answer>, status: number, code?: string) {
    const count = await h.store.ingest.countEvents();
    const res = await fn();
    assert.equal(res.status, status, JSON.stringify(res.json));
    if (code) assert.equal(res.json.code, code, JSON.stringify(res.json));
    assert.equal(await h.store.ingest.countEvents(), count, 'nothing stored');
    return res;
  }

  test('signed v1 and v2 CloudWatch alarms are stored before the 200, alert checkout-api/prod and are shown once', async () => {
    for (const version of ['1', '2'] as const) {
      const name = `checkout-api-sns-v${version}`;
      const d = notification({ version, message: JSON.stringify(alarmMessage(name, now())) });
      const res = await deliver(d);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(res.json, { accepted: 1, duplicates: 0 });
      const stored = await h.store.ingest.listEvents({ source: 'aws.cloudwatch' });
      const event = stored.find((e) => e.key === `sns:${d.fields.MessageId}`);
      assert.ok(event, 'stored when the 200 arrives, before any drain');
      assert.equal(event.ingest, 'sns');
      assert.equal(event.envelope.account, PROD_ACCOUNT);
      await h.pipeline.drain();
      const alert = (await h.store.ingest.listAlerts({ service: 'checkout-api' })).find(
        (a) => a.facts.title === name,
      );
      assert.ok(alert, `an alert for ${name}`);
      assert.equal(alert.environment, 'prod');
      assert.equal(alert.state, 'firing');
      assert.equal(alert.route, 'checkout-alarms');
      assert.equal(groupsShowing(h, name).length, 1, 'shown once');
    }
  });

  test('§8 29: a SigningCertURL on any non-AWS host form is 403 and is never fetched', async () => {
    const requests = host.requests();
    const fetches = certs.fetches;
    for (const url of [
      'https://evil.example/x.pem',
      'https://sns.us-east-1.amazonaws.com.evil.example/x.pem',
      'http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem',
      'https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem',
      'https://sns.s3-ap-southeast-2.amazonaws.com/x.pem',
      'https://s3.amazonaws.com/bucket/SimpleNotificationService-x.pem',
    ]) {
      const d = signedNotification({
        version: '2',
        timestamp: now(),
        message: 'x',
        signingCertUrl: url,
      });
      const res = await storesNothing(() => deliver(d), 403, 'SIGNATURE_INVALID');
      assert.match(res.json.detail, /SigningCertURL/, url);
    }
    assert.equal(host.requests(), requests, 'the fake SNS host saw no request');
    assert.equal(certs.fetches, fetches);
    assert.deepEqual(
      host.lookups.filter((name) => name !== SNS_TEST.host),
      [],
      'no other host was even looked up',
    );
  });

  test('§8 30: a valid signature from a topic the catalog does not allow is 403 TOPIC_NOT_ALLOWED; nothing fetched or confirmed', async () => {
    const requests = host.requests();
    const confirmations = host.confirmations.length;
    const topicArn = SNS_TEST.attackerTopicArn;
    const n = signedNotification({ version: '2', timestamp: now(), message: 'x', topicArn });
    await storesNothing(() => deliver(n), 403, 'TOPIC_NOT_ALLOWED');
    const c = signedSubscriptionConfirmation({ version: '2', timestamp: now(), topicArn });
    await storesNothing(() => deliver(c), 403, 'TOPIC_NOT_ALLOWED');
    assert.equal(host.requests(), requests, 'no certificate fetched');
    assert.equal(host.confirmations.length, confirmations, 'no confirmation visited');
  });

  test('§8 31: a SubscribeURL on the metadata address or an internal host is refused and never fetched', async () => {
    const requests = host.requests();
    const arn = SNS_TEST.topicArn;
    const q = `?Action=ConfirmSubscription&TopicArn=${arn}&Token=secret-token-123`;
    for (const subscribeUrl of [
      `http://169.254.169.254/latest/meta-data/iam/security-credentials/${q}`,
      `https://169.254.169.254/${q}`,
      `https://internal.corp.example/${q}`,
      `https://localhost/${q}`,
    ]) {
      const d = signedSubscriptionConfirmation({ version: '2', timestamp: now(), subscribeUrl });
      const res = await storesNothing(() => deliver(d), 400, 'INVALID_INPUT');
      assert.match(res.json.detail, /SubscribeURL/);
      assert.doesNotMatch(JSON.stringify(res.json), /secret-token/, 'the token is not echoed');
    }
    assert.equal(host.requests(), requests, 'nothing fetched');
    assert.deepEqual(
      host.lookups.filter((name) => name !== SNS_TEST.host),
      [],
    );
  });

  test('§8 31: a good SubscriptionConfirmation for an allowed topic visits ConfirmSubscription once and answers 200', async () => {
    const before = host.requests('/');
    const d = signedSubscriptionConfirmation({ version: '2', timestamp: now(), token: 'tok-e2e' });
    const res = await storesNothing(() => deliver(d), 200);
    assert.deepEqual(res.json, { confirmed: true });
    assert.equal(host.requests('/') - before, 1, 'visited once');
    assert.match(host.confirmations.at(-1) ?? '', /Action=ConfirmSubscription&.*Token=tok-e2e/);

    host.confirmStatus = 500;
    try {
      const again = signedSubscriptionConfirmation({ version: '2', timestamp: now() });
      await storesNothing(() => deliver(again), 503, 'UPSTREAM_UNAVAILABLE');
    } finally {
      host.confirmStatus = 200;
    }
  });

  test('§8 32: SignatureVersion "3" or missing is refused', async () => {
    const d = notification({ message: 'x' });
    for (const SignatureVersion of ['3', undefined]) {
      const res = await storesNothing(
        () => deliver(tamperedDelivery(d, { SignatureVersion })),
        403,
        'SIGNATURE_INVALID',
      );
      assert.match(res.json.detail, /SignatureVersion/);
    }
  });

  test('§8 33: header says Notification, body says SubscriptionConfirmation: refused', async () => {
    const confirmations = host.confirmations.length;
    const d = signedSubscriptionConfirmation({ version: '2', timestamp: now() });
    const headers = { ...d.headers, 'x-amz-sns-message-type': 'Notification' };
    const res = await storesNothing(
      () => deliver({ headers, payload: d.payload }),
      400,
      'INVALID_INPUT',
    );
    assert.match(res.json.detail, /x-amz-sns-message-type/);
    assert.equal(host.confirmations.length, confirmations);
  });

  test('§8 34: the same MessageId delivered 4 times: every delivery 200, one event, one alert count', async () => {
    const name = 'checkout-api-sns-retried';
    const d = notification({ message: JSON.stringify(alarmMessage(name, now())) });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await deliver(d));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200],
    );
    assert.deepEqual(
      answers.map((a) => a.json),
      [{ accepted: 1, duplicates: 0 }, ...Array(3).fill({ accepted: 0, duplicates: 1 })],
    );
    await h.pipeline.drain();
    const events = await h.store.ingest.listEvents({ source: 'aws.cloudwatch', limit: 500 });
    assert.equal(events.filter((e) => e.key === `sns:${d.fields.MessageId}`).length, 1);
    const alert = (await h.store.ingest.listAlerts({ service: 'checkout-api' })).find(
      (a) => a.facts.title === name,
    );
    assert.equal(alert?.count, 1);
    assert.equal(groupsShowing(h, name).length, 1);
  });

  test('a certificate that cannot be fetched answers 503 so SNS retries; nothing stored', async () => {
    const d = signedNotification({
      version: '2',
      timestamp: now(),
      message: 'x',
      signingCertUrl: SNS_TEST.slowCertUrl,
    });
    const started = Date.now();
    const res = await storesNothing(() => deliver(d), 503, 'UPSTREAM_UNAVAILABLE');
    assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`);
    assert.match(res.json.detail, /retry/);
  });

  test('§8 36: a Lambda-shaped record is 400 with a message that says what it is', async () => {
    const inner = {
      Type: 'Notification',
      MessageId: randomUUID(),
      TopicArn: SNS_TEST.topicArn,
      Subject: 'x',
      Message: 'x',
      Timestamp: new Date(now()).toISOString(),
      SignatureVersion: '1',
      Signature: 'EXAMPLE',
      SigningCertUrl: SNS_TEST.certUrl,
      UnsubscribeUrl: `https://${SNS_TEST.host}/?Action=Unsubscribe`,
      MessageAttributes: {},
    };
    const record = {
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: `${SNS_TEST.topicArn}:${randomUUID()}`,
          Sns: inner,
        },
      ],
    };
    const fetches = certs.fetches;
    const headers = {
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': 'Notification',
    };
    for (const body of [record, inner]) {
      const res = await storesNothing(
        () => deliver({ headers, payload: JSON.stringify(body) }),
        400,
        'INVALID_INPUT',
      );
      assert.match(res.json.detail, /Lambda-shaped/);
    }
    assert.equal(certs.fetches, fetches, 'refused before any fetch');
  });

  test('§8 37: a plain-text Message and a JSON-in-string CloudWatch alarm are both handled', async () => {
    const text = notification({ message: 'nightly-export exited with status 2\nsee the log' });
    assert.equal((await deliver(text)).status, 200);
    const name = 'checkout-api-sns-double-encoded';
    const twice = JSON.stringify(JSON.stringify(alarmMessage(name, now())));
    assert.equal((await deliver(notification({ message: twice }))).status, 200);
    await h.pipeline.drain();

    const [plain] = (await h.store.ingest.listEvents({ source: 'countersign.sns' })).filter(
      (e) => e.key === `sns:${text.fields.MessageId}`,
    );
    assert.equal(
      plain?.envelope.detail.message,
      'nightly-export exited with status 2\nsee the log',
    );
    const withOutcome = await h.store.ingest.getEvent(plain!.seq);
    assert.ok(withOutcome?.outcome, 'processed');
    const alert = (await h.store.ingest.listAlerts({ service: 'checkout-api' })).find(
      (a) => a.facts.title === name,
    );
    assert.equal(alert?.environment, 'prod');
  });

  test('a Timestamp more than an hour old, or ahead, is 400 STALE_MESSAGE', async () => {
    for (const timestamp of [now() - 2 * 60 * 60_000, now() + 10 * 60_000]) {
      const d = signedNotification({ version: '2', timestamp, message: 'x' });
      await storesNothing(() => deliver(d), 400, 'STALE_MESSAGE');
    }
  });

  test('a forged signature (attacker key, genuine SigningCertURL) is 403; nothing stored', async () => {
    const d = signedNotification({
      version: '2',
      timestamp: now(),
      message: JSON.stringify(alarmMessage('checkout-api-forged', now())),
      key: snsTestPki().attackerKey,
    });
    await storesNothing(() => deliver(d), 403, 'SIGNATURE_INVALID');
    const alerts = await h.store.ingest.listAlerts({ service: 'checkout-api' });
    assert.equal(
      alerts.find((a) => a.facts.title === 'checkout-api-forged'),
      undefined,
    );
  });
});

describe('/hooks/sns with the store gone', () => {
  test('§8 35: a verified notification the store cannot take is 5xx, not 4xx', async () => {
    const host = await startFakeSnsHost();
    const h = await harness({
      at: Date.now(),
      catalog: await catalogWithTestTopic(),
      snsCerts: host.certificates(),
      snsHttps: host.https,
    });
    try {
      await h.store.close();
      const d = signedNotification({ version: '2', timestamp: h.clock.now(), message: 'x' });
      const res = await h.hook('/hooks/sns', d.payload, d.headers);
      assert.equal(res.status, 503, JSON.stringify(res.json));
      assert.equal(res.json.code, 'STORE_UNAVAILABLE');
      assert.equal(host.requests('/SimpleNotificationService-test.pem'), 1, 'verified first');
    } finally {
      await h.close().catch(() => undefined);
      await host.close();
    }
  });
});
