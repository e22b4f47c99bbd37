/**
 * The composition root: the only module that reads the environment and knows every part.
 * `npm start` runs this file (the server); `bin/countersign.mjs` calls `cli()`.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { routeEventFile, testPattern } from './adapters/cli/events-cli.ts';
import { runOps, runPostmortem, runReport } from './adapters/cli/ops-client.ts';
import { buildProgram } from './adapters/cli/program.ts';
import { runbookTestCommand } from './adapters/cli/runbook-cli.ts';
import { LocalExecutor } from './adapters/executors/local-executor.ts';
import { buildApp } from './adapters/http/build-app.ts';
import { CertificateCache } from './adapters/ingest/sns-verify.ts';
import { logAlertChat } from './adapters/log-alert-chat.ts';
import { logIncidentChat } from './adapters/log-incident-chat.ts';
import { logNotifier } from './adapters/log-notifier.ts';
import { createLogger } from './adapters/logger.ts';
import { createMetrics, ingestMetrics, responseMetrics } from './adapters/metrics.ts';
import type { MountedSlack } from './adapters/slack/mount-slack.ts';
import { openStore } from './adapters/store/open-store.ts';
import { createIds, sha256hex, systemClock } from './adapters/system.ts';
import type { AppDeps } from './app/context.ts';
import { auditOf, SYSTEM } from './app/context.ts';
import { IngestPipeline } from './app/ingest-pipeline.ts';
import { OutboxDispatcher } from './app/outbox-dispatcher.ts';
import type { Store } from './app/ports.ts';
import { exportAudit, verifyAudit } from './app/verify-audit.ts';
import { formatCatalogErrors, loadCatalog, loadCatalogOrThrow } from './config/load-catalog.ts';
import { isLoopbackHost, parseSettings, type Settings } from './config/settings.ts';
import type { Catalog } from './domain/catalog.ts';
import { explainRequest } from './domain/explain.ts';
import { parseCommandText } from './domain/grammar.ts';

/** The built web console (`npm run build:web`), beside `src/`. */
const WEB_DIST = resolve(import.meta.dirname, '../web/dist');

export interface Composed {
  deps: AppDeps;
  store: Store;
  catalog: Catalog;
  log: Logger;
}

/** Opens the store and loads the catalog; records the catalog load in the audit log. */
export async function compose(settings: Settings, log: Logger): Promise<Composed> {
  const catalog = await loadCatalogOrThrow(settings.configDir);
  const store = await openStore({
    ...(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : {}),
    dataDir: settings.dataDir,
    sha256: sha256hex,
  });
  const deps: AppDeps = {
    store,
    catalog: { current: () => catalog },
    clock: systemClock,
    ids: createIds(systemClock),
    sha256: sha256hex,
    executor: new LocalExecutor({
      catalogRoot: catalog.root,
      env: { COUNTERSIGN_DEMO_STATE: join(settings.dataDir, 'demo-state.json') },
      maxOutputBytes: settings.maxOutputBytes,
    }),
    notifier: logNotifier(log),
    incidentChat: logIncidentChat(log),
    log,
    limits: { maxOutputBytes: settings.maxOutputBytes, previewTimeoutMs: 10_000 },
  };
  return { deps, store, catalog, log };
}

