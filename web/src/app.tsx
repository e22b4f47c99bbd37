/**
 * The console: find the session (`GET /session`), show sign-in without one, otherwise
 * the layout and the page the path names. A 401 from any call returns to sign-in, and so
 * does a session left unused for its idle time (the server decides; the page asks it once
 * the person has made no call for that long). Signing out of an OIDC session continues at
 * the provider when the server says where.
 */
import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import {
  ApiError,
  checkSession,
  getJson,
  lastActivityAt,
  postJson,
  setCsrf,
  whenUnauthenticated,
} from './api.ts';
import { Layout } from './layout.tsx';
import { AlertsPage } from './pages/alerts.tsx';
import { ApprovalsPage } from './pages/approvals.tsx';
import { AuditPage } from './pages/audit.tsx';
import { CatalogPage } from './pages/catalog.tsx';
import { FeedPage } from './pages/feed.tsx';
import { IncidentDetailPage } from './pages/incident-detail.tsx';
import { IncidentsPage } from './pages/incidents.tsx';
import { RequestDetailPage } from './pages/request-detail.tsx';
import { RequestsPage } from './pages/requests.tsx';
import { ReviewPage } from './pages/review.tsx';
import { RunDetailPage } from './pages/run-detail.tsx';
import { RunsPage } from './pages/runs.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { focusNextPage, Link, matchPath, useLocation } from './router.tsx';
import { SessionContext } from './session.tsx';
import type { Session } from './types.ts';
import { ErrorNote, Page } from './ui.tsx';

type Params = Record<string, string>;

/** Client routes, tried in order; the server answers each with `index.html`. */
const ROUTES: [string, (p: Params) => ReactNode][] = [
  ['/', () => <FeedPage />],
  ['/approvals', () => <ApprovalsPage />],
  ['/requests', () => <RequestsPage />],
  ['/requests/:id', (p) => <RequestDetailPage id={p.id ?? ''} />],
  ['/incidents', () => <IncidentsPage />],
  ['/incidents/:id', (p) => <IncidentDetailPage id={p.id ?? ''} />],
  ['/runs', () => <RunsPage />],
  ['/runs/:id', (p) => <RunDetailPage id={p.id ?? ''} />],
  ['/alerts', () => <AlertsPage />],
  ['/audit', () => <AuditPage />],
  ['/catalog', () => <CatalogPage />],
  ['/review', () => <ReviewPage />],
];

function NotFound() {
  return (
    <Page title="Not found">
      <p>
        There is no page here. <Link to="/">Go to the live feed.</Link>
      </p>
    </Page>
  );
}

function CurrentPage() {
  const { path } = useLocation();
  for (const [pattern, render] of ROUTES) {
    const params = matchPath(pattern, path);
    // `key` remounts the page when the path changes, so state never leaks between records.
    if (params) return <div key={path}>{render(params)}</div>;
  }
  return <NotFound />;
}

type State =
  | { kind: 'loading' }
  | { kind: 'signed-out'; ended?: boolean }
  | { kind: 'in'; session: Session };

/** Asks the server about the session once the person has been idle for its idle time. */
function useIdleCheck(idleMs: number | undefined): void {
  useEffect(() => {
    if (!idleMs) return;
    const every = Math.min(30_000, Math.max(1_000, Math.floor(idleMs / 4)));
    const t = window.setInterval(() => {
      if (Date.now() - lastActivityAt() >= idleMs) void checkSession();
    }, every);
    return () => window.clearInterval(t);
  }, [idleMs]);
}

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [error, setError] = useState<unknown>();

  const signedIn = useCallback((session: Session) => {
    setCsrf(session.csrf);
    setState({ kind: 'in', session });
  }, []);

  useEffect(() => {
    whenUnauthenticated(() => {
      setCsrf('');
      setState((was) => ({ kind: 'signed-out', ended: was.kind === 'in' }));
    });
    getJson<Session>('/session')
      .then(signedIn)
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) setState({ kind: 'signed-out' });
        else setError(e);
      });
  }, [signedIn]);

  const signOut = useCallback(() => {
    postJson<{ providerLogoutUrl?: string }>('/session/logout')
      .then((r) => {
        // Signed in through the organisation: sign out there too.
        if (r.providerLogoutUrl) window.location.assign(r.providerLogoutUrl);
      })
      .catch(() => undefined)
      .finally(() => {
        setCsrf('');
        setState({ kind: 'signed-out' });
      });
  }, []);
  useIdleCheck(state.kind === 'in' ? state.session.idleMs : undefined);

  const context = useMemo(
    () => (state.kind === 'in' ? { session: state.session, signOut } : null),
    [state, signOut],
  );

  if (error !== undefined) {
    return (
      <main id="main" className="sign-in">
        <h1>Countersign</h1>
        <ErrorNote error={error} />
        <button type="button" onClick={() => window.location.reload()}>
          Try again
        </button>
      </main>
    );
  }
  if (state.kind === 'loading') {
    return (
      <main id="main" className="sign-in">
        <p role="status">Loading…</p>
      </main>
    );
  }
  if (state.kind === 'signed-out' || !context) {
    // Signed in from the form: the page's heading takes focus (the button that had it is gone).
    const fromForm = (session: Session) => {
      focusNextPage();
      signedIn(session);
    };
    return <SignIn onSignedIn={fromForm} ended={state.kind === 'signed-out' && !!state.ended} />;
  }
  return (
    <SessionContext.Provider value={context}>
      <Layout>
        <CurrentPage />
      </Layout>
    </SessionContext.Provider>
  );
}
