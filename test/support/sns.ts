/**
 * The SNS test kit. `snsTestPki()` makes, once per process with the `openssl` CLI, a test CA,
 * the TLS certificate of `sns.us-east-1.amazonaws.com`, a signing certificate like AWS's
 * (`CN=sns.amazonaws.com`), a signing certificate with a wrong subject, and an attacker's own
 * key and self-signed certificate. `startFakeSnsHost()` serves those PEMs over real HTTPS on
 * 127.0.0.1 and records ConfirmSubscription visits; its `https` options (`ca`, `lookup`,
 * `connectPort`) go into `CertificateCache` / `confirmSubscription`, so tests run the real
 * https code path while every URL stays `https://sns.us-east-1.amazonaws.com/…` (port 443 on
 * paper; the socket goes to the local port). Builders sign bodies as SNS does, with their own
 * copy of the string-to-sign from the AWS guide (not the code under test).
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, type KeyObject, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, LookupFunction, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CertificateCache,
  type CertificateCacheOptions,
  type SnsHttpsOptions,
} from '../../src/adapters/ingest/sns-verify.ts';

const HOST = 'sns.us-east-1.amazonaws.com';

/** Names and URLs the kit uses unless told otherwise. */
export const SNS_TEST = {
  region: 'us-east-1',
  host: HOST,
  topicArn: 'arn:aws:sns:us-east-1:123456789012:countersign-alerts',
  /** A topic nobody allowed: the attacker's own, in the attacker's account. */
  attackerTopicArn: 'arn:aws:sns:us-east-1:666666666666:countersign-alerts',
  /** The real-looking URL of the test signing certificate (served at any `-test*.pem`). */
  certUrl: `https://${HOST}/SimpleNotificationService-test.pem`,
  /** Serves a certificate signed by the test CA for the signing key, but `CN=evil.example`. */
  wrongSubjectCertUrl: `https://${HOST}/SimpleNotificationService-wrong-subject.pem`,
  /** Serves a body that is not a certificate. */
  notACertUrl: `https://${HOST}/SimpleNotificationService-not-a-cert.pem`,
  /** Serves more than 16 KB. */
  hugeCertUrl: `https://${HOST}/SimpleNotificationService-huge.pem`,
  /** Accepts the connection and never answers. */
  slowCertUrl: `https://${HOST}/SimpleNotificationService-slow.pem`,
  /** Answers 302 to `certUrl`. */
  redirectCertUrl: `https://${HOST}/SimpleNotificationService-redirect.pem`,
} as const;

export interface SnsTestPki {
  caPem: string;
  tlsKeyPem: string;
  tlsCertPem: string;
  /** The key SNS signs with in tests, and its certificate (`CN=sns.amazonaws.com`, test CA). */
  signingKey: KeyObject;
  signingCertPem: string;
  /** Same key as `signingKey`, certificate issued to `CN=evil.example`. */
  wrongSubjectCertPem: string;
  /** Someone else's key and self-signed `CN=sns.amazonaws.com` certificate. */
  attackerKey: KeyObject;
  attackerCertPem: string;
}

let pki: SnsTestPki | undefined;

/** The kit's keys and certificates, made on first use (about a second) and kept. */
export function snsTestPki(): SnsTestPki {
  pki ??= makePki();
  return pki;
}

