/**
 * Synthesizes nbops for the infra tests without bundling (the bundle test bundles for real):
 * the same createApp as `cdk synth`, so the template under test is the one that deploys.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../infra/lib/app';
import { configFromContext, loadConfigFile, type NbopsConfig } from '../../infra/lib/config';
import { PROJECT_ROOT } from '../../infra/lib/nbops';
import type { NbopsStack, NbopsStackProps } from '../../infra/lib/stack';

export const ALL_FEATURES = join(PROJECT_ROOT, 'infra', 'config', 'all-features.yaml');

export interface Synthesized {
  app: App;
  stack: NbopsStack;
  template: Template;
  json: Record<string, unknown>;
  synthMs: number;
  templateBytes: number;
}

export function allFeaturesConfig(): NbopsConfig {
  return loadConfigFile(ALL_FEATURES);
}

export function defaultConfig(): NbopsConfig {
  return configFromContext({});
}

/** Builds and synthesizes the nbops app for `config` (cdk-nag plugins off: the tests run the packs themselves). */
export function synth(config: NbopsConfig, nbops?: NbopsStackProps['nbops']): Synthesized {
  const started = performance.now();
  const outdir = mkdtempSync(join(tmpdir(), 'nbops-infra-'));
  const { app, stack } = createApp(config, {
    nag: false,
    outdir,
    context: { 'aws:cdk:bundling-stacks': [] },
    ...(nbops ? { nbops } : {}),
  });
  const template = Template.fromStack(stack);
  const synthMs = performance.now() - started;
  const json = template.toJSON();
  return { app, stack, template, json, synthMs, templateBytes: JSON.stringify(json).length };
}

type Json = Record<string, unknown>;
export type Resources = Record<string, { Type: string; Properties?: Json; [key: string]: unknown }>;

export function resourcesOf(json: Json): Resources {
  return json.Resources as Resources;
}

export function ofType(json: Json, type: string): [string, Resources[string]][] {
  return Object.entries(resourcesOf(json)).filter(([, r]) => r.Type === type);
}

/** Logical id of a construct's CloudFormation resource. */
export function logicalId(
  stack: NbopsStack,
  construct: { node: { defaultChild?: unknown } } | object,
): string {
  const child = (construct as { node: { defaultChild?: unknown } }).node.defaultChild ?? construct;
  return stack.getLogicalId(child as Parameters<NbopsStack['getLogicalId']>[0]);
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every policy statement in the template with where it came from: identity and resource policies. */
export function allStatements(
  json: Json,
): { where: string; kind: 'identity' | 'resource'; statement: Statement }[] {
  const out: { where: string; kind: 'identity' | 'resource'; statement: Statement }[] = [];
  const push = (where: string, kind: 'identity' | 'resource', doc: unknown) => {
    for (const statement of list((doc as { Statement?: Statement | Statement[] })?.Statement))
      out.push({ where, kind, statement });
  };
  for (const [id, r] of Object.entries(resourcesOf(json))) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
        push(id, 'identity', p.PolicyDocument);
        break;
      case 'AWS::IAM::Role':
        for (const policy of list(p.Policies as { PolicyDocument: unknown }[]))
          push(id, 'identity', policy.PolicyDocument);
        break;
      case 'AWS::KMS::Key':
        push(id, 'resource', p.KeyPolicy);
        break;
      case 'AWS::S3::BucketPolicy':
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
        push(id, 'resource', p.PolicyDocument);
        break;
    }
  }
  return out;
}

/** Statements of the identity policies attached to a role (by the role's logical id). */
export function roleStatements(json: Json, roleLogicalId: string): Statement[] {
  return ofType(json, 'AWS::IAM::Policy')
    .filter(([, r]) =>
      list(r.Properties?.Roles as unknown[]).some((role) => (role as { Ref?: string }).Ref === roleLogicalId),
    )
    .flatMap(([, r]) => list((r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement));
}

export function actionsOf(statements: Statement[]): string[] {
  return [...new Set(statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)))].sort();
}
