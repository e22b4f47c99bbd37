/**
 * Incidents and their timelines. An incident is a row of indexed copies plus the whole
 * record as JSON text (the JSON is the truth); a timeline entry is a row of its own,
 * numbered per incident.
 */
import { type Kysely, sql } from 'kysely';
import { DomainError } from '../../domain/errors.ts';
import type {
  Incident,
  IncidentFilter,
  TimelineDraft,
  TimelineEntry,
  TimelineKind,
} from '../../domain/incident-model.ts';
import { docsSince, fromDocs, pageSize, updateVersioned } from './doc-repo.ts';
import type { Database, IncidentsTable, IncidentTimelineTable } from './schema.ts';

type Db = Kysely<Database>;

/** Default and maximum page sizes for `listIncidents`. */
export const INCIDENT_PAGE = { default: 50, max: 500 } as const;
/** Default and maximum page sizes for `timeline`. */
export const TIMELINE_PAGE = { default: 500, max: 5000 } as const;

/** Timeline rows per INSERT: 8 columns × 200 stays far below both dialects' parameter limits. */
const TIMELINE_CHUNK = 200;

function toRow(i: Incident): IncidentsTable {
  return {
    id: i.id,
    status: i.status,
    service: i.service,
    environment: i.environment,
    severity: i.severity.level,
    group_id: i.origin.kind === 'alert' ? i.origin.groupId : null,
    created_at: i.createdAt,
    next_reminder_at: i.nextReminderAt ?? null,
    version: i.version,
    doc: JSON.stringify(i),
  };
}

/** Reads one incident; with `lock` (PostgreSQL in a transaction) holds its row until commit. */
export async function getIncident(
  db: Db,
  id: string,
  lock: boolean,
): Promise<Incident | undefined> {
  const row = await db
    .selectFrom('incidents')
    .select('doc')
    .where('id', '=', id)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
  return row ? (JSON.parse(row.doc) as Incident) : undefined;
}

/** The incident whose opening alert group is `groupId`; `lock` as for `getIncident`. */
export async function incidentForGroup(
  db: Db,
  groupId: string,
  lock: boolean,
): Promise<Incident | undefined> {
  const row = await db
    .selectFrom('incidents')
    .select('doc')
    .where('group_id', '=', groupId)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
  return row ? (JSON.parse(row.doc) as Incident) : undefined;
}

/**
 * The newest unresolved incident `route` opened for a service environment. With `lock`
 * (PostgreSQL in a transaction) it first takes a transaction-scoped advisory lock on that
 * key, so two transactions asking for the same key run one after the other and the second
 * sees the first's incident; SQLite's `begin immediate` serialises them already.
 */
export async function openIncidentFor(
  db: Db,
  route: string,
  service: string,
  environment: string,
  lock: boolean,
): Promise<Incident | undefined> {
  if (lock) {
    const key = `incident ${route} ${service} ${environment}`;
    await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(db);
  }
  const rows = await db
    .selectFrom('incidents')
    .select('doc')
    .where('service', '=', service)
    .where('environment', '=', environment)
    .where('status', 'in', ['open', 'mitigated'])
    .orderBy('id', 'desc')
    .execute();
  return rows
    .map((r) => JSON.parse(r.doc) as Incident)
    .find((i) => i.origin.kind === 'alert' && i.origin.route === route);
}

/**
 * Inserts `i`, or throws `CONFLICT` and changes nothing when its id or its alert group is
 * already taken. `ON CONFLICT DO NOTHING` (rather than catching a unique violation) keeps a
 * PostgreSQL transaction usable afterwards, so the caller may read the winner in it. A
 * concurrent insert of the same group waits for the other transaction and then conflicts.
 */
export async function insertIncident(db: Db, i: Incident): Promise<void> {
  const inserted = await db
    .insertInto('incidents')
    .values(toRow(i))
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .execute();
  if (inserted.length === 0) {
    const groupId = i.origin.kind === 'alert' ? i.origin.groupId : undefined;
    throw new DomainError('CONFLICT', undefined, { incidentId: i.id, groupId });
  }
}

/** Writes `i` over version `i.version - 1`; throws `CONFLICT` when that is not what is stored. */
export function updateIncident(db: Db, i: Incident): Promise<void> {
  return updateVersioned(db, 'incidents', toRow(i), { incidentId: i.id });
}

