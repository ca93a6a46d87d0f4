/**
 * SageMaker's endpoint metrics for the local alarms, from the invocation files the local inference
 * servers write (one JSON line per invocation: `{ts, latencyUs, status, modelError}`). Published as
 * SageMaker publishes them, namespace AWS/SageMaker, once per invocation:
 *   Invocations 1; Invocation4XXErrors, Invocation5XXErrors, InvocationModelErrors 1 or 0 (so the
 *   Sum counts errors and the Average is the error ratio); ModelLatency in MICROseconds;
 * under dimensions {EndpointName, VariantName} and {EndpointName, VariantName, EndpointConfigName}
 * (the second one watches one fleet, e.g. the new one during a blue/green deployment).
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalAlarms } from '../alarms';
import type { InvocationMetricsFile, LocalSageMaker } from '../sagemaker';

export const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';

interface InvocationLine {
  ts: number;
  latencyUs: number;
  status: number;
  modelError: boolean;
}

interface Tracked {
  file: InvocationMetricsFile;
  offset: number;
  partial: string;
}

export class SageMakerMetricsSource {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    private readonly sagemaker: LocalSageMaker,
    private readonly workDir: string,
    private readonly alarms: LocalAlarms,
  ) {}

  /** Reads what was appended since the last poll; returns the invocations seen. */
  async poll(): Promise<number> {
    const endpoints = await readdir(join(this.workDir, 'endpoints')).catch(() => [] as string[]);
    for (const endpoint of endpoints)
      for (const file of this.sagemaker.invocationMetricsFiles(endpoint))
        if (!this.tracked.has(file.file)) this.tracked.set(file.file, { file, offset: 0, partial: '' });
    let count = 0;
    // Files of fleets that stopped stay tracked until read to the end and gone.
    for (const [path, tracked] of this.tracked) {
      const read = await this.readNew(tracked);
      if (read === undefined) {
        this.tracked.delete(path);
        continue;
      }
      for (const line of read) count += this.publish(tracked.file, line);
    }
    return count;
  }

  private async readNew(tracked: Tracked): Promise<string[] | undefined> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(tracked.file.file, 'r');
    } catch {
      return undefined;
    }
    try {
      const { size } = await handle.stat();
      if (size < tracked.offset) {
        // A new fleet for the same config replaced the folder: start over.
        tracked.offset = 0;
        tracked.partial = '';
      }
      if (size === tracked.offset) return [];
      const buffer = Buffer.alloc(size - tracked.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, tracked.offset);
      tracked.offset += bytesRead;
      const text = tracked.partial + buffer.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      tracked.partial = lines.pop() ?? '';
      return lines.filter((l) => l.trim() !== '');
    } finally {
      await handle.close();
    }
  }

  private publish(file: InvocationMetricsFile, text: string): number {
    let line: InvocationLine;
    try {
      line = JSON.parse(text) as InvocationLine;
    } catch {
      return 0;
    }
    if (typeof line.ts !== 'number' || typeof line.status !== 'number') return 0;
    const variant = { EndpointName: file.endpointName, VariantName: file.variantName };
    const fleet = { ...variant, EndpointConfigName: file.endpointConfigName };
    const values: Record<string, number> = {
      Invocations: 1,
      Invocation4XXErrors: line.status >= 400 && line.status < 500 ? 1 : 0,
      Invocation5XXErrors: line.status >= 500 ? 1 : 0,
      InvocationModelErrors: line.modelError ? 1 : 0,
    };
    if (typeof line.latencyUs === 'number') values.ModelLatency = line.latencyUs;
    for (const dimensions of [variant, fleet])
      for (const [metricName, value] of Object.entries(values))
        this.alarms.putMetricData({
          namespace: SAGEMAKER_NAMESPACE,
          metricName,
          dimensions,
          value,
          timestamp: line.ts,
        });
    return 1;
  }
}
