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

export const AuditQuery = z
  .object({
    target: z.string().max(200).optional(),
    actor: z.string().max(200).optional(),
    action: z.string().max(100).optional(),
    afterSeq: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

export const RequestIdParam = z.object({
  id: z.string().regex(/^REQ-[0-9A-Za-z]{1,40}$/, 'not a request id'),
});
