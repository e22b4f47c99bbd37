/**
 * The signed-in frame: a skip link, the banner with who is signed in, the main navigation
 * (a sidebar on wide screens, a wrapped list on narrow ones — plain links either way), and
 * the main landmark each page renders into.
 */
import type { ReactNode } from 'react';
import { Link, useLocation } from './router.tsx';
import { useSession } from './session.tsx';

export const NAV: { to: string; label: string }[] = [
  { to: '/', label: 'Live feed' },
  { to: '/approvals', label: 'Approvals' },
  { to: '/requests', label: 'Requests' },
  { to: '/incidents', label: 'Incidents' },
  { to: '/runs', label: 'Runbook runs' },
  { to: '/alerts', label: 'Alerts & silences' },
  { to: '/audit', label: 'Audit' },
  { to: '/catalog', label: 'Catalog' },
  { to: '/review', label: 'Review' },
];

function isCurrent(to: string, path: string): boolean {
  return to === '/' ? path === '/' : path === to || path.startsWith(`${to}/`);
}

export function Layout({ children }: { children: ReactNode }) {
  const { session, signOut } = useSession();
  const { path } = useLocation();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="banner">
        <Link to="/" className="brand">
          Countersign
        </Link>
        <div className="who">
          <span>
            Signed in as <strong>{session.person.name}</strong>
            {session.via === 'demo' ? <span className="badge tone-warn">demo</span> : null}
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <nav className="nav" aria-label="Main">
        <ul>
          {NAV.map((n) => (
            <li key={n.to}>
              <Link to={n.to} aria-current={isCurrent(n.to, path) ? 'page' : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
