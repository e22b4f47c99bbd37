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
 * The exact bytes hashed for an entry. Fields are JSON-encoded one by one and joined by
 * a unit separator, so no field can run into the next and the preimage is stable.
 */
export function auditPreimage(e: Omit<AuditEntry, 'hash'>): string {
  return [
    e.seq,
    e.at,
    JSON.stringify(e.actor),
    JSON.stringify(e.surface),
    JSON.stringify(e.action),
    JSON.stringify(e.target),
    JSON.stringify(e.paramsDigest),
    JSON.stringify(e.result),
    canonicalJson(e.links),
    canonicalJson(e.detail),
    e.prevHash,
  ].join('\x1f');
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
  check(entries: readonly AuditEntry[]): boolean {
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

  private checkOne(e: AuditEntry): ChainBreak | undefined {
    if (e.seq !== this.expectedSeq) return { kind: 'gap', seq: e.seq, expected: this.expectedSeq };
    if (e.prevHash !== this.prevHash) return { kind: 'broken-link', seq: e.seq };
    const { hash, ...rest } = e;
    if (this.sha256hex(auditPreimage(rest)) !== hash) return { kind: 'changed', seq: e.seq };
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
