// did:key and Multikey encodings for K-256 (secp256k1) and P-256 public keys. Structural only (lengths,
// prefixes, SEC1 compression by y parity) so it needs no curve arithmetic; whether a point is on the curve
// is decided when a signature is verified (crypto.ts).
import { base58btc } from 'multiformats/bases/base58';

export type Curve = 'k256' | 'p256';

export class CryptoError extends Error {
  override name = 'CryptoError';
}

// multicodec varints: secp256k1-pub 0xe7, p256-pub 0x1200
const MULTICODEC: Record<Curve, Uint8Array> = {
  k256: Uint8Array.of(0xe7, 0x01),
  p256: Uint8Array.of(0x80, 0x24),
};

const DID_KEY_PREFIX = 'did:key:';

/** 33-byte SEC1 compressed form of a compressed (33) or uncompressed (65 bytes, 0x04 prefix) public key. */
export function compressPublicKey(curve: Curve, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length === 33 && (publicKey[0] === 2 || publicKey[0] === 3)) return Uint8Array.from(publicKey);
  if (publicKey.length === 65 && publicKey[0] === 4) {
    const out = new Uint8Array(33);
    out[0] = publicKey[64]! & 1 ? 3 : 2;
    out.set(publicKey.subarray(1, 33), 1);
    return out;
  }
  throw new CryptoError(`invalid ${curve} public key encoding`);
}

/** Multibase (base58btc) multicodec-prefixed compressed key: the DID document `publicKeyMultibase`. */
export function formatMultikey(curve: Curve, publicKey: Uint8Array): string {
  const key = compressPublicKey(curve, publicKey);
  const prefix = MULTICODEC[curve];
  const bytes = new Uint8Array(prefix.length + key.length);
  bytes.set(prefix);
  bytes.set(key, prefix.length);
  return base58btc.encode(bytes);
}

export function parseMultikey(multikey: string): { curve: Curve; publicKey: Uint8Array } {
  const bytes = decodeBase58btc(multikey);
  for (const curve of Object.keys(MULTICODEC) as Curve[]) {
    const prefix = MULTICODEC[curve];
    if (bytes.length > prefix.length && prefix.every((b, i) => bytes[i] === b)) {
      return { curve, publicKey: compressPublicKey(curve, bytes.subarray(prefix.length)) };
    }
  }
  throw new CryptoError('unsupported key type in multikey');
}

export function formatDidKey(curve: Curve, publicKey: Uint8Array): string {
  return DID_KEY_PREFIX + formatMultikey(curve, publicKey);
}

export function parseDidKey(didKey: string): { curve: Curve; publicKey: Uint8Array } {
  if (!didKey.startsWith(DID_KEY_PREFIX)) throw new CryptoError('not a did:key');
  return parseMultikey(didKey.slice(DID_KEY_PREFIX.length));
}

/** The `verificationMethod` entry a DID document carries for the atproto signing key. */
export function atprotoVerificationMethod(did: string, curve: Curve, publicKey: Uint8Array) {
  return { id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: formatMultikey(curve, publicKey) };
}

/**
 * Reads a key from a DID document verification method: `Multikey` (current) or the legacy
 * `EcdsaSecp256k1VerificationKey2019` / `EcdsaSecp256r1VerificationKey2019` suites (bare compressed key).
 */
export function parseVerificationMethodKey(type: string, publicKeyMultibase: string): { curve: Curve; publicKey: Uint8Array } {
  if (type === 'Multikey') return parseMultikey(publicKeyMultibase);
  const curve: Curve | undefined =
    type === 'EcdsaSecp256k1VerificationKey2019' ? 'k256' : type === 'EcdsaSecp256r1VerificationKey2019' ? 'p256' : undefined;
  if (!curve) throw new CryptoError(`unsupported verification method type: ${type}`);
  return { curve, publicKey: compressPublicKey(curve, decodeBase58btc(publicKeyMultibase)) };
}

function decodeBase58btc(multibase: string): Uint8Array {
  try {
    return base58btc.decode(multibase);
  } catch {
    throw new CryptoError('key is not base58btc multibase');
  }
}
