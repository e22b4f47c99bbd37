/**
 * An app wired as `main.ts` wires it — real store (SQLite in a temp folder, or PostgreSQL),
 * the demo catalog, the local executor running the demo handlers — but with a clock the test
 * controls and no socket: requests go through Fastify's `inject()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { LocalExecutor } from '../../src/adapters/executors/local-executor.ts';
import { buildApp } from '../../src/adapters/http/build-app.ts';
import type { ConsoleOptions } from '../../src/adapters/http/console-mount.ts';
import type { HookDeps } from '../../src/adapters/http/hook-routes.ts';
import { CertificateCache } from '../../src/adapters/ingest/sns-verify.ts';
import { logNotifier } from '../../src/adapters/log-notifier.ts';
import { createLogger } from '../../src/adapters/logger.ts';
import { allNotifiers, mountSlack } from '../../src/adapters/slack/mount-slack.ts';
import { openStore } from '../../src/adapters/store/open-store.ts';
import { createIds, sha256hex } from '../../src/adapters/system.ts';
import type { AppDeps, Log } from '../../src/app/context.ts';
import { IngestPipeline } from '../../src/app/ingest-pipeline.ts';
import type { AlertChat } from '../../src/app/ingest-ports.ts';
import { OutboxDispatcher } from '../../src/app/outbox-dispatcher.ts';
import type { CatalogSource, Notifier, Store } from '../../src/app/ports.ts';
import { loadCatalogOrThrow } from '../../src/config/load-catalog.ts';
import type { AlertGroupView, DigestView } from '../../src/domain/alert-model.ts';
import type { Catalog } from '../../src/domain/catalog.ts';
import { SLACK_TEST } from './slack.ts';

export const DEMO_DIR = resolve(import.meta.dirname, '../../examples/demo');

/** Wednesday 2026-11-25 12:00 UTC: inside the demo's prod change window. */
export const WEDNESDAY_NOON = Date.UTC(2026, 10, 25, 12, 0);
/** Saturday 2026-11-28 12:00 UTC: outside it. */
export const SATURDAY_NOON = Date.UTC(2026, 10, 28, 12, 0);

export class TestClock {
  constructor(public t: number) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
  json: any;
  headers: Record<string, unknown>;
}

/** The ingest token every harness accepts on /hooks/*. */
export const INGEST_TOKEN = 'cs_ingest_test_token_0123456789';

/** What the harness's own alert chat was asked to show (when Slack is not mounted). */
export interface ShownAlert {
  kind: 'group' | 'digest';
  id: string;
  view: AlertGroupView | DigestView;
}

