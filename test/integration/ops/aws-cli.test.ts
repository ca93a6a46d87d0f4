// The CLI against AWS, with Lambda's IAM check played by an independent SigV4 verifier: the real
// ops-api handler (over s3rver + dynalite) behind a local Function URL that only lets correctly
// signed requests through, and the real command functions signing with credentials from the
// standard chain (environment variables, or a profile in a shared credentials file).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { localS3Client } from '#adapters/local/emulators';
import type { FunctionUrlServer } from '#adapters/local/function-url';
import { runApprove } from '../../../cli/commands/approve';
import { runModels } from '../../../cli/commands/models';
import { runSubmit } from '../../../cli/commands/submit';
import { runVersions } from '../../../cli/commands/versions';
import { EXIT } from '../../../cli/exit';
import type { OpsIo } from '../../../cli/ops-client';
import { AwsOpsClient } from '../../../cli/ops-targets';
import { GOOD } from '../drift-alarm/support';
import { ACCOUNT, REGION } from '../lifecycle/fake-sagemaker';
import { churnNotebook, type Harness, harness, trainVersion } from '../lifecycle/harness';
import { type KnownCredential, SigV4Verifier, serveIamFunctionUrl } from './sigv4-verifier';
import { LEAD, opsApi } from './support';

/** The release lead's temporary credentials (an assumed role, as from SSO). */
const LEAD_KEYS = {
  accessKeyId: 'ASIALEADEXAMPLE00001',
  secretAccessKey: 'lead-secret-0123456789abcdefghijklmnopqrs',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE/lead+session==',
};
/** s3rver accepts only these keys, so the uploader signs both the ops API and S3 with them. */
const SCIENTIST_KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const SCIENTIST = `arn:aws:sts::${ACCOUNT}:assumed-role/data-scientist/alice`;

const KNOWN: Record<string, KnownCredential> = {
  [LEAD_KEYS.accessKeyId]: {
    secretAccessKey: LEAD_KEYS.secretAccessKey,
    sessionToken: LEAD_KEYS.sessionToken,
    arn: LEAD,
  },
  [SCIENTIST_KEYS.accessKeyId]: { secretAccessKey: SCIENTIST_KEYS.secretAccessKey, arn: SCIENTIST },
};

interface Deployment {
  h: Harness;
  server: FunctionUrlServer;
  verifier: SigV4Verifier;
  /** The options every command gets: the ops API URL and the Region (a local URL names none). */
  target: { endpoint: string; region: string; dir: string };
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The ops API of a fresh deployment behind a Function URL with IAM auth. */
async function deployment(
  invoke?: (event: Record<string, unknown>, next: (e: unknown) => Promise<unknown>) => Promise<unknown>,
): Promise<Deployment> {
  const h = await harness();
  const api = opsApi(h);
  const verifier = new SigV4Verifier({ credentials: KNOWN, region: REGION });
  const server = await serveIamFunctionUrl({
    verifier,
    accountId: ACCOUNT,
    region: REGION,
    invoke: (event) => (invoke ? invoke(event, api.handler) : api.handler(event)),
  });
  cleanups.push(() => server.close());
  return { h, server, verifier, target: { endpoint: server.url, region: REGION, dir: '/nonexistent' } };
}

/** Credentials from the environment, as the standard chain finds them first. */
function useEnvCredentials(keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  vi.stubEnv('AWS_ACCESS_KEY_ID', keys.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', keys.secretAccessKey);
  vi.stubEnv('AWS_SESSION_TOKEN', keys.sessionToken);
  vi.stubEnv('AWS_PROFILE', undefined);
  vi.stubEnv('NBOPS_API_URL', undefined);
}

function captureIo(): OpsIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    out: () => out,
    err: () => err,
  };
}

