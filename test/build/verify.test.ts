// `canopy verify` against the local replica: the local build's SHA-256 equals the module hash the
// replica certifies (read_state, anonymous) for the running steward and Canopy canisters, and a
// different module does not match.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { runCli } from '../../cli/src/cli.ts';
import { COMMANDS } from '../../cli/src/main.ts';
import { startReplica, type Replica } from '../../replica/src/index.ts';
import { InitArgsIdl } from '../../steward/src/interface.ts';
import { deployCanopy, testInitArgs } from '../support/canopy.ts';
import { captureIo } from '../support/cli-io.ts';
import { buildTarget, hex, sha256 } from '../steward/deploy.ts';

let replica: Replica;
let steward: Principal;
let stewardWasm: Uint8Array;
const dir = mkdtempSync(join(tmpdir(), 'canopy-verify-'));

before(async () => {
  replica = await startReplica({ port: 0 });
  stewardWasm = await buildTarget('steward');
  steward = await replica.createCanister();
  await replica.installCode(steward, stewardWasm, new Uint8Array(IDL.encode([InitArgsIdl], [{ canopy: Principal.fromText('aaaaa-aa') }])), 'install');
});

after(async () => {
  await replica?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function verify(...args: string[]): Promise<{ code: number; out: any; err: string }> {
  const { io, out, err } = captureIo(dir, { CANOPY_HOST: replica.url });
  const code = await runCli(['verify', '--json', ...args], COMMANDS, io);
  return { code, out: out.length ? JSON.parse(out.join('')) : undefined, err: err.join('\n') };
}

describe('canopy verify', () => {
  it('the steward: the local build matches the certified module hash', async () => {
    const r = await verify('--target', 'steward', '--canister', steward.toText());
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out, { target: 'steward', canisterId: steward.toText(), localHash: hex(sha256(stewardWasm)), moduleHash: hex(sha256(stewardWasm)), match: true });
  });

  it('Canopy: the local build matches the certified module hash', async () => {
    const canopy = await deployCanopy(replica, testInitArgs({ members: [Principal.selfAuthenticating(new Uint8Array(32).fill(7))] }));
    const r = await verify('--canister', canopy.canisterId.toText());
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.target, 'canopy');
    assert.equal(r.out.moduleHash, hex(replica.engine.moduleHash(canopy.canisterId)!));
    assert.equal(r.out.match, true);
  });

  it('a different module does not match', async () => {
    const other = join(dir, 'other.wasm');
    writeFileSync(other, new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    const r = await verify('--target', 'steward', '--canister', steward.toText(), '--wasm', other);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.match, false);
    assert.equal(r.out.moduleHash, hex(sha256(stewardWasm)));
    assert.notEqual(r.out.localHash, r.out.moduleHash);
  });

  it('refuses an unknown target', async () => {
    const r = await verify('--target', 'bridge', '--canister', steward.toText());
    assert.equal(r.code, 2);
    assert.match(r.err, /--target must be canopy or steward/);
  });
});
