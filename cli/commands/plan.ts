/**
 * `nbops plan <notebook>`: a dry run. Validates the notebook, then prints every request nbops would
 * send to AWS for it (as the model's first version and as a later one), each checked against the
 * AWS API models. Nothing is uploaded and AWS is never called.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, Command as CommandClass, CommanderError } from 'commander';
import { buildScheduleRequest } from '#adapters/aws/scheduler';
import type { PutMetricAlarmInput } from '#core/alarms/rollback';
import { captureKeyPrefix, s3Uri } from '#core/layout';
import { formatDuration } from '#core/manifest/duration';
import { endpointName, variantName } from '#core/manifest/names';
import { applyManifestDefaults } from '#core/manifest/schema';
import { resolvePolicy } from '#core/policy/policy';
import { awsTarget, sha256Hex } from '#core/sagemaker/context';
import type { DeploymentTimeline } from '#core/sagemaker/deployment';
import { type Plan, type PlannedRequest, planRequests } from '#core/sagemaker/plan';
import { modelArtifactUri } from '#core/sagemaker/requests';
import { RUNTIME_HASH_PLACEHOLDER, type RuntimeFile, runtimeHash } from '#core/sagemaker/runtime-hash';
import { toText } from '#core/validation/report';
import { validateNotebook } from '#core/validation/validate';
import { EXIT, UserError } from '../exit';
import { findSidecar, readBytes, readPolicy, readText } from '../files';

export interface PlanOptions {
  policy?: string;
  manifest?: string;
  json?: boolean;
}

/** Where the command writes; tests pass their own. */
export interface PlanIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: PlanIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** The runtime package beside this file in the repository (absent in a stripped install). */
const RUNTIME_DIR = fileURLToPath(new URL('../../layers/runtime/nbops_runtime', import.meta.url));

function definePlan(command: Command, run: (notebook: string, options: PlanOptions) => void): Command {
  return command
    .description(
      'Dry run: validate a notebook and print every AWS request nbops would send for it (training, model, endpoint, alarms), checked against the AWS API models. Calls nothing.',
    )
    .argument('<notebook>', 'the model notebook (.ipynb)')
    .option('--manifest <file>', 'sidecar manifest (YAML or JSON) to use when the notebook metadata has none')
    .option(
      '--policy <file>',
      'platform policy file (YAML or JSON); its aws section replaces the placeholders',
    )
    .option(
      '--json',
      'print {"requests":[{service, operation, version, input}]} with inputs exactly as sent to the SDK',
    )
    .addHelpText(
      'after',
      '\nExit status: 0 every request is valid, 1 the notebook or a request is invalid, 2 usage or I/O errors.',
    )
    .action(run);
}

export function registerPlanCommand(program: Command, setExit: (code: number) => void): void {
  definePlan(program.command('plan'), (notebook, options) =>
    setExit(runPlanCommand(notebook, options, processIo)),
  );
}

