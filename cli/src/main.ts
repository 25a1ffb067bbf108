// Entry point of the `canopy` command (started by cli/bin/canopy.js).
import { runCli, type Command, type Io } from './cli.ts';
import { miscCommands } from './commands/misc.ts';
import { proposeCommands } from './commands/propose.ts';
import { readCommands } from './commands/read.ts';
import { writeCommands } from './commands/write.ts';
import { verifyCommands } from './commands/verify.ts';

export const COMMANDS: Command[] = [...readCommands, ...miscCommands.slice(0, 1), ...proposeCommands, ...writeCommands, ...miscCommands.slice(1), ...verifyCommands];

export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
    stderr: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}
