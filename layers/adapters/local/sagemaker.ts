/**
 * SageMaker on a laptop: the SageMakerPort of the local host. Training jobs run the nbops runtime's
 * runner as local processes (training.ts), endpoints run its inference server (hosting.ts), and
 * every state change is emitted as the EventBridge event SageMaker would send, to `onEvent`
 * (normally LocalEventBus.put). Requests are checked against the AWS API model first, and errors
 * are shaped like SageMaker's, so the use cases behave the same on both hosts.
 *
 *   const sagemaker = await LocalSageMaker.create({ store, workDir: '.nbops', onEvent: (e) => bus.put(e) });
 *   ...
 *   await sagemaker.close(); // stops every process it started
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type {
  CreateEndpointCommandInput,
  CreateEndpointConfigCommandInput,
  CreateModelCommandInput,
  CreateTrainingJobCommandInput,
  DescribeEndpointCommandOutput,
  DescribeEndpointConfigCommandOutput,
  DescribeModelCommandOutput,
  DescribeTrainingJobCommandOutput,
  UpdateEndpointCommandInput,
} from '@aws-sdk/client-sagemaker';
import type { Clock, ObjectStore, SageMakerPort } from '#core/ports';
import { type AwsEvent, type AwsLocation, LOCAL_LOCATION } from './aws-event';
import { type LocalContext, STOP_GRACE_SECONDS } from './context';
import {
  type AlarmStateFn,
  type HostingOptions,
  type InvocationMetricsFile,
  type InvocationResult,
  LocalHosting,
} from './hosting';
import { checkPython, DEFAULT_RUNTIME_DIR, defaultPython, ProcessTracker } from './processes';
import { LocalTrainingJobs } from './training';

export type { AlarmStateFn, AlarmValue, InvocationMetricsFile, InvocationResult } from './hosting';

export interface LocalSageMakerOptions extends HostingOptions {
  store: ObjectStore;
  /** The local host's work folder, e.g. `.nbops` (jobs/, endpoints/, sagemaker/ go there). */
  workDir: string;
  /** Python 3.9+ interpreter; default NBOPS_PYTHON, else python3. */
  python?: string;
  /** Folder holding nbops_runtime/; default this checkout's layers/runtime. */
  runtimeDir?: string;
  /** Receives every SageMaker event (EventBridge envelope); may also be set later. */
  onEvent?: (event: AwsEvent) => void;
  clock?: Clock;
  /** Account and Region in ARNs and events (default 000000000000 / us-east-1). */
  location?: AwsLocation;
  /**
   * Multiplies SageMaker's waits: the 120 s stop grace and deployment bake/termination waits and
   * timeouts (e.g. 0.01 in tests). MaxRuntimeInSeconds is real time: the notebook runs for real.
   */
  timeScale?: number;
  /** Where diagnostics go (default console.error). */
  log?: (line: string) => void;
}

export class LocalSageMaker implements SageMakerPort {
  readonly training: LocalTrainingJobs;
  readonly hosting: LocalHosting;
  private readonly processes: ProcessTracker;
  private readonly ctx: LocalContext;
  private closed = false;
  onEvent: ((event: AwsEvent) => void) | undefined;

  /**
   * Checks the interpreter (a clear PythonNotFoundError if unusable), fails jobs a previous host
   * left running, and starts the endpoints it was serving again.
   */
  static async create(options: LocalSageMakerOptions): Promise<LocalSageMaker> {
    checkPython(options.python ?? defaultPython());
    await mkdir(options.workDir, { recursive: true });
    const sagemaker = new LocalSageMaker(options);
    await sagemaker.training.recover();
    await sagemaker.hosting.restore();
    return sagemaker;
  }

