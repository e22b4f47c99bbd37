#!/usr/bin/env node
// Compiles the server for `npm start` into dist/: plain JavaScript, so the server runs
// without tsx's loader thread and transform caches (about 40 MB of memory and a slower
// start; see docs/adr/0011-compiled-server.md). esbuild takes about 0.2 s.
//   dist/main.js                 the server (and the CLI's `serve`), lazy parts as chunks
//   dist/handler-worker.js       the handler worker's job loop (+ handler-worker.mjs, its entry)
//   dist/audit-verify-worker.cjs a worker of the parallel audit verify (CommonJS: it is
//                                started from an eval'd script with require)
// Tests, the CLI (bin/countersign.mjs) and benchmarks by default run the TypeScript sources.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Dependencies stay in node_modules, loaded as they are under tsx.
  packages: 'external',
  logLevel: 'warning',
  legalComments: 'none',
};

// dist/ is written over, not removed first: a server running from it keeps its lazily
// loaded chunks (named by content) while a build runs; files no build wrote are removed after.
mkdirSync('dist', { recursive: true });
const esm = await build({
  ...common,
  entryPoints: ['src/main.ts', 'src/adapters/executors/handler-worker.ts'],
  format: 'esm',
  splitting: true,
  outdir: 'dist',
  entryNames: '[name]',
  metafile: true,
});
await build({
  ...common,
  entryPoints: ['src/adapters/store/audit-verify-worker.ts'],
  format: 'cjs',
  outfile: 'dist/audit-verify-worker.cjs',
});
copyFileSync('src/adapters/executors/handler-worker.mjs', 'dist/handler-worker.mjs');
const kept = new Set([
  ...Object.keys(esm.metafile.outputs).map((f) => basename(f)),
  'audit-verify-worker.cjs',
  'handler-worker.mjs',
]);
for (const file of readdirSync('dist')) {
  if (!kept.has(file)) rmSync(`dist/${file}`, { recursive: true, force: true });
}
