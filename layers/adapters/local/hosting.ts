/**
 * Models, endpoint configs and endpoints, served locally by the nbops runtime's inference server
 * (`python3 -m nbops_runtime.server`), with SageMaker's blue/green deployments and automatic
 * rollback.
 *
 *   <work>/sagemaker/{models,endpoint-configs,endpoints}/<name>.json   definitions and state
 *
 * A fleet (fleet.ts) is the set of server processes for one endpoint config. DescribeEndpoint
 * reports the instance counts the config asks for, as SageMaker would, whatever number of
 * processes stands in for them. Invocations go to the fleets by the current traffic split
 * (blue/green), then to a variant by weight, then round-robin over its processes.
 *
 * Deployment (UpdateEndpoint): the new fleet is started and health-checked, then traffic shifts in
 * steps (CANARY: the canary share, then all; LINEAR: step by step; ALL_AT_ONCE: all). Every step
 * bakes WaitIntervalInSeconds, then TerminationWaitInSeconds passes with all traffic on the new
 * fleet, all under the AutoRollbackConfiguration alarms (polled through `alarmState`). An alarm in
 * ALARM, a new fleet that fails its health check, or MaximumExecutionTimeoutInSeconds rolls the
 * update back: all traffic returns to the old fleet, the new one is stopped, and the endpoint is
 * InService on its OLD EndpointConfigName with FailureReason saying why. Waits are multiplied by
 * timeScale. Without a DeploymentConfig the update is blue/green all at once with no baking, as
 * in SageMaker; a RollingUpdatePolicy is run as linear steps of MaximumBatchSize.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  CreateEndpointCommandInput,
  CreateEndpointConfigCommandInput,
  CreateModelCommandInput,
  DeploymentConfig,
  DescribeEndpointCommandOutput,
  DescribeEndpointConfigCommandOutput,
  DescribeModelCommandOutput,
  EndpointStatus,
  ProductionVariantSummary,
  UpdateEndpointCommandInput,
  VariantStatus,
} from '@aws-sdk/client-sagemaker';
import { assertValidRequest } from '#core/aws/api-model';
import { parseS3Uri } from '#core/layout';
import { type AwsLocation, awsEvent, sageMakerArn } from './aws-event';
import { type LocalContext, readJson, seededRandom, sleep, writeJsonAtomic } from './context';
import { type Fleet, FleetError, type FleetOptions, Fleets, type Instance } from './fleet';
import { SageMakerError, sageMakerErrors } from './sagemaker-errors';
import { trafficSteps } from './traffic';

export type AlarmValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type AlarmStateFn = (alarmName: string) => AlarmValue | string | Promise<AlarmValue | string>;

/** maxProcessesPerVariant (DescribeEndpoint still reports the requested counts), capture sync, seed... */
export interface HostingOptions extends FleetOptions {
  /** How often rollback alarms are checked while baking (default 1 s). */
  alarmPollIntervalMs?: number;
  /** Seed for traffic routing and capture sampling (deterministic tests). */
  seed?: number;
  /** Alarm states for AutoRollbackConfiguration (default: every alarm OK). */
  alarmState?: AlarmStateFn;
}

export interface InvocationResult {
  status: number;
  body: Buffer;
  contentType: string;
  variantName: string;
  endpointConfigName: string;
}

/** One local invocation metrics file (one JSON line per invocation, see the runtime README). */
export interface InvocationMetricsFile {
  endpointName: string;
  endpointConfigName: string;
  variantName: string;
  file: string;
}

interface ModelRecord {
  input: CreateModelCommandInput;
  arn: string;
  creationTime: number;
}

interface ConfigRecord {
  input: CreateEndpointConfigCommandInput;
  arn: string;
  creationTime: number;
}

interface StatusEntry {
  Status: VariantStatus;
  StatusMessage: string;
  StartTime: number;
}

interface PendingDeployment {
  configName: string;
  startTime: number;
  fleet?: Fleet;
  /** Share of traffic (0-1) the new fleet takes. */
  share: number;
  /** New-fleet instances carrying traffic, as SageMaker reports them. */
  activeInstances: number;
  status: StatusEntry;
}

/** What <work>/sagemaker/endpoints/<name>.json holds. */
interface EndpointRecord {
  name: string;
  arn: string;
  configName: string;
  status: EndpointStatus;
  creationTime: number;
  lastModifiedTime: number;
  failureReason?: string;
  tags: Record<string, string>;
  /** DeploymentConfig given at CreateEndpoint (for RetainDeploymentConfig). */
  createDeploymentConfig?: DeploymentConfig;
  lastDeploymentConfig?: DeploymentConfig;
}

