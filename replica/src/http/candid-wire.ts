// A type-directed reader for Candid messages driven by the message's own type table. The gateway
// needs it because streaming tokens have a canister-chosen type: it locates the token's bytes and
// re-sends them (with the original type table) to the callback without knowing the type.
import { compareBytes } from './request-id.ts';

type TypeRef = number; // < 0: primitive opcode, >= 0: index into the table
type TypeEntry =
  | { kind: 'opt' | 'vec'; inner: TypeRef }
  | { kind: 'record' | 'variant'; fields: [number, TypeRef][] }
  | { kind: 'func' | 'service' };

export type WireValue = { type: TypeRef; start: number; end: number; value: unknown };
export type WireRecord = Map<number, WireValue>;
export type WireFunc = { principal: Uint8Array; method: string };

export class CandidWireError extends Error {}

export type WireMessage = { bytes: Uint8Array; table: TypeEntry[]; tableEnd: number; args: WireValue[] };

const MAGIC = [0x44, 0x49, 0x44, 0x4c];

export function idlHash(name: string): number {
  let h = 0;
  for (const b of new TextEncoder().encode(name)) h = (Math.imul(h, 223) + b) >>> 0;
  return h;
}

export function decodeMessage(bytes: Uint8Array): WireMessage {
  if (bytes.length < 4 || MAGIC.some((m, i) => bytes[i] !== m)) throw new CandidWireError('not a Candid message (no DIDL)');
  const r = new WireReader(bytes, 4);
  const n = r.leb();
  const table: TypeEntry[] = [];
  for (let i = 0; i < n; i++) table.push(r.typeEntry());
  const tableEnd = r.pos;
  r.table = table;
  const argc = r.leb();
  const types: TypeRef[] = [];
  for (let i = 0; i < argc; i++) types.push(r.sleb());
  const args = types.map((t) => r.value(t));
  return { bytes, table, tableEnd, args };
}

/** A one-argument message carrying `v` (a value read from `msg`), reusing msg's type table. */
export function reencode(msg: WireMessage, v: WireValue): Uint8Array {
  const head = msg.bytes.subarray(0, msg.tableEnd);
  const tail = [...leb(1n), ...sleb(BigInt(v.type))];
  const val = msg.bytes.subarray(v.start, v.end);
  const out = new Uint8Array(head.length + tail.length + val.length);
  out.set(head, 0);
  out.set(tail, head.length);
  out.set(val, head.length + tail.length);
  return out;
}

export function field(rec: unknown, name: string): WireValue | undefined {
  if (!(rec instanceof Map)) throw new CandidWireError(`expected a record around field ${name}`);
  return (rec as WireRecord).get(idlHash(name));
}

class WireReader {
  table: TypeEntry[] = [];
  private depth = 0;
  constructor(
    private readonly b: Uint8Array,
    public pos: number
  ) {}

  private byte(): number {
    if (this.pos >= this.b.length) throw new CandidWireError('unexpected end of Candid message');
    return this.b[this.pos++]!;
  }

