// Representation-independent hashing (IC interface spec, "Request ids"): text and blobs hash as
// their bytes, naturals as LEB128, arrays as the concatenation of element hashes, maps as the sorted
// concatenation of (hash(key) ‖ hash(value)) pairs.
import { sha256 } from '@noble/hashes/sha2';
import { concat, type CborValue } from './cbor.ts';

export function leb128(n: bigint | number): Uint8Array {
  let v = BigInt(n);
  if (v < 0n) throw new Error('leb128 of a negative number');
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

function sleb128(n: bigint): Uint8Array {
  const out: number[] = [];
  let v = n;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return Uint8Array.from(out);
  }
}

export function hashValue(v: CborValue): Uint8Array {
  if (typeof v === 'string') return sha256(new TextEncoder().encode(v));
  if (v instanceof Uint8Array) return sha256(v);
  if (typeof v === 'number' || typeof v === 'bigint') {
    const n = BigInt(v);
    return sha256(n >= 0n ? leb128(n) : sleb128(n));
  }
  if (Array.isArray(v)) return sha256(concat(v.map(hashValue)));
  if (v && typeof v === 'object') return hashOfMap(v);
  throw new Error(`cannot hash ${String(v)} in a request`);
}

export function hashOfMap(map: { [key: string]: CborValue }): Uint8Array {
  const pairs = Object.entries(map)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [sha256(new TextEncoder().encode(k)), hashValue(v)] as const);
  pairs.sort(([a], [b]) => compareBytes(a, b));
  return sha256(concat(pairs.flatMap(([k, v]) => [k, v])));
}

export const requestIdOf = hashOfMap;

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
