/**
 * `nbops demo`: the README's main job. Starts the local host, submits the churn example with its
 * approval set to auto, and shows every stage as it happens: validation, version, training with
 * its metrics, quality gates, approval, deployment, predictions, then a second version rolled out
 * with a blue/green canary, a traffic burst, the captured data and a drift evaluation over it.
 * Everything runs through the same handlers and wiring table as on AWS; the host's waits (bake
 * times, alarm periods) run 100 times faster so the whole story takes under a minute.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { seededRandom } from '#adapters/local/context';
import type { DeliveryRecord } from '#adapters/local/event-bus';
import type { HostActivity, LocalHost } from '#adapters/local/host';
import {
  FollowError,
  followUpload,
  latestVersion,
  prepareSubmission,
  type Submission,
  upload,
} from '#adapters/local/host/client';
import { endpointAlarmNames } from '#core/alarms/names';
import type { FeatureSpec } from '#core/drift/values';
import { captureKeyPrefix } from '#core/layout';
import { variantName } from '#core/manifest/names';
import type { AuditEvent, GateResult, VersionRecord } from '#core/registry/types';
import type { AlarmOutcome, DriftOutcome, PolicyAction } from '#core/service/contracts';
import { driftScheduleName } from '#core/service/endpoint';
import { NBOPS_EVENTS } from '#core/wiring';
import { EXIT } from '../exit';
import { startForCli } from './dev';
import { localUser } from './submit';

/** The example the demo submits. */
export const DEMO_NOTEBOOK = fileURLToPath(new URL('../../examples/churn/churn.ipynb', import.meta.url));
/** Deployment waits and alarm periods run this much faster than on AWS. */
export const DEMO_TIME_SCALE = 0.01;
export const BURST_SIZE = 300;

export interface DemoOptions {
  json?: boolean;
  drift?: boolean;
  fresh?: boolean;
  keep?: boolean;
  dir: string;
}

export interface DemoIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: DemoIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export interface Prediction {
  row: string;
  probability: number;
}

export interface DemoSummary {
  model: string;
  version: number;
  status: string;
  metrics: Record<string, number>;
  gates: { passed: boolean; results: GateResult[] };
  endpoint: { name: string; status: string; endpointConfigName: string; version?: number };
  predictions: Prediction[];
  /** Requests sent to the endpoint (predictions, the rollout's traffic, the burst). */
  invocations: number;
  /** Of which answered 200 (the ones data capture records at 100% sampling). */
  successfulInvocations: number;
  captureRecords: number;
  drift: DriftSummary;
  versions: { version: number; status: string }[];
  /** With --drift: what shifted traffic set off. */
  driftResponse?: DriftResponse;
  timings: Record<string, number>;
}

export interface DriftResponse {
  shiftedRequests: number;
  evaluation: DriftSummary;
  alarm: { name: string; state: string };
  incidentId?: string;
  policy?: PolicyAction;
  retrain?: { version: number; status: string; key: string };
}

export interface DriftSummary {
  /** End of the evaluated window (the schedule run's time). */
  at: string;
  drifted: boolean;
  insufficientData: boolean;
  share: number;
  records: number;
  driftedFeatures: string[];
  features: { name: string; statistic: number; threshold: number; drifted: boolean }[];
  reportUri?: string;
}

export function registerDemoCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('demo')
    .description(
      'The whole lifecycle on this machine in under a minute: local host, the churn example submitted (approval auto), trained, gated, deployed, a second version rolled out with a canary, predictions, a traffic burst, captured data and a drift evaluation.',
    )
    .option('--json', 'print a JSON summary as the last line')
    .option('--drift', 'also send shifted traffic and show the drift alarm and the policy response')
    .option('--fresh', 'start from an empty local state (the default)')
    .option('--keep', 'keep the existing local state instead of starting fresh')
    .option('--dir <dir>', 'work folder for the local state', '.nbops')
    .addHelpText(
      'after',
      '\nExit status: 0 the lifecycle completed and the endpoint answered, 1 a stage failed (the message says which), 2 the host could not start or an option is not available.',
    )
    .action(async (options: DemoOptions) => {
      setExit((await runDemo(options, processIo)).code);
    });
}

