// The ops API handler on real S3 (s3rver) and DynamoDB (dynalite): who may call it, every way a
// request is refused (status + machine-readable code + a reason), what the read routes answer, and
// that a failure never shows its details to the caller.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricValues } from '../../unit/handlers/support';
import { deployedChurn, GOOD } from '../drift-alarm/support';
import { churnNotebook, harness, trainVersion } from '../lifecycle/harness';
import { ALICE, LEAD, MALLORY, opsApi } from './support';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('authorization', () => {
  it('refuses every route with 403 NO_IDENTITY when Lambda reports no IAM identity, changing nothing', async () => {
    const h = await harness();
    const trained = await trainVersion(h, churnNotebook(), GOOD);
    const api = opsApi(h);
    for (const [method, path] of [
      ['GET', '/models'],
      ['GET', '/models/churn/versions/1'],
      ['POST', `/models/churn/versions/${trained.version}/approve`],
      ['POST', '/models/churn/retire'],
      ['GET', '/no/such/route'],
    ] as const) {
      const res = await api.call(method, path, { as: null, body: { reason: 'ship it' } });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json).toMatchObject({ code: 'NO_IDENTITY', message: expect.stringMatching(/SigV4/) });
    }
    expect((await h.services.registry.getVersion('churn', trained.version))?.status).toBe('PENDING_APPROVAL');
    expect(h.takePublished()).toEqual([]);
  });

  it('records the caller as the approver, and refuses self-approval and non-approvers', async () => {
    const h = await harness();
    const { version } = await trainVersion(h, churnNotebook(), GOOD);
    const api = opsApi(h);
    const path = `/models/churn/versions/${version}/approve`;

    const self = await api.call('POST', path, { as: ALICE, body: { reason: 'mine is good' } });
    expect(self.status).toBe(403);
    expect(self.json).toMatchObject({
      code: 'SELF_APPROVAL',
      message: expect.stringContaining('uploaded version 1'),
    });

    const stranger = await api.call('POST', path, { as: MALLORY, body: { reason: 'looks fine' } });
    expect(stranger.status).toBe(403);
    expect(stranger.json).toMatchObject({
      code: 'NOT_APPROVER',
      message: expect.stringContaining('approval.approvers'),
    });
    expect(h.takePublished()).toEqual([]);

    const approved = await api.call('POST', path, {
      body: { reason: 'AUC above the bar' },
      requestId: 'req-approve-1',
    });
    expect(approved.status).toBe(200);
    expect(approved.headers['x-nbops-request-id']).toBe('req-approve-1');
    expect(approved.json).toMatchObject({ outcome: 'approved', version: 1, decidedBy: LEAD, changed: true });
    const record = await h.services.registry.getVersion('churn', 1);
    expect(record?.status).toBe('APPROVED');
    expect(record?.approval).toMatchObject({
      approver: LEAD,
      reason: 'AUC above the bar',
      decision: 'approve',
    });
    expect(h.takePublished()).toMatchObject([
      { 'detail-type': 'Version Approved', detail: { model: 'churn', version: 1, approvedBy: LEAD } },
    ]);

    // The same request again (a client retry): recorded once, and the deploy trigger is repeated
    // (deploying is idempotent) in case the first delivery of it was lost.
    const retried = await api.call('POST', path, {
      body: { reason: 'AUC above the bar' },
      requestId: 'req-approve-1',
    });
    expect(retried.status).toBe(200);
    expect(retried.json).toMatchObject({ outcome: 'approved', changed: false });
    const trail = await h.services.registry.auditTrail('churn', { version: 1 });
    expect(trail.filter((e) => e.kind === 'transition' && e.to === 'APPROVED')).toHaveLength(1);

    // A different request to approve it again: the version is no longer waiting.
    const again = await api.call('POST', path, { body: { reason: 'twice' } });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({
      code: 'WRONG_STATE',
      message: expect.stringMatching(/APPROVED, not PENDING_APPROVAL/),
    });
  });

  it('treats a repeated request without a request id as a retry (derived id)', async () => {
    const h = await harness();
    const { version } = await trainVersion(h, churnNotebook(), GOOD);
    const api = opsApi(h);
    const path = `/models/churn/versions/${version}/decline`;
    const first = await api.call('POST', path, { body: { reason: 'data leak in feature 3' } });
    const second = await api.call('POST', path, { body: { reason: 'data leak in feature 3' } });
    expect(first.json).toMatchObject({ outcome: 'declined', changed: true });
    expect(second.json).toMatchObject({ outcome: 'declined', changed: false });
    expect(first.headers['x-nbops-request-id']).toMatch(/^derived-[0-9a-f]{32}$/);
    expect(second.headers['x-nbops-request-id']).toBe(first.headers['x-nbops-request-id']);
    expect((await h.services.registry.getVersion('churn', version))?.status).toBe('DECLINED');
  });
});

