/**
 * The API's request bodies and query strings, validated with zod at the boundary. The
 * same schemas are rendered into the OpenAPI document.
 */
import { z } from 'zod';

const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine(
      (s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s),
      'must not contain control characters',
    );
const slug = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a lower-case slug');

export const LinksBody = z
  .object({
    ticket: text(200).optional(),
    incident: text(200).optional(),
    pr: text(200).optional(),
  })
  .strict();

export const CreateRequestBody = z.union([
  z
    .object({
      text: text(4000).describe(
        'A command in the chat grammar, e.g. "deploy checkout-api prod version=1.4.2 ticket=CHG-1"',
      ),
    })
    .strict(),
  z
    .object({
      command: slug,
      service: slug,
      environment: slug,
      params: z
        .record(z.string().max(64), z.union([text(4096), z.number(), z.boolean()]))
        .default({}),
      links: LinksBody.default({}),
      reason: text(1000).optional(),
      breakGlass: z.boolean().default(false),
    })
    .strict(),
]);

export const ApproveBody = z
  .object({
    digest: z.string().regex(/^[0-9a-f]{64}$/, 'must be the request digest you reviewed'),
    kind: z.enum(['approval', 'window-ack', 'rollback-confirm']).default('approval'),
    confirmation: text(200).optional(),
  })
  .strict();

export const DenyBody = z.object({ reason: text(1000).min(1, 'say why') }).strict();
export const CancelBody = z.object({ reason: text(1000).optional() }).strict();
export const AmendBody = z
  .object({
    params: z.record(z.string().max(64), z.union([text(4096), z.number(), z.boolean()])),
    links: LinksBody.optional(),
  })
  .strict();
export const SettleBody = z
  .object({
    outcome: z.enum(['succeeded', 'failed']),
    note: text(1000).min(1, 'say what you checked'),
  })
  .strict();
export const ExplainBody = z.object({ text: text(4000) }).strict();

export const RequestListQuery = z
  .object({
    state: z
      .string()
      .regex(/^[a-z,]+$/)
      .optional(),
    requester: slug.optional(),
    service: slug.optional(),
    environment: slug.optional(),
    before: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

/** An ISO 8601 date-time with its offset (`2025-06-04T12:00:00Z`), as ms since epoch. */
const isoTime = z.iso
  .datetime({ offset: true, message: 'an ISO 8601 date-time with Z or an offset' })
  .transform((s) => Date.parse(s));
const seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const AuditQuery = z
  .object({
    target: z.string().max(200).optional(),
    actor: z.string().max(200).optional(),
    action: z.string().max(100).optional(),
    /** Entries after this seq (oldest first unless `order=newest`). */
    afterSeq: seq.optional(),
    /** Entries before this seq, newest first: the cursor of the next older page. */
    before: seq.min(1).optional(),
    /** Entries at or after this time. */
    from: isoTime.optional(),
    /** Entries at or before this time. */
    to: isoTime.optional(),
    /** `newest` first, or `oldest` first; default oldest, newest when `before` is given. */
    order: z.enum(['oldest', 'newest']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from is after to',
    path: ['from'],
  })
  .refine((q) => q.before === undefined || q.order !== 'oldest', {
    message: 'before pages newest first; leave order out or set it to newest',
    path: ['order'],
  });

export const RequestIdParam = z.object({
  id: z.string().regex(/^REQ-[0-9A-Za-z]{1,40}$/, 'not a request id'),
});

// ---------------------------------------------------------------------------------------
// Incidents, runbook runs, the review report and the command box

const severity = z.enum(['sev1', 'sev2', 'sev3', 'sev4']);
const note = text(1000).optional();
/** A comma-separated list of values out of `allowed`, e.g. `open,mitigated`. */
const listOf = (allowed: readonly string[]) =>
  z
    .string()
    .max(200)
    .refine(
      (s) => s.split(',').every((v) => allowed.includes(v)),
      `must be a comma-separated list of ${allowed.join(', ')}`,
    )
    .transform((s) => s.split(','));

export const IncidentIdParam = z.object({
  id: z.string().regex(/^INC-[0-9A-Za-z]{1,40}$/, 'not an incident id'),
});
export const RunIdParam = z.object({
  id: z.string().regex(/^RBR-[0-9A-Za-z]{1,40}$/, 'not a runbook run id'),
});
export const RunbookIdParam = z.object({ id: slug });
export const StepParam = RunIdParam.extend({ step: slug });

export const IncidentListQuery = z
  .object({
    status: listOf(['open', 'mitigated', 'resolved']).optional(),
    service: slug.optional(),
    environment: slug.optional(),
    before: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

export const DeclareIncidentBody = z
  .object({
    service: slug,
    environment: slug,
    severity: severity.describe('Proposed severity; sev1 always waits for a confirmation'),
    title: text(200).min(1, 'say what is wrong'),
    runbooks: z.array(slug).max(20).optional(),
  })
  .strict();

export const SeverityBody = z.object({ severity }).strict();
export const EmptyBody = z.object({}).strict();
export const RoleBody = z
  .object({ role: z.enum(['commander', 'scribe', 'responder']), person: slug })
  .strict();
export const StatusUpdateBody = z.object({ text: text(2000).min(1, 'say what changed') }).strict();
export const NoteBody = z.object({ note }).strict();

export const StartRunBody = z
  .object({
    runbook: slug,
    incident: IncidentIdParam.shape.id.optional(),
    ticket: text(200).optional(),
    service: slug.optional(),
    environment: slug.optional(),
  })
  .strict();

export const RunListQuery = z
  .object({
    incident: IncidentIdParam.shape.id.optional(),
    state: listOf(['active', 'completed', 'failed', 'aborted']).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

export const StepBody = z
  .object({
    action: z.enum(['run', 'ack', 'skip', 'choose']),
    branch: slug.optional(),
    reason: text(1000).optional(),
    note,
  })
  .strict();

/** `7d`, `24h`, `90m` back from now, or an ISO 8601 time. */
const instant = z
  .string()
  .max(64)
  .refine(
    (s) => /^\d{1,4}[dhm]$/.test(s) || !Number.isNaN(Date.parse(s)),
    'must be an ISO 8601 time or a duration like 7d, 24h or 90m',
  );
export const ReportQuery = z
  .object({
    since: instant.default('7d').describe('ISO 8601 time, or how far back: 7d, 24h, 90m'),
    until: instant.optional().describe('ISO 8601 time or duration back from now; default now'),
  })
  .strict();

export const CommandBody = z
  .object({
    text: text(4000).describe(
      'One /ops line: a catalog command, incident …, runbook …, help, deny, cancel or status-of',
    ),
  })
  .strict();
