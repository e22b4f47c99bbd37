/**
 * Verifies an Amazon SNS HTTP/S delivery as the AWS developer guide ("Verifying the
 * signatures of Amazon SNS messages") describes, plus the refusals of the fault catalogue
 * (`reliability-and-security.md` §8 29–37). `verifySnsDelivery` is the one entry point; the
 * pieces are exported for tests and for the route that confirms subscriptions.
 *
 * Trust comes from where the certificate is fetched: only `https://sns.<region>.amazonaws.com`
 * (or `.amazonaws.com.cn` in China), over TLS checked against the system roots. The PEM that
 * SNS serves holds the leaf alone, so no chain is built here; the TLS channel to an SNS-owned
 * host is what vouches for it. On top of that the leaf must be valid now, hold an RSA key and
 * name SNS in its subject CN (see `checkSigningCertificate`).
 *
 * Errors: `DomainError` (INVALID_INPUT, TOPIC_NOT_ALLOWED, SIGNATURE_INVALID, STALE_MESSAGE)
 * for a delivery that will never verify, so the route answers 4xx; `CertificateUnavailableError`
 * when the certificate could not be fetched, which is transient, so the route answers 5xx and
 * SNS retries. Messages say what is wrong and never echo a URL (a SubscribeURL holds the token).
 */
import { createVerify, X509Certificate } from 'node:crypto';
import { get as httpsGet } from 'node:https';
import type { LookupFunction } from 'node:net';
import { DomainError, type ErrorCode, fail, ok, type Result } from '../../domain/errors.ts';
import {
  type HttpHeaders,
  parseSnsDelivery,
  type SnsMessage,
  topicArnParts,
} from './sns-message.ts';

/** The oldest accepted `Timestamp`, in milliseconds before now: SNS stops retrying HTTP/S
 * deliveries after at most 3600 s. */
export const MAX_MESSAGE_AGE_MS = 60 * 60 * 1000;
/** The furthest accepted `Timestamp` ahead of now, in milliseconds (clock skew). */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

/** `sns.<region>.amazonaws.com[.cn]`. The region must look like one (`us-east-1`,
 * `us-gov-west-1`, `cn-north-1`), which keeps out S3 hosts such as
 * `sns.s3-ap-southeast-2.amazonaws.com` (a bucket named `sns`). No `sns-fips` host: AWS
 * documents none for `SigningCertURL`. */
const SNS_HOST = /^sns\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(\.cn)?$/;
/** One path segment ending `.pem`, as in `/SimpleNotificationService-<hex>.pem`. */
const CERT_PATH = /^\/[A-Za-z0-9._-]{1,200}\.pem$/;
/** Printable ASCII without space or backslash: nothing that parsers disagree about. */
const PLAIN_URL = /^[\x21-\x5b\x5d-\x7e]{1,2048}$/;
const BASE64 = /^[A-Za-z0-9+/]{1,4096}={0,2}$/;
const DIGEST = { '1': 'sha1', '2': 'sha256' } as const;

const NOTIFICATION_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
const CONFIRMATION_KEYS = [
  'Message',
  'MessageId',
  'SubscribeURL',
  'Timestamp',
  'Token',
  'TopicArn',
  'Type',
];

/** The signing certificate could not be fetched (network, timeout, HTTP status, size): a
 * transient failure; answer 5xx so SNS delivers again. */
export class CertificateUnavailableError extends Error {
  readonly url: string;
  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(`The SNS signing certificate could not be fetched: ${reason}`, options);
    this.name = 'CertificateUnavailableError';
    this.url = url;
  }
}

/** How outbound HTTPS to SNS is made. Production passes nothing. */
export interface SnsHttpsOptions {
  /** Trust anchors (PEM) replacing the bundled roots. Default: Node's bundled CAs. Tests only. */
  ca?: string | Buffer;
  /** Name resolution. Default: `dns.lookup`. Tests map the SNS host to 127.0.0.1. */
  lookup?: LookupFunction;
  /** TCP port to connect to instead of the URL's 443; the URL, the Host header and the TLS
   * name check are unchanged. Default: none (443). Tests only. */
  connectPort?: number;
  /** Deadline for the whole request, connect to last byte, in milliseconds. Default 2000. */
  timeoutMs?: number;
}