export async function runDemo(
  options: DemoOptions,
  io: DemoIo = processIo,
): Promise<{ code: number; summary?: DemoSummary }> {
  const started = Date.now();
  const fresh = !options.keep;
  const host = await startForCli({ dir: options.dir, fresh, timeScale: DEMO_TIME_SCALE }, io);
  if (!host) return { code: EXIT.usage };
  try {
    const hostStart = Date.now() - started;
    io.stdout(
      [
        'nbops demo: the whole lifecycle on this machine',
        `  host       ${host.info.dir}${fresh ? ' (fresh)' : ' (kept state)'}; S3 ${host.info.s3Endpoint}, DynamoDB ${host.info.dynamodbEndpoint}; started in ${seconds(hostStart)}`,
        `  time       deployment waits and alarm periods x${DEMO_TIME_SCALE} (a 5-minute canary bake takes 3 s)`,
        '',
      ].join('\n'),
    );
    const result = await demoFlow(host, { io, drift: options.drift ?? false });
    if (result.summary) {
      result.summary.timings.hostStart = hostStart;
      result.summary.timings.total = Date.now() - started;
      io.stdout(formatSummary(result.summary, host));
      if (options.json) io.stdout(`${JSON.stringify(result.summary)}\n`);
    }
    return result;
  } finally {
    await host.stop();
  }
}

// ------------------------------------------------------------------------------------------------

interface FlowOptions {
  io: DemoIo;
  drift: boolean;
  uploader?: string;
  notebook?: string;
  burst?: number;
}

/**
 * The demo's story on a running host (the e2e test runs it too): v1 submitted and deployed, a few
 * predictions, v2 rolled out with a canary under traffic, a burst, capture and drift.
 */
