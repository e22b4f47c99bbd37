/**
 * The ports the use cases need. Adapters implement them (`src/adapters/store`,
 * `src/adapters/executors`); the app never imports an adapter.
 */
import type { AuditDraft, AuditEntry, AuditRecord, SealedAuditRow } from '../domain/audit-chain.ts';
import type { Catalog, Command, HandlerRef } from '../domain/catalog.ts';
import type {
  ChangeRecord,
  Incident,
  IncidentFilter,
  TimelineDraft,
  TimelineEntry,
} from '../domain/incident-model.ts';
import type { ActionRequest, ParamValue, RequestState } from '../domain/request-model.ts';
import type { RunbookRun, RunState } from '../domain/runbook-model.ts';
import type { IngestStore } from './ingest-ports.ts';

export interface Clock {
  /** Milliseconds since epoch. */
  now(): number;
}

export interface Ids {
  /** A new unique, roughly time-sortable id with the given prefix, e.g. `REQ-01J…`. */
  next(prefix: string): string;
}

/** Lower-case hex SHA-256 of a UTF-8 string. */
export type Sha256 = (s: string) => string;

export type OutboxKind = OutboxDraft['kind'];

/** Work the domain decided on, written in the same transaction as the state change. */
export interface OutboxDraft {
  /**
   * `execute` runs an approved request; `notify` tells people about a change;
   * `open-incident` opens the incident an alert group asks for (payload: the group id and
   * route); `show-incident` / `show-run` bring the incident header or the run's step card in
   * chat up to date.
   */
  kind: 'execute' | 'notify' | 'open-incident' | 'show-incident' | 'show-run';
  /** Unique per effect: a second enqueue with the same key is ignored. */
  key: string;
  payload: Record<string, unknown>;
  /** Not before this time, milliseconds since epoch. */
  availableAt: number;
}

export interface OutboxEffect extends OutboxDraft {
  id: number;
  /** How many times a worker has claimed it. */
  attempts: number;
  /** Milliseconds since epoch. */
  createdAt: number;
  lastError?: string;
}

export interface ReviewItem {
  id: string;
  requestId: string;
  kind: 'break-glass';
  /** Milliseconds since epoch. */
  createdAt: number;
  resolvedBy?: string;
  resolvedAt?: number;
  note?: string;
}

export interface RequestFilter {
  states?: RequestState[];
  requester?: string;
  service?: string;
  environment?: string;
  /** Only requests whose id sorts before this one (newest first paging). */
  before?: string;
  /** At most this many, newest first. Default 50, at most 500. */
  limit?: number;
}

export interface AuditFilter {
  target?: string;
  actor?: string;
  action?: string;
  /** Only entries with a larger seq. */
  afterSeq?: number;
  /** Only entries with a smaller seq (the cursor of newest-first pages). */
  beforeSeq?: number;
  /** Only entries at or after this time, in milliseconds since epoch. */
  fromAt?: number;
  /** Only entries at or before this time, in milliseconds since epoch. */
  toAt?: number;
  /** `newest` reads newest first (by seq); default `oldest`. */
  order?: 'oldest' | 'newest';
  /** At most this many, in `order`. Default 100, at most 1000. */
  limit?: number;
}

export type IdempotencyBegin =
  | { state: 'new' }
  | { state: 'in-progress' }
  | { state: 'mismatch' }
  | { state: 'done'; status: number; body: string };

/**
 * Which of a request's chat messages: the approval prompt (updated in place), the outcome
 * reply in its thread, the outcome sent privately to the requester, and the loud alerts
 * posted to the service's ops channel. Each is posted at most once per request.
 */
export type ChatMessageKind =
  | 'prompt'
  | 'result'
  | 'result-dm'
  | 'alert-break-glass'
  | 'alert-unknown'
  /** An alert group's message (keyed by the group id), and a channel digest (by digest id). */
  | 'alert-group'
  | 'alert-digest'
  /** An incident's header (keyed by the incident id), its dedicated channel, a run's step card (by run id). */
  | 'incident-header'
  | 'incident-channel'
  | 'run-card';

