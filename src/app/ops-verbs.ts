/**
 * The `incident` and `runbook` verbs of the `/ops` grammar, shared by Slack, the CLI (over
 * the API) and the console's command box:
 *
 *   incident declare <service> <environment> sev=<1-4> title="…" [runbook=<id>]
 *   incident list
 *   incident status <id>                       (the header, as text)
 *   incident update <id> text="…"              (a status update)
 *   incident severity <id> sev=<1-4>           incident confirm <id>
 *   incident role <id> commander|scribe|responder=<person>
 *   incident mitigated <id> [note="…"]         incident resolve <id> [note="…"]
 *   runbook start <runbook> incident=<id> | ticket=<id> service=… environment=…
 *   runbook show <run-id>
 *   runbook run|ack <run-id> step=<id> [note="…"]
 *   runbook choose <run-id> step=<id> branch=<id>
 *   runbook skip <run-id> step=<id> reason="…"
 */
import type { Severity } from '../domain/catalog.ts';
import { DomainError } from '../domain/errors.ts';
import type { ParsedCommand } from '../domain/grammar.ts';
import type { Incident, IncidentRole } from '../domain/incident-model.ts';
import type { RunbookRun, RunView } from '../domain/runbook-model.ts';
import { actOnStep } from './advance-runbook.ts';
import type { Actor, AppDeps } from './context.ts';
import { declareIncident } from './declare-incident.ts';
import { getIncident, getRun, incidentHeader, listIncidents } from './read-incidents.ts';
import { startRunbook } from './start-runbook.ts';
import {
  assignIncidentRole,
  changeSeverity,
  confirmSeverity,
  markMitigated,
  postStatusUpdate,
  resolveIncident,
} from './update-incident.ts';

type Builtin = Extract<ParsedCommand, { kind: 'builtin' }>;

export interface VerbAnswer {
  /** One or a few lines for people (plain text, not escaped for any surface). */
  text: string;
  incident?: Incident;
  incidents?: Incident[];
  run?: RunbookRun;
  view?: RunView;
}

export const INCIDENT_USAGE = [
  'incident declare <service> <environment> sev=<1-4> title="…" [runbook=<id>]',
  'incident list',
  'incident status <id>',
  'incident update <id> text="…"',
  'incident severity <id> sev=<1-4>',
  'incident confirm <id>',
  'incident role <id> commander=<person> | scribe=<person> | responder=<person>',
  'incident mitigated <id> [note="…"]',
  'incident resolve <id> [note="…"]',
];

export const RUNBOOK_USAGE = [
  'runbook start <runbook> incident=<id> | ticket=<id> service=<service> environment=<environment>',
  'runbook show <run-id>',
  'runbook run|ack <run-id> step=<step> [note="…"]',
  'runbook choose <run-id> step=<step> branch=<branch>',
  'runbook skip <run-id> step=<step> reason="…"',
];

/** Runs an `incident …` or `runbook …` line; other verbs are not handled here. */
export async function runOpsVerb(deps: AppDeps, actor: Actor, p: Builtin): Promise<VerbAnswer> {
  if (p.verb === 'incident') return incidentVerb(deps, actor, p);
  if (p.verb === 'runbook') return runbookVerb(deps, actor, p);
  throw new DomainError('PARSE_ERROR', `${p.verb} is not an incident or runbook verb`);
}

function usageError(message: string, usage: string[]): DomainError {
  return new DomainError('PARSE_ERROR', `${message}\nUsage:\n  ${usage.join('\n  ')}`, {
    usage: usage.join('\n'),
  });
}

/** Only these `name=` pairs; the required ones must be there. */
function pairs(p: Builtin, accepted: string[], required: string[], usage: string[]) {
  const extra = Object.keys(p.params).find((k) => !accepted.includes(k));
  if (extra !== undefined) {
    throw usageError(
      `${p.verb} ${p.args[0]} does not take ${extra}=; accepted: ${accepted.join(', ') || 'none'}`,
      usage,
    );
  }
  const missing = required.find((k) => !(k in p.params));
  if (missing !== undefined) throw usageError(`missing ${missing}=…`, usage);
  return p.params;
}

function args(p: Builtin, names: string[], usage: string[]): string[] {
  const rest = p.args.slice(1);
  if (rest.length < names.length) throw usageError(`missing ${names[rest.length]}`, usage);
  if (rest.length > names.length) throw usageError(`unexpected "${rest[names.length]}"`, usage);
  return rest;
}

export function severityOf(value: string | undefined): Severity {
  const m = /^(?:sev)?([1-4])$/i.exec(value ?? '');
  if (!m) {
    throw new DomainError(
      'INVALID_INPUT',
      `sev must be 1, 2, 3 or 4 (sev1 is the worst), got "${value ?? ''}".`,
    );
  }
  return `sev${m[1]}` as Severity;
}

export function incidentLine(i: Incident): string {
  const sev = `${i.severity.level}${i.severity.confirmed ? '' : ' (unconfirmed)'}`;
  const proposed = i.severity.proposed ? `, ${i.severity.proposed.level} proposed` : '';
  return `${i.id} ${i.status} ${sev}${proposed} ${i.service} ${i.environment}: ${i.title}`;
}

