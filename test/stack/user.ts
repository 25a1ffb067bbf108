// The dev DAO's founding member as a person at a terminal: the CLI identity `npm start` uses (created
// in a throwaway config directory), and the `canopy` command with its documented `--json` forms.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignIdentity } from '@dfinity/agent';
import { repoRoot } from '../../scripts/build-canister.ts';
import type { RunningStack } from '../../scripts/stack/index.ts';
import { defaultIdentityForDev } from '../../cli/src/dev-identity.ts';
import { IdentityStore } from '../../cli/src/identity.ts';

export type ProposalStatus = 'open' | 'adopted' | 'rejected' | 'expired' | 'executed' | 'failed';
export interface ProposalJson {
  id: number;
  kind: string;
  status: ProposalStatus;
  result?: { uri: string; cid: string; rev: string };
}

export interface CanopyUser {
  identity: SignIdentity;
  proposePost(stack: RunningStack, text: string): Promise<number>;
  vote(stack: RunningStack, id: number, vote: 'yes' | 'no' | 'abstain'): Promise<void>;
  proposal(stack: RunningStack, id: number): Promise<ProposalJson>;
  /** A delegate's direct write. */
  writePost(stack: RunningStack, text: string): Promise<{ uri: string; cid: string; rev: string }>;
  /** Any `canopy <args> --json`. */
  run(stack: RunningStack, args: string[]): Promise<unknown>;
  cleanup(): void;
}

const CLI_TIMEOUT_MS = 60_000;

/** Runs `canopy <args> --json` against the stack's replica and canister; resolves with the parsed JSON. */
function canopy(configDir: string, stack: RunningStack, args: string[]): Promise<unknown> {
  const env: NodeJS.ProcessEnv = { ...process.env, CANOPY_CONFIG_DIR: configDir, CANOPY_HOST: stack.replicaUrl };
  delete env.CANOPY_IDENTITY; // the config directory's default identity
  const child = spawn(
    process.execPath,
    ['cli/bin/canopy.js', ...args, '--json', '--network', 'local', '--canister', stack.canisterId],
    {
      cwd: repoRoot,
      // The replica the stack runs (the CLI's --host default is 127.0.0.1:$CANOPY_REPLICA_PORT), and
      // the throwaway config directory holding the member's identity.
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const cmd = `canopy ${args.join(' ')} --json`;
      if (code !== 0) return reject(new Error(`${cmd} exited ${code ?? signal}: ${stderr.trim()}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!)); // progress lines first, the result last
      } catch {
        reject(new Error(`${cmd} printed no JSON: ${JSON.stringify(stdout)} (stderr: ${stderr.trim()})`));
      }
    });
  });
}

export async function cliUser(): Promise<CanopyUser> {
  const configDir = mkdtempSync(join(tmpdir(), 'canopy-cli-config-'));
  // What `npm start` does: the CLI's default identity, created as "default" when there is none.
  const { identity } = await defaultIdentityForDev(new IdentityStore(join(configDir, 'identity')));
  return {
    identity,
    async proposePost(stack, text) {
      const out = (await canopy(configDir, stack, ['propose', 'post', '--text', text])) as { id: number | string };
      return Number(out.id);
    },
    async vote(stack, id, vote) {
      await canopy(configDir, stack, ['vote', String(id), vote]);
    },
    async proposal(stack, id) {
      const p = (await canopy(configDir, stack, ['proposal', String(id)])) as ProposalJson & { id: number | string };
      return { ...p, id: Number(p.id) };
    },
    async writePost(stack, text) {
      return (await canopy(configDir, stack, ['write', 'post', '--text', text])) as { uri: string; cid: string; rev: string };
    },
    run(stack, args) {
      return canopy(configDir, stack, args);
    },
    cleanup() {
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}
