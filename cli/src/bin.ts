// Process wrapper: runs the CLI, and makes sure nothing ever ends in a stack trace.
import { errorLine } from './errors.ts';
import { COMMANDS, processIo } from './main.ts';

const fatal = (err: unknown) => {
  process.stderr.write(`canopy: ${errorLine(err)}\n`);
  process.exit(1);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

const code = await import('./cli.ts').then(({ runCli }) => runCli(process.argv.slice(2), COMMANDS, processIo()));
// Exit once output is flushed (agents may keep sockets open).
process.stdout.write('', () => process.exit(code));
