/**
 * Ingestion as three stages, each durable before the next starts:
 *
 * 1. **Journal** — `accept` stores events (deduplicated by key) and resolves only once
 *    they are committed, so the sender's 2xx means "stored". Calls that arrive while a
 *    commit is in flight are committed together in the next one (group commit): one fsync
 *    for many events, so durability does not cost throughput.
 * 2. **Processing** — stored events are routed and applied in batches (`processEvents`);
 *    a batch is marked processed in its own transaction, and events a crash left
 *    unprocessed are picked up again at start.
 * 3. **Chat sync** — a group or digest whose state is ahead of its message is shown
 *    (posted once, then updated in place) until the message is in step; a failure leaves it
 *    behind and it is retried with backoff.
 */
import type { AlertGroup } from '../domain/alert-lifecycle.ts';
import type { AlertGroupView } from '../domain/alert-model.ts';
import type { AlertChat, NewEvent, StoredEvent } from './ingest-ports.ts';
import { type IngestDeps, processEvents } from './process-events.ts';

export interface PipelineOptions {
  /** Most events in one journal commit. Default 1000. */
  maxCommit?: number;
  /**
   * Most events applied in one processing transaction. Default 64: about what one journal
   * commit takes under load; a larger batch saves little and holds the thread longer.
   */
  maxBatch?: number;
  /** Poll for unsynced messages at least this often, in ms. Default 1000. */
  syncPollMs?: number;
  /** Chat messages shown at once. Default 16. */
  syncConcurrency?: number;
  /** Base URL of the web console, for "full record" links. */
  consoleUrl?: string;
}

interface Waiting {
  events: readonly NewEvent[];
  resolve(r: { accepted: number; duplicates: number }): void;
  reject(err: unknown): void;
}

/** Alerts listed in a group's message. */
const LISTED = 5;

export class IngestPipeline {
  private readonly waiting: Waiting[] = [];
  private committing = false;
  private readonly queue: StoredEvent[] = [];
  private processing: Promise<void> | undefined;
  private running = false;
  private syncLoop: Promise<void> | undefined;
  private wakeSync: (() => void) | undefined;
  private syncRequested = false;
  private readonly showing = new Set<string>();
  private readonly retryAt = new Map<string, number>();
  private readonly opts: Required<Omit<PipelineOptions, 'consoleUrl'>> & { consoleUrl?: string };

  constructor(
    private readonly deps: IngestDeps & { chat: AlertChat },
    options: PipelineOptions = {},
  ) {
    this.opts = {
      maxCommit: options.maxCommit ?? 1000,
      maxBatch: options.maxBatch ?? 64,
      syncPollMs: options.syncPollMs ?? 1000,
      syncConcurrency: options.syncConcurrency ?? 16,
      ...(options.consoleUrl ? { consoleUrl: options.consoleUrl } : {}),
    };
  }

