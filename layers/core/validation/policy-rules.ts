/**
 * POL-*: what the platform policy allows a manifest to ask for. Runs only on a schema-valid
 * manifest (ctx.manifest.value, set by the manifest family); messages name the policy limit and
 * the manifest's value. POL-011 is reported by loadPolicy about the policy file itself.
 */
import { formatDuration, parseDuration } from '#core/manifest/duration';
import { applyManifestDefaults, type ResolvedManifest } from '#core/manifest/schema';
import { closest } from '#core/manifest/suggest';
import { isRecord } from '#core/notebook/notebook';
import { isWithinLocations, matchesAllowed, POLICY_FILE_RULE } from '#core/policy/policy';
import type { Policy } from '#core/policy/policy.generated';
import type { CheckContext, RuleFamilyModule } from './family';
import type { Location, Report, RuleSpec } from './finding';
import { manifestLocation } from './manifest-rules';

const rule = (
  id: string,
  defaultSeverity: RuleSpec['defaultSeverity'],
  title: string,
  rationale: string,
): RuleSpec => ({
  id,
  family: 'policy',
  defaultSeverity,
  title,
  rationale,
});

const PLATFORM =
  'Platform policy keeps cost, security and data access within what the team operating nbops agreed to.';

export const policyRules: RuleSpec[] = [
  rule('POL-001', 'error', 'Training instance type is allowed by the policy', PLATFORM),
  rule('POL-002', 'error', 'Training instance count is within the policy maximum', PLATFORM),
  rule('POL-003', 'error', 'Training maxRuntime is within the policy maximum', PLATFORM),
  rule('POL-004', 'error', 'Training data comes from allowed S3 locations', PLATFORM),
  rule('POL-005', 'error', 'Manifest fields the policy requires are present', PLATFORM),
  rule('POL-006', 'error', 'Spot training is allowed by the policy', PLATFORM),
  rule('POL-007', 'error', 'Training and serving images are allowed by the policy', PLATFORM),
  rule('POL-008', 'error', 'Serving instance type and count are allowed by the policy', PLATFORM),
  rule('POL-009', 'error', 'Training volume size is within the policy maximum', PLATFORM),
  rule(
    'POL-010',
    'warning',
    'Auto approval is not overridden by the policy',
    'When the policy forces manual approval, a manifest asking for auto approval still waits for a person.',
  ),
  rule(
    POLICY_FILE_RULE,
    'error',
    'The platform policy file is valid',
    'An invalid policy would apply limits nobody intended; nbops refuses to run with one (schemas/policy.schema.json).',
  ),
];

interface Input {
  m: ResolvedManifest;
  raw: Record<string, unknown>;
  policy: Policy;
  at: (pointer: string) => Location;
  report: Report;
}

function check(ctx: CheckContext): void {
  const source = ctx.manifest;
  if (!source?.value) return; // no manifest, or the manifest family reported schema errors
  const input: Input = {
    m: applyManifestDefaults(source.value),
    raw: source.value as unknown as Record<string, unknown>,
    policy: ctx.policy,
    at: (pointer) => manifestLocation(source, pointer),
    report: ctx.report,
  };
  for (const run of [training, dataLocations, requiredFields, images, serving, approval]) run(input);
}

export const policyFamily: RuleFamilyModule = { family: 'policy', rules: policyRules, check };

const ASK = 'or ask the platform team to change the policy';

/** A concrete allowed value to suggest: the closest exact entry, else the first exact one. */
function suggestion(value: string, allowed: readonly string[]): string | undefined {
  const exact = allowed.filter((a) => !a.includes('*'));
  return closest(value, exact) ?? exact[0];
}

function training({ m, raw, policy, at, report }: Input): void {
  const t = m.training;
  const p = policy.training ?? {};
  if (p.allowedInstanceTypes && !matchesAllowed(t.instanceType, p.allowedInstanceTypes)) {
    const use = suggestion(t.instanceType, p.allowedInstanceTypes);
    report({
      rule: 'POL-001',
      message: `training.instanceType ${t.instanceType} is not allowed by the platform policy (allowed: ${p.allowedInstanceTypes.join(', ')}).`,
      location: at('/training/instanceType'),
      fix: `Use an allowed instance type${use ? `, e.g. ${use}` : ''}, ${ASK}.`,
    });
  }
  if (p.maxInstanceCount !== undefined && t.instanceCount > p.maxInstanceCount)
    report({
      rule: 'POL-002',
      message: `training.instanceCount ${t.instanceCount} is over the platform policy maximum of ${p.maxInstanceCount}.`,
      location: at('/training/instanceCount'),
      fix: `Set training.instanceCount to ${p.maxInstanceCount} or less, ${ASK}.`,
    });
  if (p.maxRuntime !== undefined) {
    const limit = safeSeconds(p.maxRuntime);
    const asked = safeSeconds(t.maxRuntime);
    if (limit !== undefined && asked !== undefined && asked > limit)
      report({
        rule: 'POL-003',
        message: `training.maxRuntime ${formatDuration(asked)}${isRecord(raw.training) && raw.training.maxRuntime === undefined ? ' (the default)' : ''} is over the platform policy maximum of ${formatDuration(limit)}.`,
        location: at('/training/maxRuntime'),
        fix: `Set training.maxRuntime to ${formatDuration(limit)} or less, ${ASK}.`,
      });
  }
  if (p.allowSpot === false && t.spot.enabled)
    report({
      rule: 'POL-006',
      message: 'training.spot.enabled is true but the platform policy does not allow spot training.',
      location: at('/training/spot/enabled'),
      fix: `Set training.spot.enabled: false, ${ASK}.`,
    });
  if (p.maxVolumeSizeGB !== undefined && t.volumeSizeGB > p.maxVolumeSizeGB) {
    const defaulted = isRecord(raw.training) && raw.training.volumeSizeGB === undefined;
    report({
      rule: 'POL-009',
      message: `training.volumeSizeGB ${t.volumeSizeGB}${defaulted ? ' (the default)' : ''} is over the platform policy maximum of ${p.maxVolumeSizeGB} GB.`,
      location: at('/training/volumeSizeGB'),
      fix: `Set training.volumeSizeGB to ${p.maxVolumeSizeGB} or less, ${ASK}.`,
    });
  }
}

