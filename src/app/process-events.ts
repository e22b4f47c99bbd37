/**
 * Applies stored events: routes each one, turns an alert event into the alert kept per
 * (route, fingerprint), puts the alert in its group (one chat message), and decides
 * whether that message is posted, folded into the channel's digest (over budget) or kept
 * quiet (silenced, maintenance, replayed, suppressed, not firing). One transaction per
 * batch; events are marked processed in it, so a crash re-applies the whole batch or none.
 */
import {
  type AlertGroup,
  DEFAULT_BUDGET_PER_MINUTE,
  type Digest,
  digestOpen,
  firingDelta,
  foldIntoDigest,
  groupKeyParts,
  groupTakesAlerts,
  nextAlert,
  quietReason,
} from '../domain/alert-lifecycle.ts';
import type { AlertFacts, AlertRecord } from '../domain/alert-model.ts';
import type { Catalog } from '../domain/catalog.ts';
import { changeFromEvent } from '../domain/change-history.ts';
import { type CompiledPattern, compilePattern, matchesPattern } from '../domain/event-pattern.ts';
import { alertFactsOf } from '../domain/ingest/alert-facts.ts';
import {
  compileRoutes,
  type RouteDecision,
  type RouteTable,
  routeEvent,
  valueAt,
} from '../domain/routing.ts';
import type { Log } from './context.ts';
import type {
  EventOutcome,
  IngestMetrics,
  IngestTx,
  Silence,
  StoredEvent,
} from './ingest-ports.ts';
import type { CatalogSource, Clock, Ids, Sha256, Store } from './ports.ts';

export interface IngestDeps {
  store: Store;
  catalog: CatalogSource;
  clock: Clock;
  ids: Ids;
  sha256: Sha256;
  log: Log;
  metrics?: IngestMetrics;
  /** Called after a commit that enqueued incident work, so the dispatcher looks at once. */
  wakeDispatcher?: () => void;
}

const tables = new WeakMap<Catalog, RouteTable>();

/** The catalog's routes, compiled once per loaded catalog. */
export function routeTableOf(catalog: Catalog): RouteTable {
  let t = tables.get(catalog);
  if (!t) {
    t = compileRoutes(catalog);
    tables.set(catalog, t);
  }
  return t;
}

const silencePatterns = new Map<string, CompiledPattern | null>();

function silenceMatches(s: Silence, a: { service: string; environment: string }, e: object) {
  if (s.service !== '*' && s.service !== a.service) return false;
  if (s.environment !== '*' && s.environment !== a.environment) return false;
  if (Object.keys(s.pattern).length === 0) return true;
  let p = silencePatterns.get(s.id);
  if (p === undefined) {
    p = compilePattern(s.pattern);
    silencePatterns.set(s.id, p);
  }
  return p !== null && matchesPattern(p, e);
}

/** Applies `events` in one transaction; returns what became of each. */
export async function processEvents(
  deps: IngestDeps,
  events: readonly StoredEvent[],
): Promise<EventOutcome[]> {
  if (events.length === 0) return [];
  const catalog = deps.catalog.current();
  const table = routeTableOf(catalog);
  const now = deps.clock.now();
  const silences = await deps.store.ingest.activeSilences(now);
  // Routing and reading the facts are pure: done once, up front, so the batch's alerts can
  // be read in one query instead of one per event.
  const routed = events.map((e) => ({
    e,
    decisions: routeEvent(table, e.envelope),
    facts: alertFactsOf(e.envelope),
    // Deploys and config changes the event reports: the incident header's "last deploy".
    change: changeFromEvent(e.envelope, catalog),
  }));
  const outcomes = await deps.store.ingest.transaction(
    async (tx) => {
      const batch = new Batch(tx, deps, catalog, now);
      await batch.readAlerts(
        routed.flatMap(({ decisions, facts }) =>
          facts
            ? decisions.map((d) => ({ route: d.route.id, fingerprint: facts.fingerprint }))
            : [],
        ),
      );
      const out: EventOutcome[] = [];
      for (const { change } of routed) if (change) await tx.recordChange(change);
      for (const { e, decisions, facts } of routed) {
        if (decisions.some((d) => d.unrouted)) batch.unrouted += 1;
        const results: string[] = [];
        for (const d of decisions) {
          results.push(facts ? await batch.apply(e, d, facts, silences) : 'not-an-alert');
        }
        out.push({
          seq: e.seq,
          routes: decisions.map((d) => d.route.id),
          result: results.join(' '),
        });
      }
      await batch.flush();
      await tx.markProcessed(out, now);
      return { out, unrouted: batch.unrouted, wake: batch.incidentWork };
      // Lost only with the machine (not the process); the events stay unprocessed and are
      // applied again at start, so this commit need not wait for the disk.
    },
    { durable: false },
  );
  if (outcomes.unrouted > 0) deps.metrics?.unrouted(outcomes.unrouted);
  if (outcomes.wake) deps.wakeDispatcher?.();
  return outcomes.out;
}

