/**
 * MAN-*: the manifest. readManifest (run by the validator before the families) finds the manifest
 * and reports MAN-001/002/008/009 about finding and parsing it; this family checks its content:
 * the schema first (MAN-002, MAN-011 for durations), then what the schema cannot say. When the
 * shape is valid it sets ctx.manifest.value, which the policy and later families rely on.
 */
import { enumValues } from '#core/aws/api-model';
import { formatDuration, parseDuration } from '#core/manifest/duration';
import {
  encodeHyperParameter,
  MAX_BAKE_SECONDS,
  MAX_DATA_CHANNELS,
  MAX_DEPLOYMENT_SECONDS,
  MAX_HYPERPARAMETER_VALUE_LENGTH,
  MAX_TRAINING_RUNTIME_SECONDS,
  MAX_USER_PARAMETERS,
  RESERVED_CHANNEL_NAMES,
  RESERVED_PARAMETER_PREFIXES,
} from '#core/manifest/limits';
import { checkScheduleExpression } from '#core/manifest/schedule';
import { applyManifestDefaults, type ResolvedManifest, validateManifestShape } from '#core/manifest/schema';
import { closest, closestInstanceType } from '#core/manifest/suggest';
import { cellSource, cellsOf, pointerToken } from '#core/notebook/notebook';
import { assignedNames, parametersCellIndex } from '#core/notebook/parameters';
import type { CheckContext, ManifestSource, RuleFamilyModule } from './family';
import type { Location, Report, RuleSpec } from './finding';

const rule = (
  id: string,
  defaultSeverity: RuleSpec['defaultSeverity'],
  title: string,
  rationale: string,
): RuleSpec => ({
  id,
  family: 'manifest',
  defaultSeverity,
  title,
  rationale,
});

export const manifestRules: RuleSpec[] = [
  rule(
    'MAN-001',
    'error',
    'The notebook has a manifest',
    'The manifest (metadata key `nbops` or a sidecar) says how to train, gate, serve and watch the model; without it nbops cannot run the notebook.',
  ),
  rule(
    'MAN-002',
    'error',
    'The manifest is readable and matches the manifest schema',
    'A misspelt or mistyped field would silently fall back to a default or fail late in AWS; the schema (schemas/manifest.schema.json) catches it at upload.',
  ),
  rule(
    'MAN-003',
    'error',
    'Every manifest parameter is assigned in the `parameters` cell',
    'nbops injects parameters after the cell tagged `parameters` (papermill convention); a name the cell does not assign is usually a typo, and papermill only logs it while the notebook runs on its own value.',
  ),
  rule(
    'MAN-004',
    'error',
    'Quality gates refer to declared metrics',
    'A gate on a metric that is not captured can never be evaluated, so the version could never be deployed.',
  ),
  rule(
    'MAN-005',
    'error',
    'Spot training has checkpoints enabled',
    'Spot jobs get interrupted; without checkpoints every interruption restarts training from scratch, until the wait limit ends the job.',
  ),
  rule(
    'MAN-006',
    'error',
    'Spot maxWait is at least maxRuntime',
    'The SageMaker API requires MaxWaitTimeInSeconds >= MaxRuntimeInSeconds; CreateTrainingJob rejects anything else.',
  ),
  rule(
    'MAN-007',
    'error',
    'Instance types exist in SageMaker (and training uses a GPU)',
    'An instance type outside the SageMaker API enum fails CreateTrainingJob / CreateEndpointConfig; training a model notebook on CPU is usually a mistake.',
  ),
  rule(
    'MAN-008',
    'error',
    'The manifest is where nbops reads it',
    'A manifest under another metadata key, in a cell or in a raw cell is never read, so the notebook would be treated as having none.',
  ),
  rule(
    'MAN-009',
    'warning',
    'Only one manifest: notebook metadata or sidecar',
    'With two manifests it is easy to edit the one nbops ignores; metadata.nbops wins.',
  ),
  rule(
    'MAN-010',
    'error',
    'Parameters fit SageMaker HyperParameters',
    'Parameters travel as HyperParameters: at most 100 (nbops keeps 10), values at most 256 characters, and names nbops and the SageMaker toolkit use are reserved.',
  ),
  rule(
    'MAN-011',
    'error',
    'Durations are valid and within SageMaker limits',
    'MaxRuntimeInSeconds is at most 28 days and deployment wait intervals at most 3600 s; other values fail the AWS call after the upload was accepted.',
  ),
  rule(
    'MAN-012',
    'warning',
    'The deployment settings can work as written',
    'Canary and linear shifting are defined on whole endpoint instances and bounded in total time; some combinations protect nothing or cannot be deployed.',
  ),
  rule(
    'MAN-013',
    'error',
    'Drift evaluation has what it needs',
    'Drift is computed from captured requests per feature: it needs serving.features and data capture enabled.',
  ),
  rule(
    'MAN-014',
    'error',
    'Data channel names are unique and not reserved',
    'Each data entry becomes a SageMaker input channel; duplicate names or names nbops uses itself make CreateTrainingJob fail or shadow nbops inputs.',
  ),
  rule(
    'MAN-015',
    'error',
    'The drift schedule is a valid EventBridge expression',
    'EventBridge rejects rate() with the wrong singular/plural unit and cron() without 6 fields and a ? in day-of-month or day-of-week; the deployment would fail.',
  ),
  rule(
    'MAN-016',
    'error',
    'Metrics and gates are consistent',
    'Duplicate metric names make MetricDefinitions ambiguous; a gate whose min is above its max can never pass.',
  ),
];