export async function demoFlow(
  host: LocalHost,
  options: FlowOptions,
): Promise<{ code: number; summary?: DemoSummary }> {
  const { io } = options;
  const uploader = options.uploader ?? localUser();
  const path = options.notebook ?? DEMO_NOTEBOOK;
  const timings: Record<string, number> = {};
  const out = (line = '') => io.stdout(`${line}\n`);

  const first = prepareSubmission(path, (nb) => setApproval(nb, 'auto'));
  const manifest = manifestOf(first.bytes);
  out(`  notebook   ${path} (model ${first.model}, owner ${manifest.model?.owner ?? '?'})`);
  out('  approval: auto (demo)');
  out();

  // --- v1: submit to serving ---
  out(`1. ${first.model}: upload, validation, training, gates, approval, deployment`);
  const v1 = await submitAndFollow(host, first, uploader, io);
  if (!v1.record) return { code: EXIT.findings };
  Object.assign(timings, prefixKeys(stageTimings(v1.trail, v1.since), ''));
  if (v1.record.status !== 'DEPLOYED') return failed(io, v1.record);
  out(`   serving: endpoint ${first.model} answers ${seconds(timings.submitToServing!)} after the upload`);
  out();

  const endpoint = first.model;
  const features = servingFeatures(manifest);
  const contentType = manifest.serving?.contentType ?? 'text/csv';
  const accept = manifest.serving?.accept ?? 'text/csv';
  let invocations = 0;
  let successful = 0;
  const invoke = async (row: string) => {
    invocations++;
    const answer = await host.sagemaker.invokeEndpoint(endpoint, `${row}\n`, contentType, accept);
    if (answer.status === 200) successful++;
    return answer;
  };

  // A kept endpoint restarted with the host may still be starting its fleet.
  await waitUntil(
    async () => {
      const answer = await host.sagemaker.invokeEndpoint(
        endpoint,
        `${EXAMPLE_ROWS[0]}\n`,
        contentType,
        accept,
      );
      return answer.status === 503 ? undefined : true;
    },
    120_000,
    `endpoint ${endpoint} answering`,
  );
  invocations++;
  successful++;

  // --- predictions ---
  out(`2. predictions (CSV rows in the manifest's feature order: ${features.map((f) => f.name).join(',')})`);
  let t = Date.now();
  const predictions: Prediction[] = [];
  for (const row of EXAMPLE_ROWS) {
    const answer = await invoke(row);
    const probability = Number(answer.body.toString('utf8').trim().split('\n')[0]);
    predictions.push({ row, probability });
    out(
      `   ${row.padEnd(36)} -> ${answer.status === 200 ? `churn probability ${probability.toFixed(3)}` : `HTTP ${answer.status} ${answer.body.toString('utf8')}`}`,
    );
  }
  timings.predictions = Date.now() - t;
  out();

  // --- v2: blue/green canary ---
  const epochs = Number(manifest.parameters?.epochs ?? 200);
  const second = prepareSubmission(path, (nb) => {
    setApproval(nb, 'auto');
    const nbops = (nb.metadata as { nbops: { parameters: Record<string, unknown> } }).nbops;
    nbops.parameters.epochs = epochs + 100;
  });
  out(
    `3. a second version (parameter epochs ${epochs} -> ${epochs + 100}), rolled out with a blue/green canary under live traffic`,
  );
  let rollout = true;
  const byConfig = new Map<string, number>();
  const traffic = (async () => {
    const random = seededRandom(7);
    while (rollout) {
      const answer = await invoke(customerRow(random));
      if (answer.status === 200)
        byConfig.set(answer.endpointConfigName, (byConfig.get(answer.endpointConfigName) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  const v2 = await submitAndFollow(host, second, uploader, io, { showDeployment: true });
  rollout = false;
  await traffic;
  if (!v2.record) return { code: EXIT.findings };
  const v2Timings = stageTimings(v2.trail, v2.since);
  Object.assign(timings, prefixKeys(v2Timings, 'v2'));
  if (v2.record.status !== 'DEPLOYED') return failed(io, v2.record);
  const newConfig = v2.record.facts.deployment?.endpointConfigName ?? '';
  const served = [...byConfig.values()].reduce((a, b) => a + b, 0);
  out(
    `   during the rollout: ${served} requests answered, ${byConfig.get(newConfig) ?? 0} by v${v2.record.version}'s fleet, ${served - (byConfig.get(newConfig) ?? 0)} by v${v1.record.version}'s`,
  );
  out(`   v${v2.record.version} is champion; v${v1.record.version} stays DEPLOYED as the rollback target`);
  out();

  // --- burst ---
  const burst = options.burst ?? BURST_SIZE;
  out(`4. a traffic burst: ${burst} requests, 8 at a time`);
  t = Date.now();
  const random = seededRandom(42);
  const rows = Array.from({ length: burst }, () => customerRow(random));
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        const began = performance.now();
        const answer = await invoke(row);
        latencies.push(performance.now() - began);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      }
    }),
  );
  timings.traffic = Date.now() - t;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? 0;
  out(
    `   ${[...statuses].map(([status, n]) => `${n} x HTTP ${status}`).join(', ')} in ${seconds(timings.traffic)}; latency p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms`,
  );
  out();

  // --- capture + drift ---
  out('5. captured data and drift');
  t = Date.now();
  await host.sagemaker.flushCapture(endpoint);
  const captureRecords = await countCaptureRecords(host, endpoint);
  out(
    `   ${captureRecords} capture records in s3://${host.bucket}/${captureKeyPrefix(endpoint, variantName())} (sampling ${manifest.serving?.dataCapture?.samplingPercent ?? 100}%, SageMaker's JSONL layout)`,
  );
  const drift = await evaluateDriftNow(host, first.model);
  timings.drift = Date.now() - t;
  out(`   ${describeDrift(drift)}`);
  out();

  let driftResponse: DriftResponse | undefined;
  if (options.drift) {
    t = Date.now();
    driftResponse = await driftScenario(host, first.model, io);
    timings.driftResponse = Date.now() - t;
  }

  const championVersion = (await host.registry.getModel(first.model))?.aliases.champion ?? v2.record.version;
  const champion = (await host.registry.getVersion(first.model, championVersion))!;
  const described = await host.sagemaker.describeEndpoint(endpoint);
  const versions = await host.registry.listVersions(first.model);
  const summary: DemoSummary = {
    model: first.model,
    version: champion.version,
    status: champion.status,
    metrics: champion.facts.metrics ?? {},
    gates: champion.facts.gates ?? { passed: false, results: [] },
    endpoint: {
      name: endpoint,
      status: described?.EndpointStatus ?? 'absent',
      endpointConfigName: described?.EndpointConfigName ?? '',
      version: champion.version,
    },
    predictions,
    invocations,
    successfulInvocations: successful,
    captureRecords,
    drift,
    versions: versions.map((v) => ({ version: v.version, status: v.status })),
    ...(driftResponse ? { driftResponse } : {}),
    timings,
  };
  return { code: EXIT.ok, summary };
}

function failed(io: DemoIo, record: VersionRecord): { code: number } {
  io.stdout(
    `\n${record.model} v${record.version} ended ${record.status}: ${record.lastChange?.reason ?? 'no reason recorded'}\n`,
  );
  return { code: EXIT.findings };
}

/** Uploads, then prints every stage of the version as it happens (audit trail, job log, endpoint events). */
async function submitAndFollow(
  host: LocalHost,
  submission: Submission,
  uploader: string,
  io: DemoIo,
  options: { showDeployment?: boolean } = {},
): Promise<{ record?: VersionRecord; trail: AuditEvent[]; since: number }> {
  const since = Date.now();
  const afterVersion = await latestVersion(host.registry, submission.model);
  const { etag } = await upload(host.store, host.bucket, submission, uploader);
  io.stdout(
    `   ${seconds(Date.now() - since).padStart(7)}  ${'upload'.padEnd(11)} s3://${host.bucket}/${submission.key} by ${uploader}\n`,
  );
  return followWithDisplay(
    host,
    { model: submission.model, key: submission.key, etag, since, afterVersion },
    io,
    options,
  );
}

/** Follows an upload's version until it rests, printing each stage as it happens. */
async function followWithDisplay(
  host: LocalHost,
  target: { model: string; key: string; etag: string; since: number; afterVersion?: number },
  io: DemoIo,
  options: { showDeployment?: boolean } = {},
): Promise<{ record?: VersionRecord; trail: AuditEvent[]; since: number }> {
  const since = target.since;
  const at = () => `${seconds(Date.now() - since).padStart(7)}`;
  const line = (stage: string, text: string) => io.stdout(`   ${at()}  ${stage.padEnd(11)} ${text}\n`);
  const trail: AuditEvent[] = [];
  let jobLog: LogTail | undefined;
  let lastDeploymentMessage = '';
  const unsubscribe = host.observe((activity: HostActivity) => {
    if (activity.kind !== 'event') return;
    const detail = activity.event.detail as Record<string, unknown>;
    switch (activity.event['detail-type']) {
      case 'SageMaker Training Job State Change': {
        const name = String(detail.TrainingJobName);
        line('job', `${name}: ${detail.TrainingJobStatus} / ${detail.SecondaryStatus}`);
        if (!jobLog && detail.TrainingJobStatus === 'InProgress')
          jobLog = new LogTail(join(host.dir, 'jobs', name, 'algo-1.log'), (text) => {
            const metric = /\[nbops\] metric (\S+?)=(\S+)/.exec(text);
            if (metric) line('metric', `${metric[1]} = ${Number(metric[2]).toFixed(4)}`);
          });
        if (detail.TrainingJobStatus !== 'InProgress') jobLog?.stop();
        break;
      }
      case 'SageMaker Endpoint Deployment State Change': {
        if (!options.showDeployment) break;
        const pending = detail.PendingDeploymentSummary as
          | { ProductionVariants?: { VariantStatus?: { StatusMessage?: string }[] }[] }
          | undefined;
        const message = pending?.ProductionVariants?.[0]?.VariantStatus?.[0]?.StatusMessage;
        if (message && message !== lastDeploymentMessage) {
          lastDeploymentMessage = message;
          line(
            'canary',
            message.replace(
              /Baking for (\d+) seconds/,
              (_, s) => `Baking for ${s} seconds (${(Number(s) * host.timeScale).toFixed(0)} s here)`,
            ),
          );
        }
        break;
      }
      case 'SageMaker Endpoint State Change':
        line('endpoint', `${detail.EndpointName} ${detail.EndpointStatus} on ${detail.EndpointConfigName}`);
        break;
      case 'CloudWatch Alarm State Change': {
        const state = detail.state as { value: string };
        const previous = detail.previousState as { value: string };
        if (state.value === 'ALARM' || previous.value === 'ALARM')
          line('alarm', `${detail.alarmName}: ${previous.value} -> ${state.value}`);
        break;
      }
    }
  });
  try {
    const record = await followUpload(
      host.registry,
      {
        model: target.model,
        key: target.key,
        etag: target.etag,
        since: new Date(since),
        ...(target.afterVersion !== undefined ? { afterVersion: target.afterVersion } : {}),
      },
      {
        pollMs: 100,
        timeoutMs: 10 * 60_000,
        hostDir: host.dir,
        onAudit: (event, current) => {
          trail.push(event);
          const text = describeAudit(event, current);
          if (text) line(text.stage, text.text);
        },
      },
    );
    jobLog?.stop();
    await jobLog?.flush();
    return { record, trail, since };
  } catch (err) {
    if (!(err instanceof FollowError)) throw err;
    io.stdout(`\nnbops: ${err.message}\n`);
    return { trail, since };
  } finally {
    unsubscribe();
    jobLog?.stop();
  }
}

function describeAudit(
  event: AuditEvent,
  record: VersionRecord,
): { stage: string; text: string } | undefined {
  const reason = event.reason.split('\n')[0]!;
  if (event.kind === 'registered')
    return { stage: 'version', text: `${event.model} v${event.version} registered (RECEIVED)` };
  if (event.kind === 'alias') return { stage: 'champion', text: `${event.alias} -> v${event.version}` };
  switch (event.to) {
    case 'VALIDATED': {
      const v = record.facts.validation;
      return {
        stage: 'validation',
        text: v
          ? `${v.errors} errors, ${v.warnings} warnings${v.notices ? `, ${v.notices} notices` : ''}; report ${v.summaryUri ?? v.reportUri}`
          : reason,
      };
    }
    case 'TRAINED':
      return { stage: 'trained', text: reason.replace(/^training job \S+ completed: /, '') };
    case 'GATES_PASSED':
    case 'GATES_FAILED':
      return { stage: 'gates', text: reason };
    case 'PENDING_APPROVAL':
      return { stage: 'approval', text: reason };
    case 'APPROVED':
      return { stage: 'approved', text: reason };
    case 'DEPLOYING':
      return { stage: 'deploying', text: reason };
    case 'DEPLOYED':
      return { stage: 'deployed', text: reason };
    default:
      return { stage: event.to.toLowerCase(), text: reason };
  }
}

/** Stage durations (ms) from the audit trail of one version. */
export function stageTimings(trail: AuditEvent[], uploadedAt: number): Record<string, number> {
  const at = (to: string) => {
    const event = trail.find((e) => e.kind === 'transition' && e.to === to);
    return event ? Date.parse(event.at) : undefined;
  };
  const out: Record<string, number> = {};
  const span = (name: string, from: number | undefined, to: number | undefined) => {
    if (from !== undefined && to !== undefined) out[name] = Math.max(0, to - from);
  };
  span('validation', uploadedAt, at('VALIDATED') ?? at('REJECTED'));
  span('training', at('TRAINING'), at('TRAINED') ?? at('TRAINING_FAILED'));
  span('gates', at('TRAINED'), at('GATES_PASSED') ?? at('GATES_FAILED'));
  span('approval', at('GATES_PASSED'), at('APPROVED'));
  span('deployment', at('APPROVED'), at('DEPLOYED') ?? at('ROLLED_BACK') ?? at('DEPLOY_FAILED'));
  span('submitToServing', uploadedAt, at('DEPLOYED'));
  return out;
}

function prefixKeys(timings: Record<string, number>, prefix: string): Record<string, number> {
  if (!prefix) return timings;
  return Object.fromEntries(
    Object.entries(timings).map(([k, v]) => [`${prefix}${k[0]!.toUpperCase()}${k.slice(1)}`, v]),
  );
}

// --- drift ------------------------------------------------------------------------------------------

/** Resolves with the first delivery `match` accepts that succeeded or was dead-lettered. */
function nextDelivery(
  host: LocalHost,
  match: (record: DeliveryRecord) => boolean,
  timeoutMs: number,
): Promise<DeliveryRecord> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no delivery arrived within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const unsubscribe = host.observe((activity) => {
      if (activity.kind !== 'delivery' || !match(activity.record)) return;
      if (activity.record.outcome !== 'ok' && activity.record.outcome !== 'dead-letter') return;
      clearTimeout(timer);
      unsubscribe();
      resolve(activity.record);
    });
  });
}

