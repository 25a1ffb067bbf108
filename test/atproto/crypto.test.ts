import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readJson } from './interop.ts';
import {
  LocalSigner, verifySignature, verifyDigest, formatDidKey, parseDidKey, formatMultikey, parseMultikey,
  parseVerificationMethodKey, atprotoVerificationMethod, isValidPublicKey, compressPublicKey,
} from '../../canister/src/atproto/crypto.ts';
import { sha256 } from '../../canister/src/atproto/cbor.ts';
import { secp256k1 } from '@noble/curves/secp256k1';
import { p256 } from '@noble/curves/p256';
import { base58btc } from 'multiformats/bases/base58';
import { verifySigWithDidKey, parseDidKey as atcuteParseDidKey } from '@atcute/crypto';

const atcuteVerify = (didKey: string, sig: Uint8Array, data: Uint8Array) =>
  verifySigWithDidKey(didKey, new Uint8Array(sig), new Uint8Array(data));

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

type SigFixture = {
  comment: string; messageBase64: string; algorithm: 'ES256' | 'ES256K'; didDocSuite: string;
  publicKeyDid: string; publicKeyMultibase: string; signatureBase64: string; validSignature: boolean; tags: string[];
};
const sigFixtures = readJson<SigFixture[]>('crypto/signature-fixtures.json');

test('signature fixtures: valid accepted, high-S and DER rejected', () => {
  assert.equal(sigFixtures.length, 6);
  for (const f of sigFixtures) {
    const ok = verifySignature(f.publicKeyDid, b64(f.messageBase64), b64(f.signatureBase64));
    assert.equal(ok, f.validSignature, f.comment);
  }
  assert.ok(sigFixtures.some((f) => f.tags.includes('high-s')) && sigFixtures.some((f) => f.tags.includes('der-encoded')));
});

test('signature fixtures: did:key curve and legacy publicKeyMultibase agree', () => {
  for (const f of sigFixtures) {
    const fromDid = parseDidKey(f.publicKeyDid);
    assert.equal(fromDid.curve, f.algorithm === 'ES256K' ? 'k256' : 'p256');
    const legacy = parseVerificationMethodKey(f.didDocSuite, f.publicKeyMultibase);
    assert.deepEqual(legacy, fromDid, f.comment);
    // re-encoding the parsed key yields the same did:key
    assert.equal(formatDidKey(fromDid.curve, fromDid.publicKey), f.publicKeyDid);
  }
});

test('high-S variant of a valid signature is the same ECDSA signature, yet rejected', () => {
  const f = sigFixtures.find((x) => x.validSignature && x.algorithm === 'ES256K')!;
  const sig = secp256k1.Signature.fromCompact(b64(f.signatureBase64));
  const high = new secp256k1.Signature(sig.r, secp256k1.CURVE.n - sig.s).toCompactRawBytes();
  const { publicKey } = parseDidKey(f.publicKeyDid);
  // a lax verifier accepts it (so the fixture is meaningful) ...
  assert.equal(secp256k1.verify(high, sha256(b64(f.messageBase64)), publicKey, { lowS: false, prehash: false }), true);
  // ... ours does not
  assert.equal(verifySignature(f.publicKeyDid, b64(f.messageBase64), high), false);
});

test('w3c did:key vectors (K-256 and P-256)', () => {
  const k = readJson<{ privateKeyBytesHex: string; publicDidKey: string }[]>('crypto/w3c_didkey_K256.json');
  assert.ok(k.length >= 5);
  for (const v of k) {
    const pub = secp256k1.getPublicKey(hex(v.privateKeyBytesHex), true);
    assert.equal(formatDidKey('k256', pub), v.publicDidKey);
    assert.equal(formatDidKey('k256', secp256k1.getPublicKey(hex(v.privateKeyBytesHex), false)), v.publicDidKey);
    assert.deepEqual(parseDidKey(v.publicDidKey), { curve: 'k256', publicKey: pub });
    assert.equal(new LocalSigner(hex(v.privateKeyBytesHex)).didKey(), v.publicDidKey);
  }
  const p = readJson<{ privateKeyBytesBase58: string; publicDidKey: string }[]>('crypto/w3c_didkey_P256.json');
  assert.ok(p.length >= 1);
  for (const v of p) {
    const priv = base58btc.baseDecode(v.privateKeyBytesBase58);
    const pub = p256.getPublicKey(priv, true);
    assert.equal(formatDidKey('p256', pub), v.publicDidKey);
    assert.deepEqual(parseDidKey(v.publicDidKey), { curve: 'p256', publicKey: pub });
  }
});

