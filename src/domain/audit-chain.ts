/**
 * Audit-chain maths. Each entry's hash covers its own fields and the previous entry's
 * hash, so changing, removing or reordering any row breaks every link after it. The
 * hash function is passed in (hex SHA-256 in production); the domain does no I/O.
 */
import type { Links, Surface } from './request-model.ts';

/** What a use case asks to record; the store assigns `seq`, `prevHash` and `hash`. */
export interface AuditDraft {
  /** Person id, or `system`, or `unknown:<surface id>` for someone not in the catalog. */
  actor: string;
  surface: Surface;
  /** Dotted verb, e.g. `request.created`, `approval.refused`, `execution.finished`. */
  action: string;
  /** What was acted on, e.g. a request id or `catalog`. */
  target: string;
  /** Hex SHA-256 of the canonical parameters, or '' when there are none. */
  paramsDigest: string;
  /** `ok`, or a refusal / error code. */
  result: string;
  links: Links;
  /** Free detail, already redacted. Small: ids, reasons, states. */
  detail: Record<string, unknown>;
  /** Milliseconds since epoch. */
  at: number;
}

export interface AuditEntry extends AuditDraft {
  /** 1, 2, 3, … without gaps. */
  seq: number;
  prevHash: string;
  hash: string;
}

/** The hash that stands before entry 1. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * An entry as stored: `links` and `detail` as their canonical JSON text. Verification works
 * on this form, so it hashes exactly the stored bytes without parsing and re-serialising.
 */
export interface AuditRecord extends Omit<AuditEntry, 'links' | 'detail'> {
  linksJson: string;
  detailJson: string;
}

/**
 * The exact bytes hashed for an entry. Fields are JSON-encoded one by one and joined by
 * a unit separator, so no field can run into the next and the preimage is stable.
 */
export function auditPreimage(e: Omit<AuditEntry, 'hash'>): string {
  return recordPreimage({
    ...e,
    linksJson: canonicalJson(e.links),
    detailJson: canonicalJson(e.detail),
  });
}

export function recordPreimage(r: Omit<AuditRecord, 'hash'>): string {
  return `${r.seq}\x1f${r.at}\x1f${JSON.stringify(r.actor)}\x1f${JSON.stringify(r.surface)}\x1f${JSON.stringify(r.action)}\x1f${JSON.stringify(r.target)}\x1f${JSON.stringify(r.paramsDigest)}\x1f${JSON.stringify(r.result)}\x1f${r.linksJson}\x1f${r.detailJson}\x1f${r.prevHash}`;
}

/** An entry from its stored form. */
export function fromRecord(r: AuditRecord): AuditEntry {
  const { linksJson, detailJson, ...rest } = r;
  return { ...rest, links: JSON.parse(linksJson), detail: JSON.parse(detailJson) };
}

/** The stored form of an entry. */
export function toRecord(e: AuditEntry): AuditRecord {
  const { links, detail, ...rest } = e;
  return { ...rest, linksJson: canonicalJson(links), detailJson: canonicalJson(detail) };
}

export function chainEntry(
  draft: AuditDraft,
  seq: number,
  prevHash: string,
  sha256hex: (s: string) => string,
): AuditEntry {
  const base = { ...draft, seq, prevHash };
  return { ...base, hash: sha256hex(auditPreimage(base)) };
}

/**
 * A row read for fast verification: the store assembled the preimage itself (in SQL), so
 * only four values cross into JavaScript per entry. Its bytes should equal `recordPreimage`;
 * where they do not, the verifier re-checks that entry from its fields.
 */
export interface SealedAuditRow {
  seq: number;
  preimage: string;
  prevHash: string;
  hash: string;
}

export type ChainBreak =
  | { kind: 'changed'; seq: number }
  | { kind: 'broken-link'; seq: number }
  | { kind: 'gap'; seq: number; expected: number }
  | { kind: 'truncated'; seq: number; expected: number };

/**
 * Checks entries in order, carrying state between batches so a million rows never sit
 * in memory at once. Feed batches with `check`, then call `finish` with the recorded head.
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  count = 0;
  firstBreak: ChainBreak | undefined;

  constructor(private readonly sha256hex: (s: string) => string) {}

  /** Returns false once a break is found; later calls do nothing. */
  check(entries: readonly AuditRecord[]): boolean {
    for (const e of entries) {
      if (this.firstBreak) return false;
      this.firstBreak = this.checkOne(e);
      if (!this.firstBreak) {
        this.expectedSeq = e.seq + 1;
        this.prevHash = e.hash;
        this.count++;
      }
    }
    return !this.firstBreak;
  }

  /**
   * The fast path over sealed rows. Returns the index of the first row whose preimage did
   * not hash to its stored hash; the caller re-checks that entry from its fields with
   * `check`, then continues after it. Returns undefined when every row was consumed or a
   * break was found.
   */
  checkSealed(rows: readonly SealedAuditRow[], start = 0): number | undefined {
    for (let i = start; i < rows.length; i++) {
      if (this.firstBreak) return undefined;
      const r = rows[i]!;
      if (r.seq !== this.expectedSeq) {
        this.firstBreak = { kind: 'gap', seq: r.seq, expected: this.expectedSeq };
        return undefined;
      }
      if (r.prevHash !== this.prevHash) {
        this.firstBreak = { kind: 'broken-link', seq: r.seq };
        return undefined;
      }
      if (this.sha256hex(r.preimage) !== r.hash) return i;
      this.expectedSeq = r.seq + 1;
      this.prevHash = r.hash;
      this.count++;
    }
    return undefined;
  }

  private checkOne(e: AuditRecord): ChainBreak | undefined {
    if (e.seq !== this.expectedSeq) return { kind: 'gap', seq: e.seq, expected: this.expectedSeq };
    if (e.prevHash !== this.prevHash) return { kind: 'broken-link', seq: e.seq };
    if (this.sha256hex(recordPreimage(e)) !== e.hash) return { kind: 'changed', seq: e.seq };
    return undefined;
  }

  /** `head` is the last (seq, hash) the store recorded separately from the rows. */
  finish(head: { seq: number; hash: string } | undefined): ChainBreak | undefined {
    if (this.firstBreak) return this.firstBreak;
    const lastSeq = this.expectedSeq - 1;
    if (head && head.seq !== lastSeq) {
      this.firstBreak = { kind: 'truncated', seq: lastSeq + 1, expected: head.seq };
    } else if (head && head.hash !== this.prevHash) {
      this.firstBreak = { kind: 'changed', seq: head.seq };
    }
    return this.firstBreak;
  }
}

export function describeBreak(b: ChainBreak): string {
  switch (b.kind) {
    case 'changed':
      return `entry ${b.seq} was changed (its hash does not match its contents)`;
    case 'broken-link':
      return `entry ${b.seq} does not link to the entry before it (a row was changed, removed or reordered)`;
    case 'gap':
      return `entry ${b.expected} is missing or out of order (found ${b.seq} in its place)`;
    case 'truncated':
      return `entries ${b.seq}..${b.expected} are missing from the end of the log`;
  }
}

/** JSON with object keys sorted at every level; the basis of every digest. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}
