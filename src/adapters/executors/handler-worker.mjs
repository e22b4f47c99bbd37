// Entry point of a handler worker thread (see worker-pool.ts). It makes TypeScript
// importable in this thread, then starts the job loop in handler-worker.ts.
// Node 20 ignores `--import` in a Worker's execArgv (the loader hooks of the parent
// thread are not inherited either), so tsx is registered here, whatever the parent ran with.
import { register } from 'tsx/esm/api';

register();
await import('./handler-worker.ts');