export interface Harness {
  deps: AppDeps;
  pipeline: IngestPipeline;
  /** Alert messages shown, in order (only without Slack). */
  shown: ShownAlert[];
  /** POSTs a JSON body to a hook with the ingest token (override headers to test auth). */
  hook(path: string, body: unknown, headers?: Record<string, string>): Promise<Answer>;
  app: FastifyInstance;
  store: Store;
  clock: TestClock;
  dispatcher: OutboxDispatcher;
  dataDir: string;
  notifications: Parameters<Notifier['notify']>[0][];
  api(
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    as: string | undefined,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Answer>;
  close(): Promise<void>;
}

/** What a test's own notifier is built from (the `notifier` option). */
export interface NotifierParts {
  store: Store;
  catalog: CatalogSource;
  clock: TestClock;
  log: Log;
}

export async function harness(
  opts: {
    databaseUrl?: string;
    catalog?: Catalog;
    at?: number;
    /**
     * The catalog in force, asked on every use, so a test can swap it (a reload) while
     * requests are in flight. Overrides `catalog`; its first answer picks the executor's root.
     */
    catalogSource?: CatalogSource;
    /**
     * Builds the notifier the app uses from the harness's parts, instead of the log
     * notifier. Notifications are still recorded in `notifications` first.
     */
    notifier?: (parts: NotifierParts) => Notifier;
    /**
     * Mounts Slack at /slack/events (signing secret and bot token from SLACK_TEST) with its
     * Web API pointed at `apiUrl`; notifications then also go to Slack.
     */
    slack?: { apiUrl: string };
    /** Where SNS signing certificates come from (see test/support/sns.ts). */
    snsCerts?: HookDeps['certs'];
    snsHttps?: HookDeps['snsHttps'];
    /** The alert chat the pipeline shows messages on, instead of recording them in `shown`
     * (e.g. one that hangs, to show the hooks do not wait for chat). */
    alertChat?: AlertChat;
    /** The web console's options; default a loopback host (demo sign-in) and no built pages. */
    console?: Partial<ConsoleOptions>;
  } = {},
): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-test-'));
  const clock = new TestClock(opts.at ?? WEDNESDAY_NOON);
  const catalog =
    opts.catalogSource?.current() ?? opts.catalog ?? (await loadCatalogOrThrow(DEMO_DIR));
  const store = await openStore({
    ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    dataDir,
    sha256: sha256hex,
    clock,
  });
  const log = createLogger('silent');
  const notifications: Harness['notifications'] = [];
  const catalogSource = opts.catalogSource ?? { current: () => catalog };
  const inner = opts.notifier
    ? opts.notifier({ store, catalog: catalogSource, clock, log })
    : logNotifier(log);
  const deps: AppDeps = {
    store,
    catalog: catalogSource,
    clock,
    ids: createIds(clock),
    sha256: sha256hex,
    executor: new LocalExecutor({
      catalogRoot: catalog.root,
      env: { COUNTERSIGN_DEMO_STATE: join(dataDir, 'demo-state.json') },
    }),
    notifier: {
      async notify(e) {
        notifications.push(e);
        await inner.notify(e);
      },
    },
    log,
    limits: { maxOutputBytes: 65_536, previewTimeoutMs: 10_000 },
  };
  const dispatcher = new OutboxDispatcher(deps, { leaseMs: 5_000 });
  const shown: ShownAlert[] = [];
  const recordingChat: AlertChat = {
    async showGroup(id, view) {
      shown.push({ kind: 'group', id, view });
    },
    async showDigest(id, view) {
      shown.push({ kind: 'digest', id, view });
    },
  };
  const ingest = { ...deps, chat: opts.alertChat ?? recordingChat };
  const pipeline = new IngestPipeline(ingest, { syncPollMs: 50 });
  const app = buildApp(deps, {
    bodyLimit: 1_048_576,
    metrics: new Registry(),
    logger: log,
    ready: () => true,
    hooks: {
      accept: (events) => pipeline.accept(events),
      catalog: catalogSource,
      clock,
      sha256: sha256hex,
      log,
      ingestToken: { reveal: () => INGEST_TOKEN },
      certs: opts.snsCerts ?? new CertificateCache({ timeoutMs: 200 }),
      ...(opts.snsHttps ? { snsHttps: opts.snsHttps } : {}),
    },
    console: { host: '127.0.0.1', ...opts.console },
  });
  const slack = opts.slack
    ? mountSlack(
        app,
        deps,
        {
          signingSecret: SLACK_TEST.signingSecret,
          botToken: SLACK_TEST.botToken,
          apiUrl: opts.slack.apiUrl,
          bodyLimit: 1_048_576,
          minIntervalMs: 0,
        },
        log,
      )
    : undefined;
  if (slack) {
    deps.notifier = allNotifiers(deps.notifier, slack.notifier);
    ingest.chat = slack.alertChat;
  }
  await app.ready();
  const inject = async (
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<Answer> => {
    const res = await app.inject({
      method,
      url,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined
        ? {}
        : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    let json: unknown;
    try {
      json = res.json();
    } catch {
      json = res.body;
    }
    return { status: res.statusCode, json, headers: res.headers };
  };
  return {
    deps,
    app,
    store,
    clock,
    dispatcher,
    dataDir,
    notifications,
    pipeline,
    shown,
    api(method, url, as, body, headers = {}) {
      return inject(
        method,
        url,
        { ...(as ? { authorization: `Bearer cs_demo_${as}` } : {}), ...headers },
        body,
      );
    },
    hook(path, body, headers = {}) {
      return inject('POST', path, { authorization: `Bearer ${INGEST_TOKEN}`, ...headers }, body);
    },
    async close() {
      await pipeline.stop();
      await dispatcher.stop();
      await slack?.stop();
      await deps.executor.close?.();
      await app.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