describe('refusals say why, with a code', () => {
  it('for malformed requests (400 INVALID_REQUEST) and unknown things (404)', async () => {
    const h = await harness();
    const { version } = await trainVersion(h, churnNotebook(), GOOD);
    const api = opsApi(h);
    const cases: [string, 'GET' | 'POST' | 'DELETE', string, object, number, string, RegExp][] = [
      [
        'no reason',
        'POST',
        `/models/churn/versions/${version}/approve`,
        {},
        400,
        'INVALID_REQUEST',
        /give a reason/,
      ],
      [
        'blank reason',
        'POST',
        `/models/churn/versions/${version}/decline`,
        { body: { reason: '  ' } },
        400,
        'INVALID_REQUEST',
        /give a reason/,
      ],
      [
        'a typo in the body',
        'POST',
        `/models/churn/versions/${version}/approve`,
        { body: { resaon: 'x' } },
        400,
        'INVALID_REQUEST',
        /unknown field "resaon"/,
      ],
      [
        'a body that is not JSON',
        'POST',
        '/models/churn/rollback',
        { rawBody: 'reason=x' },
        400,
        'INVALID_REQUEST',
        /not JSON/,
      ],
      [
        'a JSON array body',
        'POST',
        '/models/churn/rollback',
        { rawBody: '[1]' },
        400,
        'INVALID_REQUEST',
        /JSON object/,
      ],
      [
        'a bad model name',
        'GET',
        '/models/Churn_Model/versions',
        {},
        400,
        'INVALID_REQUEST',
        /not a model name/,
      ],
      [
        'a bad version',
        'GET',
        '/models/churn/versions/latest',
        {},
        400,
        'INVALID_REQUEST',
        /not a version number/,
      ],
      [
        'a bad status filter',
        'GET',
        '/models/churn/versions?status=LIVE',
        {},
        400,
        'INVALID_REQUEST',
        /not a version status; use one of RECEIVED/,
      ],
      [
        'a bad flag',
        'GET',
        '/incidents?open=maybe',
        {},
        400,
        'INVALID_REQUEST',
        /open=maybe must be true or false/,
      ],
      [
        'a bad request id',
        'GET',
        '/models',
        { requestId: 'has spaces' },
        400,
        'INVALID_REQUEST',
        /x-nbops-request-id/,
      ],
      [
        'an unknown model',
        'GET',
        '/models/fraud/versions',
        {},
        404,
        'UNKNOWN_MODEL',
        /model fraud is not registered/,
      ],
      [
        'an unknown model to approve',
        'POST',
        '/models/fraud/versions/1/approve',
        { body: { reason: 'x' } },
        404,
        'UNKNOWN_MODEL',
        /fraud/,
      ],
      [
        'an unknown version',
        'GET',
        '/models/churn/versions/7',
        {},
        404,
        'UNKNOWN_VERSION',
        /version 7 of churn is not registered \(the latest is v1\)/,
      ],
      [
        'an unknown version to approve',
        'POST',
        '/models/churn/versions/9/approve',
        { body: { reason: 'x' } },
        404,
        'UNKNOWN_VERSION',
        /version 9/,
      ],
      [
        'an unknown route',
        'GET',
        '/models/churn/endpoints',
        {},
        404,
        'UNKNOWN_ROUTE',
        /GET \/models\/churn\/endpoints/,
      ],
      [
        'a wrong method',
        'DELETE',
        '/models/churn/retire',
        {},
        405,
        'METHOD_NOT_ALLOWED',
        /takes POST, not DELETE/,
      ],
      [
        'a nbops identity',
        'POST',
        `/models/churn/versions/${version}/approve`,
        { as: 'nbops:rollback', body: { reason: 'x' } },
        400,
        'INVALID_REQUEST',
        /reserves/,
      ],
    ];
    for (const [what, method, path, options, status, code, message] of cases) {
      const res = await api.call(method, path, options);
      expect(res.status, what).toBe(status);
      expect(res.json, what).toMatchObject({ code, message: expect.stringMatching(message) });
    }
    expect((await h.services.registry.getVersion('churn', version))?.status).toBe('PENDING_APPROVAL');
    expect(h.takePublished()).toEqual([]);
  });

  it('for a body too large (413)', async () => {
    const h = await harness();
    const res = await opsApi(h).call('POST', '/models/churn/retire', {
      body: { reason: 'x'.repeat(70_000) },
    });
    expect(res.status).toBe(413);
    expect(res.json.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('for a version in the wrong state (409 WRONG_STATE)', async () => {
    const h = await harness();
    await deployedChurn(h, 1);
    const res = await opsApi(h).call('POST', '/models/churn/versions/1/decline', {
      body: { reason: 'too late' },
    });
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({
      code: 'WRONG_STATE',
      message: expect.stringMatching(/v?1 of churn is DEPLOYED/),
    });
  });
});

describe('approving while a rollback alarm fires', () => {
  it('is refused with 409 ALARM_FIRING until the alarm is OK: the new version would be rolled back at once', async () => {
    const h = await harness();
    await deployedChurn(h, 1);
    const v2 = churnNotebook((nb) => {
      nb.metadata.nbops.parameters.epochs = 200;
      nb.cells[2].source = ['epochs = 200\n', 'learning_rate = 0.1\n', 'seed = 42\n', 'n_rows = 5000'];
    });
    const { version } = await trainVersion(h, v2, GOOD);
    h.takePublished();
    const api = opsApi(h);
    const path = `/models/churn/versions/${version}/approve`;

    h.alarmStates.set('nbops-churn-latency', 'ALARM');
    const refused = await api.call('POST', path, { body: { reason: 'AUC above the bar' } });
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({
      code: 'ALARM_FIRING',
      message: expect.stringMatching(
        /^nbops-churn-latency is in ALARM, .* v2 would be rolled back as soon as it started\. Approve again once it is OK .*v2 stays PENDING_APPROVAL\.$/,
      ),
    });
    expect((await h.services.registry.getVersion('churn', version))?.status).toBe('PENDING_APPROVAL');
    expect(h.takePublished()).toEqual([]);
    h.alarmStates.set('nbops-churn-errors-5m', 'ALARM');
    expect((await api.call('POST', path, { body: { reason: 'AUC above the bar' } })).json.message).toMatch(
      /^nbops-churn-latency and nbops-churn-errors-5m are in ALARM/,
    );

    h.alarmStates.set('nbops-churn-latency', 'OK');
    h.alarmStates.set('nbops-churn-errors-5m', 'OK');
    const approved = await api.call('POST', path, { body: { reason: 'AUC above the bar' } });
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ outcome: 'approved', version, changed: true });
    expect(h.takePublished()).toMatchObject([{ 'detail-type': 'Version Approved', detail: { version } }]);
  });
});

describe('failures', () => {
  it('answer 500 INTERNAL without the error, its stack or its message; the log has them', async () => {
    const h = await harness();
    h.services.registry.listModels = async () => {
      throw new TypeError(
        "Cannot read properties of undefined (reading 'Items') at secretFunction (/var/task/index.js:1:1)",
      );
    };
    const api = opsApi(h);
    const res = await api.call('GET', '/models');
    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/logged under invocation req-/),
    });
    expect(res.body).not.toMatch(/Items|secretFunction|index\.js|at /);
    expect(
      api.captured.logs.some((l) => l.level === 'ERROR' && JSON.stringify(l).includes('secretFunction')),
    ).toBe(true);
    expect(metricValues(api.captured)).toMatchObject({ OpsRequest: 1, OpsFailed: 1 });
  });

  it('answer 503 RETRY_LATER for throttling, which the caller may retry', async () => {
    const h = await harness();
    h.services.registry.listModels = async () => {
      throw Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    };
    const res = await opsApi(h).call('GET', '/models');
    expect(res.status).toBe(503);
    expect(res.json.code).toBe('RETRY_LATER');
  });

  it('ignore, log and count an invocation that is not a Function URL request', async () => {
    const h = await harness();
    const api = opsApi(h);
    expect(await api.handler({ source: 'aws.events' })).toMatchObject({ kind: 'ignored' });
    expect(metricValues(api.captured)).toMatchObject({ PoisonEvent: 1 });
  });
});

