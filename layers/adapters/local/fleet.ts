/**
 * Fleets: the inference server processes serving one endpoint config. Each variant's model.tar.gz
 * is downloaded and extracted, then min(InitialInstanceCount, maxProcessesPerVariant) servers
 * (`python3 -m nbops_runtime.server`) start on free ports and must answer /ping. A server that
 * dies later is replaced (up to 3 times), as SageMaker replaces unhealthy instances.
 *
 *   <work>/endpoints/<endpoint>/<config>/<variant>/model/                 the extracted model
 *   <work>/endpoints/<endpoint>/<config>/<variant>/instance-<i>.log       server output
 *   <work>/endpoints/<endpoint>/<config>/<variant>/metrics/instance-<i>.jsonl   invocation metrics
 *   <work>/endpoints/<endpoint>/<config>/capture/                         data capture (synced to S3)
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ContainerDefinition,
  CreateEndpointConfigCommandInput,
  CreateModelCommandInput,
  ProductionVariant,
} from '@aws-sdk/client-sagemaker';
import { parseS3Uri } from '#core/layout';
import { CaptureSync } from './capture-sync';
import { containerBaseEnv, type LocalContext, STOP_GRACE_SECONDS, sleep } from './context';
import { forEachLine, type SpawnedProcess } from './processes';
import { extractTarGz } from './tar';

const MAX_RESTARTS = 3;
/** Used when a variant gives no ContainerStartupHealthCheckTimeoutInSeconds. */
const DEFAULT_HEALTH_CHECK_SECONDS = 600;

/** The fleet could not start; the message is the endpoint's FailureReason. */
export class FleetError extends Error {}

export interface Instance {
  index: number;
  port?: number;
  process?: SpawnedProcess;
  ready: boolean;
  restarts: number;
}

export interface VariantFleet {
  variant: ProductionVariant;
  container: ContainerDefinition;
  dir: string;
  modelDir: string;
  desiredInstanceCount: number;
  weight: number;
  instances: Instance[];
  cursor: number;
}

export interface Fleet {
  endpointName: string;
  configName: string;
  dir: string;
  variants: VariantFleet[];
  capture?: { sync: CaptureSync; timer?: NodeJS.Timeout; dir: string; sampling: number };
  stopped: boolean;
}

export interface FleetOptions {
  /** Server processes per variant at most (default 2). */
  maxProcessesPerVariant?: number;
  /** How often capture files are copied to the store (default 10 s; 0 = only on stop/flush). */
  captureSyncIntervalMs?: number;
  /** Largest model.tar.gz downloaded (default 1 GiB). */
  maxModelBytes?: number;
  /** Seeds capture sampling (deterministic tests). */
  seed?: number;
}

export class Fleets {
  private readonly maxProcesses: number;
  private readonly captureIntervalMs: number;
  private readonly maxModelBytes: number;

  constructor(
    private readonly ctx: LocalContext,
    private readonly options: FleetOptions,
    private readonly findModel: (name: string) => Promise<{ input: CreateModelCommandInput } | undefined>,
  ) {
    this.maxProcesses = Math.max(1, options.maxProcessesPerVariant ?? 2);
    this.captureIntervalMs = options.captureSyncIntervalMs ?? 10_000;
    this.maxModelBytes = options.maxModelBytes ?? 1024 ** 3;
  }

  /** Starts a fleet for an endpoint config; resolves once every server answers /ping. */
  async start(endpointName: string, config: CreateEndpointConfigCommandInput): Promise<Fleet> {
    const configName = config.EndpointConfigName!;
    const dir = join(this.ctx.workDir, 'endpoints', endpointName, configName);
    const fleet: Fleet = {
      endpointName,
      configName,
      dir,
      variants: [],
      stopped: false,
    };
    const capture = config.DataCaptureConfig;
    try {
      if (capture && capture.EnableCapture !== false) {
        const captureDir = join(dir, 'capture');
        await mkdir(captureDir, { recursive: true });
        fleet.capture = {
          sync: new CaptureSync(this.ctx.store, captureDir, capture.DestinationS3Uri!),
          dir: captureDir,
          sampling: capture.InitialSamplingPercentage ?? 100,
        };
      }
      for (const variant of config.ProductionVariants ?? []) {
        fleet.variants.push(await this.prepareVariant(fleet, variant));
      }
      const csv = capture?.CaptureContentTypeHeader?.CsvContentTypes ?? [];
      const json = capture?.CaptureContentTypeHeader?.JsonContentTypes ?? [];
      await Promise.all(
        fleet.variants.flatMap((v) =>
          v.instances.map((instance) => this.startInstance(fleet, v, instance, { csv, json })),
        ),
      );
    } catch (error) {
      await this.stop(fleet);
      throw error;
    }
    if (fleet.capture && this.captureIntervalMs > 0) {
      const sync = fleet.capture.sync;
      fleet.capture.timer = setInterval(() => {
        sync.sync().catch((e) => this.ctx.log(`[nbops] data capture sync failed: ${(e as Error).message}`));
      }, this.captureIntervalMs);
      fleet.capture.timer.unref();
    }
    return fleet;
  }

