/**
 * `nbops report <model> <version> [--open]`: renders the version's HTML report (validation
 * findings, metrics against gates, drift charts, deployment timeline, lineage), stores it beside
 * the version's artifacts (versions/<model>/v<n>/reports/version.html) and saves a copy here to
 * open: by default <dir>/reports/<model>-v<n>.html for the local host, ./<model>-v<n>.html for AWS.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../exit';
import {
  call,
  modelPath,
  type OpsClient,
  type OpsIo,
  type OpsOptions,
  printJson,
  processIo,
  runOps,
  versionArg,
  withTargetOptions,
} from '../ops-client';

export interface ReportOptions extends OpsOptions {
  open?: boolean;
  out?: string;
}

export function registerReportCommand(program: Command, setExit: (code: number) => void): void {
  withTargetOptions(
    program
      .command('report')
      .description(
        "Render a version's HTML report (findings, gates, drift charts, timeline, lineage), store it beside the version and save a copy to open.",
      )
      .argument('<model>', 'the model name')
      .argument('<version>', 'the version number (3 or v3)')
      .option(
        '--out <file>',
        'where to save the page (default: <dir>/reports/<model>-v<n>.html locally, ./<model>-v<n>.html for AWS)',
      )
      .option('--open', 'open the page in your browser'),
    { json: 'print {"uri": "<where it is stored beside the version>", "file": "<the saved copy>"}' },
  ).action(async (model: string, version: string, options: ReportOptions) =>
    setExit(await runReport(model, version, options)),
  );
}

export async function runReport(
  model: string,
  version: string,
  options: ReportOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runOps(options, io, (client) => saveVersionReport(client, model, version, options, io), env);
}

/**
 * Asks the target to render and store the report (POST .../report), saves the page it answers with
 * and prints both places. Opens a browser only with --open, and a missing one is not a failure.
 */
export async function saveVersionReport(
  client: OpsClient,
  model: string,
  version: string,
  options: Pick<ReportOptions, 'open' | 'out' | 'json'>,
  io: OpsIo,
  open: (file: string) => Promise<boolean> = openInBrowser,
): Promise<number> {
  const n = versionArg(version);
  const { uri, html } = await call<{ uri: string; html: string }>(
    client,
    'POST',
    modelPath(model, 'versions', n, 'report'),
    {},
  );
  const file = resolve(
    options.out ??
      (client.target.kind === 'local'
        ? join(client.target.dir, 'reports', `${model}-v${n}.html`)
        : `${model}-v${n}.html`),
  );
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, html);
  } catch (err) {
    io.stderr(
      `nbops: cannot write ${file}: ${(err as Error).message}; pass --out <file> to save it elsewhere\n`,
    );
    return EXIT.usage;
  }
  if (options.json) printJson(io, { uri, file });
  else io.stdout(`${model} v${n} report: ${file}\nstored beside the version: ${uri}\n`);
  if (options.open && !(await open(file)))
    io.stderr(`nbops: could not start a browser; open ${file} yourself\n`);
  return EXIT.ok;
}

/** Hands the file to the desktop's opener (open, xdg-open, start); false when there is none. */
export function openInBrowser(file: string): Promise<boolean> {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [file]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', file]]
        : ['xdg-open', [file]];
  return new Promise((done) => {
    try {
      const child = spawn(command, args as string[], { detached: true, stdio: 'ignore' });
      child.once('error', () => done(false));
      child.once('spawn', () => {
        child.unref();
        done(true);
      });
    } catch {
      done(false);
    }
  });
}
