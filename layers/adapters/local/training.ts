/**
 * Training jobs run locally the way SageMaker runs them:
 *
 *   <work>/jobs/<name>/                  SageMaker's /opt/ml for this job
 *     input/config/hyperparameters.json  the request's HyperParameters (string values)
 *     input/config/inputdataconfig.json, resourceconfig.json
 *     input/data/<channel>/              each channel's S3Prefix, downloaded from the store
 *     output/failure, output/data/       written by the runner
 *     model/                             becomes <S3OutputPath><job>/output/model.tar.gz
 *     checkpoints/                       CheckpointConfig: downloaded before, uploaded after
 *     algo-1.log                         stdout and stderr (SageMaker's CloudWatch log stream)
 *     job.json                           the job's state, so describe works after a restart
 *
 * The process is `python3 -m nbops_runtime.runner --root <job dir>` (whatever the request's
 * ContainerEntrypoint and TrainingImage say: the local host has no containers). Environment
 * values pointing into /opt/ml are moved into the job folder, so PYTHONPATH reaches the
 * `nbops-runtime` channel as it does in SageMaker; without that channel the checkout's runtime
 * is used. MetricDefinitions regexes are applied to every log line as SageMaker does;
 * MaxRuntimeInSeconds is enforced with SIGTERM, then SIGKILL after SageMaker's 120 s (times
 * timeScale).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {
  CreateTrainingJobCommandInput,
  DescribeTrainingJobCommandOutput,
  TrainingJobStatus,
} from '@aws-sdk/client-sagemaker';
import { assertValidRequest } from '#core/aws/api-model';
import { parseS3Uri, s3Uri } from '#core/layout';
import { awsEvent, epochMillisString, sageMakerArn } from './aws-event';
import {
  containerBaseEnv,
  type LocalContext,
  readJson,
  STOP_GRACE_SECONDS,
  writeJsonAtomic,
} from './context';
import { forEachLine } from './processes';
import { SageMakerError, sageMakerErrors } from './sagemaker-errors';
import { tarGzDirectory } from './tar';

/** SageMaker's FailureReason limit. */
const FAILURE_REASON_LIMIT = 1024;
const LOG_TAIL_LINES = 15;
const RUNTIME_CHANNEL = 'nbops-runtime';
const ML_ROOT = /\/opt\/ml(?=\/|:|$)/g;

interface Transition {
  Status: string;
  StartTime: number;
  EndTime?: number;
  StatusMessage: string;
}

interface MetricValue {
  MetricName: string;
  Value: number;
  Timestamp: number;
}

/** What job.json holds. Times are epoch milliseconds. */
export interface TrainingJobRecord {
  request: CreateTrainingJobCommandInput;
  arn: string;
  status: TrainingJobStatus;
  secondaryStatus: string;
  transitions: Transition[];
  creationTime: number;
  lastModifiedTime: number;
  trainingStartTime?: number;
  trainingEndTime?: number;
  failureReason?: string;
  finalMetrics: MetricValue[];
  modelArtifacts: string;
  stopRequested?: 'stop' | 'max-runtime';
  logFile: string;
}

const TERMINAL: readonly string[] = ['Completed', 'Failed', 'Stopped'];

