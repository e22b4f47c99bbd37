/**
 * Cross-reference checks over a catalog whose items each passed the schema: duplicate ids,
 * references to unknown teams, roles, services, environments, commands, routes and
 * runbooks, rollback and handler rules, identities used twice, policies or windows no one
 * can sign off, and (in `check-response.ts`) how runbook steps link up.
 * Each issue names the file and the YAML path of the offending node (snake_case keys), so
 * the loader can report it at that node's line. The checks do no I/O: file existence is
 * asked through `CheckOptions.fileExists`.
 */
import type { Command, Person } from '../domain/catalog.ts';
import type { SectionItem, SectionKey } from './catalog-schema.ts';
import { checkIngest } from './check-ingest.ts';
import { checkResponse } from './check-response.ts';
import { checkSignOffs } from './check-sign-offs.ts';

export type PathSegment = string | number;

/** A validated item and where it came from: its file and its path `[section, index]`. */
export interface Sourced<T> {
  value: T;
  file: string;
  path: PathSegment[];
}

export type SourcedCatalog = { [K in SectionKey]: Sourced<SectionItem<K>>[] };

/** A problem at a YAML path; `atKey` points at the key itself rather than its value. */
export interface PathIssue {
  file: string;
  path: PathSegment[];
  message: string;
  atKey?: boolean;
}

export interface CheckOptions {
  /** Whether a regular file exists at this path relative to the catalog folder. */
  fileExists(relativePath: string): boolean;
  /** "file:line" of an item, to say where the first of two duplicates is. */
  where(item: Sourced<unknown>): string;
  /**
   * Ids declared by items that failed the schema (already reported): references to them
   * are not reported again as unknown.
   */
  invalidIds: ReadonlySet<string>;
  /** False when a person or role failed the schema: who-can-sign-off checks are skipped. */
  peopleComplete: boolean;
}

/** Reports an issue at a path below an item. */
export type Report = (item: Sourced<unknown>, rest: PathSegment[], message: string) => void;

/** Every cross-reference problem in the catalog, in the order the checks find them. */
export function checkCatalog(c: SourcedCatalog, opts: CheckOptions): PathIssue[] {
  const issues: PathIssue[] = [];
  const report: Report = (item, rest, message) =>
    issues.push({ file: item.file, path: [...item.path, ...rest], message });
  const refs = refChecker(knownIds(c, opts.invalidIds), report);
  checkDuplicates(c, opts, report);
  checkPeople(c, refs, report);
  checkServices(c, refs, report);
  checkCommands(c, refs, opts, report);
  checkRoles(c, refs);
  checkPolicyRefs(c, refs);
  checkWindowsAndChannels(c, refs);
  checkIngest(c, refs, opts, report);
  checkResponse(c, refs, opts, report);
  if (opts.peopleComplete) checkSignOffs(c, report);
  return issues;
}

/** The ids each reference may point at; an id whose item failed the schema counts. */
interface KnownIds {
  teams: Set<string>;
  roles: Set<string>;
  services: Set<string>;
  commands: Set<string>;
  environments: Set<string>;
  routes: Set<string>;
  runbooks: Set<string>;
  invalid: ReadonlySet<string>;
}

function knownIds(c: SourcedCatalog, invalid: ReadonlySet<string>): KnownIds {
  return {
    teams: new Set(c.teams.map((t) => t.value.id)),
    roles: new Set(c.roles.map((r) => r.value.id)),
    services: new Set(c.services.map((s) => s.value.id)),
    commands: new Set(c.commands.map((x) => x.value.id)),
    environments: new Set(c.services.flatMap((s) => s.value.environments.map((e) => e.name))),
    routes: new Set(c.routes.map((r) => r.value.id)),
    runbooks: new Set(c.runbooks.map((r) => r.value.id)),
    invalid,
  };
}

type Noun = 'team' | 'role' | 'service' | 'command' | 'environment' | 'route' | 'runbook';
const SET_OF: Record<Noun, Exclude<keyof KnownIds, 'invalid'>> = {
  team: 'teams',
  role: 'roles',
  service: 'services',
  command: 'commands',
  environment: 'environments',
  route: 'routes',
  runbook: 'runbooks',
};

/** Reports references that name nothing; `*` (where the schema allows it) names all. */
export interface RefChecker {
  one(item: Sourced<unknown>, path: PathSegment[], value: string | undefined, noun: Noun): void;
  many(
    item: Sourced<unknown>,
    path: PathSegment[],
    values: readonly string[] | undefined,
    noun: Noun,
  ): void;
}

