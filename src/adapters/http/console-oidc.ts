/**
 * Console sign-in through the organisation's OpenID Connect provider: authorization code
 * with PKCE (S256), state and nonce, using `openid-client`.
 *
 * `GET /auth/login` sends the browser to the provider. The state, nonce and PKCE verifier
 * travel in a short-lived cookie (`cs_oidc`, 10 minutes, path `/auth`) sealed with
 * AES-256-GCM under a key derived from the client secret, so every replica can open it and
 * nobody else can read or forge it. `GET /auth/callback` checks everything, maps the
 * person through the catalog (`personForClaims`) and starts a console session; someone
 * the catalog does not know gets a 403 page and an audit entry. Signing out of a session
 * begun here sends the browser on to the provider's `end_session_endpoint` (RP-initiated
 * logout) when it has one. See ADR 0010.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { type AppDeps, auditOf } from '../../app/context.ts';
import type { Catalog, Person } from '../../domain/catalog.ts';
import { cookieValue } from './auth.ts';
import type { SessionStarter } from './console-session.ts';

export interface OidcOptions {
  /** The provider's issuer URL (https, or http on loopback only). */
  issuer: string;
  clientId: string;
  clientSecret: { reveal(): string };
  /** The callback URL registered with the provider (`…/auth/callback`). */
  redirectUrl: string;
  /** A claim with the person's groups; when set, one must be their catalog team or a role. */
  groupsClaim?: string;
}

const LOGIN_COOKIE = 'cs_oidc';
/** How long a sign-in may take at the provider, in milliseconds. */
const LOGIN_TTL_MS = 10 * 60_000;
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

export type ClaimMatch = { ok: true; person: Person } | { ok: false; reason: string };

const lower = (v: unknown) => (typeof v === 'string' && v ? v.toLowerCase() : undefined);

/**
 * The catalog person for a signed-in subject: the one whose `console` equals the `sub`
 * exactly, else the `email` (unless `email_verified` is false), else `preferred_username`
 * (both without regard to case). With a groups claim configured, the person must also be
 * in a group named like their team or one of their roles.
 */
export function personForClaims(
  catalog: Catalog,
  claims: Record<string, unknown>,
  groupsClaim?: string,
): ClaimMatch {
  const sub = typeof claims.sub === 'string' ? claims.sub : '';
  const email = claims.email_verified === false ? undefined : lower(claims.email);
  const username = lower(claims.preferred_username);
  const byLogin = (value: string | undefined) =>
    value ? catalog.people.find((p) => lower(p.console) === value) : undefined;
  const person =
    catalog.people.find((p) => p.console !== undefined && p.console === sub) ??
    byLogin(email) ??
    byLogin(username);
  if (!person) {
    const who = [sub, email, username].filter(Boolean).join(', ');
    return { ok: false, reason: `no catalog person has console: one of ${who}` };
  }
  if (!groupsClaim) return { ok: true, person };
  const raw = claims[groupsClaim];
  const groups = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : [];
  const wanted = [...(person.team ? [person.team] : []), ...person.roles];
  if (groups.some((g) => wanted.includes(g))) return { ok: true, person };
  return {
    ok: false,
    reason: `${person.id} is not in a ${groupsClaim} group named ${wanted.join(' or ')}`,
  };
}

interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  /** Milliseconds since epoch. */
  expiresAt: number;
}

