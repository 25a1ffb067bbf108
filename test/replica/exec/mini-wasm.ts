// Assembles tiny canister modules byte by byte, so the engine's System API semantics are tested on wasm
// that nobody compiled with Azle (and on paths Azle never takes: cleanup callbacks, heartbeats, msg_reject).
export const I32 = 0x7f;
export const I64 = 0x7e;

export type Import = { name: string; params: number[]; results: number[] };
export type Func = { export?: string; params?: number[]; results?: number[]; body: number[] };

function u32(n: number): number[] {
    const out: number[] = [];
    do {
        let b = n & 0x7f;
        n >>>= 7;
        if (n) b |= 0x80;
        out.push(b);
    } while (n);
    return out;
}

export function sleb(n: number): number[] {
    const out: number[] = [];
    for (;;) {
        const b = n & 0x7f;
        n >>= 7;
        const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
        out.push(done ? b : b | 0x80);
        if (done) return out;
    }
}

const str = (s: string) => {
    const b = [...new TextEncoder().encode(s)];
    return [...u32(b.length), ...b];
};
const vec = (items: number[][]) => [...u32(items.length), ...items.flat()];
const section = (id: number, payload: number[]) => [id, ...u32(payload.length), ...payload];

/** imports come first in the function index space; every defined function is also in table slot = its position */
export function assemble(opts: { imports: Import[]; funcs: Func[]; data?: { offset: number; bytes: number[] }[]; globals?: number[] }): Uint8Array {
    const sigs = [...opts.imports, ...opts.funcs].map((f) => [0x60, ...vec((f.params ?? []).map((p) => [p])), ...vec((f.results ?? []).map((r) => [r]))]);
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    out.push(...section(1, vec(sigs)));
    out.push(...section(2, vec(opts.imports.map((imp, i) => [...str('ic0'), ...str(imp.name), 0x00, ...u32(i)]))));
    out.push(...section(3, vec(opts.funcs.map((_, i) => u32(opts.imports.length + i)))));
    out.push(...section(4, vec([[0x70, 0x00, ...u32(opts.funcs.length)]])));
    out.push(...section(5, vec([[0x00, 0x01]])));
    // mutable i32 globals with their initial values
    if (opts.globals?.length) out.push(...section(6, vec(opts.globals.map((v) => [I32, 0x01, 0x41, ...sleb(v), 0x0b]))));
    const exports = [[...str('memory'), 0x02, 0x00]];
    opts.funcs.forEach((f, i) => f.export && exports.push([...str(f.export), 0x00, ...u32(opts.imports.length + i)]));
    out.push(...section(7, vec(exports)));
    out.push(...section(9, vec([[0x00, 0x41, 0x00, 0x0b, ...vec(opts.funcs.map((_, i) => u32(opts.imports.length + i)))]])));
    out.push(...section(10, vec(opts.funcs.map((f) => {
        const body = [0x00, ...f.body, 0x0b];
        return [...u32(body.length), ...body];
    }))));
    if (opts.data?.length) {
        out.push(...section(11, vec(opts.data.map((d) => [0x00, 0x41, ...sleb(d.offset), 0x0b, ...vec(d.bytes.map((b) => [b]))]))));
    }
    return new Uint8Array(out);
}

// instruction helpers
export const i32 = (n: number) => [0x41, ...sleb(n)];
export const call = (idx: number) => [0x10, ...u32(idx)];
export const store32 = (addr: number, value: number[]) => [...i32(addr), ...value, 0x36, 0x02, 0x00];
export const load32 = (addr: number) => [...i32(addr), 0x28, 0x02, 0x00];
export const add = [0x6a];
export const drop = [0x1a];
export const unreachable = [0x00];
export const sub = [0x6b];
export const eq = [0x46];
export const load8 = (addr: number) => [...i32(addr), 0x2d, 0x00, 0x00];
export const store8 = (addr: number, value: number[]) => [...i32(addr), ...value, 0x3a, 0x00, 0x00];
export const globalGet = (g: number) => [0x23, ...u32(g)];
export const globalSet = (g: number) => [0x24, ...u32(g)];
/** `if (cond) { then }` with no result */
export const when = (cond: number[], then: number[]) => [...cond, 0x04, 0x40, ...then, 0x0b];
export const bytes = (text: string) => [...new TextEncoder().encode(text)];
