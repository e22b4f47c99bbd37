/**
 * Checks that every sign-off the catalog asks for can be given by someone in it. A person
 * can sign off when they hold one of the named roles (any role, when the list is empty —
 * the domain's reading of an empty list) and have an approve or administer grant on at
 * least one command × service × environment the rule covers. An approval policy needs
 * `approvals` such people — max(2, approvals) for the destructive commands it matches —
 * and each change window and rollback confirmation needs one.
 */
import type {
  ApprovalPolicy,
  ChangeWindow,
  Command,
  Grant,
  Person,
  Role,
} from '../domain/catalog.ts';
import type { Report, SourcedCatalog } from './check-catalog.ts';

/** A service × environment pair. */
interface Place {
  service: string;
  environment: string;
}

/** People holding one of `roles` with an approve grant on some of `cmds` at `places`. */
type Signers = (roles: readonly string[], cmds: Command[], places: Place[]) => Person[];

export function checkSignOffs(c: SourcedCatalog, report: Report): void {
  const commands = c.commands.map((x) => x.value);
  const places = c.services.flatMap((s) =>
    s.value.environments.map((e) => ({ service: s.value.id, environment: e.name })),
  );
  const signers = signersIn(
    c.people.map((p) => p.value),
    new Map(c.roles.map((r) => [r.value.id, r.value])),
  );
  for (const item of c.policies) {
    const policy = item.value;
    const matched = commands.filter((cmd) => policyMatchesCommand(policy, cmd));
    const where = places.filter((p) => policyMatchesPlace(policy, p));
    if (matched.length === 0 || where.length === 0) continue;
    const shortfall = approverShortfall(policy, matched, where, signers);
    if (shortfall) report(item, ['approvals'], shortfall);
    const confirmed = matched.filter((cmd) => cmd.confirmations.includes('rollback-confirm'));
    if (
      confirmed.length > 0 &&
      signers(policy.rollbackConfirmRoles, confirmed, where).length === 0
    ) {
      const why = `policy "${policy.id}" matches a command that needs a rollback confirmation`;
      report(item, ['rollback_confirm_roles'], `${why}, but ${NOBODY}`);
    }
  }
  const mutating = commands.filter((cmd) => cmd.class !== 'read-only');
  for (const w of c.change_windows) {
    const where = places.filter((p) => windowCovers(w.value, p));
    if (mutating.length === 0 || where.length === 0) continue;
    if (signers(w.value.acknowledgeRoles, mutating, where).length === 0) {
      const why = `change window "${w.value.id}" can never be acknowledged`;
      report(w, ['acknowledge_roles'], `${why}: ${NOBODY}`);
    }
  }
}

const NOBODY = 'no person holds one of these roles with an approve grant on what it covers';

/**
 * Why the policy cannot get its approvals, or undefined when enough people qualify. The
 * destructive commands it matches are checked on their own, against max(2, approvals).
 */
function approverShortfall(
  policy: ApprovalPolicy,
  matched: Command[],
  where: Place[],
  signers: Signers,
): string | undefined {
  const destructive = matched.filter((cmd) => cmd.class === 'destructive');
  const checks: [Command[], number, string][] = [
    [matched, policy.approvals, ''],
    [destructive, Math.max(2, policy.approvals), ' (destructive commands need two at least)'],
  ];
  for (const [cmds, needed, note] of checks) {
    if (cmds.length === 0 || needed === 0) continue;
    const able = signers(policy.approverRoles, cmds, where);
    if (able.length < needed) {
      const who = able.length ? ` (${able.map((p) => p.id).join(', ')})` : '';
      return (
        `policy "${policy.id}" needs ${needed} approvers${note} but only ${able.length} ` +
        `${able.length === 1 ? 'person' : 'people'}${who} hold one of its approver_roles ` +
        'with an approve grant on what it matches'
      );
    }
  }
  return undefined;
}

function signersIn(people: Person[], roles: Map<string, Role>): Signers {
  return (roleIds, cmds, places) =>
    people.filter(
      (p) =>
        (roleIds.length === 0 || p.roles.some((r) => roleIds.includes(r))) &&
        p.roles.some((r) => roles.get(r)?.grants.some((g) => canApprove(g, cmds, places))),
    );
}

function policyMatchesCommand(policy: ApprovalPolicy, cmd: Command): boolean {
  const { commands, classes } = policy.match;
  return (!commands || commands.includes(cmd.id)) && (!classes || classes.includes(cmd.class));
}

function policyMatchesPlace(policy: ApprovalPolicy, place: Place): boolean {
  const { services, environments } = policy.match;
  return (
    (!services || services.includes(place.service)) &&
    (!environments || environments.includes(place.environment))
  );
}

function windowCovers(w: ChangeWindow, place: Place): boolean {
  return covers(w.services, place.service) && covers(w.environments, place.environment);
}

const covers = (list: readonly string[], value: string) =>
  list.includes('*') || list.includes(value);

/** An approve or administer grant on one of the commands, at one of the places. */
function canApprove(g: Grant, cmds: Command[], places: Place[]): boolean {
  if (!g.actions.includes('approve') && !g.actions.includes('administer')) return false;
  return (
    cmds.some((cmd) => covers(g.commands, cmd.id)) &&
    places.some((p) => covers(g.services, p.service) && covers(g.environments, p.environment))
  );
}
