/**
 * `nbops retire <model> --yes`: stop serving a model for good. Its endpoint, alarms and drift
 * schedule are deleted and its versions become RETIRED; its history (versions, audit trail, drift,
 * incidents, reports) is kept.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { RetireResult } from '#core/ops/views';
import { EXIT } from '../exit';
import {
  call,
  modelPath,
  type OpsIo,
  type OpsOptions,
  printJson,
  processIo,
  runOps,
  withTargetOptions,
} from '../ops-client';

export interface RetireOptions extends OpsOptions {
  yes?: boolean;
  reason?: string;
}

export function registerRetireCommand(program: Command, setExit: (code: number) => void): void {
  withTargetOptions(
    program
      .command('retire')
      .description(
        'Retire a model: delete its endpoint, alarms and drift schedule; its versions become RETIRED, its history stays.',
      )
      .argument('<model>', 'the model name')
      .option('--yes', 'confirm: the endpoint stops serving')
      .option('--reason <text>', 'why (kept in the audit trail)'),
    { json: 'print {"outcome", "model", "endpointDeleted", "retired", "unchanged", "changed"}' },
  ).action(async (model: string, options: RetireOptions) => setExit(await runRetire(model, options)));
}

export async function runRetire(
  model: string,
  options: RetireOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (!options.yes) {
    io.stderr(
      `nbops: retiring ${model} deletes its endpoint (it stops answering), its alarms and its drift schedule; add --yes to confirm\n`,
    );
    return EXIT.usage;
  }
  return runOps(
    options,
    io,
    async (client) => {
      const body = options.reason ? { reason: options.reason } : {};
      const result = await call<RetireResult>(client, 'POST', modelPath(model, 'retire'), body, randomUUID());
      if (options.json) printJson(io, result);
      else
        io.stdout(
          `${result.model} retired: ${result.endpointDeleted ? 'endpoint deleted' : 'no endpoint to delete'}; versions retired: ${result.retired.map((v) => `v${v}`).join(', ') || 'none'}${result.unchanged.length > 0 ? `; unchanged: ${result.unchanged.map((u) => `v${u.version} ${u.status}`).join(', ')}` : ''}\n`,
        );
      return EXIT.ok;
    },
    env,
  );
}
