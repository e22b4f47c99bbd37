// Entry point of a handler worker thread (see worker-pool.ts). It makes TypeScript
// importable in this thread (handlers may be TypeScript), then starts the job loop in
// handler-worker.ts — or, in the compiled server (dist/, see scripts/build-server.mjs),
// the handler-worker.js built from it next to this file.
// Node 20 ignores `--import` in a Worker's execArgv (the loader hooks of the parent
// thread are not inherited either), so tsx is registered here, whatever the parent ran with.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const compiled = new URL('./handler-worker.js', import.meta.url);
await import(existsSync(compiled) ? compiled.href : './handler-worker.ts');