  lebBig(): bigint {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const x = this.byte();
      v |= BigInt(x & 0x7f) << shift;
      shift += 7n;
      if (!(x & 0x80)) return v;
    }
  }

  leb(): number {
    const v = this.lebBig();
    if (v > BigInt(this.b.length)) throw new CandidWireError('Candid length out of range');
    return Number(v);
  }

  slebBig(): bigint {
    let v = 0n;
    let shift = 0n;
    let x: number;
    do {
      x = this.byte();
      v |= BigInt(x & 0x7f) << shift;
      shift += 7n;
    } while (x & 0x80);
    if (x & 0x40) v -= 1n << shift;
    return v;
  }

  sleb(): number {
    return Number(this.slebBig());
  }

  private take(n: number): Uint8Array {
    if (this.pos + n > this.b.length) throw new CandidWireError('Candid value past end of message');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  typeEntry(): TypeEntry {
    const op = this.sleb();
    switch (op) {
      case -18:
        return { kind: 'opt', inner: this.sleb() };
      case -19:
        return { kind: 'vec', inner: this.sleb() };
      case -20:
      case -21: {
        const n = this.leb();
        const fields: [number, TypeRef][] = [];
        for (let i = 0; i < n; i++) fields.push([Number(this.lebBig()), this.sleb()]);
        return { kind: op === -20 ? 'record' : 'variant', fields };
      }
      case -22: {
        for (const _ of [0, 1]) {
          const n = this.leb();
          for (let i = 0; i < n; i++) this.sleb();
        }
        this.take(this.leb());
        return { kind: 'func' };
      }
      case -23: {
        const n = this.leb();
        for (let i = 0; i < n; i++) {
          this.take(this.leb());
          this.sleb();
        }
        return { kind: 'service' };
      }
      default:
        throw new CandidWireError(`unsupported Candid type opcode ${op} in type table`);
    }
  }

  private principal(): Uint8Array {
    if (this.byte() !== 1) throw new CandidWireError('opaque principal references are not supported');
    return this.take(this.leb());
  }

  value(t: TypeRef): WireValue {
    if (++this.depth > 200) throw new CandidWireError('Candid value nested too deeply');
    const start = this.pos;
    const value = this.valueInner(t);
    this.depth--;
    return { type: t, start, end: this.pos, value };
  }

  private valueInner(t: TypeRef): unknown {
    if (t < 0) return this.primitive(t);
    const e = this.table[t];
    if (!e) throw new CandidWireError(`type index ${t} out of range`);
    switch (e.kind) {
      case 'opt':
        return this.byte() === 1 ? this.value(e.inner) : null;
      case 'vec': {
        const n = this.leb();
        if (e.inner === -5) return this.take(n); // blob
        const out: WireValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(e.inner));
        return out;
      }
      case 'record': {
        const out: WireRecord = new Map();
        for (const [h, ft] of e.fields) out.set(h, this.value(ft));
        return out;
      }
      case 'variant': {
        const i = this.leb();
        const f = e.fields[i];
        if (!f) throw new CandidWireError('variant index out of range');
        return { tag: f[0], value: this.value(f[1]) };
      }
      case 'func': {
        if (this.byte() !== 1) throw new CandidWireError('opaque function references are not supported');
        const principal = this.principal();
        const method = new TextDecoder().decode(this.take(this.leb()));
        return { principal, method } satisfies WireFunc;
      }
      case 'service':
        return this.principal();
    }
  }

  private primitive(t: number): unknown {
    switch (t) {
      case -1: // null
      case -16: // reserved
        return null;
      case -2:
        return this.byte() === 1;
      case -3:
        return this.lebBig();
      case -4:
        return this.slebBig();
      case -5:
      case -9:
        return this.take(1)[0];
      case -6:
      case -10:
        return readLe(this.take(2));
      case -7:
      case -11:
      case -13:
        return readLe(this.take(4));
      case -8:
      case -12:
      case -14:
        return readLe(this.take(8));
      case -15:
        return new TextDecoder('utf-8', { fatal: true }).decode(this.take(this.leb()));
      case -24:
        return this.principal();
      case -17:
        throw new CandidWireError('a value of type empty cannot exist');
      default:
        throw new CandidWireError(`unsupported Candid primitive ${t}`);
    }
  }
}

function readLe(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

function leb(n: bigint): number[] {
  const out: number[] = [];
  do {
    let x = Number(n & 0x7fn);
    n >>= 7n;
    if (n) x |= 0x80;
    out.push(x);
  } while (n);
  return out;
}

function sleb(n: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const x = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && !(x & 0x40)) || (n === -1n && x & 0x40);
    out.push(done ? x : x | 0x80);
    if (done) return out;
  }
}

export const sameBytes = (a: Uint8Array, b: Uint8Array) => compareBytes(a, b) === 0;
