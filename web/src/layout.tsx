/**
 * The signed-in frame: a skip link, the banner with who is signed in, the main navigation
 * (a sidebar on wide screens, a wrapped list on narrow ones — plain links either way), and
 * the main landmark each page renders into. When what had focus goes away or is disabled
 * (a decided request's card, a closed panel), focus moves to the page's heading instead of
 * being lost.
 */
import { type ReactNode, useEffect } from 'react';
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

/** Keeps keyboard focus on the page: when the focused element is removed, the `h1` takes it. */
function useFocusRescue(): void {
  useEffect(() => {
    const main = document.getElementById('main');
    if (!main) return;
    let last: Element | null = null;
    const remember = (e: FocusEvent) => {
      last = e.target instanceof Element ? e.target : null;
    };
    const rescue = () => {
      if (!last || (last.isConnected && !last.matches(':disabled'))) return;
      const active = document.activeElement;
      if (active && active !== document.body) return;
      last = null;
      main.querySelector<HTMLElement>('h1')?.focus();
    };
    const watcher = new MutationObserver(rescue);
    // Removed, or disabled while it had focus: either way the browser drops focus.
    watcher.observe(main, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['disabled'],
    });
    document.addEventListener('focusin', remember);
    return () => {
      watcher.disconnect();
      document.removeEventListener('focusin', remember);
    };
  }, []);
}

export function Layout({ children }: { children: ReactNode }) {
  const { session, signOut } = useSession();
  const { path } = useLocation();
  useFocusRescue();
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
