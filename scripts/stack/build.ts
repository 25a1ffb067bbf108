// A canister's wasm (Canopy or the steward) for the stack: reused when the sources are unchanged,
// else built with azle while holding the same lock file the test helpers use, so a concurrent
// `npm test` and `npm start` never run two builds into `.azle/<target>/` at once.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cachedWasmPath, repoRoot, sourceHash, type Target } from '../build-canister.ts';

export async function canisterWasmPath(opts: { target?: Target; log: (line: string) => void; signal?: AbortSignal }): Promise<string> {
  const target = opts.target ?? 'canopy';
  const cached = cachedWasmPath(sourceHash(target), target);
  if (existsSync(cached)) {
    opts.log(`${target} wasm up to date (${cached.slice(repoRoot.length)})`);
    return cached;
  }
  opts.log(`building ${target} with azle (sources changed since the last build)…`);
  mkdirSync(join(repoRoot, '.azle'), { recursive: true });
  const started = Date.now();
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'flock',
      [join(repoRoot, `.azle/${target}-build.lock`), process.execPath, '--import', 'tsx', join(repoRoot, 'scripts/build-canister.ts'), '--target', target],
      {
        cwd: repoRoot,
        maxBuffer: 64 << 20,
        signal: opts.signal,
        env: { ...process.env, PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}` },
      },
      (err, out, errOut) => {
        if (err) reject(new Error(`${target} build failed: ${(errOut || err.message).trim().split('\n').slice(-15).join('\n')}`));
        else resolve(out);
      },
    );
  });
  const path = stdout.trim().split('\n').pop()!;
  opts.log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return path;
}
