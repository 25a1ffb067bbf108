// Entry point of the `canopy` command (started by cli/bin/canopy.js).
import { runCli, type Command, type Io } from './cli.ts';
import { identityCommands } from './commands/identity.ts';
import { proposeCommands } from './commands/propose.ts';
import { proposeIdentityCommands } from './commands/propose-identity.ts';
import { migrateCommands } from './commands/migrate.ts';
import { readCommands } from './commands/read.ts';
import { uploadCommands } from './commands/upload.ts';
import { voteCommands } from './commands/vote.ts';
import { writeCommands } from './commands/write.ts';
import { upgradeCommands } from './commands/upgrade.ts';
import { verifyCommands } from './commands/verify.ts';

/** In the order `canopy help` lists them: reading, voting, proposing, writing, then local set-up and verification. */
export const COMMANDS: Command[] = [
  ...readCommands, ...voteCommands, ...proposeCommands, ...upgradeCommands, ...proposeIdentityCommands, ...migrateCommands,
  ...writeCommands, ...uploadCommands, ...identityCommands, ...verifyCommands,
];

export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
    stderr: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}
