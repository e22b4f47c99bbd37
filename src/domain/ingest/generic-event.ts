/**
 * Generic JSON alerts, for senders that are neither AWS nor Alertmanager, normalised to an
 * EventBridge envelope: source `countersign.generic`, detail-type `Generic Alert`.
 *
 * The body (POST /hooks/generic, `Content-Type: application/json`), one alert per call:
 *
 * ```jsonc
 * {
 *   "id":          "string, optional. Unique per event at the sender; the dedupe key.
 *                   1–256 characters. Default: sha256 of the canonical body (keys
 *                   sorted), so a retry of the same body is the same event — send `id`
 *                   or `time` if the same alert can fire twice with the same body",
 *   "source":      "string, optional. Free text naming the sender (\"uptime-robot\");
 *                   stored as detail.source. The envelope source is always
 *                   countersign.generic: a generic sender cannot pose as aws.*",
 *   "title":       "string, required, 1–500 characters. What is wrong",
 *   "state":       "\"firing\" | \"resolved\", required",
 *   "severity":    "string, optional. The sender's severity; routes decide the real one",
 *   "service":     "string, optional. Catalog service id, if the sender knows it",
 *   "environment": "string, optional. Catalog environment id",
 *   "fingerprint": "string, optional, 1–256 characters. Identity of the alert across
 *                   events (firing and resolved share it). Default: sha256 of source,
 *                   title, service, environment and labels",
 *   "description": "string, optional, up to 10000 characters",
 *   "labels":      { "name": "string value" },
 *   "links":       [{ "label": "string", "url": "http(s) URL" }],
 *   "time":        "ISO-8601 timestamp, optional. When the state began. Default: receipt",
 *   "account":     "12-digit AWS account id, optional",
 *   "region":      "AWS region code such as eu-west-1, optional"
 * }
 * ```
 *
 * Unknown fields are refused (a misspelt `titel` is an error, not a silently empty
 * alert). The detail holds every given field under its own name, with `fingerprint`
 * always set. Pure: the digest and the receipt time come in as parameters.
 */
import * as z from 'zod';
import { canonicalJson } from '../audit-chain.ts';
import type { EventEnvelope } from '../event-envelope.ts';
import { SOURCES } from '../event-envelope.ts';
import {
  ACCOUNT_PATTERN,
  invalidInput,
  REGION_PATTERN,
  timestampMs,
  timestampText,
} from './eventbridge-event.ts';

export const GENERIC_DETAIL_TYPE = 'Generic Alert';

const text = (max: number) => z.string().min(1).max(max);

/** True for an absolute http(s) URL with a host: no `javascript:`, no relative path. */
export function isWebUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const webLink = z.string().max(2048).refine(isWebUrl, { message: 'must be an http(s) URL' });

export const genericAlertSchema = z.strictObject({
  id: text(256).optional(),
  source: text(200).optional(),
  title: text(500),
  state: z.enum(['firing', 'resolved']),
  severity: text(100).optional(),
  service: text(100).optional(),
  environment: text(100).optional(),
  fingerprint: text(256).optional(),
  description: z.string().max(10_000).optional(),
  labels: z.record(z.string().max(200), z.string().max(1000)).optional(),
  links: z
    .array(z.strictObject({ label: text(200), url: webLink }))
    .max(20)
    .optional(),
  time: timestampText.optional(),
  account: z.string().regex(ACCOUNT_PATTERN, 'must be a 12-digit AWS account id').optional(),
  region: z
    .string()
    .regex(REGION_PATTERN, 'must be an AWS region code such as eu-west-1')
    .optional(),
});

export type GenericAlert = z.infer<typeof genericAlertSchema>;

/**
 * Validates a generic alert and returns its envelope. `receivedAt` (ms since epoch) is the
 * time when the body has none. Throws DomainError INVALID_INPUT naming the field.
 */
export function genericToEnvelope(
  body: unknown,
  deps: { sha256: (s: string) => string; receivedAt: number },
): EventEnvelope {
  const parsed = genericAlertSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw invalidInput('Generic alert', parsed.error);
  const alert = parsed.data;
  const { id, time, account, region, ...rest } = alert;
  const fingerprint =
    alert.fingerprint ??
    deps.sha256(
      canonicalJson({
        source: alert.source,
        title: alert.title,
        service: alert.service,
        environment: alert.environment,
        labels: alert.labels ?? {},
      }),
    );
  const at = time === undefined ? deps.receivedAt : (timestampMs(time) as number);
  return {
    version: '0',
    id: id ?? deps.sha256(canonicalJson(alert)),
    'detail-type': GENERIC_DETAIL_TYPE,
    source: SOURCES.generic,
    account: account ?? '',
    time: new Date(at).toISOString(),
    region: region ?? '',
    resources: [],
    detail: { ...rest, fingerprint },
  };
}
