/**
 * `nbops retrain <model> [--of <version>]`: train the production version's notebook (or the one
 * named) again as a new version, which then goes through validation, training, gates and approval
 * like any upload.
 */
import type { Command } from 'commander';
import type { RetrainResult } from '#core/ops/views';
import {
  modelPath,
  type OpsIo,
  type OpsOptions,
  processIo,
  runRequest,
  versionArg,
  withTargetOptions,
} from '../ops-client';

export interface RetrainOptions extends OpsOptions {
  of?: string;
  reason?: string;
}

export function registerRetrainCommand(program: Command, setExit: (code: number) => void): void {
  withTargetOptions(
    program
      .command('retrain')
      .description("Train the production version's notebook (or --of's) again as a new version.")
      .argument('<model>', 'the model name')
      .option('--of <version>', 'the version whose notebook to retrain (default: the production version)')
      .option('--reason <text>', 'why (kept with the request)'),
    { json: 'print {"outcome", "model", "retrainOf", "notebookUri", "changed", "next"}' },
  ).action(async (model: string, options: RetrainOptions) => setExit(await runRetrain(model, options)));
}

export async function runRetrain(
  model: string,
  options: RetrainOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runRequest<RetrainResult>(
    options,
    io,
    env,
    () => ({
      method: 'POST',
      path: modelPath(model, 'retrain'),
      body: {
        ...(options.of !== undefined ? { version: versionArg(options.of) } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
      },
    }),
    (r) => `${r.model}: retraining v${r.retrainOf} from ${r.notebookUri}\n${r.next}\n`,
  );
}
