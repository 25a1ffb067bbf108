// The local stack's deployment (scripts/stack/upgrade-by-vote.ts) on a replica: the first start
// creates Canopy and the steward controlling each other; a start with changed canister code goes
// the sovereign path (the founding member stages, proposes and votes; the steward installs); a
// start with the same code changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Secp256k1KeyIdentity } from '@dfinity/identity-secp256k1';
import { Principal } from '@dfinity/principal';
import { InitArgs } from '../../canister/src/api/interface.ts';
import { certifiedCanister, isSovereign } from '../../cli/src/sovereignty.ts';
import { wasmSha256 } from '../../cli/src/wasm-staging.ts';
import { startReplica, type Replica } from '../../replica/src/index.ts';
import { devInitArgs } from '../../scripts/stack/index.ts';
import { waitUntil } from '../../scripts/stack/processes.ts';
import { deployStack, type StackCanisters } from '../../scripts/stack/upgrade-by-vote.ts';
import { buildTarget, withCustomSection } from '../steward/deploy.ts';
import { buildCanister } from '../support/canopy.ts';

const member = Secp256k1KeyIdentity.generate();
let replica: Replica;
let agent: HttpAgent;
let v1: Uint8Array;
let stewardWasm: Uint8Array;
const logs: string[] = [];

before(async () => {
  v1 = await buildCanister();
  stewardWasm = await buildTarget('steward');
  replica = await startReplica({ port: 0 });
  agent = await HttpAgent.create({ host: replica.url, identity: member, shouldFetchRootKey: true, retryTimes: 0 });
});
after(async () => {
  await replica?.stop();
});

const deploy = (canopyWasm: Uint8Array, existing: { canisterId?: string; stewardId?: string }) =>
  deployStack({
    agent,
    canopyWasm,
    stewardWasm,
    initArg: new Uint8Array(IDL.encode([InitArgs], [devInitArgs(member.getPrincipal(), 2583, 'canopy.test')])),
    existing,
    log: (l) => logs.push(l),
    waitUntil: (what, done) => waitUntil(what, done, { timeoutMs: 180_000 }),
  });

describe('the local stack deploys sovereign canisters and upgrades them by vote', () => {
  let first: StackCanisters;

  it('first start: both canisters, each the only controller of the other', async () => {
    first = await deploy(v1, {});
    assert.equal(first.action, 'created');
    const canopy = await certifiedCanister(agent, Principal.fromText(first.canisterId));
    const steward = await certifiedCanister(agent, Principal.fromText(first.stewardId));
    assert.ok(isSovereign({ id: first.canisterId, ...canopy }, { id: first.stewardId, ...steward }));
    assert.equal(canopy.moduleHash, wasmSha256(v1));
  });

  it('changed code: the member proposes and votes, the steward installs it', async () => {
    const v2 = withCustomSection(v1, 'changed sources');
    const again = await deploy(v2, first);
    assert.deepEqual(again, { ...first, action: 'upgraded by vote' });
    const canopy = await certifiedCanister(agent, Principal.fromText(first.canisterId));
    assert.equal(canopy.moduleHash, wasmSha256(v2));
    assert.deepEqual(canopy.controllers, [first.stewardId]);
    assert.ok(logs.some((l) => /proposal 1 executed/.test(l)), logs.join('\n'));
    assert.deepEqual(await deploy(v2, first), { ...first, action: 'unchanged' });
  });
});
