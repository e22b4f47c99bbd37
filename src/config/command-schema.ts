/**
 * The schema of one command: parameters, handler, preview and rollback. YAML keys are
 * snake_case; the output is the domain's `Command` with its defaults applied (timeout
 * 60 s, not idempotent, no confirmations, output to the channel; parameters required,
 * not sensitive, at most 256 characters). Part of `catalog-schema.ts`.
 */
import * as z from 'zod';
import type {
  Command,
  CommandClass,
  HandlerRef,
  ParamSpec,
  RollbackPlan,
} from '../domain/catalog.ts';
import { compact, label, list, owningTeam, slug, strict, text } from './schema-fields.ts';

const COMMAND_CLASSES: readonly [CommandClass, ...CommandClass[]] = [
  'read-only',
  'mutating',
  'destructive',
];
export const commandClass = z.enum(COMMAND_CLASSES);

// ── commands ─────────────────────────────────────────────────────────────────────────

/** Names the chat grammar keeps for itself (`ticket=…`, `reason="…"`). */
const RESERVED_PARAMS = new Set(['ticket', 'incident', 'pr', 'reason']);

const paramBase = strict({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits or _'),
  type: z.enum(['string', 'integer', 'boolean', 'semver', 'enum']),
  required: z.boolean().default(true),
  description: text(500).optional(),
  pattern: z.string().min(1).max(500).optional(),
  max_length: z.number().int().min(1).max(65_536).default(256),
  values: list(label(100), 1).optional(),
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  sensitive: z.boolean().default(false),
});

/** Each type takes only its own options: a `pattern` on an integer is a mistake. */
function checkParam(p: z.output<typeof paramBase>, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) =>
    ctx.addIssue({ code: 'custom', message, path: [path] });
  if (RESERVED_PARAMS.has(p.name)) issue('name', `"${p.name}" is reserved by the chat grammar`);
  if (p.pattern !== undefined && p.type !== 'string') issue('pattern', 'only a string has one');
  if (p.pattern !== undefined && !compiles(p.pattern)) issue('pattern', 'not a valid regex');
  if (p.type === 'enum' && p.values === undefined) issue('type', 'an enum needs `values`');
  if (p.values !== undefined && p.type !== 'enum') issue('values', 'only an enum has them');
  for (const bound of ['min', 'max'] as const) {
    if (p[bound] !== undefined && p.type !== 'integer') issue(bound, 'only an integer has one');
  }
  if (p.min !== undefined && p.max !== undefined && p.min > p.max) issue('max', 'less than min');
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

export const paramSchema = paramBase.superRefine(checkParam).transform(
  (p): ParamSpec =>
    compact({
      name: p.name,
      type: p.type,
      required: p.required,
      description: p.description,
      pattern: p.pattern,
      maxLength: p.max_length,
      values: p.values,
      min: p.min,
      max: p.max,
      sensitive: p.sensitive,
    }),
);

/** A path inside the catalog folder: relative, `/`-separated, never climbing out. */
const relativePath = (ext: RegExp, what: string) =>
  z
    .string()
    .max(300)
    .regex(
      /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))(?!.*\/\/)[A-Za-z0-9._/-]+$/,
      'must be a relative path inside the catalog folder (no "..", no leading "/")',
    )
    .regex(ext, `must name ${what}`);
const modulePath = relativePath(/\.(?:ts|mts|js|mjs)$/, 'a .ts, .mts, .js or .mjs module');

/** `{ module, export }` (default export name `handler`) or `{ state_machine, handlers }`. */
export const handlerSchema = strict(
  {
    module: modulePath.optional(),
    export: z
      .string()
      .regex(/^[A-Za-z_$][A-Za-z0-9_$]{0,100}$/, 'must be a JavaScript identifier')
      .optional(),
    state_machine: relativePath(/\.json$/, 'an ASL .json file').optional(),
    handlers: modulePath.optional(),
  },
  'a handler is { module: <path>, export: <name> } or { state_machine: <path> }',
)
  .superRefine((h, ctx) => {
    const issue = (message: string, path: string[] = []) =>
      ctx.addIssue({ code: 'custom', message, path });
    if ((h.module === undefined) === (h.state_machine === undefined)) {
      issue('give exactly one of `module` or `state_machine`');
    }
    if (h.export !== undefined && h.module === undefined)
      issue('only a module has one', ['export']);
    if (h.handlers !== undefined && h.module !== undefined) {
      issue('only a state machine has them', ['handlers']);
    }
  })
  .transform(
    (h): HandlerRef =>
      h.module !== undefined
        ? { kind: 'lambda-module', module: h.module, export: h.export ?? 'handler' }
        : compact({
            kind: 'state-machine',
            definition: h.state_machine ?? '',
            handlers: h.handlers,
          }),
  );

/** `{ command: <id> }` or `{ none: "<reason>" }`. */
export const rollbackSchema = strict(
  { command: slug('command').optional(), none: text(500).optional() },
  'a rollback is { command: <id> } or { none: "<reason>" }',
)
  .refine(
    (r) => (r.command === undefined) !== (r.none === undefined),
    'give exactly one of `command` or `none: "<reason>"`',
  )
  .transform(
    (r): RollbackPlan =>
      r.command !== undefined ? { command: r.command } : { none: r.none ?? '' },
  );

export const commandSchema = strict({
  id: slug('id'),
  team: owningTeam('command').describe('The owning team (required).'),
  description: text(1000),
  class: commandClass.describe(
    'read-only runs at once; mutating goes through policy; destructive also needs two approvers.',
  ),
  params: z.array(paramSchema).default([]),
  handler: handlerSchema,
  preview: handlerSchema
    .optional()
    .describe('A read-only handler that says what the command would change.'),
  rollback: rollbackSchema
    .optional()
    .describe('Required unless read-only: { command: <id> } or { none: "<reason>" }.'),
  timeout_seconds: z.number().int().min(1).max(86_400).default(60).describe('Seconds per run.'),
  idempotent: z.boolean().default(false).describe('Safe to run again after a crash mid-call.'),
  confirmations: list(z.enum(['approval', 'window-ack', 'rollback-confirm'])).default([]),
  output: z.enum(['channel', 'requester']).default('channel'),
})
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.params.forEach((p, i) => {
      if (seen.has(p.name)) {
        ctx.addIssue({ code: 'custom', message: 'parameter named twice', path: ['params', i] });
      }
      seen.add(p.name);
    });
  })
  .transform(
    (c): Command =>
      compact({
        id: c.id,
        team: c.team,
        description: c.description,
        class: c.class,
        params: c.params,
        handler: c.handler,
        preview: c.preview,
        rollback: c.rollback,
        timeoutSeconds: c.timeout_seconds,
        idempotent: c.idempotent,
        confirmations: c.confirmations,
        output: c.output,
      }),
  );
