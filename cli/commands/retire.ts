/**
 * `nbops retire <model> --yes`: stop serving a model for good. Its endpoint, alarms and drift
 * schedule are deleted and its versions become RETIRED; its history (versions, audit trail, drift,
 * incidents, reports) is kept.
 */
import type { Command } from 'commander';
import type { RetireResult } from '#core/ops/views';
import { EXIT } from '../exit';
import {
  modelPath,
  type OpsIo,
  type OpsOptions,
  processIo,
  runRequest,
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
  return runRequest<RetireResult>(
    options,
    io,
    env,
    () => ({
      method: 'POST',
      path: modelPath(model, 'retire'),
      body: options.reason ? { reason: options.reason } : {},
    }),
    (r) =>
      `${r.model} retired: ${r.endpointDeleted ? 'endpoint deleted' : 'no endpoint to delete'}; versions retired: ${r.retired.map((v) => `v${v}`).join(', ') || 'none'}${r.unchanged.length > 0 ? `; unchanged: ${r.unchanged.map((u) => `v${u.version} ${u.status}`).join(', ')}` : ''}\n`,
  );
}
