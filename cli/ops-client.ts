/**
 * How the operator commands reach nbops: the ops API on AWS or the local host, the same requests
 * (docs/operations.md) either way.
 *
 * Target (the first rule that applies):
 *   1. `--endpoint URL`            the ops API at URL (AWS)   (`--local` with it is a usage error)
 *   2. `--local`                   the local host of `--dir` (default .nbops)
 *   3. NBOPS_API_URL is set        the ops API at that URL (AWS)
 *   4. `<dir>` holds local state   the local host (host.json present: it runs; otherwise its saved state)
 *   otherwise a usage error saying how to choose.
 *
 * AWS: HTTPS requests SigV4-signed for service `lambda` (Function URLs with IAM auth), credentials
 * from the SDK's standard chain (environment, AWS_PROFILE / --profile, SSO, instance roles...), the
 * Region from the URL (`<id>.lambda-url.<region>.on.aws`) or --region.
 * Local: HTTP to the ops API the running host serves (its URL is in host.json), naming the local
 * user (--as, NBOPS_USER, else the login name). With no host running, reads are answered in this
 * process by the same handler over the folder's saved state; actions need the host.
 *
 * Every call carries an `x-nbops-request-id`; a call that fails on the way (connection reset, 503)
 * is retried with the same id, which the API treats as the same request.
 *
 * The clients themselves live in ops-targets.ts, loaded only when a command calls nbops.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { looksLikeHostDir } from '#adapters/local/host/state';
import { EXIT, UserError } from './exit';

export const REQUEST_ID_HEADER = 'x-nbops-request-id';

export interface OpsOptions {
  local?: boolean;
  endpoint?: string;
  dir: string;
  /** Local host only: who you are (there is no IAM locally). */
  as?: string;
  profile?: string;
  region?: string;
  json?: boolean;
}

export interface OpsIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: OpsIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export type Target = { kind: 'aws'; url: URL } | { kind: 'local'; dir: string };

export function resolveTarget(options: OpsOptions, env: NodeJS.ProcessEnv = process.env): Target {
  const aws = (text: string, from: string): Target => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UserError(
        `${from} "${text}" is not a URL: give the ops API's URL (the stack output OpsApiUrl)`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new UserError(`${from} "${text}" must be an https:// URL (the stack output OpsApiUrl)`);
    return { kind: 'aws', url };
  };
  if (options.endpoint !== undefined) {
    if (options.local)
      throw new UserError(
        '--local and --endpoint name two targets: use one (--local: the local host; --endpoint: AWS)',
      );
    return aws(options.endpoint, '--endpoint');
  }
  if (options.local) return { kind: 'local', dir: options.dir };
  const fromEnv = env.NBOPS_API_URL?.trim();
  if (fromEnv) return aws(fromEnv, 'NBOPS_API_URL');
  if (existsSync(join(options.dir, 'host.json')) || looksLikeHostDir(options.dir))
    return { kind: 'local', dir: options.dir };
  throw new UserError(
    `no nbops to talk to: set NBOPS_API_URL (or pass --endpoint) to the ops API URL of your AWS deployment, or start a local host with \`npx nbops dev\` (its state in ${options.dir} makes it the default; --dir names another folder), or run the whole lifecycle once with \`npx nbops demo\`.`,
  );
}

// --- responses -----------------------------------------------------------------------------------

export interface OpsResponse {
  status: number;
  contentType: string;
  text: string;
  /** The parsed body for JSON responses. */
  json?: unknown;
  requestId: string;
}

/** A non-2xx answer, with the API's code when it gave one. */
export class OpsCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly requestId: string,
  ) {
    super(message);
    this.name = 'OpsCallError';
  }

  /** 1: nbops refused (the state does not allow it, unknown model...); 2: usage, access, or a failure. */
  get exitCode(): number {
    if (this.status >= 500 || this.code === undefined) return EXIT.usage;
    if (
      ['INVALID_REQUEST', 'NO_IDENTITY', 'UNKNOWN_ROUTE', 'METHOD_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE'].includes(
        this.code,
      )
    )
      return EXIT.usage;
    return EXIT.findings;
  }
}

