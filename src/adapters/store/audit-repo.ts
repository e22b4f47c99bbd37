/**
 * The hash-chained audit log. `appendAudit` reads the head row (locked on PostgreSQL, so
 * concurrent appends take turns), chains the drafts onto it, inserts them and moves the
 * head, all inside the caller's transaction. `links` and `detail` are stored as
 * `canonicalJson` text so a re-read entry hashes to the same value.
 */
import type { Kysely } from 'kysely';
import type { AuditFilter, Sha256 } from '../../app/ports.ts';
import {
  type AuditDraft,
  type AuditEntry,
  canonicalJson,
  chainEntry,
} from '../../domain/audit-chain.ts';
import type { Links, Surface } from '../../domain/request-model.ts';
import { pageSize } from './doc-repo.ts';
import type { AuditLogTable, Database, Dialect } from './schema.ts';

type Db = Kysely<Database>;

/** Default and maximum page sizes for `queryAudit`. */
export const AUDIT_PAGE = { default: 100, max: 1000 } as const;

/** Rows per INSERT: 12 parameters each stays far below both dialects' parameter limits. */
const INSERT_CHUNK = 500;

export const AUDIT_COLUMNS = [
  'seq',
  'at',
  'actor',
  'surface',
  'action',
  'target',
  'params_digest',
  'result',
  'links',
  'detail',
  'prev_hash',
  'hash',
] as const;

function toRow(e: AuditEntry): AuditLogTable {
  return {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    surface: e.surface,
    action: e.action,
    target: e.target,
    params_digest: e.paramsDigest,
    result: e.result,
    links: canonicalJson(e.links),
    detail: canonicalJson(e.detail),
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

export function fromAuditRow(row: AuditLogTable): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    surface: row.surface as Surface,
    action: row.action,
    target: row.target,
    paramsDigest: row.params_digest,
    result: row.result,
    links: JSON.parse(row.links) as Links,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Appends `drafts` in order after the current head; returns them as stored. */
export async function appendAudit(
  db: Db,
  dialect: Dialect,
  sha256: Sha256,
  drafts: readonly AuditDraft[],
): Promise<AuditEntry[]> {
  if (drafts.length === 0) return [];
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .$if(dialect === 'postgres', (q) => q.forUpdate())
    .executeTakeFirstOrThrow();
  const entries: AuditEntry[] = [];
  let prev = { seq: head.seq, hash: head.hash };
  for (const draft of drafts) {
    const entry = chainEntry(draft, prev.seq + 1, prev.hash, sha256);
    entries.push(entry);
    prev = entry;
  }
  for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
    const rows = entries.slice(i, i + INSERT_CHUNK).map(toRow);
    await db.insertInto('audit_log').values(rows).execute();
  }
  await db
    .updateTable('audit_head')
    .set({ seq: prev.seq, hash: prev.hash })
    .where('id', '=', 1)
    .execute();
  return entries;
}

/**
 * Oldest first (or newest first with `order: 'newest'`), filtered by target, actor, action,
 * a seq range (`afterSeq` < seq < `beforeSeq`) and a time range (`fromAt` ≤ at ≤ `toAt`).
 */
export async function queryAudit(db: Db, f: AuditFilter): Promise<AuditEntry[]> {
  const limit = pageSize(f.limit, AUDIT_PAGE.default, AUDIT_PAGE.max);
  if (limit === 0) return [];
  const rows = await db
    .selectFrom('audit_log')
    .select(AUDIT_COLUMNS)
    .$if(f.target !== undefined, (q) => q.where('target', '=', f.target ?? ''))
    .$if(f.actor !== undefined, (q) => q.where('actor', '=', f.actor ?? ''))
    .$if(f.action !== undefined, (q) => q.where('action', '=', f.action ?? ''))
    .$if(f.afterSeq !== undefined, (q) => q.where('seq', '>', f.afterSeq ?? 0))
    .$if(f.beforeSeq !== undefined, (q) => q.where('seq', '<', f.beforeSeq ?? 0))
    .$if(f.fromAt !== undefined, (q) => q.where('at', '>=', f.fromAt ?? 0))
    .$if(f.toAt !== undefined, (q) => q.where('at', '<=', f.toAt ?? 0))
    .orderBy('seq', f.order === 'newest' ? 'desc' : 'asc')
    .limit(limit)
    .execute();
  return rows.map(fromAuditRow);
}

/** The recorded head, or undefined while the log is empty. */
export async function auditHead(db: Db): Promise<{ seq: number; hash: string } | undefined> {
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirst();
  return head && head.seq > 0 ? { seq: head.seq, hash: head.hash } : undefined;
}
