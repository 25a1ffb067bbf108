// CAR v1: varint(len(header)) header, then per block varint(len(cid)+len(data)) cid data.
// `exportRepoChunk` streams a full repo as bounded chunks (the canister cannot build one buffer
// for a large repo): a resumable pre-order walk of the MST whose cursor is the last key emitted.
import { CID, cidForCborBytes, cidForRaw, decodeCbor, encodeCbor, DAG_CBOR, RAW } from '../atproto/cbor.ts';
import { BlockMap, type BlockReader, requireBlock } from './block-map.ts';
import { decodeCommit } from './commit.ts';
import { type DecodedNode, decodeMstNode } from './mst.ts';

export class CarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CarError';
  }
}

export function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(n: number, out: Uint8Array, offset: number): number {
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[offset++] = n;
  return offset;
}

function readVarint(bytes: Uint8Array, offset: number): [number, number] {
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 8; i++) {
    if (offset >= bytes.length) throw new CarError('truncated varint');
    const b = bytes[offset++];
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) return [value, offset];
    mult *= 128;
  }
  throw new CarError('varint too long');
}

export function carHeaderBytes(roots: CID[]): Uint8Array {
  const header = encodeCbor({ version: 1, roots });
  const out = new Uint8Array(varintLength(header.length) + header.length);
  out.set(header, writeVarint(header.length, out, 0));
  return out;
}

/** Bytes one block occupies in a CAR (length prefix + CID + data). */
export function carBlockLength(cid: CID, bytes: Uint8Array): number {
  const len = cid.bytes.length + bytes.length;
  return varintLength(len) + len;
}

