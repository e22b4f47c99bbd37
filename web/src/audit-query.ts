/**
 * Reading the audit log through `GET /audit`: newest first before a seq (`before`, the
 * cursor), or newest first from the head (`order=newest`), within an optional time range
 * (`from`, `to`: ISO 8601). A page says the last seq it read and whether more may follow,
 * so a caller pages on even past entries it may not see.
 */
import { getJson } from './api.ts';
import type { AuditPage } from './types.ts';

/** The largest page `GET /audit` answers. */
export const AUDIT_PAGE = 1000;

export interface AuditSearch {
  actor?: string;
  action?: string;
  target?: string;
  /** Milliseconds since epoch, inclusive. */
  from?: number;
  /** Milliseconds since epoch, inclusive. */
  to?: number;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** One page, newest first: before seq `before`, or from the newest entry when it is undefined. */
export function newestPage(
  search: AuditSearch,
  before: number | undefined,
  limit = AUDIT_PAGE,
): Promise<AuditPage> {
  return getJson<AuditPage>('/audit', {
    actor: search.actor || undefined,
    action: search.action || undefined,
    target: search.target || undefined,
    from: iso(search.from),
    to: iso(search.to),
    ...(before === undefined ? { order: 'newest' } : { before }),
    limit,
  });
}
