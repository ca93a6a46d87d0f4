// The drift handler end to end on s3rver + dynalite: a deployed model whose model.tar.gz carries
// its training baseline, data capture written in SageMaker's layout, and a schedule run arriving
// as the "Drift Evaluation Due" event the schedule puts on the bus.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { evaluateScheduledDrift } from '#core/service/drift';
import { makeHandler } from '../../../functions/drift/index';
import { lambdaContext, testDeps } from '../../unit/handlers/support';
import { type Harness, harness } from '../lifecycle/harness';
import { churnRows, deployedChurn, driftEvent, putCapture, putModelArtifact } from './support';

const AT = '2025-03-01T12:00:00.000Z';
const HOUR_BEFORE = new Date('2025-03-01T11:00:00.000Z');

afterEach(() => {
  vi.restoreAllMocks();
});

/** The drift handler as deployed, on the harness's services; EMF lines printed to stdout are captured. */
function driftHandler(h: Harness) {
  const deps = testDeps('drift');
  const handler = makeHandler({
    ...deps,
    services: () => h.services,
    evaluateScheduledDrift: (services, request) => evaluateScheduledDrift(services, request),
  });
  const emf: Record<string, unknown>[] = [];
  return {
    emf,
    async run(event: object) {
      const write = process.stdout.write.bind(process.stdout);
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((
        chunk: unknown,
        ...rest: unknown[]
      ) => {
        const text = String(chunk);
        if (text.startsWith('{"_aws"')) {
          for (const line of text.trim().split('\n')) emf.push(JSON.parse(line));
          return true;
        }
        return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof process.stdout.write);
      try {
        return await handler(event, lambdaContext('nbops-drift'));
      } finally {
        spy.mockRestore();
      }
    },
  };
}

async function text(h: Harness, key: string): Promise<string> {
  return new TextDecoder().decode(
    await h.services.store.getBytes({ bucket: h.bucket, key }, { maxBytes: 1e8 }),
  );
}

describe('scheduled drift evaluation', () => {
  it('reads the baseline out of model.tar.gz and the window from capture, then writes report, metrics and a DRIFT item', async () => {
    const h = await harness();
    await deployedChurn(h);
    const artifact = await putModelArtifact(h, 1);
    await putCapture(h, churnRows(600, 99, true), HOUR_BEFORE, 5);
    // Records outside the window are not read: earlier traffic, undrifted.
    await putCapture(h, churnRows(300, 98), new Date('2025-03-01T09:00:00.000Z'), 5);
    const drift = driftHandler(h);

    const outcome = await drift.run(driftEvent(AT, 'exec-1'));
    expect(outcome).toMatchObject({
      kind: 'evaluated',
      model: 'churn',
      version: 1,
      at: AT,
      drifted: true,
      records: 600,
      reportUri: `s3://${h.bucket}/drift/churn/${AT}/report.html`,
    });
    const drifted = outcome.kind === 'evaluated' ? outcome.driftedFeatures : [];
    expect(drifted).toEqual(expect.arrayContaining(['monthly_charges', 'total_charges', 'contract']));
    expect(drifted).not.toContain('tenure_months');

    // Report: JSON for machines, HTML with one inline SVG chart per drifted feature.
    const json = JSON.parse(await text(h, `drift/churn/${AT}/report.json`));
    expect(json).toMatchObject({
      format: 'nbops-drift-report/v1',
      model: 'churn',
      version: 1,
      window: { from: HOUR_BEFORE.toISOString(), to: AT },
      baselineUri: `s3://${h.bucket}/versions/churn/v1/baseline/nbops-baseline.json`,
      report: { records: 600, insufficientData: false, datasetDrift: { drifted: true } },
    });
    expect(json.capture).toMatchObject({ records: 600, outsideWindow: 0 });
    expect(json.distributions.map((d: { feature: string }) => d.feature).sort()).toEqual([...drifted].sort());
    const html = await text(h, `drift/churn/${AT}/report.html`);
    expect(html.match(/<svg /g)).toHaveLength(drifted.length);
    expect(html).toContain('Dataset drift:');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);

    // EMF on stdout: the dataset verdict and a score per feature, namespace nbops, dimension Model.
    const dataset = drift.emf.find((d) => 'DatasetDrift' in d)!;
    expect(dataset).toMatchObject({ Model: 'churn', DatasetDrift: 1, RecordsEvaluated: 600, windowEnd: AT });
    expect(dataset._aws).toMatchObject({
      CloudWatchMetrics: [{ Namespace: 'nbops', Dimensions: [['Model']] }],
    });
    const scores = drift.emf.filter((d) => 'DriftScore' in d);
    expect(scores.map((d) => d.Feature).sort()).toEqual(
      ['contract', 'has_fiber', 'monthly_charges', 'support_calls', 'tenure_months', 'total_charges'].sort(),
    );

    // The DRIFT item, keyed by the run's scheduled time; the baseline was cached as a fact.
    const [item] = await h.services.registry.listDrift('churn');
    expect(item).toMatchObject({
      at: AT,
      version: 1,
      method: 'auto',
      drifted: true,
      reportUri: `s3://${h.bucket}/drift/churn/${AT}/report.html`,
      sourceEventId: 'exec-1',
      insufficientData: false,
      records: 600,
    });
    expect(item?.features?.monthly_charges).toMatchObject({ drifted: true });
    const v1 = await h.services.registry.getVersion('churn', 1);
    expect(v1?.facts.baseline?.uri).toBe(`s3://${h.bucket}/versions/churn/v1/baseline/nbops-baseline.json`);
    expect(artifact).toMatch(/model\.tar\.gz$/);
  });

  it('is a no-op when the same run is delivered again: no new report, metrics or item', async () => {
    const h = await harness();
    await deployedChurn(h);
    await putModelArtifact(h, 1);
    await putCapture(h, churnRows(300, 5), HOUR_BEFORE, 10);
    const drift = driftHandler(h);
    const first = await drift.run(driftEvent(AT, 'exec-1'));
    expect(first).toMatchObject({ kind: 'evaluated', drifted: false });
    const emitted = drift.emf.length;
    const puts = h.s3Sent.filter((c) => c.command === 'PutObject').length;

    // Scheduler retried the run (same execution id), and a duplicate with a new event id.
    expect(await drift.run(driftEvent(AT, 'exec-1'))).toEqual({
      kind: 'already-evaluated',
      model: 'churn',
      at: AT,
      reportUri: `s3://${h.bucket}/drift/churn/${AT}/report.html`,
    });
    expect(await drift.run(driftEvent(AT, 'exec-other'))).toMatchObject({ kind: 'already-evaluated' });
    expect(drift.emf).toHaveLength(emitted);
    expect(h.s3Sent.filter((c) => c.command === 'PutObject')).toHaveLength(puts);
    expect(await h.services.registry.listDrift('churn')).toHaveLength(1);

    // The next run reads the cached baseline, not the archive.
    const reads = h.s3Sent.length;
    await putCapture(h, churnRows(300, 6), new Date('2025-03-01T12:00:00.000Z'), 10);
    expect(await drift.run(driftEvent('2025-03-01T13:00:00.000Z'))).toMatchObject({ kind: 'evaluated' });
    const keys = h.s3Sent.slice(reads).map((c) => c.key ?? '');
    expect(keys.some((k) => k.endsWith('model.tar.gz'))).toBe(false);
    expect(keys).toContain('versions/churn/v1/baseline/nbops-baseline.json');
    expect(await h.services.registry.listDrift('churn')).toHaveLength(2);
  });

  it('says so when the window has too few records, with no verdict', async () => {
    const h = await harness();
    await deployedChurn(h);
    await putModelArtifact(h, 1);
    // 40 records, drifted ones at that, but the manifest's minRecords is 100 (the default).
    await putCapture(h, churnRows(40, 3, true), HOUR_BEFORE, 30);
    const drift = driftHandler(h);

    expect(await drift.run(driftEvent(AT))).toEqual({
      kind: 'insufficient-data',
      model: 'churn',
      version: 1,
      at: AT,
      records: 40,
      minRecords: 100,
      reportUri: `s3://${h.bucket}/drift/churn/${AT}/report.html`,
    });
    const [item] = await h.services.registry.listDrift('churn');
    expect(item).toMatchObject({
      at: AT,
      drifted: false,
      insufficientData: true,
      records: 40,
      minRecords: 100,
    });
    expect(Object.values(item?.features ?? {}).every((f) => !f.drifted)).toBe(true);
    // No DatasetDrift datapoint: the drift alarm keeps its state rather than being told "no drift".
    expect(drift.emf.some((d) => 'DatasetDrift' in d)).toBe(false);
    expect(drift.emf.find((d) => 'RecordsEvaluated' in d)).toMatchObject({ RecordsEvaluated: 40 });
    const html = await text(h, `drift/churn/${AT}/report.html`);
    expect(html).toContain('Insufficient data: 40 record(s) in the window, at least 100 are needed');
  });

  it('reports a model artifact without a baseline as such, and evaluates nothing', async () => {
    const h = await harness();
    await deployedChurn(h);
    await putModelArtifact(h, 1, { baseline: null });
    const drift = driftHandler(h);
    const outcome = await drift.run(driftEvent(AT));
    expect(outcome).toMatchObject({ kind: 'no-baseline', model: 'churn', version: 1 });
    expect(outcome.kind === 'no-baseline' && outcome.reason).toContain('call save_baseline(rows, features)');
    expect(await h.services.registry.listDrift('churn')).toEqual([]);
  });

  it('ignores runs for models with nothing in production, and events it cannot read', async () => {
    const h = await harness();
    const drift = driftHandler(h);
    expect(await drift.run(driftEvent(AT))).toMatchObject({ kind: 'ignored' });
    const bad = driftEvent(AT) as { detail: Record<string, unknown> };
    bad.detail.scheduledTime = 'yesterday';
    expect(await drift.run(bad)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('detail.scheduledTime must be an ISO-8601 time'),
    });
  });
});