/** SageMaker's metric regexes are Python's; named groups are the one syntax JS spells differently. */
function compileMetricRegex(regex: string, index: number): RegExp {
  try {
    return new RegExp(regex.replace(/\(\?P</g, '(?<'));
  } catch (error) {
    throw sageMakerErrors.invalid(
      `AlgorithmSpecification.MetricDefinitions[${index}].Regex is not a valid regular expression (${(error as Error).message}); fix the pattern.`,
    );
  }
}

function truncateReason(text: string): string {
  return text.length > FAILURE_REASON_LIMIT ? text.slice(0, FAILURE_REASON_LIMIT) : text;
}

/** `<S3OutputPath>/<job>/output/` (S3OutputPath with or without its trailing slash). */
function outputBase(request: CreateTrainingJobCommandInput): { bucket: string; key: string } {
  const path = request.OutputDataConfig?.S3OutputPath ?? '';
  const parsed = parseS3Uri(path);
  if (!parsed)
    throw sageMakerErrors.invalid(
      `OutputDataConfig.S3OutputPath "${path}" is not an s3:// URI; give s3://bucket/prefix/`,
    );
  const prefix = parsed.key === '' || parsed.key.endsWith('/') ? parsed.key : `${parsed.key}/`;
  return { bucket: parsed.bucket, key: `${prefix}${request.TrainingJobName}/output/` };
}

/**
 * The local path of an object downloaded for an S3Prefix channel. A prefix ending in `/` is a
 * folder: keys keep their path below it. Otherwise the prefix may name one object (kept under its
 * file name) or a partial name (keys keep their path below the prefix's last `/`).
 */
export function channelRelativePath(prefix: string, key: string): string | undefined {
  let rel: string;
  if (prefix === '' || prefix.endsWith('/')) rel = key.slice(prefix.length);
  else if (key === prefix) rel = posix.basename(key);
  else if (key.startsWith(`${prefix}/`)) rel = key.slice(prefix.length + 1);
  else rel = key.slice(prefix.lastIndexOf('/') + 1);
  const normalized = posix.normalize(rel);
  if (rel === '' || rel.endsWith('/') || normalized.startsWith('..') || posix.isAbsolute(normalized))
    return undefined;
  return normalized;
}

export class LocalTrainingJobs {
  private readonly jobs = new Map<string, TrainingJobRecord>();
  private readonly running = new Map<string, { stop(graceMs: number): void; done: Promise<void> }>();
  private readonly pendingWrites = new Map<string, Promise<void>>();

  constructor(private readonly ctx: LocalContext) {}

  jobDir(name: string): string {
    return join(this.ctx.workDir, 'jobs', name);
  }

  private recordFile(name: string): string {
    return join(this.jobDir(name), 'job.json');
  }

  /** The job's record from memory or its job.json; a job left running by a previous host is failed. */
  private async find(name: string): Promise<TrainingJobRecord | undefined> {
    const key = name.toLowerCase();
    const known = this.jobs.get(key);
    if (known) return known;
    const stored = await readJson<TrainingJobRecord>(this.recordFile(name));
    if (!stored || stored.request.TrainingJobName?.toLowerCase() !== key) return undefined;
    this.jobs.set(key, stored);
    if (!TERMINAL.includes(stored.status)) {
      await this.finish(stored, 'Failed', 'Failed', {
        reason:
          'InternalServerError: the local host stopped while this job was running, so it did not finish. Start the training again.',
      });
    }
    return stored;
  }

  /**
   * Jobs a previous local host left running (it stopped or crashed mid-job) end Failed now, with
   * their event, so the training-state handler hears about them instead of waiting forever.
   */
  async recover(): Promise<void> {
    const names = await readdir(join(this.ctx.workDir, 'jobs')).catch(() => [] as string[]);
    for (const name of names) await this.find(name);
  }

  async create(input: CreateTrainingJobCommandInput): Promise<{ TrainingJobArn: string }> {
    assertValidRequest('sagemaker', 'CreateTrainingJob', input);
    const name = input.TrainingJobName!;
    const arn = sageMakerArn(this.ctx.location, 'training-job', name);
    if (await this.find(name)) throw sageMakerErrors.trainingJobExists(arn);
    (input.AlgorithmSpecification?.MetricDefinitions ?? []).forEach((d, i) => {
      compileMetricRegex(d.Regex ?? '', i);
    });
    const base = outputBase(input);
    for (const [i, channel] of (input.InputDataConfig ?? []).entries()) {
      const source = channel.DataSource?.S3DataSource;
      if (!source)
        throw sageMakerErrors.invalid(
          `InputDataConfig[${i}] (${channel.ChannelName}) has no S3DataSource; the local host reads channels from S3 only.`,
        );
      if (!parseS3Uri(source.S3Uri ?? ''))
        throw sageMakerErrors.invalid(
          `InputDataConfig[${i}].DataSource.S3DataSource.S3Uri "${source.S3Uri}" is not an s3:// URI.`,
        );
    }
    const now = this.ctx.now().getTime();
    const compressed = input.OutputDataConfig?.CompressionType !== 'NONE';
    const record: TrainingJobRecord = {
      request: structuredClone(input),
      arn,
      status: 'InProgress',
      secondaryStatus: 'Starting',
      transitions: [
        { Status: 'Starting', StartTime: now, StatusMessage: 'Launching requested ML instances' },
      ],
      creationTime: now,
      lastModifiedTime: now,
      finalMetrics: [],
      modelArtifacts: s3Uri(base.bucket, `${base.key}${compressed ? 'model.tar.gz' : 'model/'}`),
      logFile: join(this.jobDir(name), 'algo-1.log'),
    };
    this.jobs.set(name.toLowerCase(), record);
    // A leftover folder without job.json (a crash before the first write) is not a job: start clean.
    await rm(this.jobDir(name), { recursive: true, force: true });
    await this.persist(record);
    this.emit(record);
    const key = name.toLowerCase();
    const run = { stop: (_graceMs: number) => {}, done: Promise.resolve() };
    this.running.set(key, run);
    run.done = this.run(record)
      .catch((error) =>
        this.ctx.log(`[nbops] training job ${name}: unexpected error ${(error as Error).stack ?? error}`),
      )
      .finally(() => this.running.delete(key));
    return { TrainingJobArn: arn };
  }

  async describe(name: string): Promise<DescribeTrainingJobCommandOutput | undefined> {
    assertValidRequest('sagemaker', 'DescribeTrainingJob', { TrainingJobName: name });
    const record = await this.find(name);
    return record ? describeOutput(record) : undefined;
  }

  async stop(name: string): Promise<void> {
    assertValidRequest('sagemaker', 'StopTrainingJob', { TrainingJobName: name });
    const record = await this.find(name);
    if (!record) throw sageMakerErrors.trainingJobNotFound();
    if (record.status !== 'InProgress')
      throw sageMakerErrors.invalid(
        `The request was rejected because the training job is in status ${record.status}.`,
      );
    record.stopRequested = 'stop';
    await this.transition(record, 'Stopping', 'Stopping', 'Stopping the training job');
    this.running.get(name.toLowerCase())?.stop(this.graceMs());
  }

  /** Waits for every running job to end (after stop or close). */
  async settle(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.done));
    await Promise.all(this.pendingWrites.values());
  }

  /** Stops every running job (host shutdown). */
  async stopAll(graceMs: number): Promise<void> {
    for (const [key, run] of this.running) {
      const record = this.jobs.get(key);
      if (record && !record.stopRequested) record.stopRequested = 'stop';
      run.stop(graceMs);
    }
    await this.settle();
  }

  private graceMs(): number {
    return STOP_GRACE_SECONDS * 1000 * this.ctx.timeScale;
  }

  private emit(record: TrainingJobRecord): void {
    const r = record.request;
    const detail: Record<string, unknown> = {
      TrainingJobName: r.TrainingJobName,
      TrainingJobArn: record.arn,
      TrainingJobStatus: record.status,
      SecondaryStatus: record.secondaryStatus,
      HyperParameters: r.HyperParameters ?? {},
      AlgorithmSpecification: r.AlgorithmSpecification ?? {},
      RoleArn: r.RoleArn,
      InputDataConfig: r.InputDataConfig ?? [],
      OutputDataConfig: r.OutputDataConfig,
      ResourceConfig: r.ResourceConfig ?? {},
      StoppingCondition: r.StoppingCondition ?? {},
      CreationTime: epochMillisString(new Date(record.creationTime)),
      LastModifiedTime: epochMillisString(new Date(record.lastModifiedTime)),
      SecondaryStatusTransitions: record.transitions.map((t) => ({
        Status: t.Status,
        StartTime: String(t.StartTime),
        ...(t.EndTime !== undefined ? { EndTime: String(t.EndTime) } : {}),
        StatusMessage: t.StatusMessage,
      })),
      Tags: Object.fromEntries((r.Tags ?? []).map((t) => [t.Key, t.Value])),
    };
    if (r.VpcConfig) detail.VpcConfig = r.VpcConfig;
    if (record.trainingStartTime !== undefined)
      detail.TrainingStartTime = epochMillisString(new Date(record.trainingStartTime));
    if (record.trainingEndTime !== undefined)
      detail.TrainingEndTime = epochMillisString(new Date(record.trainingEndTime));
    if (record.status === 'Failed' && record.failureReason !== undefined)
      detail.FailureReason = record.failureReason;
    this.ctx.emit(
      awsEvent({
        source: 'aws.sagemaker',
        detailType: 'SageMaker Training Job State Change',
        detail,
        resources: [record.arn],
        at: new Date(record.lastModifiedTime),
        location: this.ctx.location,
      }),
    );
  }

  private persist(record: TrainingJobRecord): Promise<void> {
    const name = record.request.TrainingJobName!;
    const previous = this.pendingWrites.get(name) ?? Promise.resolve();
    const next = previous.then(() => writeJsonAtomic(this.recordFile(name), record)).catch(() => {});
    this.pendingWrites.set(name, next);
    return next;
  }

  private async transition(
    record: TrainingJobRecord,
    status: TrainingJobStatus,
    secondary: string,
    message: string,
  ): Promise<void> {
    const now = this.ctx.now().getTime();
    const last = record.transitions.at(-1);
    if (last && last.EndTime === undefined) last.EndTime = now;
    const terminal = TERMINAL.includes(status);
    record.transitions.push({
      Status: secondary,
      StartTime: now,
      ...(terminal ? { EndTime: now } : {}),
      StatusMessage: message,
    });
    record.status = status;
    record.secondaryStatus = secondary;
    record.lastModifiedTime = now;
    // The event goes out with the change, so whoever sees the new status can also see its event.
    this.emit(record);
    await this.persist(record);
  }

  private async finish(
    record: TrainingJobRecord,
    status: 'Completed' | 'Failed' | 'Stopped',
    secondary: string,
    details: { reason?: string; message?: string } = {},
  ): Promise<void> {
    const now = this.ctx.now().getTime();
    if (record.trainingStartTime !== undefined && record.trainingEndTime === undefined)
      record.trainingEndTime = now;
    if (details.reason !== undefined) record.failureReason = truncateReason(details.reason);
    const message =
      details.message ??
      (status === 'Completed'
        ? 'Training job completed'
        : status === 'Failed'
          ? `Training job failed: ${record.failureReason ?? ''}`.trim()
          : 'Training job stopped');
    await this.transition(record, status, secondary, message);
  }

  private isStopping(record: TrainingJobRecord): boolean {
    return record.stopRequested !== undefined;
  }

  private async run(record: TrainingJobRecord): Promise<void> {
    const request = record.request;
    const name = request.TrainingJobName!;
    const dir = this.jobDir(name);
    try {
      await this.transition(record, 'InProgress', 'Downloading', 'Downloading input data');
      await this.prepare(record, dir);
      if (this.isStopping(record)) {
        await this.finish(record, 'Stopped', 'Stopped');
        return;
      }
      record.trainingStartTime = this.ctx.now().getTime();
      await this.transition(
        record,
        'InProgress',
        'Training',
        'Training image download completed. Training in progress.',
      );
      const outcome = await this.execute(record, dir);
      if (outcome.stopped) {
        // SageMaker keeps what the job saved before it stopped.
        await this.upload(record, dir).catch((error) =>
          this.ctx.log(`[nbops] training job ${name}: upload after stop failed: ${(error as Error).message}`),
        );
        await this.finish(
          record,
          'Stopped',
          outcome.stopped === 'max-runtime' ? 'MaxRuntimeExceeded' : 'Stopped',
          {
            message:
              (outcome.stopped === 'max-runtime'
                ? `Training job runtime exceeded MaxRuntimeInSeconds provided (${request.StoppingCondition?.MaxRuntimeInSeconds} s).`
                : 'Training job stopped.') + (outcome.failure ? ` ${outcome.failure.split('\n')[0]}` : ''),
          },
        );
        return;
      }
      if (outcome.code !== 0) {
        await this.finish(record, 'Failed', 'Failed', { reason: outcome.failure ?? outcome.fallbackReason });
        return;
      }
      await this.transition(record, 'InProgress', 'Uploading', 'Uploading generated training model');
      await this.upload(record, dir);
      await this.finish(record, 'Completed', 'Completed');
    } catch (error) {
      const reason =
        error instanceof SageMakerError || error instanceof ChannelError
          ? error.message
          : `InternalServerError: the local host could not run the job: ${(error as Error).message}`;
      await this.finish(record, 'Failed', 'Failed', { reason });
    }
  }

  private async prepare(record: TrainingJobRecord, dir: string): Promise<void> {
    const request = record.request;
    const config = join(dir, 'input', 'config');
    await mkdir(config, { recursive: true });
    for (const sub of ['output/data', 'model', 'checkpoints', 'input/data'])
      await mkdir(join(dir, sub), { recursive: true });
    await writeJsonAtomic(join(config, 'hyperparameters.json'), request.HyperParameters ?? {});
    const inputMode = request.AlgorithmSpecification?.TrainingInputMode ?? 'File';
    await writeJsonAtomic(
      join(config, 'inputdataconfig.json'),
      Object.fromEntries(
        (request.InputDataConfig ?? []).map((c) => [
          c.ChannelName,
          {
            TrainingInputMode: c.InputMode ?? inputMode,
            S3DistributionType: c.DataSource?.S3DataSource?.S3DataDistributionType ?? 'FullyReplicated',
            RecordWrapperType: c.RecordWrapperType ?? 'None',
            ...(c.ContentType ? { ContentType: c.ContentType } : {}),
          },
        ]),
      ),
    );
    await writeJsonAtomic(join(config, 'resourceconfig.json'), {
      current_host: 'algo-1',
      current_instance_type: request.ResourceConfig?.InstanceType ?? 'local',
      hosts: ['algo-1'],
      network_interface_name: 'lo',
    });
    for (const channel of request.InputDataConfig ?? []) {
      if (this.isStopping(record)) return;
      await this.downloadChannel(channel, join(dir, 'input', 'data', channel.ChannelName!));
    }
    const checkpoint = request.CheckpointConfig?.S3Uri;
    if (checkpoint) await this.downloadPrefix(checkpoint, join(dir, 'checkpoints'), { allowEmpty: true });
  }

  private async downloadChannel(
    channel: NonNullable<CreateTrainingJobCommandInput['InputDataConfig']>[number],
    dest: string,
  ): Promise<void> {
    const source = channel.DataSource!.S3DataSource!;
    if (source.S3DataType !== 'S3Prefix')
      throw new ChannelError(
        `ClientError: channel '${channel.ChannelName}' uses S3DataType ${source.S3DataType}; the local host supports S3Prefix only. Use an S3Prefix channel.`,
      );
    await this.downloadPrefix(source.S3Uri!, dest, { allowEmpty: false, channel: channel.ChannelName! });
  }

  private async downloadPrefix(
    uri: string,
    dest: string,
    opts: { allowEmpty: boolean; channel?: string },
  ): Promise<void> {
    const { bucket, key: prefix } = parseS3Uri(uri)!;
    await mkdir(dest, { recursive: true });
    let count = 0;
    try {
      for await (const object of this.ctx.store.list(bucket, prefix)) {
        const rel = channelRelativePath(prefix, object.key);
        if (rel === undefined) continue;
        const target = resolve(dest, ...rel.split('/'));
        if (!target.startsWith(resolve(dest) + sep)) continue;
        await mkdir(resolve(target, '..'), { recursive: true });
        const body = await this.ctx.store.getStream({ bucket, key: object.key });
        await pipeline(Readable.from(body), createWriteStream(target));
        count += 1;
      }
    } catch (error) {
      throw new ChannelError(
        `ClientError: could not download ${uri}${opts.channel ? ` for channel '${opts.channel}'` : ''}: ${(error as Error).message}`,
      );
    }
    if (count === 0 && !opts.allowEmpty)
      throw new ChannelError(
        `ClientError: No S3 objects found under S3 URL "${uri}" given in input data source. Please ensure that the bucket exists in the selected region (${this.ctx.location.region}), that objects exist under that S3 prefix, and that the role has s3:ListBucket permissions on bucket "${bucket}".`,
      );
  }

  private environment(record: TrainingJobRecord, dir: string): NodeJS.ProcessEnv {
    const request = record.request;
    const env = containerBaseEnv();
    for (const [key, value] of Object.entries(request.Environment ?? {}))
      env[key] = value.replace(ML_ROOT, dir);
    const hasRuntimeChannel = (request.InputDataConfig ?? []).some((c) => c.ChannelName === RUNTIME_CHANNEL);
    if (!hasRuntimeChannel)
      env.PYTHONPATH = env.PYTHONPATH ? `${env.PYTHONPATH}:${this.ctx.runtimeDir}` : this.ctx.runtimeDir;
    env.TRAINING_JOB_NAME = request.TrainingJobName!;
    env.TRAINING_JOB_ARN = record.arn;
    return env;
  }

  private async execute(
    record: TrainingJobRecord,
    dir: string,
  ): Promise<{
    code: number | null;
    stopped?: 'stop' | 'max-runtime';
    failure?: string;
    fallbackReason: string;
  }> {
    const request = record.request;
    const definitions = (request.AlgorithmSpecification?.MetricDefinitions ?? []).map((d, i) => ({
      name: d.Name!,
      regex: compileMetricRegex(d.Regex ?? '', i),
    }));
    const latest = new Map<string, MetricValue>();
    const log = createWriteStream(record.logFile, { flags: 'a' });
    const tail: string[] = [];
    const onLine = (line: string) => {
      log.write(`${line}\n`);
      tail.push(line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      for (const d of definitions) {
        const match = d.regex.exec(line);
        if (!match) continue;
        const value = Number.parseFloat(match[1] ?? match[0]);
        // NaN and infinities cannot be reported (the API's Value is a JSON number): skipped.
        if (Number.isFinite(value))
          latest.set(d.name, { MetricName: d.name, Value: value, Timestamp: this.ctx.now().getTime() });
      }
    };

    const p = this.ctx.processes.start('nbops_runtime.runner', ['--root', dir], {
      env: this.environment(record, dir),
      cwd: dir,
      stopGraceSeconds: STOP_GRACE_SECONDS * this.ctx.timeScale,
    });
    forEachLine(p.child.stdout, onLine);
    forEachLine(p.child.stderr, onLine);

    let stopped: 'stop' | 'max-runtime' | undefined = record.stopRequested;
    const stop = (why: 'stop' | 'max-runtime', graceMs: number) => {
      stopped ??= why;
      void this.ctx.processes.stop(p, graceMs);
    };
    const key = request.TrainingJobName!.toLowerCase();
    const running = this.running.get(key);
    if (running) running.stop = (graceMs) => stop('stop', graceMs);
    if (stopped) stop(stopped, this.graceMs());
    const maxRuntime = request.StoppingCondition?.MaxRuntimeInSeconds;
    const timer =
      maxRuntime !== undefined
        ? setTimeout(() => {
            record.stopRequested ??= 'max-runtime';
            stop('max-runtime', this.graceMs());
          }, maxRuntime * 1000)
        : undefined;

    const startError = await p.startError;
    const exit = await p.exited;
    if (timer) clearTimeout(timer);
    await new Promise<void>((r) => log.end(r));
    record.finalMetrics = definitions.flatMap((d) => {
      const value = latest.get(d.name);
      return value ? [value] : [];
    });

    const failureText = await readFile(join(dir, 'output', 'failure'), 'utf8').catch(() => undefined);
    const failure = failureText && failureText.trim() !== '' ? truncateReason(failureText) : undefined;
    const fallbackReason = startError
      ? `AlgorithmError: could not start the Python interpreter '${this.ctx.python}' (${(startError as NodeJS.ErrnoException).code ?? startError.message}); install Python 3.9+ or set NBOPS_PYTHON.`
      : truncateReason(
          `AlgorithmError: the training process exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`} without writing /opt/ml/output/failure. Last log lines (${record.logFile}):\n${tail.join('\n')}`,
        );
    return {
      code: startError ? null : exit.code,
      ...(stopped ? { stopped } : {}),
      ...(failure ? { failure } : {}),
      fallbackReason,
    };
  }

  private async upload(record: TrainingJobRecord, dir: string): Promise<void> {
    const request = record.request;
    const base = outputBase(request);
    const model = join(dir, 'model');
    try {
      if (request.OutputDataConfig?.CompressionType === 'NONE') {
        await this.uploadFolder(model, base.bucket, `${base.key}model/`);
      } else {
        await this.ctx.store.put(
          { bucket: base.bucket, key: `${base.key}model.tar.gz` },
          await tarGzDirectory(model),
          {
            contentType: 'application/x-tar',
          },
        );
      }
      const data = join(dir, 'output', 'data');
      if ((await readdir(data).catch(() => [])).length > 0) {
        await this.ctx.store.put(
          { bucket: base.bucket, key: `${base.key}output.tar.gz` },
          await tarGzDirectory(data),
          { contentType: 'application/x-tar' },
        );
      }
      const checkpoint = request.CheckpointConfig?.S3Uri;
      if (checkpoint) {
        const target = parseS3Uri(checkpoint)!;
        const prefix = target.key === '' || target.key.endsWith('/') ? target.key : `${target.key}/`;
        await this.uploadFolder(join(dir, 'checkpoints'), target.bucket, prefix);
      }
    } catch (error) {
      if (error instanceof SageMakerError) throw error;
      throw new ChannelError(
        `ClientError: could not upload the job's output to s3://${base.bucket}/${base.key}: ${(error as Error).message}`,
      );
    }
  }

  private async uploadFolder(folder: string, bucket: string, prefix: string): Promise<void> {
    const walk = async (dir: string): Promise<void> => {
      for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
        const full = join(dir, name);
        const info = await stat(full);
        if (info.isDirectory()) await walk(full);
        else if (info.isFile()) {
          const rel = relative(folder, full).split(sep).join('/');
          await this.ctx.store.put({ bucket, key: `${prefix}${rel}` }, await readFile(full));
        }
      }
    };
    await walk(folder);
  }
}

