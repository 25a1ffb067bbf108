// End to end: the real engine running the Azle test canister behind the HTTP interface, driven by
// unmodified @dfinity/agent (query signatures verified, certificates checked against the root key)
// and by plain HTTP through the gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Actor, HttpAgent, Certificate, Cbor, Expiry, type Identity } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Secp256k1KeyIdentity } from '@dfinity/identity-secp256k1';
import { Principal } from '@dfinity/principal';
import { secp256k1 } from '@noble/curves/secp256k1';
import { sha256 } from '@noble/hashes/sha2';
import { startReplica, type Replica } from '../../../replica/src/index.ts';
import { managementActor } from '../../../replica/src/management-client.ts';
import { testCanisterWasm, initArg, testCanisterIdl, whoamiUpdateIdl, type TestCanister } from './canister.ts';

// Lowered update limit so the over-limit test burns 2 B instructions, not the IC's 40 B.
const UPDATE_LIMIT = 2_000_000_000n;

let replica: Replica;
let stateDir: string;
let canisterId: Principal;
const controller = Ed25519KeyIdentity.generate();
const logs: { at: number; line: string }[] = [];

const start = () =>
  startReplica({
    port: 0,
    stateDir,
    log: (line) => logs.push({ at: performance.now(), line }),
    instructionLimits: { update: UPDATE_LIMIT }
  });

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'replica-e2e-'));
  replica = await start();
  canisterId = await replica.createCanister({ controllers: [controller.getPrincipal()] });
  await replica.installCode(canisterId, await testCanisterWasm(), initArg('first'), 'install');
});

after(async () => {
  await replica?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function actor(identity?: Identity, idl = testCanisterIdl): Promise<TestCanister> {
  const agent = await HttpAgent.create({ host: replica.url, shouldFetchRootKey: true, identity, retryTimes: 0 });
  return Actor.createActor(idl, { agent, canisterId }) as unknown as TestCanister;
}

test('canister ids fall in the certified canister range and query/update round trips verify', async () => {
  const a = await actor();
  assert.equal(await a.greet('agent'), 'Hello, agent!');
  assert.equal(await a.getInitArg(), 'first');
  const before = await a.getCounts();
  assert.equal(await a.increment(), before.stable + 1n);
  assert.deepEqual(await a.getCounts(), { stable: before.stable + 1n, heap: before.heap + 1n });
});

test('identity-signed calls: the canister sees the Ed25519 / secp256k1 caller in queries and updates', async () => {
  for (const id of [Ed25519KeyIdentity.generate(), Secp256k1KeyIdentity.generate()]) {
    assert.equal(await (await actor(id)).whoami(), id.getPrincipal().toText());
    assert.equal(await (await actor(id, whoamiUpdateIdl)).whoami(), id.getPrincipal().toText());
  }
  assert.equal(await (await actor()).whoami(), '2vxsx-fae');
});

test('a bad signature and an expired ingress message are rejected and change nothing', async () => {
  const a = await actor();
  const before = await a.getCounts();
  const id = Ed25519KeyIdentity.generate();
  const content = {
    request_type: 'call',
    canister_id: canisterId,
    method_name: 'increment',
    arg: new Uint8Array(IDL.encode([], [])),
    sender: id.getPrincipal(),
    ingress_expiry: Expiry.fromDeltaInMilliseconds(60_000)
  };
  const sign = async (c: Record<string, unknown>) =>
    ((await id.transformRequest({ body: c, request: { method: 'POST', headers: {} }, endpoint: 'call' } as never)) as { body: Record<string, unknown> }).body;
  const url = `${replica.url}/api/v3/canister/${canisterId.toText()}/call`;
  const send = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: Cbor.encode(body) as Uint8Array<ArrayBuffer> });

  const env = await sign(content);
  const sig = new Uint8Array(env.sender_sig as Uint8Array);
  sig[0] ^= 0x80;
  let res = await send({ ...env, sender_sig: sig });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /Invalid signature/);

  res = await send(await sign({ ...content, ingress_expiry: BigInt(Date.now() - 1000) * 1_000_000n }));
  assert.equal(res.status, 400);
  assert.match(await res.text(), /^Invalid request expiry/);

  assert.deepEqual(await a.getCounts(), before);
});

