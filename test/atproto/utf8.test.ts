// The canister's UTF-8 codec (canister/src/atproto/utf8.ts) and the fast CID helpers in cbor.ts,
// against Node's native TextEncoder/TextDecoder and multiformats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8Decode, utf8Encode, speedUpTextCodecs } from '../../canister/src/atproto/utf8.ts';
import { CID, cidForRaw, cidFromBytes, cidToString, encodeBlock } from '../../canister/src/atproto/cbor.ts';

const te = new TextEncoder();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = Math.random();
    if (r < 0.5) s += String.fromCharCode(Math.floor(Math.random() * 128));
    else if (r < 0.7) s += String.fromCharCode(0x80 + Math.floor(Math.random() * 0x780));
    else if (r < 0.85) s += String.fromCodePoint(0x10000 + Math.floor(Math.random() * 0xfffff));
    else if (r < 0.9) s += String.fromCharCode(0xd800 + Math.floor(Math.random() * 0x800)); // lone surrogate
    else s += String.fromCharCode(0x800 + Math.floor(Math.random() * 0xf7ff));
  }
  return s;
}

test('utf8Encode equals TextEncoder, including lone surrogates and a % sign', () => {
  for (let i = 0; i < 3000; i++) {
    const s = randomString(Math.floor(Math.random() * 40));
    assert.equal(hex(utf8Encode(s)), hex(te.encode(s)), JSON.stringify(s));
  }
  for (const s of ['', '%', '%25', '\ud800', 'a\udc00b', '😀', 'x'.repeat(100_000) + 'é']) assert.equal(hex(utf8Encode(s)), hex(te.encode(s)));
});

test('utf8Decode equals TextDecoder (replacement and fatal modes, BOM) on random and malformed bytes', () => {
  const tricky = [0x00, 0x25, 0x41, 0x7f, 0x80, 0x8f, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xbb];
  for (let i = 0; i < 5000; i++) {
    const bytes = Uint8Array.from({ length: Math.floor(Math.random() * 24) }, () => (Math.random() < 0.3 ? Math.floor(Math.random() * 256) : pick(tricky)));
    if (Math.random() < 0.1) bytes.set([0xef, 0xbb, 0xbf].slice(0, Math.min(3, bytes.length)));
    assert.equal(utf8Decode(bytes), new TextDecoder().decode(bytes), hex(bytes));
    assert.equal(utf8Decode(bytes, false, true), new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes), hex(bytes));
    let native: string | null;
    try {
      native = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      native = null;
    }
    let ours: string | null;
    try {
      ours = utf8Decode(bytes, true);
    } catch (err) {
      assert.ok(err instanceof TypeError);
      ours = null;
    }
    assert.equal(ours, native, hex(bytes));
  }
  const big = te.encode(randomString(50_000).replace(/[\ud800-\udfff]/g, 'x'));
  assert.equal(utf8Decode(big, true), new TextDecoder().decode(big));
});

test('speedUpTextCodecs leaves a native codec alone and patches a polyfill-like one', () => {
  const before = TextEncoder.prototype.encode;
  speedUpTextCodecs();
  assert.equal(TextEncoder.prototype.encode, before, 'native TextEncoder untouched');
  // A stand-in for the canister's polyfill: instances carry `_encoding`, methods are slow JS.
  class PolyEncoder {
    _encoding = { name: 'UTF-8' };
    encode(_s?: string): Uint8Array {
      throw new Error('slow path used');
    }
  }
  class PolyDecoder {
    _encoding = { name: 'UTF-8' };
    _error_mode: string;
    _ignoreBOM = false;
    constructor(_label?: string, opts?: { fatal?: boolean }) {
      this._error_mode = opts?.fatal ? 'fatal' : 'replacement';
    }
    decode(_b?: unknown, _o?: unknown): string {
      throw new Error('slow path used');
    }
  }
  const g = { TextEncoder: PolyEncoder, TextDecoder: PolyDecoder } as unknown as typeof globalThis;
  speedUpTextCodecs(g);
  assert.equal(hex(new PolyEncoder().encode('é😀')), hex(te.encode('é😀')));
  assert.equal(new PolyDecoder().decode(new Uint8Array([0xe2, 0x82, 0xac, 0xff])), '€\ufffd');
  assert.throws(() => new PolyDecoder('utf8', { fatal: true }).decode(new Uint8Array([0xff])), TypeError);
  assert.throws(() => new PolyDecoder().decode(new Uint8Array([1]), { stream: true }), /slow path/, 'streaming keeps the original');
});

test('cidFromBytes and cidToString agree with multiformats', () => {
  for (let i = 0; i < 300; i++) {
    const c = i % 2 ? encodeBlock({ i }).cid : cidForRaw(Uint8Array.of(i & 255, i >> 8));
    const d = cidFromBytes(c.bytes.slice());
    assert.ok(d.equals(c));
    assert.equal(d.code, c.code);
    assert.equal(CID.asCID(d), d);
    assert.equal(cidToString(c), c.toString());
    assert.equal(cidToString(d), CID.decode(c.bytes).toString());
  }
  const v0 = CID.parse('QmQg1v4o9xdT3Q14wh4S7dxZkDjyZ9ssFzFzyep1YrVJBY');
  assert.equal(cidToString(v0), v0.toString());
  assert.ok(cidFromBytes(v0.bytes).equals(v0));
  assert.throws(() => cidFromBytes(new Uint8Array([1, 0x71, 0x12])));
});