describe('signed requests from the CLI', () => {
  it('lists models and approves as the signer, whose IAM ARN the registry records', async () => {
    const d = await deployment();
    const { version } = await trainVersion(d.h, churnNotebook(), GOOD);
    useEnvCredentials(LEAD_KEYS);

    const models = captureIo();
    expect(await runModels({ ...d.target, json: true }, models)).toBe(EXIT.ok);
    expect(models.err()).toBe('');
    expect(JSON.parse(models.out()).models).toMatchObject([{ model: 'churn', latestVersion: version }]);

    const approve = captureIo();
    const code = await runApprove(
      'churn',
      String(version),
      { ...d.target, reason: 'AUC 0.90 ≥ the bar; “ship it”', json: true },
      approve,
    );
    expect(approve.err()).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(JSON.parse(approve.out())).toMatchObject({ outcome: 'approved', decidedBy: LEAD, changed: true });
    expect((await d.h.services.registry.getVersion('churn', version))?.approval).toMatchObject({
      approver: LEAD,
      reason: 'AUC 0.90 ≥ the bar; “ship it”',
      decision: 'approve',
    });
    expect(d.verifier.refusals).toEqual([]);
    expect(d.verifier.accepted.map((a) => [a.method, a.url, a.identity])).toEqual([
      ['GET', '/models', LEAD],
      ['POST', `/models/churn/versions/${version}/approve`, LEAD],
    ]);
  });

  it('signs query strings as sent, whatever they need escaped', async () => {
    const d = await deployment();
    await trainVersion(d.h, churnNotebook(), GOOD);
    useEnvCredentials(LEAD_KEYS);

    const versions = captureIo();
    expect(
      await runVersions('churn', { ...d.target, status: 'pending_approval', json: true }, versions),
    ).toBe(EXIT.ok);
    expect(JSON.parse(versions.out()).versions).toMatchObject([{ version: 1, status: 'PENDING_APPROVAL' }]);
    expect(d.verifier.accepted.at(-1)?.url).toBe('/models/churn/versions?status=pending_approval');

    // Parameters out of order, repeated, and with characters SigV4 encodes differently from URLs.
    const client = new AwsOpsClient(new URL(d.target.endpoint), { region: REGION });
    cleanups.push(() => client.close());
    const odd = '/models/churn/versions?status=PENDING_APPROVAL&z=a%20b%2Fc~&a=%E2%9C%93&a=(1)*!';
    const response = await client.request('GET', odd);
    expect(d.verifier.refusals).toEqual([]);
    expect(response.status).toBe(200);
  });

  it('refuses a wrong secret with 403, and the CLI says to check the credentials (exit 2)', async () => {
    const d = await deployment();
    useEnvCredentials({ ...LEAD_KEYS, secretAccessKey: 'not-the-secret' });

    const io = captureIo();
    expect(await runModels(d.target, io)).toBe(EXIT.usage);
    expect(io.out()).toBe('');
    expect(io.err()).toContain('answered 403 (Forbidden)');
    expect(io.err()).toMatch(/Check that your credentials .* allow lambda:InvokeFunctionUrl/);
    expect(d.verifier.refusals).toEqual(['the signature does not match the request']);

    // An access key the account does not know, and a session token that is not the key's.
    useEnvCredentials({ accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' });
    expect(await runModels(d.target, captureIo())).toBe(EXIT.usage);
    useEnvCredentials({ ...LEAD_KEYS, sessionToken: 'another-token' });
    expect(await runModels(d.target, captureIo())).toBe(EXIT.usage);
    expect(d.verifier.refusals.slice(1)).toEqual([
      'unknown access key AKIANOBODY',
      'the session token is missing or not the one issued with the access key',
    ]);
    expect(d.verifier.accepted).toEqual([]);
  });

  it('refuses a signed request replayed 20 minutes later, or with its body or query changed', async () => {
    const d = await deployment();
    const { version } = await trainVersion(d.h, churnNotebook(), GOOD);
    useEnvCredentials(LEAD_KEYS);
    const sent: { url: string; init: RequestInit }[] = [];
    const client = new AwsOpsClient(new URL(d.target.endpoint), {
      region: REGION,
      fetch: (url, init) => {
        sent.push({ url: String(url), init: init ?? {} });
        return fetch(url, init);
      },
    });
    cleanups.push(() => client.close());
    const decline = await client.request('POST', `/models/churn/versions/${version}/decline`, {
      reason: 'not yet',
    });
    expect(decline.status).toBe(200);
    const listing = await client.request('GET', '/models/churn/versions?status=PENDING_APPROVAL');
    expect(listing.status).toBe(200);
    const [post, get] = sent as [(typeof sent)[0], (typeof sent)[0]];

    const replay = (request: typeof post, change: Partial<{ url: string; body: string }> = {}) =>
      fetch(change.url ?? request.url, { ...request.init, ...(change.body ? { body: change.body } : {}) });

    // The same bytes within the window are accepted (the API sees a retry of the same request).
    const again = await replay(post);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ outcome: 'declined', changed: false });

    const real = Date.now();
    d.verifier.now = () => new Date(real + 20 * 60 * 1000);
    const late = await replay(get);
    expect(late.status).toBe(403);
    expect(await late.json()).toEqual({ Message: 'Forbidden' });
    expect(d.verifier.refusals.at(-1)).toMatch(/the signature has expired/);

    d.verifier.now = () => new Date();
    expect((await replay(post, { body: JSON.stringify({ reason: 'changed' }) })).status).toBe(403);
    expect(d.verifier.refusals.at(-1)).toBe('x-amz-content-sha256 is not the SHA-256 of the body');
    expect((await replay(get, { url: get.url.replace('PENDING_APPROVAL', 'DEPLOYED') })).status).toBe(403);
    expect(d.verifier.refusals.at(-1)).toBe('the signature does not match the request');
    expect((await d.h.services.registry.getVersion('churn', version))?.approval?.reason).toBe('not yet');
  });

  it('retries a 503 with the same request id, signed afresh', async () => {
    let failures = 1;
    const d = await deployment(async (event, next) => {
      if (failures-- > 0) return { statusCode: 503, headers: {}, body: '' };
      return next(event);
    });
    await trainVersion(d.h, churnNotebook(), GOOD);
    useEnvCredentials(LEAD_KEYS);

    const io = captureIo();
    expect(await runApprove('churn', '1', { ...d.target, reason: 'looks right' }, io)).toBe(EXIT.ok);
    expect(d.verifier.accepted).toHaveLength(2);
    const [first, second] = d.verifier.accepted;
    expect(first?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second?.requestId).toBe(first?.requestId);
    expect(io.out()).toContain(`churn v1 approved by ${LEAD}`);
  });

  it('takes credentials from a profile in the shared credentials file (--profile)', async () => {
    const d = await deployment();
    const dir = await mkdtemp(join(tmpdir(), 'nbops-aws-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'credentials');
    await writeFile(
      file,
      `[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = nope\n\n[release]\naws_access_key_id = ${LEAD_KEYS.accessKeyId}\naws_secret_access_key = ${LEAD_KEYS.secretAccessKey}\naws_session_token = ${LEAD_KEYS.sessionToken}\n`,
    );
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
      vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', file);
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));

    const io = captureIo();
    expect(await runModels({ ...d.target, profile: 'release' }, io)).toBe(EXIT.ok);
    expect(io.out()).toContain('no models yet');
    expect(d.verifier.accepted.map((a) => a.identity)).toEqual([LEAD]);
  });
});