/**
 * What `claimChatMessage` found: `new` (the caller now owns posting it), `posting` (claimed
 * at `since`, ms since epoch, but no ts recorded: being posted, or the poster crashed
 * before or after posting), or `posted`.
 */
export type ChatMessageClaim =
  | { state: 'new' }
  | { state: 'posting'; since: number }
  | { state: 'posted'; channel: string; ts: string };

/** What one transaction may do. Every method joins the surrounding transaction. */
export interface StoreTx {
  /** Reads a request and, on PostgreSQL, locks its row until the transaction ends. */
  getRequest(id: string): Promise<ActionRequest | undefined>;
  insertRequest(r: ActionRequest): Promise<void>;
  /**
   * Writes `r`, whose `version` must be exactly one more than the stored version;
   * throws `DomainError('CONFLICT')` otherwise.
   */
  updateRequest(r: ActionRequest): Promise<void>;
  /** Appends entries to the hash chain, in order, and returns them as stored. */
  appendAudit(drafts: readonly AuditDraft[]): Promise<AuditEntry[]>;
  /** Enqueues effects; a draft whose key already exists is skipped. */
  enqueue(drafts: readonly OutboxDraft[]): Promise<void>;
  /** Removes a finished effect. */
  deleteOutbox(id: number): Promise<void>;
  insertReviewItem(item: ReviewItem): Promise<void>;
  resolveReviewItem(id: string, by: string, at: number, note: string): Promise<boolean>;

  /** Reads an incident and, on PostgreSQL, locks its row until the transaction ends. */
  getIncident(id: string): Promise<Incident | undefined>;
  /** The incident an alert group opened, if any (one per group). */
  incidentForGroup(groupId: string): Promise<Incident | undefined>;
  /**
   * The unresolved incident `route` opened for a service environment, if any. Callers that
   * may open one ask this first: on PostgreSQL it serialises them per key until the
   * transaction ends, so two alert groups of one route never open two incidents at once.
   */
  openIncidentFor(
    route: string,
    service: string,
    environment: string,
  ): Promise<Incident | undefined>;
  /** Throws `DomainError('CONFLICT')` when another incident already holds its alert group. */
  insertIncident(i: Incident): Promise<void>;
  /** Writes `i` over version `i.version - 1`; throws `CONFLICT` otherwise. */
  updateIncident(i: Incident): Promise<void>;
  /** Appends to incidents' timelines (seq per incident, in order) and returns the entries. */
  appendTimeline(drafts: readonly TimelineDraft[]): Promise<TimelineEntry[]>;
  /** Reads a run and, on PostgreSQL, locks its row until the transaction ends. */
  getRun(id: string): Promise<RunbookRun | undefined>;
  insertRun(r: RunbookRun): Promise<void>;
  /** Writes `r` over version `r.version - 1`; throws `CONFLICT` otherwise. */
  updateRun(r: RunbookRun): Promise<void>;
  /** Records a deploy or config change; a second record with the same id is ignored. */
  recordChange(c: ChangeRecord): Promise<void>;
}

export interface RunFilter {
  incident?: string;
  states?: RunState[];
  /** Default 50, at most 500; newest first. */
  limit?: number;
}

/** A console sign-in. The cookie value is never stored: only its SHA-256. */
export interface ConsoleSession {
  /** Lower-case hex SHA-256 of the session cookie's value. */
  idHash: string;
  /** The catalog person's id. */
  person: string;
  /** The token the console sends back as `X-CSRF-Token` on every mutating call. */
  csrf: string;
  via: 'demo' | 'oidc';
  /** Milliseconds since epoch. */
  createdAt: number;
  /** Milliseconds since epoch; the session is over at or after this. */
  expiresAt: number;
}

