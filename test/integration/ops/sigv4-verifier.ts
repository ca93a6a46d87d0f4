/**
 * What Lambda does in front of a Function URL with AuthType AWS_IAM, for tests: it recomputes the
 * request's SigV4 signature from what arrived, and only a request whose signature, scope and time
 * check out reaches the function, with the signer's IAM identity in requestContext.authorizer.iam.
 * Anything else is answered 403 {"Message":"Forbidden"} without invoking the function.
 *
 * Written from the AWS SigV4 specification with node:crypto alone (canonical request, string to
 * sign, derived signing key), not with the signer the CLI uses, so that a signing mistake in the
 * CLI cannot be repeated here and go unnoticed.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import {
  type FunctionUrlServer,
  type IamIdentity,
  type ReceivedRequest,
  serveFunctionUrl,
} from '#adapters/local/function-url';

/** One access key the verifier knows: its secret, and the principal it stands for. */
export interface KnownCredential {
  secretAccessKey: string;
  /** Temporary credentials: the token the request must carry in x-amz-security-token. */
  sessionToken?: string;
  /** The IAM ARN Lambda reports as userArn, e.g. arn:aws:sts::123456789012:assumed-role/r/s. */
  arn: string;
}

export interface VerifierOptions {
  /** Access key id -> what it stands for. */
  credentials: Record<string, KnownCredential>;
  /** The Region of the function; the credential scope must name it. */
  region: string;
  /** The signing service; Function URLs are signed for `lambda`. */
  service?: string;
  /** The verifier's clock (tests move it to replay requests later). */
  now?: () => Date;
  /** How far x-amz-date may be from now, either way. */
  maxSkewMs?: number;
}

export type Verdict = { ok: true; identity: IamIdentity } | { ok: false; reason: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const FIFTEEN_MINUTES = 15 * 60 * 1000;

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX (upper case). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The path as it arrived, each segment encoded once more (SigV4 encodes paths twice for every
 * service but S3; the client sent them encoded once).
 */
function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath.split('/').map(uriEncode).join('/');
}

/** Parameters decoded, re-encoded strictly and sorted by name, then value. */
function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([uriEncode(decodeURIComponent(name)), uriEncode(decodeURIComponent(value))]);
  }
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** `20250301T090000Z` -> the time it names, or undefined. */
function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The identity Lambda reports for a principal (requestContext.authorizer.iam). */
export function identityOf(accessKeyId: string, arn: string): IamIdentity {
  const accountId = arn.split(':')[4] ?? '';
  const roleSession = /:assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  // Role sessions are reported as <role id>:<session name>; users by their user id.
  const userId = roleSession ? `AROA${hashId(roleSession[1]!)}:${roleSession[2]}` : `AIDA${hashId(arn)}`;
  return {
    accessKey: accessKeyId,
    accountId,
    callerId: userId,
    cognitoIdentity: null,
    principalOrgId: null,
    userArn: arn,
    userId,
  };
}

function hashId(text: string): string {
  return sha256Hex(text).slice(0, 17).toUpperCase();
}

export class SigV4Verifier {
  readonly service: string;
  readonly maxSkewMs: number;
  /** Why each refused request was refused, in order (tests assert on the reason). */
  readonly refusals: string[] = [];
  /** The identities of accepted requests, in order. */
  readonly accepted: { method: string; url: string; identity: string; requestId?: string }[] = [];
  now: () => Date;

  constructor(private readonly options: VerifierOptions) {
    this.service = options.service ?? 'lambda';
    this.maxSkewMs = options.maxSkewMs ?? FIFTEEN_MINUTES;
    this.now = options.now ?? (() => new Date());
  }

  /** The identity for a correctly signed request, or undefined (the reason goes to `refusals`). */
  authenticate = (request: ReceivedRequest): IamIdentity | undefined => {
    const verdict = this.verify(request);
    if (!verdict.ok) {
      this.refusals.push(verdict.reason);
      return undefined;
    }
    this.accepted.push({
      method: request.method,
      url: request.url,
      identity: verdict.identity.userArn,
      ...(request.headers['x-nbops-request-id'] ? { requestId: request.headers['x-nbops-request-id'] } : {}),
    });
    return verdict.identity;
  };