describe('the region', () => {
  it('comes from a Function URL host, and signs for it with the host as fetch sends it', async () => {
    useEnvCredentials(LEAD_KEYS);
    const sent: { url: URL; init: RequestInit }[] = [];
    const url = new URL('https://abcdefghij0123456789.lambda-url.eu-west-1.on.aws/');
    const client = new AwsOpsClient(url, {
      fetch: async (to, init) => {
        sent.push({ url: new URL(String(to)), init: init ?? {} });
        return Response.json({ models: [] });
      },
    });
    cleanups.push(() => client.close());
    expect((await client.request('GET', '/models?x=1')).status).toBe(200);
    const [request] = sent;
    const headers: Record<string, string> = { host: request!.url.host };
    for (const [name, value] of Object.entries(request!.init.headers as Record<string, string>))
      headers[name.toLowerCase()] = value;
    expect(headers.authorization).toContain(`/eu-west-1/lambda/aws4_request`);
    const verifier = new SigV4Verifier({ credentials: KNOWN, region: 'eu-west-1' });
    const received = { method: 'GET', url: '/models?x=1', headers, body: Buffer.alloc(0) };
    expect(verifier.verify(received)).toMatchObject({ ok: true, identity: { userArn: LEAD } });
  });

  it('must be given for a URL that does not name one: the message says --region', async () => {
    const d = await deployment();
    useEnvCredentials(LEAD_KEYS);
    for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION']) vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_CONFIG_FILE', join(tmpdir(), 'nbops-no-such-aws-config'));
    const io = captureIo();
    expect(await runModels({ endpoint: d.target.endpoint, dir: d.target.dir }, io)).toBe(EXIT.usage);
    expect(io.err()).toMatch(/cannot tell the AWS Region of http:\/\/127\.0\.0\.1:\d+: pass --region/);
    expect(d.verifier.accepted).toEqual([]);
  });
});

