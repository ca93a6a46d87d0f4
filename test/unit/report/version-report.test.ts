// The version report as a person reads it: notebook text shown as text (never markup), sensible
// words for versions that never trained or never served, charts whose marks sit where their values
// say, a timeline in time order, and the same page for the same registry state.
import { describe, expect, it } from 'vitest';
import type { VersionDetail } from '#core/ops/views';
import type { DriftRecord } from '#core/registry/types';
import { driftShareChart, featureDriftGrid, featureStatisticChart } from '#core/report/charts';
import { renderVersionReport, timelineEntries, type VersionReportData } from '#core/report/version-report';
import type { Finding } from '#core/validation/finding';

const SCRIPT = '<script>alert(1)</script>';

function drift(
  at: string,
  features: Record<string, [number, number, boolean]>,
  extra: Partial<DriftRecord> = {},
): DriftRecord {
  const entries = Object.entries(features);
  const drifted = entries.filter(([, f]) => f[2]).length;
  return {
    model: 'churn',
    at,
    version: 1,
    method: 'psi',
    drifted: drifted / entries.length >= 0.5,
    features: Object.fromEntries(
      entries.map(([name, [statistic, threshold, isDrifted]]) => [
        name,
        { statistic, threshold, drifted: isDrifted },
      ]),
    ),
    sourceEventId: `drift@${at}`,
    records: 500,
    datasetShare: drifted / entries.length,
    ...extra,
  };
}

/** A deployed champion with gates, drift, an incident and a full audit trail. */
function deployed(): VersionDetail {
  return {
    model: 'churn',
    version: 1,
    status: 'DEPLOYED',
    reason: 'endpoint InService',
    changedBy: 'nbops:endpoint',
    uploader: 'alice@example.com',
    owner: 'team-ml@example.com',
    createdAt: '2025-03-01T09:00:00.000Z',
    updatedAt: '2025-03-01T10:00:00.000Z',
    champion: true,
    metrics: { 'validation:auc': 0.9, 'train:loss': 0.31 },
    gatesPassed: false,
    lineage: {
      notebook: {
        bucket: 'b',
        key: 'notebooks/churn/churn.ipynb',
        sha256: 'a'.repeat(64),
        uri: 's3://b/notebooks/churn/churn.ipynb',
      },
      manifestHash: 'm'.repeat(64),
      dataRefs: [{ uri: 's3://data/churn.csv', sha256: 'd'.repeat(64) }],
      trainingImage: 'python:3.11',
      trainingJob: {
        name: 'nbops-churn-v1-abc',
        arn: 'arn:aws:sagemaker:eu-west-1:1:training-job/nbops-churn-v1-abc',
      },
      artifact: { uri: 's3://b/versions/churn/v1/model.tar.gz' },
    },
    gates: {
      passed: false,
      results: [
        { gate: 'validation:auc >= 0.75', passed: true, value: 0.9, threshold: 0.75 },
        { gate: 'train:loss <= 0.2', passed: false, value: 0.31, threshold: 0.2, detail: 'too high' },
      ],
    },
    declaredGates: ['validation:auc >= 0.75', 'train:loss <= 0.2'],
    validation: { errors: 0, warnings: 1, reportUri: 's3://b/versions/churn/v1/reports/validation.json' },
    reports: {},
    deployments: [
      {
        at: '2025-03-01T09:40:00.000Z',
        event: 'DEPLOYED',
        actor: 'nbops:endpoint',
        reason: 'endpoint InService',
      },
      { at: '2025-03-01T09:40:00.000Z', event: 'champion', actor: 'nbops:endpoint', reason: 'deployed' },
    ],
    drift: [
      drift('2025-03-03T00:00:00.000Z', { tenure: [0.4, 0.1, true], contract: [0.2, 0.1, true] }),
      drift('2025-03-02T00:00:00.000Z', { tenure: [0.02, 0.1, false], contract: [0.05, 0.1, false] }),
    ],
    incidents: [
      {
        model: 'churn',
        id: 'i1',
        at: '2025-03-02T12:00:00.000Z',
        alarmName: 'nbops-churn-latency',
        version: 1,
        reason: 'p99 above 250 ms',
        sourceEventId: 'x',
        state: 'RESOLVED',
        resolvedAt: '2025-03-02T13:00:00.000Z',
        resolution: 'back to OK',
      },
    ],
    audit: [
      {
        kind: 'registered',
        id: 'e1',
        model: 'churn',
        version: 1,
        to: 'RECEIVED',
        at: '2025-03-01T09:00:00.000Z',
        actor: 'alice@example.com',
        reason: 'uploaded',
        sourceEventId: 's',
      },
      {
        kind: 'transition',
        id: 'e2',
        model: 'churn',
        version: 1,
        from: 'RECEIVED',
        to: 'VALIDATED',
        at: '2025-03-01T09:00:01.000Z',
        actor: 'nbops:submit',
        reason: 'valid',
        sourceEventId: 's',
      },
      {
        kind: 'transition',
        id: 'e3',
        model: 'churn',
        version: 1,
        from: 'DEPLOYING',
        to: 'DEPLOYED',
        at: '2025-03-01T09:40:00.000Z',
        actor: 'nbops:endpoint',
        reason: 'endpoint InService',
        sourceEventId: 's',
      },
    ],
  };
}

