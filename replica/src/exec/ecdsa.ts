// Threshold-ECDSA stand-in: secp256k1 keys derived per canister and derivation path from a fixed local
// master key per key name, by additive (BIP32-like, non-hardened) derivation with HMAC-SHA512 tweaks
// over the canister id and each path element. Same inputs give the same keys on every run and restart.
import { secp256k1 } from '@noble/curves/secp256k1';
import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { sha512 } from '@noble/hashes/sha2';

export const ECDSA_KEY_NAMES = ['dfx_test_key', 'test_key_1', 'key_1'];
const N = secp256k1.CURVE.n;
const enc = new TextEncoder();

function toBigInt(b: Uint8Array): bigint {
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    return v;
}

function toBytes32(v: bigint): Uint8Array {
    const out = new Uint8Array(32);
    for (let i = 31; i >= 0; i--) {
        out[i] = Number(v & 0xffn);
        v >>= 8n;
    }
    return out;
}

type Derived = { secret: bigint; publicKey: Uint8Array; chainCode: Uint8Array };

function master(keyName: string): Derived {
    const secret = (toBigInt(sha256(enc.encode(`canopy-local-replica/ecdsa/secp256k1/${keyName}`))) % (N - 1n)) + 1n;
    return {
        secret,
        publicKey: secp256k1.getPublicKey(toBytes32(secret), true),
        chainCode: sha256(enc.encode(`canopy-local-replica/ecdsa/chain-code/${keyName}`))
    };
}

function deriveStep(parent: Derived, element: Uint8Array): Derived {
    for (let counter = 0; ; counter++) {
        const data = new Uint8Array(parent.publicKey.length + element.length + 1);
        data.set(parent.publicKey, 0);
        data.set(element, parent.publicKey.length);
        data[data.length - 1] = counter;
        const i = hmac(sha512, parent.chainCode, data);
        const tweak = toBigInt(i.subarray(0, 32));
        if (tweak >= N) continue; // as BIP32: retry with the next counter value
        const secret = (parent.secret + tweak) % N;
        if (secret === 0n) continue;
        return { secret, publicKey: secp256k1.getPublicKey(toBytes32(secret), true), chainCode: i.slice(32) };
    }
}

const masters = new Map<string, Derived>();
/** derived keys by key name, canister and path: each derivation step costs a point multiplication */
const derived = new Map<string, Derived>();
const MAX_DERIVED = 10_000;

export function deriveKey(keyName: string, canisterId: Uint8Array, path: Uint8Array[]): Derived {
    const key = JSON.stringify([keyName, Buffer.from(canisterId).toString('hex'), path.map((p) => Buffer.from(p).toString('hex'))]);
    const hit = derived.get(key);
    if (hit) return hit;
    let m = masters.get(keyName);
    if (!m) {
        m = master(keyName);
        masters.set(keyName, m);
    }
    let d = deriveStep(m, canisterId);
    for (const el of path) d = deriveStep(d, el);
    if (derived.size >= MAX_DERIVED) derived.clear();
    derived.set(key, d);
    return d;
}

export function ecdsaPublicKey(keyName: string, canisterId: Uint8Array, path: Uint8Array[]) {
    const d = deriveKey(keyName, canisterId, path);
    return { public_key: d.publicKey, chain_code: d.chainCode };
}

/** 64-byte r||s, low-S, over a 32-byte message hash (not hashed again) */
export function signWithEcdsa(keyName: string, canisterId: Uint8Array, path: Uint8Array[], messageHash: Uint8Array): Uint8Array {
    const d = deriveKey(keyName, canisterId, path);
    return secp256k1.sign(messageHash, toBytes32(d.secret), { lowS: true, prehash: false }).toCompactRawBytes();
}