describe('the verifier', () => {
  // AWS's SigV4 test suite (get-vanilla, get-vanilla-query-order-key-case, post-vanilla): the
  // verifier agrees with AWS, not merely with the signer the CLI uses.
  const EXAMPLE_USER = 'arn:aws:iam::123456789012:user/example';
  const suiteAt = (time: string) =>
    new SigV4Verifier({
      credentials: {
        AKIDEXAMPLE: { secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', arn: EXAMPLE_USER },
      },
      region: 'us-east-1',
      service: 'service',
      now: () => new Date(time),
    });
  const signed = (method: string, url: string, signature: string) => ({
    method,
    url,
    body: Buffer.alloc(0),
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    },
  });

  it("accepts the AWS test suite's signed requests and refuses them changed or late", () => {
    const suite = suiteAt('2015-08-30T12:40:00Z');
    for (const [method, url, signature] of [
      ['GET', '/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
      [
        'GET',
        '/?Param2=value2&Param1=value1',
        'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
      ],
      ['POST', '/', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
    ] as const) {
      expect(suite.verify(signed(method, url, signature)), `${method} ${url}`).toMatchObject({
        ok: true,
        identity: { userArn: EXAMPLE_USER, accountId: '123456789012' },
      });
      const changed = signed(method, `${url}${url.includes('?') ? '&' : '?'}x=1`, signature);
      expect(suite.verify(changed)).toEqual({
        ok: false,
        reason: 'the signature does not match the request',
      });
    }
    const late = suiteAt('2015-08-30T12:52:00Z');
    expect(
      late.verify(signed('GET', '/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31')),
    ).toEqual({
      ok: false,
      reason: 'signed at 20150830T123600Z, 960 s from now: the signature has expired',
    });
  });
});

describe('nbops submit against AWS', () => {
  it('uploads through the ops API as the signer (the uploader S3 stores), then follows the version', async () => {
    const d = await deployment();
    useEnvCredentials(SCIENTIST_KEYS);

    const io = captureIo();
    const submitted = runSubmit('examples/churn/churn.ipynb', { ...d.target, wait: true, timeout: '20' }, io);

    // Meanwhile AWS does its part: S3 tells the submit function, training runs and reports.
    const s3 = localS3Client(inject('emulators').s3Endpoint);
    cleanups.push(async () => s3.destroy());
    const key = 'notebooks/churn/churn.ipynb';
    const head = await waitFor(() => s3.send(new HeadObjectCommand({ Bucket: d.h.bucket, Key: key })));
    expect(head.Metadata).toEqual({ 'nbops-uploader': SCIENTIST });
    expect(head.ContentType).toBe('application/x-ipynb+json');
    // S3's event names only the account: the registry takes the uploader from the object.
    const event = objectCreated(d.h.bucket, key, head.ContentLength ?? 0, head.ETag ?? '');
    const outcome = await d.h.submit(event);
    if (outcome.kind !== 'training') throw new Error(`submit: ${JSON.stringify(outcome)}`);
    d.h.tick(600);
    d.h.cloud.completeJob(outcome.trainingJobName, GOOD);
    await d.h.training(d.h.trainingEvent(outcome.trainingJobName));

    expect(await submitted).toBe(EXIT.ok);
    expect(io.err()).toBe('');
    expect(io.out()).toContain(`uploaded s3://${d.h.bucket}/${key} (model churn, uploader ${SCIENTIST})`);
    expect(io.out()).toContain('version 1 of churn');
    expect(io.out()).toMatch(/TRAINING .*\n(.*\n)*.*PENDING_APPROVAL/);
    expect(io.out()).toContain('churn v1 is PENDING_APPROVAL (approve it: nbops approve churn 1');
    expect((await d.h.services.registry.getVersion('churn', 1))?.uploader).toBe(SCIENTIST);
    expect(d.verifier.refusals).toEqual([]);
    expect(new Set(d.verifier.accepted.map((a) => a.identity))).toEqual(new Set([SCIENTIST]));
    expect(d.verifier.accepted.map((a) => a.url)).toContain('/models/churn/uploads');

    // The uploader may not approve what they uploaded.
    const self = captureIo();
    expect(await runApprove('churn', '1', { ...d.target, reason: 'mine' }, self)).toBe(EXIT.findings);
    expect(self.err()).toMatch(/may not approve it.*\[SELF_APPROVAL\]/);
  });

  it('says what to fix when S3 refuses the upload or cannot be reached (exit 2)', async () => {
    // The grant's URL rewritten on the way back: a bucket that does not exist, then no S3 at all.
    let rewrite = (url: string) => url;
    const d = await deployment(async (event, next) => {
      const result = (await next(event)) as { body?: string };
      const grant = result.body ? JSON.parse(result.body) : undefined;
      if (grant?.url) result.body = JSON.stringify({ ...grant, url: rewrite(grant.url) });
      return result;
    });
    useEnvCredentials(SCIENTIST_KEYS);

    rewrite = (url) => url.replace(`/${d.h.bucket}/`, '/no-such-bucket-here/');
    const refused = captureIo();
    expect(await runSubmit('examples/churn/churn.ipynb', { ...d.target, timeout: '20' }, refused)).toBe(
      EXIT.usage,
    );
    expect(refused.err()).toMatch(
      new RegExp(
        `^nbops: the bucket of s3://${d.h.bucket}/notebooks/churn/churn.ipynb does not exist \\(NoSuchBucket.*\\): check that the URL is the stack output OpsApiUrl`,
      ),
    );
    expect(refused.out()).toBe('');

    rewrite = (url) => url.replace(/^http:\/\/[^/]+/, 'http://127.0.0.1:1');
    const unreachable = captureIo();
    expect(await runSubmit('examples/churn/churn.ipynb', { ...d.target, timeout: '20' }, unreachable)).toBe(
      EXIT.usage,
    );
    expect(unreachable.err()).toMatch(/^nbops: cannot reach S3 to upload s3:\/\/.*check your network/);
  });
});

async function waitFor<T>(attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The EventBridge "Object Created" event S3 sends for an upload (the requester is the account). */
function objectCreated(bucket: string, key: string, size: number, etag: string): object {
  return {
    version: '0',
    id: 'evt-aws-cli-1',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key, size, etag: etag.replace(/"/g, ''), sequencer: '0062E99A88DC407460' },
      'request-id': 'req-aws-cli-1',
      requester: ACCOUNT,
      'source-ip-address': '192.0.2.10',
      reason: 'PutObject',
    },
  };
}
