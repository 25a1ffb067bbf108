// KvStore over a byte map that only offers get/insert/remove and a full key listing (Azle's
// StableBTreeMap). Ordered `range` uses a sorted key index kept on the heap as a cache: built
// from the map on first use (call warm() in init/postUpgrade so queries find it ready) and kept
// current by every set/delete.
import type { KvRangeOptions, KvStore } from './kv.ts';

export interface StringKeyMap {
  get(key: string): Uint8Array | undefined;
  /** Returns the previous value, if any. */
  insert(key: string, value: Uint8Array): Uint8Array | undefined;
  remove(key: string): Uint8Array | undefined;
  keys(): string[];
}

/** First index whose key is >= `key` (inclusive) or > `key`. */
function bound(keys: string[], key: string, inclusive: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key || (!inclusive && keys[mid] === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class IndexedKv implements KvStore {
  private index: string[] | null = null;

  constructor(private map: StringKeyMap) {}

  warm(): void {
    const keys = this.map.keys();
    keys.sort();
    this.index = keys;
  }

  private keys(): string[] {
    if (!this.index) this.warm();
    return this.index!;
  }

  get(key: string): Uint8Array | undefined {
    return this.map.get(key);
  }

  set(key: string, value: Uint8Array): void {
    const prev = this.map.insert(key, value);
    if (prev === undefined && this.index) {
      const i = bound(this.index, key, true);
      if (this.index[i] !== key) this.index.splice(i, 0, key);
    }
  }

  delete(key: string): void {
    const prev = this.map.remove(key);
    if (prev !== undefined && this.index) {
      const i = bound(this.index, key, true);
      if (this.index[i] === key) this.index.splice(i, 1);
    }
  }

  range({ prefix, after, reverse = false, limit }: KvRangeOptions): [string, Uint8Array][] {
    const keys = this.keys();
    const out: [string, Uint8Array][] = [];
    if (!reverse) {
      let i = after !== undefined && after >= prefix ? bound(keys, after, false) : bound(keys, prefix, true);
      for (; i < keys.length && out.length < limit && keys[i].startsWith(prefix); i++) {
        const v = this.map.get(keys[i]);
        if (v !== undefined) out.push([keys[i], v]);
      }
      return out;
    }
    // Descending: from just below `after` (exclusive upper bound), else from the last key with the prefix.
    let i = bound(keys, prefix, true);
    while (i < keys.length && keys[i].startsWith(prefix)) i++; // one past the prefix block
    if (after !== undefined) i = Math.min(i, bound(keys, after, true));
    for (i--; i >= 0 && out.length < limit && keys[i].startsWith(prefix); i--) {
      const v = this.map.get(keys[i]);
      if (v !== undefined) out.push([keys[i], v]);
    }
    return out;
  }
}
