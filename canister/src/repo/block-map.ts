// Block access shared by every repo module. Reads are synchronous because the canister's
// stable structures are; callers decide where blocks actually live.
import { CID, cidToString } from '../atproto/cbor.ts';

export interface BlockReader {
  get(cid: CID): Uint8Array | undefined;
}

/** CID-keyed map of block bytes; insertion order is preserved (used for CAR output order). */
export class BlockMap implements BlockReader {
  private map = new Map<string, { cid: CID; bytes: Uint8Array }>();

  set(cid: CID, bytes: Uint8Array): void {
    this.map.set(cidToString(cid), { cid, bytes });
  }

  get(cid: CID): Uint8Array | undefined {
    return this.map.get(cidToString(cid))?.bytes;
  }

  has(cid: CID): boolean {
    return this.map.has(cidToString(cid));
  }

  delete(cid: CID): void {
    this.map.delete(cidToString(cid));
  }

  addAll(other: BlockMap): void {
    for (const [cid, bytes] of other.entries()) this.set(cid, bytes);
  }

  get size(): number {
    return this.map.size;
  }

  /** Sum of block payload sizes (not counting CIDs or CAR framing). */
  byteSize(): number {
    let n = 0;
    for (const { bytes } of this.map.values()) n += bytes.length;
    return n;
  }

  *entries(): IterableIterator<[CID, Uint8Array]> {
    for (const { cid, bytes } of this.map.values()) yield [cid, bytes];
  }

  cids(): CID[] {
    return [...this.map.values()].map((b) => b.cid);
  }

  [Symbol.iterator](): IterableIterator<[CID, Uint8Array]> {
    return this.entries();
  }
}

/** Reads `top` first, then `base` (pending blocks over the persisted store). */
export function overlayReader(top: BlockReader, base: BlockReader | null): BlockReader {
  return { get: (cid) => top.get(cid) ?? base?.get(cid) };
}

export class MissingBlockError extends Error {
  constructor(
    readonly cid: CID,
    what: string,
  ) {
    super(`missing block ${cid.toString()} (${what})`);
    this.name = 'MissingBlockError';
  }
}

export function requireBlock(store: BlockReader, cid: CID, what: string): Uint8Array {
  const bytes = store.get(cid);
  if (!bytes) throw new MissingBlockError(cid, what);
  return bytes;
}
