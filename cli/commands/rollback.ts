/**
 * `nbops rollback <model> [--to <version>]`: put the last good version (or the one named) back in
 * production. The production version becomes ROLLED_BACK and the target is redeployed all at once,
 * through the same path as the alarm policy's automatic rollback.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { RollbackResult } from '#core/ops/views';
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

export interface RollbackOptions extends OpsOptions {
  to?: string;
  reason?: string;
}

export function registerRollbackCommand(program: Command, setExit: (code: number) => void): void {
  withTargetOptions(
    program
      .command('rollback')
      .description(
        'Roll production back to the last good version (the newest other DEPLOYED one) or the one named with --to.',
      )
      .argument('<model>', 'the model name')
      .option('--to <version>', 'the version to restore (it must still be DEPLOYED)')
      .option('--reason <text>', 'why (kept in the audit trail)'),
    { json: 'print {"outcome", "model", "from", "to", "changed", "next"}' },
  ).action(async (model: string, options: RollbackOptions) => setExit(await runRollback(model, options)));
}

export async function runRollback(
  model: string,
  options: RollbackOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runOps(
    options,
    io,
    async (client) => {
      const body = {
        ...(options.to !== undefined ? { version: versionArg(options.to) } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
      };
      const result = await call<RollbackResult>(
        client,
        'POST',
        modelPath(model, 'rollback'),
        body,
        randomUUID(),
      );
      if (options.json) printJson(io, result);
      else io.stdout(`${result.model}: rolling back from v${result.from} to v${result.to}\n${result.next}\n`);
      return EXIT.ok;
    },
    env,
  );
}
