/**
 * `nbops submit <notebook>`: uploads a model notebook to `notebooks/<model>/<file>` (the model
 * comes from the manifest; a sidecar manifest beside it is uploaded first), naming the uploader in
 * the object's `nbops-uploader` metadata. With --wait it follows the version through its stages
 * until it rests.
 *
 * Targets (cli/ops-client.ts): the local host (`--local`, the default) uploads to its s3rver and
 * follows the registry directly; AWS (`--endpoint URL` or NBOPS_API_URL) uploads each file with a
 * URL the ops API presigns (stamping your IAM identity as the uploader) and follows the version
 * through the ops API.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  connect,
  FollowError,
  followUpload,
  latestVersion,
  prepareSubmission,
  RESTING,
  SubmissionError,
  upload,
} from '#adapters/local/host/client';
import { NoHostError } from '#adapters/local/host/errors';
import type { VersionDetail, VersionSummary } from '#core/ops/views';
import { unquoteEtag } from '#core/ports';
import type { AuditEvent, VersionRecord } from '#core/registry/types';
import { EXIT, UserError } from '../exit';
import {
  call,
  localIdentityName,
  localUser,
  modelPath,
  OpsCallError,
  type OpsClient,
  resolveTarget,
  type Target,
} from '../ops-client';

export { localUser };

export interface SubmitOptions {
  wait?: boolean;
  local?: boolean;
  /** The ops API URL of an AWS deployment (default NBOPS_API_URL). */
  endpoint?: string;
  profile?: string;
  region?: string;
  dir: string;
  uploader?: string;
  timeout: string;
  json?: boolean;
}

export interface SubmitIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Where --json output goes (stdout; set when progress is moved to stderr). */
  json?: (text: string) => void;
}

const processIo: SubmitIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function registerSubmitCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('submit')
    .description(
      'Upload a model notebook (notebooks/<model>/<file>) to the local host or AWS: it is validated, versioned, trained, gated and deployed.',
    )
    .argument(
      '<notebook>',
      'the model notebook (.ipynb); a sidecar <name>.nbops.yaml beside it is uploaded too',
    )
    .option('--wait', 'follow the version until it rests (DEPLOYED, PENDING_APPROVAL, or a failure)')
    .option('--local', 'submit to the local host started with `nbops dev` (the default)')
    .option(
      '--endpoint <url>',
      'submit to the AWS deployment whose ops API is at this URL (default: NBOPS_API_URL)',
    )
    .option('--profile <name>', 'AWS only: the credentials profile (default: the standard chain)')
    .option('--region <region>', 'AWS only: the Region of the deployment (default: from the URL)')
    .option('--dir <dir>', "the local host's work folder", '.nbops')
    .option(
      '--uploader <name>',
      'local host only: who uploads (recorded in the registry; default: NBOPS_USER, else your login name)',
    )
    .option('--timeout <seconds>', 'with --wait, give up after this long', '1800')
    .option(
      '--json',
      'print JSON on stdout (with --wait the final version record, else the upload); progress goes to stderr',
    )
    .addHelpText(
      'after',
      '\nExit status: 0 uploaded (with --wait: DEPLOYED or PENDING_APPROVAL), 1 the version ended REJECTED, TRAINING_FAILED, GATES_FAILED, DEPLOY_FAILED or ROLLED_BACK, 2 usage, access or connection errors, or no local host.',
    )
    .action(async (notebook: string, options: SubmitOptions) => {
      setExit(await runSubmit(notebook, options, processIo));
    });
}

/** The AWS target when one is chosen (--endpoint, or NBOPS_API_URL without --local). */
function awsTarget(
  options: SubmitOptions,
  env: NodeJS.ProcessEnv,
): Extract<Target, { kind: 'aws' }> | undefined {
  if (options.endpoint === undefined && (options.local || !env.NBOPS_API_URL?.trim())) return undefined;
  const target = resolveTarget({ ...options, json: false }, env);
  return target.kind === 'aws' ? target : undefined;
}

