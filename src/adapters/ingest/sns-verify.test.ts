/**
 * SNS HTTP/S delivery verification against a local HTTPS server posing as
 * `sns.us-east-1.amazonaws.com` (`test/support/sns.ts`). Tests covering an item of the fault
 * catalogue (`reliability-and-security.md` §8 29–37) carry its number; §8 34 (dedupe) and
 * §8 35 (5xx on a store failure) belong to the route.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type FakeSnsHost,
  parseHttpSample,
  type SignedSnsDelivery,
  SNS_TEST,
  signedNotification,
  signedSubscriptionConfirmation,
  signedUnsubscribeConfirmation,
  snsTestPki,
  startFakeSnsHost,
  tamperedDelivery,
} from '../../../test/support/sns.ts';
import { DomainError, type ErrorCode } from '../../domain/errors.ts';
import { parseSnsDelivery, parseSnsMessage, type SnsMessage } from './sns-message.ts';
import {
  CertificateCache,
  CertificateUnavailableError,
  checkCertUrl,
  checkSubscribeUrl,
  confirmSubscription,
  isTopicAllowed,
  stringToSign,
  verifySnsDelivery,
} from './sns-verify.ts';

const SAMPLES = resolve(import.meta.dirname, '../../../../shared/fixtures/published-samples');
const HAVE_SAMPLES = existsSync(SAMPLES);
const NO_SAMPLES = HAVE_SAMPLES ? false : `published samples absent (${SAMPLES})`;
if (!HAVE_SAMPLES) console.log(`# skipping published-sample tests: ${SAMPLES} is absent`);

let sns: FakeSnsHost;
before(async () => {
  sns = await startFakeSnsHost();
});
after(() => sns.close());

const allowed = [SNS_TEST.topicArn];

function verify(
  d: Pick<SignedSnsDelivery, 'headers' | 'payload'>,
  o: { certs?: CertificateCache; now?: number; allowedTopics?: string[] } = {},
): Promise<SnsMessage> {
  return verifySnsDelivery(d.payload, d.headers, {
    certs: o.certs ?? sns.certificates(),
    now: o.now ?? Date.now(),
    allowedTopics: o.allowedTopics ?? allowed,
  });
}

function refusedWith(code: ErrorCode, pattern?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof DomainError, `expected a DomainError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

test('v1 (SHA1withRSA) and v2 (SHA256withRSA) notifications both verify', async () => {
  for (const version of ['1', '2'] as const) {
    const d = signedNotification({ version, message: 'disk full', subject: 'Alarm' });
    const msg = await verify(d);
    assert.equal(msg.Type, 'Notification');
    assert.equal(msg.Message, 'disk full');
  }
});

test('subscription and unsubscribe confirmations verify with their own string-to-sign', async () => {
  for (const build of [signedSubscriptionConfirmation, signedUnsubscribeConfirmation]) {
    for (const version of ['1', '2'] as const) {
      const msg = await verify(build({ version }));
      assert.notEqual(msg.Type, 'Notification');
    }
  }
});

test('§8 29: a SigningCertURL on a non-AWS host is refused without fetching', async () => {
  const bad = [
    'https://evil.example/x.pem',
    'https://sns.us-east-1.amazonaws.com.evil.example/x.pem',
    'http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem',
    'https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem',
    'https://sns.s3-ap-southeast-2.amazonaws.com/x.pem',
    'https://s3.amazonaws.com/bucket/SimpleNotificationService-x.pem',
    'https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-test.pem',
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.txt',
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem?x=1',
    'https://sns.us-east-1.amazonaws.com/a/SimpleNotificationService-test.pem',
    'https://sns.us-east-1.amazonaws.com\\@evil.example/x.pem',
    'https://sns-fips.us-east-1.amazonaws.com/x.pem',
    'https://sns.cn-north-1.amazonaws.com/x.pem',
    'https://sns.us-east-1.amazonaws.com.cn/x.pem',
    'https://52.94.0.1/x.pem',
    'https://sns.us-east-1.amazonaws.com./x.pem',
    'SimpleNotificationService-test.pem',
  ];
  const certs = sns.certificates();
  for (const url of bad) {
    assert.equal(checkCertUrl(url).ok, false, url);
    const d = signedNotification({ version: '2', message: 'x', signingCertUrl: url });
    await assert.rejects(verify(d, { certs }), refusedWith('SIGNATURE_INVALID', /SigningCertURL/));
    await assert.rejects(certs.get(url), refusedWith('SIGNATURE_INVALID'), url);
  }
  assert.equal(certs.fetches, 0);
  assert.deepEqual(
    sns.lookups.filter((h) => h !== SNS_TEST.host),
    [],
  );
});

test('§8 29: the SNS endpoints of every partition are accepted', () => {
  for (const url of [
    SNS_TEST.certUrl,
    'https://sns.us-east-1.amazonaws.com:443/SimpleNotificationService-0123abcd.pem',
    'https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-0123abcd.pem',
    'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-0123abcd.pem',
    'https://sns.ap-southeast-2.amazonaws.com/SimpleNotificationService-0123abcd.pem',
  ]) {
    assert.equal(checkCertUrl(url).ok, true, url);
  }
});

test('§8 30: a valid signature from an unexpected TopicArn is refused before any fetch', async () => {
  const certs = sns.certificates();
  const before = sns.requests();
  const notification = signedNotification({
    version: '2',
    message: 'x',
    topicArn: SNS_TEST.attackerTopicArn,
  });
  await assert.rejects(verify(notification, { certs }), refusedWith('TOPIC_NOT_ALLOWED'));
  const confirm = signedSubscriptionConfirmation({
    version: '2',
    topicArn: SNS_TEST.attackerTopicArn,
  });
  await assert.rejects(verify(confirm, { certs }), refusedWith('TOPIC_NOT_ALLOWED'));
  await assert.rejects(
    verify(signedNotification({ version: '2', message: 'x' }), { certs, allowedTopics: [] }),
    refusedWith('TOPIC_NOT_ALLOWED'),
  );
  assert.equal(certs.fetches, 0);
  assert.equal(sns.requests(), before);
  assert.deepEqual(sns.confirmations, []);
});

test('§8 30: the topic allowlist matches exact ARNs only; wildcards match nothing', () => {
  assert.equal(isTopicAllowed(SNS_TEST.topicArn, [SNS_TEST.topicArn]), true);
  assert.equal(isTopicAllowed(SNS_TEST.topicArn, ['arn:aws:sns:us-east-1:123456789012:*']), false);
  assert.equal(isTopicAllowed(SNS_TEST.topicArn, ['*']), false);
  assert.equal(isTopicAllowed(SNS_TEST.topicArn, [SNS_TEST.topicArn.toUpperCase()]), false);
  assert.equal(isTopicAllowed(SNS_TEST.topicArn, []), false);
});

test('§8 31: a SubscribeURL pointing anywhere but SNS is refused and never fetched', async () => {
  const arn = SNS_TEST.topicArn;
  const q = `?Action=ConfirmSubscription&TopicArn=${arn}&Token=secret-token-123`;
  const bad = [
    `http://169.254.169.254/latest/meta-data/iam/security-credentials/${q}`,
    `https://169.254.169.254/${q}`,
    `https://[fd00:ec2::254]/${q}`,
    `https://internal.corp.example/${q}`,
    `https://localhost/${q}`,
    `http://sns.us-east-1.amazonaws.com/${q}`,
    `https://user:pw@sns.us-east-1.amazonaws.com/${q}`,
    `https://sns.us-east-1.amazonaws.com:8443/${q}`,
    `https://sns.us-west-2.amazonaws.com/${q}`,
    `https://sns.us-east-1.amazonaws.com/other${q}`,
    `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&TopicArn=${arn}&Token=secret-token-123`,
    `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Action=Unsubscribe&TopicArn=${arn}&Token=secret-token-123`,
    `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${SNS_TEST.attackerTopicArn}&Token=secret-token-123`,
    `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${arn}`,
  ];
  const certs = sns.certificates();
  for (const url of bad) {
    const checked = checkSubscribeUrl(url, arn);
    assert.equal(checked.ok, false, url);
    if (!checked.ok) assert.doesNotMatch(checked.error.message, /secret-token/);
    await assert.rejects(confirmSubscription(url, arn, sns.https), refusedWith('INVALID_INPUT'));
    const d = signedSubscriptionConfirmation({ version: '2', subscribeUrl: url });
    await assert.rejects(verify(d, { certs }), refusedWith('INVALID_INPUT', /SubscribeURL/));
  }
  assert.equal(certs.fetches, 0);
  assert.deepEqual(
    sns.lookups.filter((h) => h !== SNS_TEST.host),
    [],
  );
  assert.deepEqual(sns.confirmations, []);
});

test('§8 31: a verified SubscriptionConfirmation is confirmed over HTTPS; a non-200 is false', async () => {
  const d = signedSubscriptionConfirmation({ version: '2', token: 'tok-1' });
  const msg = await verify(d);
  assert.ok(msg.Type === 'SubscriptionConfirmation');
  assert.equal(await confirmSubscription(msg.SubscribeURL, msg.TopicArn, sns.https), true);
  assert.match(sns.confirmations.at(-1) ?? '', /Action=ConfirmSubscription&.*Token=tok-1/);
  sns.confirmStatus = 500;
  try {
    assert.equal(await confirmSubscription(msg.SubscribeURL, msg.TopicArn, sns.https), false);
  } finally {
    sns.confirmStatus = 200;
  }
  const untrusted = { ...sns.https, ca: snsTestPki().attackerCertPem };
  assert.equal(await confirmSubscription(msg.SubscribeURL, msg.TopicArn, untrusted), false);
});

test('§8 32: SignatureVersion "3" or missing is refused; "1" and "2" are accepted', async () => {
  const d = signedNotification({ version: '2', message: 'x' });
  for (const version of ['3', '0', 'v2', '', 2] as unknown[]) {
    await assert.rejects(
      verify(tamperedDelivery(d, { SignatureVersion: version })),
      refusedWith(typeof version === 'string' ? 'SIGNATURE_INVALID' : 'INVALID_INPUT'),
    );
  }
  await assert.rejects(
    verify(tamperedDelivery(d, { SignatureVersion: undefined })),
    refusedWith('SIGNATURE_INVALID', /SignatureVersion is missing/),
  );
  // A v2 signature relabelled v1 is checked as SHA1withRSA and fails.
  await assert.rejects(
    verify(tamperedDelivery(d, { SignatureVersion: '1' })),
    refusedWith('SIGNATURE_INVALID'),
  );
  assert.equal((await verify(d)).SignatureVersion, '2');
  assert.equal(
    (await verify(signedNotification({ version: '1', message: 'x' }))).SignatureVersion,
    '1',
  );
});

test('§8 33: an x-amz-sns-message-type header that differs from the body Type is refused', async () => {
  const d = signedSubscriptionConfirmation({ version: '2' });
  const headers = { ...d.headers, 'x-amz-sns-message-type': 'Notification' };
  await assert.rejects(
    verify({ headers, payload: d.payload }),
    refusedWith('INVALID_INPUT', /does not match/),
  );
  const { 'x-amz-sns-message-type': _, ...none } = d.headers;
  await assert.rejects(
    verify({ headers: none, payload: d.payload }),
    refusedWith('INVALID_INPUT', /missing/),
  );
  const twice = {
    ...d.headers,
    'x-amz-sns-message-type': ['SubscriptionConfirmation', 'SubscriptionConfirmation'],
  };
  assert.throws(() => parseSnsDelivery(d.payload, twice), refusedWith('INVALID_INPUT', /repeated/));
  const otherTopic = { ...d.headers, 'x-amz-sns-topic-arn': SNS_TEST.attackerTopicArn };
  assert.throws(() => parseSnsDelivery(d.payload, otherTopic), refusedWith('INVALID_INPUT'));
  // Header names are case-insensitive.
  const mixed = { 'X-Amz-Sns-Message-Type': 'SubscriptionConfirmation' };
  assert.equal(parseSnsDelivery(d.payload, mixed).Type, 'SubscriptionConfirmation');
});

test('§8 36: a Lambda-shaped SNS record is refused explicitly, not as a missing field', () => {
  const record = {
    EventSource: 'aws:sns',
    EventVersion: '1.0',
    EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:x:1',
    Sns: { Type: 'Notification', SigningCertUrl: SNS_TEST.certUrl },
  };
  const bodies: unknown[] = [
    { Records: [record] },
    record,
    {
      ...signedNotification({ version: '1', message: 'x' }).fields,
      SigningCertURL: undefined,
      SigningCertUrl: SNS_TEST.certUrl,
    },
  ];
  const fixture = join(SAMPLES, 'lambda-event-cloudwatch-alarm-sns-payload-single-metric.json');
  if (existsSync(fixture)) bodies.push(readFileSync(fixture, 'utf8'));
  for (const body of bodies) {
    assert.throws(
      () => parseSnsDelivery(body, { 'x-amz-sns-message-type': 'Notification' }),
      refusedWith('INVALID_INPUT', /Lambda-shaped/),
    );
  }
});

test('§8 37: a plain-text Message and a JSON-string Message both verify, kept verbatim', async () => {
  const alarm = JSON.stringify({
    AlarmName: 'api-5xx <!channel>',
    NewStateValue: 'ALARM',
    NewStateReason: 'Threshold Crossed: 1 datapoint [12.0 (06/03/15 17:43:27)]\n"quoted"',
    Trigger: { MetricName: '5XXError', Threshold: 0.0 },
  });
  for (const message of ['CPU above 90% on i-0abc\nsecond line — ünïcødé 🚨', alarm]) {
    const msg = await verify(
      signedNotification({ version: '2', message, subject: 'ALARM: "api-5xx"' }),
    );
    assert.equal(msg.Message, message);
  }
});

test('§8 37: the documented object-form Message parses as an object but cannot be verified', async () => {
  const d = signedNotification({ version: '2', message: '{"configRuleName":"x"}' });
  const objectForm = tamperedDelivery(d, { Message: { configRuleName: 'x' } });
  const parsed = parseSnsMessage(objectForm.payload);
  assert.deepEqual(parsed.Message, { configRuleName: 'x' });
  await assert.rejects(verify(objectForm), refusedWith('SIGNATURE_INVALID', /JSON object/));
});

test('a forged signature (attacker key, genuine SigningCertURL) is refused', async () => {
  const d = signedNotification({ version: '2', message: 'x', key: snsTestPki().attackerKey });
  await assert.rejects(verify(d), refusedWith('SIGNATURE_INVALID', /does not match/));
});

test('a tampered Message, Subject, MessageId, Timestamp, Token or SubscribeURL is refused', async () => {
  const n = signedNotification({ version: '1', message: 'restart api', subject: 'ok' });
  const c = signedSubscriptionConfirmation({ version: '2', token: 'aaaa' });
  const stillFresh = new Date(Date.now() - 1000).toISOString();
  const subscribeUrl = String(c.fields.SubscribeURL).replace('aaaa', 'bbbb');
  for (const d of [
    tamperedDelivery(n, { Message: 'restart db' }),
    tamperedDelivery(n, { Subject: 'OK' }),
    tamperedDelivery(n, { Subject: undefined }),
    tamperedDelivery(n, { MessageId: 'another-id' }),
    tamperedDelivery(n, { Timestamp: stillFresh }),
    tamperedDelivery(c, { Token: 'bbbb' }),
    tamperedDelivery(c, { SubscribeURL: subscribeUrl }),
    tamperedDelivery(n, { Signature: Buffer.alloc(256, 1).toString('base64') }),
    tamperedDelivery(n, { Signature: Buffer.alloc(128, 1).toString('base64') }),
  ]) {
    await assert.rejects(verify(d), refusedWith('SIGNATURE_INVALID'));
  }
  await assert.rejects(
    verify(tamperedDelivery(n, { Signature: 'not base64!' })),
    refusedWith('SIGNATURE_INVALID', /base64/),
  );
});

test('an expired signing certificate is refused', async () => {
  const validTo = Date.parse(new X509Certificate(snsTestPki().signingCertPem).validTo);
  const now = validTo + 24 * 60 * 60 * 1000;
  const d = signedNotification({ version: '2', message: 'x', timestamp: now });
  await assert.rejects(verify(d, { now }), refusedWith('SIGNATURE_INVALID', /expired/));
});

test('a certificate not issued to SNS, or not a certificate, is refused', async () => {
  const wrong = signedNotification({
    version: '2',
    message: 'x',
    signingCertUrl: SNS_TEST.wrongSubjectCertUrl,
  });
  await assert.rejects(verify(wrong), refusedWith('SIGNATURE_INVALID', /not issued to Amazon SNS/));
  const garbage = signedNotification({
    version: '2',
    message: 'x',
    signingCertUrl: SNS_TEST.notACertUrl,
  });
  await assert.rejects(verify(garbage), refusedWith('SIGNATURE_INVALID', /X\.509/));
});

test('stale or future Timestamps are refused before the certificate is fetched', async () => {
  const now = Date.now();
  const certs = sns.certificates();
  for (const offset of [-61 * 60_000, 6 * 60_000]) {
    const d = signedNotification({ version: '2', message: 'x', timestamp: now + offset });
    await assert.rejects(verify(d, { certs, now }), refusedWith('STALE_MESSAGE'));
  }
  assert.equal(certs.fetches, 0);
  for (const offset of [-59 * 60_000, 4 * 60_000]) {
    const d = signedNotification({ version: '2', message: 'x', timestamp: now + offset });
    await verify(d, { certs, now });
  }
});

test('an unreachable certificate is a CertificateUnavailableError (transient), never a DomainError', async () => {
  const cases: [string, CertificateCache, RegExp][] = [
    [SNS_TEST.slowCertUrl, sns.certificates({ timeoutMs: 200 }), /no answer within 200 ms/],
    [SNS_TEST.hugeCertUrl, sns.certificates(), /larger than 16384 bytes/],
    [SNS_TEST.redirectCertUrl, sns.certificates(), /HTTP 302/],
    [SNS_TEST.certUrl.replace('-test', '-missing'), sns.certificates(), /HTTP 404/],
    [
      SNS_TEST.certUrl,
      new CertificateCache({ ...sns.https, ca: snsTestPki().attackerCertPem }),
      /certificate/,
    ],
    [SNS_TEST.certUrl.replace('us-east-1', 'eu-west-1'), sns.certificates(), /ENOTFOUND/],
  ];
  const redirectTarget = sns.requests('/SimpleNotificationService-test.pem');
  for (const [url, certs, reason] of cases) {
    const d = signedNotification({ version: '2', message: 'x', signingCertUrl: url });
    const started = Date.now();
    await assert.rejects(verify(d, { certs }), (e: unknown) => {
      assert.ok(e instanceof CertificateUnavailableError, `${url}: ${String(e)}`);
      assert.ok(!(e instanceof DomainError));
      assert.match(e.message, reason);
      return true;
    });
    assert.ok(Date.now() - started < 1500, `${url} took ${Date.now() - started} ms`);
  }
  assert.equal(
    sns.requests('/SimpleNotificationService-test.pem'),
    redirectTarget,
    'no redirect followed',
  );
});

test('one certificate fetch serves 100 concurrent deliveries, and the cache expires and is bounded', async () => {
  const url = SNS_TEST.certUrl.replace('-test', '-test-cache');
  const path = new URL(url).pathname;
  const certs = sns.certificates({ ttlMs: 60_000, maxEntries: 2 });
  const now = Date.now();
  const deliveries = Array.from({ length: 100 }, (_, i) =>
    signedNotification({ version: i % 2 ? '1' : '2', message: `m${i}`, signingCertUrl: url }),
  );
  const results = await Promise.all(deliveries.map((d) => verify(d, { certs, now })));
  assert.equal(results.length, 100);
  assert.equal(sns.requests(path), 1);
  assert.equal(certs.fetches, 1);
  await certs.get(url, now + 59_000);
  assert.equal(sns.requests(path), 1, 'reused within the TTL');
  await certs.get(url, now + 61_000);
  assert.equal(sns.requests(path), 2, 'fetched again after the TTL');
  const other = (n: number) => SNS_TEST.certUrl.replace('-test', `-test-bound${n}`);
  await certs.get(other(1), now + 61_000);
  await certs.get(other(2), now + 61_000);
  await certs.get(url, now + 61_000);
  assert.equal(sns.requests(path), 3, 'the oldest entry was dropped at maxEntries');
});

test('stringToSign matches the AWS guide examples byte for byte', () => {
  const notification = parseSnsMessage({
    Type: 'Notification',
    MessageId: '4d4dc071-ddbf-465d-bba8-08f81c89da64',
    TopicArn: 'arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P',
    Subject: 'My subject',
    Message: 'My Test Message',
    Timestamp: '2012-06-05T04:37:04.321Z',
    SignatureVersion: '1',
    Signature: 'AAAA',
    SigningCertURL: SNS_TEST.certUrl,
  });
  assert.equal(
    stringToSign(notification),
    'Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\n' +
      'Timestamp\n2012-06-05T04:37:04.321Z\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\n' +
      'Type\nNotification\n',
  );
  const { Subject: _, ...noSubject } = notification as Record<string, unknown>;
  assert.doesNotMatch(stringToSign(parseSnsMessage(noSubject)), /Subject/);
  const arn = 'arn:aws:sns:us-west-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P';
  const token = '2336412f37fb687f5d51e6e241d09c8058323f60b964268bfe08ce35640228c2';
  const subscribeUrl = `https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${arn}&Token=${token}`;
  const confirmation = parseSnsMessage({
    Type: 'SubscriptionConfirmation',
    MessageId: '3d891288-136d-417f-bc05-901c108273ee',
    Token: token,
    TopicArn: arn,
    Message: 'My Test Message',
    SubscribeURL: subscribeUrl,
    Timestamp: '2012-06-03T19:25:13.719Z',
    SignatureVersion: '1',
    Signature: 'AAAA',
    SigningCertURL: SNS_TEST.certUrl,
  });
  assert.equal(
    stringToSign(confirmation),
    `Message\nMy Test Message\nMessageId\n3d891288-136d-417f-bc05-901c108273ee\nSubscribeURL\n${subscribeUrl}\n` +
      `Timestamp\n2012-06-03T19:25:13.719Z\nToken\n${token}\nTopicArn\n${arn}\nType\nSubscriptionConfirmation\n`,
  );
});

test('malformed bodies are refused with the field named', () => {
  const base = signedNotification({ version: '2', message: 'x' }).fields;
  const cases: [unknown, RegExp][] = [
    ['not json', /not JSON/],
    ['[1,2]', /not a JSON object/],
    [{ ...base, Type: 'Bogus' }, /Type must be one of/],
    [{ ...base, Type: undefined }, /Type is missing/],
    [{ ...base, MessageId: undefined }, /MessageId is missing/],
    [{ ...base, TopicArn: 'arn:aws:sqs:us-east-1:1:q' }, /TopicArn is not an SNS topic ARN/],
    [{ ...base, Timestamp: 'yesterday' }, /Timestamp is not ISO-8601/],
    [{ ...base, Message: 42 }, /Message must be a string/],
    [{ ...base, Signature: undefined }, /Signature is missing/],
    [
      { ...signedSubscriptionConfirmation({ version: '2' }).fields, Token: undefined },
      /Token is missing/,
    ],
  ];
  for (const [body, pattern] of cases) {
    const json = typeof body === 'string' ? body : JSON.stringify(body);
    assert.throws(
      () => parseSnsMessage(json),
      refusedWith('INVALID_INPUT', pattern),
      String(pattern),
    );
  }
  assert.equal(parseSnsMessage(Buffer.from(JSON.stringify(base))).Type, 'Notification');
});

test('published AWS samples parse, and their placeholder signatures are refused without fetching', {
  skip: NO_SAMPLES,
}, async () => {
  const certs = sns.certificates();
  for (const name of ['notification', 'subscription-confirmation', 'unsubscribe-confirmation']) {
    const http = readFileSync(join(SAMPLES, `sns-http-${name}.http`), 'utf8');
    const { headers, body } = parseHttpSample(http);
    assert.equal(headers['content-type'], 'text/plain; charset=UTF-8');
    const msg = parseSnsDelivery(body, headers);
    assert.deepEqual(
      msg,
      parseSnsMessage(readFileSync(join(SAMPLES, `sns-http-${name}.json`), 'utf8')),
    );
    const keys =
      msg.Type === 'Notification'
        ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
        : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
    assert.deepEqual(keys, [...keys].sort(), 'names in byte order');
    const fields = msg as unknown as Record<string, string>;
    assert.equal(stringToSign(msg), keys.map((k) => `${k}\n${fields[k]}\n`).join(''));
    const deps = { certs, now: Date.parse(msg.Timestamp), allowedTopics: [msg.TopicArn] };
    await assert.rejects(
      verifySnsDelivery(body, headers, deps),
      refusedWith('SIGNATURE_INVALID', /Signature is not/),
    );
  }
  assert.equal(certs.fetches, 0);
});

test('published AWS samples with attributes and the object-form Message parse', {
  skip: NO_SAMPLES,
}, () => {
  const repost = parseSnsMessage(
    readFileSync(
      join(SAMPLES, 'sns-http-notification-with-message-attributes-repost-example.json'),
      'utf8',
    ),
  );
  assert.ok(repost.Type === 'Notification');
  assert.deepEqual(repost.MessageAttributes, {
    surname: { Type: 'String', Value: 'SNSHTTPSTest' },
  });
  assert.match(stringToSign(repost), /^Message\nTestHTTPS\nMessageId\n.*\nSubject\nTest\n/);
  assert.equal(checkCertUrl(repost.SigningCertURL).ok, true);
  const config = parseSnsMessage(
    readFileSync(
      join(SAMPLES, 'sns-config-rules-compliance-change-notification-as-documented.json'),
      'utf8',
    ),
  );
  assert.ok(config.Type === 'Notification' && typeof config.Message === 'object');
  assert.equal((config.Message as Record<string, unknown>).configRuleName, 'cloudtrail-enabled');
});