  /** Stores the events; resolves once they are durable (or were already stored). */
  accept(events: readonly NewEvent[]): Promise<{ accepted: number; duplicates: number }> {
    if (events.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0 });
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
      this.commitNext();
    });
  }

  /** Picks up what a previous run left unprocessed, then processes and syncs as work arrives. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (;;) {
      const left = await this.deps.store.ingest.unprocessedEvents(this.opts.maxBatch);
      if (left.length === 0) break;
      await processEvents(this.deps, left);
    }
    this.syncLoop = this.runSync();
  }

  /** Finishes the commits and batches in hand, then stops the sync loop. */
  async stop(): Promise<void> {
    this.running = false;
    await this.idle();
    this.wakeSync?.();
    await this.syncLoop;
  }

  /** Resolves when every accepted event is processed and every message is in step (tests, tools). */
  async drain(): Promise<void> {
    await this.idle();
    for (;;) {
      const { groups, digests } = await this.deps.store.ingest.unsynced(100);
      const todo = [
        ...groups.map((id) => ({ id, digest: false })),
        ...digests.map((id) => ({ id, digest: true })),
      ];
      if (todo.length === 0 || todo.every((t) => this.showing.has(t.id))) {
        if (this.showing.size === 0) return;
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      await Promise.all(todo.map((t) => this.show(t.id, t.digest)));
    }
  }

  private async idle(): Promise<void> {
    while (this.committing || this.waiting.length > 0 || this.processing || this.queue.length) {
      await (this.processing ?? new Promise((r) => setTimeout(r, 1)));
    }
  }

  // ── 1. journal ─────────────────────────────────────────────────────────────────────

  /**
   * Starts the next commit on the next turn of the event loop, so every request read in
   * this turn joins it; while a commit is in flight, arrivals wait for the one after.
   */
  private commitNext(): void {
    if (this.committing || this.waiting.length === 0) return;
    this.committing = true;
    setImmediate(() => this.commitNow());
  }

  private commitNow(): void {
    const batch: Waiting[] = [];
    let n = 0;
    while (this.waiting.length > 0 && (batch.length === 0 || n < this.opts.maxCommit)) {
      const w = this.waiting.shift()!;
      batch.push(w);
      n += w.events.length;
    }
    void this.commit(batch).finally(() => {
      this.committing = false;
      this.commitNext();
    });
  }

  private async commit(batch: Waiting[]): Promise<void> {
    const all = batch.flatMap((w) => w.events);
    let stored: StoredEvent[];
    try {
      stored = await this.deps.store.ingest.appendEvents(all);
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    const fresh = new Set(stored.map((s) => s.key));
    for (const w of batch) {
      let accepted = 0;
      for (const e of w.events) {
        if (fresh.delete(e.key)) accepted += 1;
      }
      const ingest = w.events[0]!.ingest;
      this.deps.metrics?.accepted(ingest, accepted);
      if (w.events.length > accepted)
        this.deps.metrics?.duplicates(ingest, w.events.length - accepted);
      w.resolve({ accepted, duplicates: w.events.length - accepted });
    }
    this.queue.push(...stored);
    this.processNext();
  }

  // ── 2. processing ──────────────────────────────────────────────────────────────────

  private processNext(): void {
    if (this.processing || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    this.processing = processEvents(this.deps, batch)
      .then(() => this.requestSync())
      .catch((err) => {
        // Left unprocessed in the store; the next start (or the next batch) takes them up.
        this.deps.log.error({ err, events: batch.length }, 'processing ingested events failed');
        setTimeout(() => this.requeue(), 1000).unref();
      })
      .finally(() => {
        this.processing = undefined;
        // The next batch waits for the event loop's turn: a batch runs without yielding
        // (the SQLite driver is synchronous), so requests, journal commits and chat posts
        // get in between batches instead of waiting behind the whole queue.
        setImmediate(() => this.processNext());
      });
  }

  private async requeue(): Promise<void> {
    try {
      const left = await this.deps.store.ingest.unprocessedEvents(this.opts.maxBatch);
      const known = new Set(this.queue.map((q) => q.seq));
      this.queue.push(...left.filter((e) => !known.has(e.seq)));
      this.processNext();
    } catch (err) {
      this.deps.log.warn({ err }, 'could not re-read unprocessed events');
    }
  }

  // ── 3. chat sync ───────────────────────────────────────────────────────────────────

  private requestSync(): void {
    this.syncRequested = true;
    this.wakeSync?.();
  }

  private async runSync(): Promise<void> {
    while (this.running) {
      this.syncRequested = false;
      try {
        const free = this.opts.syncConcurrency - this.showing.size;
        if (free > 0) {
          const { groups, digests } = await this.deps.store.ingest.unsynced(
            free + this.showing.size,
          );
          const now = this.deps.clock.now();
          const todo = [
            ...groups.map((id) => ({ id, digest: false })),
            ...digests.map((id) => ({ id, digest: true })),
          ].filter((t) => !this.showing.has(t.id) && (this.retryAt.get(t.id) ?? 0) <= now);
          for (const t of todo.slice(0, free)) void this.show(t.id, t.digest);
        }
      } catch (err) {
        this.deps.log.warn({ err }, 'alert chat sync cycle failed');
      }
      if (!this.syncRequested) await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.opts.syncPollMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeSync = undefined;
        resolve();
      }
      this.wakeSync = done;
    });
  }

  private async show(id: string, digest: boolean): Promise<void> {
    if (this.showing.has(id)) return;
    this.showing.add(id);
    const { store, chat, clock } = this.deps;
    try {
      if (digest) {
        const d = await store.ingest.getDigest(id);
        if (d && d.version > d.postedVersion) {
          const { id: _, version: __, postedVersion: ___, ...rest } = d;
          await chat.showDigest(id, { ...rest, ...this.recordUrl(`alerts?channel=${d.channel}`) });
          await store.ingest.markDigestSynced(id, d.version);
        }
      } else {
        const g = await store.ingest.getGroup(id);
        if (g && g.visibility === 'post' && g.version > g.postedVersion) {
          const alerts = await store.ingest.groupAlerts(id, LISTED);
          await chat.showGroup(id, this.groupView(g, alerts));
          this.noteLatency(g);
          await store.ingest.markGroupSynced(id, g.version);
        }
      }
      this.retryAt.delete(id);
    } catch (err) {
      const tries = (this.retryAt.has(id) ? 2 : 1) * 1000;
      this.retryAt.set(id, clock.now() + tries);
      this.deps.log.warn({ err, id }, 'showing an alert message failed; will retry');
    } finally {
      this.showing.delete(id);
      this.requestSync();
    }
  }

  private groupView(g: AlertGroup, alerts: AlertGroupView['alerts']): AlertGroupView {
    return {
      groupKey: g.key,
      route: g.route,
      service: g.service,
      environment: g.environment,
      severity: g.severity,
      channel: g.channel,
      runbooks: g.runbooks,
      alerts,
      total: g.total,
      firing: g.firing,
      openedAt: g.openedAt,
      updatedAt: g.updatedAt,
      ...this.recordUrl(`alerts/groups/${encodeURIComponent(g.id)}`),
    };
  }

  private recordUrl(path: string): { recordUrl?: string } {
    return this.opts.consoleUrl
      ? { recordUrl: `${this.opts.consoleUrl.replace(/\/$/, '')}/${path}` }
      : {};
  }

  private noteLatency(g: AlertGroup): void {
    if (!this.deps.metrics?.toChat) return;
    this.deps.metrics.toChat(Math.max(0, this.deps.clock.now() - g.updatedAt) / 1000);
  }
}
