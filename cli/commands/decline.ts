/** `nbops decline <model> <version> --reason "..."`: decline a version waiting for approval. */
import type { Command } from 'commander';
import type { OpsIo } from '../ops-client';
import { type DecisionOptions, registerDecision, runDecision } from './approve';

export function registerDeclineCommand(program: Command, setExit: (code: number) => void): void {
  registerDecision(program, setExit, 'decline');
}

export const runDecline = (
  model: string,
  version: string,
  options: DecisionOptions,
  io?: OpsIo,
  env?: NodeJS.ProcessEnv,
) => runDecision('decline', model, version, options, io, env);
