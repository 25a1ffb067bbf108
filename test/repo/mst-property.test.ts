// Property test: for random key sets and random insert/update/delete orders, our MST root
// equals the root @atproto/repo computes for the same final entries.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { CID, cidForCborBytes, encodeCbor } from '../../canister/src/atproto/cbor.ts';
import { BlockMap } from '../../canister/src/repo/block-map.ts';
import { defaultNodeCache, Mst, MstNodeCache } from '../../canister/src/repo/mst.ts';
import { randomPaths, rng, shuffle } from './repo-fixture.ts';

// The reference builds run in one worker thread: the test runner's async hooks make the
// thousands of promises @atproto/repo creates several times slower on the main thread.
const REFERENCE_WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const ready = Promise.all([import(workerData.repoUrl), import(workerData.cidUrl)]);
  parentPort.on('message', async ({ id, entries }) => {
    try {
      const [{ MST, MemoryBlockstore }, { CID }] = await ready;
      let mst = await MST.create(new MemoryBlockstore());
      for (const [key, cid] of entries) mst = await mst.add(key, CID.parse(cid));
      parentPort.postMessage({ id, root: (await mst.getPointer()).toString() });
    } catch (err) {
      parentPort.postMessage({ id, error: String((err && err.stack) || err) });
    }
  });
