/**
 * Policy: who may do what (RBAC, deny by default), which sign-offs a request needs
 * (approval policies, change windows, confirmations), and whether a person may give one.
 * Pure: the time comes in as a parameter.
 */
import type {
  ApprovalKind,
  ApprovalPolicy,
  Catalog,
  ChangeWindow,
  Command,
  GrantAction,
  Person,
  Role,
} from './catalog.ts';
import { fail, ok, type Result } from './errors.ts';
import type { ActionRequest, SignOffRequirement } from './request-model.ts';

export interface Target {
  command: string;
  service: string;
  environment: string;
}

const matches = (list: readonly string[], value: string) =>
  list.includes('*') || list.includes(value);

export function rolesOf(catalog: Catalog, person: Person): Role[] {
  return catalog.roles.filter((r) => person.roles.includes(r.id));
}

/** Deny by default: true only when one of the person's grants covers the action and target. */
export function can(
  catalog: Catalog,
  person: Person,
  action: GrantAction,
  target: Target,
): boolean {
  return rolesOf(catalog, person).some((role) =>
    role.grants.some(
      (g) =>
        (g.actions.includes(action) || g.actions.includes('administer')) &&
        matches(g.commands, target.command) &&
        matches(g.services, target.service) &&
        matches(g.environments, target.environment),
    ),
  );
}

export function holdsAnyRole(person: Person, roles: readonly string[]): boolean {
  return roles.length === 0 || person.roles.some((r) => roles.includes(r));
}

export function mayBreakGlass(catalog: Catalog, person: Person): boolean {
  return rolesOf(catalog, person).some((r) => r.breakGlass);
}

/** Most specific policy wins: a matching command list outweighs class, service, environment. */
export function selectPolicy(
  catalog: Catalog,
  command: Command,
  target: Target,
): ApprovalPolicy | undefined {
  let best: { policy: ApprovalPolicy; score: number } | undefined;
  for (const policy of catalog.policies) {
    const score = policyScore(policy, command, target);
    if (score !== undefined && (!best || score > best.score)) best = { policy, score };
  }
  return best?.policy;
}

function policyScore(p: ApprovalPolicy, command: Command, t: Target): number | undefined {
  const m = p.match;
  if (m.commands && !m.commands.includes(command.id)) return undefined;
  if (m.services && !m.services.includes(t.service)) return undefined;
  if (m.environments && !m.environments.includes(t.environment)) return undefined;
  if (m.classes && !m.classes.includes(command.class)) return undefined;
  return (
    (m.commands ? 8 : 0) + (m.services ? 4 : 0) + (m.classes ? 2 : 0) + (m.environments ? 1 : 0)
  );
}

export type WindowStatus =
  | { status: 'unrestricted' }
  | { status: 'open'; window: string }
  | { status: 'closed'; windows: string[]; acknowledgeRoles: string[] }
  | { status: 'frozen'; freeze: string; reason: string; acknowledgeRoles: string[] };

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** The weekday and minute of the day at `at` (ms since epoch) in an IANA time zone. */
export function localTime(at: number, timeZone: string): { day: string; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const day = get('weekday').slice(0, 3).toLowerCase();
  return { day, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

const toMinute = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function insideWindow(w: Extract<ChangeWindow, { kind: 'window' }>, at: number): boolean {
  const { day, minute } = localTime(at, w.timezone);
  const start = toMinute(w.start);
  const end = toMinute(w.end);
  if (start <= end) return w.days.includes(day as never) && minute >= start && minute < end;
  // An overnight window (22:00–02:00) belongs to the day it starts on.
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day as never) + 6) % 7] ?? '';
  return (
    (w.days.includes(day as never) && minute >= start) ||
    (w.days.includes(yesterday as never) && minute < end)
  );
}

