/**
 * The console's build: `npx vite build --config web/vite.config.ts` from the project root
 * writes `web/dist`, which the server serves at `/`. Not type-checked with the app
 * (`web/tsconfig.json` covers `src/` only, so the app sees the DOM and not Node).
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // A strict CSP: no inline scripts or styles, so nothing may be inlined as a data: URL either.
    assetsInlineLimit: 0,
    target: 'es2022',
  },
  server: {
    // `npx vite --config web/vite.config.ts` while `npm start` runs: the API on the same origin.
    proxy: { '/api': 'http://127.0.0.1:8080', '/auth': 'http://127.0.0.1:8080' },
  },
});
