// Upgrades by vote end to end on the local replica: the real Canopy canister and the real steward,
// each the only controller of the other (deployed by scripts/stack/sovereign.ts as the stack does).
// A member stages a module and proposes it, the vote adopts it, the steward installs it; the
// certified module hash is the wasm's SHA-256 and the DID, records, event log and commit chain are
// intact, with a firehose subscriber (through the bridge) seeing every seq once. A module whose
// post_upgrade traps and a module that fails the health check each fail with the reason, and the
// old module runs again with its state. Nobody but the two canisters manages either.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Actor, HttpAgent, type Identity } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { fromOpt, tagged, tagOf } from '../../canister/src/api/candid.ts';
import { idlFactory, type CanopyService, type ProposalActionC, type ProposalViewC } from '../../canister/src/api/interface.ts';
import { runCli } from '../../cli/src/cli.ts';
import { certifiedModuleHash } from '../../cli/src/commands/verify.ts';
import { COMMANDS } from '../../cli/src/main.ts';
import { certifiedCanister, isSovereign } from '../../cli/src/sovereignty.ts';
import { proposeUpgrade, wasmSha256 } from '../../cli/src/wasm-staging.ts';
import { startBridge, type RunningBridge } from '../../bridge/src/index.ts';
import { managementActor } from '../../replica/src/management-client.ts';
import { startReplica, type Replica } from '../../replica/src/index.ts';
import { deploySovereign } from '../../scripts/stack/sovereign.ts';
import { InitArgsIdl, stewardIdlFactory } from '../../steward/src/interface.ts';
import { range, TestClient } from '../bridge/helpers.ts';
import { assemble } from '../replica/exec/mini-wasm.ts';
import { buildTarget, withCustomSection } from '../steward/deploy.ts';
import { buildCanister, encodeInitArgs, testInitArgs, type CanopyActor } from '../support/canopy.ts';
import { captureIo } from '../support/cli-io.ts';

const POST = 'app.bsky.feed.post';
const deployer = Ed25519KeyIdentity.generate(); // a person: controls nothing once deployment is done
const alice = Ed25519KeyIdentity.generate(); // the only member
const writer = Ed25519KeyIdentity.generate(); // a delegate
const eve = Ed25519KeyIdentity.generate(); // outsider

let replica: Replica;
let canopyId: Principal;
let stewardId: Principal;
let v1: Uint8Array;
let current: Uint8Array;
let stewardWasm: Uint8Array;
let bridge: RunningBridge;
const cliDir = mkdtempSync(join(tmpdir(), 'canopy-upgrade-cli-'));
let cliMember: string;
let subscriber: TestClient;
const as: Record<string, CanopyActor> = {};

async function agentFor(identity?: Identity): Promise<HttpAgent> {
  return HttpAgent.create({ host: replica.url, identity, shouldFetchRootKey: true, retryTimes: 0 });
}
const actorFor = async (identity?: Identity) => Actor.createActor<CanopyService>(idlFactory, { agent: await agentFor(identity), canisterId: canopyId });

before(async () => {
  v1 = await buildCanister();
  current = v1;
  stewardWasm = await buildTarget('steward');
  replica = await startReplica({ port: 0 });
  const agent = await agentFor(deployer);
  cliMember = (await cli('identity', 'new', 'member')).out.principal;
  const init = testInitArgs({
    members: [alice.getPrincipal(), Principal.fromText(cliMember)],
    delegates: [{ principal: writer.getPrincipal().toText(), scope: { collections: [POST], actions: [{ create: null }], writes_per_day: 1000, expires_at_ns: [] } }],
  });
  init.governance.members[0]!.power = 3n; // alice's yes alone adopts
  ({ canopyId, stewardId } = await deploySovereign({
    agent,
    canopyWasm: v1,
    canopyInit: encodeInitArgs(init),
    stewardWasm,
    stewardInit: (canopy) => new Uint8Array(IDL.encode([InitArgsIdl], [{ canopy }])),
    setSteward: async (canopy, steward) => {
      await Actor.createActor<CanopyService>(idlFactory, { agent, canisterId: canopy }).set_steward(steward.toText());
    },
  }));
  for (const [name, id] of Object.entries({ alice, writer, eve })) as[name] = await actorFor(id);
  as.anon = await actorFor();
  for (let i = 0; i < 60 && !(await as.anon.get_status()).rev.length; i++) await replica.advanceTime(1_000);
  for (let i = 0; i < 5; i++) await post(`before the upgrade ${i}`);
  bridge = await startBridge({
    host: '127.0.0.1', port: 0, logLevel: 'silent', icHost: replica.url, canisterId: canopyId.toText(),
    pollMinMs: 20, errorBackoffMinMs: 50, errorBackoffMaxMs: 500,
  });
  await bridge.poller.ready;
  subscriber = new TestClient(bridge.url, 0);
});