/** Seals and opens the pending-login cookie with a key only the server holds. */
function loginSealer(secret: string) {
  const key = Buffer.from(
    hkdfSync('sha256', secret, 'countersign', 'console oidc login state v1', 32),
  );
  return {
    seal(p: PendingLogin): string {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(JSON.stringify(p), 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
    },
    open(value: string | undefined): PendingLogin | undefined {
      if (!value || value.length > 4096) return undefined;
      try {
        const raw = Buffer.from(value, 'base64url');
        const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        d.setAuthTag(raw.subarray(12, 28));
        const text = Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
        return JSON.parse(text) as PendingLogin;
      } catch {
        return undefined;
      }
    },
  };
}

function page(reply: FastifyReply, status: number, title: string, text: string) {
  const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} — Countersign</title></head>\n<body><main><h1>${esc(title)}</h1><p>${esc(text)}</p><p><a href="/auth/login">Sign in again</a></p></main></body></html>\n`,
    );
}

/** The provider's configuration, discovered on first use (again after a failure). */
export interface OidcClient {
  config(): Promise<oidc.Configuration>;
  /**
   * The provider's logout URL (RP-initiated logout: `client_id` and
   * `post_logout_redirect_uri`, the console's root), or undefined when the provider has no
   * `end_session_endpoint` or cannot be reached.
   */
  logoutUrl(): Promise<string | undefined>;
}

export function oidcClient(deps: AppDeps, opts: OidcOptions): OidcClient {
  const issuer = new URL(opts.issuer);
  const insecure = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
  let discovered: Promise<oidc.Configuration> | undefined;
  const config = () => {
    discovered ??= oidc
      .discovery(
        issuer,
        opts.clientId,
        undefined,
        oidc.ClientSecretBasic(opts.clientSecret.reveal()),
        insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        discovered = undefined;
        throw err;
      });
    return discovered;
  };
  return {
    config,
    async logoutUrl() {
      try {
        const cfg = await config();
        if (!cfg.serverMetadata().end_session_endpoint) return undefined;
        return oidc.buildEndSessionUrl(cfg, {
          post_logout_redirect_uri: new URL('/', opts.redirectUrl).href,
        }).href;
      } catch (err) {
        deps.log.warn({ err, issuer: opts.issuer }, 'OIDC discovery failed at sign-out');
        return undefined;
      }
    },
  };
}

export function oidcRoutes(
  deps: AppDeps,
  opts: OidcOptions,
  client: OidcClient,
  sessions: SessionStarter,
  secureCookies: boolean,
) {
  const sealer = loginSealer(opts.clientSecret.reveal());
  const { config } = client;
  const loginCookie = (value: string, maxAge: number) =>
    [
      `${LOGIN_COOKIE}=${value}`,
      'Path=/auth',
      'HttpOnly',
      'SameSite=Lax',
      `Max-Age=${maxAge}`,
      ...(secureCookies ? ['Secure'] : []),
    ].join('; ');

  const refuse = async (claims: Record<string, unknown>, reason: string) => {
    const sub = typeof claims.sub === 'string' ? claims.sub.slice(0, 200) : 'unknown';
    await deps.store.transaction((tx) =>
      tx.appendAudit([
        auditOf({ id: `oidc:${sub}`, surface: 'console' }, deps.clock.now(), {
          action: 'session.refused',
          target: 'console',
          result: 'UNKNOWN_PERSON',
          detail: { via: 'oidc', reason },
        }),
      ]),
    );
  };

  return async (app: FastifyInstance) => {
    app.get('/auth/login', async (_req, reply) => {
      let cfg: oidc.Configuration;
      try {
        cfg = await config();
      } catch (err) {
        deps.log.warn({ err, issuer: opts.issuer }, 'OIDC discovery failed');
        return page(reply, 503, 'Sign-in is unavailable', 'The sign-in provider did not answer.');
      }
      const verifier = oidc.randomPKCECodeVerifier();
      const pending = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier,
        expiresAt: deps.clock.now() + LOGIN_TTL_MS,
      };
      const url = oidc.buildAuthorizationUrl(cfg, {
        redirect_uri: opts.redirectUrl,
        scope: 'openid profile email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      reply.header('set-cookie', loginCookie(sealer.seal(pending), LOGIN_TTL_MS / 1000));
      return reply.header('cache-control', 'no-store').redirect(url.href, 302);
    });

    app.get('/auth/callback', async (req: FastifyRequest, reply) => {
      const pending = sealer.open(cookieValue(req, LOGIN_COOKIE));
      reply.header('set-cookie', loginCookie('', 0));
      if (!pending || pending.expiresAt <= deps.clock.now()) {
        return page(reply, 400, 'Sign-in expired', 'The sign-in took too long or began elsewhere.');
      }
      let claims: Record<string, unknown>;
      try {
        const cfg = await config();
        const current = new URL(opts.redirectUrl);
        current.search = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
        const tokens = await oidc.authorizationCodeGrant(cfg, current, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims();
        if (!idClaims) throw new Error('the provider sent no ID token');
        const info = await oidc.fetchUserInfo(cfg, tokens.access_token, idClaims.sub);
        claims = { ...info, ...idClaims };
      } catch (err) {
        deps.log.warn({ err: (err as Error).message }, 'OIDC sign-in failed');
        return page(reply, 400, 'Sign-in failed', 'The sign-in provider’s answer was refused.');
      }
      const match = personForClaims(deps.catalog.current(), claims, opts.groupsClaim);
      if (!match.ok) {
        await refuse(claims, match.reason);
        return page(
          reply,
          403,
          'Not in the catalog',
          'You signed in, but no person in the Countersign catalog has your login. Ask an administrator to add it (the attempt was recorded).',
        );
      }
      await sessions.start(reply, match.person, 'oidc');
      return reply.redirect('/', 302);
    });
  };
}
