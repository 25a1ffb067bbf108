// Repo commit objects, version 3: {did, version: 3, data, rev, prev: null, sig}. The signature
// covers sha-256 of the DAG-CBOR of the unsigned commit (same fields without `sig`).
import { CID, decodeCbor, encodeBlock, encodeCbor, sha256 } from '../atproto/cbor.ts';
import { type BlockReader, requireBlock } from './block-map.ts';

export type UnsignedCommit = { did: string; version: 3; data: CID; rev: string; prev: CID | null };
export type SignedCommit = UnsignedCommit & { sig: Uint8Array };
export type RepoHead = { commitCid: CID; data: CID; rev: string };

export function unsignedCommitBytes(commit: UnsignedCommit): Uint8Array {
  // Field order is irrelevant: DAG-CBOR sorts map keys canonically.
  return encodeCbor({ did: commit.did, version: 3, data: commit.data, rev: commit.rev, prev: commit.prev });
}

// secp256k1 group order: atproto only accepts the low-S form of a signature.
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function bytesToBig(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function bigToBytes32(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * Return a 64-byte r||s secp256k1 signature in low-S form. Threshold ECDSA (and other signers)
 * may return either S; flipping it to n-S keeps the signature valid and makes it acceptable.
 */
export function normalizeLowS(sig: Uint8Array): Uint8Array {
  if (sig.length !== 64) throw new Error(`signature must be 64 bytes (r||s), got ${sig.length}`);
  const s = bytesToBig(sig.subarray(32));
  if (s === 0n || s >= SECP256K1_N) throw new Error('signature s is out of range');
  if (s <= SECP256K1_N >> 1n) return sig;
  const out = new Uint8Array(64);
  out.set(sig.subarray(0, 32), 0);
  out.set(bigToBytes32(SECP256K1_N - s), 32);
  return out;
}

export function commitDigest(commit: UnsignedCommit): Uint8Array {
  return sha256(unsignedCommitBytes(commit));
}

export function signedCommitBlock(commit: UnsignedCommit, sig: Uint8Array): { cid: CID; bytes: Uint8Array; commit: SignedCommit } {
  const signed: SignedCommit = { ...commit, prev: commit.prev, sig };
  const block = encodeBlock(signed);
  return { ...block, commit: signed };
}

export class InvalidCommitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCommitError';
  }
}

/** Decode and shape-check a signed v3 commit. */
export function decodeCommit(bytes: Uint8Array): SignedCommit {
  const c = decodeCbor<Record<string, unknown>>(bytes);
  if (!c || typeof c !== 'object') throw new InvalidCommitError('commit is not a map');
  if (c.version !== 3) throw new InvalidCommitError(`unsupported commit version ${String(c.version)}`);
  if (typeof c.did !== 'string') throw new InvalidCommitError('commit did must be a string');
  if (typeof c.rev !== 'string') throw new InvalidCommitError('commit rev must be a string');
  if (!CID.asCID(c.data)) throw new InvalidCommitError('commit data must be a CID link');
  if (!('prev' in c) || (c.prev !== null && !CID.asCID(c.prev))) throw new InvalidCommitError('commit prev must be present (null or CID)');
  if (!(c.sig instanceof Uint8Array)) throw new InvalidCommitError('commit sig must be bytes');
  return c as unknown as SignedCommit;
}

export function readCommit(store: BlockReader, commitCid: CID): SignedCommit {
  return decodeCommit(requireBlock(store, commitCid, 'commit'));
}

export function headFromCommit(store: BlockReader, commitCid: CID): RepoHead {
  const c = readCommit(store, commitCid);
  return { commitCid, data: c.data, rev: c.rev };
}