export interface CertificateCacheOptions extends SnsHttpsOptions {
  /** How long a fetched certificate is reused, in milliseconds. Default 1 hour. */
  ttlMs?: number;
  /** Most certificates kept; the oldest is dropped first. Default 64. */
  maxEntries?: number;
  /** Largest accepted response body, in bytes. Default 16384. */
  maxBytes?: number;
}

export interface SnsVerifyDeps {
  certs: Pick<CertificateCache, 'get'>;
  /** Now, in milliseconds since the epoch. */
  now: number;
  /** Exact topic ARNs whose deliveries are accepted; empty accepts none. */
  allowedTopics: readonly string[];
}

/**
 * Checks a delivery, in this order, and returns it parsed: shape and headers; topic allowlist
 * (before any fetch: anyone can sign for a topic of their own, §8 30); signature version and
 * form; certificate URL (never fetched when refused, §8 29) and, for confirmations, the
 * SubscribeURL (§8 31); timestamp freshness; then the certificate and the signature.
 */
export async function verifySnsDelivery(
  body: unknown,
  headers: HttpHeaders,
  deps: SnsVerifyDeps,
): Promise<SnsMessage> {
  const msg = parseSnsDelivery(body, headers);
  if (!isTopicAllowed(msg.TopicArn, deps.allowedTopics)) {
    throw new DomainError('TOPIC_NOT_ALLOWED', `SNS topic ${msg.TopicArn} is not allowed`);
  }
  const { digest, signature } = signatureOf(msg);
  const certUrl = unwrap(checkCertUrl(msg.SigningCertURL));
  if (msg.Type !== 'Notification') unwrap(checkSubscribeUrl(msg.SubscribeURL, msg.TopicArn));
  checkFreshness(msg.Timestamp, deps.now);
  const cert = await deps.certs.get(certUrl.href, deps.now);
  checkSigningCertificate(cert, deps.now);
  let valid = false;
  try {
    valid = createVerify(digest)
      .update(stringToSign(msg), 'utf8')
      .verify(cert.publicKey, signature);
  } catch {
    valid = false;
  }
  if (!valid) refuse('SIGNATURE_INVALID', 'the signature does not match the message');
  return msg;
}

/**
 * Exact, case-sensitive ARN match. No wildcards: a pattern such as `arn:aws:sns:*:*:alerts`
 * would admit any account's topic of that name, and topics are few and created by IaC, so
 * listing them is cheap. An entry containing `*` matches only itself, i.e. nothing real.
 */
export function isTopicAllowed(topicArn: string, allowed: readonly string[]): boolean {
  return allowed.includes(topicArn);
}

/** The canonical string SNS signs: `Name\nValue\n` per field, in byte order of the names;
 * `Subject` only when present. An object `Message` (documentation form) is JSON-encoded, which
 * no real signature covers. */
export function stringToSign(msg: SnsMessage): string {
  const keys = msg.Type === 'Notification' ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  const fields = msg as unknown as Record<string, unknown>;
  let out = '';
  for (const key of keys) {
    const value = fields[key];
    if (value === undefined) continue;
    out += `${key}\n${typeof value === 'string' ? value : JSON.stringify(value)}\n`;
  }
  return out;
}

/** Accepts only `https://sns.<region>.amazonaws.com[.cn]/<name>.pem` (port 443, no userinfo,
 * query or fragment). Pure: nothing is fetched. */
export function checkCertUrl(raw: string): Result<URL> {
  const url = parseUrl(raw);
  if (!url) return fail('SIGNATURE_INVALID', 'SigningCertURL is not a plain absolute URL');
  const problem =
    snsUrlProblem(url) ??
    (CERT_PATH.test(url.pathname) ? undefined : 'its path must be a single <name>.pem') ??
    (url.search || url.hash ? 'it must have no query or fragment' : undefined);
  return problem
    ? fail('SIGNATURE_INVALID', `SigningCertURL is not an Amazon SNS certificate URL: ${problem}`)
    : ok(url);
}

/** Accepts only `https://sns.<region of the topic>.amazonaws.com[.cn]/?Action=ConfirmSubscription`
 * with this `TopicArn` and a `Token`. Everything else (metadata addresses, internal hosts, IP
 * literals, other regions) is refused and never fetched. */
