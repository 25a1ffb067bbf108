// Keys and signatures for atproto: secp256k1 (K-256) and P-256, did:key and Multikey encodings.
// atproto signatures are ECDSA over sha-256(data), 64-byte compact r||s, and must be low-S;
// DER and high-S forms are rejected so that every signature has exactly one valid encoding.
import { secp256k1 } from '@noble/curves/secp256k1';
import { p256 } from '@noble/curves/p256';
import { sha256 } from './cbor.ts';
import { CryptoError, formatDidKey, parseDidKey, type Curve } from './did-key.ts';

// Key encodings live in did-key.ts (no curve arithmetic, so the canister can format its did:key without
// bundling @noble/curves); re-exported here as the contract's single entry point.
export * from './did-key.ts';

/** Signs sha-256 digests with a secp256k1 key (threshold ECDSA in the canister, LocalSigner in tests). */
export interface Signer {
  /** 33-byte compressed secp256k1 public key. */
  publicKey(): Promise<Uint8Array>;
  /** 64-byte compact r||s signature over the given 32-byte sha-256 digest, low-S. */
  sign(digestSha256: Uint8Array): Promise<Uint8Array>;
}

const curves = { k256: secp256k1, p256 } as const;

/** In-memory secp256k1 signer for tests and local tools. */
export class LocalSigner implements Signer {
  readonly #privateKey: Uint8Array;

  constructor(privateKey: Uint8Array) {
    if (!secp256k1.utils.isValidPrivateKey(privateKey)) throw new CryptoError('invalid secp256k1 private key');
    this.#privateKey = Uint8Array.from(privateKey);
  }

  static generate(): LocalSigner {
    return new LocalSigner(secp256k1.utils.randomPrivateKey());
  }

  async publicKey(): Promise<Uint8Array> {
    return this.publicKeySync();
  }

  publicKeySync(): Uint8Array {
    return secp256k1.getPublicKey(this.#privateKey, true);
  }

  async sign(digestSha256: Uint8Array): Promise<Uint8Array> {
    return this.signSync(digestSha256);
  }

  signSync(digestSha256: Uint8Array): Uint8Array {
    if (digestSha256.length !== 32) throw new CryptoError('digest must be 32 bytes');
    return secp256k1.sign(digestSha256, this.#privateKey, { lowS: true, prehash: false }).toCompactRawBytes();
  }

  didKey(): string {
    return formatDidKey('k256', this.publicKeySync());
  }

  exportPrivateKey(): Uint8Array {
    return Uint8Array.from(this.#privateKey);
  }
}

/** Verifies a compact low-S signature over sha-256 digest `digest`. Never throws on bad input: returns false. */
export function verifyDigest(curve: Curve, publicKey: Uint8Array, digest: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64 || digest.length !== 32) return false;
  const ec = curves[curve];
  try {
    const parsed = ec.Signature.fromCompact(sig);
    if (parsed.hasHighS()) return false;
    return ec.verify(sig, digest, publicKey, { prehash: false, lowS: true, format: 'compact' });
  } catch {
    return false;
  }
}

/** Verifies an atproto signature over `data` (hashed with sha-256) for the key in `didKey`. */
export function verifySignature(didKey: string, data: Uint8Array, sig: Uint8Array): boolean {
  let key: { curve: Curve; publicKey: Uint8Array };
  try {
    key = parseDidKey(didKey);
  } catch {
    return false;
  }
  return verifyDigest(key.curve, key.publicKey, sha256(data), sig);
}

/** True if `publicKey` (compressed or uncompressed) is a point on `curve`. */
export function isValidPublicKey(curve: Curve, publicKey: Uint8Array): boolean {
  try {
    curves[curve].ProjectivePoint.fromHex(publicKey).assertValidity();
    return true;
  } catch {
    return false;
  }
}
