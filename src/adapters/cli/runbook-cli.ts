/**
 * `countersign runbook test <runbook>`: walks a runbook of a catalog folder against the
 * local executor with scripted answers, printing one line per step. Exit 0 when the run
 * completes, 1 when it fails or the walk stops (a missing answer, a loop), 2 on a usage
 * error: an unknown runbook, service or environment, a catalog that does not load, or a
 * malformed script.
 *
 * Answers come from `--script <file>` (YAML or JSON) and `--answer step=value` (repeatable;
 * they replace the file's answers for that step, and several for one step are used one
 * per visit). Command steps run their handlers for real, as if approved.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import type { Clock, Executor } from '../../app/ports.ts';
import { type RunbookScript, type ScriptAnswer, testRunbook } from '../../app/test-runbook.ts';
import type { Catalog } from '../../domain/catalog.ts';
import type { Printer } from './events-cli.ts';

/** The options of `runbook test`, as commander parses them. */
export interface RunbookTestCliOptions {
  /** The catalog folder; default the settings' (COUNTERSIGN_CONFIG, else examples/demo). */
  config?: string;
  script?: string;
  /** `step=value` pairs, in the order given. */
  answer?: string[];
  service?: string;
  environment?: string;
  incident?: string;
  /** Who the walk acts as (operator and requester). Default `runbook-test`. */
  as?: string;
}

/** What the composition root hands in. */
export interface RunbookCliDeps {
  /** The folder used without `--config`. */
  defaultConfigDir: string;
  /** Loads and checks a catalog folder; throws an Error listing every problem. */
  loadCatalog(folder: string): Promise<Catalog>;
  /** The executor for the catalog's handlers (the local one); closed after the walk. */
  executorFor(catalog: Catalog): Executor;
  clock: Clock;
  printer: Printer;
}

export interface RunbookCliActions {
  runbookTest(runbook: string, o: RunbookTestCliOptions): Promise<number>;
}

/** Adds `runbook test` to the program (and the `runbook` group, unless it exists). */
export function registerRunbookCommands(
  program: Command,
  actions: RunbookCliActions,
  setExit: (code: number) => void,
): void {
  const runbook =
    program.commands.find((c) => c.name() === 'runbook') ??
    program.command('runbook').description('guided runbooks');
  runbook
    .command('test')
    .argument('<runbook>', 'runbook id')
    .option('--config <folder>', 'catalog folder (default: $COUNTERSIGN_CONFIG or examples/demo)')
    .option(
      '--script <file>',
      'answers, YAML or JSON: { service?, environment?, incident?, answers: { <step>: <answer> } }',
    )
    .option(
      '--answer <step=value>',
      'an answer (repeatable): ack, ok, timeout, fail, skip:<reason>, choose:<branch> or a branch id',
      (value: string, all: string[] = []) => [...all, value],
    )
    .option('--service <id>', "default: the script's, else the runbook's first service")
    .option('--environment <name>', "default: the script's, else the service's first")
    .option('--incident <id>', 'fills {{incident}}')
    .option('--as <person>', 'who the walk acts as (default: runbook-test)')
    .description(
      'walk a runbook with scripted answers; commands run for real on the local executor, approvals assumed',
    )
    .action((id: string, o: RunbookTestCliOptions) => actions.runbookTest(id, o).then(setExit));
}