export interface OpsClient {
  readonly target: Target;
  /** "the ops API at https://...", "the local host in .nbops". */
  readonly description: string;
  /** Local host only: whether actions (POSTs) can be served. */
  readonly canAct: boolean;
  request(method: 'GET' | 'POST', path: string, body?: object, requestId?: string): Promise<OpsResponse>;
  close(): Promise<void>;
}

/** Throws OpsCallError unless 2xx; returns the JSON body. */
export async function call<T>(
  client: OpsClient,
  method: 'GET' | 'POST',
  path: string,
  body?: object,
  requestId?: string,
): Promise<T> {
  if (method === 'POST' && !client.canAct && !path.endsWith('/report'))
    throw new UserError(
      `no local host is running in ${client.target.kind === 'local' ? client.target.dir : 'this folder'} to act on (reads work from its saved state, actions need the host): start it with \`npx nbops dev${client.target.kind === 'local' && client.target.dir !== '.nbops' ? ` --dir ${client.target.dir}` : ''}\` and run the command again`,
    );
  const response = await client.request(method, path, body, requestId);
  if (response.status >= 200 && response.status < 300) return (response.json ?? response.text) as T;
  throw toCallError(response, client);
}

function toCallError(response: OpsResponse, client: OpsClient): OpsCallError {
  const body = response.json as { code?: unknown; message?: unknown; Message?: unknown } | undefined;
  if (typeof body?.code === 'string' && typeof body.message === 'string')
    return new OpsCallError(response.status, body.code, body.message, response.requestId);
  const said = typeof body?.Message === 'string' ? body.Message : response.text.trim().slice(0, 300);
  const hint =
    response.status === 403
      ? `: AWS refused the signed request. Check that your credentials (AWS_PROFILE, --profile) are for the account of the deployment and allow lambda:InvokeFunctionUrl on the ops API function, and that the URL is the stack output OpsApiUrl`
      : response.status === 404
        ? ': no ops API at this URL; use the stack output OpsApiUrl'
        : '';
  return new OpsCallError(
    response.status,
    undefined,
    `${client.description} answered ${response.status}${said ? ` (${said})` : ''}${hint}`,
    response.requestId,
  );
}

async function readResponse(res: Response, requestId: string): Promise<OpsResponse> {
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let json: unknown;
  if (contentType.includes('json') && text.trim())
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON after all: kept as text
    }
  return { status: res.status, contentType, text, ...(json !== undefined ? { json } : {}), requestId };
}

/** Sends with retries on connection failures and 502/503/504, keeping the request id. */
export async function sendWithRetries(
  send: () => Promise<Response>,
  requestId: string,
  where: string,
): Promise<OpsResponse> {
  const delays = [300, 1000, 2500];
  for (let attempt = 0; ; attempt++) {
    let response: OpsResponse | undefined;
    let failure: unknown;
    try {
      response = await readResponse(await send(), requestId);
    } catch (err) {
      failure = err;
    }
    const retryable = failure !== undefined || (response && [502, 503, 504].includes(response.status));
    if (!retryable || attempt >= delays.length) {
      if (response) return response;
      throw new UserError(`cannot reach ${where}: ${connectionProblem(failure)}`);
    }
    await new Promise((r) => setTimeout(r, delays[attempt]));
  }
}

function connectionProblem(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}

/** The login name (the local host's stand-in for an IAM identity). */
export function localUser(): string {
  try {
    return userInfo().username || 'local-user';
  } catch {
    return process.env.USER ?? 'local-user';
  }
}

/** Who the local user is: --as, NBOPS_USER, else the login name. */
export function localIdentityName(options: OpsOptions, env: NodeJS.ProcessEnv = process.env): string {
  return options.as?.trim() || env.NBOPS_USER?.trim() || localUser();
}

/** An action that needs a running local host, asked of a folder's saved state. */
export class HostNeededError extends Error {
  constructor(what: string) {
    super(`${what} needs a running local host: start one with \`npx nbops dev\``);
  }
}

// --- commands ------------------------------------------------------------------------------------

