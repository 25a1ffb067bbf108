// Validation of signed request envelopes (IC interface spec "Authentication"): ingress expiry,
// self-authenticating sender ↔ public key, delegation chains, and the request signature for
// Ed25519, ECDSA secp256k1 and ECDSA P-256 keys. The anonymous principal sends no key or signature.
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import { secp256k1 } from '@noble/curves/secp256k1';
import { p256 } from '@noble/curves/p256';
import { sha256 } from '@noble/hashes/sha2';
import { Principal } from '@dfinity/principal';
import { concat, type CborValue } from './cbor.ts';
import { hashOfMap, requestIdOf, compareBytes } from './request-id.ts';

export const MAX_INGRESS_TTL_NS = 5n * 60n * 1_000_000_000n;
export const PERMITTED_DRIFT_NS = 60n * 1_000_000_000n;
const MAX_DELEGATIONS = 20;
const MAX_TARGETS = 1000;
const REQUEST_SEP = new TextEncoder().encode('\x0Aic-request');
const DELEGATION_SEP = new TextEncoder().encode('\x1Aic-request-auth-delegation');
const ANONYMOUS = Uint8Array.of(4);

/** A rejected request: HTTP status plus the text body the IC would answer. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

export type Content = { [key: string]: CborValue };

export interface AuthenticatedRequest {
  content: Content;
  requestId: Uint8Array;
  sender: Principal;
  /** canister ids the delegation chain restricts this request to (undefined = unrestricted) */
  targets?: Principal[];
}

export function bytesField(c: Content, name: string, optional = false): Uint8Array | undefined {
  const v = c[name];
  if (v === undefined && optional) return undefined;
  if (!(v instanceof Uint8Array)) throw new RequestError(400, `Request field "${name}" must be a blob`);
  return v;
}

export function textField(c: Content, name: string): string {
  const v = c[name];
  if (typeof v !== 'string') throw new RequestError(400, `Request field "${name}" must be text`);
  return v;
}

function natField(c: Content, name: string): bigint {
  const v = c[name];
  if ((typeof v !== 'number' && typeof v !== 'bigint') || BigInt(v) < 0n)
    throw new RequestError(400, `Request field "${name}" must be a natural number`);
  return BigInt(v);
}

function checkExpiry(expiry: bigint, nowNs: bigint): void {
  const min = nowNs;
  const max = nowNs + MAX_INGRESS_TTL_NS + PERMITTED_DRIFT_NS;
  if (expiry < min || expiry > max) {
    throw new RequestError(
      400,
      `Invalid request expiry: Specified ingress_expiry not within expected range: ` +
        `Minimum allowed expiry: ${fmt(min)}, Maximum allowed expiry: ${fmt(max)}, Provided expiry: ${fmt(expiry)}`
    );
  }
}

const fmt = (ns: bigint): string => {
  const ms = Number(ns / 1_000_000n);
  return Number.isFinite(ms) && ms < 8.64e15 ? new Date(ms).toISOString() : `${ns} ns`;
};

