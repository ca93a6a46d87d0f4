/**
 * A Lambda Function URL on a laptop: an HTTP server on the loopback interface that turns each
 * request into the Function URL event (payload format 2.0) Lambda would send, invokes a handler
 * with it, and turns the handler's result back into the HTTP response, as Lambda does.
 *
 * The local host serves the ops-api handler this way (its URL goes into host.json), so the CLI
 * talks to the local host exactly as to AWS. Who the caller is comes from `authenticate`: the
 * local host trusts the identity the CLI names (LOCAL_IDENTITY_HEADER; there is no IAM locally),
 * tests check a SigV4 signature and answer with the IAM identity Lambda would put in the event.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Header the local CLI names its user in (the local host has no IAM; the name is trusted as given). */
export const LOCAL_IDENTITY_HEADER = 'x-nbops-local-identity';
/** Lambda's request size limit for Function URLs. */
const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

/** What Lambda's IAM authorizer puts in requestContext.authorizer.iam. */
export interface IamIdentity {
  accessKey: string;
  accountId: string;
  callerId: string;
  cognitoIdentity: null;
  principalOrgId: string | null;
  userArn: string;
  userId: string;
}

export interface ReceivedRequest {
  method: string;
  /** Path and query as received, e.g. `/models?x=1`. */
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface FunctionUrlServerOptions {
  /** Runs the function on the event; resolves to its result (the Function URL response format). */
  invoke: (event: Record<string, unknown>) => Promise<unknown>;
  /** The caller's IAM identity, or undefined for a request IAM auth would let through without one. */
  authenticate: (request: ReceivedRequest) => IamIdentity | undefined | Promise<IamIdentity | undefined>;
  port?: number;
  accountId?: string;
  region?: string;
}

export interface FunctionUrlServer {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  close(): Promise<void>;
}

/** The local host's authenticator: the user the request names, as a local identity. */
export function localIdentity(accountId = '000000000000') {
  return (request: ReceivedRequest): IamIdentity | undefined => {
    const name = request.headers[LOCAL_IDENTITY_HEADER]?.trim();
    if (!name) return undefined;
    return {
      accessKey: 'LOCAL',
      accountId,
      callerId: name,
      cognitoIdentity: null,
      principalOrgId: null,
      userArn: name,
      userId: name,
    };
  };
}

export async function serveFunctionUrl(options: FunctionUrlServerOptions): Promise<FunctionUrlServer> {
  const accountId = options.accountId ?? '000000000000';
  const region = options.region ?? 'us-east-1';
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ code: 'FUNCTION_ERROR', message: (err as Error).message })}\n`);
      } else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_REQUEST_BYTES) {
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ Message: 'Request must be smaller than 6291456 bytes' })}\n`);
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    const received: ReceivedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers, body };
    const iam = await options.authenticate(received);
    const result = await options.invoke(
      functionUrlEvent(received, { iam, accountId, region, port: address().port }),
    );
    writeResult(res, result);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = () => server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address().port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The event Lambda sends a function for a Function URL request (payload format 2.0). */
export function functionUrlEvent(
  request: ReceivedRequest,
  context: { iam?: IamIdentity | undefined; accountId: string; region: string; port: number },
): Record<string, unknown> {
  const url = new URL(request.url, 'http://localhost');
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const textual = /^(application\/(json|x-www-form-urlencoded)|text\/)/i.test(
    request.headers['content-type'] ?? '',
  );
  const now = new Date();
  const domain = `local-ops.lambda-url.${context.region}.on.aws`;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers: request.headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: context.accountId,
      apiId: 'local-ops',
      ...(context.iam ? { authorizer: { iam: context.iam } } : {}),
      domainName: domain,
      domainPrefix: 'local-ops',
      http: {
        method: request.method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(request.body.length > 0
      ? textual
        ? { body: request.body.toString('utf8'), isBase64Encoded: false }
        : { body: request.body.toString('base64'), isBase64Encoded: true }
      : { isBase64Encoded: false }),
  };
}

/** Lambda's reading of a Function URL result: a response object, or anything else as a JSON body. */
function writeResult(res: ServerResponse, result: unknown): void {
  const r = result as {
    statusCode?: unknown;
    headers?: Record<string, string>;
    body?: unknown;
    isBase64Encoded?: unknown;
  };
  if (r && typeof r === 'object' && typeof r.statusCode === 'number') {
    const body =
      typeof r.body === 'string' ? (r.isBase64Encoded === true ? Buffer.from(r.body, 'base64') : r.body) : '';
    res.writeHead(r.statusCode, r.headers ?? {});
    res.end(body);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(result ?? null));
}
