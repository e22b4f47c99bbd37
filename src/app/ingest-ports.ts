/**
 * The ports ingestion needs: the event journal and alert state in the store, and the chat
 * surface alerts are shown on. Implemented in `src/adapters/store/ingest-*.ts` and
 * `src/adapters/slack/slack-alert-chat.ts`.
 */

import type { AlertGroup, Digest } from '../domain/alert-lifecycle.ts';
import type { AlertGroupView, AlertRecord, DigestView } from '../domain/alert-model.ts';
import type { AuditDraft, AuditEntry } from '../domain/audit-chain.ts';
import type { EventEnvelope, IngestSource } from '../domain/event-envelope.ts';
import type { ChangeRecord } from '../domain/incident-model.ts';
import type { ChatMessageClaim, ChatMessageKind, OutboxDraft } from './ports.ts';

/** An event as received, before it is stored. */
export interface NewEvent {
  /** Deduplication key: a second event with the same key is a duplicate delivery. */
  key: string;
  ingest: IngestSource;
  /** ms since epoch. */
  receivedAt: number;
  envelope: EventEnvelope;
}

export interface StoredEvent extends NewEvent {
  /** 1, 2, 3 … in the order events were stored. */
  seq: number;
}

export interface EventFilter {
  source?: string;
  detailType?: string;
  /** Only events with a smaller seq (newest-first paging). */
  beforeSeq?: number;
  /** Default 50, at most 500. */
  limit?: number;
}

/** What became of a stored event once routed. */
export interface EventOutcome {
  seq: number;
  /** The routes it took; `unrouted` for the built-in default. */
  routes: string[];
  /** What it did: `alert:opened`, `alert:changed`, `stale`, `not-an-alert`, … */
  result: string;
}

/** A silence mutes alerts that match it, within a service/environment scope, until it expires. */
export interface Silence {
  id: string;
  /** `*` for every service / environment (administrators only). */
  service: string;
  environment: string;
  /** An EventBridge pattern the event must also match; empty: everything in scope. */
  pattern: Record<string, unknown>;
  reason: string;
  createdBy: string;
  /** ms since epoch. */
  createdAt: number;
  expiresAt: number;
  expiredBy?: string;
  expiredAt?: number;
}

export interface AlertFilter {
  service?: string;
  environment?: string;
  state?: AlertRecord['state'];
  channel?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** One transaction over alert state. Every method joins it. */
export interface IngestTx {
  getAlerts(keys: readonly { route: string; fingerprint: string }[]): Promise<AlertRecord[]>;
  putAlert(a: AlertRecord, groupId: string): Promise<void>;
  /** The newest group with this key, if any. */
  latestGroup(key: string): Promise<AlertGroup | undefined>;
  getGroup(id: string): Promise<AlertGroup | undefined>;
  putGroup(g: AlertGroup, shownAt: number | undefined): Promise<void>;
  /** The newest digest of a channel, if any. */
  latestDigest(channel: string): Promise<Digest | undefined>;
  putDigest(d: Digest): Promise<void>;
  /** Groups shown in `channel` (posted on their own) at or after `since`. */
  countShown(channel: string, since: number): Promise<number>;
  markProcessed(outcomes: readonly EventOutcome[], at: number): Promise<void>;
  insertSilence(s: Silence): Promise<void>;
  expireSilence(id: string, by: string, at: number): Promise<boolean>;
  appendAudit(drafts: readonly AuditDraft[]): Promise<AuditEntry[]>;
  /** Enqueues outbox effects (e.g. `open-incident`); a draft whose key exists is skipped. */
  enqueue(drafts: readonly OutboxDraft[]): Promise<void>;
  /** Records a deploy or config change an event reports; a second record with the same id is ignored. */
  recordChange(c: ChangeRecord): Promise<void>;
}

export interface IngestStore {
  /**
   * Durably stores the events whose key was not seen before, in one transaction, and
   * returns those (with their seq); the others were duplicates.
   */
  appendEvents(events: readonly NewEvent[]): Promise<StoredEvent[]>;
  /** Stored events not yet processed, oldest first: what a crash left undone. */
  unprocessedEvents(limit: number): Promise<StoredEvent[]>;
  /**
   * Runs `fn` in one transaction. With `durable: false` the commit returns before it is
   * flushed to disk (SQLite synchronous=NORMAL, PostgreSQL synchronous_commit=off): a
   * process crash loses nothing, a power loss may lose this commit. Use it only for work
   * that is redone from durable state when lost (applying stored events, sync marks).
   */
  transaction<T>(fn: (tx: IngestTx) => Promise<T>, opts?: { durable?: boolean }): Promise<T>;

  getEvent(seq: number): Promise<(StoredEvent & { outcome?: EventOutcome }) | undefined>;
  listEvents(filter: EventFilter): Promise<StoredEvent[]>;
  countEvents(): Promise<number>;
  listAlerts(filter: AlertFilter): Promise<AlertRecord[]>;
  countAlerts(filter: AlertFilter): Promise<number>;
  getGroup(id: string): Promise<AlertGroup | undefined>;
  /** The group's most recently changed alerts, newest first. */
  groupAlerts(groupId: string, limit: number): Promise<AlertRecord[]>;
  getDigest(id: string): Promise<Digest | undefined>;
  /** Groups and digests whose message is behind their state, oldest first. */
  unsynced(limit: number): Promise<{ groups: string[]; digests: string[] }>;
  /** Records that the message shows `version` (a later version stays unsynced). */
  markGroupSynced(id: string, version: number): Promise<void>;
  markDigestSynced(id: string, version: number): Promise<void>;
  /**
   * `Store.claimChatMessage` and `Store.recordChatMessage` for alert messages (groups and
   * digests), committed without waiting for the disk (as `transaction` with `durable:
   * false`): a process crash loses neither, so a post that Slack took before a `kill -9`
   * is still found by its claim and adopted. A power loss may lose them, together with the
   * processing commit that made the group (not durable either): the events are then
   * applied again from the journal and the alert may be posted a second time.
   */
  claimChatMessage(
    id: string,
    kind: ChatMessageKind,
    channel: string,
    now: number,
  ): Promise<ChatMessageClaim>;
  recordChatMessage(id: string, kind: ChatMessageKind, ts: string): Promise<void>;
  /** Silences not expired at `now` (by time or by hand). */
  activeSilences(now: number): Promise<Silence[]>;
  listSilences(includeExpired: boolean): Promise<Silence[]>;
}

/** Where alert messages are shown (Slack), posted once and then updated in place. */
export interface AlertChat {
  showGroup(id: string, view: AlertGroupView): Promise<void>;
  showDigest(id: string, view: DigestView): Promise<void>;
}

/** Counters ingestion keeps (Prometheus in production). */
export interface IngestMetrics {
  accepted(ingest: string, n: number): void;
  duplicates(ingest: string, n: number): void;
  rejected(ingest: string, code: string): void;
  unrouted(n: number): void;
  /** Seconds from receipt to the moment the chat message was handed to the chat port. */
  toChat?(seconds: number): void;
}
