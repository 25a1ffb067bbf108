// IndexedKv (the ordered KvStore the canister builds over Azle's StableBTreeMap) must behave
// exactly like the reference MemoryKv for random operations and range queries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from '../../canister/src/storage/kv.ts';
import { IndexedKv, type StringKeyMap } from '../../canister/src/storage/indexed-kv.ts';

function fakeStableMap(): StringKeyMap & { size: number } {
  const m = new Map<string, Uint8Array>();
  return {
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
    keys: () => [...m.keys()], // unordered on purpose
    get size() {
      return m.size;
    },
  };
}

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

test('IndexedKv matches MemoryKv under random set/delete/range, including after a rebuild (upgrade)', () => {
  const rand = rng(42);
  const prefixes = ['rec/app.bsky.feed.post/', 'rec/app.bsky.feed.postgate/', 'col/', 'e/', 'rec/'];
  const key = () => prefixes[Math.floor(rand() * prefixes.length)] + Math.floor(rand() * 60).toString(36).padStart(2, '0');
  const map = fakeStableMap();
  let kv = new IndexedKv(map);
  const ref = new MemoryKv();
  for (let step = 0; step < 3000; step++) {
    const r = rand();
    if (r < 0.5) {
      const k = key();
      const v = Uint8Array.of(step & 255);
      kv.set(k, v);
      ref.set(k, v);
    } else if (r < 0.7) {
      const k = key();
      kv.delete(k);
      ref.delete(k);
    } else {
      const prefix = rand() < 0.2 ? '' : prefixes[Math.floor(rand() * prefixes.length)];
      const after = rand() < 0.5 ? undefined : rand() < 0.5 ? key() : prefix + Math.floor(rand() * 60).toString(36).padStart(2, '0');
      const opts = { prefix, after, reverse: rand() < 0.5, limit: 1 + Math.floor(rand() * 20) };
      assert.deepEqual(kv.range(opts), ref.range(opts), JSON.stringify(opts));
    }
    if (step === 1500) kv = new IndexedKv(map); // heap cache lost, rebuilt from the map
  }
});
