/**
 * The tables as Kysely sees them. Every time is an integer in milliseconds since epoch
 * (`bigint` on PostgreSQL, read back as a JS number by the pool's int8 parser). JSON is
 * stored as text written by `canonicalJson` or `JSON.stringify`, never as jsonb, so both
 * dialects hand back the exact bytes that were hashed.
 */
import type { Generated } from 'kysely';

export interface RequestsTable {
  /** `REQ-` plus a time-sortable id; ordering by id is ordering by creation. */
  id: string;
  state: string;
  requester: string;
  service: string;
  environment: string;
  command: string;
  /** Milliseconds since epoch. */
  created_at: number;
  /** Milliseconds since epoch; a pending request expires at or after this. */
  expires_at: number;
  /** Optimistic-concurrency counter, equal to `doc.version`. */
  version: number;
  /** The whole `ActionRequest` as JSON text; the indexed columns above are copies. */
  doc: string;
}

export interface AuditLogTable {
  /** 1, 2, 3, … without gaps. */
  seq: number;
  /** Milliseconds since epoch. */
  at: number;
  actor: string;
  surface: string;
  action: string;
  target: string;
  params_digest: string;
  result: string;
  /** `canonicalJson(links)`. */
  links: string;
  /** `canonicalJson(detail)`. */
  detail: string;
  prev_hash: string;
  hash: string;
}

/** One row (id = 1): the last appended entry, or seq 0 and the genesis hash when empty. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface OutboxTable {
  /** Never reused, even after the row is deleted. */
  id: Generated<number>;
  kind: string;
  /** Unique per effect. */
  key: string;
  /** JSON text. */
  payload: string;
  /** Milliseconds since epoch; not claimable before this. */
  available_at: number;
  /** Milliseconds since epoch; claimed until this, or null when free. */
  lease_until: number | null;
  /** How many times a worker has claimed it. */
  attempts: number;
  /** Milliseconds since epoch. */
  created_at: number;
  last_error: string | null;
}

export interface IdempotencyTable {
  /** The caller the key belongs to. */
  scope: string;
  key: string;
  /** Hex SHA-256 of the request body the key was first used with. */
  body_hash: string;
  state: 'in-progress' | 'done';
  /** HTTP status of the stored response, once done. */
  status: number | null;
  /** The stored response body, once done. */
  body: string | null;
  /** Milliseconds since epoch. */
  created_at: number;
}

export interface ReviewItemsTable {
  id: string;
  request_id: string;
  kind: string;
  /** Milliseconds since epoch. */
  created_at: number;
  resolved_by: string | null;
  /** Milliseconds since epoch, or null while open. */
  resolved_at: number | null;
  note: string | null;
}

export interface ChatMessagesTable {
  request_id: string;
  /** A `ChatMessageKind`: which of the request's messages this is. */
  kind: string;
  /** Slack channel id (or user id, for a direct message) the message is posted to. */
  channel: string;
  /** Slack's message timestamp once posted; null while claimed and not yet recorded. */
  ts: string | null;
  /** Milliseconds since epoch; when the message was claimed. */
  created_at: number;
}

export interface EventsTable {
  /** Assigned by the database in insertion order. */
  seq: Generated<number>;
  /** The deduplication key; unique. */
  key: string;
  ingest: string;
  /** Milliseconds since epoch. */
  received_at: number;
  source: string;
  detail_type: string;
  account: string;
  region: string;
  /** The EventBridge envelope as JSON text. */
  envelope: string;
  /** Milliseconds since epoch; null until routed and applied. */
  processed_at: number | null;
  /** `EventOutcome` as JSON text, once processed. */
  outcome: string | null;
}

export interface AlertsTable {
  route: string;
  fingerprint: string;
  state: string;
  service: string;
  environment: string;
  channel: string;
  group_id: string;
  /** Milliseconds since epoch. */
  last_seen: number;
  /** `AlertRecord` as JSON text; the columns above are copies for queries. */
  doc: string;
}

