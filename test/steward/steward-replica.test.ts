// The steward canister against the local replica, with a stand-in Canopy canister
// (test/fixtures/steward-peer) and hand-made modules: a successful upgrade, a module whose
// post_upgrade traps, a module that installs but fails the health check, refusals, and no
// double execution. The two canisters control each other; no person controls either.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Actor, HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { startReplica, type Replica } from '../../replica/src/index.ts';
import { InitArgsIdl } from '../../steward/src/interface.ts';
import { certifiedModuleHash } from '../../cli/src/commands/verify.ts';
import { assemble } from '../replica/exec/mini-wasm.ts';
import { buildTarget, deployPair, hex, peerIdlFactory, peerWasm, phaseOf, sha256, withCustomSection, type Pair } from './deploy.ts';

let replica: Replica;
let pair: Pair;
let v1: Uint8Array;
let current: Uint8Array;
let stewardWasm: Uint8Array;

before(async () => {
  replica = await startReplica({ port: 0 });
  v1 = await peerWasm();
  current = v1;
  stewardWasm = await buildTarget('steward');
  pair = await deployPair(replica, { stewardWasm, canopyWasm: v1 });
  await pair.canopyActor.set_note('records before any upgrade');
});

const failureOf = (v: { outcome: [] | [object] }) => (v.outcome[0] as { failed?: { reason: string } } | undefined)?.failed?.reason;

async function assertRunning(module: Uint8Array, note: string) {
  assert.equal(hex(replica.engine.moduleHash(pair.canopy)!), hex(sha256(module)));
  assert.equal(await certifiedModuleHash(replica.url, pair.canopy.toText(), true), hex(sha256(module)));
  assert.equal(await pair.canopyActor.get_note(), note);
}

describe('steward on the replica', () => {
  // in the suite, so it runs as soon as the suite ends (a root-level after waits for an idle event loop)
  after(async () => {
    await replica?.stop();
  });

  it('each canister is the only controller of the other; the deployer can no longer manage either', async () => {
    assert.deepEqual(replica.engine.controllers(pair.canopy).map((p) => p.toText()), [pair.steward.toText()]);
    assert.deepEqual(replica.engine.controllers(pair.steward).map((p) => p.toText()), [pair.canopy.toText()]);
    for (const canister of [pair.canopy, pair.steward]) {
      const r = await replica.engine.update(
        Principal.managementCanister(), 'stop_canister', new Uint8Array(IDL.encode([IDL.Record({ canister_id: IDL.Principal })], [{ canister_id: canister }])), Principal.anonymous(),
      );
      assert.ok('reject' in r && /controllers/i.test(r.reject.message), JSON.stringify(r));
    }
  });

  it('upgrades Canopy to exactly the voted module; the certified module hash is its SHA-256; state intact', async () => {
    const v2 = withCustomSection(v1, 'release 2');
    const accepted = await pair.request(1n, v2);
    assert.equal(phaseOf(accepted), 'stop', 'the steward answers before any step');
    const done = await pair.settle(1n);
    assert.deepEqual(done.outcome, [{ ok: { module_hash: sha256(v2) } }]);
    assert.equal(done.reported, true);
    current = v2;
    await assertRunning(v2, 'records before any upgrade');
    const [report] = await pair.canopyActor.get_report(1n);
    assert.equal(hex(report.outcome.ok.module_hash), hex(sha256(v2)));
    assert.equal(await pair.canopyActor.report_count(1n), 1);
  });

  it('a module whose post_upgrade traps: fails with the reason, the old module runs with its state', async () => {
    await pair.canopyActor.set_note('state before the trapping release');
    const trapping = assemble({ imports: [], funcs: [{ export: 'canister_post_upgrade', body: [0x00 /* unreachable */] }] });
    await pair.request(2n, trapping);
    const done = await pair.settle(2n);
    assert.match(failureOf(done) ?? '', /install_chunked_code failed/);
    await assertRunning(current, 'state before the trapping release');
    const [report] = await pair.canopyActor.get_report(2n);
    assert.match(report.outcome.failed.reason, /install_chunked_code failed/);
  });

  it('a module that installs but fails the health check is rolled back', async () => {
    await pair.canopyActor.set_note('state before the unhealthy release');
    const unhealthy = assemble({ imports: [], funcs: [{ export: 'canister_post_upgrade', body: [] }] });
    await pair.request(3n, unhealthy);
    const done = await pair.settle(3n);
    assert.match(failureOf(done) ?? '', /health check failed/);
    await assertRunning(current, 'state before the unhealthy release');
    assert.equal(await pair.canopyActor.report_count(3n), 1);
  });

  it('an upgrade for a proposal already done never runs again', async () => {
    const again = await pair.request(1n, withCustomSection(v1, 'release 2'));
    assert.equal(phaseOf(again), 'done');
    await replica.advanceTime(10_000);
    await assertRunning(current, 'state before the unhealthy release');
    assert.equal(await pair.canopyActor.report_count(1n), 1);
  });

  it('the steward keeps its peer and its records across its own upgrade', async () => {
    const before = await pair.stewardActor.get_upgrade(1n);
    // Canopy upgrades the steward with install_chunked_code; the engine call stands in for it here.
    await replica.installCode(pair.steward, withCustomSection(stewardWasm, 'steward 2'), new Uint8Array(IDL.encode([InitArgsIdl], [{ canopy: pair.canopy }])), 'upgrade');
    assert.equal(hex(replica.engine.moduleHash(pair.steward)!), hex(sha256(withCustomSection(stewardWasm, 'steward 2'))));
    assert.equal((await pair.stewardActor.get_config()).canopy.toText(), pair.canopy.toText());
    assert.deepEqual(await pair.stewardActor.get_upgrade(1n), before);
  });

  it('refuses everyone but Canopy, with the reason', async () => {
    // ingress (anonymous): canister_inspect_message refuses it
    await assert.rejects(
      pair.stewardActor.upgrade_canopy({ proposal_id: 9n, wasm_hash: new Uint8Array(32), arg: new Uint8Array(), chunk_hashes: [new Uint8Array(32)] }),
      /only the Canopy canister .* may call the steward/,
    );
    await assert.rejects(pair.stewardActor.resume_upgrade(1n), /only the Canopy canister/);
    // another canister (the same stand-in code, but not the steward's peer)
    const other = await replica.createCanister({ controllers: [Principal.anonymous()] });
    await replica.installCode(other, v1, new Uint8Array(IDL.encode([IDL.Record({ steward: IDL.Principal })], [{ steward: pair.steward }])), 'install');
    const agent = await HttpAgent.create({ host: replica.url, shouldFetchRootKey: true, retryTimes: 0 });
    const impostor = Actor.createActor(peerIdlFactory, { agent, canisterId: other }) as any;
    await assert.rejects(
      impostor.request_upgrade({ proposal_id: 9n, wasm_hash: new Uint8Array(32), arg: new Uint8Array(), chunk_hashes: [new Uint8Array(32)] }),
      /only the Canopy canister .* may call the steward/,
    );
    assert.deepEqual(await pair.stewardActor.get_upgrade(9n), []);
    assert.deepEqual((await pair.stewardActor.get_config()).canopy.toText(), pair.canopy.toText());
  });
});