function refChecker(known: KnownIds, report: Report): RefChecker {
  const exists = (value: string, noun: Noun) =>
    value === '*' || known[SET_OF[noun]].has(value) || known.invalid.has(value);
  return {
    one(item, path, value, noun) {
      if (value !== undefined && !exists(value, noun)) {
        report(item, path, `unknown ${noun} "${value}"`);
      }
    },
    many(item, path, values, noun) {
      values?.forEach((v, i) => {
        if (!exists(v, noun)) report(item, [...path, i], `unknown ${noun} "${v}"`);
      });
    },
  };
}

// ── duplicates ───────────────────────────────────────────────────────────────────────

const NOUNS: Record<
  Exclude<SectionKey, 'channel_rules' | 'sns_topics' | 'alert_channels' | 'incidents'>,
  string
> = {
  teams: 'team',
  people: 'person',
  roles: 'role',
  services: 'service',
  commands: 'command',
  policies: 'policy',
  change_windows: 'change window',
  routes: 'route',
  maintenance_windows: 'maintenance window',
  runbooks: 'runbook',
  mitigations: 'mitigation',
};

function checkDuplicates(c: SourcedCatalog, opts: CheckOptions, report: Report): void {
  for (const section of Object.keys(NOUNS) as (keyof typeof NOUNS)[]) {
    const items: Sourced<{ id: string }>[] = c[section];
    findDuplicates(
      items,
      (x) => x.value.id,
      (item, first) => {
        const what = `${NOUNS[section]} id "${item.value.id}"`;
        report(item, ['id'], `duplicate ${what}; first defined at ${opts.where(first)}`);
      },
    );
  }
  findDuplicates(
    c.channel_rules,
    (r) => r.value.channel,
    (item, first) => {
      const what = `rule for channel "${item.value.channel}"`;
      report(item, ['channel'], `duplicate ${what}; first defined at ${opts.where(first)}`);
    },
  );
}

/** Calls `onDuplicate` for every item whose key an earlier item already had. */
function findDuplicates<T>(
  items: T[],
  keyOf: (t: T) => string,
  onDuplicate: (t: T, first: T) => void,
) {
  const seen = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, item);
    else onDuplicate(item, first);
  }
}

// ── people and services ──────────────────────────────────────────────────────────────

function checkPeople(c: SourcedCatalog, refs: RefChecker, report: Report): void {
  for (const p of c.people) {
    refs.one(p, ['team'], p.value.team, 'team');
    refs.many(p, ['roles'], p.value.roles, 'role');
    findDuplicates(
      p.value.tokens.map((t, i) => ({ t, i })),
      (x) => x.t.name,
      (x) => report(p, ['tokens', x.i, 'name'], `token name "${x.t.name}" is used twice`),
    );
  }
  checkIdentity(c.people, 'slack', (p) => (p.slack ? [p.slack] : []), 'Slack user id', report);
  checkIdentity(
    c.people,
    'console',
    (p) => (p.console ? [p.console.toLowerCase()] : []),
    'console login',
    report,
  );
  checkIdentity(c.people, 'tokens', (p) => p.tokens.map((t) => t.sha256), 'token hash', report);
}

/** An identity (Slack id, login, token hash) must lead to exactly one person. */
function checkIdentity(
  people: Sourced<Person>[],
  key: string,
  values: (p: Person) => string[],
  what: string,
  report: Report,
): void {
  const owner = new Map<string, string>();
  for (const p of people) {
    values(p.value).forEach((v, i) => {
      const first = owner.get(v);
      const path = key === 'tokens' ? [key, i, 'sha256'] : [key];
      if (first === undefined) owner.set(v, p.value.id);
      else report(p, path, `${what} is already used by person "${first}"`);
    });
  }
}

function checkServices(c: SourcedCatalog, refs: RefChecker, report: Report): void {
  for (const s of c.services) {
    refs.one(s, ['team'], s.value.team, 'team');
    findDuplicates(
      s.value.environments.map((e, i) => ({ e, i })),
      (x) => x.e.name,
      (x) => report(s, ['environments', x.i, 'name'], `environment "${x.e.name}" is listed twice`),
    );
  }
}

// ── commands ─────────────────────────────────────────────────────────────────────────

/**
 * Command ids a grant may name without a catalog command: `incident` covers declaring and
 * updating incidents, `runbook` starting runs and acting on their steps.
 */
