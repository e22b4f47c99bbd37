/**
 * The loop each thread of the parallel `audit verify` runs: take the next seq range from a
 * counter shared by all threads, check it (`checkChunk`), keep its end hashes and its
 * suspects. The ranges are joined afterwards by `stitchRanges`, which checks the link across
 * every range edge; the suspects are re-checked from their fields by the main thread.
 */
import { type ChunkVerdict, checkChunk, type Suspect } from './audit-verify-chunk.ts';
import type { ChunkSource } from './audit-verify-source.ts';

/** Seqs `first..last` (inclusive), cut into ranges of `size` entries. */
export interface RangePlan {
  first: number;
  last: number;
  size: number;
}

/** A range that passed, with the hashes at its two edges. */
export interface RangeDone {
  from: number;
  to: number;
  /** The stored prev_hash of entry `from`. */
  firstPrev: string;
  /** The stored hash of entry `to`. */
  lastHash: string;
  /** Entries still to be checked from their fields. */
  suspects: Suspect[];
}

/** What one thread did: the ranges that passed, and the seq where one failed, if any. */
export interface RangeOutcome {
  done: RangeDone[];
  failedAt?: number;
}

/** Slots of the shared `Int32Array`: the next range index, and a stop flag. */
const NEXT = 0;
const STOP = 1;

/** A counter for `runRanges`, shareable with worker threads. */
export function sharedCounter(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
}

/**
 * Checks ranges until none are left or one fails (which stops every thread sharing the
 * counter). The next range is asked for before this one is hashed, so a database in
 * another process works meanwhile.
 */
export async function runRanges(
  source: ChunkSource,
  plan: RangePlan,
  counter: Int32Array,
): Promise<RangeOutcome> {
  const take = () => {
    if (Atomics.load(counter, STOP) !== 0) return undefined;
    const from = plan.first + Atomics.add(counter, NEXT, 1) * plan.size;
    if (from > plan.last) return undefined;
    const to = Math.min(plan.last, from + plan.size - 1);
    const verdict = source.chunk(from, to, checkChunk);
    verdict.catch(() => undefined); // awaited later; until then a rejection is not "unhandled"
    return { from, to, verdict };
  };
  const done: RangeDone[] = [];
  for (let pending = take(); pending; ) {
    const next = take();
    const range = await settleRange(pending);
    if (typeof range === 'number') {
      Atomics.store(counter, STOP, 1);
      await next?.verdict.catch(() => undefined);
      return { done, failedAt: range };
    }
    done.push(range);
    pending = next;
    // SQLite reads are synchronous: let the event loop run between ranges.
    await new Promise(setImmediate);
  }
  return { done };
}

/** One range's edges when it passed, else the seq where it failed. */
async function settleRange(range: {
  from: number;
  to: number;
  verdict: Promise<ChunkVerdict>;
}): Promise<RangeDone | number> {
  let verdict: ChunkVerdict;
  try {
    verdict = await range.verdict;
  } catch {
    // SQLite's json_quote refuses a BLOB, for one; the entry-by-entry check names the entry.
    return range.from;
  }
  if (!verdict.ok) return verdict.seq;
  const { from, to } = range;
  const { firstPrev, lastHash, suspects } = verdict;
  return { from, to, firstPrev, lastHash, suspects };
}

/**
 * Joins the ranges of every thread: together they must cover `plan` without a gap, the
 * first must link to `startHash` and each later one to the range before it. Returns the
 * last entry's hash, or undefined when they do not join up.
 */
export function stitchRanges(
  ranges: readonly RangeDone[],
  plan: RangePlan,
  startHash: string,
): string | undefined {
  let expected = plan.first;
  let prev = startHash;
  for (const r of [...ranges].sort((a, b) => a.from - b.from)) {
    if (r.from !== expected || r.firstPrev !== prev) return undefined;
    expected = r.to + 1;
    prev = r.lastHash;
  }
  return expected === plan.last + 1 ? prev : undefined;
}
