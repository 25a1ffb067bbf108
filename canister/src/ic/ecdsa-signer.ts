// Signer backed by the IC's threshold ECDSA (secp256k1) through the management canister.
// The public key never changes for a (canister, key name, derivation path), so it is fetched
// once and cached in stable memory.
import { call } from 'azle';
import {
  ecdsa_public_key_args,
  ecdsa_public_key_result,
  sign_with_ecdsa_args,
  sign_with_ecdsa_result,
} from 'azle/canisters/management/idl';
import type { Signer } from '../atproto/crypto.ts';
import type { KvStore } from '../storage/kv.ts';

/** Covers sign_with_ecdsa on key_1 (~26.15 B cycles); the unused part is refunded. */
const SIGN_CYCLES = 30_000_000_000n;

export const DERIVATION = {
  repoSigning: [new TextEncoder().encode('canopy/atproto-signing')],
  plcRotation: [new TextEncoder().encode('canopy/plc-rotation')],
} as const;

export class IcEcdsaSigner implements Signer {
  constructor(
    private cache: KvStore,
    private cacheKey: string,
    private keyName: () => string,
    private derivationPath: Uint8Array[],
  ) {}

  cachedPublicKey(): Uint8Array | undefined {
    return this.cache.get(this.cacheKey);
  }

  async publicKey(): Promise<Uint8Array> {
    const cached = this.cachedPublicKey();
    if (cached) return cached;
    const res = await call<[any], { public_key: Uint8Array | number[] }>('aaaaa-aa', 'ecdsa_public_key', {
      paramIdlTypes: [ecdsa_public_key_args],
      returnIdlType: ecdsa_public_key_result,
      args: [{ key_id: { name: this.keyName(), curve: { secp256k1: null } }, canister_id: [], derivation_path: this.derivationPath }],
    });
    const key = Uint8Array.from(res.public_key);
    if (key.length !== 33) throw new Error(`unexpected ECDSA public key length ${key.length}`);
    this.cache.set(this.cacheKey, key);
    return key;
  }

  async sign(digest: Uint8Array): Promise<Uint8Array> {
    if (digest.length !== 32) throw new Error('digest must be 32 bytes');
    const res = await call<[any], { signature: Uint8Array | number[] }>('aaaaa-aa', 'sign_with_ecdsa', {
      paramIdlTypes: [sign_with_ecdsa_args],
      returnIdlType: sign_with_ecdsa_result,
      args: [{ key_id: { name: this.keyName(), curve: { secp256k1: null } }, derivation_path: this.derivationPath, message_hash: digest }],
      cycles: SIGN_CYCLES,
    });
    const sig = Uint8Array.from(res.signature);
    if (sig.length !== 64) throw new Error(`unexpected ECDSA signature length ${sig.length}`);
    return sig;
  }
}
