// The version report as a person sees it in a browser: real versions built through the lifecycle
// (s3rver + dynalite), the page written beside the version, read back from S3 and opened in headless
// Chromium from a file, as `nbops report` saves it. Also `nbops report` itself, over the ops API.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionReportKey } from '#core/ops/queries';
import { writeVersionReport } from '#core/report/version-report';
import { saveVersionReport } from '../../../cli/commands/report';
import type { OpsClient } from '../../../cli/ops-client';
import { GOOD } from '../drift-alarm/support';
import { churnNotebook, type Harness, harness, shipVersion, trainVersion } from '../lifecycle/harness';
import { opsApi } from '../ops/support';
import { findChromium, launchChromium, type OpenedPage, openFile } from './browser';

/** Notebook-derived text that would set window.__nbopsInjected if the page ran it. */
const INJECTED = '<script>window.__nbopsInjected=1</script>"Boom"';
const FAILURE = 'AlgorithmError: cell 14: ValueError: <img src=x onerror="window.__nbopsInjected=2">';

const FEATURES = ['tenure_months', 'monthly_charges', 'contract'];

let h: Harness;
let browser: Browser;
let dir: string;
/** Version numbers by what happened to them. */
const v = { deployed: 0, rejected: 0, gatesFailed: 0, trainingFailed: 0 };

/** v1: deployed with a warning whose text came from the notebook, four drift evaluations and an incident. */
async function buildVersions(): Promise<void> {
  const withErrorOutput = churnNotebook((nb) => {
    nb.cells[2].outputs = [{ output_type: 'error', ename: INJECTED, evalue: 'boom', traceback: [] }];
  });
  const trained = await trainVersion(h, withErrorOutput, GOOD);
  if (trained.training.kind !== 'pending-approval') throw new Error(JSON.stringify(trained.training));
  await shipVersion(h, trained.version);
  v.deployed = trained.version;
  const drift: [string, 'ok' | 'drifted' | 'insufficient'][] = [
    ['2025-03-01T11:00:00.000Z', 'ok'],
    ['2025-03-01T12:00:00.000Z', 'ok'],
    ['2025-03-01T13:00:00.000Z', 'insufficient'],
    ['2025-03-01T14:00:00.000Z', 'drifted'],
  ];
  for (const [i, [at, kind]] of drift.entries())
    await h.services.registry.putDrift('churn', {
      at,
      version: v.deployed,
      method: 'psi',
      drifted: kind === 'drifted',
      ...(kind === 'insufficient'
        ? { insufficientData: true, records: 12, minRecords: 100 }
        : {
            records: 500,
            datasetShare: kind === 'drifted' ? 2 / 3 : 0,
            features: Object.fromEntries(
              FEATURES.map((name, f) => [
                name,
                kind === 'drifted' && f < 2
                  ? { statistic: 0.3 + f / 10, threshold: 0.1, drifted: true }
                  : { statistic: 0.01 * (i + 1 + f), threshold: 0.1, drifted: false },
              ]),
            ),
          }),
      sourceEventId: `drift@${at}`,
    });
  await h.services.registry.putIncident('churn', {
    at: '2025-03-01T14:05:00.000Z',
    alarmName: 'nbops-churn-drift',
    version: v.deployed,
    reason: '2 of 3 features drifted',
    sourceEventId: 'nbops-churn-drift@1',
  });

  // A manifest error: rejected at validation, never trained.
  const rejected = await h.submit(
    await h.upload(
      'notebooks/churn/churn.ipynb',
      churnNotebook((nb) => {
        nb.metadata.nbops.training.instanceCount = 'two';
      }),
    ),
  );
  if (rejected.kind !== 'rejected') throw new Error(JSON.stringify(rejected));
  v.rejected = rejected.version;

  const weak = await trainVersion(h, churnNotebook(), { ...GOOD, 'validation:auc': 0.6 });
  if (weak.training.kind !== 'gates-failed') throw new Error(JSON.stringify(weak.training));
  v.gatesFailed = weak.version;

  const submitted = await h.submit(await h.upload('notebooks/churn/churn.ipynb', churnNotebook()));
  if (submitted.kind !== 'training') throw new Error(JSON.stringify(submitted));
  h.tick(60);
  h.cloud.failJob(submitted.trainingJobName, 'Failed', 'Failed', FAILURE);
  await h.training(h.trainingEvent(submitted.trainingJobName));
  v.trainingFailed = submitted.version;
}

