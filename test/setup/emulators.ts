// vitest globalSetup for the integration and e2e projects: one s3rver and one dynalite per run, in this
// process, on free ports. Tests read the endpoints with inject('emulators') and create their own
// uniquely named buckets and tables, so test files can run concurrently against the same servers.
import type { TestProject } from 'vitest/node';
import { startEmulators } from '#adapters/local/emulators';

export interface EmulatorEndpoints {
  s3Endpoint: string;
  dynamodbEndpoint: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: EmulatorEndpoints;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulators = await startEmulators();
  project.provide('emulators', {
    s3Endpoint: emulators.s3.endpoint,
    dynamodbEndpoint: emulators.dynamodb.endpoint,
  });
  return () => emulators.stop();
}
