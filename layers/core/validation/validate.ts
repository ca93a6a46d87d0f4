/**
 * The validator: one call turns notebook bytes (plus an optional sidecar manifest and the platform
 * policy) into findings. Knows nothing of Lambda, S3 or the CLI: the submit handler and `nbops
 * validate` both call validateNotebook.
 */
import { readManifest } from '#core/manifest/read';
import { resolvePolicy } from '#core/policy/policy';
import type { Policy } from '#core/policy/policy.generated';
import { executionFamily } from './execution';
import type { CheckContext, ManifestSource, RuleFamilyModule } from './family';
import { type Finding, findingOrder, type Report, type RuleSpec, type Severity } from './finding';
import { hygieneFamily } from './hygiene';
import { manifestFamily } from './manifest-rules';
import { parseNotebook, parseRules } from './parse';
import { policyFamily } from './policy-rules';
import { reproducibilityFamily } from './reproducibility';
import { redactSecrets, secretsFamily } from './secrets';
import { structureFamily } from './structure';
import { submitRules } from './submit-rules';

/** Run order matters: the manifest family sets ctx.manifest.value, which policy and later families read. */
export const FAMILIES: readonly RuleFamilyModule[] = [
  structureFamily,
  manifestFamily,
  policyFamily,
  executionFamily,
  hygieneFamily,
  reproducibilityFamily,
  secretsFamily,
];

/** Every rule nbops can report, keyed by id (feeds SARIF rule metadata, docs and policy checks). */
export const RULES: ReadonlyMap<string, RuleSpec> = new Map(
  [...parseRules, ...FAMILIES.flatMap((f) => f.rules), ...submitRules].map((r) => [r.id, r]),
);

/** Above this many findings of one rule in one notebook, the rest are summarised in one finding. */
export const MAX_FINDINGS_PER_RULE = 200;

export interface ValidateInput {
  /** Notebook bytes (preferred: encoding is checked) or already-decoded text. */
  content: Uint8Array | string;
  /** Display path, used in messages and reports. */
  path: string;
  /** A sidecar manifest (`<name>.nbops.yaml`), used when the notebook metadata has none. */
  sidecar?: { path: string; text: string };
  policy?: Policy;
}

export interface ValidationSummary {
  errors: number;
  warnings: number;
  infos: number;
}

export interface ValidationResult {
  path: string;
  /** No error findings. */
  valid: boolean;
  summary: ValidationSummary;
  findings: Finding[];
  /** The parsed notebook, when it parsed. */
  notebook?: unknown;
  /** The notebook text, when it decoded (reports use it to locate pointers). */
  text?: string;
  manifest?: ManifestSource;
}

export function validateNotebook(input: ValidateInput): ValidationResult {
  const policy = resolvePolicy(input.policy);
  const findings: Finding[] = [];
  const parsed = parseNotebook(input.content, {
    maxBytes: policy.maxNotebookBytes ?? Number.POSITIVE_INFINITY,
  });
  findings.push(...parsed.findings);
  if (!parsed.ok) return finish(input.path, findings, policy);

  const report: Report = (f) => {
    const spec = RULES.get(f.rule);
    findings.push({ ...f, severity: f.severity ?? spec?.defaultSeverity ?? 'error' });
  };
  const { source, findings: manifestFindings } = readManifest(parsed.value, input.sidecar);
  findings.push(...manifestFindings);
  const ctx: CheckContext = { notebook: parsed.value, text: parsed.text, policy, report };
  if (source) ctx.manifest = source;
  for (const family of FAMILIES) family.check(ctx);

  const result = finish(input.path, findings, policy);
  result.notebook = parsed.value;
  result.text = parsed.text;
  if (ctx.manifest) result.manifest = ctx.manifest;
  return result;
}

/** Result for input that could not be read at all (missing file, over the size cap before reading). */
export function resultFromFindings(path: string, findings: Finding[], policy?: Policy): ValidationResult {
  return finish(path, findings, resolvePolicy(policy));
}

function finish(path: string, raw: Finding[], policy: Policy): ValidationResult {
  const effective = applyOverrides(raw, policy.rules ?? {});
  // The summary counts every finding; the list is capped per rule (with a note saying how many
  // more), and redacted after capping because a huge notebook can yield ~100k findings.
  const summary = summarize(effective);
  const findings = capPerRule(effective).map(redact);
  findings.sort(findingOrder);
  return { path, valid: summary.errors === 0, summary, findings };
}

function applyOverrides(
  findings: Finding[],
  overrides: Record<string, 'off' | Severity | undefined>,
): Finding[] {
  const out: Finding[] = [];
  for (const f of findings) {
    const override = overrides[f.rule];
    if (override === 'off') continue;
    out.push(override ? { ...f, severity: override } : f);
  }
  return out;
}

/** Secrets never leave the validator in clear, whichever rule's message or snippet quotes them. */
function redact(f: Finding): Finding {
  const message = redactSecrets(f.message);
  const snippet = f.snippet === undefined ? undefined : redactSecrets(f.snippet);
  if (message === f.message && snippet === f.snippet) return f;
  return snippet === undefined ? { ...f, message } : { ...f, message, snippet };
}

function capPerRule(findings: Finding[]): Finding[] {
  const counts = new Map<string, number>();
  const out: Finding[] = [];
  for (const f of findings) {
    const n = (counts.get(f.rule) ?? 0) + 1;
    counts.set(f.rule, n);
    if (n <= MAX_FINDINGS_PER_RULE) out.push(f);
  }
  for (const [rule, n] of counts) {
    if (n <= MAX_FINDINGS_PER_RULE) continue;
    const first = findings.find((f) => f.rule === rule)!;
    out.push({
      rule,
      severity: first.severity,
      message: `${n - MAX_FINDINGS_PER_RULE} more ${rule} findings not listed (${n} in total).`,
      location: { pointer: '' },
      fix: `Fix the ${rule} findings above and validate again to see the rest.`,
    });
  }
  return out;
}

export function summarize(findings: readonly Finding[]): ValidationSummary {
  const summary = { errors: 0, warnings: 0, infos: 0 };
  for (const f of findings) {
    if (f.severity === 'error') summary.errors++;
    else if (f.severity === 'warning') summary.warnings++;
    else summary.infos++;
  }
  return summary;
}
