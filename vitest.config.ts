import { defineConfig } from 'vitest/config';

// One project per kind of test, so each can be run alone (`vitest run --project unit`) and given
// its own setup. Integration and e2e tests get real S3 (s3rver) and DynamoDB (dynalite), started
// once per run by test/setup/emulators.ts (endpoints via inject('emulators')).
const emulators = './test/setup/emulators.ts';

// The pinned AWS SDK supports Node 20; its warning about future releases would fill the output of
// every process the tests start (bin/nbops.js sets the same).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'contract', include: ['test/contract/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: [emulators],
          // Real servers over HTTP, shared by concurrent files: allow for a busy machine.
          testTimeout: 30_000,
        },
      },
      { extends: true, test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 120_000 } },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          globalSetup: [emulators],
        },
      },
    ],
    passWithNoTests: true,
  },
});
