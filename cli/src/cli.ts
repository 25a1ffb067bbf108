// Command framework: finds the command words, parses options strictly with node:util, prints
// help with examples, and turns every failure into one line on stderr and a non-zero exit.
import { parseArgs } from 'node:util';
import { Connection } from './client.ts';
import { CliError, errorLine, usageError } from './errors.ts';
import { json } from './format.ts';
import { IdentityStore } from './identity.ts';
import { configDir } from './config.ts';
import { join } from 'node:path';

export type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string; value?: string; desc: string };

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** stderr is a terminal (progress bars) */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Command {
  /** words, e.g. "propose post" */
  name: string;
  summary: string;
  /** after the command words, e.g. "<id> yes|no|abstain" */
  args?: string;
  options?: Record<string, OptionSpec>;
  examples?: string[];
  /** extra help text */
  notes?: string;
  run(ctx: Context): Promise<void>;
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', desc: 'machine-readable output (JSON on one line)' },
  network: { type: 'string', value: 'local|ic', desc: 'local replica (default) or the Internet Computer' },
  canister: { type: 'string', value: 'id', desc: 'canister id (default: from `npm start` locally, canister_ids.json on ic)' },
  identity: { type: 'string', value: 'name', desc: 'identity to use (default: `canopy identity use`)' },
  host: { type: 'string', value: 'url', desc: 'IC HTTP endpoint (default http://127.0.0.1:4943 or https://icp-api.io)' },
  help: { type: 'boolean', short: 'h', desc: 'show help' },
};

export class Context {
  private connection?: Connection;
  readonly store: IdentityStore;

  constructor(
    readonly io: Io,
    readonly command: Command,
    readonly values: Record<string, any>,
    readonly positionals: string[],
  ) {
    this.store = new IdentityStore(join(configDir(io.env), 'identity'));
  }

  get json(): boolean {
    return Boolean(this.values.json);
  }

  get conn(): Connection {
    return (this.connection ??= new Connection(
      { network: this.values.network, canister: this.values.canister, identity: this.values.identity, host: this.values.host },
      this.io.env,
      this.io.cwd,
      this.store,
    ));
  }

  /** Prints `data` as JSON with --json, else the human text. */
  emit(data: unknown, human: string | (() => string)): void {
    this.io.stdout(this.json ? json(data) : typeof human === 'function' ? human() : human);
  }

  /** A remark for people (stderr, so it never mixes into --json output). */
  note(text: string): void {
    this.io.stderr(text);
  }

  positional(i: number, name: string): string {
    const v = this.positionals[i];
    if (v === undefined) throw usageError(`missing ${name}; see \`canopy ${this.command.name} --help\``);
    return v;
  }

  noMorePositionals(n: number): void {
    if (this.positionals.length > n) throw usageError(`unexpected argument ${JSON.stringify(this.positionals[n])}; see \`canopy ${this.command.name} --help\``);
  }
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}${o.multiple ? ' …' : ''}`;
    return [flag, o.desc];
  });
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([f, d]) => `  ${f!.padEnd(width)}  ${d}`);
}

export function commandHelp(cmd: Command): string {
  const lines = [`canopy ${cmd.name}${cmd.args ? ` ${cmd.args}` : ''}`, '', cmd.summary];
  if (cmd.notes) lines.push('', cmd.notes);
  if (cmd.options && Object.keys(cmd.options).length) lines.push('', 'Options:', ...optionLines(cmd.options));
  lines.push('', 'Common options:', ...optionLines(GLOBAL_OPTIONS));
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

export function groupHelp(group: string, commands: Command[]): string {
  const subs = commands.filter((c) => c.name.startsWith(`${group} `));
  const width = Math.max(...subs.map((c) => c.name.length));
  return [
    `canopy ${group} <${group === 'propose' ? 'kind' : 'command'}> [options]`,
    '',
    ...subs.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run \`canopy ${group} <${group === 'propose' ? 'kind' : 'command'}> --help\` for options and examples.`,
  ].join('\n');
}

