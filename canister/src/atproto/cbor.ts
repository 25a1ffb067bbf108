// DAG-CBOR and CID primitives shared by every protocol module. Hashing goes through
// @noble/hashes (synchronous, pure JS) so the same code runs in Node and in the canister.
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2';

export { CID };

export const DAG_CBOR = 0x71;
export const RAW = 0x55;
const SHA2_256 = 0x12;

/** Running totals of sha-256 work (read by benchmarks; hashing dominates canister instruction cost). */
export const hashCounter = { calls: 0, bytes: 0 };

export function sha256(bytes: Uint8Array): Uint8Array {
  hashCounter.calls++;
  hashCounter.bytes += bytes.length;
  return nobleSha256(bytes);
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
