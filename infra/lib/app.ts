/**
 * Builds the CDK app: the recommended feature flags of the pinned aws-cdk-lib (set here, so tests
 * and `cdk synth` build the same template), the stack from the configuration, and the cdk-nag
 * AwsSolutions and Serverless packs, which fail synthesis on any unacknowledged finding.
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { NbopsConfig } from './config';
import { NbopsStack, type NbopsStackProps } from './stack';

export interface NbopsAppOptions extends AppProps {
  /** Register the cdk-nag packs as validation plugins (default true). */
  nag?: boolean;
  /** Extra construct props: bring-your-own resources, another checkout. */
  nbops?: NbopsStackProps['nbops'];
}

export function createApp(
  config: NbopsConfig,
  options: NbopsAppOptions = {},
): { app: App; stack: NbopsStack } {
  const { nag = true, context, nbops, ...appProps } = options;
  const app = new App({ ...appProps, context: { ...CURRENTLY_RECOMMENDED_FLAGS, ...context } });
  const stack = new NbopsStack(app, config.stackName, { config, ...(nbops ? { nbops } : {}) });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}
