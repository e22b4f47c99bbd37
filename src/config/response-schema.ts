/**
 * The catalog's incident-response sections: runbooks (guided steps), mitigations (first
 * fixes pre-approved per route) and the catalog-wide incident settings. Part of
 * `catalog-schema.ts`; how steps link up, and what runbooks and mitigations refer to, is
 * checked by `check-response.ts`.
 *
 * A step's kind is its `kind:` key, like a change window's; each kind takes only its own
 * keys. Runbooks and mitigations carry a digest: the hex SHA-256 of the canonical JSON of
 * the parsed item without it, so a run or an audit entry pins the exact version.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { canonicalJson } from '../domain/audit-chain.ts';
import type {
  IncidentSettings,
  MitigationRule,
  Runbook,
  RunbookStep,
} from '../domain/runbook-model.ts';
import { DEFAULT_INCIDENT_SETTINGS } from '../domain/runbook-model.ts';
import {
  compact,
  label,
  list,
  owningTeam,
  slug,
  slugOrAll,
  strict,
  text,
} from './schema-fields.ts';

/** Hex SHA-256 of the canonical JSON of `body`. */
export function itemDigest(body: object): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

// ── parameters ───────────────────────────────────────────────────────────────────────

/** Placeholders a parameter value or a notify text may hold, filled when used. */
export const PLACEHOLDERS = ['{{service}}', '{{environment}}', '{{incident}}'] as const;
/** A known placeholder; spaces inside the braces are allowed, as the runs fill them. */
const KNOWN_PLACEHOLDER = /\{\{\s*(?:service|environment|incident)\s*\}\}/g;

const PARAM_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Whether the value holds a placeholder (only known ones pass the schema). */
export const hasPlaceholder = (value: string): boolean => value.includes('{{');

/** A complaint about a placeholder the runs would not fill, or undefined. */
function placeholderProblem(value: string): string | undefined {
  const rest = value.replace(KNOWN_PLACEHOLDER, '');
  if (!rest.includes('{{') && !rest.includes('}}')) return undefined;
  const unknown = /\{\{[^{}]*\}\}/.exec(rest)?.[0] ?? '{{';
  return `unknown placeholder ${JSON.stringify(unknown.slice(0, 40))}: use ${PLACEHOLDERS.join(', ')}`;
}