/** Rejected at validation: never trained, never deployed. */
function rejected(): VersionDetail {
  return {
    model: 'churn',
    version: 2,
    status: 'REJECTED',
    reason: 'validation found 1 error',
    uploader: 'bob@example.com',
    owner: 'team-ml@example.com',
    createdAt: '2025-03-04T09:00:00.000Z',
    updatedAt: '2025-03-04T09:00:01.000Z',
    champion: false,
    lineage: { dataRefs: [] },
    declaredGates: ['validation:auc >= 0.75'],
    validation: { errors: 1, warnings: 0, reportUri: 's3://b/versions/churn/v2/reports/validation.json' },
    reports: {},
    deployments: [],
    drift: [],
    incidents: [],
    audit: [
      {
        kind: 'registered',
        id: 'e1',
        model: 'churn',
        version: 2,
        to: 'RECEIVED',
        at: '2025-03-04T09:00:00.000Z',
        actor: 'bob@example.com',
        reason: 'uploaded',
        sourceEventId: 's',
      },
      {
        kind: 'transition',
        id: 'e2',
        model: 'churn',
        version: 2,
        from: 'RECEIVED',
        to: 'REJECTED',
        at: '2025-03-04T09:00:01.000Z',
        actor: 'nbops:submit',
        reason: 'validation found 1 error',
        sourceEventId: 's',
      },
    ],
  };
}

const finding = (over: Partial<Finding> = {}): Finding => ({
  rule: 'HY-003',
  severity: 'warning',
  message: 'Cell 2 has a saved error output',
  location: { pointer: '/cells/2/outputs/0', cell: 2 },
  fix: 'Clear the outputs.',
  ...over,
});

const report = (detail: VersionDetail, more: Partial<VersionReportData> = {}): string =>
  renderVersionReport({ detail, findings: [], generatedAt: '2025-03-05T00:00:00.000Z', ...more });

/** The per-feature statistic charts of a page. */
const featureCharts = (html: string) => html.match(/<svg class="feature-chart"[\s\S]*?<\/svg>/g) ?? [];

/** Numeric attribute values of every element of a kind in an SVG. */
function attrs(svg: string, element: string, name: string): number[] {
  return [...svg.matchAll(new RegExp(`<${element}\\b[^>]*\\s${name}="([^"]+)"`, 'g'))].map((m) =>
    Number(m[1]),
  );
}

function viewBox(svg: string): [number, number] {
  const m = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  if (!m) throw new Error('no viewBox');
  return [Number(m[1]), Number(m[2])];
}

