// The CBOR subset the IC HTTP interface uses (RFC 8949): unsigned/negative ints (bigint past 2^53),
// byte and text strings, arrays, maps with text keys, tags (55799 self-describe is transparent),
// simple values. DAG-CBOR (canister/src/atproto/cbor.ts) rejects the self-describe tag, hence this codec.
import { concat } from '../bytes.ts';

export { concat };

export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | { [key: string]: CborValue };

export const SELF_DESCRIBE_TAG = 55799;

export class CborError extends Error {}

export function decodeCbor(bytes: Uint8Array): CborValue {
  const r = new Reader(bytes);
  const v = r.item();
  if (r.pos !== bytes.length) throw new CborError('trailing bytes after CBOR value');
  return v;
}

class Reader {
  pos = 0;
  private depth = 0;
  constructor(private readonly b: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.b.length) throw new CborError('unexpected end of CBOR input');
    return this.b[this.pos++]!;
  }

  private arg(info: number): bigint {
    if (info < 24) return BigInt(info);
    const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : -1;
    if (n < 0) throw new CborError(`unsupported CBOR additional info ${info}`);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.byte());
    return v;
  }

  private take(len: bigint): Uint8Array {
    const n = Number(len);
    if (this.pos + n > this.b.length) throw new CborError('CBOR length past end of input');
    const out = this.b.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  item(): CborValue {
    if (++this.depth > 256) throw new CborError('CBOR nesting too deep');
    try {
      return this.itemInner();
    } finally {
      this.depth--;
    }
  }

  private itemInner(): CborValue {
    const head = this.byte();
    const major = head >> 5;
    const info = head & 31;
    if (info === 31) throw new CborError('indefinite-length CBOR is not supported');
    switch (major) {
      case 0: {
        const v = this.arg(info);
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 1: {
        const v = -1n - this.arg(info);
        return v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
      }
      case 2:
        return this.take(this.arg(info));
      case 3:
        return new TextDecoder('utf-8', { fatal: true }).decode(this.take(this.arg(info)));
      case 4: {
        const n = Number(this.arg(info));
        if (n > this.b.length - this.pos) throw new CborError('CBOR array length past end of input');
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.item());
        return out;
      }
      case 5: {
        const n = Number(this.arg(info));
        if (n > this.b.length - this.pos) throw new CborError('CBOR map length past end of input');
        const out: { [key: string]: CborValue } = Object.create(null);
        for (let i = 0; i < n; i++) {
          const k = this.item();
          if (typeof k !== 'string') throw new CborError('CBOR map key is not text');
          out[k] = this.item();
        }
        return out;
      }
      case 6:
        this.arg(info); // tags (self-describe included) carry no meaning for the IC interface
        return this.item();
      default: {
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        if (info === 23) return undefined;
        if (info === 25 || info === 26 || info === 27) {
          const raw = this.take(BigInt(info === 25 ? 2 : info === 26 ? 4 : 8));
          const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
          if (info === 25) return decodeHalf(dv.getUint16(0));
          return info === 26 ? dv.getFloat32(0) : dv.getFloat64(0);
        }
        throw new CborError(`unsupported CBOR simple value ${info}`);
      }
    }
  }
}

function decodeHalf(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * 2 ** -14 * (mant / 1024);
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

/** Encodes with the self-describe tag in front, as the IC does for every CBOR body. */
export function encodeCbor(value: CborValue, selfDescribe = true): Uint8Array {
  const out: number[] = [];
  if (selfDescribe) writeHead(out, 6, BigInt(SELF_DESCRIBE_TAG));
  const chunks: Uint8Array[] = [];
  write(out, chunks, value);
  flush(out, chunks);
  return concat(chunks);
}

function flush(out: number[], chunks: Uint8Array[]): void {
  if (out.length) {
    chunks.push(Uint8Array.from(out));
    out.length = 0;
  }
}

function writeHead(out: number[], major: number, n: bigint): void {
  const m = major << 5;
  if (n < 24n) out.push(m | Number(n));
  else if (n < 0x100n) out.push(m | 24, Number(n));
  else if (n < 0x10000n) out.push(m | 25, Number(n >> 8n), Number(n & 0xffn));
  else if (n < 0x100000000n) {
    out.push(m | 26);
    for (let s = 24n; s >= 0n; s -= 8n) out.push(Number((n >> s) & 0xffn));
  } else {
    out.push(m | 27);
    for (let s = 56n; s >= 0n; s -= 8n) out.push(Number((n >> s) & 0xffn));
  }
}

function write(out: number[], chunks: Uint8Array[], v: CborValue): void {
  if (v === null) out.push(0xf6);
  else if (v === undefined) out.push(0xf7);
  else if (v === true) out.push(0xf5);
  else if (v === false) out.push(0xf4);
  else if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isInteger(v)) {
      const b = new Uint8Array(9);
      b[0] = 0xfb;
      new DataView(b.buffer).setFloat64(1, v);
      out.push(...b);
      return;
    }
    const n = BigInt(v);
    if (n >= 0n) writeHead(out, 0, n);
    else writeHead(out, 1, -1n - n);
  } else if (typeof v === 'string') {
    const b = new TextEncoder().encode(v);
    writeHead(out, 3, BigInt(b.length));
    writeBytes(out, chunks, b);
  } else if (v instanceof Uint8Array) {
    writeHead(out, 2, BigInt(v.length));
    writeBytes(out, chunks, v);
  } else if (Array.isArray(v)) {
    writeHead(out, 4, BigInt(v.length));
    for (const x of v) write(out, chunks, x);
  } else {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    writeHead(out, 5, BigInt(entries.length));
    for (const [k, x] of entries) {
      write(out, chunks, k);
      write(out, chunks, x);
    }
  }
}

function writeBytes(out: number[], chunks: Uint8Array[], b: Uint8Array): void {
  if (b.length < 64) {
    for (const x of b) out.push(x);
    return;
  }
  flush(out, chunks);
  chunks.push(b);
}