  verify(request: ReceivedRequest): Verdict {
    try {
      return this.check(request);
    } catch (err) {
      // e.g. a malformed %-escape in the path or query
      return { ok: false, reason: `malformed request: ${(err as Error).message}` };
    }
  }

  private check(request: ReceivedRequest): Verdict {
    const refuse = (reason: string): Verdict => ({ ok: false, reason });
    const headers = request.headers;
    const authorization = headers.authorization;
    if (!authorization) return refuse('no Authorization header');
    const auth =
      /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request\s*,\s*SignedHeaders=([a-z0-9;-]+)\s*,\s*Signature=([0-9a-f]{64})$/.exec(
        authorization.trim(),
      );
    if (!auth) return refuse('Authorization is not an AWS4-HMAC-SHA256 signature');
    const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] =
      auth as unknown as [string, string, string, string, string, string, string];

    const known = this.options.credentials[accessKeyId];
    if (!known) return refuse(`unknown access key ${accessKeyId}`);
    if (scopeRegion !== this.options.region)
      return refuse(`credential scope names Region ${scopeRegion}, not ${this.options.region}`);
    if (scopeService !== this.service)
      return refuse(`credential scope names service ${scopeService}, not ${this.service}`);

    const amzDate = headers['x-amz-date'] ?? '';
    const signedAt = parseAmzDate(amzDate);
    if (!signedAt) return refuse('no valid x-amz-date header');
    if (amzDate.slice(0, 8) !== scopeDate)
      return refuse(`credential scope date ${scopeDate} is not the date of x-amz-date ${amzDate}`);
    const skew = Math.abs(this.now().getTime() - signedAt.getTime());
    if (skew > this.maxSkewMs)
      return refuse(`signed at ${amzDate}, ${Math.round(skew / 1000)} s from now: the signature has expired`);

    const signedHeaders = signedHeaderList.split(';');
    const sorted = [...signedHeaders].sort();
    if (signedHeaders.join(';') !== sorted.join(';')) return refuse('SignedHeaders is not sorted');
    for (const required of ['host', 'x-amz-date'])
      if (!signedHeaders.includes(required)) return refuse(`${required} is not a signed header`);
    for (const name of signedHeaders)
      if (headers[name] === undefined) return refuse(`signed header ${name} is missing`);

    const token = headers['x-amz-security-token'];
    if (known.sessionToken !== undefined && token !== known.sessionToken)
      return refuse('the session token is missing or not the one issued with the access key');
    if (known.sessionToken === undefined && token !== undefined)
      return refuse('a session token came with long-term credentials');

    const bodyHash = sha256Hex(request.body);
    const claimed = headers['x-amz-content-sha256'];
    if (claimed !== undefined && claimed !== bodyHash)
      return refuse('x-amz-content-sha256 is not the SHA-256 of the body');

    const queryAt = request.url.indexOf('?');
    const rawPath = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? '' : request.url.slice(queryAt + 1);
    const canonicalHeaders = signedHeaders
      .map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, ' ')}\n`)
      .join('');
    const canonicalRequest = [
      request.method.toUpperCase(),
      canonicalUri(rawPath),
      canonicalQuery(rawQuery),
      canonicalHeaders,
      signedHeaderList,
      bodyHash,
    ].join('\n');
    const expected = expectedSignature(
      known.secretAccessKey,
      amzDate,
      scopeRegion,
      scopeService,
      canonicalRequest,
    );
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex')))
      return refuse('the signature does not match the request');
    return { ok: true, identity: identityOf(accessKeyId, known.arn) };
  }
}

/** The string to sign over a canonical request, signed with the key derived for its scope. */
function expectedSignature(
  secretAccessKey: string,
  amzDate: string,
  region: string,
  service: string,
  canonicalRequest: string,
): Buffer {
  const scopeDate = amzDate.slice(0, 8);
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${secretAccessKey}`, scopeDate);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  const kSigning = hmac(kService, 'aws4_request');
  return createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest();
}

