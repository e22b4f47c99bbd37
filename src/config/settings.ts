/**
 * Environment settings, parsed once at start-up into a frozen, typed object. Nothing else
 * reads `process.env`. A bad value stops the process with a message naming the variable.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/** A secret string whose string and JSON forms are redacted, so it cannot leak into logs. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[secret]';
  }
  toJSON(): string {
    return '[secret]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[secret]';
  }
}

const port = z.coerce.number().int().min(0).max(65535);
const optionalSecret = z
  .string()
  .min(1)
  .optional()
  .transform((v) => (v === undefined ? undefined : new Secret(v)));
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

const schema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  COUNTERSIGN_CONFIG: z.string().min(1).default('examples/demo'),
  COUNTERSIGN_DATA: z.string().min(1).default('data'),
  DATABASE_URL: z
    .string()
    .regex(/^(postgres(ql)?:\/\/|sqlite:)/, 'must be a postgres:// URL (or sqlite:)')
    .optional(),
  SLACK_SIGNING_SECRET: optionalSecret,
  SLACK_BOT_TOKEN: optionalSecret,
  /**
   * An app-level token (Basic Information → App-Level Tokens, scope `connections:write`).
   * When set, Slack runs over Socket Mode instead of `/slack/events`.
   */
  SLACK_APP_TOKEN: z
    .string()
    .regex(
      /^xapp-[0-9]+-[A-Za-z0-9-]{8,}$/,
      'must be an app-level token (xapp-…, Basic Information → App-Level Tokens, scope connections:write), not a bot or user token',
    )
    .optional()
    .transform((v) => (v === undefined ? undefined : new Secret(v))),
  SLACK_API_URL: httpUrl.optional(),
  /** When set, Slack payloads from another app or workspace are refused. */
  SLACK_APP_ID: z
    .string()
    .regex(/^A[A-Z0-9]{2,30}$/, 'must be a Slack app id like A0123ABCD')
    .optional(),
  SLACK_TEAM_ID: z
    .string()
    .regex(/^[TE][A-Z0-9]{2,30}$/, 'must be a Slack team id like T0123ABCD')
    .optional(),
  /** The server's public base URL, for links from chat to the console. */
  COUNTERSIGN_PUBLIC_URL: httpUrl.optional(),
  COUNTERSIGN_INGEST_TOKEN: optionalSecret,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long a worker holds an outbox effect without renewing it, in ms. */
  COUNTERSIGN_OUTBOX_LEASE_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** Largest command output kept, in bytes, after redaction. */
  COUNTERSIGN_MAX_OUTPUT_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(65_536),
  /** `off` runs the API without the outbox worker (API-only replicas, maintenance). */
  COUNTERSIGN_WORKER: z.enum(['on', 'off']).default('on'),
  /** Largest HTTP request body, in bytes. */
  COUNTERSIGN_BODY_LIMIT: z.coerce.number().int().min(1024).max(50_000_000).default(1_048_576),
  /** How long a console sign-in lasts, in hours. */
  COUNTERSIGN_SESSION_HOURS: z.coerce.number().int().min(1).max(168).default(12),
  /** How long a console session may go unused before it ends, in minutes. */
  COUNTERSIGN_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
  /** The organisation's OpenID Connect provider (its issuer URL); turns on console sign-in. */
  COUNTERSIGN_OIDC_ISSUER: httpUrl.optional(),
  COUNTERSIGN_OIDC_CLIENT_ID: z.string().min(1).max(512).optional(),
  COUNTERSIGN_OIDC_CLIENT_SECRET: optionalSecret,
  /** Where the provider sends people back; default `<COUNTERSIGN_PUBLIC_URL>/auth/callback`. */
  COUNTERSIGN_OIDC_REDIRECT_URL: httpUrl.optional(),
  /** A claim listing the person's groups; when set, one must be their catalog team or a role. */
  COUNTERSIGN_OIDC_GROUPS_CLAIM: z
    .string()
    .regex(/^[\w.:/-]{1,200}$/, 'must be a claim name')
    .optional(),
});

type Parsed = z.infer<typeof schema>;

/** OpenID Connect sign-in for the console (authorization code with PKCE). */
export interface OidcSettings {
  /** The issuer URL, as the provider's discovery document names it. */
  issuer: string;
  clientId: string;
  clientSecret: Secret;
  /** The callback URL registered with the provider. */
  redirectUrl: string;
  /** A claim with the person's groups; when set, sign-in needs one of their team or roles. */
  groupsClaim?: string;
}

export interface Settings {
  port: number;
  host: string;
  /** Absolute path of the catalog folder. */
  configDir: string;
  /** Absolute path of the data folder (SQLite file, demo state). */
  dataDir: string;
  databaseUrl?: string;
  slack: {
    signingSecret?: Secret;
    botToken?: Secret;
    /** The app-level token: Slack then runs over Socket Mode; no signing secret is needed. */
    appToken?: Secret;
    apiUrl?: string;
    appId?: string;
    teamId?: string;
  };
  /** Base URL people reach the console at (no trailing slash), for links from chat. */
  publicUrl?: string;
  ingestToken?: Secret;
  logLevel: string;
  outboxLeaseMs: number;
  /** Whether this process runs the outbox worker (executions, notifications, expiry). */
  worker: boolean;
  maxOutputBytes: number;
  bodyLimit: number;
  /** How long a console sign-in lasts, in milliseconds. Default 12 hours. */
  sessionTtlMs: number;
  /** How long a console session may go unused before it ends, in milliseconds. Default 60 minutes. */
  sessionIdleMs: number;
  /** Console sign-in through the organisation's provider; without it only the demo sign-in (loopback). */
  oidc?: OidcSettings;
}

