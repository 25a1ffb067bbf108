// KvStores over Azle StableBTreeMaps (stable memory; survives upgrades). Keys are stored as
// UTF-8 bytes, values as raw bytes.
import { StableBTreeMap } from 'azle';
import type { KvStore } from '../storage/kv.ts';
import { IndexedKv } from '../storage/indexed-kv.ts';
import { OrderedKeys } from '../storage/ordered-keys.ts';
import type { RawBlockMap } from '../storage/block-store.ts';

export const bytesSerializable = {
  toBytes: (b: Uint8Array) => b,
  fromBytes: (b: Uint8Array) => b,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeKey(s: string): Uint8Array {
  // Keys are nearly always ASCII; avoid the (pure-JS) TextEncoder for them.
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}

function decodeKey(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    if (b[i] > 0x7f) return decoder.decode(b);
    s += String.fromCharCode(b[i]);
  }
  return s;
}

export const stringKeySerializable = { toBytes: encodeKey, fromBytes: decodeKey };

/** Ordered KvStore in stable memory: entries in `memoryId`, the B+tree of their keys in `indexMemoryId`. */
export class StableKv extends IndexedKv {
  constructor(memoryId: number, indexMemoryId: number) {
    const map = new StableBTreeMap<string, Uint8Array>(memoryId, stringKeySerializable, bytesSerializable);
    const nodes = new StableBTreeMap<number, Uint8Array>(indexMemoryId, nodeIdSerializable, bytesSerializable);
    super(
      {
        get: (k) => map.get(k),
        insert: (k, v) => map.insert(k, v),
        remove: (k) => map.remove(k),
        keysPage: (start, count) => map.keys(start, count) ?? [],
      },
      new OrderedKeys({ get: (id) => nodes.get(id), set: (id, b) => void nodes.insert(id, b), delete: (id) => void nodes.remove(id) }),
    );
  }
}

const nodeIdSerializable = {
  toBytes: (id: number) => {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, id);
    return out;
  },
  fromBytes: (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0),
};

/** Point-lookup-only store (no range): bulk data such as blob pieces and events. */
export class StableBytesKv implements KvStore {
  private map: StableBTreeMap<string, Uint8Array>;
  constructor(memoryId: number) {
    this.map = new StableBTreeMap<string, Uint8Array>(memoryId, stringKeySerializable, bytesSerializable);
  }
  get(key: string) {
    return this.map.get(key);
  }
  set(key: string, value: Uint8Array) {
    this.map.insert(key, value);
  }
  delete(key: string) {
    this.map.remove(key);
  }
  range(): [string, Uint8Array][] {
    throw new Error('range is not supported on this store');
  }
}

/** Blocks keyed by CID bytes in their own stable map. */
export function stableBlockMap(memoryId: number): RawBlockMap {
  const map = new StableBTreeMap<Uint8Array, Uint8Array>(memoryId, bytesSerializable, bytesSerializable);
  return {
    get: (k) => map.get(k),
    insert: (k, v) => void map.insert(k, v),
    remove: (k) => void map.remove(k),
  };
}
