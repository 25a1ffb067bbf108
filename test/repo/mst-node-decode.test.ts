// The specialised MST node decoder (repo/mst-node-decode.ts) against the generic DAG-CBOR path:
// same keys, links and CIDs for real nodes; for any non-canonical or corrupted node it either
// declines (null: the generic decoder then decides) or agrees with what the generic decoder reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dagCbor from '@ipld/dag-cbor';
import { CID, decodeCbor, encodeBlock } from '../../canister/src/atproto/cbor.ts';
import { BlockMap } from '../../canister/src/repo/block-map.ts';
import { decodeMstNode, Mst, MstError } from '../../canister/src/repo/mst.ts';
import { fastDecodeMstNode } from '../../canister/src/repo/mst-node-decode.ts';
import { randomPaths, rng } from './repo-fixture.ts';

type Raw = { l: CID | null; e: { p: number; k: Uint8Array; v: CID; t: CID | null }[] };

/** Generic reading of a node: keys expanded from prefix compression. */
function generic(bytes: Uint8Array) {
  const d = decodeCbor<Raw>(bytes);
  let prev = new Uint8Array(0);
  const entries = d.e.map((e) => {
    const k = new Uint8Array([...prev.subarray(0, e.p), ...e.k]);
    prev = k;
    return { key: new TextDecoder().decode(k), value: e.v.toString(), right: e.t?.toString() ?? null };
  });
  return { left: d.l?.toString() ?? null, entries };
}

function view(n: NonNullable<ReturnType<typeof fastDecodeMstNode>>) {
  return { left: n.left?.toString() ?? null, entries: n.entries.map((e) => ({ key: e.key, value: e.value.toString(), right: e.right?.toString() ?? null })) };
}

function nodesOf(n: number, seed: number): [CID, Uint8Array][] {
  const store = new BlockMap();
  const mst = Mst.create(store, null);
  const random = rng(seed);
  for (const p of randomPaths(n, random)) mst.add(p, encodeBlock({ p }).cid);
  mst.finalize();
  return [...mst.newBlocks.entries()];
}

test('real nodes decode exactly as the generic decoder reads them', () => {
  const nodes = nodesOf(3000, 3);
  assert.ok(nodes.length > 100);
  for (const [cid, bytes] of nodes) {
    const fast = fastDecodeMstNode(bytes);
    assert.ok(fast, `canonical node ${cid} takes the fast path`);
    assert.deepEqual(view(fast), generic(bytes));
    for (const e of fast.entries) {
      assert.ok(CID.asCID(e.value) === e.value && e.value.bytes.length === 36);
      assert.ok(e.value.equals(CID.decode(e.value.bytes)));
    }
    const full = decodeMstNode(bytes, cid);
    assert.equal(full.bytes, bytes);
  }
});

test('corrupted or non-canonical nodes never decode differently from the generic decoder', () => {
  const nodes = nodesOf(400, 9).slice(0, 40);
  let declined = 0;
  for (const [, bytes] of nodes) {
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [0x01, 0x80, 0x20]) {
        const m = bytes.slice();
        m[i] ^= flip;
        const fast = fastDecodeMstNode(m);
        if (!fast) {
          declined++;
          continue;
        }
        let g;
        try {
          g = generic(m);
        } catch {
          assert.fail(`fast path accepted bytes the generic decoder rejects (byte ${i} ^ ${flip})`);
        }
        assert.deepEqual(view(fast), g);
      }
    }
    assert.equal(fastDecodeMstNode(bytes.subarray(0, bytes.length - 1)), null, 'truncated');
    assert.equal(fastDecodeMstNode(new Uint8Array([...bytes, 0])), null, 'trailing byte');
  }
  assert.ok(declined > 0);
});

test('valid but unusual nodes fall back to the generic decoder with the same errors', () => {
  const [[, bytes]] = nodesOf(50, 4);
  const raw = decodeCbor<Raw>(bytes);
  // An extra map key is valid DAG-CBOR: the generic path reads it as before.
  const extra = dagCbor.encode({ ...raw, z: 1 });
  assert.equal(fastDecodeMstNode(extra), null);
  assert.deepEqual(
    decodeMstNode(extra, encodeBlock({}).cid).entries.map((e) => e.key),
    generic(bytes).entries.map((e) => e.key),
  );
  // Keys out of order (full keys, no prefix compression, reversed): declined by the fast path,
  // refused by the generic one.
  const full = raw.e.map((e, i) => ({ ...e, p: 0, k: new TextEncoder().encode(generic(bytes).entries[i].key) }));
  const swapped = dagCbor.encode({ ...raw, e: full.reverse() });
  assert.equal(fastDecodeMstNode(swapped), null);
  assert.throws(() => decodeMstNode(swapped, encodeBlock({}).cid), MstError);
});