after(async () => {
  subscriber?.close();
  await bridge?.close();
  await replica?.stop();
  rmSync(cliDir, { recursive: true, force: true });
});

/** `canopy <args> --json` in process, as the CLI member, against this replica and canister. */
async function cli(...args: string[]): Promise<{ code: number; out: any; err: string }> {
  const { io, out, err } = captureIo(cliDir, {
    ...(replica ? { CANOPY_HOST: replica.url } : {}),
    ...(canopyId ? { CANOPY_CANISTER_ID: canopyId.toText() } : {}),
  });
  const code = await runCli([...args, '--json'], COMMANDS, io);
  return { code, out: out.length ? JSON.parse(out.join('')) : undefined, err: err.join('\n') };
}

async function post(text: string) {
  return as.writer!.create_record({ collection: POST, rkey: [], record_json: JSON.stringify({ $type: POST, text, createdAt: new Date().toISOString() }) });
}

/** Stages, proposes and adopts (one member) an upgrade; lets the timers run until it is decided. */
async function upgradeByVote(wasm: Uint8Array, note: string): Promise<ProposalViewC> {
  const { id, wasmHash } = await proposeUpgrade(as.alice!, { wasm, target: 'canopy', commit: 'abc1234', summary: note });
  assert.equal(wasmHash, wasmSha256(wasm));
  const open = (await as.anon!.get_proposal(id))[0]!;
  assert.deepEqual(open.action, { upgrade: { wasm_hash: wasmHash, target: { canopy: null }, arg: [], commit: ['abc1234'] } }, 'voters see the hash and the claimed commit');
  return adopt(id);
}

/** Alice votes yes (adopts); the timers run until the proposal is decided. */
async function adopt(id: bigint): Promise<ProposalViewC> {
  await as.alice!.vote({ id, vote: tagged('yes') });
  for (let i = 0; i < 300; i++) {
    await replica.advanceTime(1_000);
    const p = await as.anon!.get_proposal(id).catch(() => []); // stopped while the steward works
    const status = p[0] && tagOf(p[0].status);
    if (status === 'executed' || status === 'failed') return p[0]!;
  }
  throw new Error(`upgrade proposal ${id} was not decided`);
}

/** Everything an upgrade must keep: identity, head, every event frame. */
async function snapshotState() {
  const s = await as.anon!.get_status();
  const events = await as.anon!.get_events({ after: 0n, limit: 10_000, max_bytes: 4_000_000 });
  return { did: s.did, rev: s.rev, head: s.head_seq, signingKey: s.signing_key, frames: events.events.map((e) => Buffer.from(e.frame).toString('hex')) };
}