export async function runSubmit(
  notebook: string,
  options: SubmitOptions,
  io: SubmitIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const timeoutSeconds = Number(options.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    io.stderr(
      `nbops: --timeout ${JSON.stringify(options.timeout)} is not a number of seconds; pass e.g. --timeout 600\n`,
    );
    return EXIT.usage;
  }
  let aws: ReturnType<typeof awsTarget>;
  try {
    aws = awsTarget(options, env);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    io.stderr(`nbops: ${err.message}\n`);
    return EXIT.usage;
  }
  // With --json, stdout carries one JSON document for scripts; what a person reads goes to stderr.
  if (options.json) io = { stdout: io.stderr, stderr: io.stderr, json: io.stdout };
  if (aws) return runSubmitAws(notebook, aws.url, options, timeoutSeconds, io);
  let connection: Awaited<ReturnType<typeof connect>>;
  let submission: ReturnType<typeof prepareSubmission>;
  try {
    submission = prepareSubmission(notebook);
    connection = await connect(options.dir);
  } catch (err) {
    if (err instanceof SubmissionError || err instanceof NoHostError) {
      io.stderr(`nbops: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  try {
    // The same local identity the operator commands use (--as there, --uploader here).
    const uploader = localIdentityName(
      { dir: options.dir, ...(options.uploader ? { as: options.uploader } : {}) },
      env,
    );
    const since = new Date();
    const afterVersion = await latestVersion(connection.registry, submission.model);
    const { etag } = await upload(connection.store, connection.info.bucket, submission, uploader);
    io.stdout(
      `uploaded s3://${connection.info.bucket}/${submission.key} (model ${submission.model}, uploader ${uploader})\n`,
    );
    if (!options.wait) {
      io.stdout(`follow it with: npx nbops status ${submission.model}\n`);
      printUpload(io, {
        bucket: connection.info.bucket,
        key: submission.key,
        model: submission.model,
        uploader,
        etag,
      });
      return EXIT.ok;
    }
    const started = since.getTime();
    let record: VersionRecord;
    try {
      record = await followUpload(
        connection.registry,
        { model: submission.model, key: submission.key, etag, since, afterVersion },
        {
          timeoutMs: timeoutSeconds * 1000,
          hostDir: resolve(options.dir),
          onRegistered: (r) => io.stdout(`version ${r.version} of ${r.model}\n`),
          onAudit: (event) => io.stdout(`${auditLine(event, started)}\n`),
        },
      );
    } catch (err) {
      if (err instanceof FollowError) {
        io.stderr(`nbops: ${err.message}\n`);
        return EXIT.findings;
      }
      throw err;
    }
    return finish(record, options, io);
  } finally {
    await connection.close();
  }
}

/** `  +3.2s  TRAINING          starting training job ...` */
export function auditLine(event: AuditEvent, started: number): string {
  // Event times have whole seconds (S3's event time): never show a stage before the upload.
  const elapsed = `+${(Math.max(0, Date.parse(event.at) - started) / 1000).toFixed(1)}s`.padStart(8);
  const what =
    event.kind === 'alias'
      ? `${event.alias} -> v${event.version}`
      : event.kind === 'registered'
        ? 'RECEIVED'
        : event.to;
  return `${elapsed}  ${what.padEnd(17)} ${event.reason.split('\n')[0]}`;
}

// --- AWS -----------------------------------------------------------------------------------------

/** Whether a version is done moving, from what the ops API shows (as isResting for records). */
function rests(d: Pick<VersionDetail, 'status' | 'lastChange'>): boolean {
  if (RESTING.failed.includes(d.status) || d.status === 'DEPLOYED') return true;
  if (d.status === 'PENDING_APPROVAL')
    return !(d.lastChange?.reason ?? '').startsWith('approved automatically next');
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * AWS: each file is uploaded with a URL the ops API presigns (POST /models/<model>/uploads), which
 * stamps the identity IAM verified for you as the uploader; then the version is followed through
 * the ops API. Your credentials only sign ops API requests: no S3 permissions needed.
 */
async function runSubmitAws(
  notebook: string,
  url: URL,
  options: SubmitOptions,
  timeoutSeconds: number,
  io: SubmitIo,
): Promise<number> {
  if (options.uploader) {
    io.stderr('nbops: --uploader is for the local host; on AWS the uploader is who your credentials say\n');
    return EXIT.usage;
  }
  let submission: ReturnType<typeof prepareSubmission>;
  try {
    submission = prepareSubmission(notebook);
  } catch (err) {
    if (!(err instanceof SubmissionError)) throw err;
    io.stderr(`nbops: ${err.message}\n`);
    return EXIT.usage;
  }
  const { AwsOpsClient } = await import('../ops-targets');
  const client = new AwsOpsClient(url, {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
  });
  try {
    const latest = async (): Promise<VersionSummary[]> => {
      try {
        return (
          await call<{ versions: VersionSummary[] }>(client, 'GET', modelPath(submission.model, 'versions'))
        ).versions;
      } catch (err) {
        if (err instanceof OpsCallError && err.code === 'UNKNOWN_MODEL') return [];
        throw err;
      }
    };
    const afterVersion = (await latest())[0]?.version ?? 0;
    // The sidecar first: the notebook's upload event reads it.
    if (submission.sidecar) await uploadThroughApi(client, submission.model, submission.sidecar);
    const put = await uploadThroughApi(client, submission.model, submission);
    io.stdout(`uploaded ${put.uri} (model ${submission.model}, uploader ${put.uploader})\n`);
    if (!options.wait) {
      io.stdout(`follow it with: npx nbops versions ${submission.model}\n`);
      printUpload(io, {
        bucket: put.bucket,
        key: put.key,
        model: submission.model,
        uploader: put.uploader,
        etag: put.etag,
      });
      return EXIT.ok;
    }
    const started = Date.now();
    const deadline = started + timeoutSeconds * 1000;
    let found: VersionSummary | undefined;
    while (!found) {
      found = (await latest()).find(
        (v) =>
          v.version > afterVersion &&
          v.notebook?.key === put.key &&
          (!put.etag || unquoteEtag(v.notebook.etag) === put.etag),
      );
      if (found) break;
      if (Date.now() > deadline) {
        io.stderr(
          `nbops: no version of ${submission.model} was registered for ${put.key} within ${timeoutSeconds} s; the submit function's log group says why (an upload outside notebooks/<model>/ or not a notebook is ignored)\n`,
        );
        return EXIT.findings;
      }
      await sleep(2000);
    }
    io.stdout(`version ${found.version} of ${found.model}\n`);
    let seen = 0;
    for (;;) {
      const detail = await call<VersionDetail>(
        client,
        'GET',
        modelPath(found.model, 'versions', found.version),
      );
      for (; seen < detail.audit.length; seen++) io.stdout(`${auditLine(detail.audit[seen]!, started)}\n`);
      if (rests(detail)) return finish(detail, options, io);
      if (Date.now() > deadline) {
        io.stderr(
          `nbops: version ${detail.version} of ${detail.model} is still ${detail.status} after ${timeoutSeconds} s\n`,
        );
        return EXIT.findings;
      }
      await sleep(2000);
    }
  } catch (err) {
    if (err instanceof OpsCallError || err instanceof UserError) {
      io.stderr(`nbops: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`nbops: ${(err as Error).message}\n`);
    return EXIT.usage;
  } finally {
    await client.close();
  }
}

/** What the ops API grants for one upload (layers/core/ops/uploads.ts). */
interface UploadGrant {
  bucket: string;
  key: string;
  uri: string;
  url: string;
  headers: Record<string, string>;
  uploader: string;
}

/** Asks the ops API for an upload URL for `file.key`'s file name and PUTs the bytes to it. */
async function uploadThroughApi(
  client: OpsClient,
  model: string,
  file: { key: string; bytes: Uint8Array },
): Promise<{ bucket: string; key: string; uri: string; uploader: string; etag: string }> {
  const name = file.key.slice(file.key.lastIndexOf('/') + 1);
  const grant = await call<UploadGrant>(client, 'POST', modelPath(model, 'uploads'), { file: name });
  let response: Response;
  try {
    response = await fetch(grant.url, { method: 'PUT', headers: grant.headers, body: file.bytes });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new UserError(
      `cannot reach S3 to upload ${grant.uri} (${cause?.code ?? cause?.message ?? (err as Error).message}): check your network and run the command again`,
    );
  }
  if (!response.ok) throw new UserError(uploadFailure(response.status, await response.text(), grant.uri));
  return {
    bucket: grant.bucket,
    key: grant.key,
    uri: grant.uri,
    uploader: grant.uploader,
    etag: unquoteEtag(response.headers.get('etag') ?? undefined),
  };
}

/** Why S3 refused an upload by URL (its XML error), and what to do about it. */
function uploadFailure(status: number, body: string, uri: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? `HTTP ${status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  const said = message ? `${code}: ${message}` : code;
  if (code === 'AccessDenied' && /expired/i.test(message ?? ''))
    return `S3 refused the upload to ${uri} (${said}): the upload URL expired; run the command again`;
  if (code === 'AccessDenied' || code === 'SignatureDoesNotMatch')
    return `S3 refused the upload to ${uri} (${said}): the ops API's upload URL was not accepted; check that the deployment's ops-api function may write notebooks/* (docs/operations.md) and run the command again`;
  if (code === 'NoSuchBucket')
    return `the bucket of ${uri} does not exist (${said}): check that the URL is the stack output OpsApiUrl of this deployment`;
  return `the upload to ${uri} failed (${said}); run the command again`;
}

/** --json without --wait: what was uploaded, for a script to follow. */
function printUpload(
  io: SubmitIo,
  upload: { bucket: string; key: string; model: string; uploader: string; etag: string },
): void {
  if (io.json) io.json(`${JSON.stringify({ ...upload, etag: unquoteEtag(upload.etag) })}\n`);
}

function finish(
  d: Pick<VersionDetail, 'model' | 'version' | 'status' | 'lastChange'>,
  options: SubmitOptions,
  io: SubmitIo,
): number {
  const ok = RESTING.ok.includes(d.status);
  if (options.json) (io.json ?? io.stdout)(`${JSON.stringify(d)}\n`);
  else
    io.stdout(
      ok
        ? `${d.model} v${d.version} is ${d.status}${d.status === 'PENDING_APPROVAL' ? ` (approve it: nbops approve ${d.model} ${d.version} --reason "...")` : ''}\n`
        : `${d.model} v${d.version} ended ${d.status}: ${d.lastChange?.reason ?? 'no reason recorded'}\n`,
    );
  return ok ? EXIT.ok : EXIT.findings;
}
