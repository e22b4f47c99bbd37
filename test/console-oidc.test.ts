/**
 * Console sign-in through OpenID Connect, end to end against a real provider
 * (`oidc-provider`, run here on 127.0.0.1 with its development login pages and PKCE
 * required) and a small fetch-based browser that keeps cookies, follows redirects and
 * submits the provider's forms. Also the claim-to-person mapping on its own.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { personForClaims } from '../src/adapters/http/console-oidc.ts';
import { loadCatalogOrThrow } from '../src/config/load-catalog.ts';
import type { Catalog } from '../src/domain/catalog.ts';
import { DEMO_DIR, type Harness, harness } from './support/harness.ts';
import { freePort } from './support/server-process.ts';

const CLIENT_ID = 'countersign';
const CLIENT_SECRET = 'countersign-test-client-secret-0123456789';

/** The provider's accounts: the login typed on its page is the subject. */
const ACCOUNTS: Record<string, Record<string, unknown>> = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice' },
  'u-7f3a': { preferred_username: 'Bob', name: 'Bob' },
  mallory: { email: 'mallory@example.com', email_verified: true, name: 'Mallory' },
};

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/**
 * A browser, as far as sign-in needs one: cookies per host (not per port, as browsers
 * keep them) with their paths, redirects followed by hand, and HTML forms submitted.
 */
class Browser {
  private readonly jar = new Map<string, Cookie[]>();

  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.find((c) => c.name === name)?.value;
  }

  private remember(url: URL, res: Response): void {
    const list = this.jar.get(url.hostname) ?? [];
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const gone = attrs.some((a) => /^max-age=0$/i.test(a)) || value === '';
      const kept = list.filter((c) => !(c.name === name && c.path === path));
      if (!gone) kept.push({ name, value, path });
      list.splice(0, list.length, ...kept);
    }
    this.jar.set(url.hostname, list);
  }

  private cookiesFor(url: URL): string {
    return (this.jar.get(url.hostname) ?? [])
      .filter((c) => url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  async request(url: URL, init: { method?: string; body?: string } = {}): Promise<Response> {
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        cookie: this.cookiesFor(url),
        ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.body ? { body: init.body } : {}),
    });
    this.remember(url, res);
    return res;
  }

  /**
   * Starts at `start`, follows redirects and fills forms (`login` with `login`) until a
   * page that is neither; returns its URL, status and text.
   */
  async walk(
    start: URL,
    login: string,
  ): Promise<{ url: URL; status: number; text: string; logins: number }> {
    let url = start;
    let init: { method?: string; body?: string } = {};
    let logins = 0;
    for (let hop = 0; hop < 20; hop++) {
      const res = await this.request(url, init);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        url = new URL(location, url);
        init = {};
        await res.arrayBuffer();
        continue;
      }
      const text = await res.text();
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(
        text,
      );
      if (!form) return { url, status: res.status, text, logins };
      if (/\bname="login"/.test(form[2]!)) logins++;
      const fields = new URLSearchParams();
      for (const input of form[2]!.matchAll(/<input([^>]*)>/gi)) {
        const attrs = input[1]!;
        const name = /\bname="([^"]*)"/.exec(attrs)?.[1];
        if (!name) continue;
        const value = /\bvalue="([^"]*)"/.exec(attrs)?.[1];
        fields.set(name, name === 'login' ? login : name === 'password' ? 'pw' : (value ?? ''));
      }
      url = new URL(form[1]!.replaceAll('&amp;', '&'), url);
      init = { method: 'POST', body: fields.toString() };
    }
    throw new Error('too many hops');
  }

  /**
   * Follows `start` (the provider's logout URL) to its confirmation form, answers
   * "Yes, sign me out" (`logout=yes` with the form's hidden fields) and follows the
   * redirects back; returns where it ended.
   */
  async logOut(start: URL): Promise<{ url: URL; status: number }> {
    const page = await this.request(start);
    const text = await page.text();
    const form = /<form([^>]*)>([\s\S]*?)<\/form>/i.exec(text);
    assert.ok(form, `a confirmation form at the provider: ${text.slice(0, 300)}`);
    const action = /\baction="([^"]+)"/.exec(form[1]!)?.[1];
    assert.ok(action, 'the form has an action');
    const fields = new URLSearchParams({ logout: 'yes' });
    for (const input of form[2]!.matchAll(/<input([^>]*)>/gi)) {
      const name = /\bname="([^"]*)"/.exec(input[1]!)?.[1];
      if (name) fields.set(name, /\bvalue="([^"]*)"/.exec(input[1]!)?.[1] ?? '');
    }
    let url = new URL(action.replaceAll('&amp;', '&'), start);
    let res = await this.request(url, { method: 'POST', body: fields.toString() });
    for (let hop = 0; hop < 10 && res.status >= 300 && res.status < 400; hop++) {
      await res.arrayBuffer();
      url = new URL(res.headers.get('location')!, url);
      res = await this.request(url);
    }
    await res.arrayBuffer();
    return { url, status: res.status };
  }
}