/** `nbops plan` with `args` (what follows `plan` on the command line); returns the exit code. */
export function runPlan(args: string[], io: PlanIo = processIo): number {
  let code: number = EXIT.ok;
  const command = definePlan(new CommandClass('plan'), (notebook, options) => {
    code = runPlanCommand(notebook, options, io);
  })
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  try {
    command.parse(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw err;
  }
  return code;
}

function runPlanCommand(notebookPath: string, options: PlanOptions, io: PlanIo): number {
  try {
    return plan(notebookPath, options, io);
  } catch (err) {
    io.stderr(`nbops: ${err instanceof Error ? err.message : String(err)}\n`);
    if (!(err instanceof UserError))
      io.stderr('nbops: this is a bug; please report it with the input that caused it\n');
    return err instanceof UserError ? err.exitCode : EXIT.usage;
  }
}

function plan(notebookPath: string, options: PlanOptions, io: PlanIo): number {
  const policy = resolvePolicy(readPolicy(options.policy));
  const bytes = readBytes(notebookPath);
  const sidecarPath = options.manifest ?? findSidecar(notebookPath);
  const sidecar = sidecarPath ? { path: sidecarPath, text: readText(sidecarPath) } : undefined;
  const result = validateNotebook({
    content: bytes,
    path: notebookPath,
    policy,
    ...(sidecar ? { sidecar } : {}),
  });
  if (!result.valid || !result.manifest?.value) {
    io.stderr(toText([result], { color: false }));
    io.stderr(
      `nbops: ${notebookPath} is not valid, so no requests were planned. Fix the errors above (nbops validate ${notebookPath}) and run nbops plan again.\n`,
    );
    return EXIT.findings;
  }

  const manifest = applyManifestDefaults(result.manifest.value);
  const runtime = readRuntimeHash();
  const target = awsTarget(policy);
  const planned = planRequests(
    {
      model: manifest.model.name,
      manifest,
      policy,
      notebook: { file: basename(notebookPath), sha256: sha256Hex(bytes) },
      runtime: { hash: runtime.hash },
      owner: manifest.model.owner,
    },
    1,
    2,
    {
      // Drift schedules put their event on the nbops bus through the scheduler role; the stack
      // names both, so the plan shows placeholders in the stack's account and region.
      scheduleRequest: (schedule) =>
        buildScheduleRequest(schedule, {
          eventBusArn: `arn:aws:events:${target.region}:${target.accountId}:event-bus/nbops`,
          roleArn: `arn:aws:iam::${target.accountId}:role/nbops-scheduler`,
        }),
    },
  );
  const invalid = planned.requests.filter((r) => r.violations.length > 0);
  const failed = invalid.length > 0 || planned.failures.length > 0;

  if (options.json) {
    const requests = planned.requests.map(({ service, operation, version, input, violations }) =>
      violations.length > 0
        ? { service, operation, version, input, violations }
        : { service, operation, version, input },
    );
    io.stdout(`${JSON.stringify({ requests }, null, 2)}\n`);
  } else {
    io.stdout(renderPlan(notebookPath, planned, policy, manifest.model.name, runtime));
    const { warnings, infos } = result.summary;
    if (warnings + infos > 0)
      io.stdout(
        `Validation: valid, with ${warnings} warning${warnings === 1 ? '' : 's'} and ${infos} info finding${infos === 1 ? '' : 's'} (nbops validate ${notebookPath} shows them).\n`,
      );
  }
  if (failed) io.stderr(renderProblems(planned));
  return failed ? EXIT.findings : EXIT.ok;
}

function readRuntimeHash(): { hash: string; placeholder: boolean } {
  const files: RuntimeFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile())
        files.push({ path: relative(RUNTIME_DIR, full).split('\\').join('/'), content: readFileSync(full) });
    }
  };
  try {
    if (!statSync(RUNTIME_DIR).isDirectory()) return { hash: RUNTIME_HASH_PLACEHOLDER, placeholder: true };
    walk(RUNTIME_DIR);
  } catch {
    return { hash: RUNTIME_HASH_PLACEHOLDER, placeholder: true };
  }
  return files.length > 0
    ? { hash: runtimeHash(files), placeholder: false }
    : { hash: RUNTIME_HASH_PLACEHOLDER, placeholder: true };
}

// --- human output ---------------------------------------------------------------------------------

function renderProblems(planned: Plan): string {
  const lines: string[] = [];
  for (const failure of planned.failures)
    lines.push(`nbops: cannot build ${failure.operation} for version ${failure.version}: ${failure.message}`);
  for (const request of planned.requests) {
    if (request.violations.length === 0) continue;
    lines.push(
      `nbops: ${request.service}:${request.operation} (version ${request.version}) does not satisfy the AWS API model:`,
    );
    for (const v of request.violations) lines.push(`  - ${v.path || '(request)'}: ${v.message}`);
  }
  const count = planned.failures.length + planned.requests.filter((r) => r.violations.length > 0).length;
  lines.push(
    `nbops: ${count} request${count === 1 ? '' : 's'} would fail; fix the manifest or policy fields named above.`,
  );
  return `${lines.join('\n')}\n`;
}