test('a trap rolls everything back and reaches the agent as a certified reject', async () => {
  const a = await actor();
  const before = await a.getCounts();
  await assert.rejects(a.incrementThenTrap(), (e: Error) => /deliberate trap after writing state/.test(e.message) && /IC0503/.test(e.message));
  assert.deepEqual(await a.getCounts(), before);
});

test('a message over the instruction limit is rejected with the IC error and no state change', async () => {
  const a = await actor();
  const before = await a.getCounts();
  await assert.rejects(a.burn(10_000_000_000n), (e: Error) =>
    new RegExp(`Canister exceeded the limit of ${UPDATE_LIMIT} instructions for single message execution`).test(e.message) &&
    /IC0522/.test(e.message)
  );
  assert.deepEqual(await a.getCounts(), before);
});

test('sign_with_ecdsa signatures verify against ecdsa_public_key', async () => {
  const a = await actor();
  const path = [new TextEncoder().encode('repo')];
  const { public_key } = await a.ecdsaPublicKey(path);
  const digest = sha256(new TextEncoder().encode('canopy commit'));
  const sig = await a.sign(path, digest);
  assert.equal(public_key.length, 33);
  assert.equal(sig.length, 64);
  assert.ok(secp256k1.verify(sig, digest, public_key, { lowS: true }));
  assert.ok(!secp256k1.verify(sig, sha256(new TextEncoder().encode('other')), public_key));
});

test('certified data comes back in a data certificate the agent verifies against the root key', async () => {
  const a = await actor();
  const data = sha256(new TextEncoder().encode('certified'));
  assert.equal(await a.setCertified(data), true);
  const cert = await a.getCertificate();
  assert.equal(cert.length, 1);
  const verified = await Certificate.create({ certificate: cert[0]!, rootKey: replica.rootKey, canisterId });
  const found = verified.lookup_path(['canister', canisterId.toUint8Array(), 'certified_data']);
  assert.deepEqual((found as { value: Uint8Array }).value, data);
});

test('a timer fires after time advances', async () => {
  const a = await actor();
  const before = await a.getTimerFired();
  await a.scheduleTimer(30);
  await replica.advanceTime(1_000);
  assert.deepEqual(await a.getTimerFired(), before);
  await replica.advanceTime(30_000);
  const after = await a.getTimerFired();
  assert.equal(after.stable, before.stable + 1n);
  assert.equal(after.heap, before.heap + 1n);
});

test('agents keep verifying certificates and passing expiry checks after the clock jumps by days', async () => {
  const a = await actor();
  const t0 = await a.scheduleTimer(3600);
  await replica.advanceTime(3 * 24 * 3600 * 1000);
  const fresh = await actor();
  for (const x of [a, fresh]) {
    const before = await x.getCounts();
    assert.equal(await x.increment(), before.stable + 1n);
  }
  const t1 = await a.scheduleTimer(1);
  assert.ok(t1 - t0 >= 3n * 24n * 3600n * 1_000_000_000n, 'canisters see the advanced clock');
});

