// Merkle Search Tree exactly as the atproto repository spec (v3) defines it: key depth is the
// count of leading zero bits of sha-256(key) divided by two (fanout 4); nodes are
// {l, e: [{p, k, v, t}]} with per-node key prefix compression. The shape depends only on the
// key set, so any insertion/deletion order yields the same root CID.
//
// Cost model (the canister pays per instruction, hashing dominates): nodes are loaded lazily
// from a BlockReader without re-hashing; edits are copy-on-write along the touched paths only;
// only those new nodes are encoded and hashed (once, at `finalize`). Key depths are cached.
import { CID, cidToString, decodeCbor, encodeBlock, sha256 } from '../atproto/cbor.ts';
import { BlockMap, type BlockReader, requireBlock } from './block-map.ts';
import { fastDecodeMstNode } from './mst-node-decode.ts';

export type MstEntry = { key: string; value: CID; right: MstNode | null };

/** In-memory MST node. `cid === null` means "changed, not yet encoded". Unloaded nodes are stubs. */
export type MstNode = {
  layer: number;
  cid: CID | null;
  bytes: Uint8Array | null;
  loaded: boolean;
  left: MstNode | null;
  entries: MstEntry[];
};

type NodeData = { l: CID | null; e: { p: number; k: Uint8Array; v: CID; t: CID | null }[] };

export class MstError extends Error {
  constructor(
    readonly code: 'RecordExists' | 'RecordNotFound' | 'InvalidTree' | 'InvalidKey',
    message: string,
  ) {
    super(message);
    this.name = 'MstError';
  }
}

const utf8Encoder = new TextEncoder();
// Strict decoding where the runtime supports it (keys are ASCII in practice).
const utf8Decoder = (() => {
  try {
    return new TextDecoder('utf-8', { fatal: true });
  } catch {
    return new TextDecoder();
  }
})();

// Depth cache: the same keys (recently written paths, tree roots) are hashed again and again.
const HEIGHT_CACHE_MAX = 10_000;
const heightCache = new Map<string, number>();

/** Depth of a key: leading zero bits of sha-256(utf8(key)), counted in 2-bit steps. */
export function leadingZerosOnHash(key: string | Uint8Array): number {
  const cacheKey = typeof key === 'string' ? key : null;
  if (cacheKey !== null) {
    const hit = heightCache.get(cacheKey);
    if (hit !== undefined) return hit;
  }
  const hash = sha256(typeof key === 'string' ? utf8Encoder.encode(key) : key);
  let zeros = 0;
  for (const byte of hash) {
    if (byte === 0) {
      zeros += 8;
      continue;
    }
    zeros += Math.clz32(byte) - 24;
    break;
  }
  const height = Math.floor(zeros / 2);
  if (cacheKey !== null) {
    if (heightCache.size >= HEIGHT_CACHE_MAX) heightCache.clear();
    heightCache.set(cacheKey, height);
  }
  return height;
}

/** Number of leading bytes two keys share (byte-wise over UTF-8). */
export function countPrefixLen(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** MST keys are repo paths: `<collection>/<rkey>`, non-empty, restricted ASCII. */
export function isValidMstKey(key: string): boolean {
  if (key.length === 0 || key.length > 1024) return false;
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1 || key.indexOf('/', slash + 1) !== -1) return false;
  return /^[a-zA-Z0-9_~.:\-/]+$/.test(key);
}

function newNode(layer: number, left: MstNode | null, entries: MstEntry[]): MstNode {
  return { layer, cid: null, bytes: null, loaded: true, left, entries };
}

function stub(cid: CID, layer: number): MstNode {
  return { layer, cid, bytes: null, loaded: false, left: null, entries: [] };
}

/** A node's content as stored: keys expanded, child links as CIDs (no object graph, so no retention). */
export type DecodedNode = { bytes: Uint8Array; left: CID | null; entries: { key: string; value: CID; right: CID | null }[] };

/**
 * Bounded cache of decoded MST nodes by CID. Blocks are content-addressed, so an entry is valid
 * for any store; it spares re-decoding the hot top of the tree on every commit (the nodes a
 * commit just wrote are the ones the next commit reads). Oldest entries are evicted first.
 */