/** Console sessions, kept in the store so they survive restarts and span replicas. */
export interface SessionStore {
  /**
   * Stores `session` and appends `audit` in one transaction; sessions that expired by
   * `session.createdAt` are removed on the way.
   */
  start(session: ConsoleSession, audit: AuditDraft): Promise<void>;
  /** The session with this id hash while it has not expired at `now` (ms since epoch). */
  find(idHash: string, now: number): Promise<ConsoleSession | undefined>;
  /**
   * Moves the session's end to `expiresAt` (ms since epoch) while it is still live at `now`
   * — the idle timeout sliding on use; the caller never moves it past the absolute end.
   */
  touch(idHash: string, expiresAt: number, now: number): Promise<void>;
  /**
   * Deletes the session and appends the audit entry `audit` builds from it, in one
   * transaction; undefined (and nothing audited) when there was no such session.
   */
  end(
    idHash: string,
    audit: (s: ConsoleSession) => AuditDraft,
  ): Promise<ConsoleSession | undefined>;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Ingested events and alert state, in the same database. */
  readonly ingest: IngestStore;
  /** Console sign-ins. */
  readonly sessions: SessionStore;
  /**
   * Runs `fn` in one transaction; rolls back if it throws. With `durable: false` the commit
   * returns before it is flushed to disk (SQLite synchronous=NORMAL, PostgreSQL
   * synchronous_commit=off): a process crash loses nothing, a power loss may lose this
   * commit. Only for work an outbox effect it deletes would redo (follow-ups, chat sync).
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, opts?: { durable?: boolean }): Promise<T>;

  getRequest(id: string): Promise<ActionRequest | undefined>;
  listRequests(filter: RequestFilter): Promise<ActionRequest[]>;
  /** Pending requests whose `expiresAt` is at or before `now`. */
  listExpired(now: number, limit: number): Promise<ActionRequest[]>;

  /**
   * Leases up to `limit` effects that are available at `now` and not leased, for
   * `leaseMs`. A lease that runs out makes the effect claimable again.
   */
  claimOutbox(
    now: number,
    limit: number,
    leaseMs: number,
    /** Only effects of these kinds (all kinds when absent). */
    kinds?: readonly OutboxKind[],
  ): Promise<OutboxEffect[]>;
  /** Extends the lease of an effect still being worked on. */
  renewLease(id: number, until: number): Promise<void>;
  /** Gives an effect back, to be retried at `availableAt`. */
  releaseOutbox(id: number, availableAt: number, error: string): Promise<void>;
  /** Ends every lease at once; only for a single-process store at start-up. */
  releaseAllLeases(): Promise<void>;
  countOutbox(): Promise<number>;