describe('escaping', () => {
  it('shows markup and quotes from findings, reasons and feature names as text', () => {
    const detail = deployed();
    detail.reason = `failed: ${SCRIPT} "quoted" & 'single'`;
    detail.drift[0]!.features!['<b>fe"ature</b>'] = { statistic: 0.5, threshold: 0.1, drifted: true };
    detail.incidents[0]!.reason = `<img src=x onerror="alert(2)">`;
    const html = report(detail, {
      findings: [
        finding({ message: `ename ${SCRIPT} said "no"`, fix: `remove <iframe src="https://evil.example">` }),
      ],
    });
    expect(html).not.toContain(SCRIPT);
    expect(html).not.toMatch(/<script|<img|<iframe/i);
    expect(html).toContain('ename &lt;script&gt;alert(1)&lt;/script&gt; said &quot;no&quot;');
    expect(html).toContain(
      'failed: &lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &amp; &#39;single&#39;',
    );
    expect(html).toContain('data-feature="&lt;b&gt;fe&quot;ature&lt;/b&gt;"');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
  });

  it('is self-contained: no script, nothing fetched, a policy that forbids both', () => {
    const html = report(deployed(), { findings: [finding()] });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link\b|<img\b|<iframe|@import|url\(|src=/i);
    // The only absolute URLs are the SVG namespace and the data the version names.
    const urls = [...html.matchAll(/https?:\/\/[^\s"<]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg']));
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });
});

describe('what the page says', () => {
  it('marks each gate pass or fail, lists findings with rule, severity, place and fix', () => {
    const html = report(deployed(), { findings: [finding()] });
    expect(html).toContain('1 of 2 gates failed.');
    expect(html).toMatch(/<tr class="gate-pass"><td>validation:auc &gt;= 0.75<\/td>.*&#10003; pass/);
    expect(html).toMatch(/<tr class="gate-fail"><td>train:loss &lt;= 0.2<\/td>.*&#10007; fail.*too high/);
    expect(html).toMatch(
      /sev-warning">warning<\/span><\/td><td>HY-003<\/td><td>cell 2<\/td><td>Cell 2 has a saved error output<\/td><td>Clear the outputs.<\/td>/,
    );
    expect(html).toContain('id="champion-badge"');
    expect(html).toContain('champion, in production');
    for (const fact of [
      'a'.repeat(64),
      'm'.repeat(64),
      's3://data/churn.csv',
      'python:3.11',
      'nbops-churn-v1-abc',
      's3://b/versions/churn/v1/model.tar.gz',
    ])
      expect(html).toContain(fact);
  });

  it('gives a rejected version empty states that say why, not "yet"', () => {
    const html = report(rejected(), { findings: [finding({ severity: 'error', rule: 'MAN-001' })] });
    expect(html).toContain(
      'The gates were not evaluated: this version stopped at REJECTED before its training finished.',
    );
    expect(html).toContain('id="no-metrics"');
    expect(html).toContain('v2 has never been deployed, so no traffic was captured');
    expect(html).toContain('No incidents: v2 has never served traffic.');
    expect(html).toContain('This version has not been deployed.');
    expect(html).toContain('never deployed');
    expect(html).not.toContain('<svg id="drift-share-chart"');
  });

  it('says "no findings" for a clean notebook, and why findings are missing when the report is unreadable', () => {
    expect(report(rejected(), { findings: [] })).toContain('id="no-findings"');
    const unreadable = renderVersionReport({
      detail: rejected(),
      findingsNote: 'The validation report s3://b/x could not be read (NoSuchKey); its counts are above.',
      generatedAt: '2025-03-05T00:00:00.000Z',
    });
    expect(unreadable).toContain('could not be read (NoSuchKey)');
    expect(unreadable).not.toContain('id="no-findings"');
  });

  it('for a version still training, says the gates come once training finishes', () => {
    const detail = { ...rejected(), status: 'TRAINING' as const };
    expect(report(detail)).toContain(
      'The gates are evaluated once training finishes; this version is TRAINING.',
    );
  });

  it('lists state changes, alias moves, incidents and drift in time order', () => {
    const entries = timelineEntries(deployed());
    expect(entries.map((e) => [e.at, e.event])).toEqual([
      ['2025-03-01T09:00:00.000Z', 'registered (RECEIVED)'],
      ['2025-03-01T09:00:01.000Z', 'RECEIVED → VALIDATED'],
      ['2025-03-01T09:40:00.000Z', 'DEPLOYING → DEPLOYED'],
      ['2025-03-01T09:40:00.000Z', 'became champion (production)'],
      ['2025-03-02T12:00:00.000Z', 'incident opened: nbops-churn-latency'],
      ['2025-03-02T13:00:00.000Z', 'incident resolved: nbops-churn-latency'],
      ['2025-03-03T00:00:00.000Z', 'dataset drift detected'],
    ]);
  });

  it('draws one statistic chart per feature and the table alternative, newest first', () => {
    const html = report(deployed());
    const charts = featureCharts(html);
    expect(charts.map((svg) => /data-feature="([^"]+)"/.exec(svg)?.[1])).toEqual(['contract', 'tenure']);
    for (const svg of charts) expect(svg).toContain('<line class="threshold"');
    expect(html).toMatch(
      /<table id="drift-statistics-table">[\s\S]*2025-03-03T00:00:00.000Z[\s\S]*2025-03-02T00:00:00.000Z/,
    );
    expect(html).toContain('0.4 / 0.1 <span class="mark fail">&#10007; drifted</span>');
  });

  it('draws no threshold line for a test recorded without p-values (its threshold is a p-value level)', () => {
    const detail = deployed();
    for (const e of detail.drift) e.method = 'ks';
    const charts = featureCharts(report(detail));
    expect(charts).toHaveLength(2);
    for (const svg of charts) expect(svg).not.toContain('class="threshold"');
  });

  it('plots the p-value against the level for tests, drift below the line', () => {
    const detail = deployed();
    for (const e of detail.drift) {
      e.method = 'ks';
      for (const f of Object.values(e.features ?? {})) {
        f.method = 'ks';
        f.threshold = 0.05;
        f.pValue = f.drifted ? 0.001 : 0.4;
      }
    }
    const charts = featureCharts(report(detail));
    expect(charts).toHaveLength(2);
    for (const svg of charts) {
      expect(svg).toContain('p-value');
      const line = /class="threshold"[^>]*y1="([\d.]+)"/.exec(svg);
      expect(line).not.toBeNull();
      // Drifted (red) points sit below the level's line: larger y in SVG coordinates.
      const red = [...svg.matchAll(/<circle[^>]*cy="([\d.]+)"[^>]*fill="#c62828"/g)].map((m) => Number(m[1]));
      expect(red.length).toBeGreaterThan(0);
      for (const cy of red) expect(cy).toBeGreaterThan(Number(line![1]));
    }
  });

  it('is the same page for the same state, whatever order the registry returned map keys in', () => {
    const a = deployed();
    const b = deployed();
    b.metrics = { 'train:loss': 0.31, 'validation:auc': 0.9 };
    b.drift[0]!.features = Object.fromEntries(Object.entries(b.drift[0]!.features!).reverse());
    expect(report(b, { findings: [finding()] })).toBe(report(a, { findings: [finding()] }));
  });
});

describe('chart geometry', () => {
  it("labels the drift grid's time axis so the labels fit: one label for one evaluation", () => {
    const column = (i: number) => ({
      at: `2025-03-0${i + 1}T00:00:00.000Z`,
      features: { tenure: i % 2 === 0 },
    });
    const one = featureDriftGrid([column(0)], ['tenure']);
    expect(one).toContain('one evaluation');
    expect(one).not.toContain('newest');
    // The label (about 80 px at 11 px font) starts at x=140 and must lie inside the width.
    expect(viewBox(one)[0]).toBeGreaterThanOrEqual(140 + 100);
    const many = featureDriftGrid([0, 1, 2, 3, 4, 5, 6, 7].map(column), ['tenure']);
    expect(many).toContain('>oldest<');
    expect(many).toContain('>newest<');
  });

  const points = [
    { at: '2025-03-01T00:00:00.000Z', statistic: 0, threshold: 0.2, drifted: false },
    { at: '2025-03-02T00:00:00.000Z', statistic: 0.2, threshold: 0.2, drifted: true },
    { at: '2025-03-03T00:00:00.000Z', statistic: 0.5, threshold: 0.2, drifted: true },
  ];

  it('puts the threshold line at the threshold and every point inside the viewBox', () => {
    const svg = featureStatisticChart('tenure', points, { thresholdLine: true });
    const [w, h] = viewBox(svg);
    const cx = attrs(svg, 'circle', 'cx');
    const cy = attrs(svg, 'circle', 'cy');
    expect(cx).toHaveLength(3);
    for (const x of cx) expect(x >= 0 && x <= w, `cx ${x} within 0..${w}`).toBe(true);
    for (const y of cy) expect(y >= 0 && y <= h, `cy ${y} within 0..${h}`).toBe(true);
    // Oldest left, newest right; larger statistics higher up (smaller y).
    expect(cx[0]).toBeLessThan(cx[1]!);
    expect(cx[1]).toBeLessThan(cx[2]!);
    expect(cy[0]).toBeGreaterThan(cy[1]!);
    expect(cy[1]).toBeGreaterThan(cy[2]!);
    const line = /<line class="threshold" x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)" y2="([\d.]+)"/.exec(svg);
    expect(line?.[1]).toBe(line?.[2]);
    // The point whose statistic equals the threshold sits on the line.
    expect(Number(line?.[1])).toBe(cy[1]);
    expect(svg).toContain('>statistic</text>');
    expect(svg).toContain('>window end (UTC)</text>');
  });

  it('omits the threshold line when asked, and drops points whose time does not parse', () => {
    const svg = featureStatisticChart(
      'tenure',
      [...points, { at: 'not a time', statistic: 9, threshold: 1, drifted: true }],
      {
        thresholdLine: false,
      },
    );
    expect(svg).not.toContain('class="threshold"');
    expect(svg).not.toContain('NaN');
    expect(attrs(svg, 'circle', 'cx')).toHaveLength(3);
  });

  it('places the dataset threshold between the grid lines it lies between, a single point in the middle', () => {
    const svg = driftShareChart([{ at: '2025-03-01T00:00:00.000Z', share: 0.5, drifted: true }], 0.5);
    const [w] = viewBox(svg);
    const grid = attrs(svg, 'line', 'y1');
    const threshold = Number(/<line class="threshold"[^>]* y1="([\d.]+)"/.exec(svg)?.[1]);
    // Grid lines at 0%, 25%, 50%, 75%, 100%: the 50% line and the threshold coincide.
    expect(threshold).toBe(grid[2]);
    expect(attrs(svg, 'circle', 'cy')).toEqual([threshold]);
    const [cx] = attrs(svg, 'circle', 'cx');
    expect(cx).toBeGreaterThan(w * 0.3);
    expect(cx).toBeLessThan(w * 0.8);
    expect(svg).toContain('>features drifted</text>');
  });
});
