/**
 * A small router over `history.pushState`: the location as an external store, `<Link>` for
 * in-app anchors (real `href`s, so opening in a new tab and the keyboard work), and
 * `matchPath` for `/requests/:id` style patterns. The server answers every client route
 * with `index.html`.
 */
import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

const CHANGE = 'countersign:navigate';

/** True after an in-app navigation, until the new page has taken focus. */
let navigated = false;

function subscribe(onChange: () => void): () => void {
  const popped = () => {
    navigated = true;
    onChange();
  };
  window.addEventListener('popstate', popped);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener('popstate', popped);
    window.removeEventListener(CHANGE, onChange);
  };
}

const snapshot = () => `${window.location.pathname}${window.location.search}`;

export interface Location {
  path: string;
  query: URLSearchParams;
}

/** The current path and query; re-renders on navigation and history moves. */
export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, window.location.origin);
  return { path: url.pathname, query: url.searchParams };
}

/** Goes to `to` (a path with an optional query) without reloading the page. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  navigated = !options.replace;
  window.dispatchEvent(new Event(CHANGE));
}

/** Asks the next page to take focus on its heading (after signing in, say). */
export function focusNextPage(): void {
  navigated = true;
}

/** Whether focus should move to the new page's heading; clears the flag. */
export function takeNavigationFocus(): boolean {
  const was = navigated;
  navigated = false;
  return was;
}

/** `/requests/:id` against `/requests/REQ-1` → `{ id: 'REQ-1' }`, or undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.replace(/\/+$/, '').split('/');
  const got = path.replace(/\/+$/, '').split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? '';
    const g = got[i] ?? '';
    if (w.startsWith(':')) {
      if (!g) return undefined;
      params[w.slice(1)] = decodeURIComponent(g);
    } else if (w !== g) return undefined;
  }
  return params;
}

/** A path with a query built from the defined, non-empty values. */
export function withQuery(path: string, query: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string };

/** An anchor that navigates in-app on a plain click and behaves like a link otherwise. */
export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0) return;
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={click} {...rest}>
      {children}
    </a>
  );
}
