// Every request nbops would send for the example churn notebook (layers/core/sagemaker/plan.ts),
// so adapter tests drive the adapters with real requests rather than hand-written ones.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { applyManifestDefaults, validateManifestShape } from '#core/manifest/schema';
import { resolvePolicy } from '#core/policy/policy';
import { type PlannedRequest, planRequests } from '#core/sagemaker/plan';

export function examplePlan(): PlannedRequest[] {
  const shape = validateManifestShape(parse(readFileSync('examples/churn/manifest.yaml', 'utf8')));
  if (!shape.ok) throw new Error('the example manifest no longer validates');
  const manifest = applyManifestDefaults(shape.value);
  const plan = planRequests({
    model: manifest.model.name,
    manifest,
    policy: resolvePolicy(),
    notebook: { file: 'churn.ipynb', sha256: '1a2b3c4d'.repeat(8) },
    runtime: { hash: 'f'.repeat(64) },
    owner: manifest.model.owner,
  });
  if (plan.failures.length > 0) throw new Error(`example plan failed: ${plan.failures[0]?.message}`);
  return plan.requests;
}