async function incidentVerb(deps: AppDeps, actor: Actor, p: Builtin): Promise<VerbAnswer> {
  const u = INCIDENT_USAGE;
  const sub = p.args[0];
  const done = (incident: Incident, what: string): VerbAnswer => ({
    text: `${what}\n${incidentLine(incident)}`,
    incident,
  });
  switch (sub) {
    case 'declare': {
      const [service, environment] = args(p, ['service', 'environment'], u);
      const named = pairs(p, ['sev', 'title', 'runbook'], ['sev', 'title'], u);
      const incident = await declareIncident(deps, actor, {
        service: service!,
        environment: environment!,
        severity: severityOf(named.sev),
        title: named.title ?? '',
        ...(named.runbook ? { runbooks: [named.runbook] } : {}),
      });
      return done(incident, `Declared ${incident.id}.`);
    }
    case 'list': {
      args(p, [], u);
      pairs(p, [], [], u);
      const incidents = await listIncidents(deps, actor, {
        status: ['open', 'mitigated'],
        limit: 20,
      });
      return {
        text: incidents.length ? incidents.map(incidentLine).join('\n') : 'No open incidents.',
        incidents,
      };
    }
    case 'status': {
      const [id] = args(p, ['incident id'], u);
      pairs(p, [], [], u);
      const incident = await getIncident(deps, actor, id!);
      const h = await incidentHeader(deps, incident);
      const lines = [incidentLine(incident)];
      if (incident.roles.commander) lines.push(`commander: ${incident.roles.commander}`);
      if (h.lastDeploy) lines.push(`last deploy: ${h.lastDeploy.summary}`);
      if (h.lastConfigChange) lines.push(`last config change: ${h.lastConfigChange.summary}`);
      if (h.runbooks.length) lines.push(`runbooks: ${h.runbooks.map((r) => r.id).join(', ')}`);
      if (incident.lastUpdate) lines.push(`last update: ${incident.lastUpdate.text}`);
      return { text: lines.join('\n'), incident };
    }
    case 'update': {
      const [id] = args(p, ['incident id'], u);
      const { text } = pairs(p, ['text'], ['text'], u);
      return done(
        await postStatusUpdate(deps, actor, { incidentId: id!, text: text ?? '' }),
        'Status update posted.',
      );
    }
    case 'severity': {
      const [id] = args(p, ['incident id'], u);
      const { sev } = pairs(p, ['sev'], ['sev'], u);
      const incident = await changeSeverity(deps, actor, {
        incidentId: id!,
        severity: severityOf(sev),
      });
      return done(
        incident,
        incident.severity.proposed
          ? 'Severity proposed; it needs a confirmation.'
          : 'Severity set.',
      );
    }
    case 'confirm': {
      const [id] = args(p, ['incident id'], u);
      pairs(p, [], [], u);
      return done(await confirmSeverity(deps, actor, { incidentId: id! }), 'Severity confirmed.');
    }
    case 'role': {
      const [id] = args(p, ['incident id'], u);
      const named = pairs(p, ['commander', 'scribe', 'responder'], [], u);
      const entries = Object.entries(named);
      if (entries.length !== 1)
        throw usageError('name one role: commander=, scribe= or responder=', u);
      const [role, person] = entries[0]!;
      const incident = await assignIncidentRole(deps, actor, {
        incidentId: id!,
        role: role as IncidentRole,
        person,
      });
      return done(incident, `${person} is ${role}.`);
    }
    case 'mitigated':
    case 'resolve': {
      const [id] = args(p, ['incident id'], u);
      const { note } = pairs(p, ['note'], [], u);
      const input = { incidentId: id!, ...(note ? { note } : {}) };
      return sub === 'resolve'
        ? done(await resolveIncident(deps, actor, input), 'Resolved.')
        : done(await markMitigated(deps, actor, input), 'Marked mitigated.');
    }
    default:
      throw usageError(`unknown incident subcommand "${sub ?? ''}"`, u);
  }
}

async function runbookVerb(deps: AppDeps, actor: Actor, p: Builtin): Promise<VerbAnswer> {
  const u = RUNBOOK_USAGE;
  const sub = p.args[0];
  switch (sub) {
    case 'start': {
      const [runbook] = args(p, ['runbook'], u);
      const named = pairs(p, ['incident', 'ticket', 'service', 'environment'], [], u);
      const run = await startRunbook(deps, actor, { runbook: runbook!, ...named });
      const view = await getRun(deps, actor, run.id);
      return { text: `Started ${run.id} (${runbook}).\n${viewLine(view)}`, run, view };
    }
    case 'show': {
      const [id] = args(p, ['run id'], u);
      pairs(p, [], [], u);
      const view = await getRun(deps, actor, id!);
      return { text: viewLine(view), run: view.run, view };
    }
    case 'run':
    case 'ack':
    case 'choose':
    case 'skip': {
      const [id] = args(p, ['run id'], u);
      const accepted = {
        run: ['step'],
        ack: ['step', 'note'],
        choose: ['step', 'branch'],
        skip: ['step', 'reason'],
      }[sub];
      const required = {
        run: ['step'],
        ack: ['step'],
        choose: ['step', 'branch'],
        skip: ['step', 'reason'],
      }[sub];
      const named = pairs(p, accepted, required, u);
      const run = await actOnStep(deps, actor, {
        runId: id!,
        stepId: named.step ?? '',
        action: sub,
        ...(named.branch ? { branch: named.branch } : {}),
        ...(named.reason !== undefined ? { reason: named.reason } : {}),
        ...(named.note ? { note: named.note } : {}),
      });
      const view = await getRun(deps, actor, run.id);
      return { text: viewLine(view), run, view };
    }
    default:
      throw usageError(`unknown runbook subcommand "${sub ?? ''}"`, u);
  }
}

/** A run as one or two lines: its state and what to do now. */
export function viewLine(v: RunView): string {
  const head = `${v.run.id} ${v.runbook.id} ${v.run.state}`;
  if (!v.current) return head;
  const actions = v.current.actions.length ? ` [${v.current.actions.join(', ')}]` : ' [waiting]';
  const next = v.next ? `; next: ${v.next.title}` : '';
  return `${head}\nnow: ${v.current.step.id} "${v.current.step.title}"${actions}${next}`;
}
