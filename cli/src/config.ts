// Where the CLI keeps its files, and how it finds the network and the canister.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Principal } from '@dfinity/principal';
import { CliError, usageError } from './errors.ts';

export type Network = 'local' | 'ic';
export const IC_HOST = 'https://icp-api.io';

/** Like dfx: $XDG_CONFIG_HOME/canopy (default ~/.config/canopy); CANOPY_CONFIG_DIR overrides (tests). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CANOPY_CONFIG_DIR) return resolve(env.CANOPY_CONFIG_DIR);
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'canopy');
}

export function parseNetwork(value: string | undefined, env: NodeJS.ProcessEnv = process.env): Network {
  const v = value ?? env.CANOPY_NETWORK ?? 'local';
  if (v !== 'local' && v !== 'ic') throw usageError(`--network must be local or ic, not ${JSON.stringify(v)}`);
  return v;
}

/** The IC HTTP endpoint: --host, else CANOPY_HOST, else the local replica (CANOPY_REPLICA_PORT) or icp-api.io. */
export function hostFor(network: Network, host: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const h = host ?? env.CANOPY_HOST;
  if (h) {
    if (!/^https?:\/\/[^\s/]+/.test(h)) throw usageError(`--host must be an http(s) URL, not ${JSON.stringify(h)}`);
    return h.replace(/\/+$/, '');
  }
  return network === 'ic' ? IC_HOST : `http://127.0.0.1:${env.CANOPY_REPLICA_PORT ?? '4943'}`;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function readJson(path: string): any {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Directories from `start` up to the filesystem root, then the repository the CLI lives in. */
function searchDirs(start: string): string[] {
  const dirs: string[] = [];
  for (let d = resolve(start); ; d = dirname(d)) {
    dirs.push(d);
    if (dirname(d) === d) break;
  }
  if (!dirs.includes(REPO_ROOT)) dirs.push(REPO_ROOT);
  return dirs;
}

/**
 * The canister: --canister, else CANOPY_CANISTER_ID, else for local `<CANOPY_STATE_DIR>/stack.json` or
 * `.canopy/stack.json` (written by `npm start`), for ic `canister_ids.json` (written by `dfx deploy --network ic`), searched from the
 * current directory upwards and in the CLI's own repository.
 */
export function canisterIdFor(network: Network, flag: string | undefined, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  const explicit = flag ?? env.CANOPY_CANISTER_ID;
  if (explicit) return checkCanisterId(explicit);
  if (network === 'local' && env.CANOPY_STATE_DIR) {
    const id = readJson(join(resolve(cwd, env.CANOPY_STATE_DIR), 'stack.json'))?.canisterId;
    if (typeof id === 'string') return checkCanisterId(id);
  }
  for (const dir of searchDirs(cwd)) {
    if (network === 'local') {
      const id = readJson(join(dir, '.canopy', 'stack.json'))?.canisterId;
      if (typeof id === 'string') return checkCanisterId(id);
    } else {
      const id = readJson(join(dir, 'canister_ids.json'))?.canopy?.ic;
      if (typeof id === 'string') return checkCanisterId(id);
    }
  }
  throw new CliError(
    network === 'local'
      ? 'no local canister found: run `npm start` first, or pass --canister <id>'
      : 'no canister id for --network ic: pass --canister <id> (or keep canister_ids.json from dfx deploy here)',
  );
}

function checkCanisterId(id: string): string {
  try {
    return Principal.fromText(id).toText();
  } catch {
    throw usageError(`not a canister id: ${JSON.stringify(id)}`);
  }
}

export const fileExists = existsSync;
