/**
 * Approvals inbox: what waits for me (`GET /me/approvals`), each request with what it
 * needs and the sign-off buttons; and my own pending requests, which wait on others.
 */
import { useEffect } from 'react';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import type { ActionRequest, ApprovalItem } from '../types.ts';
import { ErrorNote, Loading, Page, useLoad } from '../ui.tsx';
import { RequestSummary } from './request-parts.tsx';
import { SignOffPanel } from './sign-off.tsx';

/** How often the inbox looks again, in milliseconds. */
const REFRESH_MS = 20_000;

function Inbox() {
  const { session } = useSession();
  const inbox = useLoad<{ approvals: ApprovalItem[] }>('/me/approvals');
  const { reload } = inbox;
  useEffect(() => {
    const t = window.setInterval(reload, REFRESH_MS);
    return () => window.clearInterval(t);
  }, [reload]);

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

function MyPending() {
  const { session } = useSession();
  const mine = useLoad<{ requests: ActionRequest[] }>('/requests', {
    state: 'pending',
    requester: session.person.id,
    limit: 100,
  });
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
  return (
    <Page title="Approvals">
      <Inbox />
      <MyPending />
    </Page>
  );
}