describe('reads', () => {
  it('list models, versions (with a status filter) and show a version with its lineage', async () => {
    const h = await harness();
    await deployedChurn(h, 2);
    await trainVersion(h, churnNotebook(), GOOD);
    const api = opsApi(h);

    const models = await api.call('GET', '/models');
    expect(models.status).toBe(200);
    expect(models.json.models).toMatchObject([
      {
        model: 'churn',
        latestVersion: 3,
        champion: { version: 2, status: 'DEPLOYED', metrics: GOOD },
        endpoint: { name: 'churn', status: 'InService', version: 2 },
        openIncidents: 0,
      },
    ]);

    const versions = await api.call('GET', '/models/churn/versions');
    expect(
      versions.json.versions.map((v: { version: number; status: string; champion: boolean }) => [
        v.version,
        v.status,
        v.champion,
      ]),
    ).toEqual([
      [3, 'PENDING_APPROVAL', false],
      [2, 'DEPLOYED', true],
      [1, 'DEPLOYED', false],
    ]);
    const deployed = await api.call('GET', '/models/churn/versions?status=deployed');
    expect(deployed.json.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const show = await api.call('GET', '/models/churn/versions/2');
    const d = show.json;
    expect(d).toMatchObject({
      model: 'churn',
      version: 2,
      status: 'DEPLOYED',
      champion: true,
      uploader: ALICE,
    });
    expect(d.lineage.notebook).toMatchObject({
      uri: `s3://${h.bucket}/notebooks/churn/churn.ipynb`,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(d.lineage.manifestHash).toMatch(/^[0-9a-f]{64}$/);
    expect(d.lineage.trainingJob.name).toMatch(/^churn-v2-[0-9a-f]{8}$/);
    expect(d.lineage.artifact.uri).toMatch(/model\.tar\.gz$/);
    expect(d.lineage.trainingImage).toBeTruthy();
    // The churn example generates its own data: no data references to pin.
    expect(d.lineage.dataRefs).toEqual([]);
    expect(d.gates.passed).toBe(true);
    expect(d.validation).toMatchObject({ errors: 0, reportUri: expect.stringMatching(/validation\.json$/) });
    // The HTML report is listed once `nbops report` has written it.
    expect(d.reports.version).toBeUndefined();
    expect(d.approval).toMatchObject({ approver: 'lead@example.com', decision: 'approve' });
    expect(d.deployments.map((e: { event: string }) => e.event)).toEqual([
      'APPROVED',
      'DEPLOYING',
      'DEPLOYED',
      'champion',
    ]);
    expect(d.audit.map((e: { to: string }) => e.to)).toEqual([
      'RECEIVED',
      'VALIDATED',
      'TRAINING',
      'TRAINED',
      'GATES_PASSED',
      'PENDING_APPROVAL',
      'APPROVED',
      'DEPLOYING',
      'DEPLOYED',
    ]);
    // v1 was replaced by v2: its deployment history says so.
    const v1 = await api.call('GET', '/models/churn/versions/v1');
    expect(v1.json.deployments.at(-1)).toMatchObject({ event: 'replaced', by: 2 });
  });

  it('answer drift history, incidents (all or open) and where the training output and logs are', async () => {
    const h = await harness();
    await deployedChurn(h, 1);
    const registry = h.services.registry;
    for (const [at, drifted] of [
      ['2025-03-02T00:00:00.000Z', false],
      ['2025-03-03T00:00:00.000Z', true],
    ] as const)
      await registry.putDrift('churn', {
        at,
        version: 1,
        method: 'ks',
        drifted,
        features: { tenure_months: { statistic: 0.3, threshold: 0.05, drifted } },
        sourceEventId: `drift-${at}`,
        records: 500,
      });
    const first = await registry.putIncident('churn', {
      at: '2025-03-03T00:05:00.000Z',
      alarmName: 'nbops-churn-drift',
      version: 1,
      reason: 'Threshold Crossed',
      sourceEventId: 'nbops-churn-drift@1',
    });
    await registry.resolveIncident(
      'churn',
      { at: '2025-03-03T00:05:00.000Z', id: first.id },
      { actor: 'nbops:alarm', resolution: 'back to OK', at: '2025-03-03T01:00:00.000Z' },
    );
    await registry.putIncident('churn', {
      at: '2025-03-04T00:05:00.000Z',
      alarmName: 'nbops-churn-latency',
      version: 1,
      reason: 'p99 above 250 ms',
      sourceEventId: 'nbops-churn-latency@1',
    });
    const api = opsApi(h);

    const drift = await api.call('GET', '/models/churn/drift');
    expect(drift.json.evaluations.map((e: { at: string; drifted: boolean }) => [e.at, e.drifted])).toEqual([
      ['2025-03-03T00:00:00.000Z', true],
      ['2025-03-02T00:00:00.000Z', false],
    ]);
    const recent = await api.call('GET', '/models/churn/drift?since=2025-03-02T12:00:00Z&limit=5');
    expect(recent.json.evaluations).toHaveLength(1);

    const open = await api.call('GET', '/incidents?open=true');
    expect(open.json.incidents.map((i: { alarmName: string }) => i.alarmName)).toEqual([
      'nbops-churn-latency',
    ]);
    const byModel = await api.call('GET', '/incidents?model=churn');
    expect(byModel.status).toBe(200);
    expect(byModel.json.incidents[0]).toMatchObject({
      alarmName: 'nbops-churn-latency',
      state: 'OPEN',
      model: 'churn',
    });
    expect(byModel.json.incidents.map((i: { state: string }) => i.state)).toEqual(['OPEN', 'RESOLVED']);
    const show = await api.call('GET', '/models/churn/versions/1');
    expect(show.json.drift).toHaveLength(2);
    expect(show.json.incidents[0]).toMatchObject({ alarmName: 'nbops-churn-latency' });

    const logs = await api.call('GET', '/models/churn/versions/1/logs');
    expect(logs.status).toBe(200);
    const job = logs.json.trainingJob.name;
    expect(logs.json).toMatchObject({
      trainingJob: { name: job, status: 'Completed', billableSeconds: 360 },
      output: { prefix: `s3://${h.bucket}/versions/churn/v1/training/${job}/` },
      cloudWatch: {
        logGroup: '/aws/sagemaker/TrainingJobs',
        logStreamPrefix: `${job}/`,
        consoleUrl: expect.stringContaining(
          `$252Faws$252Fsagemaker$252FTrainingJobs$3FlogStreamNameFilter$3D${job}`,
        ),
      },
    });
  });

  it('render the version report as HTML, and store it beside the version on POST', async () => {
    const h = await harness();
    await deployedChurn(h, 1);
    const api = opsApi(h);
    const page = await api.call('GET', '/models/churn/versions/1/report');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toMatch(/^<!doctype html>/);
    expect(
      await h.services.store.head({ bucket: h.bucket, key: 'versions/churn/v1/reports/version.html' }),
    ).toBeUndefined();

    const stored = await api.call('POST', '/models/churn/versions/1/report');
    expect(stored.json.uri).toBe(`s3://${h.bucket}/versions/churn/v1/reports/version.html`);
    const head = await h.services.store.head({
      bucket: h.bucket,
      key: 'versions/churn/v1/reports/version.html',
    });
    expect(head?.contentType).toBe('text/html; charset=utf-8');
    const shown = await api.call('GET', '/models/churn/versions/1');
    expect(shown.json.reports.version).toBe(`s3://${h.bucket}/versions/churn/v1/reports/version.html`);
  });
});
