#!/usr/bin/env node
// The `countersign` command: loads TypeScript sources through tsx, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { cli } = await import('../src/main.ts');
await cli(process.argv);
