/**
 * Approvals inbox: what waits for me (`GET /me/approvals`), each request with what it
 * needs and the sign-off buttons; and my own pending requests, which wait on others.
 * Both refresh from the live feed as requests are made, signed off, decided or expire;
 * a slow poll stands in only while the feed is not connected.
 */
import { useCallback, useEffect, useRef } from 'react';
import { useFeedEvents } from '../feed-stream.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import type { ActionRequest, ApprovalItem, AuditEntry } from '../types.ts';
import { ErrorNote, type Loaded, Loading, Page, useLoad } from '../ui.tsx';
import { RequestSummary } from './request-parts.tsx';
import { SignOffPanel } from './sign-off.tsx';

/** How often the page looks again while the live feed is not connected, in milliseconds. */
const FALLBACK_POLL_MS = 20_000;
/** Entries arriving within this many milliseconds cause one refresh. */
const SETTLE_MS = 250;

/** Whether an audit entry may change what waits for someone. */
const touchesRequests = (e: AuditEntry) =>
  /^(request|approval|execution)\./.test(e.action) || e.target.startsWith('REQ-');

/**
 * Calls `refresh` (quietly) shortly after any entry about requests arrives on the live feed,
 * and every `FALLBACK_POLL_MS` while the feed is not live.
 */
function useLiveRefresh(refresh: () => void): void {
  const timer = useRef(0);
  const status = useFeedEvents((e) => {
    if (!touchesRequests(e) || timer.current) return;
    timer.current = window.setTimeout(() => {
      timer.current = 0;
      refresh();
    }, SETTLE_MS);
  });
  useEffect(() => () => window.clearTimeout(timer.current), []);
  useEffect(() => {
    if (status === 'live') return;
    const t = window.setInterval(refresh, FALLBACK_POLL_MS);
    return () => window.clearInterval(t);
  }, [status, refresh]);
}

function Inbox({ inbox }: { inbox: Loaded<{ approvals: ApprovalItem[] }> }) {
  const { session } = useSession();
  const { reload } = inbox;

  const items = (inbox.data?.approvals ?? []).filter(
    (i) => i.request.requester !== session.person.id,
  );
  return (
    <section aria-labelledby="inbox-heading">
      <div className="section-head">
        <h2 id="inbox-heading">Waiting for you</h2>
        <button type="button" onClick={reload} disabled={inbox.loading}>
          Refresh
        </button>
      </div>
      <ErrorNote error={inbox.error} />
      <Loading when={inbox.loading && !inbox.data} />
      {inbox.data && items.length === 0 ? (
        <p className="muted">Nothing waits for your sign-off.</p>
      ) : null}
      <ul className="cards">
        {items.map(({ request, kinds }) => (
          <li key={request.id} className="card">
            <h3>
              <Link to={`/requests/${request.id}`}>{request.id}</Link>
            </h3>
            <RequestSummary r={request} />
            <SignOffPanel request={request} kinds={kinds} onDone={() => reload()} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function MyPending({ mine }: { mine: Loaded<{ requests: ActionRequest[] }> }) {
  const list = mine.data?.requests ?? [];
  return (
    <section aria-labelledby="mine-heading">
      <h2 id="mine-heading">Your requests waiting on others</h2>
      <ErrorNote error={mine.error} />
      <Loading when={mine.loading && !mine.data} />
      {mine.data && list.length === 0 ? <p className="muted">None.</p> : null}
      <ul className="plain-list">
        {list.map((r) => (
          <li key={r.id}>
            <Link to={`/requests/${r.id}`}>{r.id}</Link> <code>{r.command}</code> {r.service}/
            {r.environment} — needs {r.missing.join('; ') || 'nothing more'}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ApprovalsPage() {
  const { session } = useSession();
  const inbox = useLoad<{ approvals: ApprovalItem[] }>('/me/approvals');
  const mine = useLoad<{ requests: ActionRequest[] }>('/requests', {
    state: 'pending',
    requester: session.person.id,
    limit: 100,
  });
  const { refresh: refreshInbox } = inbox;
  const { refresh: refreshMine } = mine;
  const refresh = useCallback(() => {
    refreshInbox();
    refreshMine();
  }, [refreshInbox, refreshMine]);
  useLiveRefresh(refresh);
  return (
    <Page title="Approvals">
      <Inbox inbox={inbox} />
      <MyPending mine={mine} />
    </Page>
  );
}
