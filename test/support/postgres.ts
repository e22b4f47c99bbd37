/**
 * A PostgreSQL for tests. With COUNTERSIGN_TEST_DATABASE_URL set, a fresh database is
 * created in that server. Otherwise, when PostgreSQL binaries are installed under
 * /usr/lib/postgresql/<version>/bin, a throwaway cluster is started on a free loopback
 * port (about 1 s: initdb without sync, fsync off). Otherwise a notice is printed and
 * the caller skips its PostgreSQL tests.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface TestPostgres {
  /** A `postgres://` URL of an empty database the caller may use as it likes. */
  url: string;
  /** Drops the database or stops the cluster. Safe to call twice. */
  cleanup(): Promise<void>;
}

export async function testPostgres(): Promise<TestPostgres | undefined> {
  const external = process.env.COUNTERSIGN_TEST_DATABASE_URL;
  if (external) return freshDatabase(external);
  const bin = findPostgresBin();
  if (!bin) {
    console.log(
      '# skipping PostgreSQL tests: set COUNTERSIGN_TEST_DATABASE_URL or install PostgreSQL ' +
        '(no /usr/lib/postgresql/*/bin/initdb found)',
    );
    return undefined;
  }
  return startCluster(bin);
}

/** Creates `cs_test_<random>` in the server `adminUrl` points at; cleanup drops it. */
export async function freshDatabase(adminUrl: string): Promise<TestPostgres> {
  const name = `cs_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async cleanup() {
      if (dropped) return;
      dropped = true;
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** The newest installed version's bin folder, or undefined. */
function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary; as root through `su postgres`, since initdb refuses root. */
async function pgCommand(bin: string, tool: string, args: string[]): Promise<void> {
  const argv = [join(bin, tool), ...args];
  if (!asRoot) {
    await run(argv[0] as string, args);
    return;
  }
  await run('su', ['postgres', '-s', '/bin/sh', '-c', shellLine(argv)]);
}

function shellLine(argv: readonly string[]): string {
  return argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startCluster(bin: string): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-pg-'));
  if (asRoot) await run('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  const stop = () => {
    const argv = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'];
    if (asRoot) spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', shellLine(argv)]);
    else spawnSync(argv[0] as string, argv.slice(1));
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that ends, or is interrupted, without calling cleanup still leaves
  // no server behind. On a signal the default action (exit) follows once it has run.
  const onSignal = (signal: NodeJS.Signals) => {
    forget();
    stop();
    process.kill(process.pid, signal);
  };
  const forget = () => {
    process.removeListener('exit', stop);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  process.once('exit', stop);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await pgCommand(bin, 'initdb', [
      ...['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8'],
      ...['--no-sync', '--no-instructions'],
    ]);
    const port = await startServer(bin, dir, data);
    let stopped = false;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      async cleanup() {
        if (stopped) return;
        stopped = true;
        forget();
        stop();
      },
    };
  } catch (err) {
    forget();
    const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '';
    stop();
    throw new Error(`could not start a test PostgreSQL cluster: ${String(err)}\n${log}`);
  }
}

/** Starts the server on a free port, trying another if the port was taken meanwhile. */
async function startServer(bin: string, dir: string, data: string): Promise<number> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c synchronous_commit=off',
      '-c max_connections=200',
    ].join(' ');
    try {
      await pgCommand(bin, 'pg_ctl', [
        ...['-D', data, '-l', join(dir, 'log'), '-o', settings, '-w', '-t', '20', 'start'],
      ]);
      return port;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}