/**
 * Runs the model's drift evaluation now, through its route: the model's drift schedule fires (as
 * its timer would) and the drift handler evaluates the captured window against the training
 * baseline; without a schedule, the operator's "Drift Evaluation Due" event does the same.
 */
export async function evaluateDriftNow(host: LocalHost, model: string): Promise<DriftSummary> {
  const scheduled = host.schedules.list().some((s) => s.name === driftScheduleName(model));
  let eventId: string;
  if (scheduled) eventId = host.schedules.fire(driftScheduleName(model)).id;
  else {
    const events: string[] = [];
    const stop = host.observe((a) => {
      if (a.kind === 'event' && a.event['detail-type'] === NBOPS_EVENTS.driftEvaluationDue)
        events.push(a.event.id);
    });
    await host.bus.publish(NBOPS_EVENTS.driftEvaluationDue, { model, endpoint: model });
    stop();
    eventId = events[0]!;
  }
  const delivery = await nextDelivery(host, (r) => r.handler === 'drift' && r.eventId === eventId, 60_000);
  const outcome = delivery.result as DriftOutcome | undefined;
  if (
    delivery.outcome !== 'ok' ||
    !outcome ||
    (outcome.kind !== 'evaluated' && outcome.kind !== 'insufficient-data')
  )
    throw new Error(
      `the drift evaluation did not complete: ${delivery.error ?? (outcome && 'reason' in outcome ? outcome.reason : JSON.stringify(outcome))}`,
    );
  const item = (await host.registry.listDrift(model, { since: outcome.at, limit: 10 })).find(
    (d) => d.at === outcome.at,
  );
  const features = Object.entries(item?.features ?? {}).map(([name, f]) => ({ name, ...f }));
  return {
    at: outcome.at,
    drifted: outcome.kind === 'evaluated' && outcome.drifted,
    insufficientData: outcome.kind === 'insufficient-data',
    share: outcome.kind === 'evaluated' ? outcome.share : 0,
    records: outcome.records,
    driftedFeatures: outcome.kind === 'evaluated' ? outcome.driftedFeatures : [],
    features,
    ...(outcome.reportUri ? { reportUri: outcome.reportUri } : {}),
  };
}

