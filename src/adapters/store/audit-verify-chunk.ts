/**
 * The check of one seq range behind the parallel `audit verify` (audit-verify-parallel.ts).
 * The database hands a range over as ONE buffer (`audit-verify-source.ts`): per entry the
 * fields of its hash preimage, then its stored `prev_hash` and `hash`, joined by U+001F;
 * entries joined by U+001E. Walking one buffer instead of a JS string or object per row is
 * what brings an entry down to about 1.5 µs, most of it SHA-256.
 *
 * An entry passes only when the bytes hashed here are exactly the bytes `recordPreimage`
 * (src/domain/audit-chain.ts) builds from the row, so this never accepts what the
 * entry-by-entry check would refuse:
 * - the range holds exactly the rows `from..to` (the count, and each entry starts with its
 *   own seq), split exactly (no U+001E inside a row: the pieces must equal the rows);
 * - `prev_hash` and `hash` are 64-byte text (the source counts rows where they are not);
 * - the buffer is valid UTF-8, so its bytes are what re-encoding the decoded fields gives;
 * - `at` is a plain integer of at most 15 digits, and each of the six quoted fields is `"…"`
 *   with no `"`, `\` or control character inside, i.e. exactly what JSON.stringify writes.
 * An entry that fails only the last rule, or whose preimage does not hash to its stored
 * hash, is returned as a suspect: the caller re-checks it from its fields. Any other
 * failure fails the range.
 */
import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';

/** One range as the database returned it. */
export interface AuditChunk {
  /** First and last seq asked for, inclusive. */
  from: number;
  to: number;
  /** Rows the database found with seq in `from..to`. */
  rows: number;
  /** Rows whose stored form the fast path cannot vouch for (see the source's SQL). */
  odd: number;
  /** The entries, in seq order: preimage, U+001F, hash; U+001E between entries. */
  entries: Buffer;
}

/**
 * `firstPrev` is the first entry's stored prev_hash and `lastHash` the last entry's stored
 * hash, to be linked with the neighbouring ranges; `suspects` need a check from their fields.
 * A failed range names the seq where reading it stopped making sense.
 */
export type ChunkVerdict =
  | { ok: true; firstPrev: string; lastHash: string; suspects: Suspect[] }
  | { ok: false; seq: number };

/** An entry to re-check from its fields, with its stored hashes as read in the range. */
export interface Suspect {
  seq: number;
  prevHash: string;
  hash: string;
}

const UNIT = 0x1f;
const RECORD = 0x1e;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HASH_LEN = 64;

/** Checks the entries of one range and the links between them. */
export function checkChunk(chunk: AuditChunk): ChunkVerdict {
  const { from, to, entries: b } = chunk;
  if (to < from || chunk.rows !== to - from + 1 || chunk.odd !== 0 || !isUtf8(b)) {
    return { ok: false, seq: from };
  }
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  const suspects: Suspect[] = [];
  let pos = 0;
  let firstPrevAt = -1;
  let lastHashAt = -1;
  for (let seq = from; seq <= to; seq++) {
    const last = seq === to;
    const end = last ? b.length : b.indexOf(RECORD, pos);
    const hashAt = end - HASH_LEN;
    const prevAt = hashAt - 1 - HASH_LEN;
    if (end < 0 || prevAt - 1 <= pos || b[hashAt - 1] !== UNIT || b[prevAt - 1] !== UNIT) {
      return { ok: false, seq };
    }
    if (last && b.indexOf(RECORD, pos) !== -1) return { ok: false, seq };
    if (!startsWithSeq(b, pos, seq)) return { ok: false, seq };
    if (lastHashAt < 0) firstPrevAt = prevAt;
    else if (!sameHash(view, prevAt, lastHashAt)) return { ok: false, seq };
    const digest = hash('sha256', b.subarray(pos, hashAt - 1));
    if (!plainFields(b, pos) || b.toString('latin1', hashAt, end) !== digest) {
      suspects.push({ seq, prevHash: text(b, prevAt), hash: text(b, hashAt) });
    }
    lastHashAt = hashAt;
    pos = end + 1;
  }
  return { ok: true, firstPrev: text(b, firstPrevAt), lastHash: text(b, lastHashAt), suspects };
}

const text = (b: Buffer, at: number) => b.toString('utf8', at, at + HASH_LEN);

/** The entry at `pos` begins with `seq` in plain decimal, then U+001F. */
function startsWithSeq(b: Buffer, pos: number, seq: number): boolean {
  let n = 0;
  let i = pos;
  if (b[i] === 0x30) return false;
  for (let c = b[i]!; c >= 0x30 && c <= 0x39; c = b[++i]!) n = n * 10 + (c - 0x30);
  return i > pos && b[i] === UNIT && n === seq;
}

/** Per byte: 0 plain, 1 a quote, 2 a byte JSON would escape (`\\` or a control character). */
const CLASS = new Uint8Array(256);
CLASS.fill(2, 0, 0x20);
CLASS[QUOTE] = 1;
CLASS[BACKSLASH] = 2;

/**
 * After the seq: `at` as an optional minus and 1–15 digits (so it survives a JS number),
 * then six fields each `"…"` with no quote, backslash or control character inside.
 */
function plainFields(b: Buffer, pos: number): boolean {
  let i = b.indexOf(UNIT, pos) + 1;
  if (b[i] === 0x2d) i++;
  const digits = i;
  for (let c = b[i]!; c >= 0x30 && c <= 0x39; c = b[++i]!);
  if (i === digits || i - digits > 15 || b[i] !== UNIT) return false;
  for (let field = 0; field < 6; field++) {
    if (b[++i] !== QUOTE) return false;
    while (CLASS[b[++i]!] === 0);
    if (b[i] !== QUOTE || b[++i] !== UNIT) return false;
  }
  return true;
}

/** The 64 bytes at `a` and at `c` are the same (compared four at a time). */
function sameHash(view: DataView, a: number, c: number): boolean {
  for (let i = 0; i < HASH_LEN; i += 4)
    if (view.getUint32(a + i) !== view.getUint32(c + i)) return false;
  return true;
}