interface Endpoint {
  record: EndpointRecord;
  current?: Fleet;
  pending?: PendingDeployment;
  /** Provisioning of a new endpoint (status Creating). */
  creating?: { configName: string; startTime: number };
  work: Promise<void>;
  deleted: boolean;
}

const DEFAULT_DEPLOYMENT_TIMEOUT_SECONDS = 28_800;

/** `InService` -> `IN_SERVICE`: how endpoint events spell statuses. */
export function eventStatus(status: string): string {
  return status.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

function fileName(name: string): string {
  return `${name.toLowerCase()}.json`;
}

export class LocalHosting {
  private readonly models = new Map<string, ModelRecord>();
  private readonly configs = new Map<string, ConfigRecord>();
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly random: () => number;
  private readonly alarmPollMs: number;
  private readonly fleets: Fleets;
  private loaded: Promise<void> | undefined;
  /** Set by stopAll: in-flight deployments stop where they are (restore() reports them). */
  private closing = false;
  alarmState: AlarmStateFn;

  constructor(
    private readonly ctx: LocalContext,
    options: HostingOptions = {},
  ) {
    this.random = options.seed !== undefined ? seededRandom(options.seed) : Math.random;
    this.alarmPollMs = options.alarmPollIntervalMs ?? 1_000;
    this.fleets = new Fleets(ctx, options, (name) => this.findModel(name));
    this.alarmState = options.alarmState ?? (() => 'OK');
  }

  private get location(): AwsLocation {
    return this.ctx.location;
  }

  private stateDir(kind: 'models' | 'endpoint-configs' | 'endpoints'): string {
    return join(this.ctx.workDir, 'sagemaker', kind);
  }

  private now(): number {
    return this.ctx.now().getTime();
  }

  // --- persistence ------------------------------------------------------------------------------

  private async findModel(name: string): Promise<ModelRecord | undefined> {
    const key = name.toLowerCase();
    const known = this.models.get(key);
    if (known) return known;
    const stored = await readJson<ModelRecord>(join(this.stateDir('models'), fileName(name)));
    if (stored) this.models.set(key, stored);
    return stored;
  }

  private async findConfig(name: string): Promise<ConfigRecord | undefined> {
    const key = name.toLowerCase();
    const known = this.configs.get(key);
    if (known) return known;
    const stored = await readJson<ConfigRecord>(join(this.stateDir('endpoint-configs'), fileName(name)));
    if (stored) this.configs.set(key, stored);
    return stored;
  }

  private async persistEndpoint(endpoint: Endpoint): Promise<void> {
    if (endpoint.deleted) return;
    await writeJsonAtomic(join(this.stateDir('endpoints'), fileName(endpoint.record.name)), endpoint.record);
  }

  /**
   * Endpoints saved by a previous run of the local host: their fleets are started again (status
   * SystemUpdating meanwhile); an update that was in flight is reported as rolled back.
   */
  async restore(): Promise<void> {
    this.loaded ??= this.restoreOnce();
    await this.loaded;
  }

  private async restoreOnce(): Promise<void> {
    const names = await readdir(this.stateDir('endpoints')).catch(() => [] as string[]);
    for (const file of names.filter((n) => n.endsWith('.json'))) {
      const record = await readJson<EndpointRecord>(join(this.stateDir('endpoints'), file));
      if (!record || this.endpoints.has(record.name.toLowerCase())) continue;
      if (record.status === 'Deleting') {
        await rm(join(this.stateDir('endpoints'), file), { force: true });
        continue;
      }
      const endpoint: Endpoint = { record, work: Promise.resolve(), deleted: false };
      this.endpoints.set(record.name.toLowerCase(), endpoint);
      if (record.status === 'Failed' || record.status === 'OutOfService') continue;
      const interrupted = record.status === 'Updating' || record.status === 'Creating';
      const was = record.status;
      record.status = was === 'Creating' ? 'Creating' : 'SystemUpdating';
      endpoint.work = (async () => {
        const config = await this.findConfig(record.configName);
        try {
          if (!config)
            throw new FleetError(`its endpoint configuration ${record.configName} no longer exists`);
          const fleet = await this.fleets.start(endpoint.record.name, config.input);
          if (this.closing) {
            await this.fleets.stop(fleet);
            return;
          }
          endpoint.current = fleet;
          record.status = 'InService';
          if (was === 'Updating')
            record.failureReason =
              'The update was interrupted because the local host stopped; the endpoint kept its previous endpoint configuration.';
        } catch (error) {
          record.status = 'Failed';
          record.failureReason = `The local host could not restart the endpoint: ${(error as Error).message}`;
        }
        record.lastModifiedTime = this.now();
        if (interrupted || record.status === 'Failed') this.emitEndpoint(endpoint);
        await this.persistEndpoint(endpoint);
      })();
    }
  }

  // --- models and configs -----------------------------------------------------------------------

  async createModel(input: CreateModelCommandInput): Promise<{ ModelArn: string }> {
    assertValidRequest('sagemaker', 'CreateModel', input);
    const name = input.ModelName!;
    const arn = sageMakerArn(this.location, 'model', name);
    if (await this.findModel(name)) throw sageMakerErrors.alreadyExists('model', arn);
    if (!input.PrimaryContainer && !(input.Containers && input.Containers.length > 0))
      throw sageMakerErrors.invalid('Either PrimaryContainer or Containers must be provided.');
    const record: ModelRecord = { input: structuredClone(input), arn, creationTime: this.now() };
    this.models.set(name.toLowerCase(), record);
    await writeJsonAtomic(join(this.stateDir('models'), fileName(name)), record);
    return { ModelArn: arn };
  }

  async describeModel(name: string): Promise<DescribeModelCommandOutput | undefined> {
    assertValidRequest('sagemaker', 'DescribeModel', { ModelName: name });
    const record = await this.findModel(name);
    if (!record) return undefined;
    const input = record.input;
    return {
      $metadata: {},
      ModelName: input.ModelName,
      ModelArn: record.arn,
      CreationTime: new Date(record.creationTime),
      ...(input.PrimaryContainer ? { PrimaryContainer: input.PrimaryContainer } : {}),
      ...(input.Containers ? { Containers: input.Containers } : {}),
      ...(input.ExecutionRoleArn ? { ExecutionRoleArn: input.ExecutionRoleArn } : {}),
      ...(input.VpcConfig ? { VpcConfig: input.VpcConfig } : {}),
      ...(input.EnableNetworkIsolation !== undefined
        ? { EnableNetworkIsolation: input.EnableNetworkIsolation }
        : {}),
    };
  }

  async deleteModel(name: string): Promise<void> {
    assertValidRequest('sagemaker', 'DeleteModel', { ModelName: name });
    const record = await this.findModel(name);
    if (!record) throw sageMakerErrors.notFound('model', sageMakerArn(this.location, 'model', name));
    this.models.delete(name.toLowerCase());
    await rm(join(this.stateDir('models'), fileName(name)), { force: true });
  }

  async createEndpointConfig(
    input: CreateEndpointConfigCommandInput,
  ): Promise<{ EndpointConfigArn: string }> {
    assertValidRequest('sagemaker', 'CreateEndpointConfig', input);
    const name = input.EndpointConfigName!;
    const arn = sageMakerArn(this.location, 'endpoint-config', name);
    if (await this.findConfig(name)) throw sageMakerErrors.alreadyExists('endpoint configuration', arn);
    for (const variant of input.ProductionVariants ?? []) {
      if (variant.ModelName && !(await this.findModel(variant.ModelName)))
        throw sageMakerErrors.notFound('model', sageMakerArn(this.location, 'model', variant.ModelName));
    }
    const capture = input.DataCaptureConfig;
    if (capture && !parseS3Uri(capture.DestinationS3Uri ?? ''))
      throw sageMakerErrors.invalid(
        `DataCaptureConfig.DestinationS3Uri "${capture.DestinationS3Uri}" is not an s3:// URI.`,
      );
    const record: ConfigRecord = { input: structuredClone(input), arn, creationTime: this.now() };
    this.configs.set(name.toLowerCase(), record);
    await writeJsonAtomic(join(this.stateDir('endpoint-configs'), fileName(name)), record);
    return { EndpointConfigArn: arn };
  }

  async describeEndpointConfig(name: string): Promise<DescribeEndpointConfigCommandOutput | undefined> {
    assertValidRequest('sagemaker', 'DescribeEndpointConfig', { EndpointConfigName: name });
    const record = await this.findConfig(name);
    if (!record) return undefined;
    const { Tags: _tags, ...rest } = record.input;
    return {
      $metadata: {},
      ...rest,
      EndpointConfigArn: record.arn,
      CreationTime: new Date(record.creationTime),
    };
  }

  async deleteEndpointConfig(name: string): Promise<void> {
    assertValidRequest('sagemaker', 'DeleteEndpointConfig', { EndpointConfigName: name });
    const record = await this.findConfig(name);
    if (!record)
      throw sageMakerErrors.notFound(
        'endpoint configuration',
        sageMakerArn(this.location, 'endpoint-config', name),
      );
    this.configs.delete(name.toLowerCase());
    await rm(join(this.stateDir('endpoint-configs'), fileName(name)), { force: true });
  }

  // --- endpoints ----------------------------------------------------------------------------------

  /** An endpoint; one being deleted only with `includeDeleting` (describe and create still see it). */
  private async findEndpoint(name: string, includeDeleting = false): Promise<Endpoint | undefined> {
    await this.restore();
    const endpoint = this.endpoints.get(name.toLowerCase());
    return endpoint && (includeDeleting || !endpoint.deleted) ? endpoint : undefined;
  }

  async createEndpoint(input: CreateEndpointCommandInput): Promise<{ EndpointArn: string }> {
    assertValidRequest('sagemaker', 'CreateEndpoint', input);
    const name = input.EndpointName!;
    const arn = sageMakerArn(this.location, 'endpoint', name);
    if (await this.findEndpoint(name, true)) throw sageMakerErrors.alreadyExists('endpoint', arn);
    const config = await this.findConfig(input.EndpointConfigName!);
    if (!config)
      throw sageMakerErrors.notFound(
        'endpoint configuration',
        sageMakerArn(this.location, 'endpoint-config', input.EndpointConfigName!),
      );
    const now = this.now();
    const endpoint: Endpoint = {
      record: {
        name,
        arn,
        configName: config.input.EndpointConfigName!,
        status: 'Creating',
        creationTime: now,
        lastModifiedTime: now,
        tags: Object.fromEntries((input.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])),
        ...(input.DeploymentConfig ? { createDeploymentConfig: input.DeploymentConfig } : {}),
      },
      creating: { configName: config.input.EndpointConfigName!, startTime: now },
      work: Promise.resolve(),
      deleted: false,
    };
    this.endpoints.set(name.toLowerCase(), endpoint);
    await rm(join(this.ctx.workDir, 'endpoints', name), { recursive: true, force: true });
    this.emitEndpoint(endpoint);
    await this.persistEndpoint(endpoint);
    endpoint.work = this.provision(endpoint, config);
    return { EndpointArn: arn };
  }

  private async provision(endpoint: Endpoint, config: ConfigRecord): Promise<void> {
    const record = endpoint.record;
    try {
      const fleet = await this.fleets.start(endpoint.record.name, config.input);
      if (endpoint.deleted || this.closing) {
        await this.fleets.stop(fleet);
        return;
      }
      endpoint.current = fleet;
      record.status = 'InService';
    } catch (error) {
      if (endpoint.deleted || this.closing) return;
      record.status = 'Failed';
      record.failureReason = (error as Error).message.slice(0, 1024);
    }
    endpoint.creating = undefined;
    record.lastModifiedTime = this.now();
    this.emitEndpoint(endpoint);
    await this.persistEndpoint(endpoint);
  }

  async updateEndpoint(input: UpdateEndpointCommandInput): Promise<{ EndpointArn: string }> {
    assertValidRequest('sagemaker', 'UpdateEndpoint', input);
    const name = input.EndpointName!;
    const arn = sageMakerArn(this.location, 'endpoint', name);
    const endpoint = await this.findEndpoint(name);
    if (!endpoint) throw sageMakerErrors.notFound('endpoint', arn);
    const record = endpoint.record;
    if (record.status === 'Failed')
      throw sageMakerErrors.invalid(
        `Endpoint "${arn}" is in Failed state; only DeleteEndpoint is allowed. Delete it and create it again.`,
      );
    if (record.status !== 'InService') throw sageMakerErrors.updateInProgress(arn);
    const config = await this.findConfig(input.EndpointConfigName!);
    if (!config)
      throw sageMakerErrors.notFound(
        'endpoint configuration',
        sageMakerArn(this.location, 'endpoint-config', input.EndpointConfigName!),
      );
    if (config.input.EndpointConfigName!.toLowerCase() === record.configName.toLowerCase())
      throw sageMakerErrors.invalid(
        `Endpoint "${arn}" already uses endpoint configuration ${record.configName}; create a new endpoint configuration for the update.`,
      );
    const deployment = input.RetainDeploymentConfig
      ? (record.lastDeploymentConfig ?? record.createDeploymentConfig)
      : input.DeploymentConfig;
    const now = this.now();
    record.status = 'Updating';
    record.lastModifiedTime = now;
    delete record.failureReason;
    if (deployment) record.lastDeploymentConfig = deployment;
    const instances = this.desiredInstances(config);
    endpoint.pending = {
      configName: config.input.EndpointConfigName!,
      startTime: now,
      share: 0,
      activeInstances: 0,
      status: { Status: 'Creating', StatusMessage: `Launching ${instances} instance(s).`, StartTime: now },
    };
    this.emitEndpoint(endpoint);
    this.emitDeployment(endpoint);
    await this.persistEndpoint(endpoint);
    endpoint.work = this.deploy(endpoint, config, deployment);
    return { EndpointArn: arn };
  }

  private desiredInstances(config: ConfigRecord): number {
    return (config.input.ProductionVariants ?? []).reduce((sum, v) => sum + (v.InitialInstanceCount ?? 1), 0);
  }

  private setPendingStatus(endpoint: Endpoint, status: VariantStatus, message: string): void {
    if (!endpoint.pending) return;
    endpoint.pending.status = { Status: status, StatusMessage: message, StartTime: this.now() };
    this.emitDeployment(endpoint);
  }

  private async deploy(
    endpoint: Endpoint,
    config: ConfigRecord,
    deployment: DeploymentConfig | undefined,
  ): Promise<void> {
    const pending = endpoint.pending!;
    const instances = this.desiredInstances(config);
    const scale = this.ctx.timeScale;
    const timeoutSeconds =
      deployment?.BlueGreenUpdatePolicy?.MaximumExecutionTimeoutInSeconds ??
      deployment?.RollingUpdatePolicy?.MaximumExecutionTimeoutInSeconds ??
      DEFAULT_DEPLOYMENT_TIMEOUT_SECONDS;
    const deadline = Date.now() + timeoutSeconds * 1000 * scale;
    const alarms = (deployment?.AutoRollbackConfiguration?.Alarms ?? []).map((a) => a.AlarmName!);

    let fleet: Fleet;
    try {
      fleet = await this.fleets.start(endpoint.record.name, config.input);
    } catch (error) {
      if (endpoint.deleted) return;
      await this.rollBack(endpoint, `the new fleet did not become healthy: ${(error as Error).message}`);
      return;
    }
    if (endpoint.deleted || this.closing) {
      await this.fleets.stop(fleet);
      return;
    }
    pending.fleet = fleet;

    for (const step of trafficSteps(deployment, instances)) {
      const capacity = step.capacity === 'canary' ? 'canary' : step.capacity === 'full' ? 'full' : 'partial';
      if (step.share !== pending.share) {
        pending.share = step.share;
        pending.activeInstances = step.instances;
        this.setPendingStatus(
          endpoint,
          'ActivatingTraffic',
          `Activating traffic on ${capacity} capacity of ${step.instances} instance(s).`,
        );
      }
      if (step.bakeSeconds <= 0 && alarms.length === 0) continue;
      this.setPendingStatus(
        endpoint,
        'Baking',
        `Baking for ${step.bakeSeconds} seconds (${step.waitName}) with traffic enabled on ${capacity} capacity of ${step.instances} instance(s).`,
      );
      const outcome = await this.bake(endpoint, step.bakeSeconds * 1000 * scale, alarms, deadline);
      if (outcome.kind === 'aborted') return;
      if (outcome.kind === 'alarm') {
        await this.rollBack(
          endpoint,
          `CloudWatch alarm ${outcome.alarm} went into ALARM state while baking (${step.waitName}) with ${Math.round(step.share * 100)}% of traffic on the new fleet`,
        );
        return;
      }
      if (outcome.kind === 'timeout') {
        await this.rollBack(
          endpoint,
          `the deployment did not finish within MaximumExecutionTimeoutInSeconds (${timeoutSeconds} s)`,
        );
        return;
      }
    }

    // All traffic on the new fleet and no alarm: retire the old fleet.
    const old = endpoint.current;
    if (old) {
      this.setPendingStatus(
        endpoint,
        'Deleting',
        `Terminating ${this.desiredInstancesOfFleet(old)} instance(s) of the old fleet.`,
      );
      await this.fleets.stop(old);
    }
    if (endpoint.deleted) return;
    const record = endpoint.record;
    endpoint.current = fleet;
    endpoint.pending = undefined;
    record.configName = config.input.EndpointConfigName!;
    record.status = 'InService';
    record.lastModifiedTime = this.now();
    delete record.failureReason;
    this.emitDeployment(endpoint);
    this.emitEndpoint(endpoint);
    await this.persistEndpoint(endpoint);
  }

  private desiredInstancesOfFleet(fleet: Fleet): number {
    return fleet.variants.reduce((sum, v) => sum + v.desiredInstanceCount, 0);
  }

  private async firingAlarm(alarms: readonly string[]): Promise<string | undefined> {
    for (const alarm of alarms) {
      let state: string;
      try {
        state = await this.alarmState(alarm);
      } catch (error) {
        this.ctx.log(`[nbops] could not read alarm ${alarm}: ${(error as Error).message}`);
        continue;
      }
      if (state === 'ALARM') return alarm;
    }
    return undefined;
  }

  private async bake(
    endpoint: Endpoint,
    ms: number,
    alarms: readonly string[],
    deadline: number,
  ): Promise<{ kind: 'ok' } | { kind: 'alarm'; alarm: string } | { kind: 'timeout' } | { kind: 'aborted' }> {
    const end = Date.now() + ms;
    for (;;) {
      if (endpoint.deleted || this.closing) return { kind: 'aborted' };
      const alarm = await this.firingAlarm(alarms);
      if (alarm) return { kind: 'alarm', alarm };
      const now = Date.now();
      if (now >= end) return { kind: 'ok' };
      if (now >= deadline) return { kind: 'timeout' };
      await sleep(Math.min(this.alarmPollMs, end - now, Math.max(1, deadline - now)));
    }
  }

  private async rollBack(endpoint: Endpoint, why: string): Promise<void> {
    const pending = endpoint.pending;
    const record = endpoint.record;
    if (pending) {
      pending.share = 0;
      pending.activeInstances = 0;
      if (pending.fleet) {
        this.setPendingStatus(
          endpoint,
          'Deleting',
          `Terminating ${this.desiredInstancesOfFleet(pending.fleet)} instance(s).`,
        );
        await this.fleets.stop(pending.fleet);
      }
    }
    if (endpoint.deleted) return;
    const target = pending?.configName ?? '?';
    endpoint.pending = undefined;
    record.status = 'InService';
    record.lastModifiedTime = this.now();
    record.failureReason =
      `Rolled back the update to endpoint configuration ${target}: ${why}. The endpoint serves ${record.configName} again.`.slice(
        0,
        1024,
      );
    this.emitDeployment(endpoint);
    this.emitEndpoint(endpoint);
    await this.persistEndpoint(endpoint);
  }

  async describeEndpoint(name: string): Promise<DescribeEndpointCommandOutput | undefined> {
    assertValidRequest('sagemaker', 'DescribeEndpoint', { EndpointName: name });
    const endpoint = await this.findEndpoint(name, true);
    if (!endpoint) return undefined;
    const record = endpoint.record;
    const config = await this.findConfig(record.configName);
    const out: DescribeEndpointCommandOutput = {
      $metadata: {},
      EndpointName: record.name,
      EndpointArn: record.arn,
      EndpointConfigName: record.configName,
      EndpointStatus: record.status,
      CreationTime: new Date(record.creationTime),
      LastModifiedTime: new Date(record.lastModifiedTime),
    };
    if (config) {
      const creating = endpoint.creating !== undefined;
      out.ProductionVariants = this.variantSummaries(
        config,
        endpoint.current,
        creating ? endpoint : undefined,
      );
      const capture = config.input.DataCaptureConfig;
      if (capture)
        out.DataCaptureConfig = {
          EnableCapture: capture.EnableCapture ?? true,
          CaptureStatus: capture.EnableCapture === false ? 'Stopped' : 'Started',
          CurrentSamplingPercentage: capture.InitialSamplingPercentage ?? 0,
          DestinationS3Uri: capture.DestinationS3Uri ?? '',
          KmsKeyId: capture.KmsKeyId ?? '',
        };
    }
    if (record.failureReason !== undefined) out.FailureReason = record.failureReason;
    if (record.lastDeploymentConfig) out.LastDeploymentConfig = record.lastDeploymentConfig;
    const pending = endpoint.pending;
    if (pending) {
      const pendingConfig = await this.findConfig(pending.configName);
      out.PendingDeploymentSummary = {
        EndpointConfigName: pending.configName,
        StartTime: new Date(pending.startTime),
        ProductionVariants: (pendingConfig?.input.ProductionVariants ?? []).map((v) => ({
          VariantName: v.VariantName!,
          ...(v.InstanceType ? { InstanceType: v.InstanceType } : {}),
          CurrentWeight: pending.share > 0 ? (v.InitialVariantWeight ?? 1) : 0,
          DesiredWeight: v.InitialVariantWeight ?? 1,
          CurrentInstanceCount: pending.fleet ? Math.max(pending.activeInstances, 0) : 0,
          DesiredInstanceCount: v.InitialInstanceCount ?? 1,
          VariantStatus: [
            {
              Status: pending.status.Status,
              StatusMessage: pending.status.StatusMessage,
              StartTime: new Date(pending.status.StartTime),
            },
          ],
        })),
      };
    }
    return out;
  }

  private variantSummaries(
    config: ConfigRecord,
    fleet: Fleet | undefined,
    creating: Endpoint | undefined,
  ): ProductionVariantSummary[] {
    return (config.input.ProductionVariants ?? []).map((v) => {
      const running = fleet?.variants.find((f) => f.variant.VariantName === v.VariantName);
      const image = running?.container.Image;
      const summary: ProductionVariantSummary = {
        VariantName: v.VariantName!,
        CurrentWeight: v.InitialVariantWeight ?? 1,
        DesiredWeight: v.InitialVariantWeight ?? 1,
        CurrentInstanceCount: running ? (v.InitialInstanceCount ?? 1) : 0,
        DesiredInstanceCount: v.InitialInstanceCount ?? 1,
      };
      if (image) summary.DeployedImages = [{ SpecifiedImage: image, ResolvedImage: image }];
      if (creating?.creating)
        summary.VariantStatus = [
          {
            Status: 'Creating',
            StatusMessage: `Launching ${v.InitialInstanceCount ?? 1} instance(s).`,
            StartTime: new Date(creating.creating.startTime),
          },
        ];
      return summary;
    });
  }

  async deleteEndpoint(name: string): Promise<void> {
    assertValidRequest('sagemaker', 'DeleteEndpoint', { EndpointName: name });
    const endpoint = await this.findEndpoint(name);
    if (!endpoint) throw sageMakerErrors.notFound('endpoint', sageMakerArn(this.location, 'endpoint', name));
    const record = endpoint.record;
    record.status = 'Deleting';
    record.lastModifiedTime = this.now();
    this.emitEndpoint(endpoint);
    await this.persistEndpoint(endpoint);
    endpoint.deleted = true;
    const previous = endpoint.work;
    endpoint.work = (async () => {
      await Promise.all([
        endpoint.current ? this.fleets.stop(endpoint.current) : undefined,
        endpoint.pending?.fleet ? this.fleets.stop(endpoint.pending.fleet) : undefined,
      ]);
      await previous.catch(() => {});
      await rm(join(this.stateDir('endpoints'), fileName(name)), { force: true });
      if (this.endpoints.get(name.toLowerCase()) === endpoint) this.endpoints.delete(name.toLowerCase());
    })();
  }

  /** Waits until every create/update/delete in flight has finished (tests, shutdown). */
  async settle(name?: string): Promise<void> {
    const targets = name
      ? [this.endpoints.get(name.toLowerCase())].filter((e): e is Endpoint => e !== undefined)
      : [...this.endpoints.values()];
    await Promise.all(targets.map((e) => e.work.catch(() => {})));
  }

  // --- invocations --------------------------------------------------------------------------------

  /**
   * InvokeEndpoint for the local host: routes by the current traffic split and returns the
   * container's answer (4xx/5xx included) with the variant and config that answered.
   */
  async invokeEndpoint(
    name: string,
    body: string | Uint8Array,
    contentType: string,
    accept?: string,
    options: { inferenceId?: string } = {},
  ): Promise<InvocationResult> {
    const endpoint = await this.findEndpoint(name);
    const record = endpoint?.record;
    if (!endpoint || !record)
      throw new SageMakerError(
        'ValidationException',
        `Endpoint ${name} of account ${this.location.account} not found.`,
      );
    if (record.status !== 'InService' && record.status !== 'Updating' && record.status !== 'SystemUpdating')
      throw new SageMakerError(
        'ValidationException',
        `Endpoint ${name} is ${record.status}; invoke it once it is InService.`,
      );
    const pending = endpoint.pending;
    const useNew = pending?.fleet && pending.share > 0 && this.random() < pending.share;
    const fleet = useNew ? pending!.fleet! : endpoint.current;
    if (!fleet) return serviceUnavailable(record.configName, 'the endpoint has no running fleet');
    const picked = this.fleets.route(fleet, this.random);
    if (!picked) return serviceUnavailable(fleet.configName, 'no instance is ready to take traffic');
    const { variant } = picked;
    const headers: Record<string, string> = { 'Content-Type': contentType };
    if (accept) headers.Accept = accept;
    if (options.inferenceId) headers['X-Amzn-SageMaker-Inference-Id'] = options.inferenceId;
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
    let instance: Instance | undefined = picked.instance;
    for (let attempt = 0; instance?.port && attempt < variant.instances.length; attempt++) {
      try {
        const response = await fetch(`http://127.0.0.1:${instance.port}/invocations`, {
          method: 'POST',
          headers,
          body: bytes,
        });
        return {
          status: response.status,
          body: Buffer.from(await response.arrayBuffer()),
          contentType: response.headers.get('content-type') ?? '',
          variantName: variant.variant.VariantName!,
          endpointConfigName: fleet.configName,
        };
      } catch {
        instance.ready = false; // it died between the pick and the call; its replacement comes later
        instance = this.fleets.nextInstance(variant);
      }
    }
    return serviceUnavailable(
      fleet.configName,
      `no healthy instance of variant ${variant.variant.VariantName}`,
    );
  }

  /** Copies new data capture records of an endpoint's fleets to the store now. */
  async flushCapture(name: string): Promise<number> {
    const endpoint = this.endpoints.get(name.toLowerCase());
    if (!endpoint) return 0;
    let records = 0;
    for (const fleet of [endpoint.current, endpoint.pending?.fleet]) {
      if (!fleet?.capture) continue;
      for (const upload of await fleet.capture.sync.sync()) records += upload.records;
    }
    return records;
  }

  /** The invocation metrics files of an endpoint's running fleets. */
  invocationMetricsFiles(name: string): InvocationMetricsFile[] {
    const endpoint = this.endpoints.get(name.toLowerCase());
    if (!endpoint) return [];
    const files: InvocationMetricsFile[] = [];
    for (const fleet of [endpoint.current, endpoint.pending?.fleet]) {
      if (!fleet || fleet.stopped) continue;
      for (const v of fleet.variants)
        for (const instance of v.instances)
          files.push({
            endpointName: endpoint.record.name,
            endpointConfigName: fleet.configName,
            variantName: v.variant.VariantName!,
            file: join(v.dir, 'metrics', `instance-${instance.index}.jsonl`),
          });
    }
    return files;
  }

  /** Stops every fleet (host shutdown); endpoint records stay, so restore() can start them again. */
  async stopAll(): Promise<void> {
    this.closing = true;
    // Creates and updates in flight notice `closing` and end (bakes stop at once).
    await this.settle();
    await Promise.all(
      [...this.endpoints.values()].flatMap((e) => [
        e.current ? this.fleets.stop(e.current) : undefined,
        e.pending?.fleet ? this.fleets.stop(e.pending.fleet) : undefined,
      ]),
    );
  }

  // --- events -------------------------------------------------------------------------------------

  private variantsForEvent(endpoint: Endpoint): Record<string, unknown>[] {
    const fleet = endpoint.current;
    const configName = endpoint.record.configName;
    const config = this.configs.get(configName.toLowerCase());
    return (config?.input.ProductionVariants ?? []).map((v) => ({
      VariantName: v.VariantName,
      CurrentWeight: fleet ? (v.InitialVariantWeight ?? 1) : 0,
      DesiredWeight: v.InitialVariantWeight ?? 1,
      CurrentInstanceCount: fleet ? (v.InitialInstanceCount ?? 1) : 0,
      DesiredInstanceCount: v.InitialInstanceCount ?? 1,
    }));
  }

  private endpointDetail(endpoint: Endpoint): Record<string, unknown> {
    const record = endpoint.record;
    const detail: Record<string, unknown> = {
      EndpointName: record.name,
      EndpointArn: record.arn,
      EndpointConfigName: record.configName,
      ProductionVariants: this.variantsForEvent(endpoint),
      EndpointStatus: eventStatus(record.status),
      CreationTime: record.creationTime,
      LastModifiedTime: record.lastModifiedTime,
      Tags: record.tags,
    };
    if (record.failureReason !== undefined) detail.FailureReason = record.failureReason;
    return detail;
  }

  private emitEndpoint(endpoint: Endpoint): void {
    this.ctx.emit(
      awsEvent({
        source: 'aws.sagemaker',
        detailType: 'SageMaker Endpoint State Change',
        detail: this.endpointDetail(endpoint),
        resources: [endpoint.record.arn],
        at: this.ctx.now(),
        location: this.location,
      }),
    );
  }

  private emitDeployment(endpoint: Endpoint): void {
    const detail = this.endpointDetail(endpoint);
    const pending = endpoint.pending;
    if (pending) {
      const config = this.configs.get(pending.configName.toLowerCase());
      detail.PendingDeploymentSummary = {
        EndpointConfigName: pending.configName,
        StartTime: pending.startTime,
        ProductionVariants: (config?.input.ProductionVariants ?? []).map((v) => ({
          VariantName: v.VariantName,
          CurrentWeight: pending.share > 0 ? (v.InitialVariantWeight ?? 1) : 0,
          DesiredWeight: v.InitialVariantWeight ?? 1,
          CurrentInstanceCount: pending.activeInstances,
          DesiredInstanceCount: v.InitialInstanceCount ?? 1,
          VariantStatus: [{ ...pending.status }],
        })),
      };
    }
    this.ctx.emit(
      awsEvent({
        source: 'aws.sagemaker',
        detailType: 'SageMaker Endpoint Deployment State Change',
        detail,
        resources: [endpoint.record.arn],
        at: this.ctx.now(),
        location: this.location,
      }),
    );
  }
}

function serviceUnavailable(configName: string, why: string): InvocationResult {
  return {
    status: 503,
    body: Buffer.from(JSON.stringify({ error: `${why}; retry shortly`, type: 'ServiceUnavailable' })),
    contentType: 'application/json',
    variantName: '',
    endpointConfigName: configName,
  };
}
