// CAR writer/reader and the bounded, resumable full-repo export, checked with @atproto/repo
// (verifyRepoCar with our did:key) and @atcute/car as independent readers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyRepoCar } from '@atproto/repo';
import * as atcuteCar from '@atcute/car';
import { CID, cidForCborBytes, decodeCbor, encodeCbor } from '../../canister/src/atproto/cbor.ts';
import { BlockMap } from '../../canister/src/repo/block-map.ts';
import { CarError, concatBytes as concat, encodeCar, exportRepoCar, exportRepoChunk, readCar } from '../../canister/src/repo/car.ts';
import { readCommit } from '../../canister/src/repo/commit.ts';
import { Mst } from '../../canister/src/repo/mst.ts';
import type { WriteOp } from '../../canister/src/repo/writes.ts';
import { DID, post, randomPaths, rng, TestRepo } from './repo-fixture.ts';

function buildRepo(n: number, seed: number): TestRepo {
  const repo = new TestRepo();
  const paths = randomPaths(n, rng(seed));
  for (let i = 0; i < paths.length; i += 200) {
    const writes: WriteOp[] = paths.slice(i, i + 200).map((p, j) => {
      const [collection, rkey] = p.split('/');
      return { action: 'create', collection, rkey, record: { ...post(`record ${i + j}`, j), $type: collection } };
    });
    repo.commit(writes);
  }
  return repo;
}

test('encodeCar / readCar round trip, and bad CARs are rejected', () => {
  const blocks = new BlockMap();
  for (let i = 0; i < 5; i++) {
    const bytes = encodeCbor({ i, pad: 'x'.repeat(i * 100) });
    blocks.set(cidForCborBytes(bytes), bytes);
  }
  const root = blocks.cids()[0];
  const car = encodeCar([root], blocks);
  const read = readCar(car);
  assert.deepEqual(read.roots.map(String), [root.toString()]);
  assert.deepEqual(read.blocks.cids().map(String), blocks.cids().map(String));
  for (const [cid, bytes] of blocks) assert.deepEqual(new Uint8Array(read.blocks.get(cid)!), new Uint8Array(bytes));
  // Tampered block content, truncation.
  const tampered = car.slice();
  tampered[tampered.length - 1] ^= 1;
  assert.throws(() => readCar(tampered), CarError);
  assert.throws(() => readCar(car.subarray(0, car.length - 3)), CarError);
  // The independent reader agrees.
  const seen = [...atcuteCar.fromUint8Array(car)].map((e: { cid: { bytes: Uint8Array } }) => CID.decode(e.cid.bytes).toString());
  assert.deepEqual(seen, blocks.cids().map(String));
});

test('chunked export: chunks concatenate to a CAR that passes verifyRepoCar', async () => {
  const repo = buildRepo(1200, 21);
  const commitCid = repo.head!.commitCid;
  const maxBytes = 8 * 1024;
  const chunks: Uint8Array[] = [];
  let cursor: string | null = null;
  let prev: string | null = null;
  do {
    const chunk = exportRepoChunk(repo.store, commitCid, cursor, maxBytes);
    chunks.push(chunk.bytes);
    assert.ok(chunk.bytes.length <= maxBytes, `chunk ${chunks.length} is ${chunk.bytes.length} bytes`);
    if (chunk.cursor !== null && prev !== null) assert.ok(chunk.cursor > prev, 'cursor advances');
    prev = chunk.cursor;
    cursor = chunk.cursor;
    assert.ok(chunks.length < 10_000);
  } while (cursor !== null);
  assert.ok(chunks.length > 10, `expected many chunks, got ${chunks.length}`);
  const car = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    car.set(c, o);
    o += c.length;
  }
  const verified = await verifyRepoCar(car, DID, repo.didKey());
  assert.equal(verified.creates.length, 1200);
  assert.equal(verified.commit.cid.toString(), commitCid.toString());

  // Exactly the repo's blocks, each once: commit + every MST node + every record.
  const { roots, blocks } = readCar(car);
  assert.equal(roots[0].toString(), commitCid.toString());
  const mst = Mst.load(repo.store, readCommit(repo.store, commitCid).data);
  const leaves = [...mst.leaves()];
  const expected = new Set<string>([commitCid.toString(), ...leaves.map((l) => l.value.toString())]);
  const nodeCount = countNodes(repo.store, readCommit(repo.store, commitCid).data, expected);
  assert.equal(blocks.size, expected.size);
  let blockCount = 0;
  for (const [cid] of readCarAll(car)) {
    blockCount++;
    assert.ok(expected.has(cid), `unexpected block ${cid}`);
  }
  assert.equal(blockCount, 1 + nodeCount + leaves.length, 'no block is emitted twice');
});

function countNodes(store: BlockMap, root: CID, into: Set<string>): number {
  // Walk node links directly from the blocks.
  let n = 0;
  const stack = [root];
  while (stack.length) {
    const cid = stack.pop()!;
    n++;
    into.add(cid.toString());
    const node = readNodeLinks(store.get(cid)!);
    stack.push(...node);
  }
  return n;
}

function readNodeLinks(bytes: Uint8Array): CID[] {
  const data = decodeNode(bytes);
  return [data.l, ...data.e.map((e) => e.t)].filter((c): c is CID => c !== null);
}

function decodeNode(bytes: Uint8Array): { l: CID | null; e: { t: CID | null }[] } {
  return decodeCbor(bytes);
}

