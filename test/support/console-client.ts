/**
 * Calling the console's API as a browser would, through `app.inject`: the demo sign-in, the
 * session cookie and its CSRF token. Shared by the `test/console-*.test.ts` files.
 */
import assert from 'node:assert/strict';
import type { Harness } from './harness.ts';

export const V1 = '/api/v1';
export const DEPLOY_PROD = 'deploy checkout-api prod version=1.4.2 ticket=CHG-1';
export const DEPLOY_STAGING = 'deploy checkout-api staging version=1.4.2 ticket=CHG-2';

export interface SignedIn {
  /** `cs_session=<value>`, as a browser sends it back. */
  cookie: string;
  value: string;
  csrf: string;
  setCookie: string;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export async function call(
  h: Harness,
  method: Method,
  url: string,
  o: { cookie?: string; csrf?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const res = await h.app.inject({
    method,
    url,
    headers: {
      ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(o.cookie ? { cookie: o.cookie } : {}),
      ...(o.csrf ? { 'x-csrf-token': o.csrf } : {}),
      ...o.headers,
    },
    ...(o.body === undefined ? {} : { payload: JSON.stringify(o.body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are inspected field by field
  let json: any;
  try {
    json = res.json();
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json, headers: res.headers, body: res.body };
}

export async function signIn(h: Harness, person: string): Promise<SignedIn> {
  const res = await call(h, 'POST', `${V1}/session/demo`, { body: { person } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const setCookie = String(res.headers['set-cookie']);
  const value = /cs_session=([^;]*)/.exec(setCookie)?.[1] ?? '';
  return { cookie: `cs_session=${value}`, value, csrf: res.json.csrf, setCookie };
}

/** Same-origin like the console: cookie, CSRF token and JSON. */
export const asConsole = (s: SignedIn, body: unknown = {}) => ({
  cookie: s.cookie,
  csrf: s.csrf,
  body,
});
