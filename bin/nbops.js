#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx so a fresh clone works right after `npm ci`,
// with no build step to forget. Lambda code is bundled separately by esbuild (infra/).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