async function waitUntil<T>(
  read: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const SHIFTED_REQUESTS = 600;

/**
 * `--drift`: traffic unlike the training data (short tenures, higher charges, more support calls)
 * reaches the endpoint; the drift evaluation finds it; its DatasetDrift metric puts the drift alarm
 * in ALARM; the alarm handler opens an incident, sends a ticket and applies the policy (for the
 * example: retrain the production notebook), whose new version is then followed to the end.
 */
export async function driftScenario(
  host: LocalHost,
  model: string,
  io: DemoIo,
  requests = SHIFTED_REQUESTS,
): Promise<DriftResponse> {
  const out = (line = '') => io.stdout(`${line}\n`);
  const alarmName = endpointAlarmNames(model).drift;
  const incidents: AlarmOutcome[] = [];
  const stop = host.observe((a) => {
    if (a.kind === 'notification')
      out(`   notify     [${a.notification.severity.toUpperCase()}] ${a.notification.subject}`);
    if (a.kind === 'delivery' && a.record.handler === 'alarm' && a.record.outcome === 'ok')
      incidents.push(a.record.result as AlarmOutcome);
  });
  try {
    out('6. drift: shifted traffic, the drift alarm and the policy response');
    const random = seededRandom(99);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next++ < requests)
          await host.sagemaker.invokeEndpoint(
            model,
            `${customerRow(random, true)}\n`,
            'text/csv',
            'text/csv',
          );
      }),
    );
    out(`   ${requests} requests of shifted traffic (tenure / 4, monthly charges + 45, support calls + 4)`);
    await host.sagemaker.flushCapture(model);
    const evaluation = await evaluateDriftNow(host, model);
    out(`   ${describeDrift(evaluation)}`);
    const response: DriftResponse = {
      shiftedRequests: requests,
      evaluation,
      alarm: { name: alarmName, state: host.alarms.state(alarmName) ?? 'absent' },
    };
    if (!evaluation.drifted) {
      out('   no dataset drift: the drift alarm stays quiet');
      return response;
    }
    await waitUntil(
      () => (host.alarms.state(alarmName) === 'ALARM' ? true : undefined),
      60_000,
      `${alarmName} going to ALARM`,
    );
    response.alarm.state = 'ALARM';
    const reason = host.alarms.list().find((a) => a.name === alarmName)?.reason ?? '';
    out(`   alarm      ${alarmName} -> ALARM: ${reason}`);
    const incident = await waitUntil(
      () =>
        incidents.find(
          (o): o is Extract<AlarmOutcome, { kind: 'incident' }> =>
            o?.kind === 'incident' && o.alarmName === alarmName,
        ),
      30_000,
      `the alarm handler's incident for ${alarmName}`,
    );
    response.incidentId = incident.incidentId;
    response.policy = incident.policy;
    out(
      `   incident   ${incident.incidentId}${incident.notified ? ' (notified)' : ''}; policy: ${incident.policy.action}: ${incident.policy.reason}`,
    );
    if (incident.policy.action !== 'retrain') return response;

    const retrainOf = incident.policy.version;
    const since = Date.now();
    const retrain = await waitUntil(
      async () =>
        (await host.registry.listVersions(model, { newestFirst: true })).find(
          (v) =>
            v.facts.notebook?.key.includes(`.retrain-v${retrainOf}-`) &&
            Date.parse(v.createdAt) >= since - 60_000,
        ),
      60_000,
      `the retrain of v${retrainOf} being registered`,
    );
    out(
      `   retrain    v${retrainOf}'s notebook uploaded again as ${retrain.facts.notebook!.key}: v${retrain.version}`,
    );
    const followed = await followWithDisplay(
      host,
      { model, key: retrain.facts.notebook!.key, etag: retrain.facts.notebook!.etag ?? '', since },
      io,
      { showDeployment: true },
    );
    const final = followed.record ?? retrain;
    response.retrain = { version: final.version, status: final.status, key: final.facts.notebook!.key };
    out(`   v${final.version} (retrained from v${retrainOf}) is ${final.status}`);
    return response;
  } finally {
    stop();
  }
}