export class MstNodeCache {
  private map = new Map<string, DecodedNode>();
  constructor(readonly maxNodes = 2048) {}

  get(cid: CID): DecodedNode | undefined {
    return this.map.get(cidToString(cid));
  }

  put(cid: CID, node: DecodedNode): void {
    const key = cidToString(cid);
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.maxNodes) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, node);
  }

  get size(): number {
    return this.map.size;
  }
}

/** Shared by default: one canister holds one repo, and entries are content-addressed. */
export const defaultNodeCache = new MstNodeCache();

function gapAt(node: MstNode, i: number): MstNode | null {
  return i === 0 ? node.left : node.entries[i - 1].right;
}

/** First index whose key is >= `key` (entries are sorted). */
function lowerBound(entries: MstEntry[], key: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Copy of a node's children with gap `i` replaced. */
function withGap(node: MstNode, i: number, child: MstNode | null): { left: MstNode | null; entries: MstEntry[] } {
  const entries = node.entries.slice();
  let left = node.left;
  if (i === 0) left = child;
  else entries[i - 1] = { ...entries[i - 1], right: child };
  return { left, entries };
}

function decodeNodeData(bytes: Uint8Array, cid: CID): NodeData {
  let data: unknown;
  try {
    data = decodeCbor(bytes);
  } catch (err) {
    throw new MstError('InvalidTree', `MST node ${cid} is not valid DAG-CBOR: ${(err as Error).message}`);
  }
  const d = data as Partial<NodeData> | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.e) || !('l' in d)) {
    throw new MstError('InvalidTree', `MST node ${cid} has an invalid shape`);
  }
  if (d.l !== null && !(CID.asCID(d.l))) throw new MstError('InvalidTree', `MST node ${cid} has an invalid "l"`);
  for (const e of d.e) {
    if (
      !e ||
      typeof e.p !== 'number' ||
      !(e.k instanceof Uint8Array) ||
      !CID.asCID(e.v) ||
      (e.t !== null && !CID.asCID(e.t))
    ) {
      throw new MstError('InvalidTree', `MST node ${cid} has an invalid entry`);
    }
  }
  return d as NodeData;
}

/** Decode a node block: keys expanded from prefix compression, sort order checked. */
export function decodeMstNode(bytes: Uint8Array, cid: CID): DecodedNode {
  const fast = fastDecodeMstNode(bytes);
  if (fast) return { bytes, left: fast.left, entries: fast.entries };
  const data = decodeNodeData(bytes, cid);
  const entries: DecodedNode['entries'] = [];
  let prevBytes = new Uint8Array(0);
  let prevKey: string | null = null;
  for (const e of data.e) {
    if (e.p > prevBytes.length) throw new MstError('InvalidTree', `MST node ${cid} has a bad prefix length`);
    const keyBytes = new Uint8Array(e.p + e.k.length);
    keyBytes.set(prevBytes.subarray(0, e.p), 0);
    keyBytes.set(e.k, e.p);
    let key: string;
    try {
      key = utf8Decoder.decode(keyBytes);
    } catch {
      throw new MstError('InvalidTree', `MST node ${cid} has a non-UTF-8 key`);
    }
    if (prevKey !== null && !(prevKey < key)) throw new MstError('InvalidTree', `MST node ${cid} keys out of order`);
    entries.push({ key, value: CID.asCID(e.v)!, right: e.t === null ? null : CID.asCID(e.t)! });
    prevBytes = keyBytes;
    prevKey = key;
  }
  return { bytes, left: data.l === null ? null : CID.asCID(data.l)!, entries };
}

/**
 * A mutable handle on one MST. Edits never modify nodes that came from the store (they are
 * shared, copy-on-write), so a handle can be forked cheaply with `fork()`.
 */
export class Mst {
  /** Blocks of nodes encoded by `finalize` that are part of the current tree. */
  readonly newBlocks = new BlockMap();
  /** Persisted node CIDs that edits replaced (each node leaves the tree at most once). */
  private removed: CID[] = [];
  /** Nodes encoded by this handle's `finalize` (their blocks are in newBlocks). */
  private encodedHere = new WeakSet<MstNode>();