export const RESERVED_COMMANDS: ReadonlySet<string> = new Set(['incident', 'runbook']);

function checkCommands(
  c: SourcedCatalog,
  refs: RefChecker,
  opts: CheckOptions,
  report: Report,
): void {
  const byId = new Map(c.commands.map((x) => [x.value.id, x.value]));
  for (const cmd of c.commands) {
    refs.one(cmd, ['team'], cmd.value.team, 'team');
    if (RESERVED_COMMANDS.has(cmd.value.id)) {
      const why = `"${cmd.value.id}" is reserved: a grant on it covers ${cmd.value.id} work`;
      report(cmd, ['id'], `${why}; give the command another id`);
    }
    checkRollback(cmd, byId, refs, report);
    if (cmd.value.preview && cmd.value.class === 'read-only') {
      report(cmd, ['preview'], 'a read-only command changes nothing, so it has no preview');
    }
    checkHandlerFiles(cmd, 'handler', opts, report);
    checkHandlerFiles(cmd, 'preview', opts, report);
  }
}

/** Every mutating command declares its rollback; a read-only one declares none. */
function checkRollback(
  cmd: Sourced<Command>,
  byId: Map<string, Command>,
  refs: RefChecker,
  report: Report,
): void {
  const { rollback, class: cls, id } = cmd.value;
  if (cls === 'read-only') {
    if (rollback) report(cmd, ['rollback'], 'a read-only command changes nothing: remove rollback');
    return;
  }
  if (!rollback) {
    const how = 'add rollback: { command: <id> } or rollback: { none: "<reason>" }';
    report(cmd, ['id'], `${cls} command "${id}" must declare its rollback: ${how}`);
    return;
  }
  if (!('command' in rollback)) return;
  const target = byId.get(rollback.command);
  if (target === undefined) {
    refs.one(cmd, ['rollback', 'command'], rollback.command, 'command');
  } else if (target.class === 'read-only') {
    const why = `rollback command "${target.id}" is read-only and cannot undo anything`;
    report(cmd, ['rollback', 'command'], why);
  }
}

function checkHandlerFiles(
  cmd: Sourced<Command>,
  key: 'handler' | 'preview',
  opts: CheckOptions,
  report: Report,
): void {
  const ref = cmd.value[key];
  if (ref === undefined) return;
  const files: [string, string | undefined][] =
    ref.kind === 'lambda-module'
      ? [['module', ref.module]]
      : [
          ['state_machine', ref.definition],
          ['handlers', ref.handlers],
        ];
  for (const [field, file] of files) {
    if (file !== undefined && !opts.fileExists(file)) {
      report(cmd, [key, field], `file "${file}" does not exist in the catalog folder`);
    }
  }
}

// ── roles, policies, windows, channels ───────────────────────────────────────────────

function checkRoles(c: SourcedCatalog, refs: RefChecker): void {
  for (const r of c.roles) {
    r.value.grants.forEach((g, i) => {
      g.commands.forEach((id, j) => {
        if (!RESERVED_COMMANDS.has(id)) refs.one(r, ['grants', i, 'commands', j], id, 'command');
      });
      refs.many(r, ['grants', i, 'services'], g.services, 'service');
      refs.many(r, ['grants', i, 'environments'], g.environments, 'environment');
    });
  }
}

function checkPolicyRefs(c: SourcedCatalog, refs: RefChecker): void {
  for (const p of c.policies) {
    const { match, approverRoles, rollbackConfirmRoles } = p.value;
    refs.many(p, ['match', 'commands'], match.commands, 'command');
    refs.many(p, ['match', 'services'], match.services, 'service');
    refs.many(p, ['match', 'environments'], match.environments, 'environment');
    refs.many(p, ['approver_roles'], approverRoles, 'role');
    refs.many(p, ['rollback_confirm_roles'], rollbackConfirmRoles, 'role');
  }
}

function checkWindowsAndChannels(c: SourcedCatalog, refs: RefChecker): void {
  for (const w of c.change_windows) {
    refs.many(w, ['services'], w.value.services, 'service');
    refs.many(w, ['environments'], w.value.environments, 'environment');
    refs.many(w, ['acknowledge_roles'], w.value.acknowledgeRoles, 'role');
  }
  for (const r of c.channel_rules) {
    refs.many(r, ['commands'], r.value.commands, 'command');
  }
}