export function checkSubscribeUrl(raw: string, topicArn: string): Result<URL> {
  const url = parseUrl(raw);
  const problem = url ? subscribeUrlProblem(url, topicArn) : 'it is not a plain absolute URL';
  return problem || !url
    ? fail('INVALID_INPUT', `SubscribeURL is not an Amazon SNS confirmation URL: ${problem}`)
    : ok(url);
}

function subscribeUrlProblem(url: URL, topicArn: string): string | undefined {
  const problem = snsUrlProblem(url);
  if (problem) return problem;
  const query = url.searchParams;
  if (SNS_HOST.exec(url.hostname)?.[1] !== topicArnParts(topicArn)?.region) {
    return "its region is not the topic's";
  }
  if (url.pathname !== '/' || url.hash) return 'its path must be / with no fragment';
  if (query.getAll('Action').join() !== 'ConfirmSubscription') {
    return 'its Action must be ConfirmSubscription';
  }
  if (query.getAll('TopicArn').join() !== topicArn) return 'its TopicArn is not the message topic';
  if (query.getAll('Token').length !== 1 || !query.get('Token')) return 'it must carry one Token';
  return undefined;
}

/**
 * Visits a SubscribeURL (after `checkSubscribeUrl`, which throws its refusal) and says whether
 * SNS answered 200. Network failures and timeouts answer false; nothing is retried here.
 * Call it only for a delivery `verifySnsDelivery` accepted.
 */
export async function confirmSubscription(
  subscribeUrl: string,
  topicArn: string,
  options: SnsHttpsOptions = {},
): Promise<boolean> {
  const url = unwrap(checkSubscribeUrl(subscribeUrl, topicArn));
  try {
    const { status } = await getSmall(url, options, 64 * 1024);
    return status === 200;
  } catch {
    return false;
  }
}

/** `STALE_MESSAGE` when `Timestamp` is older than an hour or more than 5 minutes ahead. */
export function checkFreshness(timestamp: string, now: number): void {
  const at = Date.parse(timestamp);
  if (!Number.isFinite(at)) refuse('INVALID_INPUT', 'Timestamp is not a valid date');
  if (now - at > MAX_MESSAGE_AGE_MS) refuse('STALE_MESSAGE', 'Timestamp is more than 1 hour old');
  if (at - now > MAX_FUTURE_SKEW_MS) {
    refuse('STALE_MESSAGE', 'Timestamp is more than 5 minutes in the future');
  }
}

/**
 * The leaf must be valid at `now`, hold an RSA key, and have one subject CN that is
 * `sns.amazonaws.com` or a regional SNS host name. Real SNS signing certificates carry
 * `CN=sns.amazonaws.com` (issuer Amazon RSA 2048 M01, earlier Amazon Server CA 1B); the
 * regional form is accepted because AWS's own servlet example describes it and the China
 * partition's certificates are not published.
 */
export function checkSigningCertificate(cert: X509Certificate, now: number): void {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!(from <= now && now <= to)) {
    refuse('SIGNATURE_INVALID', 'the signing certificate is expired or not yet valid');
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa') {
    refuse('SIGNATURE_INVALID', 'the signing certificate does not hold an RSA key');
  }
  const names = cert.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
  const [cn] = names;
  if (
    names.length !== 1 ||
    cn === undefined ||
    !(cn === 'sns.amazonaws.com' || SNS_HOST.test(cn))
  ) {
    refuse('SIGNATURE_INVALID', 'the signing certificate was not issued to Amazon SNS');
  }
}

/**
 * Signing certificates by URL: fetched over HTTPS (no redirects, size cap, deadline), parsed
 * once, reused for `ttlMs`, at most `maxEntries` kept. Concurrent requests for one URL share
 * a single fetch. Failures are not remembered, so the next delivery tries again.
 */
export class CertificateCache {
  readonly #o: Required<Pick<CertificateCacheOptions, 'ttlMs' | 'maxEntries' | 'maxBytes'>>;
  readonly #https: SnsHttpsOptions;
  readonly #entries = new Map<string, { cert: X509Certificate; expiresAt: number }>();
  readonly #inflight = new Map<string, Promise<X509Certificate>>();
  #fetches = 0;

  constructor(options: CertificateCacheOptions = {}) {
    const { ttlMs = 60 * 60 * 1000, maxEntries = 64, maxBytes = 16 * 1024, ...https } = options;
    this.#o = { ttlMs, maxEntries, maxBytes };
    this.#https = https;
  }

  /** Network fetches started so far (for metrics and tests). */
  get fetches(): number {
    return this.#fetches;
  }

