// The submit step on real S3 (s3rver): which keys are notebooks, sidecar manifests, keys with spaces,
// `+` and non-ASCII letters in both S3 event formats, notebooks over the size cap (refused unread),
// invalid notebooks, and uploads overwritten before their event arrived.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeS3EventKey } from '#core/events/s3';
import { ACCOUNT } from './fake-sagemaker';
import { churnNotebook, harness, TEST_POLICY, UPLOADER } from './harness';

const reportOf = async (h: Awaited<ReturnType<typeof harness>>, model: string, ext = 'json') =>
  new TextDecoder().decode(
    await h.services.store.getBytes(
      { bucket: h.bucket, key: `versions/${model}/v1/reports/validation.${ext}` },
      { maxBytes: 1_000_000 },
    ),
  );

describe('submit', () => {
  it('ignores keys that are not notebook uploads, with the reason', async () => {
    const h = await harness();
    const cases: [string, RegExp][] = [
      ['notebooks/churn/churn.nbops.yaml', /sidecar manifest: it is read when its notebook is uploaded/],
      ['notebooks/churn/train.csv', /is not a notebook upload/],
      ['notebooks/churn.ipynb', /is not a notebook upload/],
      ['notebooks/churn/nested/churn.ipynb', /is not a notebook upload/],
      ['notebooks/Churn Model/churn.ipynb', /folder "Churn Model" .* is not a model name/],
    ];
    for (const [key, reason] of cases)
      expect(await h.submit(await h.upload(key, churnNotebook())), key).toEqual({
        kind: 'ignored',
        reason: expect.stringMatching(reason),
      });
    expect(await h.services.registry.listModels()).toEqual([]);
    expect(h.cloud.calls('CreateTrainingJob')).toBe(0);
  });

  it('takes keys with spaces, `+` and non-ASCII letters, with a sidecar manifest, from either S3 event format', async () => {
    const h = await harness();
    const key = 'notebooks/churn/Churn model+v2 ü.ipynb';
    const sidecarKey = 'notebooks/churn/Churn model+v2 ü.nbops.yaml';
    // The sidecar arrives first: it is not a submission by itself.
    const sidecar = await h.upload(sidecarKey, readFileSync('examples/churn/manifest.yaml'));
    expect(await h.submit(sidecar)).toMatchObject({ kind: 'ignored' });

    const body = churnNotebook((nb) => {
      delete nb.metadata.nbops;
    });
    const eventBridge = await h.upload(key, body);
    const outcome = await h.submit(eventBridge);
    expect(outcome).toMatchObject({ kind: 'training', model: 'churn', version: 1 });

    const record = await h.services.registry.getVersion('churn', 1);
    expect(record?.facts.notebook?.key).toBe(key);
    expect(record?.facts.manifest).toMatchObject({ model: { name: 'churn', owner: 'team-ml@example.com' } });
    expect(record?.owner).toBe('team-ml@example.com');
    expect(
      await h.services.store.head({
        bucket: h.bucket,
        key: 'versions/churn/v1/notebook/Churn model+v2 ü.ipynb',
      }),
    ).toMatchObject({
      size: body.byteLength,
    });
    const [request] = h.cloud.inputs<{ Environment: Record<string, string> }>('CreateTrainingJob');
    expect(request?.Environment.NBOPS_NOTEBOOK).toBe('Churn model+v2 ü.ipynb');
    expect(JSON.parse(await reportOf(h, 'churn')).files[0]).toMatchObject({ path: key, valid: true });

    // The same write announced as a classic S3 record (key form-encoded: space as `+`, `+` as %2B)
    // is the same upload: same version, no second job.
    const detail = (eventBridge as { detail: { object: { etag: string; sequencer: string; size: number } } })
      .detail;
    const classic = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: h.now().toISOString(),
          eventName: 'ObjectCreated:Put',
          userIdentity: { principalId: UPLOADER },
          requestParameters: { sourceIPAddress: '192.0.2.10' },
          responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8' },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'nbops-notebooks',
            bucket: {
              name: h.bucket,
              ownerIdentity: { principalId: 'A3NL1KOZZKExample' },
              arn: `arn:aws:s3:::${h.bucket}`,
            },
            object: {
              key: encodeS3EventKey(key),
              size: detail.object.size,
              eTag: detail.object.etag,
              sequencer: detail.object.sequencer,
            },
          },
        },
      ],
    };
    expect(encodeS3EventKey(key)).toBe('notebooks%2Fchurn%2FChurn+model%2Bv2+%C3%BC.ipynb');
    expect(await h.submit(classic)).toMatchObject({ kind: 'training', version: 1 });
    expect(h.cloud.calls('CreateTrainingJob')).toBe(1);
    expect((await h.services.registry.getModel('churn'))?.latestVersion).toBe(1);
  });

  it('refuses a notebook over the size cap without downloading it', async () => {
    const h = await harness({ policy: { ...TEST_POLICY, maxNotebookBytes: 10_000 } });
    const key = 'notebooks/churn/churn.ipynb';
    const body = churnNotebook();
    expect(body.byteLength).toBeGreaterThan(10_000);
    const uploaded = await h.upload(key, body);
    h.s3Sent.length = 0;
    expect(await h.submit(uploaded)).toEqual({
      kind: 'rejected',
      model: 'churn',
      version: 1,
      reportUri: `s3://${h.bucket}/versions/churn/v1/reports/validation.json`,
      errors: 1,
    });
    expect(h.s3Sent.filter((c) => c.key === key).map((c) => c.command)).toEqual(['HeadObject']);
    expect(h.s3Sent.some((c) => c.command === 'GetObject')).toBe(false);

    const record = await h.services.registry.getVersion('churn', 1);
    expect(record?.status).toBe('REJECTED');
    expect(record?.facts.notebook).toMatchObject({ key, sha256: '' });
    expect(record?.facts.validation).toMatchObject({ errors: 1, warnings: 0 });
    const [finding] = JSON.parse(await reportOf(h, 'churn')).files[0].findings;
    expect(finding).toMatchObject({ rule: 'NB-010', severity: 'error' });
    expect(finding.message).toContain('It was not read.');
    expect(await reportOf(h, 'churn', 'txt')).toContain('policy maxNotebookBytes');
    expect(h.cloud.calls('CreateTrainingJob')).toBe(0);
  });

  it('rejects a notebook whose manifest names another model, and one without a manifest', async () => {
    const h = await harness();
    const mismatch = await h.submit(await h.upload('notebooks/fraud/churn.ipynb', churnNotebook()));
    expect(mismatch).toMatchObject({ kind: 'rejected', model: 'fraud', version: 1, errors: 1 });
    const report = JSON.parse(await reportOf(h, 'fraud'));
    expect(report.files[0].findings).toEqual([
      expect.objectContaining({
        rule: 'SUB-001',
        location: { pointer: '/metadata/nbops/model/name' },
        message: expect.stringContaining(
          'model.name is "churn" but the notebook was uploaded under notebooks/fraud/',
        ),
        fix: 'Upload the notebook to notebooks/churn/, or set model.name to "fraud".',
      }),
    ]);
    const sarif = JSON.parse(await reportOf(h, 'fraud', 'sarif'));
    expect(sarif.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).toEqual(['SUB-001']);

    const bare = await h.submit(
      await h.upload(
        'notebooks/bare/bare.ipynb',
        churnNotebook((nb) => {
          delete nb.metadata.nbops;
        }),
      ),
    );
    expect(bare).toMatchObject({ kind: 'rejected', model: 'bare', version: 1 });
    expect(
      JSON.parse(await reportOf(h, 'bare')).files[0].findings.map((f: { rule: string }) => f.rule),
    ).toContain('MAN-001');
    const record = await h.services.registry.getVersion('bare', 1);
    expect(record?.status).toBe('REJECTED');
    expect(record?.owner).toBe(UPLOADER); // no manifest to name an owner
    expect(record?.lastChange?.reason).toMatch(/^validation failed \(1 error, 0 warnings: MAN-001 /);
    expect(h.cloud.calls('CreateTrainingJob')).toBe(0);
  });

  it('rejects a version whose training request SageMaker would refuse, naming the field', async () => {
    // The policy schema accepts any role name; the SageMaker API model does not accept spaces.
    const policy = {
      ...TEST_POLICY,
      aws: { ...TEST_POLICY.aws, executionRoleArn: 'arn:aws:iam::123456789012:role/nbops execution' },
    };
    const h = await harness({ policy });
    expect(await h.submit(await h.upload('notebooks/churn/churn.ipynb', churnNotebook()))).toMatchObject({
      kind: 'rejected',
      errors: 1,
    });
    const [finding] = JSON.parse(await reportOf(h, 'churn')).files[0].findings;
    expect(finding).toMatchObject({ rule: 'SUB-002', severity: 'error' });
    expect(finding.message).toMatch(/^CreateTrainingJob would be refused by SageMaker: RoleArn /);
    expect(h.cloud.calls('CreateTrainingJob')).toBe(0);
  });

  it('records the uploader the object names (EventBridge names only the account), else the requester', async () => {
    const h = await harness();
    const alice = `arn:aws:sts::${ACCOUNT}:assumed-role/ml-team/alice`;
    const key = 'notebooks/churn/churn.ipynb';
    const body = churnNotebook();
    const event = await h.upload(key, body, ACCOUNT);
    // What `nbops submit` uploads: the same bytes, naming the person the ops API verified.
    await h.services.store.put({ bucket: h.bucket, key }, body, { metadata: { 'nbops-uploader': alice } });
    expect(await h.submit(event)).toMatchObject({ kind: 'training', version: 1 });
    expect((await h.services.registry.getVersion('churn', 1))?.uploader).toBe(alice);

    const other = 'notebooks/churn/other.ipynb';
    expect(await h.submit(await h.upload(other, churnNotebook(), ACCOUNT))).toMatchObject({ version: 2 });
    expect((await h.services.registry.getVersion('churn', 2))?.uploader).toBe(ACCOUNT);
  });

  it('skips an upload overwritten before its event arrived (the newer upload has its own event)', async () => {
    const h = await harness();
    const key = 'notebooks/churn/churn.ipynb';
    const first = await h.upload(key, churnNotebook());
    const second = await h.upload(
      key,
      churnNotebook((nb) => {
        nb.metadata.nbops.model.description = 'Second take.';
      }),
    );
    expect(await h.submit(first)).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('was overwritten'),
    });
    expect(await h.submit(second)).toMatchObject({ kind: 'training', version: 1 });
  });
});