/** Parses and authenticates an envelope. Throws RequestError with the IC's status and message. */
export function authenticate(envelope: CborValue, nowNs: bigint): AuthenticatedRequest {
  if (!envelope || typeof envelope !== 'object' || Array.isArray(envelope) || envelope instanceof Uint8Array)
    throw new RequestError(400, 'Could not parse body as request envelope: expected a CBOR map');
  const env = envelope as Content;
  const content = env.content;
  if (!content || typeof content !== 'object' || Array.isArray(content) || content instanceof Uint8Array)
    throw new RequestError(400, 'Could not parse body as request envelope: missing "content" map');
  const c = content as Content;
  textField(c, 'request_type');
  const expiry = natField(c, 'ingress_expiry');
  const senderBytes = bytesField(c, 'sender')!;
  const requestId = requestIdOf(c);
  checkExpiry(expiry, nowNs);

  const pubkey = bytesField(env, 'sender_pubkey', true);
  const sig = bytesField(env, 'sender_sig', true);
  const delegations = env.sender_delegation;
  const sender = Principal.fromUint8Array(senderBytes);

  if (compareBytes(senderBytes, ANONYMOUS) === 0) {
    if (pubkey || sig || delegations !== undefined)
      throw new RequestError(400, 'Invalid signature: the anonymous principal must not send a public key or signature');
    return { content: c, requestId, sender };
  }
  if (!pubkey || !sig) {
    throw new RequestError(
      400,
      `Invalid signature: missing signature or public key for non-anonymous sender ${sender.toText()}`
    );
  }
  const expected = Principal.selfAuthenticating(pubkey);
  if (compareBytes(expected.toUint8Array(), senderBytes) !== 0) {
    throw new RequestError(
      400,
      `Invalid user id: sender ${sender.toText()} does not match the public key (expected ${expected.toText()})`
    );
  }

  let key = pubkey;
  let targets: Principal[] | undefined;
  if (delegations !== undefined) {
    if (!Array.isArray(delegations)) throw new RequestError(400, 'Invalid delegation: sender_delegation must be an array');
    if (delegations.length > MAX_DELEGATIONS)
      throw new RequestError(400, `Invalid delegation: chain longer than ${MAX_DELEGATIONS}`);
    for (const [i, signed] of delegations.entries()) {
      if (!signed || typeof signed !== 'object' || Array.isArray(signed) || signed instanceof Uint8Array)
        throw new RequestError(400, `Invalid delegation: entry ${i} is not a map`);
      const s = signed as Content;
      const d = s.delegation;
      if (!d || typeof d !== 'object' || Array.isArray(d) || d instanceof Uint8Array)
        throw new RequestError(400, `Invalid delegation: entry ${i} has no delegation map`);
      const dm = d as Content;
      const dSig = bytesField(s, 'signature')!;
      const next = bytesField(dm, 'pubkey')!;
      const expiration = natField(dm, 'expiration');
      const msg = concat([DELEGATION_SEP, hashOfMap(dm)]);
      if (!verifySignature(key, dSig, msg))
        throw new RequestError(400, `Invalid delegation: signature of delegation ${i} does not verify`);
      if (expiration < nowNs) throw new RequestError(400, `Invalid delegation: delegation ${i} has expired`);
      if (dm.targets !== undefined) {
        if (!Array.isArray(dm.targets) || dm.targets.length > MAX_TARGETS)
          throw new RequestError(400, `Invalid delegation: bad targets in delegation ${i}`);
        const ts = dm.targets.map((t) => {
          if (!(t instanceof Uint8Array)) throw new RequestError(400, `Invalid delegation: bad target in delegation ${i}`);
          return Principal.fromUint8Array(t);
        });
        targets = targets ? targets.filter((a) => ts.some((b) => a.compareTo(b) === 'eq')) : ts;
      }
      key = next;
    }
  }
  if (!verifySignature(key, sig, concat([REQUEST_SEP, requestId]))) {
    throw new RequestError(400, `Invalid signature: Invalid basic signature: signature for request ${hex(requestId)} does not verify`);
  }
  return { content: c, requestId, sender, targets };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// OIDs (DER content bytes) for the key types we accept.
const OID_ED25519 = '2b6570';
const OID_EC_PUBLIC_KEY = '2a8648ce3d0201';
const OID_SECP256K1 = '2b8104000a';
const OID_P256 = '2a8648ce3d030107';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** node:crypto's native Ed25519 (~0.1 ms; the JS one takes ~2 ms per request); the JS one if it refuses the key */
function verifyEd25519(key: Uint8Array, sig: Uint8Array, msg: Uint8Array): boolean {
  if (key.length !== 32 || sig.length !== 64) return false;
  let publicKey;
  try {
    publicKey = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, key]), format: 'der', type: 'spki' });
  } catch {
    return ed25519.verify(sig, msg, key);
  }
  return cryptoVerify(null, msg, publicKey, sig);
}

/** Verifies `sig` over `msg` with a DER (SubjectPublicKeyInfo) encoded key; false on any failure. */
export function verifySignature(derKey: Uint8Array, sig: Uint8Array, msg: Uint8Array): boolean {
  let spki: { oids: string[]; key: Uint8Array };
  try {
    spki = parseSpki(derKey);
  } catch {
    return false;
  }
  try {
    if (spki.oids[0] === OID_ED25519) return verifyEd25519(spki.key, sig, msg);
    if (spki.oids[0] === OID_EC_PUBLIC_KEY && sig.length === 64) {
      const digest = sha256(msg);
      if (spki.oids[1] === OID_SECP256K1) return secp256k1.verify(sig, digest, spki.key, { prehash: false, lowS: false });
      if (spki.oids[1] === OID_P256) return p256.verify(sig, digest, spki.key, { prehash: false, lowS: false });
    }
  } catch {
    return false;
  }
  return false; // unsupported key type (COSE/WebAuthn and canister signatures are not implemented)
}

/** Minimal DER reader for SEQUENCE { SEQUENCE { OID, [OID] }, BIT STRING }. */
function parseSpki(der: Uint8Array): { oids: string[]; key: Uint8Array } {
  let pos = 0;
  const tlv = (): { tag: number; start: number; end: number } => {
    const tag = der[pos++]!;
    let len = der[pos++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n < 1 || n > 3) throw new Error('bad DER length');
      len = 0;
      for (let i = 0; i < n; i++) len = (len << 8) | der[pos++]!;
    }
    const start = pos;
    if (start + len > der.length) throw new Error('DER past end');
    return { tag, start, end: start + len };
  };
  const outer = tlv();
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new Error('not a SEQUENCE');
  const alg = tlv();
  if (alg.tag !== 0x30) throw new Error('no AlgorithmIdentifier');
  const oids: string[] = [];
  while (pos < alg.end) {
    const o = tlv();
    if (o.tag === 0x06) oids.push(hex(der.subarray(o.start, o.end)));
    pos = o.end;
  }
  const bits = tlv();
  if (bits.tag !== 0x03 || der[bits.start] !== 0) throw new Error('no BIT STRING');
  return { oids, key: der.subarray(bits.start + 1, bits.end) };
}
