/**
 * The ops API over HTTP: a Lambda Function URL event (payload format 2.0, IAM auth) in, a Function
 * URL response out. Every route calls one operation of layers/core/ops (or the version report);
 * this module only reads the request, checks its shape and turns outcomes and refusals into
 * responses. docs/operations.md lists the routes.
 *
 * - The caller is `requestContext.authorizer.iam.userArn` (Lambda verified the SigV4 signature
 *   before invoking); a request without it is refused with 403 NO_IDENTITY.
 * - Refusals are 4xx with `{code, message, requestId}`; `code` is machine-readable.
 * - POSTs are idempotent per request id: the `x-nbops-request-id` header, or one derived from the
 *   caller, the method, the path, the body and the 10-minute window the request arrives in.
 */
import { createHash } from 'node:crypto';
import type { LambdaFunctionURLResult } from 'aws-lambda';
import { decide, retire, retrain, rollback } from '#core/ops/actions';
import { OpsError } from '#core/ops/errors';
import {
  checkModelName,
  driftHistory,
  listIncidents,
  listModels,
  listVersions,
  parseStatus,
  parseVersionNumber,
  showVersion,
  trainingLogs,
} from '#core/ops/queries';
import { grantUpload } from '#core/ops/uploads';
import type { Caller } from '#core/ops/views';
import type { Services } from '#core/ports';
import { collectVersionReport, renderVersionReport, writeVersionReport } from '#core/report/version-report';
import { NOTEBOOK_PREFIX } from '#core/wiring';

export const REQUEST_ID_HEADER = 'x-nbops-request-id';
/** Function URLs accept up to 6 MB; no ops request needs more than a few hundred bytes. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Requests without a request id that repeat within this window are retries of one another. */
export const DERIVED_ID_WINDOW_MS = 10 * 60 * 1000;

export interface OpsRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** The parsed JSON body (an object), or undefined when there is none. */
  body: Record<string, unknown> | undefined;
  /** The IAM principal that signed the request. */
  identity?: string;
  requestId: string;
}

export interface Reply {
  status: number;
  json?: unknown;
  html?: string;
}

interface UrlEvent {
  version?: unknown;
  rawPath?: unknown;
  rawQueryString?: unknown;
  headers?: Record<string, string | undefined>;
  body?: unknown;
  isBase64Encoded?: unknown;
  requestContext?: {
    http?: { method?: unknown; path?: unknown };
    authorizer?: { iam?: { userArn?: unknown; callerArn?: unknown } };
    timeEpoch?: unknown;
  };
}

/** Whether an event is a Function URL (HTTP API 2.0) request. */
export function isFunctionUrlEvent(event: unknown): boolean {
  const e = event as UrlEvent | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.version === '2.0' &&
    typeof e.rawPath === 'string' &&
    typeof e.requestContext?.http?.method === 'string'
  );
}

/** The caller's identity Lambda put in the event after checking the signature. */
export function callerIdentity(event: unknown): string | undefined {
  const iam = (event as UrlEvent).requestContext?.authorizer?.iam;
  const arn =
    typeof iam?.userArn === 'string' ? iam.userArn : typeof iam?.callerArn === 'string' ? iam.callerArn : '';
  return arn.trim() || undefined;
}

export function parseRequest(event: unknown, now: Date): OpsRequest {
  const e = event as UrlEvent;
  const method = String(e.requestContext!.http!.method).toUpperCase();
  const path = normalisePath(String(e.rawPath));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(e.headers ?? {}))
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
  const query = new URLSearchParams(typeof e.rawQueryString === 'string' ? e.rawQueryString : '');
  const identity = callerIdentity(event);
  let text = typeof e.body === 'string' ? e.body : '';
  if (text && e.isBase64Encoded === true) text = Buffer.from(text, 'base64').toString('utf8');
  if (Buffer.byteLength(text) > MAX_BODY_BYTES)
    throw new OpsError('PAYLOAD_TOO_LARGE', `the request body is larger than ${MAX_BODY_BYTES} bytes`);
  let body: Record<string, unknown> | undefined;
  if (text.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new OpsError(
        'INVALID_REQUEST',
        'the request body is not JSON: send an object such as {"reason": "..."}',
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new OpsError('INVALID_REQUEST', 'the request body must be a JSON object, e.g. {"reason": "..."}');
    body = parsed as Record<string, unknown>;
  }
  const given = headers[REQUEST_ID_HEADER]?.trim();
  if (given !== undefined && !/^[A-Za-z0-9._:-]{1,128}$/.test(given))
    throw new OpsError(
      'INVALID_REQUEST',
      `${REQUEST_ID_HEADER} must be 1 to 128 letters, digits, ".", "_", ":" or "-" (a UUID is ideal)`,
    );
  const requestId =
    given ||
    `derived-${createHash('sha256')
      .update(
        [
          identity ?? '',
          method,
          path,
          canonicalJson(body ?? {}),
          Math.floor(now.getTime() / DERIVED_ID_WINDOW_MS),
        ].join('\n'),
      )
      .digest('hex')
      .slice(0, 32)}`;
  return { method, path, query, headers, body, ...(identity ? { identity } : {}), requestId };
}

function normalisePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

// --- body and query fields ---------------------------------------------------------------------

function fields(req: OpsRequest, allowed: readonly string[]): Record<string, unknown> {
  const body = req.body ?? {};
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw new OpsError(
      'INVALID_REQUEST',
      `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `"${k}"`).join(', ')} in the body; ${allowed.length > 0 ? `this request takes ${allowed.map((k) => `"${k}"`).join(', ')}` : 'this request takes none'}`,
    );
  return body;
}

function optionalText(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new OpsError('INVALID_REQUEST', `"${name}" must be a string`);
  if (value.length > 2000) throw new OpsError('INVALID_REQUEST', `"${name}" is longer than 2000 characters`);
  return value;
}

function optionalVersion(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' && typeof value !== 'string')
    throw new OpsError('INVALID_REQUEST', `"${name}" must be a version number, e.g. 3`);
  return parseVersionNumber(value);
}

function flag(query: URLSearchParams, name: string): boolean | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (/^(|1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new OpsError('INVALID_REQUEST', `query parameter ${name}=${value} must be true or false`);
}

function positiveInt(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!/^[1-9]\d{0,5}$/.test(value))
    throw new OpsError('INVALID_REQUEST', `query parameter ${name}=${value} must be a positive whole number`);
  return Number(value);
}

// --- routes ------------------------------------------------------------------------------------

type Params = Record<string, string>;

interface Route {
  method: 'GET' | 'POST';
  /** `:name` segments are parameters. */
  path: string;
  run(services: Services, req: OpsRequest, params: Params, caller: Caller): Promise<Reply>;
}