/** Records in the endpoint's data capture objects (one JSON line each). */
export async function countCaptureRecords(host: LocalHost, endpoint: string): Promise<number> {
  let records = 0;
  for await (const object of host.store.list(host.bucket, captureKeyPrefix(endpoint, variantName()))) {
    if (!object.key.endsWith('.jsonl')) continue;
    for await (const chunk of await host.store.getStream({ bucket: host.bucket, key: object.key }))
      for (const byte of chunk) if (byte === 10) records++;
  }
  return records;
}

function describeDrift(d: DriftSummary): string {
  if (d.insufficientData) return `drift: insufficient data (${d.records} rows); no verdict`;
  return `drift vs the training baseline (the drift handler, through its schedule's route): ${d.drifted ? 'DRIFT' : 'no drift'}, ${d.driftedFeatures.length} of ${d.features.length} features drifted${d.driftedFeatures.length ? ` (${d.driftedFeatures.join(', ')})` : ''}, over ${d.records} rows; report ${d.reportUri ?? '-'}`;
}

// --- the notebook and its manifest ----------------------------------------------------------------

interface DemoManifest {
  model?: { name?: string; owner?: string };
  parameters?: Record<string, unknown>;
  serving?: {
    contentType?: string;
    accept?: string;
    features?: FeatureSpec[];
    dataCapture?: { samplingPercent?: number };
  };
  drift?: { method?: string; threshold?: number };
}

