// A small parser for Candid service descriptions (.did), enough for the files Azle and
// scripts/gen-did.ts write: named types, records, variants, tuples, opt, vec, blob, func, a service
// with an init argument. It resolves named types and returns a structural form in which
// field order, type names and `blob` vs `vec nat8` no longer matter, so two interfaces compare
// with `assert.deepStrictEqual`.

interface Func<T> { args: T[]; rets: T[]; modes: string[] }
export type DidType =
  | { prim: string }
  | { opt: DidType }
  | { vec: DidType }
  | { record: Record<string, DidType> }
  | { variant: Record<string, DidType> }
  | { func: DidFunc };
export type DidFunc = Func<DidType>;
/** A type as written: named types are still references. */
type Raw =
  | { ref: string }
  | { prim: string }
  | { opt: Raw }
  | { vec: Raw }
  | { record: Record<string, Raw> }
  | { variant: Record<string, Raw> }
  | { func: Func<Raw> };
export type DidService = { init: DidType[]; methods: Record<string, DidFunc> };

const PRIMS = new Set([
  'bool', 'text', 'null', 'reserved', 'empty', 'principal', 'nat', 'int', 'nat8', 'nat16', 'nat32', 'nat64',
  'int8', 'int16', 'int32', 'int64', 'float32', 'float64',
]);

function tokenize(src: string): string[] {
  const tokens: string[] = [];
  const re = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|("(?:[^"\\]|\\.)*")|(->|[{}();:,=])|([A-Za-z_][A-Za-z0-9_]*|[0-9]+)|(.)/gy;
  for (let m = re.exec(src); m && m.index < src.length; m = re.exec(src)) {
    if (m[4] !== undefined) throw new Error(`unexpected character ${JSON.stringify(m[4])} at ${m.index}`);
    const tok = m[1] ?? m[2] ?? m[3];
    if (tok !== undefined) tokens.push(tok);
    if (re.lastIndex >= src.length) break;
  }
  return tokens;
}

export function parseDid(src: string): DidService {
  const toks = tokenize(src);
  let i = 0;
  const peek = (k = 0) => toks[i + k];
  const next = () => {
    if (i >= toks.length) throw new Error('unexpected end of .did');
    return toks[i++]!;
  };
  const expect = (t: string) => {
    const got = next();
    if (got !== t) throw new Error(`expected ${JSON.stringify(t)}, got ${JSON.stringify(got)} (token ${i - 1})`);
  };
  const label = (t: string) => (t.startsWith('"') ? (JSON.parse(t) as string) : t);

  const defs = new Map<string, Raw>();

  function fields(kind: 'record' | 'variant'): Record<string, Raw> {
    expect('{');
    const out: Record<string, Raw> = {};
    let position = 0;
    while (peek() !== '}') {
      if (peek(1) === ':') {
        const name = label(next());
        next();
        out[name] = datatype();
      } else if (kind === 'variant') {
        out[label(next())] = { prim: 'null' };
      } else {
        out[String(position++)] = datatype();
      }
      if (peek() === ';') next();
    }
    expect('}');
    return out;
  }

  function argList(): Raw[] {
    expect('(');
    const out: Raw[] = [];
    while (peek() !== ')') {
      if (peek(1) === ':') i += 2; // a named argument: the name is documentation only
      out.push(datatype());
      if (peek() === ',') next();
    }
    expect(')');
    return out;
  }

  function funcType(): Func<Raw> {
    const args = argList();
    expect('->');
    const rets = argList();
    const modes: string[] = [];
    while (peek() === 'query' || peek() === 'composite_query' || peek() === 'oneway') modes.push(next());
    return { args, rets, modes };
  }

  function datatype(): Raw {
    const t = next();
    if (t === 'opt') return { opt: datatype() };
    if (t === 'vec') return { vec: datatype() };
    if (t === 'blob') return { vec: { prim: 'nat8' } };
    if (t === 'record') return { record: fields('record') };
    if (t === 'variant') return { variant: fields('variant') };
    if (t === 'func') return { func: funcType() };
    if (PRIMS.has(t)) return { prim: t };
    return { ref: label(t) };
  }

  let service: { init: Raw[]; methods: Record<string, Raw> } | undefined;
  while (i < toks.length) {
    const t = next();
    if (t === 'type') {
      const name = label(next());
      expect('=');
      defs.set(name, datatype());
      expect(';');
    } else if (t === 'service') {
      if (peek() !== ':') next(); // service name
      expect(':');
      let init: Raw[] = [];
      if (peek() === '(') {
        init = argList();
        expect('->');
      }
      expect('{');
      const methods: Record<string, Raw> = {};
      while (peek() !== '}') {
        const name = label(next());
        expect(':');
        methods[name] = peek() === '(' ? { func: funcType() } : datatype();
        if (peek() === ';') next();
      }
      expect('}');
      if (peek() === ';') next();
      service = { init, methods };
    } else {
      throw new Error(`unexpected ${JSON.stringify(t)} at token ${i - 1}`);
    }
  }
  if (!service) throw new Error('no service in .did');

  const resolve = (r: Raw, depth = 0): DidType => {
    if (depth > 100) throw new Error('recursive or too deep type');
    if ('ref' in r) {
      const def = defs.get(r.ref);
      if (!def) throw new Error(`unknown type ${r.ref}`);
      return resolve(def, depth + 1);
    }
    if ('opt' in r) return { opt: resolve(r.opt, depth + 1) };
    if ('vec' in r) return { vec: resolve(r.vec, depth + 1) };
    if ('record' in r) return { record: mapValues(r.record, (v) => resolve(v, depth + 1)) };
    if ('variant' in r) return { variant: mapValues(r.variant, (v) => resolve(v, depth + 1)) };
    if ('func' in r) return { func: resolveFunc(r.func, depth) };
    return r;
  };
  const resolveFunc = (f: Func<Raw>, depth = 0): DidFunc => ({
    args: f.args.map((a) => resolve(a, depth + 1)),
    rets: f.rets.map((a) => resolve(a, depth + 1)),
    modes: [...f.modes].sort(),
  });
  const methods: Record<string, DidFunc> = {};
  for (const [name, m] of Object.entries(service.methods)) {
    const t = resolve(m);
    if (!('func' in t)) throw new Error(`method ${name} is not a function`);
    methods[name] = t.func;
  }
  return { init: service.init.map((a) => resolve(a)), methods };
}

function mapValues<A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}
