/**
 * The platform policy: configuration of an nbops deployment (schemas/policy.schema.json), not of a
 * notebook. Loaded from YAML or JSON, checked against the schema, and resolved against defaults.
 */
import { LineCounter, parseDocument } from 'yaml';
import { parseDuration } from '#core/manifest/duration';
import { MAX_TRAINING_RUNTIME_SECONDS } from '#core/manifest/limits';
import { describeErrors, validatorFor } from '#core/manifest/schema-errors';
import { closest } from '#core/manifest/suggest';
import { lineIndex, MAX_YAML_DEPTH, nestingTooDeep } from '#core/manifest/yaml-lines';
import { isRecord } from '#core/notebook/notebook';
import type { Finding } from '#core/validation/finding';
import manifestSchema from '../../../schemas/manifest.schema.json' with { type: 'json' };
import policySchema from '../../../schemas/policy.schema.json' with { type: 'json' };
import type { Policy } from './policy.generated';

export type { Policy } from './policy.generated';

/** Rule id of findings about the policy file itself. */
export const POLICY_FILE_RULE = 'POL-011';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** What applies where a policy says nothing: no limits beyond SageMaker's own, manual approval by someone else than the uploader. */
export const DEFAULT_POLICY: Readonly<Policy> = deepFreeze({
  maxNotebookBytes: 50 * 1024 * 1024,
  rules: {},
  requiredFields: [],
  training: { allowSpot: true },
  serving: {},
  data: { requirePinnedVersions: false },
  approval: { allowSelfApproval: false, forceManual: false },
  secrets: { allowlist: [] },
} satisfies Policy);

/** `p` over DEFAULT_POLICY: objects merged field by field, lists replaced. Returns a new object. */
export function resolvePolicy(p?: Policy): Policy {
  return merge(structuredClone(DEFAULT_POLICY) as Record<string, unknown>, p ?? {}) as Policy;
}

function merge(base: Record<string, unknown>, over: object): Record<string, unknown> {
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = base[key];
    base[key] = isRecord(value) && isRecord(current) ? merge(current, value) : structuredClone(value);
  }
  return base;
}

/** True when `value` equals one of `patterns` or matches one as a glob (`*` matches any text). */
export function matchesAllowed(value: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) =>
    pattern.includes('*') ? globRegex(pattern).test(value) : pattern === value,
  );
}

const globs = new Map<string, RegExp>();
/**
 * `*` matches any text; with `withinSegment`, any text without `/` (S3 bucket and key segments).
 * With `prefix`, the pattern only has to match the start of the value.
 */
function globRegex(pattern: string, withinSegment = false, prefix = false): RegExp {
  const key = `${withinSegment}${prefix}\n${pattern}`;
  let re = globs.get(key);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join(withinSegment ? '[^/]*' : '.*');
    re = new RegExp(`^${body}${prefix ? '' : '$'}`, 's');
    globs.set(key, re);
  }
  return re;
}

/**
 * True when S3 `uri` lies inside one of `locations` (prefixes such as `s3://ml-data/churn/`, or a
 * bucket `s3://ml-data`; `*` matches within one path segment). A location ends at a path boundary:
 * `s3://ml-data` does not allow `s3://ml-data-public/...`.
 */
export function isWithinLocations(uri: string, locations: readonly string[]): boolean {
  return locations.some((location) => {
    const bare = location.endsWith('/') ? location.slice(0, -1) : location;
    return globRegex(bare, true).test(uri) || globRegex(`${bare}/`, true, true).test(uri);
  });
}

export interface LoadedPolicy {
  /** The policy as written (call resolvePolicy for defaults); absent when the file has errors. */
  policy?: Policy;
  findings: Finding[];
}

