// MST against the atproto interop vectors: key depths, prefix lengths, and the commit-proof
// fixtures (root before, root after and the exact set of MST blocks a diff must carry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CID } from '../../canister/src/atproto/cbor.ts';
import { BlockMap } from '../../canister/src/repo/block-map.ts';
import { Mst, countPrefixLen, leadingZerosOnHash } from '../../canister/src/repo/mst.ts';

const interop = new URL('../../../shared/interop/', import.meta.url);
const readJson = (path: string) => JSON.parse(readFileSync(new URL(path, interop), 'utf8'));
const utf8 = new TextEncoder();

test('key heights match mst/key_heights.json', () => {
  const cases: { key: string; height: number }[] = readJson('mst/key_heights.json');
  assert.ok(cases.length > 0);
  for (const c of cases) assert.equal(leadingZerosOnHash(c.key), c.height, c.key);
});

test('common prefix lengths match mst/common_prefix.json', () => {
  const cases: { left: string; right: string; len: number }[] = readJson('mst/common_prefix.json');
  assert.ok(cases.length > 0);
  for (const c of cases) assert.equal(countPrefixLen(utf8.encode(c.left), utf8.encode(c.right)), c.len, `${c.left} ${c.right}`);
});

type Fixture = {
  comment: string;
  leafValue: string;
  keys: string[];
  adds: string[];
  dels: string[];
  rootBeforeCommit: string;
  rootAfterCommit: string;
  blocksInProof: string[];
};

const fixtures: Fixture[] = readJson('firehose/commit-proof-fixtures.json');

for (const f of fixtures) {
  test(`commit-proof fixture: ${f.comment}`, () => {
    const value = CID.parse(f.leafValue);
    const store = new BlockMap();
    const before = Mst.create(store);
    for (const k of f.keys) before.add(k, value);
    assert.equal(before.finalize().toString(), f.rootBeforeCommit, 'root before');
    store.addAll(before.newBlocks);

    // Apply the commit on a tree loaded from blocks, as the canister does.
    const after = Mst.load(store, CID.parse(f.rootBeforeCommit), null); // decode from blocks, no cache
    for (const k of f.adds) after.add(k, value);
    for (const k of f.dels) after.delete(k);
    assert.equal(after.finalize().toString(), f.rootAfterCommit, 'root after');

    const proof = new BlockMap();
    proof.addAll(after.newBlocks);
    for (const k of [...f.adds, ...f.dels]) after.coveringProof(k, proof);
    assert.deepEqual(proof.cids().map(String).sort(), [...f.blocksInProof].sort(), 'blocks in proof');
  });
}

test('example_keys.txt: every insertion order gives one root', () => {
  const keys = readFileSync(new URL('mst/example_keys.txt', interop), 'utf8').split('\n').filter(Boolean);
  assert.ok(keys.length > 100);
  const value = CID.parse(fixtures[0].leafValue);
  const roots = new Set<string>();
  for (let round = 0; round < 4; round++) {
    const order = round === 0 ? keys : round === 1 ? [...keys].reverse() : shuffle([...keys], round);
    const mst = Mst.create(new BlockMap());
    for (const k of order) mst.add(k, value);
    roots.add(mst.finalize().toString());
    assert.deepEqual([...mst.leaves()].map((l) => l.key), [...keys].sort());
  }
  assert.equal(roots.size, 1);
});

function shuffle<T>(arr: T[], seed: number): T[] {
  let s = seed * 2654435761;
  for (let i = arr.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [arr[i], arr[j]] = [arr[j], arr[i]];
  }
  return arr;
}