export class SettingsError extends Error {
  readonly code = 'SETTINGS_INVALID';
}

/** Parses the environment; throws `SettingsError` naming every bad variable. */
export function parseSettings(
  env: Record<string, string | undefined>,
  cwd: string,
): Readonly<Settings> {
  const blankless = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(blankless);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new SettingsError(`invalid settings:\n  ${lines.join('\n  ')}`);
  }
  const s = parsed.data;
  if (s.SLACK_APP_TOKEN && !s.SLACK_BOT_TOKEN) {
    throw new SettingsError(
      'invalid settings:\n  SLACK_APP_TOKEN: Socket Mode needs SLACK_BOT_TOKEN (xoxb-…) as well',
    );
  }
  const oidc = oidcSettings(s);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  return Object.freeze({
    port: s.PORT,
    host: s.HOST,
    configDir: abs(s.COUNTERSIGN_CONFIG),
    dataDir: abs(s.COUNTERSIGN_DATA),
    ...(s.DATABASE_URL?.startsWith('postgres') ? { databaseUrl: s.DATABASE_URL } : {}),
    slack: Object.freeze({
      ...(s.SLACK_SIGNING_SECRET ? { signingSecret: s.SLACK_SIGNING_SECRET } : {}),
      ...(s.SLACK_BOT_TOKEN ? { botToken: s.SLACK_BOT_TOKEN } : {}),
      ...(s.SLACK_APP_TOKEN ? { appToken: s.SLACK_APP_TOKEN } : {}),
      ...(s.SLACK_API_URL ? { apiUrl: s.SLACK_API_URL } : {}),
      ...(s.SLACK_APP_ID ? { appId: s.SLACK_APP_ID } : {}),
      ...(s.SLACK_TEAM_ID ? { teamId: s.SLACK_TEAM_ID } : {}),
    }),
    ...(s.COUNTERSIGN_PUBLIC_URL
      ? { publicUrl: s.COUNTERSIGN_PUBLIC_URL.replace(/\/+$/, '') }
      : {}),
    ...(s.COUNTERSIGN_INGEST_TOKEN ? { ingestToken: s.COUNTERSIGN_INGEST_TOKEN } : {}),
    logLevel: s.LOG_LEVEL,
    outboxLeaseMs: s.COUNTERSIGN_OUTBOX_LEASE_MS,
    worker: s.COUNTERSIGN_WORKER === 'on',
    maxOutputBytes: s.COUNTERSIGN_MAX_OUTPUT_BYTES,
    bodyLimit: s.COUNTERSIGN_BODY_LIMIT,
    sessionTtlMs: s.COUNTERSIGN_SESSION_HOURS * 3_600_000,
    sessionIdleMs: s.COUNTERSIGN_SESSION_IDLE_MINUTES * 60_000,
    ...(oidc ? { oidc: Object.freeze(oidc) } : {}),
  });
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

/** True for 127.0.0.1, ::1 and localhost: only this machine can reach the server. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

/**
 * The OIDC settings, all or nothing. Plain http is accepted only for a loopback issuer
 * (a provider run locally, as in the tests); the redirect URL defaults from the public URL.
 */
function oidcSettings(s: Parsed): OidcSettings | undefined {
  const issuer = s.COUNTERSIGN_OIDC_ISSUER;
  const clientId = s.COUNTERSIGN_OIDC_CLIENT_ID;
  const clientSecret = s.COUNTERSIGN_OIDC_CLIENT_SECRET;
  if (!issuer && !clientId && !clientSecret) return undefined;
  const bad = (line: string) => new SettingsError(`invalid settings:\n  ${line}`);
  if (!issuer || !clientId || !clientSecret) {
    throw bad(
      'COUNTERSIGN_OIDC_ISSUER, COUNTERSIGN_OIDC_CLIENT_ID and COUNTERSIGN_OIDC_CLIENT_SECRET go together: set all three',
    );
  }
  const url = new URL(issuer);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw bad('COUNTERSIGN_OIDC_ISSUER: must be https (http only for a loopback provider)');
  }
  const base = s.COUNTERSIGN_PUBLIC_URL?.replace(/\/+$/, '');
  const redirectUrl =
    s.COUNTERSIGN_OIDC_REDIRECT_URL ?? (base ? `${base}/auth/callback` : undefined);
  if (!redirectUrl) {
    throw bad('COUNTERSIGN_OIDC_REDIRECT_URL: set it, or COUNTERSIGN_PUBLIC_URL to derive it');
  }
  return {
    issuer,
    clientId,
    clientSecret,
    redirectUrl,
    ...(s.COUNTERSIGN_OIDC_GROUPS_CLAIM ? { groupsClaim: s.COUNTERSIGN_OIDC_GROUPS_CLAIM } : {}),
  };
}
