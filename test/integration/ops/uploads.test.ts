// Uploads through the ops API on real S3 (s3rver): the caller gets a presigned PUT whose uploader
// metadata is the identity IAM verified, the submit handler records that identity as the uploader,
// and so the uploader cannot approve their own version. Bad file names are refused with the fix.
import { describe, expect, it } from 'vitest';
import { LOCAL_REGION, LOCAL_S3_CREDENTIALS } from '#adapters/local/emulators';
import { ACCOUNT } from '../lifecycle/fake-sagemaker';
import { churnNotebook, harness } from '../lifecycle/harness';
import { verifyPresignedRequest } from './sigv4-verifier';
import { LEAD, opsApi } from './support';

describe('the presigned-URL check the upload tests rely on', () => {
  it("accepts AWS's published presigned URL and refuses it changed or expired", () => {
    // docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html, "Example: GET Object".
    const url =
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
      '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
      '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
      '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
    const check = (over: { method?: string; url?: string; now?: string } = {}) =>
      verifyPresignedRequest({
        method: over.method ?? 'GET',
        url: over.url ?? url,
        headers: {},
        secrets: { AKIAIOSFODNN7EXAMPLE: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
        region: 'us-east-1',
        now: new Date(over.now ?? '2013-05-24T12:00:00Z'),
      });
    expect(check()).toEqual({ ok: true });
    expect(check({ method: 'PUT' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('SignatureDoesNotMatch'),
    });
    expect(check({ url: url.replace('/test.txt', '/other.txt') })).toMatchObject({ ok: false });
    expect(check({ url: `${url}&extra=1` })).toMatchObject({ ok: false });
    expect(check({ now: '2013-05-25T00:00:01Z' })).toEqual({ ok: false, reason: 'Request has expired' });
  });
});

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

    // The uploader and content type are signed headers, so S3 refuses a PUT that changes them.
    // s3rver does not check presigned signatures: an independent SigV4 check does what S3 would.
    const url = new URL(grant.json.url);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(
      expect.arrayContaining(['content-type', 'host', 'x-amz-meta-nbops-uploader']),
    );
    expect(url.searchParams.has('x-amz-meta-nbops-uploader')).toBe(false);
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBe(900);
    const s3Checks = (over: { url?: string; headers?: Record<string, string>; at?: number } = {}) =>
      verifyPresignedRequest({
        method: 'PUT',
        url: over.url ?? grant.json.url,
        headers: over.headers ?? grant.json.headers,
        secrets: { [LOCAL_S3_CREDENTIALS.accessKeyId]: LOCAL_S3_CREDENTIALS.secretAccessKey },
        region: LOCAL_REGION,
        now: new Date(Date.now() + (over.at ?? 0) * 1000),
      });
    expect(s3Checks()).toEqual({ ok: true });
    const mismatch = { ok: false, reason: expect.stringContaining('SignatureDoesNotMatch') };
    expect(s3Checks({ headers: { ...grant.json.headers, 'x-amz-meta-nbops-uploader': 'mallory' } })).toEqual(
      mismatch,
    );
    expect(s3Checks({ headers: { ...grant.json.headers, 'content-type': 'text/html' } })).toEqual(mismatch);
    expect(s3Checks({ url: grant.json.url.replace('/churn.ipynb?', '/evil.ipynb?') })).toEqual(mismatch);
    expect(s3Checks({ headers: { 'content-type': 'application/x-ipynb+json' } })).toEqual({
      ok: false,
      reason: 'signed header x-amz-meta-nbops-uploader is missing',
    });
    expect(s3Checks({ at: 16 * 60 })).toEqual({ ok: false, reason: 'Request has expired' });
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