/** Alerts, groups and digests read once per batch and written once at its end. */
class Batch {
  unrouted = 0;
  private readonly alerts = new Map<string, AlertRecord | undefined>();
  private readonly groups = new Map<string, AlertGroup>();
  private readonly latestByKey = new Map<string, AlertGroup | undefined>();
  private readonly digests = new Map<string, Digest | undefined>();
  private readonly shownNow = new Map<string, number>();
  /** Per channel, groups shown in the minute before this batch (the store's count, read once). */
  private readonly shownBefore = new Map<string, number>();
  private readonly shownAt = new Map<string, number>();
  private readonly dirtyAlerts = new Set<string>();
  private readonly dirtyGroups = new Set<string>();
  private readonly dirtyDigests = new Set<string>();
  /** Groups of incident routes that changed: each may open or update an incident. */
  private readonly groupChanged = new Map<string, AlertGroup>();

  constructor(
    private readonly tx: IngestTx,
    private readonly deps: IngestDeps,
    private readonly catalog: Catalog,
    private readonly now: number,
  ) {}

  async apply(
    e: StoredEvent,
    d: RouteDecision,
    facts: AlertFacts,
    silences: readonly Silence[],
  ): Promise<string> {
    const akey = `${d.route.id} ${facts.fingerprint}`;
    const prev = await this.alert(d.route.id, facts.fingerprint);
    const rawKey = groupKeyParts(d, facts, (p) => valueAt(e.envelope, p));
    const groupKey = this.deps.sha256(rawKey).slice(0, 32);
    const { record, change } = nextAlert(prev, facts, d, groupKey, this.now);
    if (change === 'stale') {
      this.keepAlert(akey, { ...record });
      return 'alert:stale';
    }
    const scope = { service: record.service, environment: record.environment };
    const silence = silences.find((s) => silenceMatches(s, scope, e.envelope));
    const maintenance = this.catalog.maintenanceWindows.find(
      (w) =>
        (w.services.includes('*') || w.services.includes(scope.service)) &&
        (w.environments.includes('*') || w.environments.includes(scope.environment)) &&
        w.from <= this.now &&
        this.now < w.to,
    );
    const quiet = quietReason(d, facts, {
      replay: e.envelope['replay-name'] !== undefined,
      ...(silence ? { silencedBy: silence.id } : {}),
      ...(maintenance ? { maintenance: maintenance.id } : {}),
    });
    const { group, joined } = await this.groupFor(prev, record, d);
    const before = joined ? undefined : prev?.state;
    const next: AlertGroup = {
      ...group,
      total: group.total + (joined ? 1 : 0),
      firing: Math.max(0, group.firing + firingDelta(before, record.state)),
      updatedAt: this.now,
      version: group.version + (change === 'repeated' && !joined ? 0 : 1),
    };
    // An incident route's alerts are shown by their incident's header (one message, not two).
    if (next.visibility === 'quiet' && !quiet && !d.route.incident) {
      next.visibility = (await this.underBudget(next.channel)) ? 'post' : 'digest';
      if (next.visibility === 'post') this.noteShown(next);
    }
    const stored: AlertRecord = {
      ...record,
      groupId: next.id,
      ...(silence ? { silencedBy: silence.id } : {}),
    };
    if (!silence) delete stored.silencedBy;
    this.keepAlert(akey, stored);
    this.keepGroup(next);
    if (next.visibility === 'digest' && change !== 'repeated') {
      await this.fold(next.channel, stored, firingDelta(before, record.state));
    }
    // Silenced, suppressed, replayed and maintenance alerts open no incident; a resolved one
    // still tells its incident (a runbook may wait for the alarms to return to OK).
    const muted = quiet !== undefined && quiet !== 'no channel' && !quiet.startsWith('not firing');
    if (d.route.incident && change !== 'repeated' && !muted) {
      this.groupChanged.set(next.id, next);
    }
    return `alert:${change}${quiet ? ` quiet(${quiet})` : ''}`;
  }

  /** Reads the alerts of `keys` in one go; the ones not found are remembered as new. */
  async readAlerts(keys: readonly { route: string; fingerprint: string }[]): Promise<void> {
    const unread = new Map<string, { route: string; fingerprint: string }>();
    for (const k of keys) {
      const key = `${k.route} ${k.fingerprint}`;
      if (!this.alerts.has(key)) unread.set(key, k);
    }
    if (unread.size === 0) return;
    for (const key of unread.keys()) this.alerts.set(key, undefined);
    for (const a of await this.tx.getAlerts([...unread.values()])) {
      this.alerts.set(`${a.route} ${a.fingerprint}`, a);
    }
  }

  private async alert(route: string, fingerprint: string): Promise<AlertRecord | undefined> {
    const key = `${route} ${fingerprint}`;
    if (!this.alerts.has(key)) {
      const [found] = await this.tx.getAlerts([{ route, fingerprint }]);
      this.alerts.set(key, found);
    }
    return this.alerts.get(key);
  }