describe('upgrade by vote', () => {
  it('the two canisters control each other and nothing else does', async () => {
    const agent = await agentFor();
    const canopy = await certifiedCanister(agent, canopyId);
    const steward = await certifiedCanister(agent, stewardId);
    assert.deepEqual(canopy.controllers, [stewardId.toText()]);
    assert.deepEqual(steward.controllers, [canopyId.toText()]);
    assert.ok(isSovereign({ id: canopyId.toText(), ...canopy }, { id: stewardId.toText(), ...steward }));
    assert.equal(canopy.moduleHash, wasmSha256(v1), 'installed byte for byte');
    assert.deepEqual(await as.anon!.get_steward(), [stewardId.toText()]);
  });

  it('executes an upgrade to a different module; state, event log and commit chain intact; the subscriber sees every seq once', async () => {
    const v2 = withCustomSection(v1, 'release 2');
    const before = await snapshotState();
    const p = await upgradeByVote(v2, 'release 2');
    assert.equal(tagOf(p.status), 'executed', fromOpt(p.failure));
    assert.equal(fromOpt(fromOpt(p.result)!.module_hash), wasmSha256(v2));
    assert.equal(await certifiedModuleHash(replica.url, canopyId.toText(), true), wasmSha256(v2));
    current = v2;
    const afterUpgrade = await snapshotState();
    assert.equal(afterUpgrade.did, before.did);
    assert.equal(afterUpgrade.signingKey, before.signingKey);
    assert.deepEqual(afterUpgrade.frames.slice(0, before.frames.length), before.frames, 'every event frame as it was');
    // governance and writes run on the new module; the commit chain continues from the old head
    const w = await post('after the upgrade');
    assert.ok(w.rev > before.rev[0]!, 'the next commit follows the old head');
    const head = Number(w.seq);
    await subscriber.waitForSeq(head, 20_000);
    assert.deepEqual(subscriber.seqs(), range(1, head), 'every seq exactly once, in order, across the upgrade');
    const health = await as.alice!.health_check();
    assert.equal(health.ok, true, health.detail);
  });

  it('a module whose post_upgrade traps: the proposal fails with the reason and the old module runs with its state', async () => {
    const before = await snapshotState();
    const trapping = assemble({ imports: [], funcs: [{ export: 'canister_post_upgrade', body: [0x00 /* unreachable */] }] });
    const p = await upgradeByVote(trapping, 'trapping post_upgrade');
    assert.equal(tagOf(p.status), 'failed');
    assert.match(fromOpt(p.failure)!, /install_chunked_code failed/);
    assert.equal(await certifiedModuleHash(replica.url, canopyId.toText(), true), wasmSha256(current));
    assert.deepEqual(await snapshotState(), before);
  });

  it('a module that installs but fails the health check is rolled back', async () => {
    const before = await snapshotState();
    const unhealthy = assemble({ imports: [], funcs: [{ export: 'canister_post_upgrade', body: [] }] });
    const p = await upgradeByVote(unhealthy, 'empty post_upgrade');
    assert.equal(tagOf(p.status), 'failed');
    assert.match(fromOpt(p.failure)!, /health/);
    assert.equal(await certifiedModuleHash(replica.url, canopyId.toText(), true), wasmSha256(current));
    assert.deepEqual(await snapshotState(), before);
    await post('still writing after two rollbacks');
  });

  it('an executed upgrade never runs again', async () => {
    const steward = Actor.createActor(stewardIdlFactory, { agent: await agentFor(), canisterId: stewardId }) as any;
    const [done] = await steward.get_upgrade(1n);
    assert.ok(done && 'done' in done.phase);
    await replica.advanceTime(600_000);
    assert.equal(await certifiedModuleHash(replica.url, canopyId.toText(), true), wasmSha256(current));
    assert.equal(tagOf((await as.anon!.get_proposal(1n))[0]!.status), 'executed');
  });

  it('the CLI: propose upgrade uploads and proposes, proposal shows result.moduleHash, status shows sovereignty', async () => {
    const v3 = withCustomSection(current, 'release 3');
    const file = join(cliDir, 'v3.wasm');
    writeFileSync(file, v3);
    const proposed = await cli('propose', 'upgrade', '--wasm', file, '--commit', 'abcdef1', '--arg', '()');
    assert.equal(proposed.code, 0, proposed.err);
    assert.equal(proposed.out.wasmHash, wasmSha256(v3));
    const shown = await cli('proposal', String(proposed.out.id));
    assert.equal(shown.out.status, 'open');
    const p = await adopt(BigInt(proposed.out.id));
    assert.equal(tagOf(p.status), 'executed', fromOpt(p.failure));
    current = v3;
    const done = await cli('proposal', String(proposed.out.id));
    assert.deepEqual(done.out, { id: Number(proposed.out.id), kind: 'upgrade', status: 'executed', result: { moduleHash: wasmSha256(v3) } });
    const failed = await cli('proposal', '2');
    assert.equal(failed.out.status, 'failed');
    assert.match(failed.out.failure, /install_chunked_code failed/);
    const status = await cli('status');
    assert.equal(status.code, 0, status.err);
    assert.deepEqual(
      { controllers: status.out.controllers, steward: status.out.steward, moduleHash: status.out.moduleHash, sovereign: status.out.sovereign },
      { controllers: [stewardId.toText()], steward: stewardId.toText(), moduleHash: wasmSha256(v3), sovereign: true },
    );
    const bad = await cli('propose', 'upgrade', '--wasm', join(cliDir, 'v3.wasm'), '--commit', 'not-a-sha');
    assert.equal(bad.code, 2, 'a usage error');
    assert.match(bad.err, /--commit must be a git commit id/);
  });

  it('upgrades the steward by vote (Canopy drives it), and rolls back a steward module that fails its health check', async () => {
    const steward = Actor.createActor(stewardIdlFactory, { agent: await agentFor(), canisterId: stewardId }) as any;
    const before = await steward.get_upgrade(1n);
    const s2 = withCustomSection(stewardWasm, 'steward 2');
    // Four modules are staged (the bound); those of decided proposals are dropped an hour after their last use.
    assert.equal((await as.anon!.list_staged_wasm()).length, 4);
    await assert.rejects(proposeUpgrade(as.alice!, { wasm: s2, target: 'steward' }), /4 modules are staged already/);
    await replica.advanceTime(3_600_000);
    const { id } = await proposeUpgrade(as.alice!, { wasm: s2, target: 'steward', commit: 'abc1234' });
    assert.deepEqual((await as.anon!.list_staged_wasm()).map((m) => m.wasm_hash), [wasmSha256(s2)]);
    const p = await adopt(id);
    assert.equal(tagOf(p.status), 'executed', fromOpt(p.failure));
    assert.equal(fromOpt(fromOpt(p.result)!.module_hash), wasmSha256(s2));
    assert.equal(await certifiedModuleHash(replica.url, stewardId.toText(), true), wasmSha256(s2));
    assert.equal((await steward.get_config()).canopy.toText(), canopyId.toText());
    assert.deepEqual(await steward.get_upgrade(1n), before, 'its records survive its upgrade');
    const broken = assemble({ imports: [], funcs: [{ export: 'canister_post_upgrade', body: [] }] });
    const q = await adopt((await proposeUpgrade(as.alice!, { wasm: broken, target: 'steward' })).id);
    assert.equal(tagOf(q.status), 'failed');
    assert.match(fromOpt(q.failure)!, /health check failed/);
    assert.equal(await certifiedModuleHash(replica.url, stewardId.toText(), true), wasmSha256(s2));
    assert.deepEqual(await steward.get_upgrade(1n), before);
    assert.deepEqual((await certifiedCanister(await agentFor(), stewardId)).controllers, [canopyId.toText()]);
  });

  it('a non-member cannot upload or propose code; a report from anyone but the steward is refused', async () => {
    const chunk = { wasm_hash: wasmSha256(v1), total_size: BigInt(v1.length), offset: 0n, chunk: v1.subarray(0, 1024) };
    await assert.rejects(as.eve!.stage_wasm_chunk(chunk), /is not a member/);
    await assert.rejects(as.anon!.stage_wasm_chunk(chunk), /anonymous|not a member/);
    await assert.rejects(as.writer!.stage_wasm_chunk(chunk), /is not a member/, 'a delegate is not a member');
    const action: ProposalActionC = { upgrade: { wasm_hash: wasmSha256(current), target: { canopy: null }, arg: [], commit: [] } };
    const upgrade = (action as { upgrade: Extract<ProposalActionC, { upgrade: unknown }>['upgrade'] }).upgrade;
    await assert.rejects(as.eve!.propose({ action, summary: [] }), /not a member/);
    await assert.rejects(
      as.alice!.propose({ action: { upgrade: { ...upgrade, wasm_hash: 'ab'.repeat(32) } }, summary: [] }),
      /no complete wasm module with hash/,
    );
    await assert.rejects(as.alice!.steward_report({ proposal_id: 1n, outcome: { failed: { reason: 'forged' } } }), /is not the steward; steward_report is refused/);
    await assert.rejects(as.eve!.set_steward(eve.getPrincipal().toText()), /is not a controller; set_steward is refused/);
    await assert.rejects(as.eve!.health_check(), /is not the steward or a member; health_check is refused/);
    assert.equal(tagOf((await as.anon!.get_proposal(1n))[0]!.status), 'executed');
  });

  it('nobody but the two canisters can install, stop, snapshot or change settings of either', async () => {
    for (const person of [deployer, alice, undefined]) {
      const ic = managementActor(await agentFor(person));
      for (const target of [canopyId, stewardId]) {
        await assert.rejects(ic.install_code({ mode: { upgrade: [] }, canister_id: target, wasm_module: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), arg: new Uint8Array() }));
        await assert.rejects(ic.stop_canister({ canister_id: target }));
        await assert.rejects(ic.take_canister_snapshot({ canister_id: target }));
        await assert.rejects(ic.update_settings({ canister_id: target, settings: { controllers: [[Principal.anonymous()]] } }));
        await assert.rejects(ic.upload_chunk({ canister_id: target, chunk: new Uint8Array(1) }));
      }
    }
    const agent = await agentFor();
    assert.deepEqual((await certifiedCanister(agent, canopyId)).controllers, [stewardId.toText()]);
    assert.deepEqual((await certifiedCanister(agent, stewardId)).controllers, [canopyId.toText()]);
    assert.equal(await certifiedModuleHash(replica.url, canopyId.toText(), true), wasmSha256(current));
  });
});
