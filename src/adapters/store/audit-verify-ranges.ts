/**
 * The loop each thread of the parallel `audit verify` runs: take the next seq range from a
 * counter shared by all threads, check it (`checkChunk`, then its suspects from their
 * fields), keep its end hashes. The ranges are joined afterwards by `stitchRanges`, which
 * checks the link across every range edge.
 */
import { hash } from 'node:crypto';
import { recordPreimage } from '../../domain/audit-chain.ts';
import { checkChunk, type Suspect } from './audit-verify-chunk.ts';
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
    const chunk = source.chunk(from, Math.min(plan.last, from + plan.size - 1));
    chunk.catch(() => undefined); // awaited below; this only stops an early rejection counting as unhandled
    return chunk;
  };
  const done: RangeDone[] = [];
  for (let pending = take(); pending; ) {
    const next = take();
    const chunk = await pending;
    const verdict = checkChunk(chunk);
    const failedAt = verdict.ok ? await checkSuspects(source, verdict.suspects) : verdict.seq;
    if (failedAt !== undefined) {
      Atomics.store(counter, STOP, 1);
      await next?.catch(() => undefined);
      return { done, failedAt };
    }
    if (verdict.ok) {
      done.push({
        from: chunk.from,
        to: chunk.to,
        firstPrev: verdict.firstPrev,
        lastHash: verdict.lastHash,
      });
    }
    pending = next;
  }
  return { done };
}

/**
 * Re-checks doubted entries the way the entry-by-entry check does: each read from its
 * fields, its stored hashes the same as in the range, and `recordPreimage` hashing to the
 * stored hash. Returns the first seq that fails, or undefined.
 */
export async function checkSuspects(
  source: ChunkSource,
  suspects: readonly Suspect[],
): Promise<number | undefined> {
  if (suspects.length === 0) return undefined;
  const records = await source.records(suspects.map((s) => s.seq));
  for (const [i, s] of suspects.entries()) {
    const r = records[i];
    if (!r || r.seq !== s.seq || r.prevHash !== s.prevHash || r.hash !== s.hash) return s.seq;
    const { hash: stored, ...rest } = r;
    if (hash('sha256', recordPreimage(rest)) !== stored) return s.seq;
  }
  return undefined;
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
