/**
 * Extracts the slice of the official AWS API models (botocore service-2.json) that nbops needs
 * into layers/core/aws/api-models.json: the input shapes of every operation nbops calls, plus
 * named enums (instance types). The reference models live outside the repository
 * (../shared/reference/aws-models), so the compact file is committed and a test checks it is
 * current whenever the reference is present.
 *
 *   npm run extract-aws-models            # rewrite the compact file
 *   npm run extract-aws-models -- --check # exit 1 if it is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const compactModelPath = join(repoRoot, 'layers/core/aws/api-models.json');
export const defaultReferenceDir =
  process.env.NBOPS_AWS_MODELS_DIR ?? resolve(repoRoot, '../shared/reference/aws-models');

/** Operations nbops calls (or may call), per service file. Outputs are kept where tests mock responses. */
const WANTED: Record<string, { file: string; inputs: string[]; outputs: string[] }> = {
  sagemaker: {
    file: 'sagemaker.json',
    inputs: [
      'CreateTrainingJob',
      'DescribeTrainingJob',
      'StopTrainingJob',
      'CreateModel',
      'DescribeModel',
      'DeleteModel',
      'CreateEndpointConfig',
      'DescribeEndpointConfig',
      'DeleteEndpointConfig',
      'CreateEndpoint',
      'UpdateEndpoint',
      'DescribeEndpoint',
      'DeleteEndpoint',
      'AddTags',
    ],
    outputs: ['DescribeTrainingJob', 'DescribeEndpoint', 'CreateTrainingJob'],
  },
  cloudwatch: {
    file: 'cloudwatch.json',
    inputs: [
      'PutMetricAlarm',
      'PutCompositeAlarm',
      'DeleteAlarms',
      'DescribeAlarms',
      'PutMetricData',
      'PutDashboard',
    ],
    outputs: [],
  },
  events: {
    file: 'events.json',
    inputs: ['PutRule', 'PutTargets', 'DeleteRule', 'RemoveTargets', 'PutEvents'],
    outputs: [],
  },
  scheduler: {
    file: 'scheduler.json',
    inputs: ['CreateSchedule', 'UpdateSchedule', 'DeleteSchedule', 'GetSchedule'],
    outputs: [],
  },
};

/** Named enums kept even when no wanted operation reaches them by name. */
const NAMED_ENUMS: Record<string, string[]> = {
  sagemaker: ['TrainingInstanceType', 'ProductionVariantInstanceType', 'TrainingJobStatus', 'EndpointStatus'],
};

type RawShape = Record<string, unknown> & { type: string };
type RawModel = {
  metadata: Record<string, unknown>;
  operations: Record<string, { input?: { shape: string }; output?: { shape: string } }>;
  shapes: Record<string, RawShape>;
};

const KEPT_FIELDS = [
  'type',
  'required',
  'min',
  'max',
  'pattern',
  'enum',
  'key',
  'value',
  'member',
  'members',
];

/**
 * botocore patterns are Java regexes. Translate the few constructs JavaScript's unicode mode
 * rejects (identity escapes such as `\-` outside a class, `\_`, `\p{Alnum}`); return undefined
 * when the pattern still cannot be expressed, so the checker skips it rather than misjudging.
 */
export function toJsPattern(pattern: string): string | undefined {
  const attempt = (p: string) => {
    try {
      new RegExp(`^(?:${p})$`, 'u');
      return true;
    } catch {
      return false;
    }
  };
  if (attempt(pattern)) return pattern;
  let out = pattern.replace(/\\p\{Alnum\}/g, 'A-Za-z0-9');
  // Drop backslashes before characters that need no escaping (unicode mode forbids them).
  out = out.replace(/\\([^\\dDwWsSbBnrtfv0pPuxck^$.*+?()[\]{}|/-])/g, '$1');
  if (attempt(out)) return out;
  // `\-` is only legal inside a class in unicode mode: outside one it means a plain `-`.
  let inClass = false;
  let fixed = '';
  for (let i = 0; i < out.length; i++) {
    const c = out[i];
    if (c === '\\') {
      const next = out[i + 1] ?? '';
      fixed += !inClass && next === '-' ? '-' : c + next;
      i++;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    fixed += c;
  }
  return attempt(fixed) ? fixed : undefined;
}

function compactShape(raw: RawShape): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of KEPT_FIELDS) {
    const v = raw[field];
    if (v === undefined) continue;
    if (field === 'members') {
      const members: Record<string, string> = {};
      for (const [name, ref] of Object.entries(v as Record<string, { shape: string }>))
        members[name] = ref.shape;
      out.members = members;
    } else if (field === 'key' || field === 'value' || field === 'member') {
      out[field] = (v as { shape: string }).shape;
    } else if (field === 'pattern') {
      const js = toJsPattern(v as string);
      if (js !== undefined) out.pattern = js;
    } else {
      out[field] = v;
    }
  }
  return out;
}

export function extract(referenceDir: string = defaultReferenceDir): string {
  const services: Record<string, unknown> = {};
  for (const [service, wanted] of Object.entries(WANTED)) {
    const model = JSON.parse(readFileSync(join(referenceDir, wanted.file), 'utf8')) as RawModel;
    const shapes: Record<string, unknown> = {};
    const visit = (name: string) => {
      if (name in shapes) return;
      const raw = model.shapes[name];
      if (!raw) throw new Error(`${service}: shape ${name} not found`);
      const compact = compactShape(raw);
      shapes[name] = compact;
      for (const ref of [compact.key, compact.value, compact.member]) if (typeof ref === 'string') visit(ref);
      for (const ref of Object.values((compact.members as Record<string, string>) ?? {})) visit(ref);
    };
    const operations: Record<string, { input?: string; output?: string }> = {};
    for (const op of wanted.inputs) {
      const spec = model.operations[op];
      if (!spec?.input) throw new Error(`${service}: operation ${op} has no input`);
      operations[op] = { input: spec.input.shape };
      visit(spec.input.shape);
    }
    for (const op of wanted.outputs) {
      const spec = model.operations[op];
      if (!spec?.output) throw new Error(`${service}: operation ${op} has no output`);
      operations[op] = { ...operations[op], output: spec.output.shape };
      visit(spec.output.shape);
    }
    for (const name of NAMED_ENUMS[service] ?? []) visit(name);
    const sorted = Object.fromEntries(Object.entries(shapes).sort(([a], [b]) => a.localeCompare(b)));
    services[service] = {
      apiVersion: model.metadata.apiVersion,
      protocol: model.metadata.protocol,
      operations,
      shapes: sorted,
    };
  }
  const doc = {
    _comment:
      'Generated by scripts/extract-aws-models.ts from botocore service-2.json models (Apache-2.0). Do not edit.',
    services,
  };
  return `${JSON.stringify(doc, null, 1)}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const fresh = extract();
  if (process.argv.includes('--check')) {
    const current = readFileSync(compactModelPath, 'utf8');
    if (current !== fresh) {
      console.error(`${compactModelPath} is stale: run npm run extract-aws-models`);
      process.exit(1);
    }
    console.log('api-models.json is current');
  } else {
    writeFileSync(compactModelPath, fresh);
    console.log(`wrote ${compactModelPath} (${(fresh.length / 1024).toFixed(0)} KiB)`);
  }
}