type Input = Record<string, unknown>;
const obj = (value: unknown): Input => (value && typeof value === 'object' ? (value as Input) : {});
const list = (value: unknown): Input[] => (Array.isArray(value) ? (value as Input[]) : []);
const text = (value: unknown): string => (value === undefined ? '-' : String(value));

function renderPlan(
  notebookPath: string,
  planned: Plan,
  policy: ReturnType<typeof resolvePolicy>,
  model: string,
  runtime: { hash: string; placeholder: boolean },
): string {
  const target = awsTarget(policy);
  const out: string[] = [];
  out.push(`nbops plan: ${notebookPath} (model ${model})`);
  out.push(`Nothing is sent to AWS. Target: account ${target.accountId}, region ${target.region}`);
  out.push(`  bucket ${target.artifactBucket}`);
  out.push(`  role   ${target.executionRoleArn}`);
  if (target.placeholders.length > 0)
    out.push(
      `  (placeholders for ${target.placeholders.join(', ')}: pass --policy with an aws section for real values)`,
    );
  out.push(
    `Runtime ${runtime.hash.slice(0, 12)}...${runtime.placeholder ? ' (placeholder: the runtime files were not found)' : ' (hash of layers/runtime/nbops_runtime)'}`,
  );

  const versions = [...new Set(planned.requests.map((r) => r.version))];
  let n = 0;
  for (const version of versions) {
    const first = version === versions[0];
    out.push('');
    out.push(
      first
        ? `== Version ${version}: first deployment (new endpoint) ==`
        : `== Version ${version}: a later version (blue/green update of the live endpoint) ==`,
    );
    for (const request of planned.requests.filter((r) => r.version === version)) {
      n++;
      out.push('');
      out.push(...describeRequest(n, request, planned.timeline, model));
    }
  }
  const sagemakerOnly = planned.requests.every((r) => r.operation === 'CreateTrainingJob');
  if (sagemakerOnly) out.push('', 'No serving section: versions are trained but never deployed.');
  else if (!planned.requests.some((r) => r.operation === 'PutMetricAlarm'))
    out.push(
      '',
      'No slo section: deployments have no rollback alarms, so a bad version is not rolled back automatically.',
    );

  const bad = planned.requests.filter((r) => r.violations.length > 0).length + planned.failures.length;
  out.push('');
  out.push(
    bad === 0
      ? `All ${planned.requests.length} requests satisfy the AWS API models (checked offline).`
      : `${bad} request${bad === 1 ? '' : 's'} would fail: see the problems below.`,
  );
  return `${out.join('\n')}\n`;
}

function row(label: string, value: string): string {
  return `    ${label.padEnd(14)}${value}`;
}

function describeRequest(
  n: number,
  request: PlannedRequest,
  timeline: DeploymentTimeline | undefined,
  model: string,
): string[] {
  const input = request.input as Input;
  const status = request.violations.length > 0 ? '  [INVALID]' : '';
  switch (request.operation) {
    case 'CreateTrainingJob':
      return [
        `[${n}] sagemaker CreateTrainingJob  ${text(input.TrainingJobName)}${status}`,
        ...trainingRows(input),
      ];
    case 'CreateModel': {
      const container = obj(input.PrimaryContainer);
      return [
        `[${n}] sagemaker CreateModel  ${text(input.ModelName)}${status}`,
        row('image', text(container.Image)),
        row('artifact', text(container.ModelDataUrl)),
        row(
          'entry point',
          `${text(obj(container.Environment).SAGEMAKER_PROGRAM)} (model_fn, input_fn, predict_fn, output_fn)`,
        ),
      ];
    }
    case 'CreateEndpointConfig':
      return [
        `[${n}] sagemaker CreateEndpointConfig  ${text(input.EndpointConfigName)}${status}`,
        ...configRows(input, model),
      ];
    case 'CreateEndpoint':
      return [
        `[${n}] sagemaker CreateEndpoint  ${text(input.EndpointName)}${status}`,
        row('config', text(input.EndpointConfigName)),
        row('note', 'the endpoint name stays the same for every later version'),
      ];
    case 'UpdateEndpoint':
      return [
        `[${n}] sagemaker UpdateEndpoint  ${text(input.EndpointName)} -> ${text(input.EndpointConfigName)}${status}`,
        ...updateRows(input, timeline),
      ];
    case 'PutMetricAlarm':
      return [
        `[${n}] cloudwatch PutMetricAlarm  ${text(input.AlarmName)}${status}`,
        ...alarmRows(input as unknown as PutMetricAlarmInput),
      ];
    case 'PutCompositeAlarm':
      return [
        `[${n}] cloudwatch PutCompositeAlarm  ${text(input.AlarmName)}${status}`,
        ...compositeRows(input),
      ];
    case 'CreateSchedule':
    case 'UpdateSchedule':
      return [`[${n}] scheduler ${request.operation}  ${text(input.Name)}${status}`, ...scheduleRows(input)];
    default:
      return [`[${n}] ${request.service} ${request.operation}${status}`];
  }
}

