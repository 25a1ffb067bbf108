// IndexedKv (the ordered KvStore the canister builds over Azle's StableBTreeMap and a B+tree of its
// keys in a second map) must behave exactly like the reference MemoryKv for random operations and
// range queries: across reopening (an upgrade), while indexing a store written before the tree
// existed, and with work per call bounded by the page, not by the number of keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from '../../canister/src/storage/kv.ts';
import { IndexedKv, type StringKeyMap } from '../../canister/src/storage/indexed-kv.ts';
import { OrderedKeys, type NodeStore } from '../../canister/src/storage/ordered-keys.ts';

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A byte map like Azle's StableBTreeMap: positional listing in UTF-8 byte order. */
function fakeStableMap(): StringKeyMap & { m: Map<string, Uint8Array> } {
  const m = new Map<string, Uint8Array>();
  return {
    m,
    get: (k) => m.get(k),
    insert: (k, v) => {
      const prev = m.get(k);
      m.set(k, v);
      return prev;
    },
    remove: (k) => {
      const prev = m.get(k);
      m.delete(k);
      return prev;
    },
    keysPage: (start, count) => [...m.keys()].sort(utf8Order).slice(start, start + count),
  };
}

function fakeNodeStore(): NodeStore & { reads: number; nodes: Map<number, Uint8Array> } {
  const nodes = new Map<number, Uint8Array>();
  const s = {
    nodes,
    reads: 0,
    get: (id: number) => {
      s.reads++;
      return nodes.get(id);
    },
    set: (id: number, b: Uint8Array) => void nodes.set(id, b),
    delete: (id: number) => void nodes.delete(id),
  };
  return s;
}

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const prefixes = ['rec/app.bsky.feed.post/', 'rec/app.bsky.feed.postgate/', 'col/', 'e/', 'rec/', 'gov/é/', 'gov/\u{1F600}/', 'gov/\uffff/'];

function randomOps(rand: () => number, kv: () => IndexedKv, ref: MemoryKv, steps: number, between?: (step: number) => void) {
  const key = () => prefixes[Math.floor(rand() * prefixes.length)] + Math.floor(rand() * 300).toString(36).padStart(2, '0');
  for (let step = 0; step < steps; step++) {
    const r = rand();
    if (r < 0.5) {
      const k = key();
      const v = Uint8Array.of(step & 255);
      kv().set(k, v);
      ref.set(k, v);
    } else if (r < 0.7) {
      const k = key();
      kv().delete(k);
      ref.delete(k);
    } else {
      const prefix = rand() < 0.2 ? '' : prefixes[Math.floor(rand() * prefixes.length)];
      const after = rand() < 0.5 ? undefined : rand() < 0.5 ? key() : prefix + Math.floor(rand() * 300).toString(36).padStart(2, '0');
      const opts = { prefix, after, reverse: rand() < 0.5, limit: 1 + Math.floor(rand() * 40) };
      assert.deepEqual(kv().range(opts), ref.range(opts), JSON.stringify(opts));
    }
    between?.(step);
  }
}

function allKeys(kv: IndexedKv): string[] {
  return kv.range({ prefix: '', limit: 1e9 }).map(([k]) => k);
}

test('IndexedKv matches MemoryKv under random set/delete/range, including after reopening (upgrade)', () => {
  const rand = rng(42);
  const map = fakeStableMap();
  const nodes = fakeNodeStore();
  const open = () => {
    const kv = new IndexedKv(map, new OrderedKeys(nodes, 4)); // tiny fanout: a deep tree
    kv.open();
    return kv;
  };
  let kv = open();
  assert.equal(kv.migrating(), false);
  const ref = new MemoryKv();
  randomOps(rand, () => kv, ref, 6000, (step) => {
    if (step % 1500 === 1499) kv = open(); // heap state lost; the tree is read back from its store
  });
  assert.deepEqual(allKeys(kv), [...map.m.keys()].sort());
  // Deleting everything leaves an empty tree of one node (empty leaves are unlinked).
  for (const k of [...map.m.keys()]) kv.delete(k);
  assert.deepEqual(allKeys(kv), []);
  assert.equal(nodes.nodes.size, 2); // meta + root leaf
});

test('a store written before the index existed is indexed in steps while writes and reads go on', () => {
  const rand = rng(7);
  const map = fakeStableMap();
  const ref = new MemoryKv();
  for (let i = 0; i < 900; i++) {
    const k = prefixes[i % prefixes.length] + i.toString(36).padStart(3, '0');
    map.insert(k, Uint8Array.of(i & 255));
    ref.set(k, Uint8Array.of(i & 255));
  }
  const nodes = fakeNodeStore();
  let kv = new IndexedKv(map, new OrderedKeys(nodes, 8));
  kv.open();
  assert.equal(kv.migrating(), true);
  let done = false;
  randomOps(rand, () => kv, ref, 2000, (step) => {
    if (!done && step % 10 === 0) done = kv.migrateStep(7);
    if (step === 500) {
      kv = new IndexedKv(map, new OrderedKeys(nodes, 8)); // an upgrade mid-way resumes from the stored cursor
      kv.open();
    }
  });
  while (!done) done = kv.migrateStep(7);
  assert.equal(kv.migrating(), false);
  assert.deepEqual(allKeys(kv), [...map.m.keys()].sort());
  randomOps(rand, () => kv, ref, 1000);
});

test('opening reads one node; a page of a large store reads about page/fanout + height nodes', () => {
  const map = fakeStableMap();
  const nodes = fakeNodeStore();
  const kv = new IndexedKv(map, new OrderedKeys(nodes, 64));
  kv.open();
  for (let i = 0; i < 20_000; i++) kv.set(`rec/app.bsky.feed.post/${i.toString(36).padStart(4, '0')}`, Uint8Array.of(1));
  kv.set('col/app.bsky.feed.post', Uint8Array.of(1));
  nodes.reads = 0;
  const reopened = new IndexedKv(map, new OrderedKeys(nodes, 64));
  reopened.open();
  assert.ok(nodes.reads <= 2, `open read ${nodes.reads} nodes`);
  nodes.reads = 0;
  const page = reopened.range({ prefix: 'rec/app.bsky.feed.post/', after: 'rec/app.bsky.feed.post/5000', reverse: true, limit: 100 });
  assert.equal(page.length, 100);
  assert.ok(nodes.reads <= 100 / 32 + 1 + 4 + 2, `a 100-key page read ${nodes.reads} nodes`);
  nodes.reads = 0;
  assert.deepEqual(reopened.range({ prefix: 'col/', limit: 100 }).map(([k]) => k), ['col/app.bsky.feed.post']);
  assert.ok(nodes.reads <= 6, `the collections read ${nodes.reads} nodes`);
});
