/**
 * The live feed's data. `EventSource('/api/v1/feed?after=0')` replays the newest entries
 * the person may see (the server sends at most 500), then every new one (`event: audit`,
 * `id: <seq>`; a reconnect resumes from `Last-Event-ID`). Once the replay has arrived,
 * the entries before it are filled in from `GET /audit` (newest first, `before` the oldest
 * one received) up to `FEED_SIZE`. Entries are
 * kept in seq order, without duplicates; updates are batched to one render per animation
 * frame, so a storm stays cheap.
 */
import { useEffect, useRef, useState } from 'react';
import { checkSession } from './api.ts';
import { newestPage } from './audit-query.ts';
import type { AuditEntry } from './types.ts';

/** How many entries the feed keeps and shows. */
export const FEED_SIZE = 1000;

export type FeedStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** Adds `incoming` to `kept` (both oldest first): seq order, no duplicates, at most FEED_SIZE. */
export function mergeEntries(kept: AuditEntry[], incoming: AuditEntry[]): AuditEntry[] {
  if (incoming.length === 0) return kept;
  const lastSeq = kept.at(-1)?.seq ?? 0;
  let next: AuditEntry[];
  if (incoming.every((e, n) => e.seq > (n === 0 ? lastSeq : (incoming[n - 1]?.seq ?? 0)))) {
    next = kept.concat(incoming);
  } else {
    const bySeq = new Map<number, AuditEntry>();
    for (const e of kept) bySeq.set(e.seq, e);
    for (const e of incoming) bySeq.set(e.seq, e);
    next = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
  return next.length > FEED_SIZE ? next.slice(-FEED_SIZE) : next;
}

/** Up to `want` of the entries before seq `oldest` (all the newest when undefined), oldest first. */
async function entriesBefore(oldest: number | undefined, want: number): Promise<AuditEntry[]> {
  const page = await newestPage({}, oldest, want);
  return page.entries.reverse();
}

export interface Feed {
  entries: AuditEntry[];
  status: FeedStatus;
  /** False until the first batch (or the news that there is none) has arrived. */
  loaded: boolean;
  error: unknown;
}

export function useAuditFeed(): Feed {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    let closed = false;
    let frame = 0;
    let pending: AuditEntry[] = [];
    let backfilled = false;
    let oldest = Number.POSITIVE_INFINITY;
    let seen = 0;

    const backfill = () => {
      if (backfilled) return;
      backfilled = true;
      const want = FEED_SIZE - seen;
      const before = Number.isFinite(oldest) ? oldest : undefined;
      (want > 0 && before !== 1 ? entriesBefore(before, want) : Promise.resolve([]))
        .then((older) => {
          if (!closed) setEntries((kept) => mergeEntries(older, kept));
        })
        .catch((e: unknown) => {
          if (!closed) setError(e);
        })
        .finally(() => {
          if (!closed) setLoaded(true);
        });
    };
    const flush = () => {
      frame = 0;
      const batch = pending;
      pending = [];
      setEntries((kept) => mergeEntries(kept, batch));
      backfill();
    };

    const source = new EventSource('/api/v1/feed?after=0', { withCredentials: true });
    source.addEventListener('audit', (ev) => {
      let entry: AuditEntry;
      try {
        entry = JSON.parse((ev as MessageEvent<string>).data) as AuditEntry;
      } catch {
        return;
      }
      pending.push(entry);
      seen++;
      oldest = Math.min(oldest, entry.seq);
      if (!frame) frame = requestAnimationFrame(flush);
    });
    // An empty replay sends nothing: after a moment, fill in from the audit log anyway.
    const quiet = window.setTimeout(() => {
      if (!frame) backfill();
    }, 700);
    followStatus(source, setStatus, () => closed);

    return () => {
      closed = true;
      source.close();
      window.clearTimeout(quiet);
      if (frame) cancelAnimationFrame(frame);
    };
  }, []);

  return { entries, status, loaded, error };
}

/**
 * Calls `onEntry` for every new audit entry the person may see, as it is written (the same
 * stream as the live feed, without the replay), and reports whether the stream is live.
 * A page that must stay current refreshes from here and polls only while it is not live.
 */
export function useFeedEvents(onEntry: (e: AuditEntry) => void): FeedStatus {
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const handler = useRef(onEntry);
  handler.current = onEntry;
  useEffect(() => {
    let closed = false;
    const source = new EventSource('/api/v1/feed', { withCredentials: true });
    source.addEventListener('audit', (ev) => {
      try {
        handler.current(JSON.parse((ev as MessageEvent<string>).data) as AuditEntry);
      } catch {
        // Not an entry: nothing to do.
      }
    });
    followStatus(source, setStatus, () => closed);
    return () => {
      closed = true;
      source.close();
    };
  }, []);
  return status;
}

/** Keeps `setStatus` in step with the stream until `stopped()`. */
function followStatus(
  source: EventSource,
  setStatus: (s: FeedStatus) => void,
  stopped: () => boolean,
): void {
  source.addEventListener('open', () => {
    if (!stopped()) setStatus('live');
  });
  source.addEventListener('error', () => {
    if (stopped()) return;
    const gone = source.readyState === EventSource.CLOSED;
    setStatus(gone ? 'closed' : 'reconnecting');
    // The stream is refused for good (a 401, say): find out whether the session ended.
    if (gone) void checkSession();
  });
}