  /** The alert's current group while it takes alerts, else the open group for its key, else a new one. */
  private async groupFor(
    prev: AlertRecord | undefined,
    a: AlertRecord,
    d: RouteDecision,
  ): Promise<{ group: AlertGroup; joined: boolean }> {
    const window = d.route.groupWindowMinutes;
    if (prev?.groupId) {
      const current = await this.group(prev.groupId);
      if (current && groupTakesAlerts(current, window, this.now)) {
        return { group: current, joined: false };
      }
    }
    if (!this.latestByKey.has(a.groupKey)) {
      // Without group_by the key is the alert's own (route, fingerprint), and such a group
      // is only ever written together with that alert's row (never deleted): a new alert
      // cannot have one, so the read is skipped (one query per new alarm in a storm).
      const ownKey = d.route.groupBy.length === 0;
      this.latestByKey.set(
        a.groupKey,
        ownKey && !prev ? undefined : await this.tx.latestGroup(a.groupKey),
      );
    }
    const latest = this.latestByKey.get(a.groupKey);
    const open = latest && this.groups.get(latest.id) ? this.groups.get(latest.id)! : latest;
    if (open && groupTakesAlerts(open, window, this.now)) return { group: open, joined: true };
    const created: AlertGroup = {
      id: this.deps.ids.next('ALG'),
      key: a.groupKey,
      route: a.route,
      service: a.service,
      environment: a.environment,
      severity: a.severity,
      channel: a.channel,
      runbooks: a.runbooks,
      openedAt: this.now,
      updatedAt: this.now,
      total: 0,
      firing: 0,
      visibility: 'quiet',
      version: 0,
      postedVersion: 0,
    };
    this.latestByKey.set(a.groupKey, created);
    return { group: created, joined: true };
  }

  private async group(id: string): Promise<AlertGroup | undefined> {
    const cached = this.groups.get(id);
    if (cached) return cached;
    const found = await this.tx.getGroup(id);
    if (found) this.groups.set(id, found);
    return found;
  }

  private async underBudget(channel: string): Promise<boolean> {
    const budget =
      this.catalog.alertChannels.find((c) => c.channel === channel)?.budgetPerMinute ??
      DEFAULT_BUDGET_PER_MINUTE;
    // Groups this batch shows are written at its end, so the store's count cannot change
    // meanwhile: read it once per channel and add `shownNow`.
    let stored = this.shownBefore.get(channel);
    if (stored === undefined) {
      stored = await this.tx.countShown(channel, this.now - 60_000);
      this.shownBefore.set(channel, stored);
    }
    return stored + (this.shownNow.get(channel) ?? 0) < budget;
  }

  private noteShown(g: AlertGroup): void {
    this.shownNow.set(g.channel, (this.shownNow.get(g.channel) ?? 0) + 1);
    this.shownAt.set(g.id, this.now);
  }

  private async fold(channel: string, a: AlertRecord, delta: number): Promise<void> {
    if (!this.digests.has(channel)) this.digests.set(channel, await this.tx.latestDigest(channel));
    let d = this.digests.get(channel);
    if (!d || !digestOpen(d, this.now)) {
      d = {
        id: this.deps.ids.next('DIG'),
        channel,
        since: this.now,
        until: this.now,
        total: 0,
        firing: 0,
        rows: [],
        others: 0,
        version: 0,
        postedVersion: 0,
      };
    }
    const next = foldIntoDigest(d, a, delta, this.now);
    this.digests.set(channel, next);
    this.dirtyDigests.add(channel);
  }

  private keepAlert(key: string, a: AlertRecord): void {
    this.alerts.set(key, a);
    this.dirtyAlerts.add(key);
  }

  private keepGroup(g: AlertGroup): void {
    this.groups.set(g.id, g);
    this.latestByKey.set(g.key, g);
    this.dirtyGroups.add(g.id);
  }

  async flush(): Promise<void> {
    for (const key of this.dirtyAlerts) {
      const a = this.alerts.get(key)!;
      await this.tx.putAlert(a, a.groupId ?? '');
    }
    for (const id of this.dirtyGroups) {
      const g = this.groups.get(id)!;
      await this.tx.putGroup(g, this.shownAt.get(id));
    }
    for (const channel of this.dirtyDigests) await this.tx.putDigest(this.digests.get(channel)!);
    const changed = [...this.groupChanged.values()].map((g) => ({
      kind: 'open-incident' as const,
      key: `group:${g.id}:v${g.version}`,
      payload: { groupId: g.id, route: g.route, firing: g.firing },
      availableAt: this.now,
    }));
    if (changed.length > 0) await this.tx.enqueue(changed);
  }

  /** True when this batch asked for incident work, so the dispatcher should look now. */
  get incidentWork(): boolean {
    return this.groupChanged.size > 0;
  }
}