/** Location of a point in the manifest: in the notebook metadata, or in the sidecar file. */
export function manifestLocation(source: ManifestSource, pointer: string): Location {
  if (source.origin === 'metadata') return { pointer: `${source.pointer}${pointer}` };
  const location: Location = { pointer: `${source.pointer}${pointer}` };
  if (source.file !== undefined) location.file = source.file;
  const line = source.lineOf?.(pointer);
  if (line !== undefined) location.line = line;
  return location;
}

type At = (pointer: string) => Location;

interface RuleInput {
  m: ResolvedManifest;
  /** The manifest as written, for "was this field set explicitly". */
  raw: Record<string, unknown>;
  at: At;
  ctx: CheckContext;
  report: Report;
}

function check(ctx: CheckContext): void {
  const source = ctx.manifest;
  if (!source) return; // readManifest already reported why (MAN-001, MAN-002, MAN-008)
  const at: At = (pointer) => manifestLocation(source, pointer);
  const shape = validateManifestShape(source.raw);
  if (!shape.ok) {
    delete source.value;
    for (const problem of shape.errors)
      ctx.report({
        rule: problem.duration ? 'MAN-011' : 'MAN-002',
        message: problem.message,
        location: at(problem.pointer),
        fix: problem.fix,
      });
    return;
  }
  source.value = shape.value;
  const input: RuleInput = {
    m: applyManifestDefaults(shape.value),
    raw: shape.value as unknown as Record<string, unknown>,
    at,
    ctx,
    report: ctx.report,
  };
  for (const run of [
    parametersAssigned,
    gatesDeclared,
    spotCheckpoints,
    spotMaxWait,
    instanceTypes,
    hyperParameterLimits,
    durations,
    deploymentRules,
    driftNeeds,
    dataChannels,
    driftSchedule,
    metricsConsistent,
  ])
    run(input);
}

export const manifestFamily: RuleFamilyModule = { family: 'manifest', rules: manifestRules, check };

const list = (names: readonly string[], max = 5) =>
  names.length > max ? `${names.slice(0, max).join(', ')} and ${names.length - max} more` : names.join(', ');

/** Seconds of a schema-valid duration, or undefined when it overflows (reported by MAN-011). */
function seconds(d: number | string | undefined): number | undefined {
  if (d === undefined) return undefined;
  try {
    return parseDuration(d);
  } catch {
    return undefined;
  }
}

const show = (d: number | string, s: number) => (typeof d === 'number' ? `${d} s` : `${d} = ${s} s`);