/** Starts the server and the outbox dispatcher; resolves once listening. */
export async function serve(settings: Settings): Promise<() => Promise<void>> {
  const log = createLogger(settings.logLevel);
  const { deps, store, catalog } = await compose(settings, log);
  await store.transaction((tx) =>
    tx.appendAudit([
      auditOf(SYSTEM, deps.clock.now(), {
        action: 'catalog.loaded',
        target: 'catalog',
        detail: { digest: catalog.digest, folder: settings.configDir },
      }),
    ]),
  );
  // The embedded store belongs to this one process, so a lease left by a killed
  // predecessor can be taken back at once instead of waiting for it to run out.
  if (store.dialect === 'sqlite' && settings.worker) await store.releaseAllLeases();
  const dispatcher = new OutboxDispatcher(deps, { leaseMs: settings.outboxLeaseMs });
  deps.wakeDispatcher = () => dispatcher.wake();
  let ready = false;
  const metrics = createMetrics(store);
  deps.responseMetrics = responseMetrics(metrics);
  const ingest = { ...deps, metrics: ingestMetrics(metrics), chat: logAlertChat(log) };
  const pipeline = new IngestPipeline(ingest, {
    ...(settings.publicUrl ? { consoleUrl: settings.publicUrl } : {}),
  });
  const app = buildApp(deps, {
    bodyLimit: settings.bodyLimit,
    metrics,
    logger: log,
    ready: () => ready,
    hooks: {
      accept: (events) => pipeline.accept(events),
      catalog: deps.catalog,
      clock: deps.clock,
      sha256: deps.sha256,
      log,
      metrics: ingest.metrics,
      ...(settings.ingestToken ? { ingestToken: settings.ingestToken } : {}),
      certs: new CertificateCache(),
    },
    console: {
      host: settings.host,
      sessionTtlMs: settings.sessionTtlMs,
      sessionIdleMs: settings.sessionIdleMs,
      webDist: WEB_DIST,
      ...(settings.publicUrl ? { publicUrl: settings.publicUrl } : {}),
      ...(settings.oidc ? { oidc: settings.oidc } : {}),
    },
  });
  const slack = await withSlack(app, deps, settings, log);
  if (slack) {
    ingest.chat = slack.alertChat;
    deps.incidentChat = slack.incidentChat;
  }
  await app.listen({ port: settings.port, host: settings.host });
  // Handler workers start on first use (about 0.5 s once): a warm one costs ~35 MB at rest.
  if (settings.worker) {
    dispatcher.start();
    await pipeline.start();
  }
  ready = true;
  log.info(
    {
      url: `http://${settings.host}:${settings.port}`,
      catalog: catalog.digest,
      store: store.dialect,
      console: settings.oidc
        ? `sign-in through ${settings.oidc.issuer}`
        : isLoopbackHost(settings.host)
          ? 'demo sign-in (loopback only)'
          : 'no sign-in: set COUNTERSIGN_OIDC_ISSUER, _CLIENT_ID and _CLIENT_SECRET',
    },
    'countersign is up',
  );
  return async () => {
    ready = false;
    await app.close();
    await pipeline.stop();
    await dispatcher.stop();
    await slack?.stop();
    await deps.executor.close?.();
    await store.close();
  };
}

/**
 * Mounts Slack when its secrets are set — over Socket Mode when SLACK_APP_TOKEN is, else at
 * /slack/events — and starts it; notifications then go to Slack and the log. Its modules
 * load only then, so a server without Slack does not carry them.
 */
async function withSlack(
  app: ReturnType<typeof buildApp>,
  deps: AppDeps,
  settings: Settings,
  log: Logger,
): Promise<MountedSlack | undefined> {
  const { signingSecret, botToken, appToken, apiUrl, appId, teamId } = settings.slack;
  if (!botToken || (!signingSecret && !appToken)) {
    log.info(
      'Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) to turn it on',
    );
    return undefined;
  }
  const { allNotifiers, mountSlack } = await import('./adapters/slack/mount-slack.ts');
  const slack = mountSlack(
    app,
    deps,
    {
      ...(appToken ? { appToken: appToken.reveal() } : { signingSecret: signingSecret?.reveal() }),
      botToken: botToken.reveal(),
      bodyLimit: settings.bodyLimit,
      ...(apiUrl ? { apiUrl } : {}),
      ...(appId ? { appId } : {}),
      ...(teamId ? { teamId } : {}),
      ...(settings.publicUrl ? { consoleUrl: settings.publicUrl } : {}),
    },
    log,
  );
  await slack.start().catch((err: Error) => {
    throw new Error(`SLACK_APP_TOKEN: ${err.message}`);
  });
  log.info({ transport: slack.transport }, 'Slack is on');
  deps.notifier = allNotifiers(deps.notifier, slack.notifier);
  return slack;
}

function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

function loadSettings(): Settings {
  return parseSettings(process.env, process.cwd());
}

/** Composes a store-only context for CLI commands; closes it afterwards. */
async function withComposed<T>(fn: (c: Composed) => Promise<T>): Promise<T> {
  const settings = loadSettings();
  const c = await compose(settings, createLogger('silent'));
  try {
    return await fn(c);
  } finally {
    await c.deps.executor.close?.();
    await c.store.close();
  }
}

const print = (line: string) => process.stdout.write(`${line}\n`);
const printer = { out: print, err: (line: string) => process.stderr.write(`${line}\n`) };

