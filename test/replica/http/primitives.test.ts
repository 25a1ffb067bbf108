// The replica's own encoders checked against @dfinity/agent's independent implementations:
// request ids, CBOR, hash-tree digests and lookups (including absence proofs) in witnesses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestIdOf as agentRequestId, Cbor, Expiry, lookup_path, reconstruct, LookupPathStatus } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';
import { requestIdOf } from '../../../replica/src/http/request-id.ts';
import { decodeCbor, encodeCbor } from '../../../replica/src/http/cbor.ts';
import { node, toHashTree, witness, digest, treeDigest, utf8, type LabeledTree } from '../../../replica/src/http/hash-tree.ts';
import { stripCanisterIdParam, canisterFromHost } from '../../../replica/src/http/gateway.ts';

test('request ids match the agent for calls, queries and read_state requests', () => {
  const expiry = Expiry.fromDeltaInMilliseconds(120_000);
  const call = {
    request_type: 'call',
    canister_id: Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai'),
    method_name: 'greet',
    arg: new Uint8Array([68, 73, 68, 76, 0, 1, 113, 2, 104, 105]),
    sender: Principal.anonymous(),
    ingress_expiry: expiry,
    nonce: new Uint8Array(16).fill(3)
  };
  const readState = {
    request_type: 'read_state',
    paths: [[utf8('request_status'), new Uint8Array(32).fill(9)], [utf8('time')]],
    sender: Principal.anonymous(),
    ingress_expiry: expiry
  };
  for (const req of [call, readState]) {
    // what the replica sees is the CBOR the agent sends
    const decoded = decodeCbor(Cbor.encode(req)) as Record<string, never>;
    assert.deepEqual(requestIdOf(decoded), agentRequestId(req));
  }
});

test('CBOR round trips through the agent codec', () => {
  const value = { a: 1, big: 2n ** 64n - 1n, neg: -5, s: 'ü', b: new Uint8Array([1, 2, 3]), arr: [[1], []], nil: null, t: true };
  const viaAgent = Cbor.decode<Record<string, unknown>>(encodeCbor(value));
  assert.equal(viaAgent.a, 1);
  assert.equal(BigInt(viaAgent.big as bigint), 2n ** 64n - 1n);
  assert.equal(viaAgent.s, 'ü');
  assert.deepEqual(new Uint8Array(viaAgent.b as Uint8Array), value.b);
  assert.deepEqual({ ...(decodeCbor(Cbor.encode(value)) as object) }, { ...value, big: 2n ** 64n - 1n });
});

test('witnesses keep the root digest and the agent finds revealed values and proves absence', async () => {
  const leaves: [Uint8Array, LabeledTree][] = [];
  for (let i = 0; i < 37; i++) leaves.push([new Uint8Array(32).fill(i * 7), node([['status', utf8(`s${i}`)], ['reply', new Uint8Array([i])]])]);
  const tree = node([
    ['canister', node([[new Uint8Array(10).fill(1), node([['certified_data', utf8('cd')]])]])],
    ['request_status', node(leaves)],
    ['time', new Uint8Array([42])]
  ]);
  const full = toHashTree(tree);
  assert.deepEqual(treeDigest(tree), digest(full));
  assert.deepEqual(await reconstruct(full as never), digest(full));
  const present = new Uint8Array(32).fill(14);
  const absent = new Uint8Array(32).fill(15);
  const w = witness(tree, [[utf8('time')], [utf8('request_status'), present], [utf8('request_status'), absent]]);
  assert.deepEqual(await reconstruct(w as never), digest(full));
  const reply = lookup_path(['request_status', present, 'reply'], w as never);
  assert.equal(reply.status, LookupPathStatus.Found);
  assert.deepEqual(reply.value, new Uint8Array([2]));
  assert.equal(lookup_path(['request_status', absent, 'status'], w as never).status, LookupPathStatus.Absent);
  assert.equal(lookup_path(['time'], w as never).status, LookupPathStatus.Found);
  // a pruned neighbour is not readable
  assert.notEqual(lookup_path(['request_status', new Uint8Array(32).fill(21), 'status'], w as never).status, LookupPathStatus.Found);
  assert.notEqual(lookup_path(['canister', new Uint8Array(10).fill(1), 'certified_data'], w as never).status, LookupPathStatus.Found);
});

test('gateway addressing: Host forms and canisterId removal keep the rest of the URL byte for byte', () => {
  assert.equal(canisterFromHost('rrkah-fqaaa-aaaaa-aaaaq-cai.raw.localhost:4943'), 'rrkah-fqaaa-aaaaa-aaaaq-cai');
  assert.equal(canisterFromHost('rrkah-fqaaa-aaaaa-aaaaq-cai.localhost'), 'rrkah-fqaaa-aaaaa-aaaaq-cai');
  assert.equal(canisterFromHost('127.0.0.1:4943'), undefined);
  assert.deepEqual(stripCanisterIdParam('/x?canisterId=abc'), { url: '/x', canisterId: 'abc' });
  assert.deepEqual(stripCanisterIdParam('/x?a=%2F&canisterId=abc&b=1+2&c'), { url: '/x?a=%2F&b=1+2&c', canisterId: 'abc' });
  assert.deepEqual(stripCanisterIdParam('/x?a=1'), { url: '/x?a=1', canisterId: undefined });
});
