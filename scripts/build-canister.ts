// Builds the canister wasm with Azle, cached by a hash of everything that goes into it.
// `npm run build:canister` or `buildCanisterWasm()`; output `.azle/canopy/canopy.wasm` plus an
// immutable copy `.azle/canopy-<hash>.wasm` that concurrent readers can use while a rebuild runs,
// and beside it `.azle/canopy-<hash>.did`, the interface Azle derived from the built canister
// (a test compares it with canister/canopy.did, which scripts/gen-did.ts generates).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full));
    else if (/\.(ts|js|json|did)$/.test(name)) out.push(full);
  }
  return out;
}

/** Hash of the canister sources, dfx.json, and the locked dependency versions. */
export function sourceHash(): string {
  const h = createHash('sha256');
  const files = [...listFiles(join(repoRoot, 'canister/src')), join(repoRoot, 'dfx.json'), join(repoRoot, 'package-lock.json')];
  for (const f of files) {
    h.update(relative(repoRoot, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 20);
}

export function cachedWasmPath(hash = sourceHash()): string {
  return join(repoRoot, '.azle', `canopy-${hash}.wasm`);
}

/** The Candid interface Azle emitted when it built the wasm of these sources. */
export function builtCandidPath(hash = sourceHash()): string {
  return join(repoRoot, '.azle', `canopy-${hash}.did`);
}

/** Build unless a wasm for the current sources exists. Callers serialize with a lock (see test/support/canopy.ts). */
export function buildCanisterWasm(opts: { force?: boolean; log?: (s: string) => void } = {}): string {
  const hash = sourceHash();
  const target = cachedWasmPath(hash);
  const didCopy = builtCandidPath(hash);
  const didPath = join(repoRoot, '.azle/canopy/canopy.did');
  if (!opts.force && existsSync(target)) {
    publishForDfx(target);
    return target;
  }
  mkdirSync(join(repoRoot, '.azle'), { recursive: true });
  const bin = join(repoRoot, 'node_modules/.bin');
  const started = Date.now();
  try {
    execFileSync(join(bin, 'azle'), ['build', 'canopy'], {
      cwd: repoRoot,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CANISTER_CANDID_PATH: didPath },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    const out = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n');
    throw new Error(`azle build failed:\n${out.trim()}`);
  }
  copyFileSync(didPath, didCopy);
  const tmp = `${target}.tmp-${process.pid}`;
  copyFileSync(join(repoRoot, '.azle/canopy/canopy.wasm'), tmp);
  renameSync(tmp, target);
  opts.log?.(`built canopy.wasm (${hash}) in ${Date.now() - started} ms`);
  pruneOldBuilds(3);
  return target;
}

/** dfx.json's `wasm` path must hold the wasm of the current sources, cached or freshly built. */
function publishForDfx(wasm: string): void {
  const dfxWasm = join(repoRoot, '.azle/canopy/canopy.wasm');
  if (existsSync(dfxWasm) && statSync(dfxWasm).size === statSync(wasm).size && readFileSync(dfxWasm).equals(readFileSync(wasm))) return;
  mkdirSync(join(repoRoot, '.azle/canopy'), { recursive: true });
  const tmp = `${dfxWasm}.tmp-${process.pid}`;
  copyFileSync(wasm, tmp);
  renameSync(tmp, dfxWasm);
}

/** Keeps the newest `keep` cached wasms (older source versions are never used again). */
function pruneOldBuilds(keep: number): void {
  const dir = join(repoRoot, '.azle');
  const builds = readdirSync(dir)
    .filter((f) => /^canopy-[0-9a-f]{20}\.wasm$/.test(f))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of builds.slice(keep)) {
    rmSync(join(dir, f), { force: true });
    rmSync(join(dir, f.replace(/\.wasm$/, '.did')), { force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = buildCanisterWasm({ force: process.argv.includes('--force'), log: console.log });
  console.log(path);
}