export interface AlertGroupsTable {
  id: string;
  key: string;
  channel: string;
  opened_at: number;
  /** When the group was first posted on its own (counts against the channel budget). */
  shown_at: number | null;
  /** 1 while the chat message is behind the group's version. */
  dirty: number;
  /** `AlertGroup` as JSON text. */
  doc: string;
}

export interface AlertDigestsTable {
  id: string;
  channel: string;
  since: number;
  dirty: number;
  /** `Digest` as JSON text. */
  doc: string;
}

export interface SilencesTable {
  id: string;
  created_at: number;
  expires_at: number;
  expired_at: number | null;
  /** `Silence` as JSON text. */
  doc: string;
}

export interface IncidentsTable {
  /** `INC-` plus a time-sortable id; ordering by id is ordering by creation. */
  id: string;
  /** `open`, `mitigated` or `resolved`. */
  status: string;
  service: string;
  environment: string;
  /** The severity level in force (`sev1` … `sev4`). */
  severity: string;
  /** The alert group that opened it; null when declared. Unique: one incident per group. */
  group_id: string | null;
  /** Milliseconds since epoch. */
  created_at: number;
  /** Milliseconds since epoch; when the next status-update reminder is due, null when none. */
  next_reminder_at: number | null;
  /** Optimistic-concurrency counter, equal to `doc.version`. */
  version: number;
  /** The whole `Incident` as JSON text; the columns above are copies. */
  doc: string;
}

export interface IncidentTimelineTable {
  incident_id: string;
  /** 1, 2, 3 … per incident, assigned by the store. */
  seq: number;
  /** Milliseconds since epoch. */
  at: number;
  kind: string;
  actor: string;
  text: string;
  ref: string | null;
  /** `detail` as JSON text. */
  detail: string;
}

export interface RunbookRunsTable {
  /** `RBR-` plus a time-sortable id. */
  id: string;
  /** The incident it was started from, or null. */
  incident: string | null;
  /** `active`, `completed`, `failed` or `aborted`. */
  state: string;
  runbook: string;
  /** Milliseconds since epoch. */
  created_at: number;
  /** Optimistic-concurrency counter, equal to `doc.version`. */
  version: number;
  /** The whole `RunbookRun` as JSON text. */
  doc: string;
}

export interface ChangesTable {
  /** The request id or the ingested event's id; a second record with it is ignored. */
  id: string;
  service: string;
  environment: string;
  /** `deploy` or `config`. */
  kind: string;
  /** Milliseconds since epoch; when the change happened. */
  at: number;
  /** The whole `ChangeRecord` as JSON text. */
  doc: string;
}

/** Console sign-ins (`session-repo.ts`). */
export interface ConsoleSessionsTable {
  /** Lower-case hex SHA-256 of the cookie value; the value itself is never stored. */
  id_hash: string;
  /** The catalog person's id. */
  person: string;
  /** The session's CSRF token, sent back by the console as `X-CSRF-Token`. */
  csrf: string;
  /** `demo` or `oidc`. */
  via: string;
  /** Milliseconds since epoch. */
  created_at: number;
  /** Milliseconds since epoch; the session is over at or after this. */
  expires_at: number;
}

export interface Database {
  requests: RequestsTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  outbox: OutboxTable;
  idempotency: IdempotencyTable;
  review_items: ReviewItemsTable;
  chat_messages: ChatMessagesTable;
  events: EventsTable;
  alerts: AlertsTable;
  alert_groups: AlertGroupsTable;
  alert_digests: AlertDigestsTable;
  silences: SilencesTable;
  incidents: IncidentsTable;
  incident_timeline: IncidentTimelineTable;
  runbook_runs: RunbookRunsTable;
  changes: ChangesTable;
  console_sessions: ConsoleSessionsTable;
}

export type Dialect = 'sqlite' | 'postgres';
