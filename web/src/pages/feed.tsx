/**
 * Live feed: what is happening now, as it happens — every audit entry (requests,
 * approvals, executions, alerts, incidents), newest first, with the command box above.
 * Rows are plain and memoised: a thousand of them render once and only new rows after.
 */
import { memo, useMemo, useState } from 'react';
import { type FeedStatus, useAuditFeed } from '../feed-stream.ts';
import { formatLinks, formatShortTime } from '../format.ts';
import { RecordLink } from '../record-link.tsx';
import type { AuditEntry } from '../types.ts';
import { ErrorNote, Page } from '../ui.tsx';
import { CommandBox } from './command-box.tsx';

const KINDS = {
  all: 'Everything',
  requests: 'Requests, approvals and executions',
  incidents: 'Incidents and runbooks',
  alerts: 'Alerts and silences',
} as const;
type Kind = keyof typeof KINDS;

function kindOf(action: string): Kind {
  const noun = action.slice(0, action.indexOf('.'));
  if (['request', 'approval', 'execution', 'command'].includes(noun)) return 'requests';
  if (['incident', 'runbook', 'mitigation', 'step'].includes(noun)) return 'incidents';
  if (['alert', 'silence', 'event', 'ingest'].includes(noun)) return 'alerts';
  return 'all';
}

/** A few primitive detail values, cheaply: `state=approved reason="…"`. */
function detailLine(detail: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key in detail) {
    const v = detail[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      const s = String(v);
      parts.push(`${key}=${s.length > 80 ? `${s.slice(0, 80)}…` : s}`);
      if (parts.length === 4) break;
    }
  }
  return parts.join(' ');
}

const FeedRow = memo(function FeedRow({ e }: { e: AuditEntry }) {
  const links = formatLinks(e.links as Record<string, string | undefined>);
  const detail = detailLine(e.detail);
  return (
    <li className="feed-row">
      <time dateTime={new Date(e.at).toISOString()}>{formatShortTime(e.at)}</time>
      <span className="feed-main">
        <strong>{e.actor}</strong> <span className="action">{e.action}</span>{' '}
        <RecordLink id={e.target} />
        {e.result !== 'ok' ? <span className="badge tone-bad">{e.result}</span> : null}
        {links ? <span className="muted"> {links}</span> : null}
        {detail ? <span className="feed-detail">{detail}</span> : null}
      </span>
      <span className="feed-meta muted">
        #{e.seq} · {e.surface}
      </span>
    </li>
  );
});

const STATUS_TEXT: Record<FeedStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected — reload the page to reconnect',
};

export function FeedPage() {
  const { entries, status, loaded, error } = useAuditFeed();
  const [kind, setKind] = useState<Kind>('all');
  const shown = useMemo(() => {
    const list = kind === 'all' ? entries : entries.filter((e) => kindOf(e.action) === kind);
    return list.slice().reverse();
  }, [entries, kind]);

  return (
    <Page title="Live feed">
      <CommandBox />
      <section aria-labelledby="activity-heading" className="feed">
        <div className="section-head">
          <h2 id="activity-heading">Activity</h2>
          <p className={`feed-status status-${status}`} role="status">
            {STATUS_TEXT[status]} · {entries.length} events
          </p>
        </div>
        <div className="toolbar">
          <label htmlFor="feed-kind">Show</label>
          <select id="feed-kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            {Object.entries(KINDS).map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <ErrorNote error={error} />
        {shown.length === 0 && loaded ? (
          <p className="muted">Nothing yet.</p>
        ) : (
          <ol className="feed-list" aria-label="Audit events, newest first">
            {shown.map((e) => (
              <FeedRow key={e.seq} e={e} />
            ))}
          </ol>
        )}
      </section>
    </Page>
  );
}
