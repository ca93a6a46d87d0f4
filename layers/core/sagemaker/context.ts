/**
 * What the request builders need, and small helpers they share: the AWS target (account, Region,
 * bucket, role) with placeholders for dry runs, tags, and the error a builder throws when a
 * manifest cannot be turned into a valid request.
 */
import { createHash } from 'node:crypto';
import type { ResolvedManifest } from '#core/manifest/schema';
import type { Policy } from '#core/policy/policy';

export interface BuildContext {
  model: string;
  version: number;
  manifest: ResolvedManifest;
  /** The resolved platform policy; policy.aws names the account, Region, bucket and role. */
  policy: Policy;
  /** The immutable copy of the notebook lives at layout versionKeys.notebook(model, version, file). */
  notebook: { file: string; sha256: string };
  /** The Python runtime published under layout runtimePrefix(hash). */
  runtime: { hash: string };
  /** Who submitted the version (tagged on every resource). */
  owner: string;
}

export interface BuildOptions {
  /**
   * Check the request against the AWS API model and throw a RequestCheckError when it fails
   * (default). `nbops plan` turns this off to show every failing request at once.
   */
  check?: boolean;
}

/** Values used when the policy has no `aws` section (`nbops plan` without --policy). */
export const PLACEHOLDER_ACCOUNT = '123456789012';
export const PLACEHOLDER_REGION = 'us-east-1';

export interface AwsTarget {
  accountId: string;
  region: string;
  artifactBucket: string;
  executionRoleArn: string;
  kmsKeyArn?: string;
  enableNetworkIsolation?: boolean;
  vpc?: { subnets: string[]; securityGroupIds: string[] };
  /** Fields that are placeholders, not from the policy (a dry run says so). */
  placeholders: string[];
}

/**
 * policy.aws with placeholders for what it leaves out. The bucket and role placeholders follow
 * the account and Region, so a policy that only names the account gets consistent names.
 */
export function awsTarget(policy: Policy): AwsTarget {
  const aws = policy.aws ?? {};
  const placeholders: string[] = [];
  const pick = (field: string, value: string | undefined, fallback: () => string): string => {
    if (value !== undefined) return value;
    placeholders.push(field);
    return fallback();
  };
  const accountId = pick('accountId', aws.accountId, () => PLACEHOLDER_ACCOUNT);
  const region = pick('region', aws.region, () => PLACEHOLDER_REGION);
  const target: AwsTarget = {
    accountId,
    region,
    artifactBucket: pick(
      'artifactBucket',
      aws.artifactBucket,
      () => `nbops-artifacts-${accountId}-${region}`,
    ),
    executionRoleArn: pick(
      'executionRoleArn',
      aws.executionRoleArn,
      () => `arn:aws:iam::${accountId}:role/nbops-sagemaker-execution`,
    ),
    placeholders,
  };
  if (aws.kmsKeyArn !== undefined) target.kmsKeyArn = aws.kmsKeyArn;
  if (aws.enableNetworkIsolation !== undefined) target.enableNetworkIsolation = aws.enableNetworkIsolation;
  if (aws.vpc)
    target.vpc = { subnets: [...aws.vpc.subnets], securityGroupIds: [...aws.vpc.securityGroupIds] };
  return target;
}

/**
 * A manifest (or policy) value that cannot become a valid request. The validator normally reports
 * these first; the builder still refuses, naming the field and the fix, instead of letting AWS fail.
 */
export class BuildError extends Error {
  constructor(
    /** Dotted manifest field, e.g. `parameters.notes` or `deployment.bakeTime`. */
    readonly field: string,
    message: string,
    readonly fix: string,
  ) {
    super(`${field}: ${message} Fix: ${fix}`);
    this.name = 'BuildError';
  }
}

/** Characters SageMaker tag keys and values allow: letters, spaces, digits and _ . : / = + - @. */
const TAG_FORBIDDEN = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu;
const MAX_TAG_VALUE = 256;

/**
 * A tag value the tag pattern accepts: forbidden characters become `_`, and the value is cut at
 * 256 UTF-16 units without splitting a character.
 */
export function sanitizeTagValue(value: string): string {
  let out = '';
  for (const char of value.replace(TAG_FORBIDDEN, '_')) {
    if (out.length + char.length > MAX_TAG_VALUE) break;
    out += char;
  }
  return out;
}

export interface Tag {
  Key: string;
  Value: string;
}

/**
 * nbops's own tags (nbops:model, nbops:version when given, nbops:owner) followed by the manifest's
 * model.tags. nbops's keys win over a user tag with the same key.
 */
export function resourceTags(ctx: BuildContext, options: { version: boolean }): Tag[] {
  const own: Tag[] = [{ Key: 'nbops:model', Value: sanitizeTagValue(ctx.model) }];
  if (options.version) own.push({ Key: 'nbops:version', Value: String(ctx.version) });
  own.push({ Key: 'nbops:owner', Value: sanitizeTagValue(ctx.owner) });
  const ownKeys = new Set(own.map((t) => t.Key));
  const user = Object.entries(ctx.manifest.model.tags)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && !ownKeys.has(entry[0]))
    .map(([Key, Value]) => ({ Key, Value: sanitizeTagValue(Value) }));
  return [...own, ...user];
}

/** JSON with object keys sorted, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}
