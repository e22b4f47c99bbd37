/**
 * The real server as a child process (`node --import tsx src/main.ts`) on a free loopback
 * port, for tests that kill -9 it and start it again. Every process started is tracked;
 * `killAllServers` (call it from `after`) makes sure none outlives the tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(import.meta.dirname, '../..');
/** Start-up deadline, in ms (the machine may be busy). */
const READY_DEADLINE_MS = 30_000;

const children = new Set<ChildProcess>();

/** Tracks a child process of a test (a server or a CLI run) so `killAllServers` ends it. */
export function track(child: ChildProcess): () => void {
  children.add(child);
  return () => children.delete(child);
}

export function killAllServers(): void {
  for (const child of children) child.kill('SIGKILL');
}

export interface ServerProcess {
  url: string;
  /** What the process wrote to stdout (the JSON log). */
  stdout: () => string;
  /** Both streams, the last 20 kB, for failure messages. */
  output: () => string;
  /** SIGKILL, then waits for the process to be gone. */
  kill(): Promise<void>;
}

/**
 * The environment of a server on the demo catalog with its data in `dataDir`: this
 * process's environment without any Countersign, database or Slack setting, so a test sees
 * the defaults whatever the shell exports.
 */
export function demoServerEnv(port: number, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('COUNTERSIGN_') && k !== 'DATABASE_URL' && !k.startsWith('SLACK_')) {
      env[k] = v;
    }
  }
  return {
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    COUNTERSIGN_CONFIG: join(ROOT, 'examples/demo'),
    COUNTERSIGN_DATA: dataDir,
  };
}

export function freePort(): Promise<number> {
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

/**
 * Starts the server with the environment `envFor(port)` gives and waits for /readyz; tries
 * another port when the chosen one was taken meanwhile. `args` are node's arguments:
 * default the TypeScript sources through tsx.
 */
export async function startServerProcess(
  envFor: (port: number) => NodeJS.ProcessEnv,
  args: string[] = ['--import', 'tsx', 'src/main.ts'],
): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: envFor(port),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const untrack = track(child);
    let stdout = '';
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output = (output + chunk.toString()).slice(-20_000);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    });
    const exited = once(child, 'exit');
    exited.catch(() => undefined); // A spawn error also shows as "did not become ready".
    const server: ServerProcess = {
      url: `http://127.0.0.1:${port}`,
      stdout: () => stdout,
      output: () => output,
      async kill() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
        untrack();
      },
    };
    if (await becomesReady(server.url, child)) return server;
    await server.kill();
    if (attempt < 3 && output.includes('EADDRINUSE')) continue;
    throw new Error(`the server did not become ready:\n${output}`);
  }
}

async function becomesReady(url: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  return false;
}