/** Runs `runbook test`; returns the exit code. */
export async function runbookTestCommand(
  runbookId: string,
  o: RunbookTestCliOptions,
  deps: RunbookCliDeps,
): Promise<number> {
  const { printer } = deps;
  let script: RunbookScript;
  let catalog: Catalog;
  try {
    script = await readScript(o);
    catalog = await deps.loadCatalog(o.config ?? deps.defaultConfigDir);
  } catch (err) {
    printer.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const executor = deps.executorFor(catalog);
  try {
    const result = await testRunbook({ catalog, executor, clock: deps.clock }, runbookId, script, {
      ...(o.as ? { as: o.as } : {}),
      onLine: printer.out,
    });
    if (!result.ok) {
      printer.err(`error: ${result.error.message}`);
      return 2;
    }
    return result.value.ok ? 0 : 1;
  } finally {
    await executor.close?.();
  }
}

// ── the script ───────────────────────────────────────────────────────────────────────

/** Largest script file read, in bytes. */
const MAX_SCRIPT_BYTES = 256 * 1024;

const ANSWER_HELP =
  'an answer is ack, ok, timeout, { choose: <branch> }, { skip: <reason> } or { fail: true }';
const nonEmpty = z.string().trim().min(1).max(1000);
const answer = z.union(
  [
    z.enum(['ack', 'ok', 'timeout']),
    z.strictObject({ choose: nonEmpty }),
    z.strictObject({ skip: nonEmpty }),
    z.strictObject({ fail: z.literal(true) }),
  ],
  { error: ANSWER_HELP },
);
const scriptSchema = z.strictObject(
  {
    service: nonEmpty.optional(),
    environment: nonEmpty.optional(),
    incident: nonEmpty.optional(),
    answers: z
      .record(z.string(), z.union([answer, z.array(answer).min(1)], { error: ANSWER_HELP }))
      .default({}),
  },
  { error: (i) => (i.code === 'invalid_type' ? 'the script must be a mapping' : undefined) },
);

/** The script from `--script`, then `--answer` and the target options over it. */
async function readScript(o: RunbookTestCliOptions): Promise<RunbookScript> {
  const base = o.script ? await readScriptFile(o.script) : {};
  const inline = inlineAnswers(o.answer ?? []);
  const merged = mergeScript(base, inline, o);
  const parsed = scriptSchema.safeParse(merged);
  if (!parsed.success) {
    const where = o.script ? `script ${o.script}` : 'answers';
    const issues = parsed.error.issues.map((i) => {
      const path = i.path.map(String).join('.');
      return path ? `${path}: ${i.message}` : i.message;
    });
    throw new Error(`${where}: ${issues.join('; ')}`);
  }
  return parsed.data as RunbookScript;
}

async function readScriptFile(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read script ${file}: ${err.message}`);
  });
  if (Buffer.byteLength(text) > MAX_SCRIPT_BYTES) {
    throw new Error(`script ${file} is larger than ${MAX_SCRIPT_BYTES / 1024} KB`);
  }
  try {
    return parseYaml(text, { maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw new Error(`script ${file} is not YAML or JSON: ${(err as Error).message}`);
  }
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function mergeScript(
  base: unknown,
  inline: Record<string, ScriptAnswer[]>,
  o: RunbookTestCliOptions,
): unknown {
  if (!isMap(base)) return base;
  const given = Object.fromEntries(
    Object.entries(inline).map(([step, list]) => [step, list.length === 1 ? list[0] : list]),
  );
  const answers =
    base.answers === undefined || isMap(base.answers)
      ? { ...base.answers, ...given }
      : base.answers;
  return {
    ...base,
    ...(o.service ? { service: o.service } : {}),
    ...(o.environment ? { environment: o.environment } : {}),
    ...(o.incident ? { incident: o.incident } : {}),
    answers,
  };
}

/** `look=ack`, `wait=timeout`, `roll-back=fail`, `look=skip:seen it`, `cause=choose:rollback`, `cause=rollback`. */
function inlineAnswers(pairs: readonly string[]): Record<string, ScriptAnswer[]> {
  const out: Record<string, ScriptAnswer[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const step = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (eq <= 0 || value === '') {
      throw new Error(`--answer ${JSON.stringify(pair)}: write step=value, e.g. cause=rollback`);
    }
    out[step] = [...(out[step] ?? []), inlineAnswer(value)];
  }
  return out;
}

function inlineAnswer(value: string): ScriptAnswer {
  if (value === 'ack' || value === 'ok' || value === 'timeout') return value;
  if (value === 'fail') return { fail: true };
  if (value.startsWith('skip:')) return { skip: value.slice(5).trim() };
  if (value.startsWith('choose:')) return { choose: value.slice(7).trim() };
  return { choose: value };
}
