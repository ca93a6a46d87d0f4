/**
 * `nbops` command line. Each command lives in cli/commands/ and returns its exit code:
 * 0 success, 1 the checked thing has errors, 2 usage or I/O errors.
 */
import { Command, CommanderError } from 'commander';
import { registerDemoCommand } from './commands/demo';
import { registerDevCommand } from './commands/dev';
import { registerDriftCommand } from './commands/drift';
import { registerManifestCommands } from './commands/manifest';
import { registerPlanCommand } from './commands/plan';
import { registerStatusCommand } from './commands/status';
import { registerSubmitCommand } from './commands/submit';
import { registerValidateCommand } from './commands/validate';
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