/** Parses and checks a policy file (YAML or JSON). Never throws. */
export function loadPolicy(text: string, file: string): LoadedPolicy {
  if (nestingTooDeep(text))
    return {
      findings: [
        fileFinding(
          file,
          `${file} nests more than ${MAX_YAML_DEPTH} levels deep; a policy needs fewer than 10.`,
          'Write the policy as plain YAML or JSON.',
        ),
      ],
    };
  const lineCounter = new LineCounter();
  let raw: unknown;
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, version: '1.2' });
    if (/\.json$/i.test(file)) {
      try {
        raw = JSON.parse(text);
      } catch (err) {
        return {
          findings: [
            fileFinding(file, `${file} is not valid JSON: ${firstLine(err)}`, 'Fix the JSON syntax.'),
          ],
        };
      }
    } else {
      if (doc.errors.length > 0)
        return {
          findings: doc.errors
            .slice(0, 20)
            .map((e) =>
              fileFinding(
                file,
                `${file} is not valid YAML: ${firstLine(e)}`,
                'Fix the YAML syntax at that line.',
                e.linePos?.[0].line,
              ),
            ),
        };
      raw = doc.toJS({ maxAliasCount: 100 });
    }
  } catch (err) {
    return {
      findings: [
        fileFinding(
          file,
          `${file} could not be read: ${firstLine(err)}`,
          'Write the policy as plain YAML or JSON.',
        ),
      ],
    };
  }
  if (raw === null || raw === undefined) raw = {}; // an empty file is an empty policy

  const { lineOf } = lineIndex(doc, lineCounter);
  const validate = validatorFor(policySchema);
  const findings: Finding[] = [];
  if (!validate(raw)) {
    for (const problem of describeErrors(validate.errors ?? [], raw, 'policy', policySchema)) {
      findings.push(
        fileFinding(file, problem.message, problem.fix, lineOf(problem.pointer), problem.pointer),
      );
    }
    return { findings };
  }
  const policy = raw as Policy;
  checkSemantics(policy, (pointer, message, fix, severity) => {
    const finding = fileFinding(file, message, fix, lineOf(pointer), pointer);
    if (severity) finding.severity = severity;
    findings.push(finding);
  });
  return findings.some((f) => f.severity === 'error') ? { findings } : { policy, findings };
}

/** What the schema cannot say: regexes that compile, durations in range. */
function checkSemantics(
  policy: Policy,
  problem: (pointer: string, message: string, fix: string, severity?: 'warning') => void,
): void {
  (policy.secrets?.allowlist ?? []).forEach((entry, i) => {
    if (entry.pattern === undefined) return;
    for (const flags of ['', 'u']) {
      try {
        new RegExp(entry.pattern, flags);
      } catch (err) {
        problem(
          `/secrets/allowlist/${i}/pattern`,
          `secrets.allowlist[${i}].pattern ${JSON.stringify(entry.pattern.slice(0, 80))} is not a valid regular expression (${firstLine(err)}).`,
          'Fix the regular expression (JavaScript syntax; escape literal . ( ) [ ] with a backslash), or use sha256 instead.',
        );
        return;
      }
    }
  });
  (policy.requiredFields ?? []).forEach((path, i) => {
    if (isManifestField(path)) return;
    const known = manifestFieldPaths();
    const suggestion = closest(path, known);
    problem(
      `/requiredFields/${i}`,
      `requiredFields[${i}] "${path.slice(0, 80)}" is not a manifest field${suggestion ? `; did you mean "${suggestion}"?` : '.'}`,
      suggestion
        ? `Use "${suggestion}".`
        : 'Use a dotted manifest field path such as runbook, slo.latency or drift (see docs/manifest.md).',
    );
  });
  const maxRuntime = policy.training?.maxRuntime;
  if (maxRuntime !== undefined) {
    let seconds: number | undefined;
    try {
      seconds = parseDuration(maxRuntime);
    } catch (err) {
      problem(
        '/training/maxRuntime',
        `training.maxRuntime ${firstLine(err)}`,
        'Use a duration such as 12h or 2d.',
      );
    }
    if (seconds === 0)
      problem(
        '/training/maxRuntime',
        'training.maxRuntime is 0, so no training job could run.',
        'Set training.maxRuntime to at least 1s.',
      );
    else if (seconds !== undefined && seconds > MAX_TRAINING_RUNTIME_SECONDS)
      problem(
        '/training/maxRuntime',
        `training.maxRuntime is longer than SageMaker's 28-day maximum, so it limits nothing.`,
        'Set training.maxRuntime to 28d or less.',
        'warning',
      );
  }
}

let fieldPaths: string[] | undefined;
/** Every dotted object path of the manifest schema: `model`, `model.name`, `slo.latency`, ... */
function manifestFieldPaths(): string[] {
  if (!fieldPaths) {
    const paths: string[] = [];
    const walk = (schema: unknown, prefix: string) => {
      if (!isRecord(schema) || !isRecord(schema.properties)) return;
      for (const [name, sub] of Object.entries(schema.properties)) {
        if (name === '$schema') continue;
        const path = prefix ? `${prefix}.${name}` : name;
        paths.push(path);
        walk(sub, path);
      }
    };
    walk(manifestSchema, '');
    fieldPaths = paths;
  }
  return fieldPaths;
}

function isManifestField(path: string): boolean {
  return manifestFieldPaths().includes(path);
}

function fileFinding(file: string, message: string, fix: string, line?: number, pointer = ''): Finding {
  return {
    rule: POLICY_FILE_RULE,
    severity: 'error',
    message,
    location: line === undefined ? { pointer, file } : { pointer, file, line },
    fix,
  };
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