/** A problem with the job's inputs or outputs: its message is the FailureReason. */
class ChannelError extends Error {}

function describeOutput(record: TrainingJobRecord): DescribeTrainingJobCommandOutput {
  const r = record.request;
  const out: DescribeTrainingJobCommandOutput = {
    $metadata: {},
    TrainingJobName: r.TrainingJobName,
    TrainingJobArn: record.arn,
    ModelArtifacts: { S3ModelArtifacts: record.modelArtifacts },
    TrainingJobStatus: record.status,
    SecondaryStatus: record.secondaryStatus as DescribeTrainingJobCommandOutput['SecondaryStatus'],
    HyperParameters: r.HyperParameters ?? {},
    AlgorithmSpecification: r.AlgorithmSpecification,
    RoleArn: r.RoleArn,
    InputDataConfig: r.InputDataConfig,
    OutputDataConfig: r.OutputDataConfig,
    ResourceConfig: r.ResourceConfig,
    StoppingCondition: r.StoppingCondition ?? { MaxRuntimeInSeconds: 86_400 },
    CreationTime: new Date(record.creationTime),
    LastModifiedTime: new Date(record.lastModifiedTime),
    SecondaryStatusTransitions: record.transitions.map((t) => ({
      Status: t.Status as NonNullable<DescribeTrainingJobCommandOutput['SecondaryStatus']>,
      StartTime: new Date(t.StartTime),
      ...(t.EndTime !== undefined ? { EndTime: new Date(t.EndTime) } : {}),
      StatusMessage: t.StatusMessage,
    })),
    FinalMetricDataList: record.finalMetrics.map((m) => ({
      MetricName: m.MetricName,
      Value: m.Value,
      Timestamp: new Date(m.Timestamp),
    })),
  };
  if (r.Environment) out.Environment = r.Environment;
  if (r.VpcConfig) out.VpcConfig = r.VpcConfig;
  if (r.EnableNetworkIsolation !== undefined) out.EnableNetworkIsolation = r.EnableNetworkIsolation;
  if (r.EnableManagedSpotTraining !== undefined) out.EnableManagedSpotTraining = r.EnableManagedSpotTraining;
  if (r.CheckpointConfig) out.CheckpointConfig = r.CheckpointConfig;
  if (record.failureReason !== undefined && record.status === 'Failed')
    out.FailureReason = record.failureReason;
  if (record.trainingStartTime !== undefined) out.TrainingStartTime = new Date(record.trainingStartTime);
  if (record.trainingEndTime !== undefined) {
    out.TrainingEndTime = new Date(record.trainingEndTime);
    const seconds = Math.max(1, Math.ceil((record.trainingEndTime - (record.trainingStartTime ?? 0)) / 1000));
    out.TrainingTimeInSeconds = seconds;
    // No spot market locally: every trained second is billed.
    out.BillableTimeInSeconds = seconds;
  }
  return out;
}