  private constructor(
    private store: BlockReader,
    public root: MstNode,
    private cache: MstNodeCache | null,
  ) {}

  /** `cache`: decoded-node cache (default: the shared one; null disables caching). */
  static create(store: BlockReader, cache: MstNodeCache | null = defaultNodeCache): Mst {
    return new Mst(store, newNode(0, null, []), cache);
  }

  static load(store: BlockReader, rootCid: CID, cache: MstNodeCache | null = defaultNodeCache): Mst {
    const root = stub(rootCid, 0);
    const mst = new Mst(store, root, cache);
    root.layer = mst.rootLayer(rootCid);
    return mst;
  }

  /** Layer of a root: depth of its first key, or one above its first non-empty descendant. */
  private rootLayer(cid: CID): number {
    let depth = 0;
    let current: CID | null = cid;
    while (current) {
      const data = this.decoded(current);
      if (data.entries.length > 0) return leadingZerosOnHash(data.entries[0].key) + depth;
      current = data.left;
      depth++;
    }
    return 0;
  }

  private decoded(cid: CID): DecodedNode {
    const hit = this.cache?.get(cid);
    if (hit) return hit;
    const node = decodeMstNode(requireBlock(this.store, cid, 'MST node'), cid);
    this.cache?.put(cid, node);
    return node;
  }

  private load(node: MstNode): void {
    if (node.loaded) return;
    const cid = node.cid!;
    const data = this.decoded(cid);
    const childLayer = node.layer - 1;
    const child = (c: CID | null): MstNode | null => {
      if (!c) return null;
      if (childLayer < 0) throw new MstError('InvalidTree', `MST node ${cid} at layer 0 has a subtree`);
      return stub(c, childLayer);
    };
    node.left = child(data.left);
    node.entries = data.entries.map((e) => ({ key: e.key, value: e.value, right: child(e.right) }));
    node.bytes = data.bytes;
    node.loaded = true;
  }

  private replaced(node: MstNode): void {
    if (!node.cid) return;
    if (this.encodedHere.has(node)) this.newBlocks.delete(node.cid);
    else this.removed.push(node.cid);
  }

  /** Persisted MST node CIDs that are no longer part of the tree. */
  removedCids(): CID[] {
    return this.removed.slice();
  }

  get(key: string): CID | null {
    let node: MstNode | null = this.root;
    while (node) {
      this.load(node);
      const i = lowerBound(node.entries, key);
      if (i < node.entries.length && node.entries[i].key === key) return node.entries[i].value;
      node = gapAt(node, i);
    }
    return null;
  }

  /** Insert a new key; throws RecordExists if present. */
  add(key: string, value: CID): void {
    if (!isValidMstKey(key)) throw new MstError('InvalidKey', `invalid repo path: ${JSON.stringify(key)}`);
    const height = leadingZerosOnHash(key);
    const root = this.root;
    this.load(root);
    if (root.entries.length === 0 && root.left === null) {
      this.replaced(root);
      this.root = newNode(height, null, [{ key, value, right: null }]);
      return;
    }
    if (height > root.layer) {
      let [l, r] = this.split(root, key);
      for (let layer = root.layer + 1; layer < height; layer++) {
        l = l && newNode(layer, l, []);
        r = r && newNode(layer, r, []);
      }
      this.root = newNode(height, l, [{ key, value, right: r }]);
      return;
    }
    this.root = this.insertAt(root, key, value, height);
  }

  private insertAt(node: MstNode, key: string, value: CID, height: number): MstNode {
    this.load(node);
    const i = lowerBound(node.entries, key);
    if (i < node.entries.length && node.entries[i].key === key) {
      throw new MstError('RecordExists', `record already exists: ${key}`);
    }
    let next: { left: MstNode | null; entries: MstEntry[] };
    if (node.layer === height) {
      const [lc, rc] = this.split(gapAt(node, i), key);
      next = withGap(node, i, lc);
      next.entries.splice(i, 0, { key, value, right: rc });
    } else {
      const child = gapAt(node, i) ?? newNode(node.layer - 1, null, []);
      next = withGap(node, i, this.insertAt(child, key, value, height));
    }
    this.replaced(node);
    return newNode(node.layer, next.left, next.entries);
  }

