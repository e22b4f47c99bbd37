/**
 * Routing: which catalog routes an ingested event takes, and what each says about it
 * (owning team, service, environment, severity, channel, runbooks). Routes are tried in
 * catalog order; the first match wins unless it says `continue`. What no route takes goes
 * to the default route, or, when the catalog has none, to a built-in one that posts
 * nothing and is counted. Pure.
 */
import type { Catalog, Route, Service, Severity } from './catalog.ts';
import type { EventEnvelope } from './event-envelope.ts';
import {
  type CompiledPattern,
  compilePattern,
  explainMatch,
  matchesPattern,
} from './event-pattern.ts';

export interface CompiledRoute {
  route: Route;
  pattern: CompiledPattern;
}

/** The routes with their patterns compiled, once per catalog. */
export interface RouteTable {
  routes: CompiledRoute[];
  fallback: Route;
  services: ReadonlyMap<string, Service>;
}

/** What a route decided for one event. */
export interface RouteDecision {
  route: Route;
  team: string;
  service?: string;
  /** The environment, or undefined when it could not be resolved from the event's account. */
  environment?: string;
  severity: Severity;
  /** Where its messages go; undefined: nowhere (recorded only). */
  channel?: string;
  runbooks: string[];
  /** True when no catalog route matched. */
  unrouted: boolean;
}

/** Used when the catalog has no default route: record and count, post nothing. */
export const BUILT_IN_DEFAULT: Route = {
  id: 'unrouted',
  team: 'countersign',
  description: 'Events no route took, when the catalog has no default route.',
  isDefault: true,
  environment: 'from-account',
  incident: false,
  severity: 'sev4',
  runbooks: [],
  groupBy: [],
  groupWindowMinutes: 30,
  continue: false,
  notify: false,
};

export function compileRoutes(catalog: Pick<Catalog, 'routes' | 'services'>): RouteTable {
  // The loader refuses a non-default route without a pattern; skip one built by hand.
  const routes = catalog.routes
    .filter((r) => !r.isDefault && r.pattern)
    .map((route) => ({ route, pattern: compilePattern(route.pattern) }));
  return {
    routes,
    fallback: catalog.routes.find((r) => r.isDefault) ?? BUILT_IN_DEFAULT,
    services: new Map(catalog.services.map((s) => [s.id, s])),
  };
}

/** Every route the event takes, in order; at least one (the default). */
export function routeEvent(table: RouteTable, e: EventEnvelope): RouteDecision[] {
  const out: RouteDecision[] = [];
  for (const r of table.routes) {
    if (!matchesPattern(r.pattern, e)) continue;
    out.push(decide(table, r.route, e, false));
    if (!r.route.continue) return out;
  }
  if (out.length === 0) out.push(decide(table, table.fallback, e, true));
  return out;
}

export interface RouteExplanation {
  route: string;
  matched: boolean;
  /** Why not: the first field that did not match, or why it was skipped. */
  why: string;
}

/** For `countersign events route`: every route tried, whether it matched and why, and the outcome. */
export function explainRoute(
  table: RouteTable,
  e: EventEnvelope,
): { tried: RouteExplanation[]; decisions: RouteDecision[] } {
  const tried: RouteExplanation[] = [];
  let stopped = false;
  for (const r of table.routes) {
    if (stopped) {
      tried.push({ route: r.route.id, matched: false, why: 'not tried: an earlier route matched' });
      continue;
    }
    const x = explainMatch(r.pattern, e);
    const failed = x.fields.find((f) => !f.ok);
    tried.push({
      route: r.route.id,
      matched: x.matched,
      why: x.matched
        ? r.route.continue
          ? 'matched; continue: true, so later routes are tried too'
          : 'matched'
        : failed
          ? `${failed.field}: expected ${failed.expected}, got ${failed.actual}`
          : 'did not match',
    });
    if (x.matched && !r.route.continue) stopped = true;
  }
  return { tried, decisions: routeEvent(table, e) };
}

function decide(
  table: RouteTable,
  route: Route,
  e: EventEnvelope,
  unrouted: boolean,
): RouteDecision {
  const service = route.service ? table.services.get(route.service) : undefined;
  const environment =
    route.environment === 'from-account'
      ? service && resolveEnvironment(service, e.account, e.region)
      : route.environment;
  const channel = route.notify ? (route.channel ?? service?.channels.alerts) : undefined;
  return {
    route,
    team: route.team,
    ...(route.service ? { service: route.service } : {}),
    ...(environment ? { environment } : {}),
    severity: route.severity,
    ...(channel ? { channel } : {}),
    runbooks: route.runbooks,
    unrouted,
  };
}

/**
 * The service environment an event comes from: the one whose AWS account is the event's;
 * when several share the account, the one whose region is the event's too.
 */
export function resolveEnvironment(
  service: Service,
  account: string,
  region: string,
): string | undefined {
  if (!account) return undefined;
  const inAccount = service.environments.filter((env) => env.awsAccount === account);
  if (inAccount.length <= 1) return inAccount[0]?.name;
  return (inAccount.find((env) => env.region === region) ?? inAccount.find((env) => !env.region))
    ?.name;
}

/** The value at a dotted path of the envelope, as text for a group key. */
export function valueAt(e: EventEnvelope, path: string): string {
  let v: unknown = e;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return '';
    v = (v as Record<string, unknown>)[part];
  }
  return v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}