/** The options every operator command takes. */
export function withTargetOptions(command: Command, options: { json?: string } = {}): Command {
  return command
    .option(
      '--local',
      'talk to the local host (default when --dir holds one and no --endpoint/NBOPS_API_URL)',
    )
    .option('--endpoint <url>', 'the ops API URL of an AWS deployment (default: NBOPS_API_URL)')
    .option('--dir <dir>', "the local host's work folder", '.nbops')
    .option('--as <name>', 'local host only: act as this user (default: NBOPS_USER, else your login name)')
    .option('--profile <name>', 'AWS only: the credentials profile (default: the standard chain)')
    .option('--region <region>', 'AWS only: the Region of the deployment (default: from the URL)')
    .option('--json', options.json ?? 'print the API response as JSON (for scripts)')
    .addHelpText(
      'after',
      '\nExit status: 0 done, 1 nbops refused (the model or version does not allow it; the message says why), 2 usage, access or connection errors.',
    );
}

/**
 * Opens the target, runs `run`, closes; turns refusals and errors into messages and exit codes.
 * With --json a refusal is also printed as {"error": {status, code, message, requestId}} on stdout.
 */
export async function runOps(
  options: OpsOptions,
  io: OpsIo,
  run: (client: OpsClient) => Promise<number>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let client: OpsClient | undefined;
  try {
    const { openOpsClient } = await import('./ops-targets');
    client = await openOpsClient(options, env);
    return await run(client);
  } catch (err) {
    if (err instanceof OpsCallError) {
      if (options.json)
        io.stdout(
          `${JSON.stringify({ error: { status: err.status, code: err.code ?? null, message: err.message, requestId: err.requestId } })}\n`,
        );
      io.stderr(`nbops: ${err.message}${err.code ? ` [${err.code}]` : ''}\n`);
      return err.exitCode;
    }
    if (err instanceof UserError) {
      io.stderr(`nbops: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof HostNeededError) {
      io.stderr(`nbops: ${err.message}\n`);
      return EXIT.usage;
    }
    io.stderr(`nbops: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.usage;
  } finally {
    await client?.close().catch(() => {});
  }
}

/** One ops API request. Built inside runOps, so a bad argument (e.g. version "x") is a usage error. */
export interface OpsRequestSpec {
  method: 'GET' | 'POST';
  path: string;
  body?: object;
}

/**
 * The usual command: one request, its answer printed as JSON with --json, else as `describe`
 * says. The client gives the request one id and keeps it across retries.
 */
export function runRequest<T>(
  options: OpsOptions,
  io: OpsIo,
  env: NodeJS.ProcessEnv,
  request: () => OpsRequestSpec,
  describe: (result: T) => string,
): Promise<number> {
  return runOps(
    options,
    io,
    async (client) => {
      const { method, path, body } = request();
      const result = await call<T>(client, method, path, body);
      if (options.json) printJson(io, result);
      else io.stdout(describe(result));
      return EXIT.ok;
    },
    env,
  );
}

export function printJson(io: OpsIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** A plain-text table: columns padded to their widest cell, the last one left free. */
export function textTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** `2025-03-01 09:00:05Z` */
export function shortTime(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

export function metricsText(metrics: Record<string, number> | undefined): string {
  return Object.entries(metrics ?? {})
    .map(([k, n]) => `${k}=${Number(n.toPrecision(4))}`)
    .join(' ');
}

/** The first line of a reason, shortened for a table cell. */
export function firstLine(text: string | undefined, max = 100): string {
  const line = (text ?? '').split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `/models/<m>/...` with the model name escaped. */
export function modelPath(model: string, ...rest: (string | number)[]): string {
  return ['', 'models', encodeURIComponent(model), ...rest.map((r) => encodeURIComponent(String(r)))].join(
    '/',
  );
}

/** A version argument: `3` or `v3`. */
export function versionArg(text: string): number {
  const match = /^v?([1-9]\d{0,5})$/i.exec(text.trim());
  if (!match)
    throw new UserError(
      `"${text}" is not a version number: give e.g. 3 or v3 (see \`nbops versions <model>\`)`,
    );
  return Number(match[1]);
}
