/**
 * Reading the audit log through `GET /audit`, which pages oldest first after a seq. Seqs
 * have no gaps, so "is there an entry after n" is one `limit=1` call, and the newest seq
 * or the first seq at a time can be found by bisecting on it.
 */
import { getJson } from './api.ts';
import type { AuditEntry } from './types.ts';

/** The largest page `GET /audit` answers. */
export const AUDIT_PAGE = 1000;

export async function auditPage(afterSeq: number, limit = AUDIT_PAGE): Promise<AuditEntry[]> {
  return (await getJson<{ entries: AuditEntry[] }>('/audit', { afterSeq, limit })).entries;
}

/** The seq of the newest entry, 0 while the log is empty: gallop up, bisect, then read. */
export async function auditHead(): Promise<number> {
  const after = async (n: number) => (await auditPage(n, 1)).length > 0;
  let lo = 0;
  let hi = AUDIT_PAGE;
  while (await after(hi)) {
    lo = hi;
    hi *= 4;
  }
  while (hi - lo > AUDIT_PAGE) {
    const mid = Math.floor((lo + hi) / 2);
    if (await after(mid)) lo = mid;
    else hi = mid;
  }
  const last = (await auditPage(lo)).at(-1);
  return last?.seq ?? lo;
}

/** The afterSeq from which entries at or after `t` (ms since epoch) begin. */
export async function afterSeqAt(t: number): Promise<number> {
  let lo = 0; // entries up to seq lo are before t (seq 0 stands before everything)
  let hi = (await auditHead()) + 1; // entry hi is at or after t (head + 1 stands after all)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const entry = (await auditPage(mid - 1, 1))[0];
    if (entry && entry.at < t) lo = mid;
    else hi = mid;
  }
  return lo;
}