/** Freezes beat windows; with no window for the target, changes are unrestricted. */
export function windowStatus(catalog: Catalog, t: Target, at: number): WindowStatus {
  const applies = (w: ChangeWindow) =>
    matches(w.services, t.service) && matches(w.environments, t.environment);
  const relevant = catalog.changeWindows.filter(applies);
  for (const w of relevant) {
    if (w.kind === 'freeze' && at >= w.from && at < w.to) {
      return {
        status: 'frozen',
        freeze: w.id,
        reason: w.reason,
        acknowledgeRoles: w.acknowledgeRoles,
      };
    }
  }
  const windows = relevant.filter((w) => w.kind === 'window');
  if (windows.length === 0) return { status: 'unrestricted' };
  const open = windows.find((w) => insideWindow(w, at));
  if (open) return { status: 'open', window: open.id };
  return {
    status: 'closed',
    windows: windows.map((w) => w.id),
    acknowledgeRoles: [...new Set(windows.flatMap((w) => w.acknowledgeRoles))],
  };
}

export interface Requirements {
  requirements: SignOffRequirement[];
  policy?: string;
  window: WindowStatus;
  /** Minutes until a pending request expires. */
  expiresAfterMinutes: number;
}

/** Approvals when no policy matches a mutating command: one, from anyone with approve. */
export const DEFAULT_APPROVALS = 1;
export const DEFAULT_EXPIRY_MINUTES = 60;

/** What a request for `command` on `t` needs at time `at`. Read-only commands need nothing. */
export function requirementsFor(
  catalog: Catalog,
  command: Command,
  t: Target,
  at: number,
): Requirements {
  const window = windowStatus(catalog, t, at);
  if (command.class === 'read-only') {
    return { requirements: [], window, expiresAfterMinutes: DEFAULT_EXPIRY_MINUTES };
  }
  const policy = selectPolicy(catalog, command, t);
  const because = policy ? `policy ${policy.id}` : 'default policy';
  const requirements: SignOffRequirement[] = [];
  let count = policy?.approvals ?? DEFAULT_APPROVALS;
  if (command.class === 'destructive') count = Math.max(2, count);
  if (count > 0) {
    requirements.push({ kind: 'approval', count, roles: policy?.approverRoles ?? [], because });
  }
  if (window.status === 'closed' || window.status === 'frozen') {
    requirements.push({
      kind: 'window-ack',
      count: 1,
      roles: window.acknowledgeRoles,
      because:
        window.status === 'frozen'
          ? `change freeze ${window.freeze}: ${window.reason}`
          : `outside change window ${window.windows.join(', ')}`,
    });
  }
  if (command.confirmations.includes('rollback-confirm')) {
    requirements.push({
      kind: 'rollback-confirm',
      count: 1,
      roles: policy?.rollbackConfirmRoles ?? [],
      because: `command ${command.id} asks for a rollback confirmation`,
    });
  }
  return {
    requirements,
    ...(policy ? { policy: policy.id } : {}),
    window,
    expiresAfterMinutes: policy?.expiresAfterMinutes ?? DEFAULT_EXPIRY_MINUTES,
  };
}

/** Whether `person` may give a sign-off of `kind` on `request`. Checked on every click. */
export function maySignOff(
  catalog: Catalog,
  person: Person,
  request: ActionRequest,
  kind: ApprovalKind,
): Result<SignOffRequirement> {
  if (person.id === request.requester) {
    return fail('SELF_APPROVAL', 'You requested this, so someone else must sign it off.');
  }
  const requirement = request.requirements.find((r) => r.kind === kind);
  if (!requirement) return fail('NOT_NEEDED', `This request does not need a ${kind}.`);
  if (!can(catalog, person, 'approve', request)) {
    return fail(
      'NOT_AN_APPROVER',
      `You have no approve grant for ${request.command} on ${request.service} ${request.environment}.`,
    );
  }
  if (!holdsAnyRole(person, requirement.roles)) {
    return fail(
      'NOT_AN_APPROVER',
      `A ${kind} here needs one of the roles: ${requirement.roles.join(', ')}.`,
    );
  }
  return ok(requirement);
}

/** People (other than the requester) who could give each required sign-off. */
export function eligibleSignOffs(
  catalog: Catalog,
  request: Pick<
    ActionRequest,
    'requester' | 'requirements' | 'command' | 'service' | 'environment'
  >,
): Map<ApprovalKind, string[]> {
  const out = new Map<ApprovalKind, string[]>();
  for (const req of request.requirements) {
    out.set(
      req.kind,
      catalog.people
        .filter(
          (p) =>
            p.id !== request.requester &&
            can(catalog, p, 'approve', request) &&
            holdsAnyRole(p, req.roles),
        )
        .map((p) => p.id),
    );
  }
  return out;
}
