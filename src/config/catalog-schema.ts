/**
 * The catalog's YAML schema, one zod schema per section item. YAML keys are snake_case;
 * each schema outputs the camelCase domain type from `src/domain/catalog.ts` with its
 * documented defaults applied. Objects are strict: an unknown key is an error, so a typo
 * never silently turns a rule off. Cross-references between items (unknown team, policy
 * nobody can satisfy, …) are checked later, in `check-catalog.ts`.
 */
import * as z from 'zod';
import type {
  ApprovalPolicy,
  ChangeWindow,
  ChannelRule,
  Environment,
  Grant,
  GrantAction,
  Person,
  Role,
  Service,
  Team,
} from '../domain/catalog.ts';
import { GRANT_ACTIONS } from '../domain/catalog.ts';
import { commandClass, commandSchema } from './command-schema.ts';
import {
  alertChannelSchema,
  maintenanceWindowSchema,
  routeSchema,
  snsTopicSchema,
} from './ingest-schema.ts';
import { incidentSettingsSchema, mitigationSchema, runbookSchema } from './response-schema.ts';
import {
  compact,
  hhmm,
  instant,
  label,
  list,
  owningTeam,
  slug,
  slugOrAll,
  strict,
  text,
  timezone,
} from './schema-fields.ts';

export { commandSchema, handlerSchema, paramSchema, rollbackSchema } from './command-schema.ts';
export { incidentSettingsSchema, mitigationSchema, runbookSchema } from './response-schema.ts';
export { unknownKeyMessage } from './schema-fields.ts';

// ── teams and people ─────────────────────────────────────────────────────────────────

export const teamSchema = strict({ id: slug('id'), name: label(100) }).transform(
  (t): Team => ({ id: t.id, name: t.name }),
);

const sha256 = z
  .string()
  .regex(
    /^[0-9a-f]{64}$/,
    'must be the lower-case hex SHA-256 of the token (64 characters), never the token itself',
  );

const tokenEntry = strict(
  { name: slug('token name'), sha256 },
  'a token is { name, sha256 }: store only the SHA-256 of the token, never the token',
);

export const personSchema = strict({
  id: slug('id'),
  name: label(100),
  team: slug('team').optional(),
  roles: list(slug('role')).default([]).describe('Role ids this person holds.'),
  slack: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,20}$/, 'must be a Slack user id such as U01ALICE')
    .optional()
    .describe('Slack user id, e.g. U01ALICE.'),
  console: label(254)
    .regex(/^[^\s]+$/, 'must be a login or e-mail address without spaces')
    .optional()
    .describe('The web console login (user name or e-mail).'),
  tokens: list(tokenEntry)
    .default([])
    .describe('API tokens as { name, sha256 }: the SHA-256 only, never the token.'),
}).transform(
  (p): Person =>
    compact({
      id: p.id,
      name: p.name,
      team: p.team,
      roles: p.roles,
      slack: p.slack,
      console: p.console,
      tokens: p.tokens.map((t) => ({ name: t.name, sha256: t.sha256 })),
    }),
);

// ── roles ────────────────────────────────────────────────────────────────────────────

const grantSchema = strict({
  actions: list(z.enum(GRANT_ACTIONS as readonly [GrantAction, ...GrantAction[]]), 1),
  commands: list(slugOrAll('command'), 1),
  services: list(slugOrAll('service'), 1),
  environments: list(slugOrAll('environment'), 1),
}).transform((g): Grant => ({ ...g }));

export const roleSchema = strict({
  id: slug('id'),
  description: text(1000).optional(),
  grants: z
    .array(grantSchema)
    .default([])
    .describe("Actions on commands × services × environments; '*' matches all. Deny by default."),
  break_glass: z
    .boolean()
    .default(false)
    .describe('May run a mutating command without approval, with a reason (loudly notified).'),
}).transform(
  (r): Role =>
    compact({ id: r.id, description: r.description, grants: r.grants, breakGlass: r.break_glass }),
);

