/**
 * Use cases over the whole audit log: verify the hash chain and export it as JSON Lines.
 * Both stream in pages, so a log of millions of entries never sits in memory.
 */
import {
  type ChainBreak,
  ChainVerifier,
  describeBreak,
  fromRecord,
  type SealedAuditRow,
} from '../domain/audit-chain.ts';
import type { Sha256, Store } from './ports.ts';

export interface VerifyReport {
  ok: boolean;
  /** Entries checked before the first break (all of them when ok). */
  checked: number;
  break?: ChainBreak;
  /** A sentence naming the first bad entry. */
  message: string;
}

const PAGE = 20_000;

export interface VerifyOptions {
  /** Skip the store's parallel fast path and check entry by entry. Default false. */
  entryByEntry?: boolean;
}

/**
 * Checks the whole chain and the recorded head. The store's parallel fast path answers when
 * it can vouch for every entry; otherwise (a break, or anything it doubts) the entries are
 * checked one by one with `sha256`, which names the first bad one.
 */
export async function verifyAudit(
  store: Store,
  sha256: Sha256,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const fast = options.entryByEntry ? undefined : await store.verifyAuditParallel?.();
  if (fast?.intact) {
    return { ok: true, checked: fast.checked, message: `${fast.checked} entries verified` };
  }
  return verifyEntryByEntry(store, sha256);
}

async function verifyEntryByEntry(store: Store, sha256: Sha256): Promise<VerifyReport> {
  const verifier = new ChainVerifier(sha256);
  let from = 1;
  for (;;) {
    const page = await store.readAuditSealed(from, PAGE);
    if (page.length === 0 || !(await checkPage(store, verifier, page))) break;
    from = page[page.length - 1]!.seq + 1;
    if (page.length < PAGE) break;
  }
  const broken = verifier.finish(await store.auditHead());
  if (broken) {
    return { ok: false, checked: verifier.count, break: broken, message: describeBreak(broken) };
  }
  return { ok: true, checked: verifier.count, message: `${verifier.count} entries verified` };
}

/** Fast path over a page; an entry the fast path doubts is re-checked from its fields. */
async function checkPage(
  store: Store,
  verifier: ChainVerifier,
  page: readonly SealedAuditRow[],
): Promise<boolean> {
  let start = 0;
  for (;;) {
    const doubt = verifier.checkSealed(page, start);
    if (doubt === undefined) return verifier.firstBreak === undefined;
    const record = await store.readAudit(page[doubt]!.seq, 1);
    if (!verifier.check(record)) return false;
    start = doubt + 1;
  }
}

/** Writes every entry, oldest first, one JSON object per line. */
export async function exportAudit(
  store: Store,
  write: (line: string) => void | Promise<void>,
): Promise<number> {
  let from = 1;
  let count = 0;
  for (;;) {
    const page = await store.readAudit(from, PAGE);
    for (const r of page) await write(`${JSON.stringify(fromRecord(r))}\n`);
    count += page.length;
    if (page.length < PAGE) return count;
    from = page[page.length - 1]!.seq + 1;
  }
}