function makePki(): SnsTestPki {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-sns-pki-'));
  /** Runs `openssl <words>` in `dir`; words are split on spaces, so none may contain one. */
  const openssl = (words: string): void => {
    execFileSync('/usr/bin/openssl', words.split(' '), {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  };
  const newKey = (name: string, subject: string): void =>
    openssl(
      `req -new -newkey rsa:2048 -nodes -subj ${subject} -keyout ${name}.key -out ${name}.csr`,
    );
  const issue = (name: string, ext: string): void => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    const serial = `0x${randomUUID().replaceAll('-', '')}`;
    openssl(
      `x509 -req -days 30 -sha256 -set_serial ${serial} -in ${name}.csr -CA ca.pem -CAkey ca.key -extfile ${name}.ext -out ${name}.pem`,
    );
  };
  const signingUse = 'keyUsage=critical,digitalSignature\n';
  try {
    openssl(
      'req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj /CN=Countersign-Test-SNS-CA -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout ca.key -out ca.pem',
    );
    newKey('tls', `/CN=${HOST}`);
    issue('tls', `subjectAltName=DNS:${HOST}\nextendedKeyUsage=serverAuth\n`);
    newKey('signing', '/CN=sns.amazonaws.com');
    issue('signing', signingUse);
    openssl('req -new -subj /CN=evil.example -key signing.key -out wrong.csr');
    issue('wrong', signingUse);
    openssl(
      'req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj /CN=sns.amazonaws.com -keyout attacker.key -out attacker.pem',
    );
    const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
    return {
      caPem: read('ca.pem'),
      tlsKeyPem: read('tls.key'),
      tlsCertPem: read('tls.pem'),
      signingKey: createPrivateKey(read('signing.key')),
      signingCertPem: read('signing.pem'),
      wrongSubjectCertPem: read('wrong.pem'),
      attackerKey: createPrivateKey(read('attacker.key')),
      attackerCertPem: read('attacker.pem'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface FakeSnsHost {
  /** Pass to `CertificateCache` / `confirmSubscription`: trust the test CA, resolve
   * `sns.us-east-1.amazonaws.com` to 127.0.0.1 (any other name fails), connect to the local port. */
  https: Required<Pick<SnsHttpsOptions, 'ca' | 'lookup' | 'connectPort'>>;
  /** A fresh cache wired to this host. */
  certificates(options?: CertificateCacheOptions): CertificateCache;
  /** Requests received for a path (e.g. `/SimpleNotificationService-test.pem`), or all. */
  requests(path?: string): number;
  /** Every host name looked up through `https.lookup`, in order. */
  lookups: string[];
  /** Query strings of the ConfirmSubscription visits received, in order. */
  confirmations: string[];
  /** The status ConfirmSubscription answers with. Default 200. */
  confirmStatus: number;
  close(): Promise<void>;
}

/** Starts the fake `sns.us-east-1.amazonaws.com` on 127.0.0.1 (an ephemeral port). */
export async function startFakeSnsHost(): Promise<FakeSnsHost> {
  const keys = snsTestPki();
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer({ key: keys.tlsKeyPem, cert: keys.tlsCertPem });
  const host: FakeSnsHost = {
    https: { ca: keys.caPem, lookup: testLookup(() => host.lookups), connectPort: 0 },
    certificates: (options = {}) => new CertificateCache({ ...host.https, ...options }),
    requests: (path) =>
      path === undefined
        ? [...counts.values()].reduce((a, b) => a + b, 0)
        : (counts.get(path) ?? 0),
    lookups: [],
    confirmations: [],
    confirmStatus: 200,
    close: () =>
      new Promise((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', `https://${HOST}`);
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    const pem = (body: string): void => {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(body);
    };
    const path = url.pathname;
    if (/^\/SimpleNotificationService-test[\w-]*\.pem$/.test(path)) pem(keys.signingCertPem);
    else if (path === '/SimpleNotificationService-wrong-subject.pem') pem(keys.wrongSubjectCertPem);
    else if (path === '/SimpleNotificationService-not-a-cert.pem') pem('not a certificate\n');
    else if (path === '/SimpleNotificationService-huge.pem') pem('x'.repeat(20_000));
    else if (path === '/SimpleNotificationService-slow.pem')
      return; // never answers
    else if (path === '/SimpleNotificationService-redirect.pem') {
      res.writeHead(302, { location: SNS_TEST.certUrl }).end();
    } else if (path === '/' && url.searchParams.get('Action') === 'ConfirmSubscription') {
      host.confirmations.push(url.search);
      res.writeHead(host.confirmStatus, { 'content-type': 'text/xml' });
      res.end(
        '<ConfirmSubscriptionResponse><ConfirmSubscriptionResult/></ConfirmSubscriptionResponse>',
      );
    } else res.writeHead(404).end();
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  host.https.connectPort = (server.address() as AddressInfo).port;
  return host;
}

/** Resolves only the fake SNS host, to 127.0.0.1, and records every name asked for. */
function testLookup(log: () => string[]): LookupFunction {
  return (hostname, options, callback) => {
    log().push(hostname);
    if (hostname !== HOST) {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: 'ENOTFOUND',
      });
      callback(error, '', 4);
    } else if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  };
}

/** A body and headers ready for `fastify.inject({ method: 'POST', url: '/hooks/sns', ...d })`. */
export interface SignedSnsDelivery {
  headers: Record<string, string>;
  payload: string;
  /** The body's fields, for tests that tamper with one and re-serialise. */
  fields: Record<string, unknown>;
}

interface SigningOptions {
  topicArn?: string;
  version: '1' | '2';
  /** ISO-8601 string or milliseconds since the epoch. Default now. */
  timestamp?: string | number;
  /** Default: the kit's SNS signing key. */
  key?: KeyObject;
  messageId?: string;
  signingCertUrl?: string;
}

export interface NotificationOptions extends SigningOptions {
  message: string;
  subject?: string;
}

export interface ConfirmationOptions extends SigningOptions {
  token?: string;
  /** Default: `https://sns.<region>.amazonaws.com/?Action=ConfirmSubscription&TopicArn=…&Token=…`. */
  subscribeUrl?: string;
  message?: string;
}

export function signedNotification(o: NotificationOptions): SignedSnsDelivery {
  const topicArn = o.topicArn ?? SNS_TEST.topicArn;
  const fields: Record<string, unknown> = {
    Type: 'Notification',
    MessageId: o.messageId ?? randomUUID(),
    TopicArn: topicArn,
    ...(o.subject === undefined ? {} : { Subject: o.subject }),
    Message: o.message,
    Timestamp: isoTime(o.timestamp),
  };
  return signed(fields, ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'], o, {
    UnsubscribeURL: `https://sns.${regionOf(topicArn)}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:${randomUUID()}`,
  });
}

export function signedSubscriptionConfirmation(o: ConfirmationOptions): SignedSnsDelivery {
  return confirmationOf('SubscriptionConfirmation', o);
}

export function signedUnsubscribeConfirmation(o: ConfirmationOptions): SignedSnsDelivery {
  return confirmationOf('UnsubscribeConfirmation', o);
}

function confirmationOf(type: string, o: ConfirmationOptions): SignedSnsDelivery {
  const topicArn = o.topicArn ?? SNS_TEST.topicArn;
  const token = o.token ?? randomUUID().replaceAll('-', '').repeat(4);
  const fields: Record<string, unknown> = {
    Type: type,
    MessageId: o.messageId ?? randomUUID(),
    Token: token,
    TopicArn: topicArn,
    Message:
      o.message ??
      `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL:
      o.subscribeUrl ??
      `https://sns.${regionOf(topicArn)}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=${token}`,
    Timestamp: isoTime(o.timestamp),
  };
  const keys = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return signed(fields, keys, o, {});
}

/** Signs `Name\nValue\n` for each present key (the AWS guide's string-to-sign) and adds the
 * signature fields and headers SNS sends. */
function signed(
  fields: Record<string, unknown>,
  keys: string[],
  o: SigningOptions,
  extra: Record<string, string>,
): SignedSnsDelivery {
  const canonical = keys
    .filter((k) => fields[k] !== undefined)
    .map((k) => `${k}\n${String(fields[k])}\n`)
    .join('');
  const digest = o.version === '1' ? 'sha1' : 'sha256';
  const signature = sign(digest, Buffer.from(canonical, 'utf8'), o.key ?? snsTestPki().signingKey);
  const body: Record<string, unknown> = {
    ...fields,
    SignatureVersion: o.version,
    Signature: signature.toString('base64'),
    SigningCertURL: o.signingCertUrl ?? SNS_TEST.certUrl,
    ...extra,
  };
  return { headers: snsHeaders(body), payload: JSON.stringify(body), fields: body };
}

/** The headers SNS sends with a body (recomputed after tampering with `fields`). */
export function snsHeaders(fields: Record<string, unknown>): Record<string, string> {
  return {
    'content-type': 'text/plain; charset=UTF-8',
    'user-agent': 'Amazon Simple Notification Service Agent',
    'x-amz-sns-message-type': String(fields.Type),
    'x-amz-sns-message-id': String(fields.MessageId),
    'x-amz-sns-topic-arn': String(fields.TopicArn),
  };
}

/** `d` with body fields changed after signing (`undefined` deletes one); headers kept in step. */
export function tamperedDelivery(
  d: SignedSnsDelivery,
  change: Record<string, unknown>,
): SignedSnsDelivery {
  const fields = { ...d.fields, ...change };
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete fields[k];
  return { fields, headers: snsHeaders(fields), payload: JSON.stringify(fields) };
}

/** Splits a published `.http` sample (request line, headers, blank line, body) into
 * lower-cased headers and the body. */
export function parseHttpSample(text: string): { headers: Record<string, string>; body: string } {
  const [head = '', body = ''] = text.split(/\r?\n\r?\n/, 2);
  const headers = Object.fromEntries(
    head
      .split(/\r?\n/)
      .slice(1)
      .map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
      }),
  );
  return { headers, body };
}

function isoTime(t: string | number | undefined): string {
  return typeof t === 'string' ? t : new Date(t ?? Date.now()).toISOString();
}

function regionOf(topicArn: string): string {
  return topicArn.split(':')[3] ?? SNS_TEST.region;
}