  /** Split a subtree around a key that is not in it; unchanged halves are returned as-is. */
  private split(node: MstNode | null, key: string): [MstNode | null, MstNode | null] {
    if (!node) return [null, null];
    this.load(node);
    const n = node.entries.length;
    const i = lowerBound(node.entries, key);
    if (i < n && node.entries[i].key === key) throw new MstError('RecordExists', `record already exists: ${key}`);
    const child = gapAt(node, i);
    const [lc, rc] = this.split(child, key);
    if (i === n && lc === child) return [node, null];
    if (i === 0 && rc === child) return [null, node];
    this.replaced(node);
    let leftHalf: MstNode | null;
    if (i === 0) leftHalf = lc ? newNode(node.layer, lc, []) : null;
    else {
      const entries = node.entries.slice(0, i);
      entries[i - 1] = { ...entries[i - 1], right: lc };
      leftHalf = newNode(node.layer, node.left, entries);
    }
    let rightHalf: MstNode | null;
    if (i === n) rightHalf = rc ? newNode(node.layer, rc, []) : null;
    else rightHalf = newNode(node.layer, rc, node.entries.slice(i));
    return [leftHalf, rightHalf];
  }

  /** Change the value of an existing key; throws RecordNotFound if absent. */
  update(key: string, value: CID): CID {
    let prev: CID | null = null;
    const walk = (node: MstNode): MstNode => {
      this.load(node);
      const i = lowerBound(node.entries, key);
      let next: { left: MstNode | null; entries: MstEntry[] };
      if (i < node.entries.length && node.entries[i].key === key) {
        prev = node.entries[i].value;
        next = { left: node.left, entries: node.entries.slice() };
        next.entries[i] = { ...next.entries[i], value };
      } else {
        const child = gapAt(node, i);
        if (!child) throw new MstError('RecordNotFound', `record not found: ${key}`);
        next = withGap(node, i, walk(child));
      }
      this.replaced(node);
      return newNode(node.layer, next.left, next.entries);
    };
    this.root = walk(this.root);
    return prev!;
  }

  /** Remove a key; throws RecordNotFound if absent. Returns the removed value. */
  delete(key: string): CID {
    let prev: CID | null = null;
    const walk = (node: MstNode): MstNode | null => {
      this.load(node);
      const i = lowerBound(node.entries, key);
      let next: { left: MstNode | null; entries: MstEntry[] };
      if (i < node.entries.length && node.entries[i].key === key) {
        prev = node.entries[i].value;
        const merged = this.merge(gapAt(node, i), node.entries[i].right);
        next = withGap(node, i, merged);
        next.entries.splice(i, 1);
      } else {
        const child = gapAt(node, i);
        if (!child) throw new MstError('RecordNotFound', `record not found: ${key}`);
        next = withGap(node, i, walk(child));
      }
      this.replaced(node);
      if (next.entries.length === 0 && next.left === null) return null;
      return newNode(node.layer, next.left, next.entries);
    };
    let root = walk(this.root);
    // The top of the tree must not be an empty node that only points to a subtree.
    while (root && root.entries.length === 0 && root.left) {
      this.replaced(root);
      root = root.left;
      this.load(root);
    }
    this.root = root ?? newNode(0, null, []);
    return prev!;
  }

  /** Join two adjacent subtrees of the same layer (all keys of `a` sort before those of `b`). */
  private merge(a: MstNode | null, b: MstNode | null): MstNode | null {
    if (!a) return b;
    if (!b) return a;
    this.load(a);
    this.load(b);
    this.replaced(a);
    this.replaced(b);
    const an = a.entries.length;
    const mid = this.merge(an ? a.entries[an - 1].right : a.left, b.left);
    if (an === 0) return newNode(a.layer, mid, b.entries.slice());
    const entries = a.entries.slice();
    entries[an - 1] = { ...entries[an - 1], right: mid };
    return newNode(a.layer, a.left, entries.concat(b.entries));
  }

  /** Encode and hash every changed node (children first); returns the root CID. */
  finalize(): CID {
    return this.encode(this.root);
  }