export async function cli(argv: string[]): Promise<void> {
  const program = buildProgram(
    {
      serve: async () => stopOnSignals(await serve(loadSettings())),
      validateConfig: async (folder) => {
        const { errors, catalog } = await loadCatalog(folder);
        if (errors.length > 0) {
          process.stderr.write(`${formatCatalogErrors(errors)}\n${errors.length} error(s)\n`);
          return 1;
        }
        print(`ok: ${folder} is valid (digest ${catalog?.digest})`);
        return 0;
      },
      verifyAudit: () =>
        withComposed(async ({ store }) => {
          const started = performance.now();
          const report = await verifyAudit(store, sha256hex);
          const seconds = (performance.now() - started) / 1000;
          print(`${report.ok ? 'ok' : 'BROKEN'}: ${report.message} in ${seconds.toFixed(2)} s`);
          return report.ok ? 0 : 1;
        }),
      exportAudit: (outFile) =>
        withComposed(async ({ store }) => {
          const out = outFile ? createWriteStream(outFile) : process.stdout;
          const n = await exportAudit(store, async (line) => {
            if (!out.write(line)) await once(out, 'drain');
          });
          if (outFile)
            await new Promise<void>((r) => (out as ReturnType<typeof createWriteStream>).end(r));
          process.stderr.write(`exported ${n} entries\n`);
          return 0;
        }),
      explain: async (text, as, json) => {
        const settings = loadSettings();
        const catalog = await loadCatalogOrThrow(settings.configDir);
        const person = catalog.people.find((p) => p.id === as);
        if (!person) {
          process.stderr.write(`error: no person "${as}" in the catalog\n`);
          return 2;
        }
        const parsed = parseCommandText(text);
        if (!parsed.ok || parsed.value.kind !== 'action') {
          process.stderr.write(
            `error: ${parsed.ok ? 'not a catalog command' : parsed.error.message}\n`,
          );
          return 2;
        }
        const e = explainRequest(catalog, person, parsed.value, Date.now());
        print(json ? JSON.stringify(e, null, 2) : formatExplanation(e));
        return e.allowed ? 0 : 1;
      },
      runbookTest: (runbook, o) => {
        const settings = loadSettings();
        return runbookTestCommand(runbook, o, {
          defaultConfigDir: settings.configDir,
          loadCatalog: loadCatalogOrThrow,
          // Its own demo state, so a test walk never changes what the server shows.
          executorFor: (catalog) =>
            new LocalExecutor({
              catalogRoot: catalog.root,
              env: { COUNTERSIGN_DEMO_STATE: join(settings.dataDir, 'runbook-test-state.json') },
              maxOutputBytes: settings.maxOutputBytes,
            }),
          clock: systemClock,
          printer,
        });
      },
      report: (o) =>
        withToken(o, (token) =>
          runReport({
            url: o.url,
            token,
            ...(o.since ? { since: o.since } : {}),
            ...(o.until ? { until: o.until } : {}),
            json: o.json,
            out: print,
          }),
        ),
      postmortem: (id, o) =>
        withToken(o, (token) =>
          runPostmortem(id, {
            url: o.url,
            token,
            ...(o.out ? { outFile: o.out } : {}),
            out: print,
          }),
        ),
      testPattern: (pattern, event, explain) => testPattern(pattern, event, { explain }, printer),
      routeEvent: async (event) => {
        const catalog = await loadCatalogOrThrow(loadSettings().configDir);
        return routeEventFile(catalog, event, printer);
      },
      ops: (text, o) => {
        const token = o.token ?? process.env.COUNTERSIGN_TOKEN;
        if (!token) {
          process.stderr.write('error: pass --token or set COUNTERSIGN_TOKEN\n');
          return Promise.resolve(2);
        }
        return runOps(text, {
          url: o.url,
          token,
          kind: o.kind,
          ...(o.confirm ? { confirm: o.confirm } : {}),
          out: print,
        });
      },
    },
    (code) => {
      process.exitCode = code;
    },
  );
  await program.parseAsync(argv);
}

/** Runs `run` with the token from --token or COUNTERSIGN_TOKEN; exit 2 without one. */
function withToken(
  o: { token?: string },
  run: (token: string) => Promise<number>,
): Promise<number> {
  const token = o.token ?? process.env.COUNTERSIGN_TOKEN;
  if (!token) {
    process.stderr.write('error: pass --token or set COUNTERSIGN_TOKEN\n');
    return Promise.resolve(2);
  }
  return run(token);
}

function formatExplanation(e: ReturnType<typeof explainRequest>): string {
  const lines = [e.allowed ? 'allowed' : 'refused'];
  for (const r of e.refusals) lines.push(`  why not: ${r}`);
  if (e.class) lines.push(`class: ${e.class}${e.policy ? `, policy ${e.policy}` : ''}`);
  if (e.window) lines.push(`change window: ${e.window.status}`);
  if (e.runsAtOnce) lines.push('runs at once');
  for (const q of e.requirements) {
    lines.push(
      `needs ${q.count} ${q.kind} (${q.because}) from: ${q.eligible.join(', ') || 'nobody'}`,
    );
  }
  return lines.join('\n');
}

const isEntry = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  try {
    stopOnSignals(await serve(loadSettings()));
  } catch (err) {
    process.stderr.write(`countersign: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
