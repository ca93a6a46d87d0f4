#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx so a fresh clone works right after `npm ci`,
// with no build step to forget. Lambda code is bundled separately by esbuild (infra/).
import { register } from 'tsx/esm/api';

// The pinned AWS SDK supports Node 20; its warning is about future SDK releases (the lockfile pins
// this one), so it is noise for CLI users. Set the variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `nbops ... | head` closes the pipe early: that is the reader being done, not an error.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
