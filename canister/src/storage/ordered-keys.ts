// An ordered set of string keys kept as a B+tree whose nodes live in a point-lookup byte map
// (in the canister: its own StableBTreeMap in stable memory). Azle's StableBTreeMap is ordered but
// can only be walked by position from its first entry, so it cannot seek; this tree can. Every
// operation reads and writes O(height) nodes (height 3 at 100,000 keys), nothing proportional to
// the number of keys, and nothing has to be rebuilt after an upgrade: opening it reads one meta node.
//
// Keys order by UTF-16 code units (JavaScript `<`), like MemoryKv. Node 0 is the meta node. A leaf
// is a marker byte and each key's UTF-8 followed by a zero byte: inserting or removing a key splices
// bytes (native copies) and encodes only that key, because every byte a JavaScript loop touches
// costs thousands of instructions in the canister's interpreter. An inner node is the UTF-8 JSON of
// its children's lower bounds and ids (the first bound is never compared, so it may be stale); it is
// rewritten only when a child splits or empties, and kept decoded on the heap. Empty leaves are
// unlinked at once, so a scan of `limit` keys reads at most limit + height nodes; underfull nodes
// are not merged. Keys must not contain U+0000.
import { utf8Decode, utf8Encode } from '../atproto/utf8.ts';

/** Where the nodes live: small byte values by numeric id. */
export interface NodeStore {
  get(id: number): Uint8Array | undefined;
  set(id: number, bytes: Uint8Array): void;
  delete(id: number): void;
}

/** `bytes`: the stored form; `lens`: each key's UTF-8 length, to find its offset in `bytes`. */
type Leaf = { keys: string[]; children?: undefined; bytes: Uint8Array; lens: number[] };
type Inner = { keys: string[]; children: number[] };
type Node = Leaf | Inner;

/** Persistent state besides the nodes; `extra` belongs to the owner (e.g. migration progress). */
export type TreeMeta = { root: number; next: number; extra?: unknown };

const META = 0;
const encode = (v: unknown) => utf8Encode(JSON.stringify(v));
const decode = <T>(b: Uint8Array): T => JSON.parse(utf8Decode(b)) as T;

const LEAF = 1;
const CHUNK = 4096;
const NON_ASCII = /[^\x00-\x7f]/;

/** The bytes as a string of char codes 0..255 (native: no per-byte loop). */
function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += CHUNK) out += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  return out;
}

function leafFrom(bytes: Uint8Array): Leaf {
  const bin = latin1(bytes.subarray(1));
  const parts = bin === '' ? [] : bin.slice(0, -1).split('\0');
  const keys = NON_ASCII.test(bin) ? parts.map((p) => decodeURIComponent(escape(p))) : parts;
  return { keys, bytes, lens: parts.map((p) => p.length) };
}

const emptyLeaf = (): Leaf => ({ keys: [], bytes: Uint8Array.of(LEAF), lens: [] });

/** Byte offset of key `i` in a leaf. */
function offsetOf(leaf: Leaf, i: number): number {
  let off = 1;
  for (let j = 0; j < i; j++) off += leaf.lens[j] + 1;
  return off;
}

function leafInsert(leaf: Leaf, i: number, key: string): void {
  const kb = utf8Encode(key);
  const off = offsetOf(leaf, i);
  const out = new Uint8Array(leaf.bytes.length + kb.length + 1);
  out.set(leaf.bytes.subarray(0, off));
  out.set(kb, off);
  out.set(leaf.bytes.subarray(off), off + kb.length + 1);
  leaf.bytes = out;
  leaf.keys.splice(i, 0, key);
  leaf.lens.splice(i, 0, kb.length);
}

function leafRemove(leaf: Leaf, i: number): void {
  const off = offsetOf(leaf, i);
  const end = off + leaf.lens[i] + 1;
  const out = new Uint8Array(leaf.bytes.length - (end - off));
  out.set(leaf.bytes.subarray(0, off));
  out.set(leaf.bytes.subarray(end), off);
  leaf.bytes = out;
  leaf.keys.splice(i, 1);
  leaf.lens.splice(i, 1);
}