/** Newest first (ids sort by time). An empty or absent `status` means any status. */
export async function listIncidents(db: Db, f: IncidentFilter): Promise<Incident[]> {
  const limit = pageSize(f.limit, INCIDENT_PAGE.default, INCIDENT_PAGE.max);
  if (limit === 0) return [];
  const rows = await db
    .selectFrom('incidents')
    .select('doc')
    .$if(!!f.status?.length, (q) => q.where('status', 'in', f.status ?? []))
    .$if(f.service !== undefined, (q) => q.where('service', '=', f.service ?? ''))
    .$if(f.environment !== undefined, (q) => q.where('environment', '=', f.environment ?? ''))
    .$if(f.before !== undefined, (q) => q.where('id', '<', f.before ?? ''))
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return fromDocs<Incident>(rows);
}

/** Open or mitigated incidents with `next_reminder_at <= now`, the longest overdue first. */
export async function incidentsDueReminder(
  db: Db,
  now: number,
  limit: number,
): Promise<Incident[]> {
  const n = pageSize(limit, INCIDENT_PAGE.default, INCIDENT_PAGE.max);
  if (n === 0) return [];
  const rows = await db
    .selectFrom('incidents')
    .select('doc')
    .where('next_reminder_at', 'is not', null)
    .where('next_reminder_at', '<=', now)
    .where('status', 'in', ['open', 'mitigated'])
    .orderBy('next_reminder_at')
    .orderBy('id')
    .limit(n)
    .execute();
  return fromDocs<Incident>(rows);
}

/** Incidents created at or after `since` with an id after `afterId`, in id order. */
export function incidentsSince(
  db: Db,
  since: number,
  afterId: string | undefined,
  limit: number,
): Promise<Incident[]> {
  return docsSince<Incident>(db, 'incidents', since, afterId, limit);
}

/**
 * Appends the drafts in order, numbering each incident's entries on from its largest seq.
 * The numbering reads and writes inside the caller's transaction: on SQLite `begin
 * immediate` serialises it; on PostgreSQL the caller holds the incident's row lock
 * (`getIncident`), and without it a concurrent append fails on the primary key rather than
 * reusing a seq.
 */
export async function appendTimeline(
  db: Db,
  drafts: readonly TimelineDraft[],
): Promise<TimelineEntry[]> {
  if (drafts.length === 0) return [];
  const last = new Map<string, number>();
  for (const id of new Set(drafts.map((d) => d.incidentId))) {
    const row = await db
      .selectFrom('incident_timeline')
      .select((eb) => eb.fn.max<number | null>('seq').as('seq'))
      .where('incident_id', '=', id)
      .executeTakeFirst();
    last.set(id, Number(row?.seq ?? 0));
  }
  const entries = drafts.map((d): TimelineEntry => {
    const seq = (last.get(d.incidentId) ?? 0) + 1;
    last.set(d.incidentId, seq);
    return { ...d, seq };
  });
  for (let i = 0; i < entries.length; i += TIMELINE_CHUNK) {
    await db
      .insertInto('incident_timeline')
      .values(entries.slice(i, i + TIMELINE_CHUNK).map(toTimelineRow))
      .execute();
  }
  return entries;
}

/** An incident's entries with seq > `afterSeq`, oldest first. */
export async function timeline(
  db: Db,
  incidentId: string,
  afterSeq: number | undefined,
  limit: number | undefined,
): Promise<TimelineEntry[]> {
  const n = pageSize(limit, TIMELINE_PAGE.default, TIMELINE_PAGE.max);
  if (n === 0) return [];
  const rows = await db
    .selectFrom('incident_timeline')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .where('seq', '>', afterSeq ?? 0)
    .orderBy('seq')
    .limit(n)
    .execute();
  return rows.map(fromTimelineRow);
}

function toTimelineRow(e: TimelineEntry): IncidentTimelineTable {
  return {
    incident_id: e.incidentId,
    seq: e.seq,
    at: e.at,
    kind: e.kind,
    actor: e.actor,
    text: e.text,
    ref: e.ref ?? null,
    detail: JSON.stringify(e.detail),
  };
}

function fromTimelineRow(r: IncidentTimelineTable): TimelineEntry {
  const e: TimelineEntry = {
    incidentId: r.incident_id,
    seq: Number(r.seq),
    at: Number(r.at),
    kind: r.kind as TimelineKind,
    actor: r.actor,
    text: r.text,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
  if (r.ref !== null) e.ref = r.ref;
  return e;
}
