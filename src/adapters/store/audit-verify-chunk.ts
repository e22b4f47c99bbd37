/**
 * The check of one seq range behind the parallel `audit verify` (audit-verify-parallel.ts).
 * The database hands a range over as ONE buffer (`audit-verify-source.ts`): per entry the
 * fields of its hash preimage, then its stored `hash`, joined by U+001F; entries joined by
 * U+001E. Walking one buffer instead of a JS string or object per row is what brings the
 * JavaScript side of an entry down to about 1 µs, most of it SHA-256.
 *
 * An entry passes only when the bytes hashed here are the bytes `recordPreimage`
 * (src/domain/audit-chain.ts) builds from the row as the entry-by-entry check reads it, so
 * this vouches for nothing that check would refuse (short of someone computing SHA-256 over
 * a deliberately different rendering of a row, who could as well rewrite the whole chain):
 * - the range holds exactly the rows `from..to`: the count matches, each entry starts with
 *   its own seq, and the pieces between separators are exactly the rows;
 * - `prev_hash` and `hash` are 64 bytes of text (the source counts the rows where not), so
 *   they sit at fixed offsets from the end of the entry;
 * - the buffer is valid UTF-8, so its bytes are what re-encoding the decoded fields gives;
 * - the six quoted fields are JSON strings: either the database quoted them the way
 *   JSON.stringify does (`quoting: 'json'`), or it only put them in quotes
 *   (`quoting: 'plain'`) and each must hold no quote, backslash or control character, with
 *   `at` a plain integer of at most 15 digits.
 * An entry that fails only the last rule, or whose preimage does not hash to its stored
 * hash, is a suspect: the caller re-checks it from its fields. Any other failure fails the
 * range.
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
  /** How the database quoted the six text fields; see the header. */
  quoting: 'json' | 'plain';
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
  const plain = chunk.quoting === 'plain';
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
    if ((plain && !plainFields(b, view, pos)) || b.toString('latin1', hashAt, end) !== digest) {
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
 * then six fields each `"…"` with no quote, backslash or control character inside. Field
 * contents are skipped four bytes at a time while a word holds none of those.
 */
function plainFields(b: Buffer, view: DataView, pos: number): boolean {
  let i = b.indexOf(UNIT, pos) + 1;
  if (b[i] === 0x2d) i++;
  const digits = i;
  for (let c = b[i]!; c >= 0x30 && c <= 0x39; c = b[++i]!);
  if (i === digits || i - digits > 15 || b[i] !== UNIT) return false;
  const words = b.length - 4;
  for (let field = 0; field < 6; field++) {
    if (b[++i] !== QUOTE) return false;
    i++;
    while (i <= words && !special(view.getUint32(i))) i += 4;
    while (CLASS[b[i]!] === 0) i++;
    if (b[i] !== QUOTE || b[++i] !== UNIT) return false;
  }
  return true;
}

/**
 * The word holds a byte below 0x20, a quote or a backslash (the bit tricks of "Bit Twiddling
 * Hacks": `hasless` and `haszero`; they may flag a word that holds none, never miss one).
 */
function special(w: number): boolean {
  const quote = w ^ 0x22222222;
  const backslash = w ^ 0x5c5c5c5c;
  const below = (w - 0x20202020) & ~w;
  const quotes = (quote - 0x01010101) & ~quote;
  const backslashes = (backslash - 0x01010101) & ~backslash;
  return ((below | quotes | backslashes) & 0x80808080) !== 0;
}

/** The 64 bytes at `a` and at `c` are the same (compared four at a time). */
function sameHash(view: DataView, a: number, c: number): boolean {
  for (let i = 0; i < HASH_LEN; i += 4)
    if (view.getUint32(a + i) !== view.getUint32(c + i)) return false;
  return true;
}