function* readCarAll(car: Uint8Array): Generator<[string, Uint8Array]> {
  for (const entry of atcuteCar.fromUint8Array(car) as Iterable<{ cid: { bytes: Uint8Array }; bytes: Uint8Array }>) {
    yield [CID.decode(entry.cid.bytes).toString(), entry.bytes];
  }
}

test('export of an empty repo and of a tiny repo fit in one chunk', async () => {
  const repo = new TestRepo();
  repo.commit([]);
  const one = exportRepoChunk(repo.store, repo.head!.commitCid, null, 1 << 20);
  assert.equal(one.cursor, null);
  await verifyRepoCar(one.bytes, DID, repo.didKey());
  repo.commit([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'a', record: post('a') }]);
  const two = exportRepoChunk(repo.store, repo.head!.commitCid, null, 1 << 20);
  assert.equal(two.cursor, null);
  assert.equal((await verifyRepoCar(two.bytes, DID, repo.didKey())).creates.length, 1);
});

test('a chunk always makes progress even when maxBytes is tiny', async () => {
  const repo = buildRepo(40, 5);
  let cursor: string | null = null;
  const parts: Uint8Array[] = [];
  do {
    const chunk = exportRepoChunk(repo.store, repo.head!.commitCid, cursor, 1);
    parts.push(chunk.bytes);
    cursor = chunk.cursor;
  } while (cursor !== null && parts.length < 1000);
  assert.equal(parts.length, 40, 'one record per chunk');
  const car = new Uint8Array(parts.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of parts) (car.set(c, o), (o += c.length));
  assert.equal((await verifyRepoCar(car, DID, repo.didKey())).creates.length, 40);
});

test('skip prunes subtrees and records the consumer already has', () => {
  const repo = buildRepo(300, 8);
  const oldBlocks = new Set(repo.store.cids().map(String));
  const writes: WriteOp[] = [{ action: 'create', collection: 'app.bsky.feed.post', rkey: '3zzzzzzzzzzzz', record: post('late') }];
  const result = repo.commit(writes);
  const car = exportRepoCar(repo.store, repo.head!.commitCid);
  const full = readCar(car).blocks;
  const chunks: Uint8Array[] = [];
  let cursor: string | null = null;
  do {
    const c = exportRepoChunk(repo.store, repo.head!.commitCid, cursor, 4096, { skip: (cid) => oldBlocks.has(cid.toString()) });
    chunks.push(c.bytes);
    cursor = c.cursor;
  } while (cursor !== null);
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) (bytes.set(c, o), (o += c.length));
  const since = readCar(bytes).blocks;
  // Exactly the blocks this commit created.
  assert.deepEqual(since.cids().map(String).sort(), result.newBlocks.cids().map(String).sort());
  assert.ok(full.size > since.size * 10);
});

test('maxBlocks bounds the blocks a chunk walks; the chunks still form one verifiable CAR', async () => {
  const repo = buildRepo(600, 8);
  const commitCid = repo.head!.commitCid;
  const parts: Uint8Array[] = [];
  let cursor: string | null = null;
  do {
    const chunk = exportRepoChunk(repo.store, commitCid, cursor, 1 << 30, { maxBlocks: 50 });
    const blocks = readCar(cursor === null ? chunk.bytes : concat([carPrefix(commitCid), chunk.bytes]), { verify: true }).blocks.size;
    // Without the block bound, a chunk with this byte limit would hold the whole repo.
    assert.ok(blocks <= 50 + (cursor === null ? 1 : 0), `chunk ${parts.length} has ${blocks} blocks`);
    parts.push(chunk.bytes);
    cursor = chunk.cursor;
  } while (cursor !== null && parts.length < 1000);
  assert.ok(parts.length >= 600 / 50, `expected at least 12 chunks, got ${parts.length}`);
  const verified = await verifyRepoCar(concat(parts), DID, repo.didKey());
  assert.equal(verified.creates.length, 600);
  assert.deepEqual(concat(parts), exportRepoCar(repo.store, commitCid), 'same bytes as an unbounded export');
});

/** A CAR header with no real meaning, to read a continuation chunk's blocks on their own. */
function carPrefix(root: CID): Uint8Array {
  return encodeCar([root], []);
}

test('skipped records count toward maxBlocks, so a mostly-skipped walk is still split', () => {
  const repo = buildRepo(600, 12);
  const commitCid = repo.head!.commitCid;
  const all = readCar(exportRepoCar(repo.store, commitCid)).blocks;
  const records = new Set<string>();
  for (const [cid, bytes] of all) if ((decodeCbor(bytes) as { $type?: unknown }).$type !== undefined && !cid.equals(commitCid)) records.add(cid.toString());
  assert.equal(records.size, 600);
  const skip = (cid: CID) => records.has(cid.toString());
  let cursor: string | null = null;
  let chunks = 0;
  let emitted = 0;
  do {
    const chunk = exportRepoChunk(repo.store, commitCid, cursor, 1 << 30, { skip, maxBlocks: 40 });
    const blocks = readCar(cursor === null ? chunk.bytes : concat([carPrefix(commitCid), chunk.bytes])).blocks;
    for (const [cid] of blocks) assert.ok(!records.has(cid.toString()), 'skipped records are not emitted');
    emitted += blocks.size;
    chunks++;
    cursor = chunk.cursor;
  } while (cursor !== null && chunks < 1000);
  assert.equal(emitted, all.size - 600, 'every node (and the commit) exactly once');
  assert.ok(chunks >= 600 / 40, `walk split into ${chunks} chunks`);
});