test('LocalSigner signatures are compact, low-S and verify here and in @atcute/crypto', async () => {
  const signer = LocalSigner.generate();
  const pub = await signer.publicKey();
  assert.equal(pub.length, 33);
  const didKey = formatDidKey('k256', pub);
  assert.equal(didKey, signer.didKey());
  const atcuteKey = await atcuteParseDidKey(didKey);
  assert.equal(atcuteKey.type, 'secp256k1');
  for (let i = 0; i < 20; i++) {
    const data = crypto.getRandomValues(new Uint8Array(50 + i));
    const sig = await signer.sign(sha256(data));
    assert.equal(sig.length, 64);
    assert.equal(secp256k1.Signature.fromCompact(sig).hasHighS(), false);
    assert.equal(verifySignature(didKey, data, sig), true);
    assert.equal(verifyDigest('k256', pub, sha256(data), sig), true);
    assert.equal(await atcuteVerify(didKey, sig, data), true);
    const tampered = Uint8Array.from(data);
    tampered[0]! ^= 1;
    assert.equal(verifySignature(didKey, tampered, sig), false);
  }
});

test('@atcute/crypto signatures (P-256) verify with ours', async () => {
  const priv = p256.utils.randomPrivateKey();
  const pub = p256.getPublicKey(priv, true);
  const didKey = formatDidKey('p256', pub);
  const data = new TextEncoder().encode('hello canopy');
  const sig = p256.sign(sha256(data), priv, { lowS: true, prehash: false }).toCompactRawBytes();
  assert.equal(verifySignature(didKey, data, sig), true);
  assert.equal(await atcuteVerify(didKey, sig, data), true);
});

test('bad inputs are rejected, not thrown', () => {
  const f = sigFixtures[1]!;
  const msg = b64(f.messageBase64);
  const sig = b64(f.signatureBase64);
  assert.equal(verifySignature('did:plc:abc', msg, sig), false);
  assert.equal(verifySignature('did:key:zzzz', msg, sig), false);
  assert.equal(verifySignature(f.publicKeyDid, msg, sig.subarray(0, 63)), false);
  assert.equal(verifySignature(f.publicKeyDid, msg, new Uint8Array(64)), false);
  assert.throws(() => parseDidKey('did:web:example.com'));
  assert.throws(() => new LocalSigner(new Uint8Array(32)));
});

test('Multikey verification method for DID documents', () => {
  const signer = LocalSigner.generate();
  const pub = signer.publicKeySync();
  const vm = atprotoVerificationMethod('did:web:example.com', 'k256', pub);
  assert.deepEqual(vm, {
    id: 'did:web:example.com#atproto', type: 'Multikey', controller: 'did:web:example.com',
    publicKeyMultibase: signer.didKey().slice('did:key:'.length),
  });
  assert.equal(formatMultikey('k256', pub), vm.publicKeyMultibase);
  assert.deepEqual(parseMultikey(vm.publicKeyMultibase), { curve: 'k256', publicKey: pub });
  assert.deepEqual(parseVerificationMethodKey('Multikey', vm.publicKeyMultibase), { curve: 'k256', publicKey: pub });
});

test('isValidPublicKey checks the curve; compressPublicKey matches noble for uncompressed keys', () => {
  for (let i = 0; i < 10; i++) {
    const k = secp256k1.utils.randomPrivateKey();
    assert.deepEqual(compressPublicKey('k256', secp256k1.getPublicKey(k, false)), secp256k1.getPublicKey(k, true));
    const p = p256.utils.randomPrivateKey();
    assert.deepEqual(compressPublicKey('p256', p256.getPublicKey(p, false)), p256.getPublicKey(p, true));
    assert.equal(isValidPublicKey('k256', secp256k1.getPublicKey(k, true)), true);
    assert.equal(isValidPublicKey('p256', p256.getPublicKey(p, true)), true);
  }
  const notOnCurve = new Uint8Array(33).fill(0xff);
  notOnCurve[0] = 2;
  assert.equal(isValidPublicKey('k256', notOnCurve), false);
  assert.throws(() => compressPublicKey('k256', new Uint8Array(32)));
  // a did:key naming a point off the curve parses structurally but never verifies
  const f = sigFixtures[1]!;
  const bogus = formatDidKey('k256', notOnCurve);
  assert.equal(verifySignature(bogus, b64(f.messageBase64), b64(f.signatureBase64)), false);
});
