// Builds a canister's wasm with Azle, cached by a hash of everything that goes into it.
// `npm run build:canister` (Canopy) / `npm run build:steward`, or `buildCanisterWasm({ target })`;
// output `.azle/<target>/<target>.wasm` (dfx.json's path) plus an immutable copy
// `.azle/<target>-<hash>.wasm` that concurrent readers can use while a rebuild runs, and beside it
// `.azle/<target>-<hash>.did`, the interface Azle derived from the built canister (for Canopy a test
// compares it with canister/canopy.did, which scripts/gen-did.ts generates).
//
// The build is reproducible: the same commit gives byte-identical wasm in any directory. Azle's
// inputs are the bundled JavaScript (esbuild writes paths relative to the working directory, which
// is always the repository root), the canister template, and a JSON naming the JavaScript module
// and selected environment variables. scripts/azle-build.ts makes that module name relative, and
// the build clears every AZLE_* variable so no local setting (logging, benchmarks, backtraces =
// the wasm name section) reaches the module. test/build/ checks it from two clones.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export type Target = 'canopy' | 'steward';
/** `did`: where Azle writes the interface it derives (Canopy's canister/canopy.did is generated from its method table). */
export const TARGETS: Record<Target, { sources: string[]; did: string }> = {
  canopy: { sources: ['canister/src'], did: '.azle/canopy/canopy.did' },
  // the steward reuses the canister's Candid reply functions (canister/src/ic/reply.ts)
  steward: { sources: ['steward/src', 'canister/src/ic'], did: 'steward/steward.did' },
};

export function isTarget(s: string): s is Target {
  return Object.hasOwn(TARGETS, s);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full));
    else if (/\.(ts|js|json|did)$/.test(name)) out.push(full);
  }
  return out;
}

/** Hash of the target's sources, dfx.json, and the locked dependency versions. */
export function sourceHash(target: Target = 'canopy'): string {
  const h = createHash('sha256');
  h.update(target);
  const files = [
    ...TARGETS[target].sources.flatMap((d) => listFiles(join(repoRoot, d))),
    join(repoRoot, 'dfx.json'),
    join(repoRoot, 'package-lock.json'),
    fileURLToPath(import.meta.url),
    join(repoRoot, 'scripts/azle-build.ts'),
  ];
  for (const f of files) {
    h.update(relative(repoRoot, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 20);
}

export function cachedWasmPath(hash?: string, target: Target = 'canopy'): string {
  return join(repoRoot, '.azle', `${target}-${hash ?? sourceHash(target)}.wasm`);
}

/** The environment of an Azle build: the caller's, minus every AZLE_* setting. */
function buildEnv(target: Target): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AZLE_')) env[k] = v;
  env.PATH = `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}`;
  env.CANISTER_CANDID_PATH = TARGETS[target].did;
  return env;
}

/** The Candid interface Azle emitted when it built the wasm of these sources. */
export function builtCandidPath(hash?: string, target: Target = 'canopy'): string {
  return join(repoRoot, '.azle', `${target}-${hash ?? sourceHash(target)}.did`);
}

/** Build unless a wasm for the current sources exists. Callers serialize with a lock (see test/support/canopy.ts). */
export function buildCanisterWasm(opts: { target?: Target; force?: boolean; log?: (s: string) => void } = {}): string {
  const target = opts.target ?? 'canopy';
  const hash = sourceHash(target);
  const cached = cachedWasmPath(hash, target);
  const didCopy = builtCandidPath(hash, target);
  const didPath = join(repoRoot, TARGETS[target].did);
  if (!opts.force && existsSync(cached)) {
    // Keep the .did in step with the wasm in use (another source version may have been built since).
    if (existsSync(didCopy) && (!existsSync(didPath) || readFileSync(didCopy, 'utf8') !== readFileSync(didPath, 'utf8'))) {
      mkdirSync(dirname(didPath), { recursive: true });
      copyFileSync(didCopy, didPath);
    }
    publishForDfx(cached, target);
    return cached;
  }
  mkdirSync(join(repoRoot, '.azle'), { recursive: true });
  const started = Date.now();
  try {
    execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/azle-build.ts'), target], {
      cwd: repoRoot,
      env: buildEnv(target),
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    const out = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n');
    throw new Error(`azle build of ${target} failed:\n${out.trim()}`);
  }
  copyFileSync(didPath, didCopy);
  const tmp = `${cached}.tmp-${process.pid}`;
  copyFileSync(join(repoRoot, `.azle/${target}/${target}.wasm`), tmp);
  renameSync(tmp, cached);
  opts.log?.(`built ${target}.wasm (${hash}) in ${Date.now() - started} ms`);
  pruneOldBuilds(target, 3);
  return cached;
}

/** dfx.json's `wasm` path must hold the wasm of the current sources, cached or freshly built. */
function publishForDfx(wasm: string, target: Target): void {
  const dfxWasm = join(repoRoot, `.azle/${target}/${target}.wasm`);
  if (existsSync(dfxWasm) && statSync(dfxWasm).size === statSync(wasm).size && readFileSync(dfxWasm).equals(readFileSync(wasm))) return;
  mkdirSync(join(repoRoot, `.azle/${target}`), { recursive: true });
  const tmp = `${dfxWasm}.tmp-${process.pid}`;
  copyFileSync(wasm, tmp);
  renameSync(tmp, dfxWasm);
}

/** Keeps the newest `keep` cached wasms of a target (older source versions are never used again). */
function pruneOldBuilds(target: Target, keep: number): void {
  const dir = join(repoRoot, '.azle');
  const builds = readdirSync(dir)
    .filter((f) => new RegExp(`^${target}-[0-9a-f]{20}\\.wasm$`).test(f))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of builds.slice(keep)) {
    rmSync(join(dir, f), { force: true });
    rmSync(join(dir, f.replace(/\.wasm$/, '.did')), { force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--target');
  const target = i > 0 ? process.argv[i + 1] : 'canopy';
  if (!isTarget(target)) throw new Error(`unknown target ${target}; expected ${Object.keys(TARGETS).join(' or ')}`);
  const path = buildCanisterWasm({ target, force: process.argv.includes('--force'), log: console.log });
  console.log(path);
}
