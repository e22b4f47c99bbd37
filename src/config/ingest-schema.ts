/**
 * The catalog's ingest sections: routes (EventBridge patterns to owning team, service,
 * environment, severity, channel and runbooks), the SNS topics whose messages are
 * accepted, per-channel alert budgets, and maintenance windows. Part of
 * `catalog-schema.ts`; a route's pattern is compiled (and its errors reported at its line)
 * by `check-catalog.ts`.
 */
import * as z from 'zod';
import type {
  AlertChannel,
  MaintenanceWindow,
  Route,
  Severity,
  SnsTopic,
} from '../domain/catalog.ts';
import {
  compact,
  instant,
  list,
  owningTeam,
  slug,
  slugOrAll,
  strict,
  text,
} from './schema-fields.ts';

const slackChannel = z
  .string()
  .regex(/^[CG][A-Z0-9]{2,20}$/, 'must be a Slack channel id such as C01ALERTS');

export const severity = z.enum(['sev1', 'sev2', 'sev3', 'sev4'], {
  error: 'must be one of sev1, sev2, sev3, sev4 (sev1 is the worst)',
});

/** `detail.alarmName`, `account`, `detail.labels.alertname`: a dotted path into the envelope. */
const envelopePath = z
  .string()
  .regex(
    /^[A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*$/,
    'must be a dotted path into the event, e.g. detail.alarmName',
  );

export const routeSchema = strict({
  id: slug('id'),
  team: owningTeam('route').describe('The owning team (required).'),
  description: text(1000).optional(),
  pattern: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      'An EventBridge event pattern, exactly as in an EventBridge rule. Omit it (with default: true) for the default route.',
    ),
  default: z
    .boolean()
    .default(false)
    .describe('The route for events no other route took; it has no pattern. At most one.'),
  service: slug('service').optional(),
  environment: z
    .string()
    .regex(
      /^(?:from-account|[a-z0-9](?:[a-z0-9-]{0,62}))$/,
      'must be an environment name or from-account',
    )
    .default('from-account')
    .describe(
      'An environment of the service, or from-account: the one whose AWS account (and region) the event comes from.',
    ),
  severity: severity.default('sev3'),
  channel: slackChannel.optional().describe("Default: the service's alerts channel."),
  runbooks: list(slug('runbook')).default([]).describe('Suggested runbooks, shown with the alert.'),
  group_by: list(envelopePath)
    .default([])
    .describe('Envelope paths whose values group alerts into one message; empty: one per alert.'),
  group_window_minutes: z.number().int().min(1).max(1440).default(30),
  continue: z.boolean().default(false).describe('Keep trying later routes after this one matched.'),
  notify: z.boolean().default(true).describe('False: record and count, post nothing.'),
  incident: z
    .boolean()
    .default(false)
    .describe('True: a firing alert opens an incident (one per alert group).'),
}).transform(
  (r): Route =>
    compact({
      id: r.id,
      team: r.team,
      description: r.description,
      pattern: r.pattern,
      isDefault: r.default,
      service: r.service,
      environment: r.environment,
      severity: r.severity as Severity,
      channel: r.channel,
      runbooks: r.runbooks,
      groupBy: r.group_by,
      groupWindowMinutes: r.group_window_minutes,
      continue: r.continue,
      notify: r.notify,
      incident: r.incident,
    }),
);

export const snsTopicSchema = strict({
  arn: z
    .string()
    .regex(
      /^arn:aws(?:-cn|-us-gov)?:sns:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/,
      'must be an SNS topic ARN such as arn:aws:sns:eu-west-1:222222222222:checkout-alarms',
    ),
  description: text(500).optional(),
}).transform((t): SnsTopic => compact({ arn: t.arn, description: t.description }));

export const alertChannelSchema = strict({
  channel: slackChannel,
  budget_per_minute: z
    .number()
    .int()
    .min(1)
    .max(600)
    .describe('New alert messages per minute before alerts collapse into a digest.'),
}).transform((c): AlertChannel => ({ channel: c.channel, budgetPerMinute: c.budget_per_minute }));

export const maintenanceWindowSchema = strict({
  id: slug('id'),
  services: list(slugOrAll('service'), 1),
  environments: list(slugOrAll('environment'), 1),
  from: instant,
  to: instant,
  reason: text(500),
})
  .refine((w) => !(Date.parse(w.from) >= Date.parse(w.to)), {
    message: 'must be after `from`',
    path: ['to'],
  })
  .transform(
    (w): MaintenanceWindow => ({
      id: w.id,
      services: w.services,
      environments: w.environments,
      from: Date.parse(w.from),
      to: Date.parse(w.to),
      reason: w.reason,
    }),
  );