function trainingRows(input: Input): string[] {
  const resources = obj(input.ResourceConfig);
  const stopping = obj(input.StoppingCondition);
  const algorithm = obj(input.AlgorithmSpecification);
  const maxRuntime = Number(stopping.MaxRuntimeInSeconds);
  const rows = [
    row('image', text(algorithm.TrainingImage)),
    row(
      'instances',
      `${text(resources.InstanceCount)} x ${text(resources.InstanceType)}, ${text(resources.VolumeSizeInGB)} GB volume`,
    ),
    row(
      'spot',
      input.EnableManagedSpotTraining
        ? `yes: max runtime ${formatDuration(maxRuntime)}, max wait ${formatDuration(Number(stopping.MaxWaitTimeInSeconds))}`
        : `no: max runtime ${formatDuration(maxRuntime)}`,
    ),
  ];
  const checkpoints = obj(input.CheckpointConfig);
  if (checkpoints.S3Uri)
    rows.push(row('checkpoints', `${text(checkpoints.LocalPath)} <-> ${text(checkpoints.S3Uri)}`));
  list(input.InputDataConfig).forEach((channel, i) => {
    const source = obj(obj(channel.DataSource).S3DataSource);
    const type = channel.ContentType ? ` (${text(channel.ContentType)})` : '';
    rows.push(
      row(i === 0 ? 'channels' : '', `${text(channel.ChannelName).padEnd(16)}${text(source.S3Uri)}${type}`),
    );
  });
  const parameters = Object.entries(obj(input.HyperParameters)).map(([k, v]) => `${k}=${v}`);
  rows.push(row('parameters', parameters.join(', ') || '-'));
  const metrics = list(algorithm.MetricDefinitions).map((m) => text(m.Name));
  rows.push(row('metrics', metrics.join(', ') || 'none'));
  const output = text(obj(input.OutputDataConfig).S3OutputPath);
  rows.push(row('output', output));
  rows.push(row('model', modelArtifactUri(output, text(input.TrainingJobName))));
  const network = [
    input.VpcConfig ? 'VPC' : undefined,
    input.EnableNetworkIsolation ? 'network isolation' : undefined,
  ].filter(Boolean);
  if (network.length > 0) rows.push(row('network', network.join(', ')));
  return rows;
}

function configRows(input: Input, model: string): string[] {
  const rows: string[] = [];
  for (const variant of list(input.ProductionVariants))
    rows.push(
      row(
        'variant',
        `${text(variant.VariantName)}: ${text(variant.InitialInstanceCount)} x ${text(variant.InstanceType)}, model ${text(variant.ModelName)}`,
      ),
    );
  const capture = obj(input.DataCaptureConfig);
  if (capture.DestinationS3Uri) {
    const bucket = /^s3:\/\/([^/]+)/.exec(text(capture.DestinationS3Uri))?.[1] ?? '';
    rows.push(
      row(
        'data capture',
        `${text(capture.InitialSamplingPercentage)}% of requests and responses -> ${s3Uri(bucket, captureKeyPrefix(endpointName(model), variantName()))}`,
      ),
    );
  } else rows.push(row('data capture', 'off (drift cannot be evaluated)'));
  return rows;
}