async function startProvider(
  issuer: string,
  redirectUri: string,
  postLogoutRedirectUri: string,
): Promise<Server> {
  // oidc-provider ships no types; the test uses a handful of its options.
  const spec = 'oidc-provider';
  const { default: Provider } = await import(spec);
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: [postLogoutRedirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['console-oidc-test-cookie-key'] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, ...ACCOUNTS[sub] }),
    }),
  });
  const url = new URL(issuer);
  const server = createServer(provider.callback());
  await new Promise<void>((ok) => server.listen(Number(url.port), url.hostname, ok));
  return server;
}

describe('console sign-in with OpenID Connect (a real provider on loopback)', () => {
  let h: Harness;
  let provider: Server;
  let app: URL;
  let issuer: string;
  before(async () => {
    const [appPort, idpPort] = [await freePort(), await freePort()];
    app = new URL(`http://127.0.0.1:${appPort}`);
    issuer = `http://127.0.0.1:${idpPort}`;
    const redirectUrl = `${app.origin}/auth/callback`;
    provider = await startProvider(issuer, redirectUrl, `${app.origin}/`);
    h = await harness({
      console: {
        host: '127.0.0.1',
        oidc: {
          issuer,
          clientId: CLIENT_ID,
          clientSecret: { reveal: () => CLIENT_SECRET },
          redirectUrl,
        },
      },
    });
    await h.app.listen({ port: appPort, host: '127.0.0.1' });
  });
  after(async () => {
    await h?.close();
    await new Promise((ok) => provider?.close(ok));
  });

  const sessionOf = async (browser: Browser) => {
    const value = browser.cookie('127.0.0.1', 'cs_session');
    const res = await fetch(new URL('/api/v1/session', app), {
      headers: value ? { cookie: `cs_session=${value}` } : {},
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('/auth/login sends the browser to the provider with PKCE (S256), state and nonce', async () => {
    const res = await new Browser().request(new URL('/auth/login', app));
    assert.equal(res.status, 302);
    const to = new URL(res.headers.get('location')!);
    assert.equal(to.origin, issuer);
    for (const p of ['state', 'nonce', 'code_challenge']) assert.ok(to.searchParams.get(p), p);
    assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(to.searchParams.get('client_id'), CLIENT_ID);
    const set = res.headers.getSetCookie().join('\n');
    assert.match(set, /cs_oidc=[^;]+; Path=\/auth; HttpOnly; SameSite=Lax/);
    assert.ok(!set.includes(to.searchParams.get('state')!), 'the state travels sealed');
  });

  it('signs a catalog person in end to end (subject = console login), then the API knows them', async () => {
    const browser = new Browser();
    const end = await browser.walk(new URL('/auth/login', app), 'alice');
    assert.equal(end.url.href, new URL('/', app).href);
    assert.equal(end.status, 200);
    const session = await sessionOf(browser);
    assert.equal(session.status, 200);
    assert.deepEqual((session.json.person as { id: string }).id, 'alice');
    assert.equal(session.json.via, 'oidc');
    const [started] = await h.store.queryAudit({ action: 'session.started', actor: 'alice' });
    assert.equal(started?.surface, 'console');
    assert.equal(started?.detail.via, 'oidc');
    assert.equal(browser.cookie('127.0.0.1', 'cs_oidc'), undefined, 'the login cookie is gone');
  });

  it('maps by preferred_username when the subject is an opaque id', async () => {
    const browser = new Browser();
    await browser.walk(new URL('/auth/login', app), 'u-7f3a');
    const session = await sessionOf(browser);
    assert.equal(session.status, 200);
    assert.equal((session.json.person as { id: string }).id, 'bob');
  });

  it('refuses a subject the catalog does not know: a 403 page, audited, no session', async () => {
    const browser = new Browser();
    const end = await browser.walk(new URL('/auth/login', app), 'mallory');
    assert.equal(end.url.pathname, '/auth/callback');
    assert.equal(end.status, 403);
    assert.match(end.text, /Not in the catalog/);
    assert.equal(browser.cookie('127.0.0.1', 'cs_session'), undefined);
    assert.equal((await sessionOf(browser)).status, 401);
    const [refused] = await h.store.queryAudit({ action: 'session.refused' });
    assert.equal(refused?.actor, 'oidc:mallory');
    assert.equal(refused?.surface, 'console');
    assert.equal(refused?.result, 'UNKNOWN_PERSON');
  });

  it('a callback without its login cookie, or with a changed state, is refused', async () => {
    const bare = await new Browser().request(new URL('/auth/callback?code=abc&state=def', app));
    assert.equal(bare.status, 400);
    // A real login, but the state in the callback is not the one sent.
    const browser = new Browser();
    const start = await browser.request(new URL('/auth/login', app));
    const authorize = new URL(start.headers.get('location')!);
    authorize.searchParams.set('state', 'forged-state');
    const end = await browser.walk(authorize, 'alice');
    assert.equal(end.status, 400);
    assert.equal(browser.cookie('127.0.0.1', 'cs_session'), undefined);
  });

  it('signing out ends the session here, then at the provider (RP-initiated logout)', async () => {
    const browser = new Browser();
    const first = await browser.walk(new URL('/auth/login', app), 'alice');
    assert.equal(first.logins, 1, 'the provider asked who this is');
    // Signed in at the provider: a second sign-in passes straight through, no login form.
    const second = await browser.walk(new URL('/auth/login', app), 'alice');
    assert.equal(second.logins, 0);
    const cookie = `cs_session=${browser.cookie('127.0.0.1', 'cs_session')}`;
    const { csrf } = (await sessionOf(browser)).json as { csrf: string };

    const out = await fetch(new URL('/api/v1/session/logout', app), {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(out.status, 200);
    assert.match(String(out.headers.get('set-cookie')), /cs_session=;.*Max-Age=0/);
    const { providerLogoutUrl } = (await out.json()) as { providerLogoutUrl: string };
    const to = new URL(providerLogoutUrl);
    const discovery = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as { end_session_endpoint: string };
    assert.equal(`${to.origin}${to.pathname}`, discovery.end_session_endpoint);
    assert.equal(to.searchParams.get('client_id'), CLIENT_ID);
    assert.equal(to.searchParams.get('post_logout_redirect_uri'), `${app.origin}/`);
    const here = await fetch(new URL('/api/v1/session', app), { headers: { cookie } });
    assert.equal(here.status, 401, 'the Countersign session ended first');
    const ended = await h.store.queryAudit({ action: 'session.ended', actor: 'alice' });
    assert.equal(ended.at(-1)?.detail.reason, 'signed out');

    const back = await browser.logOut(to);
    assert.equal(back.url.href, `${app.origin}/`, 'the provider sends the browser back');
    const third = await browser.walk(new URL('/auth/login', app), 'alice');
    assert.equal(third.logins, 1, 'the provider forgot the sign-in: it asks again');
    assert.equal((await sessionOf(browser)).status, 200);
  });

  it('sign-out without a session answers 204 and sends the browser nowhere', async () => {
    // No cookie at all: nothing to end here, and nothing to end at the provider.
    const res = await fetch(new URL('/api/v1/session/logout', app), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 204);
  });

  it('the demo sign-in is off while OIDC is configured', async () => {
    const res = await fetch(new URL('/api/v1/session/demo', app), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ person: 'alice' }),
    });
    assert.equal(res.status, 403);
  });
});

describe('personForClaims', () => {
  let catalog: Catalog;
  before(async () => {
    catalog = await loadCatalogOrThrow(DEMO_DIR);
  });
  const id = (m: ReturnType<typeof personForClaims>) => (m.ok ? m.person.id : m.reason);

  it('matches console to sub exactly, else email (unless unverified), else preferred_username', () => {
    assert.equal(id(personForClaims(catalog, { sub: 'alice' })), 'alice');
    assert.match(id(personForClaims(catalog, { sub: 'ALICE' })), /no catalog person/);
    const withEmail = {
      ...catalog,
      people: catalog.people.map((p) =>
        p.id === 'carol' ? { ...p, console: 'carol@example.com' } : p,
      ),
    };
    assert.equal(
      id(personForClaims(withEmail, { sub: 'x1', email: 'Carol@Example.com' })),
      'carol',
    );
    assert.match(
      id(
        personForClaims(withEmail, {
          sub: 'x1',
          email: 'carol@example.com',
          email_verified: false,
        }),
      ),
      /no catalog person/,
    );
    assert.equal(id(personForClaims(catalog, { sub: 'x2', preferred_username: 'Dave' })), 'dave');
  });

  it('with a groups claim, the person must be in a group named like their team or a role', () => {
    assert.equal(
      id(personForClaims(catalog, { sub: 'bob', groups: ['payments'] }, 'groups')),
      'bob',
    );
    assert.equal(id(personForClaims(catalog, { sub: 'bob', groups: 'approver' }, 'groups')), 'bob');
    assert.match(
      id(personForClaims(catalog, { sub: 'bob', groups: ['marketing'] }, 'groups')),
      /not in a groups group/,
    );
    assert.match(id(personForClaims(catalog, { sub: 'bob' }, 'groups')), /not in a groups group/);
  });
});
