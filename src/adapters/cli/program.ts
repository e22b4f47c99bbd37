/**
 * The `countersign` command line. It only parses arguments and prints; the work is done
 * by the actions the composition root hands in, over the same settings as the server.
 */
import { Command, Option } from 'commander';
import { type RunbookCliActions, registerRunbookCommands } from './runbook-cli.ts';

/** Where the server is: `--url` (default http://127.0.0.1:8080) and `--token` (default: $COUNTERSIGN_TOKEN). */
export interface ServerCliOptions {
  url: string;
  token?: string;
}

export interface OpsCliOptions extends ServerCliOptions {
  confirm?: string;
  kind: 'approval' | 'window-ack' | 'rollback-confirm';
}

export interface ReportCliOptions extends ServerCliOptions {
  /** ISO 8601 time or a duration back from now (`7d`, `24h`, `90m`); default 7d. */
  since?: string;
  until?: string;
  json: boolean;
}

export interface PostmortemCliOptions extends ServerCliOptions {
  /** Write the Markdown here instead of standard output. */
  out?: string;
}

/** `runbookTest` comes from `RunbookCliActions` (runbook-cli.ts). */
export interface CliActions extends RunbookCliActions {
  serve(): Promise<void>;
  validateConfig(folder: string): Promise<number>;
  verifyAudit(): Promise<number>;
  exportAudit(outFile?: string): Promise<number>;
  explain(text: string, as: string, json: boolean): Promise<number>;
  ops(text: string, opts: OpsCliOptions): Promise<number>;
  report(opts: ReportCliOptions): Promise<number>;
  postmortem(incidentId: string, opts: PostmortemCliOptions): Promise<number>;
  testPattern(patternFile: string, eventFile: string, explain: boolean): Promise<number>;
  routeEvent(eventFile: string): Promise<number>;
}

/**
 * Re-quotes words the shell split out of quotes: `reason=two words` → `reason="two words"`.
 * A word with spaces that is not `name=value` is a whole line passed as one argument
 * (`countersign ops "deploy checkout-api prod …"`) and is kept as it is.
 */
export function joinWords(words: readonly string[]): string {
  return words
    .map((w) => {
      const m = /^([a-z][a-z0-9_-]*=)([\s\S]*)$/.exec(w);
      if (!/\s/.test(w) || !m) return w;
      return `${m[1]}"${(m[2] ?? '').replace(/["\\]/g, '\\$&')}"`;
    })
    .join(' ');
}

const DEFAULT_URL = 'http://127.0.0.1:8080';
const TOKEN_HELP = 'API token (default: $COUNTERSIGN_TOKEN)';

/** `--url` and `--token`, for a command that talks to a running server. */
const server = (c: Command) =>
  c.option('--url <url>', 'server URL', DEFAULT_URL).option('--token <token>', TOKEN_HELP);

/** `report` and `incident postmortem`. */
function addResponseCommands(
  program: Command,
  actions: CliActions,
  exitWith: (p: Promise<number>) => Promise<void>,
): void {
  server(program.command('report'))
    .option('--since <when>', 'ISO 8601 time, or how far back: 7d, 24h, 90m', '7d')
    .option('--until <when>', 'ISO 8601 time, or how far back (default: now)')
    .option('--json', 'print JSON')
    .description('the review report: requests, approvals, incidents and runbook runs in a window')
    .action((o: Omit<ReportCliOptions, 'json'> & { json?: boolean }) =>
      exitWith(actions.report({ ...o, json: o.json ?? false })),
    );

  server(
    program
      .command('incident')
      .description('incidents (the other verbs: countersign ops incident …)')
      .command('postmortem'),
  )
    .argument('<id>', 'the incident id, INC-…')
    .option('-o, --out <file>', 'write the Markdown to a file instead of standard output')
    .description('a postmortem draft from the timeline, requests and runbook runs (Markdown)')
    .action((id: string, o: PostmortemCliOptions) => exitWith(actions.postmortem(id, o)));
}

export function buildProgram(actions: CliActions, setExit: (code: number) => void): Command {
  const program = new Command('countersign')
    .description('ChatOps control plane: approvals bound to the exact request, run once, audited.')
    .showHelpAfterError()
    // A usage error (missing argument, unknown option) exits 2, as a grammar error in `ops`
    // does, so scripts can tell it from a refusal (1); help and --version still exit 0.
    // Set before the subcommands are added, which inherit it.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  const exitWith = (p: Promise<number>) => p.then(setExit);

  program
    .command('serve')
    .description('run the server (same as npm start)')
    .action(() => actions.serve());

  const config = program.command('config').description('the catalog (config as code)');
  config
    .command('validate')
    .argument('<folder>', 'catalog folder')
    .description('check a catalog folder and print every error with file and line')
    .action((folder: string) => exitWith(actions.validateConfig(folder)));

  const audit = program.command('audit').description('the hash-chained audit log');
  audit
    .command('verify')
    .description('check the whole chain; names the first changed, removed or reordered entry')
    .action(() => exitWith(actions.verifyAudit()));
  audit
    .command('export')
    .option('-o, --out <file>', 'write to a file instead of standard output')
    .description('write every entry as JSON Lines, oldest first')
    .action((o: { out?: string }) => exitWith(actions.exportAudit(o.out)));

  program
    .command('policy')
    .description('policies as code')
    .command('explain')
    .argument(
      '<request...>',
      'a request in the chat grammar, e.g. deploy checkout-api prod version=1.4.2 ticket=CHG-1',
    )
    .requiredOption('--as <person>', 'the person asking')
    .option('--json', 'print JSON')
    .description('say what a request would need, without acting')
    .action((words: string[], o: { as: string; json?: boolean }) =>
      exitWith(actions.explain(joinWords(words), o.as, o.json ?? false)),
    );

  program
    .command('ops')
    .argument(
      '<words...>',
      'the chat grammar: <command> <service> <environment> [name=value …] | approve|deny|cancel <id> | incident … | runbook … | help',
    )
    .option('--url <url>', 'server URL', DEFAULT_URL)
    .option('--token <token>', TOKEN_HELP)
    .option('--confirm <target>', 'for a destructive approval: type <service>/<environment>')
    .addOption(
      new Option('--kind <kind>', 'which sign-off approve gives')
        .choices(['approval', 'window-ack', 'rollback-confirm'])
        .default('approval'),
    )
    .description('act against a running server, as in chat')
    .action((words: string[], o: OpsCliOptions) => exitWith(actions.ops(joinWords(words), o)));
  addResponseCommands(program, actions, exitWith);
  registerRunbookCommands(program, actions, setExit);
  const events = program.command('events').description('EventBridge patterns and routes');
  events
    .command('test-pattern')
    .requiredOption('--pattern <file>', 'an EventBridge event pattern (JSON)')
    .requiredOption('--event <file>', 'an event (JSON)')
    .option('--explain', 'say which fields matched and which did not')
    .description('print true or false (exit 0 / 1), like aws events test-event-pattern')
    .action((o: { pattern: string; event: string; explain?: boolean }) =>
      exitWith(actions.testPattern(o.pattern, o.event, o.explain ?? false)),
    );
  events
    .command('route')
    .requiredOption('--event <file>', 'an EventBridge event (JSON)')
    .description("show which of the catalog's routes the event takes, and why")
    .action((o: { event: string }) => exitWith(actions.routeEvent(o.event)));
  return program;
}
