// The one storage shape every pure module persists through. The canister backs it with a
// StableBTreeMap (stable memory, survives upgrades); tests and Node tools use MemoryKv.
// Keys are strings ordered by UTF-16 code units (same as the stable map's ordering of text keys).

export interface KvRangeOptions {
  prefix: string;
  /** Exclusive start key (for paging); when reverse, exclusive upper bound. */
  after?: string;
  reverse?: boolean;
  limit: number;
}

export interface KvStore {
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
  delete(key: string): void;
  range(opts: KvRangeOptions): [string, Uint8Array][];
}

/** Sorted in-memory KvStore; intentionally simple (tests and tools only). */
export class MemoryKv implements KvStore {
  private map = new Map<string, Uint8Array>();
  private sorted: string[] | null = null;

  get(key: string): Uint8Array | undefined {
    return this.map.get(key);
  }

  set(key: string, value: Uint8Array): void {
    if (!this.map.has(key)) this.sorted = null;
    this.map.set(key, value);
  }

  delete(key: string): void {
    if (this.map.delete(key)) this.sorted = null;
  }

  range({ prefix, after, reverse = false, limit }: KvRangeOptions): [string, Uint8Array][] {
    if (!this.sorted) this.sorted = [...this.map.keys()].sort();
    const keys = reverse ? [...this.sorted].reverse() : this.sorted;
    const out: [string, Uint8Array][] = [];
    for (const key of keys) {
      if (out.length >= limit) break;
      if (!key.startsWith(prefix)) continue;
      if (after !== undefined && (reverse ? key >= after : key <= after)) continue;
      out.push([key, this.map.get(key)!]);
    }
    return out;
  }
}

/** A view of a store under a fixed key prefix, so modules cannot collide. */
export function scopedKv(store: KvStore, scope: string): KvStore {
  const p = `${scope}/`;
  return {
    get: (k) => store.get(p + k),
    set: (k, v) => store.set(p + k, v),
    delete: (k) => store.delete(p + k),
    range: ({ prefix, after, reverse, limit }) =>
      store
        .range({ prefix: p + prefix, after: after === undefined ? undefined : p + after, reverse, limit })
        .map(([k, v]) => [k.slice(p.length), v] as [string, Uint8Array]),
  };
}