// ── services ─────────────────────────────────────────────────────────────────────────

const awsAccount = z
  .string({
    error: (i) =>
      typeof i.input === 'number'
        ? "write the AWS account id as a quoted string ('012345678901') so leading zeros survive"
        : undefined,
  })
  .regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

const environmentSchema = strict({
  name: slug('environment name'),
  aws_account: awsAccount.optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as eu-west-1')
    .optional(),
}).transform(
  (e): Environment => compact({ name: e.name, awsAccount: e.aws_account, region: e.region }),
);

const slackChannel = z
  .string()
  .regex(/^[CG][A-Z0-9]{2,20}$/, 'must be a Slack channel id such as C01OPS');

export const serviceSchema = strict({
  id: slug('id'),
  team: owningTeam('service').describe('The owning team (required).'),
  description: text(1000).optional(),
  environments: z.array(environmentSchema).min(1),
  channels: strict({
    approvals: slackChannel.optional(),
    alerts: slackChannel.optional(),
    ops: slackChannel.optional(),
  }).default({}),
}).transform(
  (s): Service =>
    compact({
      id: s.id,
      team: s.team,
      description: s.description,
      environments: s.environments,
      channels: compact(s.channels),
    }),
);

// ── policies, change windows, channel rules ──────────────────────────────────────────

export const policySchema = strict({
  id: slug('id'),
  match: strict({
    commands: list(slug('command'), 1).optional(),
    services: list(slug('service'), 1).optional(),
    environments: list(slug('environment'), 1).optional(),
    classes: list(commandClass, 1).optional(),
  }),
  approvals: z
    .number()
    .int()
    .min(0)
    .max(20)
    .describe('Distinct approvers needed, never the requester; destructive needs 2 at least.'),
  approver_roles: list(slug('role'))
    .default([])
    .describe('An approver holds one of these roles (empty: any role) and an approve grant.'),
  rollback_confirm_roles: list(slug('role')).default([]),
  expires_after_minutes: z.number().int().min(1).max(10_080).default(60),
}).transform(
  (p): ApprovalPolicy => ({
    id: p.id,
    match: compact(p.match),
    approvals: p.approvals,
    approverRoles: p.approver_roles,
    rollbackConfirmRoles: p.rollback_confirm_roles,
    expiresAfterMinutes: p.expires_after_minutes,
  }),
);

const windowScope = {
  id: slug('id'),
  services: list(slugOrAll('service'), 1),
  environments: list(slugOrAll('environment'), 1),
  acknowledge_roles: list(slug('role'))
    .default([])
    .describe('Roles that may acknowledge a change outside the window (empty: any role).'),
};