// MAN-003
function parametersAssigned({ m, ctx, report }: RuleInput): void {
  const names = Object.keys(m.parameters);
  if (names.length === 0) return;
  const index = parametersCellIndex(ctx.notebook);
  // A missing parameters cell is EX-001's finding (execution readiness); reporting it here too
  // would give the user the same error twice.
  if (index === undefined) return;
  const source = cellSource(cellsOf(ctx.notebook)[index]) ?? '';
  const assigned = assignedNames(source);
  for (const name of names) {
    if (assigned.has(name)) continue;
    const suggestion = closest(name, [...assigned.keys()]);
    report({
      rule: 'MAN-003',
      message: `Manifest parameter "${name}" is not assigned in the parameters cell (cell ${index})${suggestion ? `, which assigns "${suggestion}"` : ''}; the injected value would not replace anything the notebook defines.`,
      location: { pointer: `/cells/${index}/source`, cell: index },
      fix: suggestion
        ? `Rename the manifest parameter to "${suggestion}", or the variable to "${name}".`
        : `Add \`${name} = <default>\` to the parameters cell, or remove "${name}" from the manifest's parameters.`,
    });
  }
}

// MAN-004
function gatesDeclared({ m, at, report }: RuleInput): void {
  const declared = m.metrics.map((metric) => metric.name);
  m.gates.forEach((gate, i) => {
    if (declared.includes(gate.metric)) return;
    const suggestion = closest(gate.metric, declared);
    report({
      rule: 'MAN-004',
      message: `gates[${i}] checks metric "${gate.metric}", which is not declared in metrics${suggestion ? `; did you mean "${suggestion}"?` : ` (declared: ${declared.length ? list(declared) : 'none'}).`}`,
      location: at(`/gates/${i}/metric`),
      fix: suggestion
        ? `Change the gate's metric to "${suggestion}".`
        : `Declare it in metrics (name: ${gate.metric}, goal: maximize or minimize) and log it from the notebook, or fix the gate's metric name.`,
    });
  });
}

// MAN-005
function spotCheckpoints({ m, at, report }: RuleInput): void {
  if (!m.training.spot.enabled || m.training.checkpoints.enabled) return;
  report({
    rule: 'MAN-005',
    message:
      'training.spot is enabled but training.checkpoints is not: spot jobs get interrupted, and without checkpoints each interruption restarts training from the beginning.',
    location: at('/training/spot/enabled'),
    fix: 'Set training.checkpoints.enabled: true and have the notebook save and resume its state under /opt/ml/checkpoints, or set training.spot.enabled: false.',
  });
}

// MAN-006
function spotMaxWait({ m, raw, at, report }: RuleInput): void {
  const spotRaw = (raw.training as { spot?: { maxWait?: unknown } }).spot;
  if (!m.training.spot.enabled) {
    if (spotRaw?.maxWait !== undefined)
      report({
        rule: 'MAN-006',
        severity: 'info',
        message: 'training.spot.maxWait is set but spot training is not enabled, so it is ignored.',
        location: at('/training/spot/maxWait'),
        fix: 'Set training.spot.enabled: true to use spot instances, or remove maxWait.',
      });
    return;
  }
  const maxWait = m.training.spot.maxWait;
  const wait = seconds(maxWait);
  const runtime = seconds(m.training.maxRuntime);
  if (maxWait === undefined || wait === undefined || runtime === undefined || wait >= runtime) return;
  report({
    rule: 'MAN-006',
    message: `training.spot.maxWait (${show(maxWait, wait)}) is shorter than training.maxRuntime (${show(m.training.maxRuntime, runtime)}); the SageMaker API requires MaxWaitTimeInSeconds >= MaxRuntimeInSeconds.`,
    location: at('/training/spot/maxWait'),
    fix: `Set training.spot.maxWait to at least ${formatDuration(runtime)} (e.g. ${formatDuration(runtime * 2)}, to leave time to wait for spot capacity).`,
  });
}

let trainingTypes: readonly string[] | undefined;
let servingTypes: readonly string[] | undefined;
const isGpuType = (type: string) => /^ml\.(g\d|p\d|trn\d|inf\d)/.test(type);

