/**
 * The pieces every page uses: loading data, running an action, showing a refusal with its
 * code, the page frame (title, heading, focus after navigation), times and state badges,
 * a modal dialog, and the row an empty table shows.
 */
import {
  type KeyboardEvent,
  type ReactNode,
  type RefObject,
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import { describeError, getJson } from './api.ts';
import { formatShortTime, formatTime } from './format.ts';
import { takeNavigationFocus } from './router.tsx';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Loads again quietly: a background call (the person did nothing), no "Loading…". */
  refresh: () => void;
  setData: (next: T) => void;
}

/** GETs `path` (with `query`) now and whenever either changes; `path` null loads nothing. */
export function useLoad<T>(
  path: string | null,
  query: Record<string, string | number | undefined> = {},
): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const background = useRef(false);
  const key = JSON.stringify(query);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `query`; `tick` asks for a reload.
  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    const quiet = background.current;
    background.current = false;
    if (!quiet) setLoading(true);
    getJson<T>(path, JSON.parse(key), { signal: abort.signal, background: quiet })
      .then((d) => {
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if ((e as Error).name !== 'AbortError') setError(e);
      })
      .finally(() => {
        if (!abort.signal.aborted) setLoading(false);
      });
    return () => abort.abort();
  }, [path, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const refresh = useCallback(() => {
    background.current = true;
    setTick((t) => t + 1);
  }, []);
  return { data, error, loading, reload, refresh, setData };
}

export interface Action {
  busy: boolean;
  error: unknown;
  /** Runs `work` unless one is already running; keeps its refusal for display. */
  run: (work: () => Promise<void>) => Promise<void>;
  clear: () => void;
}

/** A mutation's busy flag and refusal, so a button cannot fire twice. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const running = useRef(false);
  const run = useCallback(async (work: () => Promise<void>) => {
    if (running.current) return;
    running.current = true;
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (e) {
      setError(e);
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => setError(undefined), []);
  return { busy, error, run, clear };
}

/** A refusal as the person should read it: the sentence, then the stable code. */
export function ErrorNote({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  const { message, code } = describeError(error);
  return (
    <div className="error" role="alert">
      <p>
        {message}
        {code ? (
          <>
            {' '}
            <code className="code">{code}</code>
          </>
        ) : null}
      </p>
    </div>
  );
}

/** "Loading…" announced politely, shown only while nothing is there yet. */
export function Loading({ when }: { when: boolean }) {
  return when ? (
    <p className="muted" role="status">
      Loading…
    </p>
  ) : null;
}

/** The frame of a page: the document title, its one `h1`, focus on it after navigation. */
export function Page({
  title,
  children,
  actions,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Countersign`;
  }, [title]);
  // Before paint, so focus is never left on the page body between two pages.
  useLayoutEffect(() => {
    if (takeNavigationFocus()) heading.current?.focus();
  }, []);
  return (
    <>
      <div className="page-head">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}

/** A time, short for today, with the full time in `dateTime` and the tooltip. */
export function Time({ at, full = false }: { at: number | undefined; full?: boolean }) {
  if (at === undefined) return <span className="muted">—</span>;
  const iso = new Date(at).toISOString();
  return (
    <time dateTime={iso} title={formatTime(at)}>
      {full ? formatTime(at) : formatShortTime(at)}
    </time>
  );
}

const TONE: Record<string, string> = {
  pending: 'warn',
  approved: 'info',
  running: 'info',
  succeeded: 'good',
  failed: 'bad',
  unknown: 'bad',
  denied: 'bad',
  expired: 'muted',
  cancelled: 'muted',
  open: 'bad',
  mitigated: 'warn',
  resolved: 'good',
  firing: 'bad',
  'insufficient-data': 'warn',
  active: 'info',
  completed: 'good',
  aborted: 'muted',
  ok: 'good',
  'read-only': 'good',
  mutating: 'warn',
  destructive: 'bad',
  sev1: 'bad',
  sev2: 'bad',
  sev3: 'warn',
  sev4: 'info',
};

/** A state, class or severity as a labelled badge (text always, colour only as a hint). */
export function Badge({ value }: { value: string }) {
  return <span className={`badge tone-${TONE[value] ?? 'muted'}`}>{value}</span>;
}

/** A definition list from label/value pairs, skipping empty values. */
export function Facts({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {rows
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

/**
 * A wide table's frame: it scrolls sideways on a narrow screen, so it is a labelled region
 * that takes focus, and the keyboard can scroll it too.
 */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1).
    <section className="table-wrap" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}

/** The one row of a table with nothing in it, so the table still says so to everyone. */
export function EmptyRow({ columns, children }: { columns: number; children: ReactNode }) {
  return (
    <tr className="empty-row">
      <td colSpan={columns}>{children}</td>
    </tr>
  );
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog on the native `<dialog>` (`showModal`: the page behind is inert, Escape
 * closes it). Tab and Shift+Tab cycle inside it; on close, focus returns to what had it
 * before (the button that opened it), or to the main landmark when that is gone.
 * `initialFocus` takes focus first, else the first control.
 */
export function Dialog({
  title,
  onClose,
  children,
  initialFocus,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  initialFocus?: RefObject<HTMLElement | null>;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const close = useRef(onClose);
  close.current = onClose;
  // biome-ignore lint/correctness/useExhaustiveDependencies: opened once; `initialFocus` is a ref.
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    d.showModal();
    (initialFocus?.current ?? d.querySelector<HTMLElement>(FOCUSABLE))?.focus();
    const cancel = (e: Event) => {
      e.preventDefault();
      close.current();
    };
    d.addEventListener('cancel', cancel);
    return () => {
      d.removeEventListener('cancel', cancel);
      if (d.open) d.close();
      // The opener may be gone (the record it was on was decided): then the page's main.
      if (opener?.isConnected) opener.focus();
      else document.getElementById('main')?.focus();
    };
  }, []);
  const trap = (e: KeyboardEvent<HTMLDialogElement>) => {
    if (e.key !== 'Tab' || !dialog.current) return;
    const items = [...dialog.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = items[0];
    const last = items.at(-1);
    if (!first || !last) return;
    const active = document.activeElement;
    if (e.shiftKey && (active === first || !dialog.current.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !dialog.current.contains(active))) {
      e.preventDefault();
      first.focus();
    }
  };
  return (
    <dialog ref={dialog} className="dialog" aria-labelledby={titleId} onKeyDown={trap}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