const withPlaceholders = <T extends z.ZodType<string>>(s: T) =>
  s.superRefine((value, ctx) => {
    const problem = placeholderProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * `name: "value"` pairs for a command, checked against its parameter specs by
 * `check-response.ts`. Values are strings, so they reach the command exactly as written
 * (`"1.10"` stays `1.10`), and may hold placeholders.
 */
const paramValues = z
  .record(
    z.string().regex(PARAM_NAME),
    withPlaceholders(
      z
        .string({
          error: (i) =>
            typeof i.input === 'number' || typeof i.input === 'boolean'
              ? `write the value as a quoted string ("${String(i.input)}"), so it reaches the command exactly as written`
              : undefined,
        })
        .max(1000)
        .refine((v) => !CONTROL.test(v), 'contains a control character'),
    ),
    {
      error: (i) =>
        i.code === 'invalid_key'
          ? 'a parameter name is lower-case letters, digits or _'
          : undefined,
    },
  )
  .default({});

// ── runbooks ─────────────────────────────────────────────────────────────────────────

/** Where a step goes: a step id, or `end`. */
const target = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a step id, or end to finish the run');

const stepBase = {
  id: slug('step id').refine((id) => id !== 'end', '"end" is kept for finishing the run'),
  title: label(200),
  description: text(2000)
    .optional()
    .describe('Shown with the step: what to look at, why it is safe.'),
  next: target
    .optional()
    .describe('The step that follows (default: the one below it; end finishes).'),
};

const commandStep = strict({
  ...stepBase,
  kind: z.literal('command'),
  command: slug('command'),
  params: paramValues.describe(
    'Parameter values as strings; {{service}}, {{environment}} and {{incident}} are filled from the run.',
  ),
  on_failure: target
    .optional()
    .describe('Where to go when the command fails (default: the run stops there, failed).'),
});

const checkStep = strict({ ...stepBase, kind: z.literal('check') });

const branch = strict({ id: slug('branch id'), label: label(100), next: target });

const { next: _next, ...decisionBase } = stepBase;
const decisionStep = strict({
  ...decisionBase,
  kind: z.literal('decision'),
  branches: z
    .array(branch)
    .min(2, 'a decision needs two branches at least')
    .max(10)
    .superRefine((branches, ctx) => {
      const seen = new Set<string>();
      branches.forEach((b, i) => {
        if (seen.has(b.id))
          ctx.addIssue({ code: 'custom', message: 'branch id used twice', path: [i, 'id'] });
        seen.add(b.id);
      });
    })
    .describe('What the operator picks from; each branch names its next step (no `next` here).'),
});

const waitStep = strict({
  ...stepBase,
  kind: z.literal('wait'),
  condition: z.literal('alarms-ok', { error: 'the one condition is alarms-ok' }),
  timeout_minutes: z.number().int().min(1).max(1440),
  on_timeout: target.optional().describe('Where to go on timeout (default: `next`).'),
});

const notifyStep = strict({
  ...stepBase,
  kind: z.literal('notify'),
  text: withPlaceholders(text(2000)).describe(
    'Posted as written, with {{service}}, {{environment}} and {{incident}} filled.',
  ),
});

export const stepSchema = z
  .discriminatedUnion('kind', [commandStep, checkStep, decisionStep, waitStep, notifyStep], {
    error: 'a step needs `kind`: command, check, decision, wait or notify',
  })
  .transform((s): RunbookStep => {
    const base = { id: s.id, title: s.title, description: s.description };
    switch (s.kind) {
      case 'command':
        return compact({
          ...base,
          next: s.next,
          kind: 'command',
          command: s.command,
          params: s.params,
          onFailure: s.on_failure,
        });
      case 'check':
        return compact({ ...base, next: s.next, kind: 'check' });
      case 'decision':
        return compact({ ...base, kind: 'decision', branches: s.branches.map((b) => ({ ...b })) });
      case 'wait':
        return compact({
          ...base,
          next: s.next,
          kind: 'wait',
          condition: s.condition,
          timeoutMinutes: s.timeout_minutes,
          onTimeout: s.on_timeout,
        });
      case 'notify':
        return compact({ ...base, next: s.next, kind: 'notify', text: s.text });
    }
  });

export const runbookSchema = strict({
  id: slug('id'),
  team: owningTeam('runbook').describe('The owning team (required).'),
  title: label(200),
  description: text(2000).optional(),
  services: list(slugOrAll('service'), 1)
    .default(['*'])
    .describe("Services it applies to; '*' (the default) for any."),
  steps: z
    .array(stepSchema)
    .min(1)
    .max(50)
    .describe('Walked from the first; a step goes to `next`, else to the one below it.'),
}).transform((r): Runbook => {
  const body = compact({
    id: r.id,
    team: r.team,
    title: r.title,
    description: r.description,
    services: r.services,
    steps: r.steps,
  });
  return { ...body, digest: itemDigest(body) };
});

// ── mitigations ──────────────────────────────────────────────────────────────────────

export const mitigationSchema = strict({
  id: slug('id'),
  team: owningTeam('mitigation').describe('The owning team (required).'),
  description: text(1000).optional(),
  route: slug('route').describe('The route whose incidents it answers; it needs incident: true.'),
  service: slug('service'),
  environments: list(slugOrAll('environment'), 1).describe(
    "Where it is pre-approved; '*' for all.",
  ),
  command: slug('command').describe('Never a destructive one.'),
  params: paramValues.describe(
    'Parameter values as strings; {{service}}, {{environment}} and {{incident}} are filled from the incident.',
  ),
}).transform((m): MitigationRule => {
  const body = compact({
    id: m.id,
    team: m.team,
    description: m.description,
    route: m.route,
    service: m.service,
    environments: m.environments,
    command: m.command,
    params: m.params,
  });
  return { ...body, digest: itemDigest(body) };
});

// ── incident settings ────────────────────────────────────────────────────────────────

/** What `{…}` in a channel pattern may name. */
export const CHANNEL_PLACEHOLDERS = ['{id}', '{service}', '{environment}', '{date}'] as const;
/** Longest Slack channel name. */
export const MAX_CHANNEL_NAME = 80;

/** What is wrong with the fixed part of a channel pattern, or undefined. */
function channelPatternProblem(pattern: string): string | undefined {
  const rest = CHANNEL_PLACEHOLDERS.reduce((v, p) => v.replaceAll(p, ''), pattern);
  const stray = /\{[^{}]*\}?|\}/.exec(rest)?.[0];
  if (stray !== undefined) {
    return `unknown placeholder ${JSON.stringify(stray.slice(0, 40))}: use ${CHANNEL_PLACEHOLDERS.join(', ')}`;
  }
  if (rest === pattern) return 'needs a placeholder, or every incident would get the same channel';
  if (!/^[a-z0-9_-]*$/.test(rest)) {
    return 'a Slack channel name holds only lower-case letters, digits, "-" and "_"';
  }
  if (rest.length > MAX_CHANNEL_NAME) {
    return `its fixed part alone is ${rest.length} characters; a Slack channel name has ${MAX_CHANNEL_NAME} at most`;
  }
  return undefined;
}

const { reminderMinutes: REMINDERS } = DEFAULT_INCIDENT_SETTINGS;
const reminder = (sev: keyof typeof REMINDERS) =>
  z
    .number()
    .int()
    .min(0)
    .max(1440)
    .default(REMINDERS[sev])
    .describe(`Minutes between status-update reminders for a ${sev} incident; 0 never.`);

export const incidentSettingsSchema = strict(
  {
    chat: z
      .enum(['thread', 'channel'])
      .default(DEFAULT_INCIDENT_SETTINGS.chat)
      .describe('thread: updates in the alert thread; channel: a new channel per incident.'),
    channel_pattern: z
      .string()
      .max(200)
      .default(DEFAULT_INCIDENT_SETTINGS.channelPattern)
      .superRefine((p, ctx) => {
        const problem = channelPatternProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('For chat: channel, from {id}, {service}, {environment} and {date} (YYYYMMDD).'),
    severity_confirm_roles: list(slug('role'))
      .default([...DEFAULT_INCIDENT_SETTINGS.severityConfirmRoles])
      .describe('Roles whose holders may confirm a proposed severity.'),
    reminder_minutes: strict({
      sev1: reminder('sev1'),
      sev2: reminder('sev2'),
      sev3: reminder('sev3'),
      sev4: reminder('sev4'),
    }).prefault({}),
  },
  'incidents is a mapping: { chat, channel_pattern, severity_confirm_roles, reminder_minutes }',
).transform(
  (s): IncidentSettings => ({
    chat: s.chat,
    channelPattern: s.channel_pattern,
    severityConfirmRoles: s.severity_confirm_roles,
    reminderMinutes: { ...s.reminder_minutes },
  }),
);