  /** The certificate at `url` (refused with SIGNATURE_INVALID unless `checkCertUrl` accepts
   * it). `now` is milliseconds since the epoch, for the cache's own expiry. */
  async get(url: string, now: number = Date.now()): Promise<X509Certificate> {
    const checked = unwrap(checkCertUrl(url));
    const key = checked.href;
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > now) return hit.cert;
    if (hit) this.#entries.delete(key);
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const fetching = this.#fetch(checked, now).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, fetching);
    return fetching;
  }

  async #fetch(url: URL, now: number): Promise<X509Certificate> {
    this.#fetches += 1;
    let response: { status: number; body: Buffer };
    try {
      response = await getSmall(url, this.#https, this.#o.maxBytes);
    } catch (e) {
      throw new CertificateUnavailableError(url.href, (e as Error).message, { cause: e });
    }
    if (response.status !== 200) {
      throw new CertificateUnavailableError(url.href, `SNS answered HTTP ${response.status}`);
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(response.body);
    } catch {
      return refuse('SIGNATURE_INVALID', 'SigningCertURL did not return an X.509 certificate');
    }
    this.#entries.set(url.href, { cert, expiresAt: now + this.#o.ttlMs });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#o.maxEntries) break;
      this.#entries.delete(oldest);
    }
    return cert;
  }
}

/** The digest for the signature version and the decoded signature, or SIGNATURE_INVALID. */
function signatureOf(msg: SnsMessage): { digest: 'sha1' | 'sha256'; signature: Buffer } {
  const version = msg.SignatureVersion;
  if (version === undefined) refuse('SIGNATURE_INVALID', 'SignatureVersion is missing');
  if (version !== '1' && version !== '2') {
    refuse(
      'SIGNATURE_INVALID',
      'SignatureVersion must be "1" (SHA1withRSA) or "2" (SHA256withRSA)',
    );
  }
  if (!BASE64.test(msg.Signature) || msg.Signature.length % 4 !== 0) {
    refuse('SIGNATURE_INVALID', 'Signature is not base64');
  }
  const signature = Buffer.from(msg.Signature, 'base64');
  if (signature.length < 256 || signature.length > 512) {
    refuse('SIGNATURE_INVALID', 'Signature is not the size of an RSA 2048–4096-bit signature');
  }
  if (typeof msg.Message !== 'string') {
    refuse(
      'SIGNATURE_INVALID',
      'Message is a JSON object; SNS signs Message as a string, so this cannot be verified',
    );
  }
  return { digest: DIGEST[version], signature };
}

/** Why `url` is not on an SNS endpoint, or undefined when it is. */
function snsUrlProblem(url: URL): string | undefined {
  if (url.protocol !== 'https:') return 'it must use https';
  if (url.username || url.password) return 'it must not carry user information';
  if (url.port !== '') return 'it must use the default port 443';
  const m = SNS_HOST.exec(url.hostname);
  if (!m) return 'its host must be sns.<region>.amazonaws.com (or .amazonaws.com.cn)';
  const china = m[1]?.startsWith('cn-') ?? false;
  if (china !== (m[2] !== undefined)) return "its domain does not match the region's partition";
  return undefined;
}

function parseUrl(raw: string): URL | undefined {
  if (!PLAIN_URL.test(raw)) return undefined;
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/** GET with no redirects, a whole-request deadline and a body cap; rejects with an Error
 * whose message is the reason. */
function getSmall(
  url: URL,
  options: SnsHttpsOptions,
  maxBytes: number,
): Promise<{ status: number; body: Buffer }> {
  const { ca, lookup, connectPort, timeoutMs = 2000 } = options;
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      url,
      {
        agent: false,
        headers: { host: url.host, 'user-agent': 'countersign-sns' },
        ...(ca === undefined ? {} : { ca }),
        ...(lookup === undefined ? {} : { lookup }),
        ...(connectPort === undefined ? {} : { port: connectPort }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) stop(new Error(`the response is larger than ${maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
        res.on('error', stop);
      },
    );
    const deadline = setTimeout(
      () => stop(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', stop);
    function stop(error: Error): void {
      clearTimeout(deadline);
      reject(error);
      req.destroy();
    }
  });
}

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

function refuse(code: ErrorCode, message: string): never {
  throw new DomainError(code, message);
}
