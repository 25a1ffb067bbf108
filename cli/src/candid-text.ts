// Candid textual values (`(record { canopy = principal "aaaaa-aa" })`) parsed against the IDL types the
// receiver expects, into the JavaScript values `IDL.encode` takes. Guided by the types, so numbers,
// `null` and `vec` read unambiguously without type annotations. Pure (no Node imports).
import { IDL, idlLabelToId } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';

export class CandidTextError extends Error {}

/** Parses a value list `(v1, v2, …)` against `types` and returns the values for `IDL.encode(types, values)`. */
export function parseCandidArgs(types: readonly IDL.Type[], text: string): unknown[] {
  const p = new Parser(text);
  p.expect('(');
  const values: unknown[] = [];
  for (const t of types) {
    if (values.length > 0 && !p.eat(',')) break;
    if (p.peek(')')) break;
    values.push(p.value(t));
  }
  p.eat(',');
  if (values.length < types.length) {
    // a missing trailing argument reads as null when its type allows it (Candid's opt/null/reserved rule)
    for (const t of types.slice(values.length)) {
      const u = unroll(t);
      if (u instanceof IDL.OptClass) values.push([]);
      else if (u instanceof IDL.NullClass || u instanceof IDL.ReservedClass) values.push(null);
      else p.fail(`${types.length} argument${types.length === 1 ? '' : 's'} (${types.map((x) => x.display()).join(', ')})`);
    }
  }
  p.expect(')');
  p.end();
  return values;
}

/** Parses one value of type `t`. */
export function parseCandidValue(t: IDL.Type, text: string): unknown {
  const p = new Parser(text);
  const v = p.value(t);
  p.end();
  return v;
}

function unroll(t: IDL.Type): IDL.Type {
  while (t instanceof IDL.RecClass) {
    const inner = t.getType();
    if (!inner) throw new CandidTextError('recursive type used before it is filled');
    t = inner;
  }
  return t;
}

const ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, '"': 34, "'": 39 };

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  fail(what: string, at = this.pos): never {
    throw new CandidTextError(`expected ${what} at ${at}`);
  }

  private skip(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }
  peek(tok: string): boolean {
    this.skip();
    return this.src.startsWith(tok, this.pos);
  }
  eat(tok: string): boolean {
    if (!this.peek(tok)) return false;
    this.pos += tok.length;
    return true;
  }
  expect(tok: string): void {
    if (!this.eat(tok)) this.fail(`"${tok}"`);
  }
  end(): void {
    this.skip();
    if (this.pos < this.src.length) this.fail('end of input');
  }
  /** A keyword or identifier, or undefined (position unchanged) if none is here. */
  private ident(): string | undefined {
    this.skip();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
  private keyword(word: string, what: string): void {
    const at = (this.skip(), this.pos);
    if (this.ident() !== word) this.fail(what, at);
  }

  value(type: IDL.Type): unknown {
    const t = unroll(type);
    this.skip();
    const at = this.pos;
    // a parenthesised value, possibly with a type annotation: `(5 : nat64)`
    if (this.src[this.pos] === '(' && !(t instanceof IDL.NullClass)) {
      this.pos++;
      const v = this.value(t);
      this.annotation(t);
      this.expect(')');
      return v;
    }
    if (t instanceof IDL.NullClass) return this.keyword('null', 'null'), null;
    if (t instanceof IDL.ReservedClass) return this.keyword('null', 'null (for reserved)'), null;
    if (t instanceof IDL.BoolClass) {
      const w = this.ident();
      if (w === 'true' || w === 'false') return w === 'true';
      return this.fail('bool', at);
    }
    if (t instanceof IDL.TextClass) {
      const bytes = this.stringBytes();
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        return this.fail('text that is valid UTF-8', at);
      }
    }
    if (t instanceof IDL.PrincipalClass) {
      this.keyword('principal', 'principal');
      const s = new TextDecoder().decode(this.stringBytes());
      try {
        return Principal.fromText(s);
      } catch {
        return this.fail('a valid principal', at);
      }
    }
    if (t instanceof IDL.NatClass || t instanceof IDL.IntClass || t instanceof IDL.FixedNatClass || t instanceof IDL.FixedIntClass)
      return this.integer(t, at);
    if (t instanceof IDL.FloatClass) return this.float(t);
    if (t instanceof IDL.OptClass) {
      const w = this.ident();
      if (w === 'null') return [];
      if (w === 'opt') return [this.value(t._type)];
      return this.fail(`opt (or null) for ${t.display()}`, at);
    }
    if (t instanceof IDL.VecClass) return this.vec(t, at);
    if (t instanceof IDL.TupleClass) return this.tuple(t, at);
    if (t instanceof IDL.RecordClass) return this.record(t, at);
    if (t instanceof IDL.VariantClass) return this.variant(t, at);
    return this.fail(`a type the text syntax supports (not ${t.display()})`, at);
  }

  /** An optional `: type` after a value; it must name the expected type. */
  private annotation(t: IDL.Type): void {
    if (!this.eat(':')) return;
    const at = (this.skip(), this.pos);
    const name = this.ident();
    if (name !== t.display()) this.fail(`type ${t.display()}`, at);
  }

  private integer(t: IDL.Type, at: number): bigint | number {
    this.skip();
    const m = /^([+-]?)(0x[0-9a-fA-F_]+|[0-9][0-9_]*)/.exec(this.src.slice(this.pos));
    const signed = t instanceof IDL.IntClass || t instanceof IDL.FixedIntClass;
    if (!m || (m[1] && !signed)) return this.fail(signed ? 'an integer' : 'a natural number', at);
    this.pos += m[0].length;
    const digits = m[2]!.replace(/_/g, '');
    if (digits === '0x') return this.fail('hex digits', at);
    let n = BigInt(digits);
    if (m[1] === '-') n = -n;
    if (!this.peek('::') && this.peek(':') && !this.peek(':=')) this.annotation(t);
    const bits = t instanceof IDL.FixedNatClass || t instanceof IDL.FixedIntClass ? t._bits : undefined;
    if (bits !== undefined) {
      const [lo, hi] = signed ? [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n] : [0n, (1n << BigInt(bits)) - 1n];
      if (n < lo || n > hi) this.fail(`a ${t.display()} (${lo}..${hi})`, at);
      return bits <= 32 ? Number(n) : n;
    }
    return n;
  }

  private float(t: IDL.FloatClass): number {
    const at = (this.skip(), this.pos);
    const m = /^[+-]?([0-9][0-9_]*)(\.[0-9_]*)?([eE][+-]?[0-9_]+)?/.exec(this.src.slice(this.pos));
    if (!m) return this.fail(`a ${t.display()}`, at);
    this.pos += m[0].length;
    if (this.peek(':')) this.annotation(t);
    return Number(m[0].replace(/_/g, ''));
  }

  /** A `"…"` literal as bytes: `\n \r \t \\ \" \'`, `\XX` (one byte), `\u{XXXX}` (a code point). */
  private stringBytes(): Uint8Array {
    this.skip();
    if (this.src[this.pos] !== '"') this.fail('a string "…"');
    const out: number[] = [];
    const enc = new TextEncoder();
    this.pos++;
    for (;;) {
      const at = this.pos;
      const c = this.src[this.pos];
      if (c === undefined) this.fail('closing "');
      this.pos++;
      if (c === '"') return Uint8Array.from(out);
      if (c !== '\\') {
        const cp = this.src.codePointAt(at)!;
        if (cp > 0xffff) this.pos++;
        out.push(...enc.encode(String.fromCodePoint(cp)));
        continue;
      }
      const e = this.src[this.pos];
      if (e !== undefined && e in ESCAPES) {
        out.push(ESCAPES[e]!);
        this.pos++;
      } else if (e === 'u') {
        const m = /^u\{([0-9a-fA-F_]{1,8})\}/.exec(this.src.slice(this.pos));
        const cp = m ? parseInt(m[1]!.replace(/_/g, ''), 16) : NaN;
        if (!m || !(cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) this.fail('a unicode escape \\u{…}', at);
        out.push(...enc.encode(String.fromCodePoint(cp)));
        this.pos += m[0].length;
      } else if (/^[0-9a-fA-F]{2}/.test(this.src.slice(this.pos, this.pos + 2))) {
        out.push(parseInt(this.src.slice(this.pos, this.pos + 2), 16));
        this.pos += 2;
      } else this.fail('an escape (\\n \\r \\t \\\\ \\" \\\' \\XX \\u{…})', at);
    }
  }

  /** `{ item; item; }` (the last `;` optional), each item read by `item`. */
  private block(item: () => void): void {
    this.expect('{');
    while (!this.eat('}')) {
      item();
      if (!this.eat(';')) {
        this.expect('}');
        return;
      }
    }
  }

  private vec(t: IDL.VecClass<unknown>, at: number): unknown {
    const bytes = unroll(t._type) instanceof IDL.FixedNatClass && (unroll(t._type) as IDL.FixedNatClass)._bits === 8;
    const w = this.ident();
    if (w === 'blob' && bytes) return this.stringBytes();
    if (w !== 'vec') return this.fail(bytes ? 'vec or blob' : 'vec', at);
    const items: unknown[] = [];
    this.block(() => items.push(this.value(t._type)));
    return bytes ? Uint8Array.from(items as number[]) : items;
  }

  /** A field label: a name, a number (`0 = …`), or a quoted name; returned as its Candid id. */
  private label(): number | undefined {
    this.skip();
    const num = /^[0-9][0-9_]*/.exec(this.src.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      return Number(num[0].replace(/_/g, ''));
    }
    if (this.src[this.pos] === '"') return idlLabelToId(new TextDecoder().decode(this.stringBytes()));
    const name = this.ident();
    return name === undefined ? undefined : idlLabelToId(name);
  }

  private fieldsById(fields: Array<[string, IDL.Type]>): Map<number, [string, IDL.Type]> {
    return new Map(fields.map((f) => [idlLabelToId(f[0]), f]));
  }

  private record(t: IDL.RecordClass, at: number): Record<string, unknown> {
    this.keyword('record', `record for ${t.display()}`);
    const byId = this.fieldsById(t._fields);
    const out: Record<string, unknown> = {};
    this.block(() => {
      const lat = (this.skip(), this.pos);
      const id = this.label();
      const field = id === undefined ? undefined : byId.get(id);
      if (!field) return this.fail(`a field of ${t.display()}`, lat);
      if (field[0] in out) return this.fail(`field ${field[0]} only once`, lat);
      this.expect('=');
      out[field[0]] = this.value(field[1]);
    });
    for (const [name, ft] of t._fields) {
      if (name in out) continue;
      if (unroll(ft) instanceof IDL.OptClass) out[name] = [];
      else if (unroll(ft) instanceof IDL.NullClass) out[name] = null;
      else this.fail(`field ${name} in the record`, at);
    }
    return out;
  }

  /** A tuple: `record { v0; v1 }` (or with `0 = v0; 1 = v1`), as an array. */
  private tuple(t: IDL.TupleClass<unknown[]>, at: number): unknown[] {
    this.keyword('record', `record for ${t.display()}`);
    const out: unknown[] = [];
    this.block(() => {
      const save = this.pos;
      const n = /^\s*([0-9][0-9_]*)\s*=/.exec(this.src.slice(this.pos));
      if (n) {
        if (Number(n[1]!.replace(/_/g, '')) !== out.length) this.fail(`field ${out.length}`, save);
        this.pos += n[0].length;
      }
      const field = t._fields[out.length];
      if (!field) return this.fail(`"}" (${t.display()} has ${t._fields.length} fields)`, save);
      out.push(this.value(field[1]));
    });
    if (out.length < t._fields.length) this.fail(`${t._fields.length} fields in the tuple`, at);
    return out;
  }

  private variant(t: IDL.VariantClass, at: number): Record<string, unknown> {
    this.keyword('variant', `variant for ${t.display()}`);
    const byId = this.fieldsById(t._fields);
    this.expect('{');
    const lat = (this.skip(), this.pos);
    const id = this.label();
    const field = id === undefined ? undefined : byId.get(id);
    if (!field) return this.fail(`a tag of ${t.display()}`, lat);
    let v: unknown = null;
    if (this.eat('=')) v = this.value(field[1]);
    else if (!(unroll(field[1]) instanceof IDL.NullClass)) this.fail(`"=" and a value for ${field[0]}`);
    this.eat(';');
    this.expect('}');
    return { [field[0]]: v };
  }
}
