// DAG-CBOR and CID primitives shared by every protocol module. Hashing is our own synchronous
// pure-JS SHA-256 (sha256.ts, tuned for the canister's interpreter) so the same code runs in
// Node and in the canister.
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 as sha256Digest } from './sha256.ts';
import { speedUpTextCodecs } from './utf8.ts';

// Every protocol module loads this one early: in the canister, replace the slow UTF-8 paths of
// the polyfilled TextEncoder/TextDecoder (used by cborg, Candid and the HTTP layer). No-op in Node.
speedUpTextCodecs();

export { CID };

export const DAG_CBOR = 0x71;
export const RAW = 0x55;
const SHA2_256 = 0x12;

/** Running totals of sha-256 work (read by benchmarks; hashing dominates canister instruction cost). */
export const hashCounter = { calls: 0, bytes: 0 };

export function sha256(bytes: Uint8Array): Uint8Array {
  hashCounter.calls++;
  hashCounter.bytes += bytes.length;
  return sha256Digest(bytes);
}

export function encodeCbor(value: unknown): Uint8Array {
  return dagCbor.encode(value);
}

export function decodeCbor<T = unknown>(bytes: Uint8Array): T {
  return dagCbor.decode(bytes) as T;
}

/** CID of already-encoded DAG-CBOR bytes. */
export function cidForCborBytes(bytes: Uint8Array): CID {
  return CID.createV1(DAG_CBOR, Digest.create(SHA2_256, sha256(bytes)));
}

/** Encode a value and return both its bytes and CID (one hash). */
export function encodeBlock(value: unknown): { cid: CID; bytes: Uint8Array } {
  const bytes = encodeCbor(value);
  return { cid: cidForCborBytes(bytes), bytes };
}

/** CID of a blob: raw codec, sha-256. */
export function cidForRaw(bytes: Uint8Array): CID {
  return CID.createV1(RAW, Digest.create(SHA2_256, sha256(bytes)));
}

/**
 * CID from its binary form. CIDv1 with a sha-256 digest (every CID this PDS stores) is built
 * directly from its parts: CID.decode's generic varint parsing costs ~200 k instructions in the
 * canister. Anything else goes through CID.decode (same result, same errors).
 */
export function cidFromBytes(bytes: Uint8Array): CID {
  if (bytes.length === 36 && bytes[0] === 1 && bytes[2] === 0x12 && bytes[3] === 0x20 && (bytes[1] === DAG_CBOR || bytes[1] === RAW)) {
    return new CID(1, bytes[1], new Digest.Digest(SHA2_256, 32, bytes.subarray(4), bytes.subarray(2)), bytes) as CID;
  }
  return CID.decode(bytes);
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * `cid.toString()` (base32 multibase for CIDv1) without multiformats' generic base codec, which
 * costs ~500 k instructions per fresh CID in the canister. Same string. Works on 5-byte groups
 * (8 characters each) to keep the interpreter's per-character work small.
 */
export function cidToString(cid: CID): string {
  if (cid.version !== 1) return cid.toString();
  const b = cid.bytes;
  const n = b.length;
  const A = BASE32;
  let out = 'b';
  let i = 0;
  for (; i + 5 <= n; i += 5) {
    const b0 = b[i], b1 = b[i + 1], b2 = b[i + 2], b3 = b[i + 3], b4 = b[i + 4];
    out +=
      A[b0 >> 3] + A[((b0 & 7) << 2) | (b1 >> 6)] + A[(b1 >> 1) & 31] + A[((b1 & 1) << 4) | (b2 >> 4)] +
      A[((b2 & 15) << 1) | (b3 >> 7)] + A[(b3 >> 2) & 31] + A[((b3 & 3) << 3) | (b4 >> 5)] + A[b4 & 31];
  }
  let bits = 0;
  let value = 0;
  for (; i < n; i++) {
    value = ((value << 8) | b[i]) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += A[(value >>> bits) & 31];
    }
  }
  if (bits > 0) out += A[(value << (5 - bits)) & 31];
  return out;
}