/** Moves keys from `half` on into a new leaf. */
function leafSplit(leaf: Leaf, half: number): Leaf {
  const off = offsetOf(leaf, half);
  const right = new Uint8Array(leaf.bytes.length - off + 1);
  right[0] = LEAF;
  right.set(leaf.bytes.subarray(off), 1);
  const out: Leaf = { keys: leaf.keys.splice(half), bytes: right, lens: leaf.lens.splice(half) };
  leaf.bytes = leaf.bytes.slice(0, off);
  return out;
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

/** The child of an inner node that holds `key` (strict: the child holding keys < key). */
function childFor(node: Inner, key: string, strict: boolean): number {
  const i = bound(node.keys, key, strict) - 1;
  return i < 0 ? 0 : i;
}

type Step = { id: number; node: Node; at: number };

export class OrderedKeys {
  private meta: TreeMeta | null = null;
  /** Decoded inner nodes (few: about keys / fanout²); leaves are read from the store each time. */
  private inner = new Map<number, Inner>();

  constructor(
    private store: NodeStore,
    private fanout = 16,
  ) {}

  /** True once the tree exists in the store (false for a store never written). */
  exists(): boolean {
    return this.meta !== null || this.store.get(META) !== undefined;
  }

  getExtra(): unknown {
    return this.m().extra;
  }

  setExtra(extra: unknown): void {
    const m = this.m();
    if (extra === undefined) delete m.extra;
    else m.extra = extra;
    this.store.set(META, encode(m));
  }

  private m(): TreeMeta {
    if (this.meta) return this.meta;
    const raw = this.store.get(META);
    if (raw) this.meta = decode<TreeMeta>(raw);
    else {
      this.meta = { root: 1, next: 2 };
      this.write(1, emptyLeaf());
      this.store.set(META, encode(this.meta));
    }
    return this.meta;
  }

  private read(id: number): Node {
    const cached = this.inner.get(id);
    if (cached) return cached;
    const raw = this.store.get(id);
    if (!raw) throw new Error(`ordered key index: node ${id} missing`);
    if (raw[0] === LEAF) return leafFrom(raw);
    const [keys, children] = decode<[string[], number[]]>(raw);
    const node = { keys, children };
    this.inner.set(id, node);
    return node;
  }

  private write(id: number, node: Node): void {
    this.store.set(id, node.children ? encode([node.keys, node.children]) : node.bytes);
    if (node.children) this.inner.set(id, node);
    else this.inner.delete(id);
  }

  private drop(id: number): void {
    this.store.delete(id);
    this.inner.delete(id);
  }

  private setRoot(root: number, next = this.m().next): void {
    const m = this.m();
    m.root = root;
    m.next = next;
    this.store.set(META, encode(m));
  }

  /** Root-to-leaf path towards `key`. */
  private descend(key: string, strict = false): Step[] {
    const path: Step[] = [];
    let id = this.m().root;
    for (;;) {
      const node = this.read(id);
      if (!node.children) {
        path.push({ id, node, at: 0 });
        return path;
      }
      const at = childFor(node, key, strict);
      path.push({ id, node, at });
      id = node.children[at];
    }
  }

  /** Adds `key`; false when it was already present. */
  insert(key: string): boolean {
    const path = this.descend(key);
    const leaf = path[path.length - 1].node as Leaf;
    const i = bound(leaf.keys, key, true);
    if (leaf.keys[i] === key) return false;
    if (key.includes('\0')) throw new Error('ordered key index: keys must not contain U+0000');
    leafInsert(leaf, i, key);
    // Split upwards while a node is over the fanout.
    let next = this.m().next;
    let level = path.length - 1;
    let split: { key: string; id: number } | null = null;
    for (; level >= 0; level--) {
      const { id, node, at } = path[level];
      if (split) {
        node.keys.splice(at + 1, 0, split.key);
        node.children!.splice(at + 1, 0, split.id);
        split = null;
      }
      if (node.keys.length <= this.fanout) {
        this.write(id, node);
        break;
      }
      const half = node.keys.length >>> 1;
      const right: Node = node.children ? { keys: node.keys.splice(half), children: node.children.splice(half) } : leafSplit(node, half);
      const rightId = next++;
      this.write(rightId, right);
      this.write(id, node);
      split = { key: right.keys[0], id: rightId };
    }
    if (split) {
      // The root split: a new root above the two halves.
      const rootId = next++;
      this.write(rootId, { keys: ['', split.key], children: [path[0].id, split.id] });
      this.setRoot(rootId, next);
    } else if (next !== this.m().next) this.setRoot(this.m().root, next);
    return true;
  }

  /** Removes `key`; false when it was absent. */
  delete(key: string): boolean {
    const path = this.descend(key);
    const leaf = path[path.length - 1].node as Leaf;
    const i = bound(leaf.keys, key, true);
    if (leaf.keys[i] !== key) return false;
    leafRemove(leaf, i);
    // Unlink nodes that became empty, bottom-up (the root always stays).
    let level = path.length - 1;
    while (level > 0 && path[level].node.keys.length === 0) {
      this.drop(path[level].id);
      const parent = path[level - 1];
      parent.node.keys.splice(parent.at, 1);
      parent.node.children!.splice(parent.at, 1);
      level--;
    }
    this.write(path[level].id, path[level].node);
    // Shrink the root while it is an inner node with at most one child.
    let rootId = path[0].id;
    let root = path[0].node;
    if (!root.children || root.children.length > 1) return true;
    while (root.children && root.children.length <= 1) {
      if (root.children.length === 0) {
        this.write(rootId, emptyLeaf());
        break;
      }
      const only = root.children[0];
      this.drop(rootId);
      rootId = only;
      root = this.read(rootId);
    }
    this.setRoot(rootId);
    return true;
  }

  /** Keys from `start` upwards (`inclusive` or not), in order. */
  *ascending(start: string, inclusive: boolean): Generator<string> {
    const path = this.descend(start);
    const leaf = path[path.length - 1];
    leaf.at = bound(leaf.node.keys, start, inclusive);
    yield* this.walk(path, +1);
  }

  /** Keys below `end` (exclusive; null: from the last key), in descending order. */
  *descending(end: string | null): Generator<string> {
    const path = end === null ? this.lastLeafPath() : this.descend(end, true);
    const leaf = path[path.length - 1];
    leaf.at = end === null ? leaf.node.keys.length - 1 : bound(leaf.node.keys, end, true) - 1;
    yield* this.walk(path, -1);
  }

  private lastLeafPath(): Step[] {
    const path: Step[] = [];
    let id = this.m().root;
    for (;;) {
      const node = this.read(id);
      const at = node.children ? node.children.length - 1 : 0;
      path.push({ id, node, at });
      if (!node.children) return path;
      id = node.children[at];
    }
  }

  private *walk(path: Step[], dir: 1 | -1): Generator<string> {
    for (;;) {
      const leaf = path[path.length - 1];
      for (; leaf.at >= 0 && leaf.at < leaf.node.keys.length; leaf.at += dir) yield leaf.node.keys[leaf.at];
      // Climb to the nearest ancestor with a sibling in `dir`, then down its near edge.
      path.pop();
      while (path.length > 0) {
        const top = path[path.length - 1];
        top.at += dir;
        if (top.at >= 0 && top.at < top.node.children!.length) break;
        path.pop();
      }
      if (path.length === 0) return;
      for (;;) {
        const top = path[path.length - 1];
        const id = top.node.children![top.at];
        const node = this.read(id);
        const at = dir > 0 ? 0 : (node.children ?? node.keys).length - 1;
        path.push({ id, node, at });
        if (!node.children) break;
      }
    }
  }
}