// MAN-007
function instanceTypes({ m, at, report }: RuleInput): void {
  trainingTypes ??= enumValues('sagemaker', 'TrainingInstanceType');
  servingTypes ??= enumValues('sagemaker', 'ProductionVariantInstanceType');
  const training = m.training.instanceType;
  if (!trainingTypes.includes(training)) {
    const suggestion = closestInstanceType(training, trainingTypes);
    const servingOnly = servingTypes.includes(training);
    report({
      rule: 'MAN-007',
      message: servingOnly
        ? `training.instanceType "${training}" is an endpoint instance type; SageMaker does not train on it.`
        : `training.instanceType "${training.slice(0, 60)}" is not a SageMaker training instance type${suggestion ? `; did you mean "${suggestion}"?` : '.'}`,
      location: at('/training/instanceType'),
      fix: suggestion
        ? `Use "${suggestion}".`
        : 'Use a SageMaker training GPU instance type such as ml.g5.xlarge, ml.g6.xlarge or ml.p4d.24xlarge.',
    });
  } else if (!isGpuType(training)) {
    report({
      rule: 'MAN-007',
      severity: 'warning',
      message: `training.instanceType "${training}" has no GPU; nbops trains model notebooks on GPU instances (ml.g*, ml.p*, ml.trn*).`,
      location: at('/training/instanceType'),
      fix: 'Use a GPU instance type such as ml.g5.xlarge, or silence MAN-007 in the policy if CPU training is intended.',
    });
  }
  const serving = m.serving?.instanceType;
  if (serving !== undefined && !servingTypes.includes(serving)) {
    const suggestion = closestInstanceType(serving, servingTypes);
    const trainingOnly = trainingTypes.includes(serving);
    report({
      rule: 'MAN-007',
      message: trainingOnly
        ? `serving.instanceType "${serving}" is a training instance type; SageMaker endpoints cannot use it.`
        : `serving.instanceType "${serving.slice(0, 60)}" is not a SageMaker endpoint instance type${suggestion ? `; did you mean "${suggestion}"?` : '.'}`,
      location: at('/serving/instanceType'),
      fix: suggestion
        ? `Use "${suggestion}".`
        : 'Use a SageMaker endpoint instance type such as ml.m5.large or ml.g5.xlarge.',
    });
  }
}

// MAN-010
function hyperParameterLimits({ m, at, report }: RuleInput): void {
  const entries = Object.entries(m.parameters);
  if (entries.length > MAX_USER_PARAMETERS)
    report({
      rule: 'MAN-010',
      message: `The manifest declares ${entries.length} parameters; SageMaker accepts at most 100 HyperParameters and nbops needs ${100 - MAX_USER_PARAMETERS} of them, so at most ${MAX_USER_PARAMETERS}.`,
      location: at('/parameters'),
      fix: 'Group related settings into one JSON-string parameter, or move configuration into a data channel file.',
    });
  for (const [name, value] of entries) {
    const key = `/parameters/${pointerToken(name)}`;
    const reserved = RESERVED_PARAMETER_PREFIXES.find((prefix) => name.startsWith(prefix));
    if (reserved)
      report({
        rule: 'MAN-010',
        message: `Parameter "${name}" starts with "${reserved}", a prefix reserved for nbops and the SageMaker training toolkit.`,
        location: at(key),
        fix: `Rename the parameter (here and in the parameters cell) so it does not start with ${RESERVED_PARAMETER_PREFIXES.join(' or ')}.`,
      });
    if (value === undefined) continue;
    const encoded = encodeHyperParameter(value);
    if (encoded.length > MAX_HYPERPARAMETER_VALUE_LENGTH)
      report({
        rule: 'MAN-010',
        message: `Parameter "${name}" is ${encoded.length} characters once JSON-encoded; SageMaker HyperParameters values are limited to ${MAX_HYPERPARAMETER_VALUE_LENGTH}.`,
        location: at(key),
        fix: 'Shorten the value, or put large values in a file in a data channel and pass its name as the parameter.',
      });
  }
}

