/**
 * Cross-checks of the ingest sections: every route's pattern compiles as EventBridge would
 * accept it, routes name a known team, service, environment, channel and runbooks (whether
 * a runbook applies to the route's service is checked in `check-response.ts`), there is at most
 * one default route, and topics and channels are listed once.
 */
import type { Service } from '../domain/catalog.ts';
import { isDomainError } from '../domain/errors.ts';
import { compilePattern } from '../domain/event-pattern.ts';
import type { CheckOptions, RefChecker, Report, Sourced, SourcedCatalog } from './check-catalog.ts';

export function checkIngest(
  c: SourcedCatalog,
  refs: RefChecker,
  opts: CheckOptions,
  report: Report,
): void {
  const services = new Map(c.services.map((s) => [s.value.id, s.value]));
  const defaults = c.routes.filter((r) => r.value.isDefault);
  for (const r of c.routes) {
    const route = r.value;
    refs.one(r, ['team'], route.team, 'team');
    refs.one(r, ['service'], route.service, 'service');
    refs.many(r, ['runbooks'], route.runbooks, 'runbook');
    checkRouteEnvironment(r, services.get(route.service ?? ''), report);
    if (route.isDefault && route.pattern) {
      report(r, ['pattern'], 'the default route takes what no other route took: it has no pattern');
    } else if (!route.isDefault && !route.pattern) {
      report(r, [], 'a route needs a `pattern` (or `default: true` for the default route)');
    } else if (route.pattern) {
      try {
        compilePattern(route.pattern);
      } catch (err) {
        if (!isDomainError(err)) throw err;
        const field = typeof err.details.field === 'string' ? err.details.field : '';
        const atRoot = field === '' || field.startsWith('(');
        const message = err.message.startsWith(`${field}: `)
          ? err.message.slice(field.length + 2)
          : err.message;
        report(r, ['pattern', ...(atRoot ? [] : field.split('.'))], message);
      }
    }
    if (route.notify && !route.channel && route.service) {
      const svc = services.get(route.service);
      if (svc && !svc.channels.alerts) {
        report(r, ['channel'], `service "${route.service}" has no alerts channel: name a channel`);
      }
    }
  }
  for (const extra of defaults.slice(1)) {
    report(
      extra,
      ['default'],
      `only one default route; the first is at ${opts.where(defaults[0]!)}`,
    );
  }
  seenOnce(c.sns_topics, (t) => t.value.arn, 'topic', ['arn'], opts, report);
  seenOnce(
    c.alert_channels,
    (t) => t.value.channel,
    'budget for channel',
    ['channel'],
    opts,
    report,
  );
  for (const w of c.maintenance_windows) {
    refs.many(w, ['services'], w.value.services, 'service');
    refs.many(w, ['environments'], w.value.environments, 'environment');
  }
}

function checkRouteEnvironment(
  r: Sourced<{ environment: string; service?: string }>,
  service: Service | undefined,
  report: Report,
): void {
  const env = r.value.environment;
  if (!r.value.service) {
    if (env !== 'from-account') report(r, ['environment'], 'an environment needs a `service`');
    return;
  }
  if (!service) return; // reported as an unknown service
  if (env === 'from-account') {
    if (!service.environments.some((e) => e.awsAccount)) {
      const msg = `service "${service.id}" has no environment with an aws_account to resolve from`;
      report(r, ['environment'], msg);
    }
  } else if (!service.environments.some((e) => e.name === env)) {
    const names = service.environments.map((e) => e.name).join(', ');
    report(
      r,
      ['environment'],
      `service "${service.id}" has no environment "${env}" (has ${names})`,
    );
  }
}

function seenOnce<T>(
  items: Sourced<T>[],
  keyOf: (t: Sourced<T>) => string,
  what: string,
  path: string[],
  opts: CheckOptions,
  report: Report,
): void {
  const seen = new Map<string, Sourced<T>>();
  for (const item of items) {
    const key = keyOf(item);
    const first = seen.get(key);
    if (first)
      report(item, path, `${what} "${key}" is listed twice; first at ${opts.where(first)}`);
    else seen.set(key, item);
  }
}