export function mainHelp(commands: Command[]): string {
  const groups = new Set(commands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!));
  const entries: [string, string][] = [];
  for (const c of commands) {
    const g = c.name.split(' ')[0]!;
    if (!c.name.includes(' ')) entries.push([`${c.name}${c.args ? ` ${c.args}` : ''}`, c.summary]);
    else if (groups.has(g)) {
      groups.delete(g);
      const subs = commands.filter((x) => x.name.startsWith(`${g} `)).map((x) => x.name.split(' ')[1]);
      entries.push([subs.length > 5 ? `${g} <kind>` : `${g} <${subs.join('|')}>`, GROUP_SUMMARY[g] ?? '']);
    }
  }
  const width = Math.min(44, Math.max(...entries.map((e) => e[0].length)));
  return [
    'canopy — a community-governed Bluesky account on the Internet Computer',
    '',
    'Usage: canopy <command> [options]',
    '',
    'Commands:',
    ...entries.map(([n, s]) => (n.length > width ? `  ${n}\n  ${''.padEnd(width)}  ${s}` : `  ${n.padEnd(width)}  ${s}`)),
    '',
    'Common options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Run `canopy <command> --help` for details and examples.',
  ].join('\n');
}

const GROUP_SUMMARY: Record<string, string> = {
  propose: 'make a proposal (one kind per subcommand)',
  write: 'write directly as a delegate (post, put, delete)',
  identity: 'manage identities (new, import, list, use, whoami)',
  migrate: 'move the account to another PDS (out)',
};

/** Finds the command words in argv (skipping option values) and returns the rest for parseArgs. */
export function splitCommand(argv: string[], commands: Command[]): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  const takesValue = (tok: string) => {
    const name = tok.replace(/^--?/, '').split('=')[0]!;
    const all = { ...GLOBAL_OPTIONS, ...Object.assign({}, ...commands.map((c) => c.options ?? {})) } as Record<string, OptionSpec>;
    const spec = all[name] ?? Object.values(all).find((o) => o.short === name);
    return !tok.includes('=') && spec?.type === 'string';
  };
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (tok.startsWith('-') && tok !== '-') {
      rest.push(tok);
      if (takesValue(tok) && i + 1 < argv.length) rest.push(argv[++i]!);
      continue;
    }
    const candidate = [...words, tok].join(' ');
    if (words.length < 2 && commands.some((c) => c.name === candidate || c.name.startsWith(`${candidate} `))) words.push(tok);
    else rest.push(tok);
  }
  return { words, rest };
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[], commands: Command[], io: Io): Promise<number> {
  let ctx: Context | undefined;
  try {
    const { words, rest } = splitCommand(argv, commands);
    const name = words.join(' ');
    const cmd = commands.find((c) => c.name === name);
    const wantsHelp = rest.includes('--help') || rest.includes('-h');
    if (!cmd) {
      if (words.length === 0 && (wantsHelp || rest.length === 0 || argv[0] === 'help')) {
        io.stdout(mainHelp(commands));
        return rest.length === 0 && !wantsHelp ? 2 : 0;
      }
      if (words.length === 1 && commands.some((c) => c.name.startsWith(`${name} `))) {
        if (wantsHelp) {
          io.stdout(groupHelp(name, commands));
          return 0;
        }
        const unknown = rest.find((r) => !r.startsWith('-'));
        throw usageError(
          unknown ? `unknown ${name === 'propose' ? 'proposal kind' : 'subcommand'} ${JSON.stringify(unknown)}; see \`canopy ${name} --help\`` : `\`canopy ${name}\` needs a subcommand; see \`canopy ${name} --help\``,
        );
      }
      const unknown = rest.find((r) => !r.startsWith('-')) ?? argv[0];
      throw usageError(`unknown command ${JSON.stringify(unknown)}; see \`canopy --help\``);
    }
    if (wantsHelp) {
      io.stdout(commandHelp(cmd));
      return 0;
    }
    const options = { ...GLOBAL_OPTIONS, ...(cmd.options ?? {}) };
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: Object.fromEntries(
          Object.entries(options).map(([k, o]) => [k, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) }]),
        ),
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw usageError(`${(e as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '')}; see \`canopy ${cmd.name} --help\``);
    }
    ctx = new Context(io, cmd, parsed.values, parsed.positionals);
    await cmd.run(ctx);
    return 0;
  } catch (e) {
    let line: string;
    try {
      line = ctx ? ctx.conn.explain(e) : errorLine(e);
    } catch {
      line = errorLine(e);
    }
    io.stderr(`canopy: ${line}`);
    if (io.env.CANOPY_DEBUG && e instanceof Error) io.stderr(e.stack ?? '');
    return e instanceof CliError && e.usage ? 2 : 1;
  }
}
