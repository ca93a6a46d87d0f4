// Uploads through the ops API on real S3 (s3rver): the caller gets a presigned PUT whose uploader
// metadata is the identity IAM verified, the submit handler records that identity as the uploader,
// and so the uploader cannot approve their own version. Bad file names are refused with the fix.
import { describe, expect, it } from 'vitest';
import { ACCOUNT } from '../lifecycle/fake-sagemaker';
import { churnNotebook, harness } from '../lifecycle/harness';
import { LEAD, opsApi } from './support';

describe('POST /models/:model/uploads', () => {
  it('grants a PUT that stores the verified caller as uploader, who then may not approve it', async () => {
    const h = await harness();
    const api = opsApi(h);
    const body = churnNotebook();

    const grant = await api.call('POST', '/models/churn/uploads', { body: { file: 'churn.ipynb' } });
    expect(grant.status).toBe(200);
    expect(grant.json).toMatchObject({
      model: 'churn',
      key: 'notebooks/churn/churn.ipynb',
      uri: `s3://${h.bucket}/notebooks/churn/churn.ipynb`,
      method: 'PUT',
      uploader: LEAD,
      headers: { 'content-type': 'application/x-ipynb+json', 'x-amz-meta-nbops-uploader': LEAD },
    });
    expect(Math.abs(Date.parse(grant.json.expiresAt) - h.now().getTime() - 15 * 60 * 1000)).toBeLessThan(
      5_000,
    );

    // The uploader and content type are signed headers (S3 refuses a PUT that changes them; s3rver
    // does not check presigned signatures, so the URL's signed header list is what is checked).
    const url = new URL(grant.json.url);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(
      expect.arrayContaining(['content-type', 'host', 'x-amz-meta-nbops-uploader']),
    );
    expect(url.searchParams.has('x-amz-meta-nbops-uploader')).toBe(false);
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBe(900);
    const put = await fetch(grant.json.url, { method: 'PUT', headers: grant.json.headers, body });
    expect(put.status).toBe(200);
    const head = await h.services.store.head({ bucket: h.bucket, key: 'notebooks/churn/churn.ipynb' });
    expect(head?.metadata['nbops-uploader']).toBe(LEAD);

    // The S3 event names only the account; the registry records the person.
    const event = await h.upload('notebooks/churn/other.ipynb', body, ACCOUNT);
    await h.services.store.copy(
      { bucket: h.bucket, key: 'notebooks/churn/churn.ipynb' },
      { bucket: h.bucket, key: 'notebooks/churn/other.ipynb' },
    );
    expect(await h.submit(event)).toMatchObject({ kind: 'training', version: 1 });
    expect((await h.services.registry.getVersion('churn', 1))?.uploader).toBe(LEAD);
  });

  it('refuses file names that are not a notebook or sidecar, or that name folders', async () => {
    const h = await harness();
    const api = opsApi(h);
    for (const [file, rule] of [
      [undefined, /"file" is required/],
      ['', /"file" is required/],
      ['../x.ipynb', /plain file name/],
      ['sub/x.ipynb', /plain file name/],
      ['.hidden.ipynb', /leading dot/],
      ['model.pkl', /notebook \(\.ipynb\) or a sidecar manifest/],
      ['a\u0007.ipynb', /control characters/],
    ] as const) {
      const res = await api.call('POST', '/models/churn/uploads', {
        body: file === undefined ? {} : { file },
      });
      expect(res.status, String(file)).toBe(400);
      expect(res.json).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(rule) });
    }
    const badModel = await api.call('POST', '/models/Churn_Model/uploads', { body: { file: 'x.ipynb' } });
    expect(badModel.json).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(/model name/),
    });
    const sidecar = await api.call('POST', '/models/churn/uploads', { body: { file: 'churn.nbops.yaml' } });
    expect(sidecar.json.headers['content-type']).toBe('application/yaml');
  });
});