function manifestOf(bytes: Uint8Array): DemoManifest {
  const nb = JSON.parse(Buffer.from(bytes).toString('utf8')) as { metadata?: { nbops?: DemoManifest } };
  return nb.metadata?.nbops ?? {};
}

function setApproval(notebook: Record<string, unknown>, approval: 'auto' | 'manual'): void {
  const metadata = notebook.metadata as { nbops?: { deployment?: Record<string, unknown> } } | undefined;
  if (!metadata?.nbops) throw new Error('the demo notebook has no manifest under metadata.nbops');
  metadata.nbops.deployment = { ...(metadata.nbops.deployment ?? {}), approval };
}

function servingFeatures(manifest: DemoManifest): FeatureSpec[] {
  const features = manifest.serving?.features;
  if (!features?.length) throw new Error('the demo notebook declares no serving.features');
  return features.map((f) => ({ name: f.name, type: f.type }));
}

/** Customers the example model scores (the manifest's feature order). */
const EXAMPLE_ROWS = [
  '2,95.5,191,month-to-month,5,yes',
  '70,25.0,1750,two-year,0,no',
  '24,70.2,1684.8,one-year,1,yes',
];

/**
 * A synthetic customer drawn like the example notebook draws its training data, so traffic looks
 * like the training data (no drift). `shift` moves it away (short tenure, high charges, many calls).
 */
