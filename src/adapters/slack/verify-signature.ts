/**
 * Slack's v0 request signature, checked strictly: the only accepted header shape is `v0=` and
 * 64 lower-case hex digits, the timestamp is 1–12 ASCII digits (Unix seconds) and must lie
 * within `MAX_SKEW_SECONDS` of now in either direction (Bolt checks only the past), and the
 * HMAC-SHA256 of `v0:<timestamp>:<raw body>` is compared in constant time.
 * Pure apart from `node:crypto`; the caller supplies the clock.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The widest accepted difference between the request's timestamp and now, in seconds. */
export const MAX_SKEW_SECONDS = 300;

const SIGNATURE = /^v0=[0-9a-f]{64}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;

/** Why a request was refused. Logged and counted; never told to the caller. */
export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'future' | 'mismatch';

export type SignatureVerdict = { ok: true } | { ok: false; reason: SignatureFailure };

export interface SignedRequest {
  /** The app's signing secret; must not be empty. */
  signingSecret: string;
  /** The body exactly as received: bytes, or the same bytes decoded as UTF-8. */
  rawBody: string | Uint8Array;
  /** The `X-Slack-Signature` header, if any. */
  signature: string | undefined;
  /** The `X-Slack-Request-Timestamp` header (Unix seconds), if any. */
  timestamp: string | undefined;
  /** Now, in Unix seconds. */
  nowSeconds: number;
}

export function verifySlackSignature(req: SignedRequest): SignatureVerdict {
  if (req.signingSecret.length === 0) throw new TypeError('signingSecret must not be empty');
  const { signature, timestamp } = req;
  if (!signature || !timestamp) return refuse('missing');
  if (!SIGNATURE.test(signature) || !TIMESTAMP.test(timestamp)) return refuse('malformed');
  const skew = Number(timestamp) - Math.floor(req.nowSeconds);
  if (skew < -MAX_SKEW_SECONDS) return refuse('stale');
  if (skew > MAX_SKEW_SECONDS) return refuse('future');
  const expected = createHmac('sha256', req.signingSecret)
    .update(`v0:${timestamp}:`)
    .update(req.rawBody)
    .digest();
  // Both are 32 bytes: the pattern above admits exactly 64 hex digits.
  const given = Buffer.from(signature.slice(3), 'hex');
  return timingSafeEqual(expected, given) ? { ok: true } : refuse('mismatch');
}

function refuse(reason: SignatureFailure): SignatureVerdict {
  return { ok: false, reason };
}
