/**
 * `nbops approve <model> <version> --reason "..."`: approve a version waiting for approval (it is
 * then deployed). The approver is you (your IAM identity on AWS, --as/your login on the local
 * host); you may not approve a version you uploaded unless the platform policy allows it.
 */
import type { Command } from 'commander';
import type { ApprovalResult } from '#core/ops/views';
import {
  modelPath,
  type OpsIo,
  type OpsOptions,
  processIo,
  runRequest,
  versionArg,
  withTargetOptions,
} from '../ops-client';

export interface DecisionOptions extends OpsOptions {
  reason?: string;
}

export function registerApproveCommand(program: Command, setExit: (code: number) => void): void {
  registerDecision(program, setExit, 'approve');
}

export function registerDecision(
  program: Command,
  setExit: (code: number) => void,
  decision: 'approve' | 'decline',
): void {
  withTargetOptions(
    program
      .command(decision)
      .description(
        decision === 'approve'
          ? 'Approve a version waiting for approval (PENDING_APPROVAL): nbops then deploys it.'
          : 'Decline a version waiting for approval (PENDING_APPROVAL): it never reaches production.',
      )
      .argument('<model>', 'the model name')
      .argument('<version>', 'the version number (3 or v3)')
      .requiredOption('--reason <text>', 'why (kept in the audit trail)'),
    { json: 'print {"outcome", "model", "version", "decidedBy", "changed", "next"}' },
  ).action(async (model: string, version: string, options: DecisionOptions) =>
    setExit(await runDecision(decision, model, version, options)),
  );
}

export async function runDecision(
  decision: 'approve' | 'decline',
  model: string,
  version: string,
  options: DecisionOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runRequest<ApprovalResult>(
    options,
    io,
    env,
    () => ({
      method: 'POST',
      path: modelPath(model, 'versions', versionArg(version), decision),
      body: { reason: options.reason ?? '' },
    }),
    (r) =>
      `${r.model} v${r.version} ${r.outcome} by ${r.decidedBy}${r.changed ? '' : ' (already recorded by this request)'}\n${r.next}\n`,
  );
}

export const runApprove = (
  model: string,
  version: string,
  options: DecisionOptions,
  io?: OpsIo,
  env?: NodeJS.ProcessEnv,
) => runDecision('approve', model, version, options, io, env);
