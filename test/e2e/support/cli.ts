// The local-host commands as `nbops` runs them (cli/main.ts registers the same functions): the e2e
// tests start `dev` as its own process with this, then talk to it with submit and status.
import { Command } from 'commander';
import { registerDemoCommand } from '../../../cli/commands/demo';
import { registerDevCommand } from '../../../cli/commands/dev';
import { registerStatusCommand } from '../../../cli/commands/status';
import { registerSubmitCommand } from '../../../cli/commands/submit';

let code = 0;
const program = new Command('nbops').exitOverride();
const setExit = (c: number) => {
  code = c;
};
registerDevCommand(program, setExit);
registerSubmitCommand(program, setExit);
registerStatusCommand(program, setExit);
registerDemoCommand(program, setExit);
try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
} catch {
  code = 2;
}
process.exitCode = code;
