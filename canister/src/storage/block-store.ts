// Blocks by CID, each remembering the rev of the commit that first wrote it (getRepo `since`).
// The canister keeps them in a dedicated stable map (see ic/stable-blocks.ts); tests use memory.
import { CID } from '../atproto/cbor.ts';

export interface BlockStore {
  get(cid: CID): Uint8Array | undefined;
  has(cid: CID): boolean;
  /** Stores a block unless present (a present block keeps its first rev). */
  put(cid: CID, bytes: Uint8Array, rev: string): void;
  delete(cid: CID): void;
  rev(cid: CID): string | undefined;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Stored form: [rev length][rev ascii][block bytes] — revs are TIDs (13 ascii chars). */
export function packBlock(bytes: Uint8Array, rev: string): Uint8Array {
  const out = new Uint8Array(1 + rev.length + bytes.length);
  out[0] = rev.length;
  out.set(ascii(rev), 1);
  out.set(bytes, 1 + rev.length);
  return out;
}

export function unpackBlockBytes(stored: Uint8Array): Uint8Array {
  return stored.subarray(1 + stored[0]);
}

export function unpackBlockRev(stored: Uint8Array): string {
  return String.fromCharCode(...stored.subarray(1, 1 + stored[0]));
}

/** Shared implementation over any byte map keyed by CID bytes. */
export interface RawBlockMap {
  get(key: Uint8Array): Uint8Array | undefined;
  insert(key: Uint8Array, value: Uint8Array): void;
  remove(key: Uint8Array): void;
}

export class PackedBlockStore implements BlockStore {
  constructor(private map: RawBlockMap) {}
  get(cid: CID) {
    const v = this.map.get(cid.bytes);
    return v ? unpackBlockBytes(v) : undefined;
  }
  has(cid: CID) {
    return this.map.get(cid.bytes) !== undefined;
  }
  put(cid: CID, bytes: Uint8Array, rev: string) {
    if (this.map.get(cid.bytes) === undefined) this.map.insert(cid.bytes, packBlock(bytes, rev));
  }
  delete(cid: CID) {
    this.map.remove(cid.bytes);
  }
  rev(cid: CID) {
    const v = this.map.get(cid.bytes);
    return v ? unpackBlockRev(v) : undefined;
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export class MemoryBlockStore extends PackedBlockStore {
  readonly raw = new Map<string, Uint8Array>();
  constructor() {
    const raw = new Map<string, Uint8Array>();
    super({
      get: (k) => raw.get(hex(k)),
      insert: (k, v) => void raw.set(hex(k), v),
      remove: (k) => void raw.delete(hex(k)),
    });
    this.raw = raw;
  }
  get size() {
    return this.raw.size;
  }
}
