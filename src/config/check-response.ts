/**
 * Cross-checks of the incident-response sections. Runbooks: an owning team, known
 * services, steps that link up (`check-runbook-steps.ts`), command steps naming known
 * commands with parameters that fit them; a route suggests only runbooks that apply to
 * its service. Mitigations: an owning team, a route that opens incidents for the rule's
 * service and environments, and a command that is not destructive (a destructive command
 * is never pre-approved) with parameters that fit it. Incident settings: defined once,
 * known roles that someone holds, a channel pattern whose names fit Slack's limit.
 */
import type { Command, Route, Service } from '../domain/catalog.ts';
import { validateParams } from '../domain/params.ts';
import type { MitigationRule, Runbook } from '../domain/runbook-model.ts';
import type {
  CheckOptions,
  PathSegment,
  RefChecker,
  Report,
  Sourced,
  SourcedCatalog,
} from './check-catalog.ts';
import { checkRunbookSteps } from './check-runbook-steps.ts';
import { hasPlaceholder, MAX_CHANNEL_NAME } from './response-schema.ts';

/** Characters of an incident id (`INC-` and a 26-character sortable id) in a channel name. */
const INCIDENT_ID_LENGTH = 30;
/** Characters of `{date}` (YYYYMMDD). */
const DATE_LENGTH = 8;

export function checkResponse(
  c: SourcedCatalog,
  refs: RefChecker,
  opts: CheckOptions,
  report: Report,
): void {
  const commands = new Map(c.commands.map((x) => [x.value.id, x.value]));
  const services = new Map(c.services.map((s) => [s.value.id, s.value]));
  for (const rb of c.runbooks) checkRunbook(rb, commands, refs, report);
  checkSuggestedRunbooks(c, report);
  const routes = new Map(c.routes.map((r) => [r.value.id, r.value]));
  for (const m of c.mitigations) checkMitigation(m, { commands, services, routes }, refs, report);
  checkIncidentSettings(c, refs, opts, report);
}

// ── runbooks ─────────────────────────────────────────────────────────────────────────

function checkRunbook(
  rb: Sourced<Runbook>,
  commands: Map<string, Command>,
  refs: RefChecker,
  report: Report,
): void {
  refs.one(rb, ['team'], rb.value.team, 'team');
  refs.many(rb, ['services'], rb.value.services, 'service');
  checkRunbookSteps(rb.value.steps, (path, message) => report(rb, path, message));
  rb.value.steps.forEach((step, i) => {
    if (step.kind !== 'command') return;
    const command = commands.get(step.command);
    if (command === undefined) refs.one(rb, ['steps', i, 'command'], step.command, 'command');
    else checkParamValues(command, step.params, (path, m) => report(rb, ['steps', i, ...path], m));
  });
}

type ParamReport = (path: PathSegment[], message: string) => void;

/**
 * Parameter values against the command's specs. A value with a placeholder is known only
 * when it is filled (a run's step, an incident's mitigation): it is checked then, and here
 * only its name is.
 */
function checkParamValues(
  command: Command,
  params: Record<string, string>,
  report: ParamReport,
): void {
  const templated = Object.keys(params).filter((name) => hasPlaceholder(params[name]!));
  const literal = Object.fromEntries(
    Object.entries(params).filter(([name]) => !templated.includes(name)),
  );
  const unknown = templated.find((name) => !command.params.some((p) => p.name === name));
  if (unknown !== undefined) {
    checkParams(command, { [unknown]: '' }, report);
    return;
  }
  const rest = { ...command, params: command.params.filter((p) => !templated.includes(p.name)) };
  checkParams(rest, literal, report);
}

function checkParams(command: Command, params: Record<string, string>, report: ParamReport): void {
  const result = validateParams(command, params);
  if (result.ok) return;
  const name = result.error.details.parameter;
  const at = typeof name === 'string' && Object.hasOwn(params, name) ? [name] : [];
  report(['params', ...at], result.error.message);
}

/** A route suggests only runbooks that apply to its service. */
function checkSuggestedRunbooks(c: SourcedCatalog, report: Report): void {
  const runbooks = new Map(c.runbooks.map((r) => [r.value.id, r.value]));
  const services = new Set(c.services.map((s) => s.value.id));
  for (const r of c.routes) {
    const service = r.value.service;
    if (service === undefined || !services.has(service)) continue; // unknown: reported
    r.value.runbooks.forEach((id, i) => {
      const rb = runbooks.get(id);
      if (!rb || rb.services.includes('*') || rb.services.includes(service)) return;
      if (rb.services.every((s) => services.has(s))) {
        const its = rb.services.join(', ');
        report(r, ['runbooks', i], `runbook "${id}" is for ${its}, not service "${service}"`);
      }
    });
  }
}