const weeklyWindow = strict({
  ...windowScope,
  kind: z.literal('window'),
  days: list(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']), 1),
  start: hhmm,
  end: hhmm,
  timezone,
}).refine((w) => w.start !== w.end, {
  message: 'must differ from `start` (an end before the start runs overnight)',
  path: ['end'],
});

const freeze = strict({
  ...windowScope,
  kind: z.literal('freeze'),
  from: instant,
  to: instant,
  reason: text(500),
  // An instant that failed its own check parses to NaN and passes here: it is reported once.
}).refine((f) => !(Date.parse(f.from) >= Date.parse(f.to)), {
  message: 'must be after `from`',
  path: ['to'],
});

export const changeWindowSchema = z
  .discriminatedUnion('kind', [weeklyWindow, freeze], {
    error: 'a change window needs `kind: window` or `kind: freeze`',
  })
  .transform((w): ChangeWindow => {
    const scope = { id: w.id, services: w.services, environments: w.environments };
    const acknowledgeRoles = w.acknowledge_roles;
    if (w.kind === 'window') {
      const { days, start, end, timezone } = w;
      return { ...scope, kind: 'window', days, start, end, timezone, acknowledgeRoles };
    }
    const [from, to] = [Date.parse(w.from), Date.parse(w.to)];
    return { ...scope, kind: 'freeze', from, to, reason: w.reason, acknowledgeRoles };
  });

export const channelRuleSchema = strict({
  channel: z
    .string()
    .regex(/^(?:dm|[CG][A-Z0-9]{2,20})$/, 'must be a Slack channel id such as C01OPS, or "dm"'),
  commands: list(slugOrAll('command'), 1),
}).transform((r): ChannelRule => ({ channel: r.channel, commands: r.commands }));

// ── a file ───────────────────────────────────────────────────────────────────────────

/**
 * Each top-level key of a catalog file and the schema of one item in its list, or of the
 * section itself for the single sections (`SINGLE_SECTIONS`), which are mappings.
 */
export const SECTIONS = {
  teams: teamSchema,
  people: personSchema,
  roles: roleSchema,
  services: serviceSchema,
  commands: commandSchema,
  policies: policySchema,
  change_windows: changeWindowSchema,
  channel_rules: channelRuleSchema,
  routes: routeSchema,
  sns_topics: snsTopicSchema,
  alert_channels: alertChannelSchema,
  maintenance_windows: maintenanceWindowSchema,
  runbooks: runbookSchema,
  mitigations: mitigationSchema,
  incidents: incidentSettingsSchema,
} as const;

export type SectionKey = keyof typeof SECTIONS;
/** Sections that are one mapping rather than a list; the folder defines each at most once. */
export const SINGLE_SECTIONS: readonly SectionKey[] = ['incidents'];
export type SectionItem<K extends SectionKey> = z.output<(typeof SECTIONS)[K]>;
export const SECTION_KEYS = Object.keys(SECTIONS) as SectionKey[];

/** One catalog file: any of the sections, each a list. Published as JSON Schema. */
export const catalogFileSchema = strict({
  teams: z.array(teamSchema).optional().describe('Teams that own services and commands.'),
  people: z
    .array(personSchema)
    .optional()
    .describe('People and their identities: Slack user id, console login, API token hashes.'),
  roles: z
    .array(roleSchema)
    .optional()
    .describe('Roles: grants of view / request / approve / administer.'),
  services: z
    .array(serviceSchema)
    .optional()
    .describe('Services, their environments (AWS account and region) and Slack channels.'),
  commands: z
    .array(commandSchema)
    .optional()
    .describe('Operational commands people may request, with their handlers.'),
  policies: z
    .array(policySchema)
    .optional()
    .describe('Approval policies: how many approvers from which roles, for what.'),
  change_windows: z
    .array(changeWindowSchema)
    .optional()
    .describe('Weekly change windows (kind: window) and freezes (kind: freeze).'),
  channel_rules: z
    .array(channelRuleSchema)
    .optional()
    .describe('Which commands may be requested from which Slack channel (or dm).'),
  routes: z
    .array(routeSchema)
    .optional()
    .describe('Where ingested events go: EventBridge patterns to team, service, channel.'),
  sns_topics: z
    .array(snsTopicSchema)
    .optional()
    .describe('SNS topic ARNs whose messages /hooks/sns accepts; any other topic is refused.'),
  alert_channels: z
    .array(alertChannelSchema)
    .optional()
    .describe('Per-channel alert budgets (new messages per minute) before digests.'),
  maintenance_windows: z
    .array(maintenanceWindowSchema)
    .optional()
    .describe('Intervals in which alerts for these services are recorded, not posted.'),
  runbooks: z
    .array(runbookSchema)
    .optional()
    .describe('Guided runbooks: steps (command, check, decision, wait, notify) walked in order.'),
  mitigations: z
    .array(mitigationSchema)
    .optional()
    .describe("Pre-approved first mitigations: a route's incident runs a command once."),
  incidents: incidentSettingsSchema
    .optional()
    .describe(
      'Incident settings (one mapping in the whole folder): chat, reminders, who confirms severity.',
    ),
}).meta({
  title: 'Countersign catalog file',
  description:
    'One YAML file of a Countersign catalog folder. Every key is optional; the folder as a whole must define each id it references.',
});