/** Writes the version's report, reads it back from S3 and opens that copy in Chromium. */
async function openReport(version: number): Promise<OpenedPage> {
  const { uri } = await writeVersionReport(h.services, 'churn', version);
  expect(uri).toBe(`s3://${h.bucket}/${versionReportKey('churn', version)}`);
  const bytes = await h.services.store.getBytes(
    { bucket: h.bucket, key: versionReportKey('churn', version) },
    { maxBytes: 4 * 1024 * 1024 },
  );
  const file = join(dir, `churn-v${version}.html`);
  await writeFile(file, bytes);
  return openFile(browser, file);
}

const texts = (page: Page, selector: string) => page.locator(selector).allInnerTexts();

/** The rows of a table as arrays of cell texts. */
async function rows(page: Page, id: string): Promise<string[][]> {
  return page
    .locator(`#${id} tbody tr`)
    .evaluateAll((trs) =>
      trs.map((tr) =>
        [...tr.querySelectorAll('td')].map((td) => (td as unknown as { innerText: string }).innerText),
      ),
    );
}

/** What every report must be: quiet, self-contained, and inert whatever the notebook said. */
async function expectCleanPage(opened: OpenedPage): Promise<void> {
  expect(opened.errors).toEqual([]);
  expect(opened.requests).toEqual([]);
  expect(
    await opened.page.evaluate(() => (globalThis as { __nbopsInjected?: number }).__nbopsInjected),
  ).toBeUndefined();
  expect(await opened.page.locator('script, img, iframe').count()).toBe(0);
}