// ── mitigations ──────────────────────────────────────────────────────────────────────

interface Lookups {
  commands: Map<string, Command>;
  services: Map<string, Service>;
  routes: Map<string, Route>;
}

function checkMitigation(
  m: Sourced<MitigationRule>,
  known: Lookups,
  refs: RefChecker,
  report: Report,
): void {
  const rule = m.value;
  refs.one(m, ['team'], rule.team, 'team');
  refs.one(m, ['route'], rule.route, 'route');
  refs.one(m, ['service'], rule.service, 'service');
  refs.one(m, ['command'], rule.command, 'command');
  const service = known.services.get(rule.service);
  if (service) checkMitigationEnvironments(m, service, report);
  const route = known.routes.get(rule.route);
  if (route && service) checkMitigationRoute(m, route, report);
  const command = known.commands.get(rule.command);
  if (command?.class === 'destructive') {
    const why = `command "${command.id}" is destructive, and a destructive command is never pre-approved`;
    report(m, ['command'], `${why}: make it a runbook step, where it gets its approvals`);
  } else if (command) {
    checkParamValues(command, rule.params, (path, message) => report(m, path, message));
  }
}

function checkMitigationEnvironments(
  m: Sourced<MitigationRule>,
  service: Service,
  report: Report,
): void {
  const names = service.environments.map((e) => e.name);
  m.value.environments.forEach((env, i) => {
    if (env === '*' || names.includes(env)) return;
    const has = names.join(', ');
    report(
      m,
      ['environments', i],
      `service "${service.id}" has no environment "${env}" (has ${has})`,
    );
  });
}

/** The rule must be able to match: its route opens incidents for its service and environments. */
function checkMitigationRoute(m: Sourced<MitigationRule>, route: Route, report: Report): void {
  const rule = m.value;
  const never = 'so this mitigation would never run';
  if (!route.incident) {
    report(
      m,
      ['route'],
      `route "${route.id}" does not open incidents (no incident: true), ${never}`,
    );
  } else if (route.service === undefined) {
    report(m, ['route'], `route "${route.id}" names no service, ${never}`);
  } else if (route.service !== rule.service) {
    const why = `route "${route.id}" is for service "${route.service}", not "${rule.service}"`;
    report(m, ['service'], `${why}, ${never}`);
  } else if (
    route.environment !== 'from-account' &&
    !rule.environments.includes('*') &&
    !rule.environments.includes(route.environment)
  ) {
    const why = `route "${route.id}" always sets environment "${route.environment}", which is not listed`;
    report(m, ['environments'], `${why}, ${never}`);
  }
}

// ── incident settings ────────────────────────────────────────────────────────────────

function checkIncidentSettings(
  c: SourcedCatalog,
  refs: RefChecker,
  opts: CheckOptions,
  report: Report,
): void {
  const [first, ...extra] = c.incidents;
  for (const again of extra) {
    report(again, [], `incidents is defined once in a catalog; first at ${opts.where(first!)}`);
  }
  if (first === undefined) return;
  const roles = first.value.severityConfirmRoles;
  refs.many(first, ['severity_confirm_roles'], roles, 'role');
  const known = new Set(c.roles.map((r) => r.value.id));
  const held = c.people.some((p) => p.value.roles.some((r) => roles.includes(r)));
  if (opts.peopleComplete && roles.length > 0 && roles.every((r) => known.has(r)) && !held) {
    const why = 'no person holds one of these roles, so no one could confirm a severity';
    report(first, ['severity_confirm_roles'], why);
  }
  if (first.value.chat === 'channel') checkChannelLength(first, c, report);
}

/** With `chat: channel`, the longest name the pattern makes for this catalog fits Slack. */
function checkChannelLength(
  item: Sourced<{ channelPattern: string }>,
  c: SourcedCatalog,
  report: Report,
): void {
  let longest = { length: 0, where: '' };
  for (const s of c.services) {
    for (const e of s.value.environments) {
      const name = item.value.channelPattern
        .replaceAll('{id}', 'i'.repeat(INCIDENT_ID_LENGTH))
        .replaceAll('{date}', 'd'.repeat(DATE_LENGTH))
        .replaceAll('{service}', s.value.id)
        .replaceAll('{environment}', e.name);
      if (name.length > longest.length)
        longest = { length: name.length, where: `${s.value.id}/${e.name}` };
    }
  }
  if (longest.length > MAX_CHANNEL_NAME) {
    const why = `makes a channel name of ${longest.length} characters for ${longest.where}`;
    report(
      item,
      ['channel_pattern'],
      `${why}; a Slack channel name has ${MAX_CHANNEL_NAME} at most`,
    );
  }
}