function dataLocations({ m, policy, at, report }: Input): void {
  const allowed = policy.data?.allowedLocations;
  if (!allowed || allowed.length === 0) return;
  m.data.forEach((entry, i) => {
    if (isWithinLocations(entry.uri, allowed)) return;
    report({
      rule: 'POL-004',
      message: `data[${i}].uri ${entry.uri.slice(0, 200)} is outside the S3 locations the platform policy allows (${allowed.join(', ')}).`,
      location: at(`/data/${i}/uri`),
      fix: `Copy the data under an allowed location (e.g. ${allowed[0]}) and point data[${i}].uri there, ${ASK}.`,
    });
  });
}

function requiredFields({ raw, policy, at, report }: Input): void {
  for (const path of policy.requiredFields ?? []) {
    const segments = path.split('.');
    let node: unknown = raw;
    let present = true;
    for (const segment of segments) {
      if (!isRecord(node) || node[segment] === undefined) {
        present = false;
        break;
      }
      node = node[segment];
    }
    if (present) continue;
    report({
      rule: 'POL-005',
      message: `${path} is required by the platform policy but the manifest does not set it.`,
      location: at(`/${segments.join('/')}`),
      fix: `Add ${path} to the manifest (see docs/manifest.md for its format).`,
    });
  }
}

function images({ m, policy, at, report }: Input): void {
  const checks: [string, string | undefined, string[] | undefined][] = [
    ['training', m.training.image, policy.training?.allowedImages],
    ['serving', m.serving?.image, policy.serving?.allowedImages],
  ];
  for (const [section, image, allowed] of checks) {
    if (image === undefined || !allowed || matchesAllowed(image, allowed)) continue;
    report({
      rule: 'POL-007',
      message: `${section}.image ${image.slice(0, 200)} is not allowed by the platform policy (allowed: ${allowed.join(', ')}).`,
      location: at(`/${section}/image`),
      fix: `Use an allowed ${section} image, ${ASK}.`,
    });
  }
}

function serving({ m, policy, at, report }: Input): void {
  const s = m.serving;
  const p = policy.serving ?? {};
  if (!s) return;
  if (p.allowedInstanceTypes && !matchesAllowed(s.instanceType, p.allowedInstanceTypes)) {
    const use = suggestion(s.instanceType, p.allowedInstanceTypes);
    report({
      rule: 'POL-008',
      message: `serving.instanceType ${s.instanceType} is not allowed by the platform policy (allowed: ${p.allowedInstanceTypes.join(', ')}).`,
      location: at('/serving/instanceType'),
      fix: `Use an allowed instance type${use ? `, e.g. ${use}` : ''}, ${ASK}.`,
    });
  }
  if (p.maxInstanceCount !== undefined && s.instanceCount > p.maxInstanceCount)
    report({
      rule: 'POL-008',
      message: `serving.instanceCount ${s.instanceCount} is over the platform policy maximum of ${p.maxInstanceCount}.`,
      location: at('/serving/instanceCount'),
      fix: `Set serving.instanceCount to ${p.maxInstanceCount} or less, ${ASK}.`,
    });
}

function approval({ m, policy, at, report }: Input): void {
  if (m.deployment.approval !== 'auto' || !policy.approval?.forceManual) return;
  report({
    rule: 'POL-010',
    message:
      'deployment.approval is auto, but the platform policy forces manual approval: each version that passes its gates will wait for a person to approve it.',
    location: at('/deployment/approval'),
    fix: 'Set deployment.approval: manual to match what will happen, and approve versions with nbops approve.',
  });
}

function safeSeconds(d: number | string): number | undefined {
  try {
    return parseDuration(d);
  } catch {
    return undefined;
  }
}
