// A decoder specialised for MST node blocks in their canonical DAG-CBOR form. Inside the canister
// the generic decoder (cborg) costs ~9,000 instructions per byte of a node and CID.decode ~200 k
// per link, which made repo export (getRepo) walk-bound. Canonical node bytes have one exact
// layout ({e: [{k, p, t, v}], l}, minimal lengths, sha-256 CIDv1 links), so this reads them
// directly and builds CIDs from their parts. Anything else returns null and the caller falls back
// to the generic decoder, which accepts or rejects it (with its error messages) as before.
import { CID, cidFromBytes } from '../atproto/cbor.ts';

export type FastDecodedNode = { left: CID | null; entries: { key: string; value: CID; right: CID | null }[] };

const CID_LEN = 36; // 0x01 codec 0x12 0x20 + 32-byte digest

/** Reads a length/uint argument in minimal form for major type `major`: returns the value and sets `next` to the position after it, or returns -1 (not that major type, or not minimal). */
function readHead(b: Uint8Array, pos: number, major: number): number {
  const ib = b[pos];
  if (ib >> 5 !== major) return -1;
  const info = ib & 31;
  if (info < 24) {
    next = pos + 1;
    return info;
  }
  if (info === 24) {
    const v = b[pos + 1];
    if (v === undefined || v < 24) return -1;
    next = pos + 2;
    return v;
  }
  if (info === 25) {
    if (pos + 2 >= b.length) return -1;
    const v = (b[pos + 1] << 8) | b[pos + 2];
    if (v < 256) return -1;
    next = pos + 3;
    return v;
  }
  return -1;
}
let next = 0;

/** A CID link (tag 42, bytes 0x00 + CIDv1 sha-256) at pos, or null if not in that exact form. */
function readLink(b: Uint8Array, pos: number): CID | null {
  // d8 2a 58 25 00 01 <codec> 12 20 <32 bytes>
  if (b[pos] !== 0xd8 || b[pos + 1] !== 0x2a || b[pos + 2] !== 0x58 || b[pos + 3] !== CID_LEN + 1 || b[pos + 4] !== 0) return null;
  const s = pos + 5;
  if (s + CID_LEN > b.length || b[s] !== 1 || b[s + 2] !== 0x12 || b[s + 3] !== 0x20) return null;
  const codec = b[s + 1];
  if (codec !== 0x71 && codec !== 0x55) return null; // other codecs need a multi-byte varint check
  next = s + CID_LEN;
  return cidFromBytes(b.slice(s, s + CID_LEN));
}

function readNullableLink(b: Uint8Array, pos: number): CID | null | undefined {
  if (b[pos] === 0xf6) {
    next = pos + 1;
    return null;
  }
  return readLink(b, pos) ?? undefined;
}

/** Key bytes must be printable ASCII here (MST keys are); anything else goes the generic way. */
function asciiKey(b: Uint8Array, start: number, end: number): string | null {
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c < 0x21 || c > 0x7e) return null;
  }
  return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
}

/** The node in `b`, or null when it is not in the canonical layout (use the generic decoder). */
export function fastDecodeMstNode(b: Uint8Array): FastDecodedNode | null {
  // a2 61 65 ("e") <array>
  if (b[0] !== 0xa2 || b[1] !== 0x61 || b[2] !== 0x65) return null;
  const n = readHead(b, 3, 4);
  if (n < 0) return null;
  let pos = next;
  const entries: FastDecodedNode['entries'] = [];
  let prevKey = '';
  for (let i = 0; i < n; i++) {
    // a4 61 6b ("k") <bytes>
    if (b[pos] !== 0xa4 || b[pos + 1] !== 0x61 || b[pos + 2] !== 0x6b) return null;
    const klen = readHead(b, pos + 3, 2);
    if (klen < 0) return null;
    const ks = next;
    const ke = ks + klen;
    if (ke > b.length) return null;
    // 61 70 ("p") <uint>
    if (b[ke] !== 0x61 || b[ke + 1] !== 0x70) return null;
    const p = readHead(b, ke + 2, 0);
    if (p < 0 || p > prevKey.length) return null;
    pos = next;
    // 61 74 ("t") <link|null>
    if (b[pos] !== 0x61 || b[pos + 1] !== 0x74) return null;
    const right = readNullableLink(b, pos + 2);
    if (right === undefined) return null;
    pos = next;
    // 61 76 ("v") <link>
    if (b[pos] !== 0x61 || b[pos + 1] !== 0x76) return null;
    const value = readLink(b, pos + 2);
    if (value === null) return null;
    pos = next;
    const suffix = asciiKey(b, ks, ke);
    if (suffix === null) return null;
    const key = p === 0 ? suffix : prevKey.slice(0, p) + suffix;
    if (i > 0 && !(prevKey < key)) return null;
    entries.push({ key, value, right });
    prevKey = key;
  }
  // 61 6c ("l") <link|null>
  if (b[pos] !== 0x61 || b[pos + 1] !== 0x6c) return null;
  const left = readNullableLink(b, pos + 2);
  if (left === undefined || next !== b.length) return null;
  return { left, entries };
}
