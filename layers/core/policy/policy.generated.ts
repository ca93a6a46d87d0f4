/* Generated from schemas/policy.schema.json by scripts/generate-types.ts. Do not edit: change the schema and run npm run gen:types. */

/**
 * Platform policy: configuration of an nbops deployment (not of a notebook). Limits what notebooks may ask for, re-grades validation rules, and names the AWS resources requests are built against.
 */
export interface Policy {
$schema?: string
/**
 * Notebooks larger than this are refused without being parsed. Default 50 MiB.
 */
maxNotebookBytes?: number
/**
 * Per-rule override: turn a rule off or change its severity, e.g. {"HY-001": "off", "REP-001": "error"}.
 */
rules?: {
[k: string]: "off" | "error" | "warning" | "info" | undefined
}
/**
 * Manifest fields that must be present, as dotted paths (e.g. "runbook", "slo.latency", "drift").
 */
requiredFields?: string[]
training?: {
/**
 * SageMaker training instance types notebooks may request (exact names or globs such as "ml.g5.*").
 * 
 * @minItems 1
 */
allowedInstanceTypes?: [string, ...(string)[]]
maxInstanceCount?: number
/**
 * Longest MaxRuntimeInSeconds a notebook may ask for (duration such as "12h" or seconds).
 */
maxRuntime?: (number | string)
maxVolumeSizeGB?: number
/**
 * Whether managed spot training may be used. Default true.
 */
allowSpot?: boolean
/**
 * Training images notebooks may use (exact URIs or globs such as "763104351884.dkr.ecr.*.amazonaws.com/pytorch-training:*").
 */
allowedImages?: string[]
}
serving?: {
/**
 * SageMaker endpoint instance types notebooks may request (exact names or globs).
 * 
 * @minItems 1
 */
allowedInstanceTypes?: [string, ...(string)[]]
maxInstanceCount?: number
allowedImages?: string[]
}
data?: {
/**
 * S3 prefixes training data may come from, e.g. ["s3://ml-data/churn/"]. Empty or absent: any.
 */
allowedLocations?: string[]
/**
 * Require every data reference to carry a versionId or sha256 (REP-004 becomes an error).
 */
requirePinnedVersions?: boolean
}
approval?: {
/**
 * Identities (IAM ARNs, user names or e-mails) allowed to approve deployments. Absent: anyone with API access.
 */
approvers?: string[]
/**
 * Whether the uploader of a version may approve it. Default false.
 */
allowSelfApproval?: boolean
/**
 * Require manual approval even when a manifest asks for auto.
 */
forceManual?: boolean
}
secrets?: {
/**
 * Known non-secrets. A finding is suppressed when its matched text matches `pattern` or its SHA-256 equals `sha256`.
 */
allowlist?: ({
[k: string]: unknown | undefined
} & {
pattern?: string
sha256?: string
reason: string
})[]
}
/**
 * Where requests are built for. `nbops plan` uses placeholders when absent.
 */
aws?: {
accountId?: string
region?: string
artifactBucket?: string
executionRoleArn?: string
kmsKeyArn?: string
enableNetworkIsolation?: boolean
vpc?: {
/**
 * @minItems 1
 * @maxItems 16
 */
subnets: [string]|[string, string]|[string, string, string]|[string, string, string, string]|[string, string, string, string, string]|[string, string, string, string, string, string]|[string, string, string, string, string, string, string]|[string, string, string, string, string, string, string, string]|[string, string, string, string, string, string, string, string, string]|[string, string, string, string, string, string, string, string, string, string]|[string, string, string, string, string, string, string, string, string, string, string]|[string, string, string, string, string, string, string, string, string, string, string, string]|[string, string, string, string, string, string, string, string, string, string, string, string, string]|[string, string, string, string, string, string, string, string, string, string, string, string, string, string]|[string, string, string, string, string, string, string, string, string, string, string, string, string, string, string]|[string, string, string, string, string, string, string, string, string, string, string, string, string, string, string, string]
/**
 * @minItems 1
 * @maxItems 5
 */
securityGroupIds: [string]|[string, string]|[string, string, string]|[string, string, string, string]|[string, string, string, string, string]
}
}
}
