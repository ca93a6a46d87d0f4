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

/** The longest values CloudFormation references can take, for an upper bound of a template string. */
const LONGEST_PSEUDO: Record<string, number> = {
  'AWS::Region': 'ap-southeast-5'.length,
  'AWS::AccountId': 12,
  'AWS::Partition': 'aws-us-gov'.length,
};

/** Longest names CloudFormation generates (or services allow) per resource type. */
const LONGEST_NAME: Record<string, number> = {
  'AWS::S3::Bucket': 63,
  'AWS::IAM::Role': 64,
  'AWS::SQS::Queue': 80,
  'AWS::Scheduler::ScheduleGroup': 64,
  'AWS::Events::EventBus': 256,
};

/**
 * An upper bound of the length a template value resolves to at deployment: literal text as is,
 * pseudo parameters at their longest, a generated name as `<stack>-<logical id>-<13 characters>`
 * (capped at the service's limit), an explicit Name as written, an ARN with its longest prefix.
 */
export function longestResolvedLength(json: Json, value: unknown, stackName: string): number {
  const resources = resourcesOf(json);
  const nameOf = (id: string): number => {
    const r = resources[id];
    if (!r) throw new Error(`no resource ${id}`);
    const explicit = (r.Properties as { Name?: unknown; TableName?: unknown } | undefined)?.Name;
    if (typeof explicit === 'string') return explicit.length;
    const generated = stackName.length + 1 + id.length + 1 + 13;
    return Math.min(generated, LONGEST_NAME[r.Type] ?? generated);
  };
  // arn:<partition>:<service>:<region>:<account>:<resource type>/
  const arnPrefix = 4 + LONGEST_PSEUDO['AWS::Partition']! + 1 + 10 + 1 + 14 + 1 + 12 + 1 + 12;
  const measure = (v: unknown): number => {
    if (typeof v === 'string') return v.length;
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') {
      const pseudo = LONGEST_PSEUDO[o.Ref];
      if (pseudo !== undefined) return pseudo;
      const r = resources[o.Ref]!;
      // A topic's Ref is its ARN; other nbops references name the resource.
      return r.Type === 'AWS::SNS::Topic' ? arnPrefix + nameOf(o.Ref) : nameOf(o.Ref);
    }
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [id] = o['Fn::GetAtt'] as [string, string];
      // A KMS key's ARN ends in its UUID; everything else in its name.
      return arnPrefix + (resources[id]!.Type === 'AWS::KMS::Key' ? 36 : nameOf(id));
    }
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, parts] = o['Fn::Join'] as [string, unknown[]];
      return (
        parts.reduce<number>((sum, part) => sum + measure(part), 0) + delimiter.length * (parts.length - 1)
      );
    }
    throw new Error(`cannot measure ${JSON.stringify(v)}`);
  };
  return measure(value);
}
