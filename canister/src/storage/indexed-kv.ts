// KvStore over a byte map that only offers get/insert/remove and a positional key listing (Azle's
// StableBTreeMap: ordered, but it cannot seek to a key). Ordered `range` uses OrderedKeys, a B+tree
// of the keys kept in its own node store (stable memory in the canister), so opening the store after
// an upgrade and every call cost the same at 100 keys as at 1,000,000.
//
// A store written before the tree existed (an upgrade from the heap-index layout) is indexed once,
// in bounded steps (migrateStep, run from a timer), while it keeps serving: writes go to the tree at
// once; a range read whose prefix the steps have passed uses the tree, others fall back to sorting
// the whole key listing until the last step is done.
import type { KvRangeOptions, KvStore } from './kv.ts';
import type { OrderedKeys } from './ordered-keys.ts';

export interface StringKeyMap {
  get(key: string): Uint8Array | undefined;
  /** Returns the previous value, if any. */
  insert(key: string, value: Uint8Array): Uint8Array | undefined;
  remove(key: string): Uint8Array | undefined;
  /** Up to `count` keys from position `start` of the map's own order (UTF-8 byte order). */
  keysPage(start: number, count: number): string[];
}

/** Progress of indexing a store written before the tree existed: keys before `cursor` are done. */
type Migration = { cursor: number; last: string | null };

/** a <= b in UTF-8 byte order (code point order), which differs from `<=` on strings only around surrogates. */
function utf8Le(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) < codePointRank(y);
  }
  return a.length <= b.length;
}
const codePointRank = (c: number) => (c >= 0xe000 ? c - 0x800 : c >= 0xd800 ? c + 0x2000 : c);

export class IndexedKv implements KvStore {
  private migration: Migration | null = null;
  /** Range fallback while migrating: every key, sorted; dropped whenever the key set changes. */
  private fallback: string[] | null = null;

  constructor(
    private map: StringKeyMap,
    private index: OrderedKeys,
  ) {}

  /**
   * Call on init and post-upgrade (constant cost). A store without a tree gets an empty one; if the
   * map already holds keys, they still need indexing (see migrateStep).
   */
  open(): void {
    if (!this.index.exists()) {
      const empty = this.map.keysPage(0, 1).length === 0;
      this.index.setExtra(empty ? undefined : ({ cursor: 0, last: null } satisfies Migration));
    }
    this.migration = (this.index.getExtra() as Migration | undefined) ?? null;
  }

  /** True while keys written before the tree existed are not all indexed. */
  migrating(): boolean {
    return this.migration !== null;
  }

  /** Indexes up to `maxKeys` more of the pre-existing keys; true when the index is complete. */
  migrateStep(maxKeys: number): boolean {
    const m = this.migration;
    if (!m) return true;
    const keys = this.map.keysPage(m.cursor, maxKeys);
    for (const k of keys) this.index.insert(k);
    if (keys.length < maxKeys) {
      this.migration = null;
      this.fallback = null;
      this.index.setExtra(undefined);
      return true;
    }
    m.cursor += keys.length;
    m.last = keys[keys.length - 1];
    this.index.setExtra(m);
    return false;
  }

  /** Keeps the migration cursor on the same key when a key before it appears or disappears. */
  private shift(key: string, by: 1 | -1): void {
    this.fallback = null;
    const m = this.migration;
    if (m && m.last !== null && utf8Le(key, m.last)) {
      m.cursor += by;
      this.index.setExtra(m);
    }
  }

  get(key: string): Uint8Array | undefined {
    return this.map.get(key);
  }

  set(key: string, value: Uint8Array): void {
    if (this.map.insert(key, value) !== undefined) return;
    this.index.insert(key);
    if (this.migration) this.shift(key, 1);
  }

  delete(key: string): void {
    if (this.map.remove(key) === undefined) return;
    this.index.delete(key);
    if (this.migration) this.shift(key, -1);
  }

  range({ prefix, after, reverse = false, limit }: KvRangeOptions): [string, Uint8Array][] {
    const out: [string, Uint8Array][] = [];
    if (limit <= 0) return out;
    const indexed = !this.migration || this.migratedBlock(prefix);
    for (const key of indexed ? this.scan(prefix, after, reverse) : this.scanAll(prefix, after, reverse)) {
      if (!key.startsWith(prefix)) {
        if (reverse ? key < prefix : key > prefix) break;
        continue; // reverse from the very end: keys past the prefix block
      }
      const v = this.map.get(key);
      if (v !== undefined) out.push([key, v]);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Whether every key with `prefix` that predates the index is indexed already (the migration passed it). */
  private migratedBlock(prefix: string): boolean {
    const last = this.migration?.last;
    const end = prefixEnd(prefix);
    return last !== null && last !== undefined && end !== null && utf8Le(end, last);
  }

  private scan(prefix: string, after: string | undefined, reverse: boolean): Iterable<string> {
    if (!reverse) return after !== undefined && after >= prefix ? this.index.ascending(after, false) : this.index.ascending(prefix, true);
    const end = prefixEnd(prefix);
    return this.index.descending(after !== undefined && (end === null || after < end) ? after : end);
  }

  private *scanAll(prefix: string, after: string | undefined, reverse: boolean): Iterable<string> {
    if (!this.fallback) {
      const keys: string[] = [];
      for (let page: string[]; (page = this.map.keysPage(keys.length, 10_000)).length > 0; ) keys.push(...page);
      this.fallback = keys.sort();
    }
    const keys = this.fallback;
    if (!reverse) {
      for (const k of keys) if (k >= prefix && (after === undefined || k > after)) yield k;
    } else {
      for (let i = keys.length - 1; i >= 0; i--) if (after === undefined || keys[i] < after) yield keys[i];
    }
  }
}

/** The least string above every key that starts with `prefix` (null: none, scan from the end). */
function prefixEnd(prefix: string): string | null {
  if (prefix === '') return null;
  const last = prefix.charCodeAt(prefix.length - 1);
  return last === 0xffff ? null : prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
