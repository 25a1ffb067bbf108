// The management canister's lifecycle over the IC HTTP interface with unmodified @dfinity/agent: a chunked
// install of the real canister wasm through the management client, the certified module hash and controllers
// read with CanisterStatus.request, snapshots, and the refusals the IC gives before execution (ingress filter:
// canister_inspect_message, controller checks) as uncertified rejects on the call endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Actor, CanisterStatus, Certificate, HttpAgent, LookupPathStatus, RejectError, UncertifiedRejectUpdateErrorCode, type Identity } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import type { Principal } from '@dfinity/principal';
import { startReplica, type Replica } from '../../../replica/src/index.ts';
import { managementActor } from '../../../replica/src/management-client.ts';
import { counterWasm } from '../exec/lifecycle-fixtures.ts';
import { testCanisterWasm, initArg, testCanisterIdl, type TestCanister } from './canister.ts';

let replica: Replica;
let stateDir: string;
const controller = Ed25519KeyIdentity.generate();
const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'replica-lifecycle-e2e-'));
  replica = await startReplica({ port: 0, stateDir });
});

after(async () => {
  await replica?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const agentFor = (identity?: Identity) => HttpAgent.create({ host: replica.url, shouldFetchRootKey: true, identity, retryTimes: 0 });

/** the error an uncertified (pre-execution) reject gives through the agent */
async function refusedWith(p: Promise<unknown>, rejectCode: number, errorCode: string, text: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RejectError, String(e));
    assert.ok(e.code instanceof UncertifiedRejectUpdateErrorCode, e.code.constructor.name);
    assert.equal(e.code.rejectCode, rejectCode);
    assert.equal(e.code.rejectErrorCode, errorCode);
    assert.match(e.code.rejectMessage, text);
    return true;
  });
}

test('chunked install of the real canister wasm; CanisterStatus.request reads the certified module hash and controllers', async () => {
  const agent = await agentFor(controller);
  const ic = managementActor(agent);
  const { canister_id } = await ic.provisional_create_canister_with_cycles({ amount: [], settings: [{ controllers: [[controller.getPrincipal()]] }] });
  const wasm = await testCanisterWasm();
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < wasm.length; i += 1024 * 1024) {
    const { hash } = await ic.upload_chunk({ canister_id, chunk: wasm.subarray(i, i + 1024 * 1024) });
    hashes.push(Uint8Array.from(hash));
  }
  assert.ok(hashes.length >= 3);
  assert.equal((await ic.stored_chunks({ canister_id })).length, hashes.length);
  await ic.install_chunked_code({
    target_canister: canister_id,
    chunk_hashes_list: hashes.map((hash) => ({ hash })),
    wasm_module_hash: sha(wasm),
    mode: { install: null },
    arg: initArg('chunked')
  });
  const deployed = Actor.createActor(testCanisterIdl, { agent, canisterId: canister_id }) as unknown as TestCanister;
  assert.equal(await deployed.getInitArg(), 'chunked');

  // read_state /canister/<id>/module_hash and /controllers, certified, as dfx and `canopy verify` read them
  const anonymous = await agentFor();
  const status = await CanisterStatus.request({ canisterId: canister_id, agent: anonymous, paths: ['module_hash', 'controllers'] });
  assert.equal(status.get('module_hash'), Buffer.from(sha(wasm)).toString('hex'));
  assert.deepEqual((status.get('controllers') as Principal[]).map((p) => p.toText()), [controller.getPrincipal().toText()]);

  // canister_status for the controller
  const s = await ic.canister_status({ canister_id });
  assert.deepEqual(s.module_hash.map((h) => Buffer.from(h).toString('hex')), [Buffer.from(sha(wasm)).toString('hex')]);
  assert.deepEqual(s.status, { running: null });

  // a snapshot taken and loaded over HTTP
  await deployed.increment();
  const counts = await deployed.getCounts();
  const snap = await ic.take_canister_snapshot({ canister_id });
  await deployed.increment();
  await ic.stop_canister({ canister_id });
  await ic.load_canister_snapshot({ canister_id, snapshot_id: snap.id });
  await ic.start_canister({ canister_id });
  assert.deepEqual(await deployed.getCounts(), counts);
  assert.equal((await ic.list_canister_snapshots({ canister_id })).length, 1);

  // a stranger is refused before execution, as the IC's ingress filter does
  const stranger = managementActor(await agentFor(Ed25519KeyIdentity.generate()));
  await refusedWith(stranger.stop_canister({ canister_id }), 5, 'IC0512', /Only controllers of canister .* can call ic00 method stop_canister/);
  await refusedWith(stranger.take_canister_snapshot({ canister_id }), 5, 'IC0512', /take_canister_snapshot/);
  await refusedWith(stranger.upload_chunk({ canister_id, chunk: new Uint8Array([1]) }), 5, 'IC0512', /upload_chunk/);
  assert.deepEqual((await ic.canister_status({ canister_id })).status, { running: null });
});

test('canister_inspect_message refusals reach the agent as the IC answers them (uncertified, nothing executed)', async () => {
  const agent = await agentFor(controller);
  const ic = managementActor(agent);
  const { canister_id } = await ic.provisional_create_canister_with_cycles({ amount: [], settings: [{ controllers: [[controller.getPrincipal()]] }] });
  await ic.install_code({ canister_id, wasm_module: counterWasm(), arg: new Uint8Array(), mode: { install: null } });
  const raw = (method: string) => agent.call(canister_id, { methodName: method, arg: new Uint8Array(IDL.encode([], [])), effectiveCanisterId: canister_id });

  const refused = await raw('nope');
  assert.equal(refused.response.status, 200);
  assert.ok(!('certificate' in (refused.response.body as object)));
  // nothing was recorded for it: request_status has no entry (the witness proves absence by its neighbours; the
  // agent's own label comparison is not lexicographic, so it may read that proof as Unknown, never as Found)
  const path = [new TextEncoder().encode('request_status'), refused.requestId, new TextEncoder().encode('status')];
  const { certificate } = await agent.readState(canister_id, { paths: [path] });
  const cert = await Certificate.create({ certificate, rootKey: agent.rootKey!, canisterId: canister_id });
  assert.notEqual(cert.lookup_path(path).status, LookupPathStatus.Found);
  const counter = Actor.createActor(({ IDL }) => IDL.Service({ nope: IDL.Func([], [], []), trap_: IDL.Func([], [], []) }), { agent, canisterId: canister_id }) as unknown as {
    nope(): Promise<void>;
    trap_(): Promise<void>;
  };
  await refusedWith(counter.nope(), 4, 'IC0406', new RegExp(`Canister ${canister_id.toText()} rejected the message`));
  await refusedWith(counter.trap_(), 5, 'IC0503', /Canister trapped: unreachable/);
  // an accepted call goes through and is certified
  const ok = await raw('inc');
  assert.equal(ok.response.status, 200);
  assert.ok('certificate' in (ok.response.body as object));
});