/**
 * What S3 checks before it accepts a request to a presigned URL (SigV4 query-string
 * authentication): the credential scope, the validity period (X-Amz-Date + X-Amz-Expires), and a
 * signature over the method, the path (encoded once: S3 does not encode it twice), every query
 * parameter but X-Amz-Signature, the signed headers with the values the request carries, and
 * UNSIGNED-PAYLOAD. s3rver skips this, so the upload tests run it on the request they send.
 */
export function verifyPresignedRequest(request: {
  method: string;
  url: string;
  /** The headers the request carries, names lower case (host is taken from the URL when absent). */
  headers: Record<string, string>;
  secrets: Record<string, string>;
  region: string;
  now: Date;
}): { ok: true } | { ok: false; reason: string } {
  const refuse = (reason: string) => ({ ok: false as const, reason });
  const url = new URL(request.url);
  const q = url.searchParams;
  if (q.get('X-Amz-Algorithm') !== ALGORITHM) return refuse('X-Amz-Algorithm is not AWS4-HMAC-SHA256');
  const credential = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/.exec(q.get('X-Amz-Credential') ?? '');
  if (!credential) return refuse('X-Amz-Credential is not <key>/<date>/<region>/s3/aws4_request');
  const [, accessKeyId, scopeDate, scopeRegion] = credential as unknown as [string, string, string, string];
  const secret = request.secrets[accessKeyId];
  if (secret === undefined) return refuse(`unknown access key ${accessKeyId}`);
  if (scopeRegion !== request.region) return refuse(`credential scope names Region ${scopeRegion}`);
  const amzDate = q.get('X-Amz-Date') ?? '';
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt || amzDate.slice(0, 8) !== scopeDate)
    return refuse('X-Amz-Date is missing or not the scope date');
  const expires = Number(q.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > 604_800)
    return refuse('X-Amz-Expires is not 1 to 604800 seconds');
  if (request.now.getTime() > signedAt.getTime() + expires * 1000) return refuse('Request has expired');
  const signature = q.get('X-Amz-Signature') ?? '';
  if (!/^[0-9a-f]{64}$/.test(signature)) return refuse('X-Amz-Signature is missing');

  const headers: Record<string, string> = { host: url.host, ...request.headers };
  const signedHeaderList = q.get('X-Amz-SignedHeaders') ?? '';
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) return refuse('host is not a signed header');
  for (const name of signedHeaders)
    if (headers[name] === undefined) return refuse(`signed header ${name} is missing`);
  const rawQuery = url.search
    .slice(1)
    .split('&')
    .filter((part) => !part.startsWith('X-Amz-Signature='))
    .join('&');
  const canonicalRequest = [
    request.method.toUpperCase(),
    url.pathname,
    canonicalQuery(rawQuery),
    signedHeaders.map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaderList,
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const expected = expectedSignature(secret, amzDate, scopeRegion, 's3', canonicalRequest);
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex')))
    return refuse('SignatureDoesNotMatch: the signature does not match the request');
  return { ok: true };
}

const FORBIDDEN = {
  statusCode: 403,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ Message: 'Forbidden' }),
};

/**
 * A local Function URL with IAM auth: requests the verifier refuses get Lambda's 403
 * {"Message":"Forbidden"} and never reach `invoke`.
 */
export function serveIamFunctionUrl(options: {
  invoke: (event: Record<string, unknown>) => Promise<unknown>;
  verifier: SigV4Verifier;
  accountId: string;
  region: string;
}): Promise<FunctionUrlServer> {
  return serveFunctionUrl({
    accountId: options.accountId,
    region: options.region,
    authenticate: options.verifier.authenticate,
    // serveFunctionUrl passes unauthenticated requests on without an identity (the local host's
    // way); with AWS_IAM, Lambda answers them itself.
    invoke: async (event) => {
      const context = event.requestContext as { authorizer?: { iam?: unknown } } | undefined;
      if (!context?.authorizer?.iam) return FORBIDDEN;
      return options.invoke(event);
    },
  });
}