test('gateway: GET, upgraded POST, and a streamed 10 MB body', async () => {
  let res = await fetch(replica.gatewayUrl(canisterId, '/hello?x=1'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-test'), 'replica');
  assert.equal(await res.text(), 'GET /hello?x=1');

  const count = (await (await actor()).getCounts()).stable;
  res = await fetch(replica.gatewayUrl(canisterId, '/submit'), { method: 'POST', body: 'hi there' });
  assert.equal(res.status, 201);
  assert.equal(await res.text(), `POST /submit hi there count=${count + 1n}`);

  res = await fetch(replica.gatewayUrl(canisterId, '/big'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), '10000000');
  let total = 0;
  let mismatches = 0;
  let firstByteAt = 0;
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    firstByteAt ||= performance.now();
    for (let i = 0; i < part.length; i++) if (part[i] !== ((total + i) * 7) % 251) mismatches++;
    total += part.length;
  }
  assert.equal(total, 10_000_000);
  assert.equal(mismatches, 0);
  // streamed, not buffered: the client had bytes before the last callback chunk was produced
  const callbacks = logs.filter((l) => /^\[http\] streaming_callback .* http_streaming/.test(l.line));
  assert.equal(callbacks.length >= 4, true);
  assert.ok(firstByteAt < callbacks.at(-1)!.at, 'first byte arrived before the last chunk was computed');

  res = await fetch(replica.gatewayUrl('ryjl3-tyaaa-aaaaa-aaaba-cai', '/'));
  assert.equal(res.status, 404);
});

test('metrics report per-method calls and instructions', async () => {
  const text = replica.metricsText();
  const id = canisterId.toText();
  assert.match(text, new RegExp(`replica_http_calls_total\\{kind="query",canister="${id}",method="greet"\\} [1-9]`));
  const m = new RegExp(`replica_message_instructions_total\\{kind="update",canister="${id}",method="increment",outcome="ok"\\} (\\d+)`).exec(text);
  assert.ok(m && BigInt(m[1]!) > 0n, 'instructions counted for increment');
  const viaHttp = await (await fetch(`${replica.url}/_/metrics`)).text();
  assert.match(viaHttp, /replica_message_instructions_total/);
});

test('upgrade keeps stable data and drops the heap', async () => {
  const a = await actor();
  await a.increment();
  const before = await a.getCounts();
  assert.ok(before.heap > 0n);
  await replica.installCode(canisterId, await testCanisterWasm(), initArg('second'), 'upgrade');
  assert.deepEqual(await a.getCounts(), { stable: before.stable, heap: 0n });
  assert.equal(await a.getInitArg(), 'second');
  assert.deepEqual(await a.getNote('pre_upgrade_ran'), ['yes']);
});

test('dfx-style deploy through the management canister with @dfinity/agent', async () => {
  const agent = await HttpAgent.create({ host: replica.url, shouldFetchRootKey: true, identity: controller, retryTimes: 0 });
  const ic = managementActor(agent);
  const { canister_id } = await ic.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [] });
  await ic.install_code({ mode: { install: null }, canister_id, wasm_module: await testCanisterWasm(), arg: initArg('deployed') });
  const deployed = Actor.createActor(testCanisterIdl, { agent, canisterId: canister_id }) as unknown as TestCanister;
  assert.equal(await deployed.getInitArg(), 'deployed');
  assert.equal(await deployed.whoami(), controller.getPrincipal().toText());
  // a stranger cannot install over it
  const stranger = await HttpAgent.create({ host: replica.url, shouldFetchRootKey: true, identity: Ed25519KeyIdentity.generate(), retryTimes: 0 });
  const ic2 = managementActor(stranger);
  await assert.rejects(ic2.install_code({ mode: { reinstall: null }, canister_id, wasm_module: await testCanisterWasm(), arg: initArg() }), /controller/i);
  assert.equal(await deployed.getInitArg(), 'deployed');
});

test('a restarted replica (same state dir) serves the same canister, data and root key', async () => {
  const a = await actor();
  await a.increment();
  const before = await a.getCounts();
  const rootKey = replica.rootKey;
  await replica.stop();
  replica = await start();
  assert.deepEqual(replica.rootKey, rootKey);
  const again = await actor();
  assert.equal((await again.getCounts()).stable, before.stable);
  assert.equal(await again.greet('again'), 'Hello, again!');
  assert.equal(await again.increment(), before.stable + 1n);
});
