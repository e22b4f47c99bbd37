/**
 * Use case: the review report over a time window — requests, incidents and runbook runs
 * created in it that the person may view, summed up by the pure `review-report` module.
 *
 * Requests and runs are read up to `ROLLBACK_WINDOW_MS` past the window's end, because a
 * rollback or an incident's first action may follow after it; the pure module counts only
 * records created in the window and uses the rest as what followed. A run created before
 * the window that made a request inside it is read too, so the request counts for its
 * runbook. Records are read oldest first, a page at a time.
 */
import type { Catalog } from '../domain/catalog.ts';
import type { Incident } from '../domain/incident-model.ts';
import { can } from '../domain/policy.ts';
import type { ActionRequest } from '../domain/request-model.ts';
import { type ReviewReport, ROLLBACK_WINDOW_MS, reviewReport } from '../domain/review-report.ts';
import type { RunbookRun } from '../domain/runbook-model.ts';
import type { Actor, AppDeps } from './context.ts';

export interface ReportWindow {
  /** Milliseconds since epoch: records created at or after this. */
  since: number;
  /** Milliseconds since epoch: records created before this. */
  until: number;
}

/** Records read per store call. */
const PAGE = 1000;

type Page<T> = (since: number, afterId: string | undefined, limit: number) => Promise<T[]>;

/** Every record created from `since` to before `horizon` that `keep` accepts, oldest first. */
async function collect<T extends { id: string; createdAt: number }>(
  page: Page<T>,
  since: number,
  horizon: number,
  keep: (x: T) => boolean,
): Promise<T[]> {
  const out: T[] = [];
  for (let after: string | undefined; ; ) {
    const rows = await page(since, after, PAGE);
    for (const x of rows) if (x.createdAt < horizon && keep(x)) out.push(x);
    const last = rows[rows.length - 1];
    if (!last || rows.length < PAGE || last.createdAt >= horizon) return out;
    after = last.id;
  }
}

/** May the person view a record of `command` (or the reserved `incident` / `runbook`)? */
const sees =
  (catalog: Catalog, actor: Actor) =>
  (command: string, x: { service: string; environment: string }) =>
    can(catalog, actor.person, 'view', {
      command,
      service: x.service,
      environment: x.environment,
    });

export async function buildReviewReport(
  deps: AppDeps,
  actor: Actor,
  window: ReportWindow,
): Promise<ReviewReport> {
  const catalog = deps.catalog.current();
  const store = deps.store;
  const may = sees(catalog, actor);
  const horizon = window.until + ROLLBACK_WINDOW_MS;
  const requests = await collect<ActionRequest>(
    (s, a, l) => store.requestsSince(s, a, l),
    window.since,
    horizon,
    (r) => may(r.command, r),
  );
  const incidents = await collect<Incident>(
    (s, a, l) => store.incidentsSince(s, a, l),
    window.since,
    window.until,
    (i) => may('incident', i),
  );
  const runs = await collect<RunbookRun>(
    (s, a, l) => store.runsSince(s, a, l),
    window.since,
    horizon,
    (r) => may('runbook', r),
  );
  const known = new Set(runs.map((r) => r.id));
  for (const r of requests) {
    if (r.origin?.kind !== 'runbook' || known.has(r.origin.run)) continue;
    known.add(r.origin.run);
    const run = await store.getRun(r.origin.run);
    if (run && may('runbook', run)) runs.push(run);
  }
  return reviewReport({ requests, incidents, runs, catalog, window });
}
