/**
 * `nbops` command line. Each command lives in cli/commands/ and returns its exit code:
 * 0 success, 1 the checked thing has errors, 2 usage or I/O errors.
 */
import { Command, CommanderError } from 'commander';
import { registerApproveCommand } from './commands/approve';
import { registerDeclineCommand } from './commands/decline';
import { registerDemoCommand } from './commands/demo';
import { registerDevCommand } from './commands/dev';
import { registerDriftCommand } from './commands/drift';
import { registerDriftHistoryCommand } from './commands/drift-history';
import { registerIncidentsCommand } from './commands/incidents';
import { registerLogsCommand } from './commands/logs';
import { registerManifestCommands } from './commands/manifest';
import { registerModelsCommand } from './commands/models';
import { registerPlanCommand } from './commands/plan';
import { registerReportCommand } from './commands/report';
import { registerRetireCommand } from './commands/retire';
import { registerRetrainCommand } from './commands/retrain';
import { registerRollbackCommand } from './commands/rollback';
import { registerShowCommand } from './commands/show';
import { registerStatusCommand } from './commands/status';
import { registerSubmitCommand } from './commands/submit';
import { registerValidateCommand } from './commands/validate';
import { registerVersionsCommand } from './commands/versions';
import { EXIT } from './exit';
import { version } from './version';

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('nbops')
    .description('Take model notebooks to production on AWS: validate, train, register, deploy, watch drift.')
    .version(version)
    .showHelpAfterError('(run nbops --help for usage)')
    .exitOverride();
  registerValidateCommand(program, setExit);
  registerManifestCommands(program, setExit);
  registerPlanCommand(program, setExit);
  registerDriftCommand(program, setExit);
  registerDemoCommand(program, setExit);
  registerDevCommand(program, setExit);
  registerSubmitCommand(program, setExit);
  registerStatusCommand(program, setExit);
  // Operator commands: the ops API on AWS or the local host (cli/ops-client.ts).
  registerModelsCommand(program, setExit);
  registerVersionsCommand(program, setExit);
  registerShowCommand(program, setExit);
  registerApproveCommand(program, setExit);
  registerDeclineCommand(program, setExit);
  registerRollbackCommand(program, setExit);
  registerRetrainCommand(program, setExit);
  registerRetireCommand(program, setExit);
  registerDriftHistoryCommand(program, setExit);
  registerIncidentsCommand(program, setExit);
  registerLogsCommand(program, setExit);
  registerReportCommand(program, setExit);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; anything else is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`nbops: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.usage;
  }
  return code;
}
