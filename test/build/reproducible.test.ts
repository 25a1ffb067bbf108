// Verifiable builds: the same commit, extracted into two directories with different paths, builds
// to byte-identical wasm for both canisters (what `canopy verify` relies on).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot, TARGETS, type Target } from '../../scripts/build-canister.ts';

const work = mkdtempSync(join(tmpdir(), 'canopy-repro-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A clean checkout of HEAD (no build output, no local files) at `dir`, sharing node_modules. */
function checkout(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['-C', repoRoot, 'archive', '--format=tar', 'HEAD'], { maxBuffer: 256 << 20 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  symlinkSync(realpathSync(join(repoRoot, 'node_modules')), join(dir, 'node_modules'));
  return dir;
}

function build(dir: string, target: Target): string {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-canister.ts', '--target', target], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    // a local setting must not reach the module
    env: { ...process.env, AZLE_CANISTER_BACKTRACES: dir.endsWith('b') ? 'true' : 'false' },
  });
  return createHash('sha256').update(readFileSync(join(dir, `.azle/${target}/${target}.wasm`))).digest('hex');
}

const a = checkout(join(work, 'a'));
const b = checkout(join(work, 'second-clone', 'b'));

for (const target of Object.keys(TARGETS) as Target[]) {
  test(`${target}: two clean checkouts of the same commit build byte-identical wasm`, () => {
    const ha = build(a, target);
    const hb = build(b, target);
    assert.match(ha, /^[0-9a-f]{64}$/);
    assert.equal(ha, hb);
    // The wasm names no directory of either checkout.
    for (const dir of [a, b]) {
      const wasm = readFileSync(join(dir, `.azle/${target}/${target}.wasm`));
      assert.equal(wasm.indexOf(Buffer.from(work)), -1, `${target}.wasm embeds its build path`);
    }
  });
}
