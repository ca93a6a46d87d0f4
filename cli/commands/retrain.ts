/**
 * `nbops retrain <model> [--of <version>]`: train the production version's notebook (or the one
 * named) again as a new version, which then goes through validation, training, gates and approval
 * like any upload.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { RetrainResult } from '#core/ops/views';
import { EXIT } from '../exit';
import {
  call,
  modelPath,
  type OpsIo,
  type OpsOptions,
  printJson,
  processIo,
  runOps,
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
  return runOps(
    options,
    io,
    async (client) => {
      const body = {
        ...(options.of !== undefined ? { version: versionArg(options.of) } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
      };
      const result = await call<RetrainResult>(
        client,
        'POST',
        modelPath(model, 'retrain'),
        body,
        randomUUID(),
      );
      if (options.json) printJson(io, result);
      else
        io.stdout(
          `${result.model}: retraining v${result.retrainOf} from ${result.notebookUri}\n${result.next}\n`,
        );
      return EXIT.ok;
    },
    env,
  );
}