export function customerRow(random: () => number, shift = false): string {
  const contracts = ['month-to-month', 'one-year', 'two-year'] as const;
  const u = random();
  const contract = u < 0.55 ? contracts[0] : u < 0.8 ? contracts[1] : contracts[2];
  const maxTenure = { 'month-to-month': 36, 'one-year': 60, 'two-year': 72 }[contract];
  let tenure = 1 + Math.floor(random() * maxTenure);
  const fiber = random() < 0.45;
  const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let monthly = Math.max(18, round2(20 + random() * 50 + (fiber ? 30 : 0) + gauss * 5));
  let calls = poisson(random, 1 + (fiber ? 0.8 : 0));
  if (shift) {
    tenure = Math.max(1, Math.round(tenure / 4));
    monthly = round2(monthly + 45);
    calls += 4;
  }
  const total = round2(monthly * tenure * (0.9 + random() * 0.15));
  return [tenure, monthly, total, contract, calls, fiber ? 'yes' : 'no'].join(',');
}

function poisson(random: () => number, rate: number): number {
  const limit = Math.exp(-rate);
  let count = 0;
  let product = random();
  while (product > limit) {
    count++;
    product *= random();
  }
  return count;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

// --- output -------------------------------------------------------------------------------------

/** Follows a growing text file (a training job's log), calling `onLine` per complete line. */
class LogTail {
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
  ) {
    this.timer = setInterval(() => this.read(), 100);
  }

  private read(): void {
    let text: string;
    try {
      text = readFileSync(this.file).subarray(this.offset).toString('utf8');
    } catch {
      return;
    }
    this.offset += Buffer.byteLength(text, 'utf8');
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) this.onLine(l);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async flush(): Promise<void> {
    this.read();
  }
}

function formatSummary(s: DemoSummary, host: LocalHost): string {
  const t = s.timings;
  const ms = (name: string) => (t[name] !== undefined ? seconds(t[name]!) : '-');
  const metrics = Object.entries(s.metrics)
    .map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`)
    .join(', ');
  return [
    'summary',
    `  model       ${s.model} v${s.version} ${s.status} (champion); versions ${s.versions.map((v) => `v${v.version} ${v.status}`).join(', ')}`,
    `  endpoint    ${s.endpoint.name} ${s.endpoint.status} on ${s.endpoint.endpointConfigName}`,
    `  metrics     ${metrics}`,
    `  gates       ${s.gates.passed ? 'passed' : 'failed'}: ${s.gates.results.map((g) => `${g.gate} ${g.passed ? 'ok' : 'FAILED'}`).join('; ')}`,
    `  traffic     ${s.invocations} requests (${s.successfulInvocations} answered 200), ${s.predictions.length} example predictions`,
    `  capture     ${s.captureRecords} records`,
    `  drift       ${s.drift.insufficientData ? 'insufficient data' : s.drift.drifted ? 'DRIFT' : 'no drift'} (${s.drift.driftedFeatures.length}/${s.drift.features.length} features, ${s.drift.records} rows)`,
    `  timings     submit -> serving ${ms('submitToServing')} (validation ${ms('validation')}, training ${ms('training')}, gates ${ms('gates')}, approval ${ms('approval')}, deployment ${ms('deployment')})`,
    `              canary rollout of v${s.version} ${ms('v2Deployment')}; burst ${ms('traffic')}; drift ${ms('drift')}; host start ${ms('hostStart')}; total ${ms('total')}`,
    ...(s.driftResponse
      ? [
          `  --drift     ${s.driftResponse.shiftedRequests} shifted requests -> ${s.driftResponse.evaluation.drifted ? 'DRIFT' : 'no drift'} (${s.driftResponse.evaluation.driftedFeatures.join(', ') || 'none'}) -> ${s.driftResponse.alarm.name} ${s.driftResponse.alarm.state} -> policy ${s.driftResponse.policy?.action ?? 'none'}${s.driftResponse.retrain ? ` -> v${s.driftResponse.retrain.version} ${s.driftResponse.retrain.status}` : ''} (${ms('driftResponse')})`,
        ]
      : []),
    '',
    `State kept in ${host.info.dir}: \`npx nbops status\` shows it, \`npx nbops dev\` serves the endpoint again.`,
    `Look closer: \`npx nbops show ${s.model} ${s.version}\` (lineage, gates, audit), \`npx nbops report ${s.model} ${s.version} --open\` (the HTML report).`,
    '',
  ].join('\n');
}