  queryAudit(filter: AuditFilter): Promise<AuditEntry[]>;
  /**
   * Entries with seq >= fromSeq in seq order, at most `limit`, in their stored form
   * (`links`/`detail` as canonical JSON text). For verification and export.
   */
  readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]>;
  /** The same entries with their hash preimage assembled by the database: verification's fast path. */
  readAuditSealed(fromSeq: number, limit: number): Promise<SealedAuditRow[]>;
  /** The last appended entry as recorded apart from the rows, or undefined when empty. */
  auditHead(): Promise<{ seq: number; hash: string } | undefined>;
  /**
   * Optional fast path of `verifyAudit`: checks the chain up to the head on every core with
   * SHA-256. `intact` only when the entry-by-entry check would pass; when not intact the
   * caller runs that check to name the first bad entry (`checked` is then 0).
   */
  verifyAuditParallel?(): Promise<{ intact: boolean; checked: number }>;

  /** Records the first use of an Idempotency-Key for `scope` (the caller) or reports it. */
  beginIdempotent(
    scope: string,
    key: string,
    bodyHash: string,
    now: number,
  ): Promise<IdempotencyBegin>;
  finishIdempotent(scope: string, key: string, status: number, body: string): Promise<void>;
  /** Forgets an in-progress key whose request failed before it was handled. */
  abandonIdempotent(scope: string, key: string): Promise<void>;

  listReviewItems(openOnly: boolean): Promise<ReviewItem[]>;

  getIncident(id: string): Promise<Incident | undefined>;
  /** Newest first. */
  listIncidents(filter: IncidentFilter): Promise<Incident[]>;
  /** An incident's timeline entries with seq > afterSeq, oldest first, at most `limit` (default 500, at most 5000). */
  timeline(incidentId: string, afterSeq?: number, limit?: number): Promise<TimelineEntry[]>;
  /** Open or mitigated incidents whose `nextReminderAt` is at or before `now`. */
  incidentsDueReminder(now: number, limit: number): Promise<Incident[]>;
  getRun(id: string): Promise<RunbookRun | undefined>;
  listRuns(filter: RunFilter): Promise<RunbookRun[]>;
  /** The newest change of each kind for a service environment, at or before `at`. */
  lastChanges(
    service: string,
    environment: string,
    at: number,
  ): Promise<{ deploy?: ChangeRecord; config?: ChangeRecord }>;
  /**
   * For reports: records created at or after `since`, oldest first, after the id
   * `afterId` (paging), at most `limit` (at most 5000) per call.
   */
  requestsSince(
    since: number,
    afterId: string | undefined,
    limit: number,
  ): Promise<ActionRequest[]>;
  incidentsSince(since: number, afterId: string | undefined, limit: number): Promise<Incident[]>;
  runsSince(since: number, afterId: string | undefined, limit: number): Promise<RunbookRun[]>;

  /**
   * Reserves the chat message of `kind` for a request before posting it to `channel`; reports
   * an earlier reservation. Of several concurrent claims exactly one gets `new`. `now` is ms
   * since epoch.
   */
  claimChatMessage(
    requestId: string,
    kind: ChatMessageKind,
    channel: string,
    now: number,
  ): Promise<ChatMessageClaim>;
  /** Records the posted message's ts (Slack's message timestamp) on an earlier claim. */
  recordChatMessage(requestId: string, kind: ChatMessageKind, ts: string): Promise<void>;
  /** The posted message of `kind`, or undefined when it was never claimed or has no ts yet. */
  getChatMessage(
    requestId: string,
    kind: ChatMessageKind,
  ): Promise<{ channel: string; ts: string } | undefined>;

  /** True when the store answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** What an executor is asked to run. */
export interface ExecutionInput {
  requestId: string;
  command: Command;
  handler: HandlerRef;
  service: string;
  environment: string;
  params: Record<string, ParamValue>;
  requester: string;
  /** Milliseconds; the executor gives up and reports a timeout after this. */
  timeoutMs: number;
  /**
   * An approved request's run (stamped `running` already): the executor starts it ahead of
   * previews and read-only commands waiting for the same capacity.
   */
  approved?: boolean;
}

export interface ExecutionOutcome {
  ok: boolean;
  /** The handler's result, JSON-serialised, before redaction and size bounds. */
  output: string;
  error?: string;
  timedOut: boolean;
}

export interface Executor {
  /** Never rejects: a failure is an outcome with `ok: false`. */
  run(input: ExecutionInput): Promise<ExecutionOutcome>;
  /** Prepares workers ahead of the first run, if the executor keeps any. */
  warm?(): void;
  /**
   * How many approved runs it can usefully hold at once: running, or next in line where
   * they start without waiting for anyone else. The dispatcher takes no more (a request
   * marked `running` should be running). Unbounded (the dispatcher's default) when absent.
   */
  readonly capacity?: number;
  /** Stops workers; runs in progress are abandoned. */
  close?(): Promise<void>;
}

/** Tells people about something, outside the transaction (chat, logs). */
export interface Notifier {
  notify(event: { kind: string; requestId?: string; text: string; loud: boolean }): Promise<void>;
}

/** The catalog in force. Reloading swaps it atomically. */
export interface CatalogSource {
  current(): Catalog;
}