  constructor(options: LocalSageMakerOptions) {
    const python = options.python ?? defaultPython();
    const runtimeDir = resolve(options.runtimeDir ?? DEFAULT_RUNTIME_DIR);
    this.processes = new ProcessTracker(python, runtimeDir);
    this.onEvent = options.onEvent;
    const log = options.log ?? ((line: string) => console.error(line));
    this.ctx = {
      store: options.store,
      workDir: resolve(options.workDir),
      python,
      runtimeDir,
      processes: this.processes,
      location: options.location ?? LOCAL_LOCATION,
      now: () => options.clock?.now() ?? new Date(),
      emit: (event) => {
        try {
          this.onEvent?.(event);
        } catch (error) {
          log(`[nbops] event sink failed for ${event['detail-type']}: ${(error as Error).message}`);
        }
      },
      timeScale: options.timeScale ?? 1,
      log,
    };
    this.training = new LocalTrainingJobs(this.ctx);
    this.hosting = new LocalHosting(this.ctx, options);
  }

  /** How AutoRollbackConfiguration alarms are read (the local alarms plug in here). */
  set alarmState(fn: AlarmStateFn) {
    this.hosting.alarmState = fn;
  }

  get alarmState(): AlarmStateFn {
    return this.hosting.alarmState;
  }

  createTrainingJob(input: CreateTrainingJobCommandInput): Promise<{ TrainingJobArn: string }> {
    return this.training.create(input);
  }

  describeTrainingJob(name: string): Promise<DescribeTrainingJobCommandOutput | undefined> {
    return this.training.describe(name);
  }

  stopTrainingJob(name: string): Promise<void> {
    return this.training.stop(name);
  }

  createModel(input: CreateModelCommandInput): Promise<{ ModelArn: string }> {
    return this.hosting.createModel(input);
  }

  describeModel(name: string): Promise<DescribeModelCommandOutput | undefined> {
    return this.hosting.describeModel(name);
  }

  deleteModel(name: string): Promise<void> {
    return this.hosting.deleteModel(name);
  }

  createEndpointConfig(input: CreateEndpointConfigCommandInput): Promise<{ EndpointConfigArn: string }> {
    return this.hosting.createEndpointConfig(input);
  }

  describeEndpointConfig(name: string): Promise<DescribeEndpointConfigCommandOutput | undefined> {
    return this.hosting.describeEndpointConfig(name);
  }

  deleteEndpointConfig(name: string): Promise<void> {
    return this.hosting.deleteEndpointConfig(name);
  }

  createEndpoint(input: CreateEndpointCommandInput): Promise<{ EndpointArn: string }> {
    return this.hosting.createEndpoint(input);
  }

  updateEndpoint(input: UpdateEndpointCommandInput): Promise<{ EndpointArn: string }> {
    return this.hosting.updateEndpoint(input);
  }

  describeEndpoint(name: string): Promise<DescribeEndpointCommandOutput | undefined> {
    return this.hosting.describeEndpoint(name);
  }

  deleteEndpoint(name: string): Promise<void> {
    return this.hosting.deleteEndpoint(name);
  }

  /** InvokeEndpoint: routed by the current traffic split; 4xx/5xx answers are returned, not thrown. */
  invokeEndpoint(
    name: string,
    body: string | Uint8Array,
    contentType: string,
    accept?: string,
    options?: { inferenceId?: string },
  ): Promise<InvocationResult> {
    return this.hosting.invokeEndpoint(name, body, contentType, accept, options);
  }

  /** Copies new data capture records to the store now (they are also copied every few seconds). */
  flushCapture(endpointName: string): Promise<number> {
    return this.hosting.flushCapture(endpointName);
  }

  invocationMetricsFiles(endpointName: string): InvocationMetricsFile[] {
    return this.hosting.invocationMetricsFiles(endpointName);
  }

  /** Waits for everything in flight: running jobs and endpoint creates/updates/deletes. */
  async settle(): Promise<void> {
    await Promise.all([this.training.settle(), this.hosting.settle()]);
  }

  /** PIDs of the processes running now (for diagnostics and tests). */
  get pids(): number[] {
    return this.processes.pids;
  }

  /**
   * Stops every process: running jobs end Stopped, fleets stop (their capture is flushed); endpoint
   * records stay so the next LocalSageMaker.create() on the same work folder serves them again.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const graceMs = STOP_GRACE_SECONDS * 1000 * this.ctx.timeScale;
    await Promise.all([this.training.stopAll(graceMs), this.hosting.stopAll()]);
    await this.processes.stopAll(graceMs);
    this.processes.dispose();
  }
}