export function carBlockBytes(cid: CID, bytes: Uint8Array): Uint8Array {
  const len = cid.bytes.length + bytes.length;
  const out = new Uint8Array(varintLength(len) + len);
  let o = writeVarint(len, out, 0);
  out.set(cid.bytes, o);
  o += cid.bytes.length;
  out.set(bytes, o);
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Exact size of `encodeCar(roots, blocks)`. */
export function carLength(roots: CID[], blocks: Iterable<[CID, Uint8Array]>): number {
  let n = carHeaderBytes(roots).length;
  for (const [cid, bytes] of blocks) n += carBlockLength(cid, bytes);
  return n;
}

/** A whole CAR in one buffer: for diffs, proofs and events (small by construction). */
export function encodeCar(roots: CID[], blocks: Iterable<[CID, Uint8Array]>): Uint8Array {
  const parts = [carHeaderBytes(roots)];
  for (const [cid, bytes] of blocks) parts.push(carBlockBytes(cid, bytes));
  return concatBytes(parts);
}

/**
 * Parse a CAR v1. With `verify` (default), every block's CID is recomputed from its bytes
 * (sha-256, dag-cbor or raw codec) and a mismatch is an error.
 */
export function readCar(bytes: Uint8Array, opts: { verify?: boolean } = {}): { roots: CID[]; blocks: BlockMap } {
  const verify = opts.verify ?? true;
  const [headerLen, start] = readVarint(bytes, 0);
  if (start + headerLen > bytes.length) throw new CarError('truncated CAR header');
  let header: { version?: unknown; roots?: unknown };
  try {
    header = decodeCbor(bytes.subarray(start, start + headerLen));
  } catch (err) {
    throw new CarError(`invalid CAR header: ${(err as Error).message}`);
  }
  if (!header || header.version !== 1) throw new CarError('unsupported CAR version');
  if (!Array.isArray(header.roots) || !header.roots.every((r) => CID.asCID(r))) throw new CarError('invalid CAR roots');
  const roots = (header.roots as unknown[]).map((r) => CID.asCID(r)!);
  const blocks = new BlockMap();
  let offset = start + headerLen;
  while (offset < bytes.length) {
    const [len, o] = readVarint(bytes, offset);
    const end = o + len;
    if (end > bytes.length) throw new CarError('truncated CAR block');
    let cid: CID;
    try {
      cid = CID.decodeFirst(bytes.subarray(o, end))[0];
    } catch (err) {
      throw new CarError(`invalid block CID: ${(err as Error).message}`);
    }
    const data = bytes.slice(o + cid.bytes.length, end);
    if (verify) {
      const actual = cid.code === DAG_CBOR ? cidForCborBytes(data) : cid.code === RAW ? cidForRaw(data) : null;
      if (!actual || !actual.equals(cid)) throw new CarError(`block does not match its CID ${cid}`);
    }
    blocks.set(cid, data);
    offset = end;
  }
  return { roots, blocks };
}

type WalkItem = { kind: 'node'; cid: CID; bytes: Uint8Array } | { kind: 'leaf'; key: string; cid: CID };

/** Raw node view for export: no key depths needed, so nothing is hashed; no cache churn. */
function readNode(store: BlockReader, cid: CID): DecodedNode {
  return decodeMstNode(requireBlock(store, cid, 'MST node'), cid);
}

/**
 * Pre-order walk (node, left subtree, then each entry's record and right subtree). With
 * `after`, resumes just past that key: nodes whose range holds `after` were already emitted,
 * so they are re-descended without being emitted again.
 */
function* walkTree(store: BlockReader, cid: CID, after: string | null, skip: (cid: CID) => boolean): Generator<WalkItem> {
  const node = readNode(store, cid);
  if (after === null) yield { kind: 'node', cid, bytes: node.bytes };
  const n = node.entries.length;
  for (let i = 0; i <= n; i++) {
    const child = i === 0 ? node.left : node.entries[i - 1].right;
    const lower = i === 0 ? null : node.entries[i - 1].key;
    const upper = i === n ? null : node.entries[i].key;
    if (child) {
      if (after === null || (lower !== null && after <= lower)) {
        if (!skip(child)) yield* walkTree(store, child, null, skip);
      } else if (upper === null || after < upper) {
        yield* walkTree(store, child, after, skip); // `after` lies inside this subtree
      }
    }
    if (i < n && (after === null || node.entries[i].key > after)) {
      yield { kind: 'leaf', key: node.entries[i].key, cid: node.entries[i].value };
    }
  }
}

export type ExportChunk = { bytes: Uint8Array; cursor: string | null };

/**
 * One bounded piece of a full-repo CAR. Call with cursor null first, then with each returned
 * cursor until it comes back null; the concatenated chunks are one valid CAR (header + commit
 * in the first chunk). A chunk stops before exceeding `maxBytes` but always makes progress
 * (one record with the nodes preceding it). `skip(cid)` leaves out a record block, or prunes a
 * whole subtree when given a node the consumer already has (getRepo `since`). `maxBlocks` also
 * bounds the blocks a chunk walks (nodes and records, emitted or skipped), so a chunk of many
 * tiny or skipped records stays bounded in work (instructions) and not only in bytes.
 */
export function exportRepoChunk(
  store: BlockReader,
  commitCid: CID,
  cursor: string | null,
  maxBytes: number,
  opts: { skip?(cid: CID): boolean; maxBlocks?: number } = {},
): ExportChunk {
  const maxBlocks = opts.maxBlocks ?? Infinity;
  const skip = opts.skip ?? (() => false);
  const commitBytes = requireBlock(store, commitCid, 'commit');
  const commit = decodeCommit(commitBytes);
  const parts: Uint8Array[] = [];
  let size = 0;
  if (cursor === null) {
    parts.push(carHeaderBytes([commitCid]), carBlockBytes(commitCid, commitBytes));
    size = parts[0].length + parts[1].length;
  }
  let pending: Uint8Array[] = [];
  let pendingSize = 0;
  let visited = 0;
  let last: string | null = cursor;
  let units = 0;
  const rootSkipped = cursor === null && skip(commit.data);
  if (!rootSkipped) {
    for (const item of walkTree(store, commit.data, cursor, skip)) {
      visited++;
      if (item.kind === 'node') {
        const b = carBlockBytes(item.cid, item.bytes);
        pending.push(b);
        pendingSize += b.length;
        continue;
      }
      if (!skip(item.cid)) {
        const b = carBlockBytes(item.cid, requireBlock(store, item.cid, `record ${item.key}`));
        pending.push(b);
        pendingSize += b.length;
      }
      // A unit is one record plus the nodes emitted since the previous record.
      if (units > 0 && (size + pendingSize > maxBytes || visited > maxBlocks)) {
        return { bytes: concatBytes(parts), cursor: last };
      }
      parts.push(...pending);
      size += pendingSize;
      pending = [];
      pendingSize = 0;
      last = item.key;
      units++;
    }
  }
  parts.push(...pending); // only an empty tree's root node can be left here
  return { bytes: concatBytes(parts), cursor: null };
}

/** Every block of a repo at a commit, in export order (tests and tools). */
export function exportRepoCar(store: BlockReader, commitCid: CID, chunkBytes = 1 << 20): Uint8Array {
  const parts: Uint8Array[] = [];
  let cursor: string | null = null;
  do {
    const chunk = exportRepoChunk(store, commitCid, cursor, chunkBytes);
    parts.push(chunk.bytes);
    cursor = chunk.cursor;
  } while (cursor !== null);
  return concatBytes(parts);
}
