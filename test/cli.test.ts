/**
 * The `countersign` command as people run it: `node bin/countersign.mjs …` in a child
 * process, with the settings in the environment (COUNTERSIGN_CONFIG, COUNTERSIGN_DATA in a
 * temp folder, LOG_LEVEL=silent). `ops` talks to a real server process
 * (`node --import tsx src/main.ts`) on a free port, on the demo catalog and the real clock, so
 * outside the demo's prod change window (Mon–Fri 07:00–20:00 UTC) a prod request also needs
 * dave's window acknowledgement; the tests read what each request says it misses and give
 * that acknowledgement through the API when asked. `audit verify` then checks the log the
 * server wrote, and fails, naming the entry, on copies of the database changed behind its
 * back (§8.61). Each CLI run loads TypeScript through tsx, so independent runs go in parallel.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  changeActor,
  copyDatabase,
  deleteEntry,
  swapEntries,
  truncateTail,
  withRawDatabase,
} from './support/audit-tamper.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/countersign.mjs');
const DEMO = join(ROOT, 'examples/demo');
/** The machine may be busy: deadlines for one CLI run and for the server to come up, in ms. */
const RUN_DEADLINE_MS = 120_000;
const START_DEADLINE_MS = 60_000;

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `countersign-cli-${prefix}-`));
  temps.push(dir);
  return dir;
}

/** Every child process started, so none outlives the tests, whatever fails. */
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** The test runner's environment without any Countersign setting, token or database URL. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('COUNTERSIGN_') && !['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL'].includes(k))
      env[k] = v;
  }
  return env;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `countersign <args>` with its data in `dataDir`; resolves when it exits. */
async function cs(args: string[], dataDir: string, env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: {
      ...cleanEnv(),
      COUNTERSIGN_CONFIG: DEMO,
      COUNTERSIGN_DATA: dataDir,
      LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_DEADLINE_MS);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  children.delete(child);
  return { code, stdout, stderr };
}

const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => ok(port));
    });
  });
}

interface Server {
  url: string;
  /** SIGTERM (a clean stop: the store is closed), then waits for the process to be gone. */
  stop(): Promise<void>;
}

