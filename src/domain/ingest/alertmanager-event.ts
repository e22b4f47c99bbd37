/**
 * An Alertmanager webhook notification (payload `version: "4"`,
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config) normalised to
 * one EventBridge envelope per alert: source `countersign.alertmanager`, detail-type
 * `Alertmanager Alert`.
 *
 * Dedupe id: sha256 of `fingerprint|status|startsAt` (startsAt as ISO-8601 UTC ms). A
 * resend of the same group — a retry, the other replica of an HA pair, or a repeat after
 * `repeat_interval` — carries the same fingerprint and startsAt, so it is the same event
 * (§8 42); the alert resolving, or firing again later, is a new one.
 *
 * Tolerated, as real senders do it (§8 43): no per-alert `fingerprint` (older
 * Alertmanager; computed the way Alertmanager computes it, FNV-1a 64 over the sorted
 * labels, so it matches what a newer version would send), no per-alert `status` (the
 * group's), no `truncatedAlerts` (0), no or empty `generatorURL`, `endsAt` of Go's zero
 * time `0001-01-01T00:00:00Z` (unset: still firing), nanosecond fractions and `-05:00`
 * offsets (read to the millisecond). `\u0026` escapes are ordinary JSON. The payload
 * `version` is not checked: senders that copy the format (Grafana) write their own.
 *
 * Account and region come from the labels `account` / `aws_account` / `account_id` and
 * `region` / `aws_region` when they hold an account id and a region code.
 */
import * as z from 'zod';
import type { EventEnvelope } from '../event-envelope.ts';
import { SOURCES } from '../event-envelope.ts';
import {
  accountOrEmpty,
  invalidInput,
  isZeroTime,
  regionOrEmpty,
  timestampMs,
  timestampText,
} from './eventbridge-event.ts';

export const ALERTMANAGER_DETAIL_TYPE = 'Alertmanager Alert';

/** Most alerts one notification may carry; Alertmanager's `max_alerts` is usually far lower. */
export const MAX_ALERTS = 1000;

const stringMap = z.record(z.string(), z.string());
const status = z.enum(['firing', 'resolved']);

const alertSchema = z.object({
  status: status.optional(),
  labels: stringMap.default({}),
  annotations: stringMap.default({}),
  startsAt: timestampText,
  endsAt: timestampText.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(256).optional(),
});

/** The webhook body. Unknown keys (`notification_reason`, Grafana's extras) are dropped. */
export const alertmanagerWebhookSchema = z.object({
  version: z.string().optional(),
  groupKey: z.string().default(''),
  truncatedAlerts: z.number().int().min(0).default(0),
  status,
  receiver: z.string().default(''),
  groupLabels: stringMap.default({}),
  commonLabels: stringMap.default({}),
  commonAnnotations: stringMap.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(alertSchema).max(MAX_ALERTS),
});

type Webhook = z.infer<typeof alertmanagerWebhookSchema>;
type Alert = Webhook['alerts'][number];

/**
 * One envelope per alert of the notification, in the order sent. `sha256` returns a hex
 * digest (the domain has no crypto of its own). Throws DomainError INVALID_INPUT naming
 * the field on a bad shape.
 */
export function alertmanagerToEnvelopes(
  body: unknown,
  sha256: (s: string) => string,
): EventEnvelope[] {
  const parsed = alertmanagerWebhookSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw invalidInput('Alertmanager webhook', parsed.error);
  const webhook = parsed.data;
  return webhook.alerts.map((alert) => envelopeOf(webhook, alert, sha256));
}

function envelopeOf(w: Webhook, a: Alert, sha256: (s: string) => string): EventEnvelope {
  const fingerprint = a.fingerprint ?? labelsFingerprint(a.labels);
  const state = a.status ?? w.status;
  const startsAt = utc(a.startsAt) as string;
  const endsAt = a.endsAt === undefined || isZeroTime(a.endsAt) ? undefined : utc(a.endsAt);
  const labels = a.labels;

  const detail: Record<string, unknown> = {
    status: state,
    labels,
    // Alertmanager puts annotations shared by the group in commonAnnotations too; the
    // alert's own win.
    annotations: { ...w.commonAnnotations, ...a.annotations },
    startsAt,
  };
  if (endsAt !== undefined) detail.endsAt = endsAt;
  if (a.generatorURL) detail.generatorURL = a.generatorURL;
  Object.assign(detail, {
    fingerprint,
    groupKey: w.groupKey,
    groupLabels: w.groupLabels,
    receiver: w.receiver,
    externalURL: w.externalURL,
    truncatedAlerts: w.truncatedAlerts,
  });

  return {
    version: '0',
    id: sha256(`${fingerprint}|${state}|${startsAt}`),
    'detail-type': ALERTMANAGER_DETAIL_TYPE,
    source: SOURCES.alertmanager,
    account:
      accountOrEmpty(labels.account) ||
      accountOrEmpty(labels.aws_account) ||
      accountOrEmpty(labels.account_id),
    time: state === 'resolved' && endsAt !== undefined ? endsAt : startsAt,
    region: regionOrEmpty(labels.region) || regionOrEmpty(labels.aws_region),
    resources: [],
    detail,
  };
}

const utc = (text: string): string | undefined => {
  const ms = timestampMs(text);
  return ms === undefined ? undefined : new Date(ms).toISOString();
};

const FNV_OFFSET = 14695981039346656037n;
const FNV_PRIME = 1099511628211n;
const UINT64 = (1n << 64n) - 1n;
const SEPARATOR = 0xff;

/**
 * Alertmanager's alert fingerprint: FNV-1a 64 over each label name and value (UTF-8, each
 * followed by byte 0xff) in sorted name order, as 16 hex digits — what
 * `model.LabelSet.Fingerprint()` in prometheus/common returns. Label names are ASCII, so
 * JavaScript's sort orders them as Go's does.
 */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  const utf8 = new TextEncoder();
  let h = FNV_OFFSET;
  const add = (bytes: Iterable<number>) => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & UINT64;
  };
  for (const name of Object.keys(labels).sort()) {
    add(utf8.encode(name));
    add([SEPARATOR]);
    add(utf8.encode(labels[name] ?? ''));
    add([SEPARATOR]);
  }
  return h.toString(16).padStart(16, '0');
}