const ok = (json: unknown): Reply => ({ status: 200, json });
const model = (p: Params) => checkModelName(p.model!);
const version = (p: Params) => parseVersionNumber(p.version!);

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/info',
    run: async (services, _req, _p, caller) =>
      ok({
        service: 'nbops',
        api: 1,
        bucket: services.config.bucket,
        notebookPrefix: NOTEBOOK_PREFIX,
        ...(services.config.policy.aws?.region ? { region: services.config.policy.aws.region } : {}),
        caller: caller.identity,
      }),
  },
  { method: 'GET', path: '/models', run: async (services) => ok({ models: await listModels(services) }) },
  {
    method: 'GET',
    path: '/models/:model/versions',
    run: async (services, req, p) => {
      const status = req.query.get('status');
      return ok(await listVersions(services, model(p), status ? { status: parseStatus(status) } : {}));
    },
  },
  {
    method: 'GET',
    path: '/models/:model/versions/:version',
    run: async (services, _req, p) => ok(await showVersion(services, model(p), version(p))),
  },
  ...(['approve', 'decline'] as const).map(
    (decision): Route => ({
      method: 'POST',
      path: `/models/:model/versions/:version/${decision}`,
      run: async (services, req, p, caller) => {
        const body = fields(req, ['reason']);
        const reason = optionalText(body, 'reason');
        return ok(
          await decide(services, caller, {
            model: model(p),
            version: version(p),
            decision,
            ...(reason !== undefined ? { reason } : {}),
          }),
        );
      },
    }),
  ),
  {
    method: 'POST',
    path: '/models/:model/uploads',
    run: async (services, req, p, caller) => {
      const body = fields(req, ['file']);
      return ok(await grantUpload(services, caller, { model: p.model!, file: body.file }));
    },
  },
  {
    method: 'POST',
    path: '/models/:model/rollback',
    run: async (services, req, p, caller) => {
      const body = fields(req, ['version', 'reason']);
      const to = optionalVersion(body, 'version');
      const reason = optionalText(body, 'reason');
      return ok(
        await rollback(services, caller, {
          model: model(p),
          ...(to !== undefined ? { version: to } : {}),
          ...(reason !== undefined ? { reason } : {}),
        }),
      );
    },
  },
  {
    method: 'POST',
    path: '/models/:model/retrain',
    run: async (services, req, p, caller) => {
      const body = fields(req, ['version', 'reason']);
      const of = optionalVersion(body, 'version');
      const reason = optionalText(body, 'reason');
      return ok(
        await retrain(services, caller, {
          model: model(p),
          ...(of !== undefined ? { version: of } : {}),
          ...(reason !== undefined ? { reason } : {}),
        }),
      );
    },
  },
  {
    method: 'POST',
    path: '/models/:model/retire',
    run: async (services, req, p, caller) => {
      const reason = optionalText(fields(req, ['reason']), 'reason');
      return ok(
        await retire(services, caller, { model: model(p), ...(reason !== undefined ? { reason } : {}) }),
      );
    },
  },
  {
    method: 'GET',
    path: '/models/:model/drift',
    run: async (services, req, p) => {
      const since = req.query.get('since') ?? undefined;
      const limit = positiveInt(req.query, 'limit');
      return ok(
        await driftHistory(services, model(p), {
          ...(since !== undefined ? { since } : {}),
          ...(limit !== undefined ? { limit } : {}),
        }),
      );
    },
  },
  {
    method: 'GET',
    path: '/incidents',
    run: async (services, req) => {
      const name = req.query.get('model');
      const open = flag(req.query, 'open');
      return ok(
        await listIncidents(services, {
          ...(name ? { model: checkModelName(name) } : {}),
          ...(open !== undefined ? { open } : {}),
        }),
      );
    },
  },
  {
    method: 'GET',
    path: '/models/:model/versions/:version/logs',
    run: async (services, _req, p) => ok(await trainingLogs(services, model(p), version(p))),
  },
  {
    method: 'GET',
    path: '/models/:model/versions/:version/report',
    run: async (services, _req, p) => ({
      status: 200,
      html: renderVersionReport(await collectVersionReport(services, model(p), version(p))),
    }),
  },
  {
    method: 'POST',
    path: '/models/:model/versions/:version/report',
    run: async (services, req, p) => {
      fields(req, []);
      return ok(await writeVersionReport(services, model(p), version(p)));
    },
  },
];

function match(pattern: string, path: string): Params | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Params = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    let g: string;
    try {
      g = decodeURIComponent(got[i]!);
    } catch {
      return undefined;
    }
    if (w.startsWith(':')) {
      if (!g) return undefined;
      params[w.slice(1)] = g;
    } else if (w !== g) return undefined;
  }
  return params;
}

/** Routes the request to its operation. Throws OpsError for refusals; other errors are failures. */
export async function route(services: Services, req: OpsRequest): Promise<Reply> {
  if (!req.identity)
    throw new OpsError(
      'NO_IDENTITY',
      'the request carries no IAM identity: call the ops API URL with SigV4-signed requests (service "lambda"), e.g. with the nbops CLI',
    );
  const path = req.path === '/' ? '/info' : req.path;
  const candidates = ROUTES.map((r) => ({ r, params: match(r.path, path) })).filter((c) => c.params);
  if (candidates.length === 0)
    throw new OpsError(
      'UNKNOWN_ROUTE',
      `no ops API route ${req.method} ${req.path}; the routes are listed in docs/operations.md (e.g. GET /models)`,
    );
  const chosen = candidates.find((c) => c.r.method === req.method);
  if (!chosen)
    throw new OpsError(
      'METHOD_NOT_ALLOWED',
      `${req.path} takes ${[...new Set(candidates.map((c) => c.r.method))].join(' or ')}, not ${req.method}`,
    );
  return chosen.r.run(services, req, chosen.params!, { identity: req.identity, requestId: req.requestId });
}

export function toResult(reply: Reply, requestId: string): LambdaFunctionURLResult {
  const headers = {
    [REQUEST_ID_HEADER]: requestId,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
  if (reply.html !== undefined)
    return {
      statusCode: reply.status,
      headers: { ...headers, 'content-type': 'text/html; charset=utf-8' },
      body: reply.html,
    };
  return {
    statusCode: reply.status,
    headers: { ...headers, 'content-type': 'application/json' },
    body: `${JSON.stringify(reply.json ?? {})}\n`,
  };
}

export function errorReply(status: number, code: string, message: string, requestId: string): Reply {
  return { status, json: { code, message, requestId } };
}