async function startServer(dataDir: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...cleanEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      COUNTERSIGN_CONFIG: DEMO,
      COUNTERSIGN_DATA: dataDir,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited at start:\n${output}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready within ${START_DEADLINE_MS} ms:\n${output}`);
    }
    await sleep(200);
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      children.delete(child);
    },
  };
}

describe('countersign config validate', () => {
  it('accepts the demo catalog: exit 0', async () => {
    const r = await cs(['config', 'validate', 'examples/demo'], tempDir('validate'));
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^ok: examples\/demo is valid \(digest [0-9a-f]{64}\)$/m);
  });

  it('names bad YAML, a mutating command without rollback and an unknown role as file:line:column, exit 1', async () => {
    // A file that does not parse stops the cross-checks (it might define what the others
    // use), so the YAML error and the two reference errors are shown by two folders.
    const badYaml = tempDir('bad-yaml');
    cpSync(DEMO, badYaml, { recursive: true });
    writeFileSync(join(badYaml, 'broken.yaml'), 'teams:\n  - { id: ops, name: "Ops }\n');
    const badRefs = tempDir('bad-refs');
    cpSync(DEMO, badRefs, { recursive: true });
    writeFileSync(
      join(badRefs, 'extra.yaml'),
      [
        'commands:',
        '  - id: wipe',
        '    team: payments',
        '    description: Wipes the table.',
        '    class: mutating',
        '    handler: { module: handlers/status.ts, export: handler }',
        'people:',
        '  - id: erin',
        '    name: Erin',
        '    team: payments',
        '    roles: [deployer, wizard]',
        '',
      ].join('\n'),
    );
    const [yaml, refs] = await Promise.all([
      cs(['config', 'validate', badYaml], tempDir('validate')),
      cs(['config', 'validate', badRefs], tempDir('validate')),
    ]);
    assert.equal(yaml.code, 1, show(yaml));
    assert.match(yaml.stderr, /^broken\.yaml:\d+:\d+: YAML: .*quote/m);
    assert.match(yaml.stderr, /^\d+ error\(s\)$/m);
    assert.equal(refs.code, 1, show(refs));
    const lines = refs.stderr.trim().split('\n');
    assert.deepEqual(lines, [
      'extra.yaml:2:9: commands[0].id: mutating command "wipe" must declare its rollback: add rollback: { command: <id> } or rollback: { none: "<reason>" }',
      'extra.yaml:11:23: people[0].roles[1]: unknown role "wizard"',
      '2 error(s)',
    ]);
  });
});

describe('countersign policy explain', () => {
  const data = tempDir('explain');
  const DEPLOY = ['deploy', 'checkout-api', 'prod', 'version=1.4.2'];
  let alice: Run;
  let carol: Run;
  let json: Run;
  let unlinked: Run;
  before(async () => {
    [alice, carol, json, unlinked] = await Promise.all([
      cs(['policy', 'explain', ...DEPLOY, 'ticket=CHG-1', '--as', 'alice'], data),
      cs(['policy', 'explain', ...DEPLOY, 'ticket=CHG-1', '--as', 'carol'], data),
      cs(['policy', 'explain', ...DEPLOY, 'ticket=CHG-1', '--as', 'alice', '--json'], data),
      cs(['policy', 'explain', ...DEPLOY, '--as', 'alice'], data),
    ]);
  });

  it('says alice may ask, needs one approval from bob or dave, and the window status', () => {
    assert.equal(alice.code, 0, show(alice));
    const lines = alice.stdout.trim().split('\n');
    assert.equal(lines[0], 'allowed');
    assert.ok(lines.includes('class: mutating, policy prod-changes'), show(alice));
    assert.ok(
      lines.includes('needs 1 approval (policy prod-changes) from: bob, dave'),
      show(alice),
    );
    const window = /^change window: (open|closed)$/m.exec(alice.stdout)?.[1];
    assert.ok(window, show(alice));
    // Outside the window (evenings, weekends) dave must also acknowledge it.
    const ack = lines.filter((l) => l.startsWith('needs 1 window-ack'));
    assert.deepEqual(
      ack,
      window === 'open'
        ? []
        : ['needs 1 window-ack (outside change window prod-business-hours) from: dave'],
    );
  });

  it('says carol may not, and why', () => {
    assert.equal(carol.code, 1, show(carol));
    assert.match(carol.stdout, /^refused$/m);
    assert.match(
      carol.stdout,
      /^ {2}why not: carol has no request grant for deploy on checkout-api prod$/m,
    );
  });

  it('--json prints the same answer as JSON', () => {
    assert.equal(json.code, 0, show(json));
    const e = JSON.parse(json.stdout);
    assert.equal(e.allowed, true);
    assert.deepEqual(e.refusals, []);
    assert.equal(e.policy, 'prod-changes');
    assert.equal(e.requirements[0].kind, 'approval');
    assert.deepEqual(e.requirements[0].eligible, ['bob', 'dave']);
    assert.match(e.window.status, /^(open|closed)$/);
    assert.equal(e.runsAtOnce, false);
  });

  it('refuses a request without a link, naming ticket, incident and pr', () => {
    assert.equal(unlinked.code, 1, show(unlinked));
    assert.match(unlinked.stdout, /^refused$/m);
    assert.match(unlinked.stdout, /why not: .*ticket=.*incident=.*pr=/);
  });

  it('changes nothing: the audit log is still empty', async () => {
    const [exported, verified] = await Promise.all([
      cs(['audit', 'export'], data),
      cs(['audit', 'verify'], data),
    ]);
    assert.equal(exported.code, 0, show(exported));
    assert.equal(exported.stdout, '');
    assert.match(exported.stderr, /^exported 0 entries$/m);
    assert.equal(verified.code, 0, show(verified));
    assert.match(verified.stdout, /^ok: 0 entries verified/);
  });
});

describe('countersign ops against a running server, then audit verify and export', () => {
  const data = tempDir('ops');
  let server: Server;
  before(async () => {
    server = await startServer(data);
  });
  after(async () => server?.stop());

  /** `countersign ops <words…> --url <server>`, with a token by flag or by environment. */
  const ops = (
    words: string[],
    auth: { token?: string; envToken?: string },
    extra: string[] = [],
  ) =>
    cs(
      [
        'ops',
        ...words,
        '--url',
        server.url,
        ...(auth.token ? ['--token', auth.token] : []),
        ...extra,
      ],
      data,
      auth.envToken ? { COUNTERSIGN_TOKEN: auth.envToken } : {},
    );

  async function api(method: string, path: string, who: string, body?: unknown) {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer cs_demo_${who}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: responses are inspected field by field
    return { status: res.status, json: (await res.json()) as any };
  }

  /** The `REQ-… <state>` line an ops request prints, and the `needs …` lines under it. */
  function created(r: Run): { id: string; state: string; needs: string[] } {
    const m = /^(REQ-[0-9A-Z]+) ([a-z]+)$/m.exec(r.stdout);
    assert.ok(m, show(r));
    const needs = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('  needs '))
      .map((l) => l.slice(8));
    return { id: m[1]!, state: m[2]!, needs };
  }

  /** Outside the prod change window dave acknowledges it: `ops approve <id> --kind window-ack`. */
  async function acknowledgeIfAsked(id: string, needs: string[]) {
    if (!needs.some((n) => n.includes('window-ack'))) return;
    const ack = await ops(['approve', id], { token: 'cs_demo_dave' }, ['--kind', 'window-ack']);
    assert.equal(ack.code, 0, ack.stdout + ack.stderr);
    const { json } = await api('GET', `/requests/${id}`, 'carol');
    assert.ok(
      json.request.signOffs.some(
        (s: { kind: string; by: string }) => s.kind === 'window-ack' && s.by === 'dave',
      ),
    );
  }

  async function waitForState(id: string, state: string) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { json } = await api('GET', `/requests/${id}`, 'carol');
      const now = json.request.state;
      if (now === state) return json.request;
      const final = ['succeeded', 'failed', 'unknown', 'denied', 'expired', 'cancelled'];
      if (final.includes(now) || Date.now() > deadline) {
        assert.fail(`${id} is ${now}, not ${state}: ${JSON.stringify(json.request.execution)}`);
      }
      await sleep(100);
    }
  }

  it('read-only status prints the state at once', async () => {
    const r = await ops(['status', 'checkout-api', 'prod'], { token: 'cs_demo_carol' });
    assert.equal(r.code, 0, show(r));
    const state = JSON.parse(r.stdout);
    assert.equal(state.service, 'checkout-api');
    assert.equal(state.version, '1.4.1');
  });

  it('a deploy without a link exits 1 with LINK_REQUIRED and creates nothing', async () => {
    const r = await ops(['deploy', 'checkout-api', 'prod', 'version=1.4.2'], {
      envToken: 'cs_demo_alice',
    });
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /^refused \(422 LINK_REQUIRED\): .*ticket=.*incident=.*pr=/m);
    const { json } = await api('GET', '/requests', 'carol');
    assert.deepEqual(json.requests, []);
  });

  it('a prod deploy: REQ-… pending and what it needs; alice may not approve it; bob approves and it runs once', async () => {
    const r = await ops(['deploy', 'checkout-api', 'prod', 'version=1.4.2', 'ticket=CHG-1'], {
      envToken: 'cs_demo_alice',
    });
    assert.equal(r.code, 0, show(r));
    const req = created(r);
    assert.equal(req.state, 'pending');
    assert.equal(
      req.needs[0],
      '1 more approval from approver or administrator (policy prod-changes)',
    );
    const self = await ops(['approve', req.id], { token: 'cs_demo_alice' });
    assert.equal(self.code, 1, show(self));
    assert.match(self.stdout, /^refused \(403 SELF_APPROVAL\)/m);
    await acknowledgeIfAsked(req.id, req.needs);
    const bob = await ops(['approve', req.id], { envToken: 'cs_demo_bob' });
    assert.equal(bob.code, 0, show(bob));
    assert.equal(bob.stdout, `${req.id} approved\n`);
    // Poll the way a person would, with `ops status`, until the new version shows.
    let version = '';
    for (let i = 0; i < 20 && version !== '1.4.2'; i++) {
      const status = await ops(['status', 'checkout-api', 'prod'], { token: 'cs_demo_carol' });
      assert.equal(status.code, 0, show(status));
      version = JSON.parse(status.stdout).version;
    }
    assert.equal(version, '1.4.2');
    const done = await waitForState(req.id, 'succeeded');
    assert.equal(done.execution.attempt, 1);
    const { json } = await api('GET', `/audit?target=${req.id}`, 'carol');
    const entries = json.entries as { action: string; actor: string; surface: string }[];
    assert.equal(entries.filter((e) => e.action === 'execution.started').length, 1);
    const made = entries.find((e) => e.action === 'request.created');
    assert.deepEqual([made?.actor, made?.surface], ['alice', 'cli']);
  });

  it('quoting: reason="two words" reaches the server whole, as one argv entry from the shell', async () => {
    const r = await ops(
      [
        'deploy',
        'checkout-api',
        'staging',
        'version=1.4.3',
        'ticket=CHG-3',
        'reason=two "quoted" words',
      ],
      { token: 'cs_demo_alice' },
    );
    assert.equal(r.code, 0, show(r));
    const req = created(r);
    assert.equal(req.state, 'approved', 'staging needs no approval');
    const { json } = await api('GET', `/requests/${req.id}`, 'carol');
    assert.equal(json.request.reason, 'two "quoted" words');
    assert.deepEqual(json.request.params, { version: '1.4.3' });
    await waitForState(req.id, 'succeeded');
  });

  it('a destructive flush-cache: an approval without --confirm is refused, with it counted', async () => {
    const r = await ops(['flush-cache', 'checkout-api', 'prod', 'ticket=CHG-2'], {
      token: 'cs_demo_alice',
    });
    assert.equal(r.code, 0, show(r));
    const req = created(r);
    assert.equal(req.state, 'pending');
    assert.equal(
      req.needs[0],
      '2 more approval from approver or administrator (policy prod-destructive)',
    );
    const bare = await ops(['approve', req.id], { token: 'cs_demo_bob' });
    assert.equal(bare.code, 1, show(bare));
    assert.match(bare.stdout, /^refused \(422 CONFIRMATION_REQUIRED\): Type checkout-api\/prod/m);
    assert.deepEqual((await api('GET', `/requests/${req.id}`, 'carol')).json.request.signOffs, []);
    const confirmed = await ops(['approve', req.id], { token: 'cs_demo_bob' }, [
      '--confirm',
      'checkout-api/prod',
    ]);
    assert.equal(confirmed.code, 0, show(confirmed));
    const counted = created(confirmed);
    assert.equal(counted.state, 'pending');
    assert.equal(
      counted.needs[0],
      '1 more approval from approver or administrator (policy prod-destructive)',
    );
    await acknowledgeIfAsked(req.id, counted.needs);
    const second = await ops(['approve', req.id], { token: 'cs_demo_dave' }, [
      '--confirm',
      'checkout-api/prod',
    ]);
    assert.equal(second.code, 0, show(second));
    assert.equal(created(second).state, 'approved');
    await waitForState(req.id, 'succeeded');
  });

  it('parse and usage errors exit 2 and print the usage', async () => {
    const [grammar, missing, unknown] = await Promise.all([
      ops(['deploy', 'checkout-api', 'prod', 'version="1.4.2', 'ticket=CHG-1'], {
        token: 'cs_demo_alice',
      }),
      cs(['ops'], data),
      ops(['status', 'checkout-api', 'prod'], { token: 'cs_demo_alice' }, ['--bogus']),
    ]);
    assert.equal(grammar.code, 2, show(grammar));
    assert.match(grammar.stdout, /^error: unterminated quote/m);
    assert.match(grammar.stdout, /^usage: \/ops <command> <service> <environment>/m);
    for (const r of [missing, unknown]) {
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /^error: /m);
      assert.match(r.stderr, /^Usage: countersign ops \[options\] <words\.\.\.>/m);
    }
    const { json } = await api('GET', '/requests', 'carol');
    assert.equal(json.requests.length, 3, 'only the three requests above');
  });

  describe('the audit log the server wrote', () => {
    let entries = 0;
    let verified: Run;

    before(async () => {
      // A reader beside the running server (WAL), then the server is stopped cleanly.
      verified = await cs(['audit', 'verify'], data);
      await server.stop();
    });

    it('audit verify passes while the server runs', () => {
      assert.equal(verified.code, 0, show(verified));
      const m = /^ok: (\d+) entries verified in [\d.]+ s$/m.exec(verified.stdout);
      assert.ok(m, show(verified));
      entries = Number(m[1]);
      assert.ok(entries >= 20, `${entries} entries`);
    });

    it('audit export -o writes JSON Lines, one entry per line, oldest first', async () => {
      const file = join(tempDir('export'), 'audit.jsonl');
      const [r, again] = await Promise.all([
        cs(['audit', 'export', '-o', file], data),
        cs(['audit', 'verify'], data),
      ]);
      assert.equal(r.code, 0, show(r));
      assert.equal(again.code, 0, show(again));
      assert.match(again.stdout, new RegExp(`^ok: ${entries} entries verified`));
      assert.match(r.stderr, new RegExp(`^exported ${entries} entries$`, 'm'));
      const text = readFileSync(file, 'utf8');
      assert.ok(text.endsWith('\n'));
      const lines = text.slice(0, -1).split('\n');
      assert.equal(lines.length, entries);
      const parsed = lines.map((l) => JSON.parse(l));
      assert.deepEqual(
        parsed.map((e) => e.seq),
        parsed.map((_, i) => i + 1),
      );
      assert.equal(parsed[0].action, 'catalog.loaded');
      assert.equal(parsed[1].prevHash, parsed[0].hash);
    });

    /** Runs `audit verify` on a copy of the server's database tampered by `fn`. */
    async function verifyTampered(fn: Parameters<typeof withRawDatabase>[1]): Promise<Run> {
      const dir = tempDir('tamper');
      withRawDatabase(copyDatabase(data, dir), fn);
      return cs(['audit', 'verify'], dir);
    }

    // Each case on its own copy of the database; the four run at once.
    describe('§8.61 audit verify on a tampered copy of the database', { concurrency: true }, () => {
      const expectBroken = (r: Run, message: string) => {
        assert.equal(r.code, 1, show(r));
        assert.match(
          r.stdout,
          new RegExp(`^BROKEN: ${literal(message)} in [\\d.]+ s$`, 'm'),
          show(r),
        );
      };

      it('§8.61 a changed actor names that entry', async () => {
        const r = await verifyTampered((db) => changeActor(db, 5));
        expectBroken(r, 'entry 5 was changed (its hash does not match its contents)');
      });

      it('§8.61 a deleted row names the gap', async () => {
        const r = await verifyTampered((db) => deleteEntry(db, 8));
        expectBroken(r, 'entry 8 is missing or out of order (found 9 in its place)');
      });

      it('§8.61 two rows with their contents swapped name the first', async () => {
        const r = await verifyTampered((db) => swapEntries(db, 10, 11));
        expectBroken(
          r,
          'entry 10 does not link to the entry before it (a row was changed, removed or reordered)',
        );
      });

      it('§8.61 a cut-off tail names the missing range', async () => {
        const r = await verifyTampered((db) => truncateTail(db, 3));
        expectBroken(r, `entries ${entries - 2}..${entries} are missing from the end of the log`);
      });
    });
  });
});

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