`;

let worker: Worker | null = null;
let nextId = 0;
after(() => worker?.terminate());

async function referenceRoot(entries: Map<string, CID>): Promise<string> {
  worker ??= new Worker(REFERENCE_WORKER, {
    eval: true,
    workerData: { repoUrl: import.meta.resolve('@atproto/repo'), cidUrl: import.meta.resolve('multiformats/cid') },
  });
  const id = nextId++;
  const sorted = [...entries.keys()].sort().map((k) => [k, entries.get(k)!.toString()]);
  const reply = new Promise<{ id: number; root?: string; error?: string }>((resolve, reject) => {
    const onMessage = (msg: { id: number; root?: string; error?: string }) => {
      if (msg.id !== id) return;
      worker!.off('message', onMessage);
      worker!.off('error', reject);
      resolve(msg);
    };
    worker!.on('message', onMessage);
    worker!.once('error', reject);
  });
  worker.postMessage({ id, entries: sorted });
  const msg = await reply;
  if (msg.error !== undefined) throw new Error(msg.error);
  return msg.root!;
}

const valueFor = (i: number) => cidForCborBytes(encodeCbor({ v: i }));

/**
 * Random history: insert `keep` keys plus `churn` extra keys in random order; delete the
 * extras and update some kept keys at random points; every `reloadEvery` ops, persist and
 * reload the tree from blocks (exercising lazy loading and copy-on-write).
 */
function randomHistory(size: number, seed: number, reloadEvery: number, churnRatio = 1 / 3, decodeOnReload = true): { mst: Mst; expected: Map<string, CID> } {
  const rand = rng(seed);
  const churn = Math.floor(size * churnRatio);
  const paths = randomPaths(size + churn, rand);
  const keep = new Set(paths.slice(0, size));
  // Each op gets a random time; deletions/updates of a key come after its insertion.
  type Op = { kind: 'add' | 'del' | 'upd'; key: string; at: number };
  const ops: Op[] = [];
  for (const key of shuffle(paths, rand)) {
    const at = rand();
    ops.push({ kind: 'add', key, at });
    if (!keep.has(key)) ops.push({ kind: 'del', key, at: at + rand() * (1 - at) });
    else if (rand() < 0.1) ops.push({ kind: 'upd', key, at: at + rand() * (1 - at) });
  }
  ops.sort((a, b) => a.at - b.at);
  const store = new BlockMap();
  let mst = Mst.create(store);
  const expected = new Map<string, CID>();
  let counter = 0;
  for (const [n, op] of ops.entries()) {
    if (op.kind === 'add') {
      const v = valueFor(counter++);
      mst.add(op.key, v);
      expected.set(op.key, v);
    } else if (op.kind === 'upd') {
      const v = valueFor(counter++);
      assert.equal(mst.update(op.key, v).toString(), expected.get(op.key)!.toString());
      expected.set(op.key, v);
    } else {
      assert.equal(mst.delete(op.key).toString(), expected.get(op.key)!.toString());
      expected.delete(op.key);
    }
    if (reloadEvery > 0 && (n + 1) % reloadEvery === 0) {
      const root = mst.finalize();
      store.addAll(mst.newBlocks);
      // Alternate between decoding from blocks (no cache) and the decoded-node cache.
      const cache = !decodeOnReload ? defaultNodeCache : (n + 1) % (2 * reloadEvery) === 0 ? null : new MstNodeCache(64);
      mst = Mst.load(store, root, cache);
    }
  }
  return { mst, expected };
}

test('small random histories match @atproto/repo roots', async () => {
  for (const [size, seed, reload] of [
    [0, 1, 0], [1, 2, 0], [2, 3, 1], [7, 4, 3], [30, 5, 0], [64, 6, 5], [150, 7, 17], [400, 8, 50],
  ] as const) {
    const { mst, expected } = randomHistory(size, seed, reload);
    const root = mst.finalize().toString();
    assert.equal(root, await referenceRoot(expected), `size ${size} seed ${seed}`);
    assert.deepEqual([...mst.leaves()].map((l) => l.key), [...expected.keys()].sort());
  }
});

test('10,000 keys in random order with deletions match @atproto/repo root', async () => {
  const { mst, expected } = randomHistory(10_000, 42, 2_500, 0.1, false);
  assert.equal(expected.size, 10_000);
  assert.equal(mst.finalize().toString(), await referenceRoot(expected));
});

test('deleting every key returns to the empty tree root', () => {
  const rand = rng(9);
  const paths = randomPaths(300, rand);
  const store = new BlockMap();
  const mst = Mst.create(store);
  const empty = Mst.create(store).finalize().toString();
  for (const p of paths) mst.add(p, valueFor(1));
  for (const p of shuffle([...paths], rand)) mst.delete(p);
  assert.equal(mst.finalize().toString(), empty);
});

test('adding an existing key or removing a missing one is refused', () => {
  const mst = Mst.create(new BlockMap());
  mst.add('app.bsky.feed.post/aaa', valueFor(1));
  assert.throws(() => mst.add('app.bsky.feed.post/aaa', valueFor(2)), { code: 'RecordExists' });
  assert.throws(() => mst.delete('app.bsky.feed.post/bbb'), { code: 'RecordNotFound' });
  assert.throws(() => mst.update('app.bsky.feed.post/bbb', valueFor(2)), { code: 'RecordNotFound' });
  assert.throws(() => mst.add('no-slash', valueFor(2)), { code: 'InvalidKey' });
});

test('get and list (after / prefix / limit) agree with a sorted scan', () => {
  const rand = rng(31);
  const paths = randomPaths(700, rand);
  const store = new BlockMap();
  let mst = Mst.create(store);
  paths.forEach((p, i) => mst.add(p, valueFor(i)));
  const root = mst.finalize();
  store.addAll(mst.newBlocks);
  mst = Mst.load(store, root, null);
  const sorted = [...paths].sort();
  for (const p of paths.slice(0, 50)) assert.equal(mst.get(p)!.toString(), valueFor(paths.indexOf(p)).toString());
  assert.equal(mst.get('app.bsky.feed.post/nope-not-here'), null);
  for (let t = 0; t < 40; t++) {
    const after = t % 5 === 0 ? undefined : sorted[Math.floor(rand() * sorted.length)];
    const prefix = t % 3 === 0 ? 'app.bsky.feed.like/' : t % 3 === 1 ? 'com.example.thing/' : undefined;
    const limit = 1 + Math.floor(rand() * 60);
    const expected = sorted.filter((k) => (after === undefined || k > after) && (prefix === undefined || k.startsWith(prefix))).slice(0, limit);
    assert.deepEqual(mst.list(limit, after, prefix).map((e) => e.key), expected, `after=${after} prefix=${prefix}`);
  }
});

test('corrupt nodes are rejected when loaded', () => {
  const store = new BlockMap();
  const put = (value: unknown) => {
    const bytes = encodeCbor(value);
    const cid = cidForCborBytes(bytes);
    store.set(cid, bytes);
    return cid;
  };
  const utf8 = new TextEncoder();
  const v = valueFor(1);
  const unsorted = put({ l: null, e: [{ p: 0, k: utf8.encode('app.bsky.feed.post/b'), v, t: null }, { p: 0, k: utf8.encode('app.bsky.feed.post/a'), v, t: null }] });
  assert.throws(() => Mst.load(store, unsorted, null).get('app.bsky.feed.post/a'), { code: 'InvalidTree' });
  const badPrefix = put({ l: null, e: [{ p: 3, k: utf8.encode('x/y'), v, t: null }] });
  assert.throws(() => Mst.load(store, badPrefix, null), { code: 'InvalidTree' });
  const notANode = put({ hello: 'world' });
  assert.throws(() => Mst.load(store, notANode, null), { code: 'InvalidTree' });
  assert.throws(() => Mst.load(store, valueFor(999), null), { name: 'MissingBlockError' });
});