beforeAll(async () => {
  [browser, h, dir] = await Promise.all([
    launchChromium(),
    harness(),
    mkdtemp(join(tmpdir(), 'nbops-report-')),
  ]);
  await buildVersions();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the report of a deployed version, in Chromium', () => {
  let opened: OpenedPage;
  beforeAll(async () => {
    opened = await openReport(v.deployed);
  });

  it('shows the header, every section, and the gates with pass marks', async () => {
    const { page } = opened;
    await expectCleanPage(opened);
    expect(await page.title()).toBe(`churn v${v.deployed}: DEPLOYED`);
    const h1 = await page.locator('h1').innerText();
    expect(h1).toContain(`churn v${v.deployed}`);
    expect(h1).toContain('DEPLOYED');
    expect(h1).toContain('champion');
    expect(await page.locator('#version-facts').innerText()).toMatch(
      /^Uploaded by alice@example\.com on 2025-03-01T09:00:00\.\d{3}Z; owner team-ml@example\.com; last changed /,
    );
    expect(await texts(page, 'h2')).toEqual([
      'Metrics against quality gates',
      'Validation findings',
      'Drift',
      'Timeline',
      'Lineage',
      'Incidents',
    ]);
    const gates = await rows(page, 'gates-table');
    expect(gates.length).toBeGreaterThan(0);
    for (const [gate, , , result] of gates) expect(result, gate).toMatch(/^✓ pass$/);
    expect(await rows(page, 'metrics-table')).toContainEqual(['validation:auc', '0.9']);
  });

  it('lists the warning with the notebook’s text shown as text, not run', async () => {
    const { page } = opened;
    const findings = await rows(page, 'findings-table');
    const hy003 = findings.find((row) => row[1] === 'HY-003');
    expect(hy003?.[0]).toBe('warning');
    expect(hy003?.[2]).toBe('cell 2');
    expect(hy003?.[3]).toContain(INJECTED);
    expect(hy003?.[4]).toMatch(/^Fix the error in cell 2/);
    expect(await page.locator('body').innerText()).toContain(INJECTED);
  });

  it('draws the drift charts with a size, and says the same in a table', async () => {
    const { page } = opened;
    const share = page.locator('#drift-share-chart');
    await expect.poll(() => share.isVisible()).toBe(true);
    const box = await share.boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    expect(box?.height).toBeGreaterThan(100);
    expect(await share.getAttribute('aria-label')).toContain('4 drift evaluations');
    const charts = page.locator('svg.feature-chart');
    expect(await charts.evaluateAll((svgs) => svgs.map((s) => s.getAttribute('data-feature')))).toEqual([
      'contract',
      'monthly_charges',
      'tenure_months',
    ]);
    for (const chart of await charts.all()) {
      const size = await chart.boundingBox();
      expect(size?.width).toBeGreaterThan(100);
      expect(await chart.locator('line.threshold').count()).toBe(1);
    }
    expect(await page.locator('#drift-summary').innerText()).toBe(
      '4 evaluations, 1 with dataset drift. Latest (2025-03-01T14:00:00.000Z): dataset drift over 500 records.',
    );
    const verdicts = (await rows(page, 'drift-table')).map((row) => [row[0], row[1]]);
    expect(verdicts).toEqual([
      ['2025-03-01T14:00:00.000Z', 'dataset drift'],
      ['2025-03-01T13:00:00.000Z', 'insufficient data'],
      ['2025-03-01T12:00:00.000Z', 'no drift'],
      ['2025-03-01T11:00:00.000Z', 'no drift'],
    ]);
    const statistics = await rows(page, 'drift-statistics-table');
    expect(statistics[0]).toEqual([
      '2025-03-01T14:00:00.000Z',
      '0.06 / 0.1 ✓',
      '0.4 / 0.1 ✗ drifted',
      '0.3 / 0.1 ✗ drifted',
    ]);
  });

  it('lists the timeline in time order, from upload to the drift incident', async () => {
    const timeline = await rows(opened.page, 'timeline-table');
    const times = timeline.map((row) => Date.parse(row[0]!));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const events = timeline.map((row) => row[1]);
    expect(events[0]).toBe('registered (RECEIVED)');
    const order = [
      '→ VALIDATED',
      '→ TRAINING',
      '→ PENDING_APPROVAL',
      '→ APPROVED',
      '→ DEPLOYED',
      'became champion',
    ];
    const at = order.map((what) => events.findIndex((e) => e?.includes(what)));
    expect(at.every((i) => i > 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(events.slice(-2)).toEqual(['dataset drift detected', 'incident opened: nbops-churn-drift']);
    expect(await opened.page.locator('#timeline-chart').isVisible()).toBe(true);
  });

  it('shows the lineage and renders to a non-blank screenshot', async () => {
    const { page } = opened;
    const lineage = Object.fromEntries((await rows(page, 'lineage-table')).map(([k, value]) => [k, value]));
    expect(lineage.Notebook).toBe(`s3://${h.bucket}/notebooks/churn/churn.ipynb`);
    expect(lineage['Notebook SHA-256']).toMatch(/^[0-9a-f]{64}$/);
    expect(lineage['Manifest hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(lineage['Training job']).toMatch(/training-job\//);
    expect(lineage['Model artifact']).toMatch(/^s3:\/\/.+model\.tar\.gz$/);
    expect(lineage['Training image']).not.toBe('-');
    // The churn example makes its own data: the page says so rather than showing an empty table.
    expect(await page.locator('#no-data-refs').innerText()).toMatch(
      /^No training data references are recorded/,
    );
    const shot = join(dir, 'deployed.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(30_000);
  });
});

describe('the reports of versions that failed, in Chromium', () => {
  it('a rejected version: error findings, and empty states that say it never trained or served', async () => {
    const opened = await openReport(v.rejected);
    const { page } = opened;
    await expectCleanPage(opened);
    expect(await page.locator('#version-status').innerText()).toBe('REJECTED');
    const findings = await rows(page, 'findings-table');
    expect(findings.some((row) => row[0] === 'error' && row[3]!.includes('instanceCount'))).toBe(true);
    expect(await page.locator('#gates-verdict').innerText()).toMatch(
      /^The gates were not evaluated: this version stopped at REJECTED/,
    );
    expect(await page.locator('#no-drift').innerText()).toContain('has never been deployed');
    expect(await page.locator('#no-incidents').innerText()).toContain('never served traffic');
    expect(await page.locator('svg#drift-share-chart').count()).toBe(0);
    expect((await rows(page, 'timeline-table')).map((row) => row[1])).toEqual([
      'registered (RECEIVED)',
      'RECEIVED → REJECTED',
    ]);
  });

  it('a version that failed its gates: the failing gate row says fail', async () => {
    const opened = await openReport(v.gatesFailed);
    await expectCleanPage(opened);
    const gates = await rows(opened.page, 'gates-table');
    expect(gates).toEqual([
      ['validation:auc >= 0.75', '0.6', '0.75', '✗ fail', '-'],
      [
        'validation:auc no worse than the champion by 0.02',
        '0.6',
        '0.88',
        '✗ fail',
        `champion v${v.deployed} has 0.9; higher is better, so validation:auc must be at least 0.88.`,
      ],
    ]);
    expect(await opened.page.locator('#gates-verdict').innerText()).toBe('2 of 2 gates failed.');
    expect(await opened.page.locator('#version-status').innerText()).toBe('GATES_FAILED');
  });

  it('a version whose training failed: the notebook’s error shows as text and does not run', async () => {
    const opened = await openReport(v.trainingFailed);
    await expectCleanPage(opened);
    expect(await opened.page.locator('#version-status').innerText()).toBe('TRAINING_FAILED');
    expect(await opened.page.locator('#status-reason').innerText()).toContain(FAILURE);
  });
});

describe('nbops report', () => {
  /** The command's client over the ops API handler of this harness, as a local target in `dir`. */
  function client(target: string): OpsClient {
    const api = opsApi(h);
    return {
      target: { kind: 'local', dir: target },
      description: 'the ops API over the test harness',
      canAct: true,
      async request(method, path, body) {
        const res = await api.call(method, path, body === undefined ? {} : { body });
        return {
          status: res.status,
          contentType: res.headers['content-type'] ?? '',
          text: res.body,
          json: res.json,
          requestId: 'r',
        };
      },
      close: async () => {},
    };
  }

  it('stores the page beside the version, saves the same page locally and prints both; opens only with --open', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) };
    const opened: string[] = [];
    const opener = async (file: string) => {
      opened.push(file);
      return false; // as on a headless CI machine: nothing to open it with
    };
    const target = join(dir, 'host');
    expect(await saveVersionReport(client(target), 'churn', `v${v.deployed}`, {}, io, opener)).toBe(0);
    const file = join(target, 'reports', `churn-v${v.deployed}.html`);
    const key = versionReportKey('churn', v.deployed);
    expect(out.join('')).toBe(
      `churn v${v.deployed} report: ${file}\nstored beside the version: s3://${h.bucket}/${key}\n`,
    );
    expect(opened).toEqual([]);
    const saved = await readFile(file, 'utf8');
    const stored = new TextDecoder().decode(
      await h.services.store.getBytes({ bucket: h.bucket, key }, { maxBytes: 4 * 1024 * 1024 }),
    );
    expect(saved).toBe(stored);
    expect(saved).toMatch(/^<!doctype html>/);

    const elsewhere = join(dir, 'copy.html');
    expect(
      await saveVersionReport(
        client(target),
        'churn',
        String(v.rejected),
        { open: true, out: elsewhere },
        io,
        opener,
      ),
    ).toBe(0);
    expect(opened).toEqual([elsewhere]);
    expect(err.join('')).toBe(`nbops: could not start a browser; open ${elsewhere} yourself\n`);
    expect(await readFile(elsewhere, 'utf8')).toContain(`churn v${v.rejected}`);
  });

  it('refuses an unknown version with the API’s reason and writes nothing', async () => {
    const io = { stdout: () => {}, stderr: () => {} };
    const target = join(dir, 'missing');
    await expect(saveVersionReport(client(target), 'churn', '99', {}, io)).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining('99'),
    });
    await expect(stat(join(target, 'reports', 'churn-v99.html'))).rejects.toThrow(/ENOENT/);
  });
});

describe('finding Chromium', () => {
  it('uses NBOPS_CHROMIUM when set, and fails with what to install when it names nothing', () => {
    expect(findChromium({ NBOPS_CHROMIUM: process.execPath })).toBe(process.execPath);
    expect(() => findChromium({ NBOPS_CHROMIUM: '/no/such/chromium' })).toThrow(
      'NBOPS_CHROMIUM=/no/such/chromium does not exist',
    );
  });
});