function updateRows(input: Input, timeline: DeploymentTimeline | undefined): string[] {
  const config = obj(input.DeploymentConfig);
  const blueGreen = obj(config.BlueGreenUpdatePolicy);
  const rows: string[] = [];
  if (timeline) {
    const steps = timeline.steps
      .map((s) => `${s.percent}% bake ${formatDuration(s.bakeSeconds)}`)
      .join(' -> ');
    rows.push(row('strategy', `${timeline.type} (capacity shifted per step): ${steps}`));
    rows.push(
      row(
        'old fleet',
        `kept ${formatDuration(timeline.terminationWaitSeconds)} after the last step, then terminated`,
      ),
    );
    rows.push(
      row(
        'timing',
        `${formatDuration(timeline.totalWaitSeconds)} of baking; the deployment times out (and rolls back) after ${formatDuration(timeline.timeoutSeconds)}`,
      ),
    );
  } else {
    rows.push(row('strategy', text(obj(blueGreen.TrafficRoutingConfiguration).Type)));
  }
  const alarms = list(obj(config.AutoRollbackConfiguration).Alarms).map((a) => text(a.AlarmName));
  rows.push(row('rollback on', alarms.length > 0 ? alarms.join(', ') : 'no alarms (add an slo section)'));
  return rows;
}

const COMPARISON: Record<string, string> = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '>=',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
};

function alarmRows(alarm: PutMetricAlarmInput): string[] {
  const firstStat = alarm.Metrics?.find((m) => m.MetricStat)?.MetricStat;
  // Metric alarms carry Period; metric-math alarms carry it on each MetricStat.
  const period = alarm.Period ?? firstStat?.Period ?? 60;
  const periods = `${alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods} of ${alarm.EvaluationPeriods} period${alarm.EvaluationPeriods === 1 ? '' : 's'} of ${formatDuration(period)}`;
  const op = COMPARISON[alarm.ComparisonOperator ?? ''] ?? alarm.ComparisonOperator ?? '?';
  if (alarm.MetricName === 'ModelLatency')
    return [
      row(
        'fires when',
        `${alarm.ExtendedStatistic} ModelLatency ${op} ${alarm.Threshold} us (${alarm.Threshold / 1000} ms) in ${periods}`,
      ),
      row('watches', dimensionsText(alarm.Dimensions)),
    ];
  if (alarm.MetricName)
    return [
      row(
        'fires when',
        `${alarm.Statistic ?? alarm.ExtendedStatistic} ${alarm.Namespace}/${alarm.MetricName} ${op} ${alarm.Threshold} in ${periods}`,
      ),
      row('watches', dimensionsText(alarm.Dimensions)),
    ];
  const expression = alarm.Metrics?.find((m) => m.ReturnData)?.Expression ?? '';
  return [
    row('fires when', `${expression} ${op} ${alarm.Threshold} in ${periods}`),
    row('watches', dimensionsText(firstStat?.Metric.Dimensions)),
  ];
}

function compositeRows(input: Input): string[] {
  const rows = [row('fires when', text(input.AlarmRule))];
  if (input.ActionsSuppressor) rows.push(row('muted while', text(input.ActionsSuppressor)));
  return rows;
}

function scheduleRows(input: Input): string[] {
  const target = obj(input.Target);
  const parameters = obj(target.EventBridgeParameters);
  return [
    row('runs', `${text(input.ScheduleExpression)} (${text(input.ScheduleExpressionTimezone)})`),
    row(
      'puts',
      `"${text(parameters.DetailType)}" (source ${text(parameters.Source)}) on ${text(target.Arn)}`,
    ),
    row('input', text(target.Input)),
  ];
}

function dimensionsText(dimensions: { Name: string; Value: string }[] | undefined): string {
  return (dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(', ') || '-';
}