// MAN-011
function durations({ m, at, report }: RuleInput): void {
  const fields: [string, number | string | undefined, { min?: number; max?: number; maxText?: string }][] = [
    [
      '/training/maxRuntime',
      m.training.maxRuntime,
      { min: 1, max: MAX_TRAINING_RUNTIME_SECONDS, maxText: "SageMaker's 28-day MaxRuntimeInSeconds limit" },
    ],
    ['/training/spot/maxWait', m.training.spot.maxWait, { min: 1 }],
    ['/training/cellTimeout', m.training.cellTimeout, { min: 1 }],
    [
      '/deployment/bakeTime',
      m.deployment.bakeTime,
      { max: MAX_BAKE_SECONDS, maxText: "SageMaker's 3600 s WaitIntervalInSeconds limit" },
    ],
    ['/deployment/rollbackWindow', m.deployment.rollbackWindow, {}],
    ['/drift/window', m.drift?.window, { min: 60 }],
    ['/drift/retrainCooldown', m.drift?.retrainCooldown, {}],
  ];
  const dotted = (pointer: string) => pointer.slice(1).replace(/\//g, '.');
  for (const [pointer, value, limits] of fields) {
    if (value === undefined) continue;
    let s: number;
    try {
      s = parseDuration(value);
    } catch (err) {
      report({
        rule: 'MAN-011',
        message: `${dotted(pointer)}: ${(err as Error).message}.`,
        location: at(pointer),
        fix: 'Use a duration such as 90s, 30m, 2h or 1d.',
      });
      continue;
    }
    if (limits.min !== undefined && s < limits.min)
      report({
        rule: 'MAN-011',
        message: `${dotted(pointer)} is ${show(value, s)}; it must be at least ${formatDuration(limits.min)}.`,
        location: at(pointer),
        fix: `Set ${dotted(pointer)} to ${formatDuration(limits.min)} or more.`,
      });
    if (limits.max !== undefined && s > limits.max)
      report({
        rule: 'MAN-011',
        message: `${dotted(pointer)} is ${show(value, s)}, over ${limits.maxText ?? formatDuration(limits.max)}.`,
        location: at(pointer),
        fix: `Set ${dotted(pointer)} to at most ${formatDuration(limits.max)}.`,
      });
  }
  const cellTimeout = seconds(m.training.cellTimeout);
  const runtime = seconds(m.training.maxRuntime);
  if (cellTimeout !== undefined && runtime !== undefined && cellTimeout > runtime)
    report({
      rule: 'MAN-011',
      severity: 'warning',
      message: `training.cellTimeout (${formatDuration(cellTimeout)}) is longer than training.maxRuntime (${formatDuration(runtime)}), so it can never trigger.`,
      location: at('/training/cellTimeout'),
      fix: 'Lower cellTimeout below maxRuntime, or remove it.',
    });
}

// MAN-012
function deploymentRules({ m, raw, at, report }: RuleInput): void {
  const written = (raw.deployment ?? {}) as Record<string, unknown>;
  const d = m.deployment;
  if (!m.serving) {
    if (raw.deployment !== undefined)
      report({
        rule: 'MAN-012',
        severity: 'info',
        message: 'deployment is set but there is no serving section, so nothing is deployed.',
        location: at('/deployment'),
        fix: 'Add a serving section (image, instanceType) to deploy the model, or remove deployment.',
      });
    return;
  }
  const count = m.serving.instanceCount;
  if (d.strategy === 'canary' && count === 1)
    report({
      rule: 'MAN-012',
      message: `A canary on a one-instance endpoint: a canary of whole instances would be the entire fleet (the API allows at most 50%), so nbops sizes it as CAPACITY_PERCENT (${d.canaryPercent}% of capacity). With a single instance SageMaker cannot route a small share to a separate canary instance, so the canary step protects little.`,
      location: at('/serving/instanceCount'),
      fix: 'Set serving.instanceCount to 2 or more for a real canary, or use deployment.strategy: all-at-once and rely on the bake time and automatic rollback.',
    });
  if (d.strategy === 'linear') {
    if ((count * d.linearStepPercent) / 100 < 1)
      report({
        rule: 'MAN-012',
        message: `Linear steps of ${d.linearStepPercent}% on ${count} instance${count === 1 ? '' : 's'} are less than one instance each; SageMaker shifts whole instances, so the steps will be larger than written.`,
        location: at('/deployment/linearStepPercent'),
        fix: `Raise serving.instanceCount (each step is at least one instance), or linearStepPercent to at least ${Math.ceil(100 / count)} if possible, or use canary.`,
      });
    const bake = seconds(d.bakeTime);
    const steps = Math.ceil(100 / d.linearStepPercent);
    if (bake !== undefined && steps * bake >= MAX_DEPLOYMENT_SECONDS)
      report({
        rule: 'MAN-012',
        severity: 'error',
        message: `${steps} linear steps of ${formatDuration(bake)} bake time take ${formatDuration(steps * bake)}; a SageMaker deployment may take at most ${formatDuration(MAX_DEPLOYMENT_SECONDS)} (MaximumExecutionTimeoutInSeconds), so it cannot be deployed.`,
        location: at('/deployment/bakeTime'),
        fix: `Lower deployment.bakeTime below ${formatDuration(Math.floor((MAX_DEPLOYMENT_SECONDS - 1) / steps))} or raise linearStepPercent.`,
      });
  }
  if (written.canaryPercent !== undefined && d.strategy !== 'canary')
    report({
      rule: 'MAN-012',
      severity: 'info',
      message: `deployment.canaryPercent is ignored: the strategy is ${d.strategy}.`,
      location: at('/deployment/canaryPercent'),
      fix: 'Remove canaryPercent, or set deployment.strategy: canary.',
    });
  if (written.linearStepPercent !== undefined && d.strategy !== 'linear')
    report({
      rule: 'MAN-012',
      severity: 'info',
      message: `deployment.linearStepPercent is ignored: the strategy is ${d.strategy}.`,
      location: at('/deployment/linearStepPercent'),
      fix: 'Remove linearStepPercent, or set deployment.strategy: linear.',
    });
  if (written.bakeTime !== undefined && d.strategy === 'all-at-once')
    report({
      rule: 'MAN-012',
      severity: 'info',
      message:
        'With strategy all-at-once, bakeTime is how long the new fleet serves all traffic while the old one is kept for an automatic rollback; there is no partial step.',
      location: at('/deployment/bakeTime'),
      fix: 'Nothing to change if that is intended; use strategy canary to expose only part of the traffic first.',
    });
  if (d.approval === 'auto' && m.gates.length === 0)
    report({
      rule: 'MAN-012',
      message:
        'deployment.approval is auto but there are no quality gates: every trained version would be deployed, however bad.',
      location: at('/deployment/approval'),
      fix: 'Add gates (e.g. a minimum for the main validation metric and noWorseThanChampionBy), or use approval: manual.',
    });
}

// MAN-013
function driftNeeds({ m, raw, at, report }: RuleInput): void {
  if (raw.drift === undefined) return;
  const serving = m.serving;
  if (!serving) {
    report({
      rule: 'MAN-013',
      message:
        "drift is configured but there is no serving section: drift is evaluated on the endpoint's captured requests.",
      location: at('/drift'),
      fix: 'Add serving (with features and data capture), or remove drift.',
    });
    return;
  }
  if (!serving.features || serving.features.length === 0)
    report({
      rule: 'MAN-013',
      message:
        'drift is configured but serving.features is missing: drift compares each input feature with its training baseline, so it needs their names and types in payload order.',
      location: at('/serving'),
      fix: 'Add serving.features: a list of {name, type: numeric|categorical} in the column order of the request payload.',
    });
  if (!serving.dataCapture.enabled)
    report({
      rule: 'MAN-013',
      message:
        'drift is configured but serving.dataCapture.enabled is false: without captured requests there is nothing to evaluate.',
      location: at('/serving/dataCapture/enabled'),
      fix: 'Set serving.dataCapture.enabled: true, or remove drift.',
    });
  else if (serving.dataCapture.samplingPercent === 0)
    report({
      rule: 'MAN-013',
      message:
        'drift is configured but serving.dataCapture.samplingPercent is 0: no request would be captured.',
      location: at('/serving/dataCapture/samplingPercent'),
      fix: 'Set samplingPercent above 0 (20 is the default; small endpoints need more to reach drift.minRecords).',
    });
  const seen = new Map<string, number>();
  (serving.features ?? []).forEach((feature, i) => {
    const first = seen.get(feature.name);
    if (first === undefined) {
      seen.set(feature.name, i);
      return;
    }
    report({
      rule: 'MAN-013',
      message: `serving.features[${i}] repeats the feature name "${feature.name}" (first at serving.features[${first}]); drift results are reported per feature name.`,
      location: at(`/serving/features/${i}/name`),
      fix: 'Give every feature a distinct name.',
    });
  });
}

// MAN-014
function dataChannels({ m, at, report }: RuleInput): void {
  if (m.data.length > MAX_DATA_CHANNELS)
    report({
      rule: 'MAN-014',
      message: `data has ${m.data.length} entries; SageMaker allows 20 input channels and nbops uses ${20 - MAX_DATA_CHANNELS}, so at most ${MAX_DATA_CHANNELS}.`,
      location: at('/data'),
      fix: 'Point one entry at a common S3 prefix instead of listing objects one by one.',
    });
  const seen = new Map<string, number>();
  m.data.forEach((entry, i) => {
    if ((RESERVED_CHANNEL_NAMES as readonly string[]).includes(entry.name))
      report({
        rule: 'MAN-014',
        message: `data[${i}].name "${entry.name}" is reserved: nbops uses the channels ${RESERVED_CHANNEL_NAMES.join(', ')} itself.`,
        location: at(`/data/${i}/name`),
        fix: `Rename the channel, e.g. "${entry.name}-data" (the notebook reads it from /opt/ml/input/data/<name>).`,
      });
    const first = seen.get(entry.name);
    if (first !== undefined)
      report({
        rule: 'MAN-014',
        message: `data[${i}].name "${entry.name}" is already used by data[${first}]; channel names must be unique.`,
        location: at(`/data/${i}/name`),
        fix: 'Give every data entry a distinct name.',
      });
    else seen.set(entry.name, i);
  });
}

// MAN-015
function driftSchedule({ m, raw, at, report }: RuleInput): void {
  if (raw.drift === undefined || !m.drift) return;
  const result = checkScheduleExpression(m.drift.schedule);
  if (!result.ok) {
    report({
      rule: 'MAN-015',
      message: `drift.schedule "${m.drift.schedule.slice(0, 80)}" ${result.problem}.`,
      location: at('/drift/schedule'),
      fix: result.fix,
    });
    return;
  }
  const window = seconds(m.drift.window);
  if (result.rateSeconds !== undefined && window !== undefined && window < result.rateSeconds)
    report({
      rule: 'MAN-015',
      severity: 'info',
      message: `drift.window (${formatDuration(window)}) is shorter than the schedule interval (${formatDuration(result.rateSeconds)}): each evaluation reads only the last ${formatDuration(window)}, so most traffic is never evaluated.`,
      location: at('/drift/window'),
      fix: `Set drift.window to ${formatDuration(result.rateSeconds)} to evaluate all captured traffic, if that is what you want.`,
    });
}

// MAN-016
function metricsConsistent({ m, at, report }: RuleInput): void {
  const seen = new Map<string, number>();
  m.metrics.forEach((metric, i) => {
    const first = seen.get(metric.name);
    if (first === undefined) {
      seen.set(metric.name, i);
      return;
    }
    report({
      rule: 'MAN-016',
      message: `metrics[${i}] repeats the metric name "${metric.name}" (first at metrics[${first}]).`,
      location: at(`/metrics/${i}/name`),
      fix: 'Declare each metric once.',
    });
  });
  m.gates.forEach((gate, i) => {
    if (gate.min !== undefined && gate.max !== undefined && gate.min > gate.max)
      report({
        rule: 'MAN-016',
        message: `gates[${i}] requires ${gate.metric} >= ${gate.min} and <= ${gate.max}, which no value satisfies.`,
        location: at(`/gates/${i}`),
        fix: 'Swap min and max, or correct one of them.',
      });
  });
}
