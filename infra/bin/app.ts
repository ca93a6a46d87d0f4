/**
 * The CDK app (cdk.json: `npx tsx infra/bin/app.ts`). Configuration: `-c config=<file>` (YAML or
 * JSON, see infra/config/example.yaml), else the `nbops` object in cdk.json's context, else the
 * defaults. A configuration problem stops synthesis with each field named, never a stack trace.
 */
import { App } from 'aws-cdk-lib';
import { createApp } from '../lib/app';
import { ConfigError, configFromContext } from '../lib/config';

// Context as the CLI passes it (-c and cdk.json), read before building the real app.
const context = new App({ autoSynth: false }).node;
try {
  const config = configFromContext({
    config: context.tryGetContext('config'),
    nbops: context.tryGetContext('nbops'),
  });
  const { app } = createApp(config);
  app.synth();
} catch (err) {
  if (
    err instanceof ConfigError ||
    (err instanceof Error && /^functions\/|^The policy is/.test(err.message))
  ) {
    console.error(`nbops: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
