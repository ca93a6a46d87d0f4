/**
 * `nbops submit <notebook>`: uploads a model notebook to `notebooks/<model>/<file>` of the running
 * local host's bucket (the model comes from the manifest; a sidecar manifest beside it is uploaded
 * first), naming the uploader (the local user) in the object's `nbops-uploader` metadata. With
 * --wait it follows the version through its stages until it rests. AWS uploads come with the
 * operator tooling; `--local` is the default (and for now the only target).
 */
import { userInfo } from 'node:os';
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
import type { AuditEvent, VersionRecord } from '#core/registry/types';
import { EXIT } from '../exit';

export interface SubmitOptions {
  wait?: boolean;
  local?: boolean;
  dir: string;
  uploader?: string;
  timeout: string;
  json?: boolean;
}

export interface SubmitIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: SubmitIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function registerSubmitCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('submit')
    .description(
      'Upload a model notebook to the local host (notebooks/<model>/<file>): it is validated, versioned, trained, gated and deployed by the same handlers as on AWS.',
    )
    .argument(
      '<notebook>',
      'the model notebook (.ipynb); a sidecar <name>.nbops.yaml beside it is uploaded too',
    )
    .option('--wait', 'follow the version until it rests (DEPLOYED, PENDING_APPROVAL, or a failure)')
    .option('--local', 'submit to the local host started with `nbops dev` (the default)')
    .option('--dir <dir>', "the local host's work folder", '.nbops')
    .option('--uploader <name>', 'who uploads (recorded in the registry; default: your user name)')
    .option('--timeout <seconds>', 'with --wait, give up after this long', '1800')
    .option('--json', 'print the final version record as JSON (with --wait)')
    .addHelpText(
      'after',
      '\nExit status: 0 uploaded (with --wait: DEPLOYED or PENDING_APPROVAL), 1 the version ended REJECTED, TRAINING_FAILED, GATES_FAILED, DEPLOY_FAILED or ROLLED_BACK, 2 usage errors or no local host.',
    )
    .action(async (notebook: string, options: SubmitOptions) => {
      setExit(await runSubmit(notebook, options, processIo));
    });
}

export function localUser(): string {
  try {
    return userInfo().username || 'local-user';
  } catch {
    return process.env.USER ?? 'local-user';
  }
}

export async function runSubmit(
  notebook: string,
  options: SubmitOptions,
  io: SubmitIo = processIo,
): Promise<number> {
  const timeoutSeconds = Number(options.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    io.stderr(
      `nbops: --timeout ${JSON.stringify(options.timeout)} is not a number of seconds; pass e.g. --timeout 600\n`,
    );
    return EXIT.usage;
  }
  let connection: ReturnType<typeof connect>;
  let submission: ReturnType<typeof prepareSubmission>;
  try {
    submission = prepareSubmission(notebook);
    connection = connect(options.dir);
  } catch (err) {
    if (err instanceof SubmissionError || err instanceof NoHostError) {
      io.stderr(`nbops: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  try {
    const uploader = options.uploader ?? localUser();
    const since = new Date();
    const afterVersion = await latestVersion(connection.registry, submission.model);
    const { etag } = await upload(connection.store, connection.info.bucket, submission, uploader);
    io.stdout(
      `uploaded s3://${connection.info.bucket}/${submission.key} (model ${submission.model}, uploader ${uploader})\n`,
    );
    if (!options.wait) {
      io.stdout(`follow it with: npx nbops status ${submission.model}\n`);
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
    const ok = RESTING.ok.includes(record.status);
    if (options.json) io.stdout(`${JSON.stringify(record)}\n`);
    else
      io.stdout(
        ok
          ? `${record.model} v${record.version} is ${record.status}${record.status === 'PENDING_APPROVAL' ? ' (approve it: nbops approve)' : ''}\n`
          : `${record.model} v${record.version} ended ${record.status}: ${record.lastChange?.reason ?? 'no reason recorded'}\n`,
      );
    return ok ? EXIT.ok : EXIT.findings;
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
