// The dev DAO's founding member at a terminal: the CLI's default identity in a throwaway config
// directory, and the `canopy` command itself (run in-process) with its documented --json forms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignIdentity } from '@dfinity/agent';
import { runCli } from '../../cli/src/cli.ts';
import { COMMANDS } from '../../cli/src/main.ts';
import { defaultIdentityForDev } from '../../cli/src/dev-identity.ts';
import { IdentityStore } from '../../cli/src/identity.ts';
import { repoRoot } from '../../scripts/build-canister.ts';
import type { RunningStack } from '../../scripts/stack/index.ts';

export interface Founder {
  identity: SignIdentity;
  /** `canopy <args> --json` against the stack; resolves with the parsed JSON, rejects with the one-line reason. */
  canopy(stack: RunningStack, args: string[]): Promise<any>;
  cleanup(): void;
}

export async function founder(): Promise<Founder> {
  const configDir = mkdtempSync(join(tmpdir(), 'canopy-web-founder-'));
  const { identity } = await defaultIdentityForDev(new IdentityStore(join(configDir, 'identity')));
  return {
    identity,
    async canopy(stack, args) {
      let stdout = '';
      let stderr = '';
      const env: NodeJS.ProcessEnv = { ...process.env, CANOPY_CONFIG_DIR: configDir, CANOPY_HOST: stack.replicaUrl };
      delete env.CANOPY_IDENTITY;
      const argv = [...args, '--json', '--network', 'local', '--canister', stack.canisterId];
      const code = await runCli(argv, COMMANDS, {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
        isTTY: false,
        env,
        cwd: repoRoot,
      });
      if (code !== 0) throw new Error(`canopy ${args.join(' ')} exited ${code}: ${stderr.trim()}`);
      return JSON.parse(stdout);
    },
    cleanup: () => rmSync(configDir, { recursive: true, force: true }),
  };
}
