/**
 * `nbops rollback <model> [--to <version>]`: put the last good version (or the one named) back in
 * production. The production version becomes ROLLED_BACK and the target is redeployed all at once,
 * through the same path as the alarm policy's automatic rollback.
 */
import type { Command } from 'commander';
import type { RollbackResult } from '#core/ops/views';
import {
  modelPath,
  type OpsIo,
  type OpsOptions,
  processIo,
  runRequest,
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
  return runRequest<RollbackResult>(
    options,
    io,
    env,
    () => ({
      method: 'POST',
      path: modelPath(model, 'rollback'),
      body: {
        ...(options.to !== undefined ? { version: versionArg(options.to) } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
      },
    }),
    (r) => `${r.model}: rolling back from v${r.from} to v${r.to}\n${r.next}\n`,
  );
}