  private encode(node: MstNode): CID {
    if (node.cid) return node.cid;
    const l = node.left ? this.encode(node.left) : null;
    const e: NodeData['e'] = [];
    let prev = new Uint8Array(0);
    for (const entry of node.entries) {
      const keyBytes = utf8Encoder.encode(entry.key);
      const p = countPrefixLen(prev, keyBytes);
      e.push({ p, k: keyBytes.subarray(p), v: entry.value, t: entry.right ? this.encode(entry.right) : null });
      prev = keyBytes;
    }
    const block = encodeBlock({ l, e });
    node.cid = block.cid;
    node.bytes = block.bytes;
    this.encodedHere.add(node);
    this.newBlocks.set(block.cid, block.bytes);
    this.cache?.put(block.cid, {
      bytes: block.bytes,
      left: l,
      entries: node.entries.map((entry, i) => ({ key: entry.key, value: entry.value, right: e[i].t })),
    });
    return block.cid;
  }

  private nodeBytes(node: MstNode): Uint8Array {
    this.load(node);
    if (!node.bytes) throw new Error('MST node not finalized (call finalize first)');
    return node.bytes;
  }

  /**
   * Nodes on the search path of `key` (ending where the key is found or where its gap is
   * empty): a proof of the key's presence or absence. Requires a finalized tree.
   */
  pathProof(key: string, out: BlockMap): void {
    let node: MstNode | null = this.root;
    while (node) {
      out.set(node.cid!, this.nodeBytes(node));
      const i = lowerBound(node.entries, key);
      if (i < node.entries.length && node.entries[i].key === key) return;
      node = gapAt(node, i);
    }
  }

  /**
   * Nodes a consumer needs to remove or re-insert `key` in this tree: the search path, plus,
   * where the key sits, the inner edges of its two neighbouring subtrees (a deletion merges
   * them; the inverse insertion splits them). Requires a finalized tree.
   */
  coveringProof(key: string, out: BlockMap): void {
    let node: MstNode | null = this.root;
    while (node) {
      out.set(node.cid!, this.nodeBytes(node));
      const i = lowerBound(node.entries, key);
      if (i < node.entries.length && node.entries[i].key === key) {
        for (let n = gapAt(node, i); n; n = this.lastGap(n)) out.set(n.cid!, this.nodeBytes(n));
        for (let n = node.entries[i].right; n; n = (this.load(n), n.left)) out.set(n.cid!, this.nodeBytes(n));
        return;
      }
      node = gapAt(node, i);
    }
  }

  private lastGap(node: MstNode): MstNode | null {
    this.load(node);
    return node.entries.length ? node.entries[node.entries.length - 1].right : node.left;
  }

  /** All leaves in key order (loads the whole tree: tests and small trees only). */
  *leaves(): Generator<{ key: string; value: CID }> {
    const self = this;
    function* walk(node: MstNode | null): Generator<{ key: string; value: CID }> {
      if (!node) return;
      self.load(node);
      yield* walk(node.left);
      for (const e of node.entries) {
        yield { key: e.key, value: e.value };
        yield* walk(e.right);
      }
    }
    yield* walk(this.root);
  }

  /** Leaves with key > `after` (or all), in order, at most `limit`; descends only where needed. */
  list(limit: number, after?: string, prefix?: string): { key: string; value: CID }[] {
    const out: { key: string; value: CID }[] = [];
    const lower = after ?? (prefix ? prefix : undefined);
    const walk = (node: MstNode | null): boolean => {
      if (!node) return true;
      this.load(node);
      const start = lower === undefined ? 0 : lowerBound(node.entries, lower);
      for (let i = start; i <= node.entries.length; i++) {
        if (!walk(gapAt(node, i))) return false;
        if (i === node.entries.length) break;
        const e = node.entries[i];
        if (after !== undefined && e.key <= after) continue;
        if (prefix !== undefined && !e.key.startsWith(prefix)) {
          if (e.key > prefix) return false;
          continue;
        }
        out.push({ key: e.key, value: e.value });
        if (out.length >= limit) return false;
      }
      return true;
    };
    walk(this.root);
    return out;
  }
}
