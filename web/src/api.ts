/**
 * The console's only way to the server: `fetch` on `/api/v1`, same-origin cookies, the
 * `x-countersign-surface: console` header, and `X-CSRF-Token` on every mutating call.
 * Refusals arrive as `application/problem+json` and become an `ApiError` carrying the
 * stable code; a 401 anywhere sends the person back to sign-in. Calls the page makes by
 * itself (live refreshes, session checks) are marked `X-Countersign-Background: 1`, so they
 * neither keep an idle session alive nor count as the person's last activity here.
 */

/** A refusal or failure, with the problem document's public text and stable code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;

  constructor(status: number, code: string, title: string, detail: string) {
    super(detail || title);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.title = title;
  }
}

let csrfToken = '';
let onUnauthenticated: () => void = () => {};
/** When the person last made a call (ms since epoch, this browser's clock). */
let lastActivity = Date.now();

/** When the person last made a call here (not a background refresh), in ms since epoch. */
export function lastActivityAt(): number {
  return lastActivity;
}

/** Set from the session; sent back on every mutating call. */
export function setCsrf(token: string): void {
  csrfToken = token;
}

/** What to do when the server says the session is gone (401). */
export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

type Query = Record<string, string | number | undefined>;

/** How a GET is made: `signal` aborts it; `background` marks it as not the person's doing. */
export interface CallOptions {
  signal?: AbortSignal;
  background?: boolean;
}

/** `/api/v1` + path, with the defined, non-empty query values. */
export function apiUrl(path: string, query: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return `/api/v1${path}${s ? `?${s}` : ''}`;
}

async function problemOf(res: Response): Promise<ApiError> {
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const p = (await res.json()) as { title?: string; detail?: string; code?: string };
      return new ApiError(
        res.status,
        p.code ?? `HTTP_${res.status}`,
        p.title ?? res.statusText,
        p.detail ?? '',
      );
    } catch {
      // Not JSON after all: fall through to the status line.
    }
  }
  return new ApiError(res.status, `HTTP_${res.status}`, res.statusText || 'Request failed', '');
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  query?: Query,
  { signal, background = false }: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'x-countersign-surface': 'console' };
  if (background) headers['X-Countersign-Background'] = '1';
  else lastActivity = Date.now();
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = csrfToken;
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(apiUrl(path, query), {
      method,
      credentials: 'same-origin',
      headers,
      ...(method !== 'GET' ? { body: JSON.stringify(body ?? {}) } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'The server did not answer', 'Check that it is running.');
  }
  if (res.ok) return res;
  const problem = await problemOf(res);
  if (res.status === 401 && !path.startsWith('/session')) onUnauthenticated();
  throw problem;
}

/** GET a JSON document. */
export async function getJson<T>(path: string, query?: Query, options?: CallOptions): Promise<T> {
  return (await (await call('GET', path, undefined, query, options)).json()) as T;
}

/** GET a text document (the postmortem's Markdown). */
export async function getText(path: string): Promise<string> {
  return (await call('GET', path)).text();
}

/** POST a JSON body (CSRF token attached) and read the JSON answer. */
export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  const res = await call('POST', path, body);
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : {}) as T;
}

/** Asks whether the session still holds; on a 401 the person goes back to sign-in. */
export async function checkSession(): Promise<void> {
  try {
    await call('GET', '/session', undefined, undefined, { background: true });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) onUnauthenticated();
  }
}

/** The public sentence and code of anything thrown by a call. */
export function describeError(err: unknown): { message: string; code?: string } {
  if (err instanceof ApiError) return { message: err.message, code: err.code };
  return { message: err instanceof Error ? err.message : String(err) };
}