  private async prepareVariant(fleet: Fleet, variant: ProductionVariant): Promise<VariantFleet> {
    const variantName = variant.VariantName!;
    const model = variant.ModelName ? await this.findModel(variant.ModelName) : undefined;
    if (!model)
      throw new FleetError(
        `production variant ${variantName}: model ${variant.ModelName ?? '(none)'} does not exist; create it first.`,
      );
    const containers = model.input.Containers ?? [];
    if (containers.length > 1)
      throw new FleetError(
        `production variant ${variantName}: model ${variant.ModelName} has ${containers.length} containers (an inference pipeline); the local host serves single-container models only.`,
      );
    const container = model.input.PrimaryContainer ?? containers[0]!;
    const dir = join(fleet.dir, variantName);
    const modelDir = join(dir, 'model');
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'metrics'), { recursive: true });
    await mkdir(modelDir, { recursive: true });
    if (container.ModelDataUrl) {
      const ref = parseS3Uri(container.ModelDataUrl);
      if (!ref)
        throw new FleetError(
          `production variant ${variantName}: ModelDataUrl "${container.ModelDataUrl}" is not an s3:// URI.`,
        );
      let bytes: Uint8Array;
      try {
        bytes = await this.ctx.store.getBytes(ref, { maxBytes: this.maxModelBytes });
      } catch (error) {
        throw new FleetError(
          `production variant ${variantName}: could not download the model artifact ${container.ModelDataUrl}: ${(error as Error).message}`,
        );
      }
      try {
        await extractTarGz(bytes, modelDir);
      } catch (error) {
        throw new FleetError(
          `production variant ${variantName}: could not extract ${container.ModelDataUrl}: ${(error as Error).message}`,
        );
      }
    }
    const desired = variant.InitialInstanceCount ?? 1;
    const processes = Math.min(desired, this.maxProcesses);
    return {
      variant,
      container,
      dir,
      modelDir,
      desiredInstanceCount: desired,
      weight: variant.InitialVariantWeight ?? 1,
      instances: Array.from({ length: processes }, (_, index) => ({ index, ready: false, restarts: 0 })),
      cursor: 0,
    };
  }

  private async startInstance(
    fleet: Fleet,
    v: VariantFleet,
    instance: Instance,
    types: { csv: readonly string[]; json: readonly string[] },
  ): Promise<void> {
    const variantName = v.variant.VariantName!;
    const args = [
      '--model-dir',
      v.modelDir,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--metrics-file',
      join(v.dir, 'metrics', `instance-${instance.index}.jsonl`),
    ];
    if (fleet.capture) {
      args.push(
        '--capture-dir',
        fleet.capture.dir,
        '--endpoint',
        fleet.endpointName,
        '--variant',
        variantName,
        '--sampling',
        String(fleet.capture.sampling),
        `--csv-content-types=${types.csv.join(',')}`,
        `--json-content-types=${types.json.join(',')}`,
      );
      if (this.options.seed !== undefined)
        args.push('--sampling-seed', String(this.options.seed + instance.index + instance.restarts * 100));
    }
    const env = containerBaseEnv();
    for (const [key, value] of Object.entries(v.container.Environment ?? {})) env[key] = value;
    env.PYTHONPATH = this.ctx.runtimeDir;
    env.SM_MODEL_DIR = v.modelDir;
    const p = this.ctx.processes.start('nbops_runtime.server', args, {
      env,
      cwd: v.dir,
      stopGraceSeconds: STOP_GRACE_SECONDS * this.ctx.timeScale,
    });
    instance.process = p;
    instance.ready = false;
    const log = createWriteStream(join(v.dir, `instance-${instance.index}.log`), { flags: 'a' });
    const tail: string[] = [];
    let resolvePort: (port: number) => void = () => {};
    const portKnown = new Promise<number>((r) => {
      resolvePort = r;
    });
    const onLine = (line: string) => {
      log.write(`${line}\n`);
      tail.push(line);
      if (tail.length > 8) tail.shift();
      const match = /^\[nbops\] serving on http:\/\/[^:]+:(\d+)/.exec(line);
      if (match) resolvePort(Number(match[1]));
    };
    forEachLine(p.child.stdout, onLine);
    forEachLine(p.child.stderr, onLine);
    p.exited.then(() => {
      log.end();
      instance.ready = false;
      if (fleet.stopped || instance.restarts >= MAX_RESTARTS || instance.port === undefined) return;
      // A serving process died: SageMaker replaces the instance; so do we.
      instance.restarts += 1;
      instance.port = undefined;
      this.ctx.log(
        `[nbops] endpoint ${fleet.endpointName} (${fleet.configName}/${variantName}) instance ${instance.index} exited; restarting it`,
      );
      setTimeout(() => {
        if (fleet.stopped) return;
        this.startInstance(fleet, v, instance, types).catch((e) =>
          this.ctx.log(`[nbops] restart failed: ${(e as Error).message}`),
        );
      }, 500).unref();
    });

    const failure = (detail: string) =>
      new FleetError(
        `The primary container for production variant ${variantName} did not pass the ping health check: ${detail}. Local log: ${join(v.dir, `instance-${instance.index}.log`)}`,
      );
    const startError = await Promise.race([p.startError, portKnown.then(() => undefined)]);
    if (startError)
      throw failure(
        `could not start '${this.ctx.python}' (${(startError as NodeJS.ErrnoException).code ?? startError.message})`,
      );
    const timeoutSeconds =
      v.variant.ContainerStartupHealthCheckTimeoutInSeconds ?? DEFAULT_HEALTH_CHECK_SECONDS;
    const deadline = Date.now() + timeoutSeconds * 1000;
    const exitedEarly = p.exited.then(() => 'exited' as const);
    const port = await Promise.race([portKnown, exitedEarly]);
    if (port === 'exited') throw failure(`the server exited before listening (${tail.join(' | ')})`);
    instance.port = port;
    for (;;) {
      if (fleet.stopped) throw new FleetError('the fleet was stopped while starting');
      const state = await Promise.race([ping(port), exitedEarly]);
      if (state === 'exited') throw failure(`the server exited (${tail.join(' | ')})`);
      if (state.ok) break;
      if (state.failed) throw failure(`the model failed to load: ${state.failed}`);
      if (Date.now() > deadline)
        throw failure(`no answer within ContainerStartupHealthCheckTimeoutInSeconds (${timeoutSeconds} s)`);
      await sleep(50);
    }
    instance.ready = true;
  }

  /** Stops the fleet's processes, then copies its last capture records to the store. */
  async stop(fleet: Fleet): Promise<void> {
    if (fleet.stopped) return;
    fleet.stopped = true;
    if (fleet.capture?.timer) clearInterval(fleet.capture.timer);
    const graceMs = STOP_GRACE_SECONDS * 1000 * this.ctx.timeScale;
    await Promise.all(
      fleet.variants.flatMap((v) =>
        v.instances.map(async (instance) => {
          instance.ready = false;
          if (instance.process) await this.ctx.processes.stop(instance.process, graceMs);
        }),
      ),
    );
    if (fleet.capture)
      await fleet.capture.sync
        .sync()
        .catch((e) => this.ctx.log(`[nbops] data capture sync failed: ${(e as Error).message}`));
  }

  /** A variant by weight among those with a ready instance, then its next ready instance (round-robin). */
  route(fleet: Fleet, random: () => number): { variant: VariantFleet; instance: Instance } | undefined {
    const variant = this.pickVariant(fleet, random);
    const instance = variant ? this.nextInstance(variant) : undefined;
    return variant && instance ? { variant, instance } : undefined;
  }

  private pickVariant(fleet: Fleet, random: () => number): VariantFleet | undefined {
    const live = fleet.variants.filter((v) => v.instances.some((i) => i.ready));
    const total = live.reduce((sum, v) => sum + v.weight, 0);
    if (live.length === 0) return undefined;
    if (total <= 0) return live[0];
    let pick = random() * total;
    for (const v of live) {
      pick -= v.weight;
      if (pick < 0) return v;
    }
    return live.at(-1);
  }

  nextInstance(variant: VariantFleet): Instance | undefined {
    const count = variant.instances.length;
    for (let i = 0; i < count; i++) {
      const instance = variant.instances[(variant.cursor + i) % count]!;
      if (instance.ready) {
        variant.cursor = (variant.cursor + i + 1) % count;
        return instance;
      }
    }
    return undefined;
  }
}

async function ping(port: number): Promise<{ ok: boolean; failed?: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/ping`);
    if (response.status === 200) {
      await response.arrayBuffer();
      return { ok: true };
    }
    const body = (await response.json().catch(() => ({}))) as { status?: string; error?: string };
    return body.status === 'failed' ? { ok: false, failed: body.error ?? 'unknown error' } : { ok: false };
  } catch {
    return { ok: false };
  }
}
