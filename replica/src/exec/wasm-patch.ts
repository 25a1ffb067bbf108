// Rewrites a canister wasm for the replica host, touching only what the host needs:
// - exports the function table (reply/reject/cleanup callbacks are table indices) as `__replica_table`, and
//   getter/setter functions for every mutable global (so a trap can restore them), `__replica_global_<i>_get/_set`;
// - instruction metering: an internal i64 global holding the instructions left for the message (cached in a
//   local inside each function), decremented at the start of every straight-line segment by the number of
//   instructions in it, and a check at every loop header that executes `unreachable` once it is negative (the
//   host tells that trap from others by the counter); the host reads/sets it through `__replica_remaining_get/_set`.
// The binary is rewritten directly (one pass, no IR round trip): existing function, type and global indices
// are untouched; one global, a few types and small accessor functions are appended and function bodies grow.
export const REMAINING_EXPORT = '__replica_remaining';
export const TABLE_EXPORT = '__replica_table';
export const GLOBAL_EXPORT_PREFIX = '__replica_global_';

class Reader {
    pos: number;
    constructor(readonly buf: Uint8Array, pos = 0) {
        this.pos = pos;
    }
    byte(): number {
        if (this.pos >= this.buf.length) throw new Error('wasm: unexpected end');
        return this.buf[this.pos++];
    }
    u32(): number {
        let result = 0;
        let shift = 0;
        for (;;) {
            const b = this.byte();
            result += (b & 0x7f) * 2 ** shift;
            if ((b & 0x80) === 0) return result;
            shift += 7;
        }
    }
    /** skips a signed LEB128 of any width */
    sleb(): void {
        while (this.byte() & 0x80);
    }
    skip(n: number): void {
        this.pos += n;
    }
}

function u32Bytes(n: number): number[] {
    const out: number[] = [];
    do {
        let b = n % 128;
        n = Math.floor(n / 128);
        if (n !== 0) b |= 0x80;
        out.push(b);
    } while (n !== 0);
    return out;
}

function slebBytes(v: bigint): number[] {
    const out: number[] = [];
    for (;;) {
        const b = Number(v & 0x7fn);
        v >>= 7n;
        const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
        out.push(done ? b : b | 0x80);
        if (done) return out;
    }
}

function nameBytes(s: string): number[] {
    const b = new TextEncoder().encode(s);
    return [...u32Bytes(b.length), ...b];
}

type Section = { id: number; start: number; end: number /* payload range */ };

function sections(wasm: Uint8Array): Section[] {
    if (wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) throw new Error('not a wasm module');
    const r = new Reader(wasm, 8);
    const out: Section[] = [];
    while (r.pos < wasm.length) {
        const id = r.byte();
        const size = r.u32();
        out.push({ id, start: r.pos, end: r.pos + size });
        r.pos += size;
    }
    return out;
}

function skipLimits(r: Reader): void {
    const flags = r.byte();
    r.u32();
    if (flags & 1) r.u32();
}

function skipValType(r: Reader): void {
    const t = r.byte();
    if (t === 0x63 || t === 0x64) r.sleb();
}

function skipConstExpr(r: Reader): void {
    for (;;) {
        const op = r.byte();
        if (op === 0x0b) return;
        if (op === 0x41 || op === 0x42) r.sleb();
        else if (op === 0x43) r.skip(4);
        else if (op === 0x44) r.skip(8);
        else if (op === 0x23 || op === 0xd2) r.u32();
        else if (op === 0xd0) r.sleb();
        else if (op >= 0x6a && op <= 0x7e) continue; // extended-const arithmetic
        else throw new Error(`wasm: unsupported const expr op 0x${op.toString(16)}`);
    }
}

function skipBlockType(r: Reader): void {
    const b = r.buf[r.pos];
    if (b === 0x40 || (b >= 0x6f && b <= 0x7f && b !== 0x71 && b !== 0x72)) r.pos++;
    else if (b === 0x63 || b === 0x64) {
        r.pos++;
        r.sleb();
    } else r.sleb();
}

function skipMemarg(r: Reader): void {
    const align = r.u32();
    if (align & 0x40) r.u32();
    r.u32();
}

/** block/loop/else/end only mark structure and compile to no machine code: like the IC, they cost nothing */
const FREE_OPS = new Set([0x02, 0x03, 0x05, 0x0b]);

const enum Kind {
    Plain,
    Boundary, // a new segment starts after this instruction
    Loop // boundary + limit check at the start of the next segment
}

/** decodes one instruction at r.pos (advancing past it) and says whether it ends a segment */
function instruction(r: Reader): Kind {
    const op = r.byte();
    switch (op) {
        case 0x02: // block
            skipBlockType(r);
            return Kind.Plain;
        case 0x03: // loop
            skipBlockType(r);
            return Kind.Loop;
        case 0x04: // if
        case 0x06: // try (legacy EH)
            skipBlockType(r);
            return Kind.Boundary;
        case 0x05: // else
        case 0x0b: // end
        case 0x00: // unreachable
        case 0x0f: // return
        case 0x19: // catch_all
        case 0x0a: // throw_ref
            return Kind.Boundary;
        case 0x0c: // br
        case 0x0d: // br_if
        case 0x09: // rethrow
        case 0x18: // delegate
        case 0xd4: // br_on_null
        case 0xd6: // br_on_non_null
        case 0x07: // catch
        case 0x08: // throw
            r.u32();
            return Kind.Boundary;
        case 0x0e: {
            // br_table
            const n = r.u32();
            for (let i = 0; i <= n; i++) r.u32();
            return Kind.Boundary;
        }
        case 0x10: // call
        case 0x12: // return_call
        case 0x14: // call_ref
        case 0x15: // return_call_ref
            r.u32();
            return op === 0x10 || op === 0x14 ? Kind.Plain : Kind.Boundary;
        case 0x11: // call_indirect
        case 0x13: // return_call_indirect
            r.u32();
            r.u32();
            return op === 0x11 ? Kind.Plain : Kind.Boundary;
        case 0x1c: {
            // select t*
            const n = r.u32();
            for (let i = 0; i < n; i++) skipValType(r);
            return Kind.Plain;
        }
        case 0x20:
        case 0x21:
        case 0x22:
        case 0x23:
        case 0x24:
        case 0x25:
        case 0x26:
        case 0xd2:
            r.u32();
            return Kind.Plain;
        case 0x3f:
        case 0x40:
            r.u32();
            return Kind.Plain;
        case 0x41:
        case 0x42:
            r.sleb();
            return Kind.Plain;
        case 0x43:
            r.skip(4);
            return Kind.Plain;
        case 0x44:
            r.skip(8);
            return Kind.Plain;
        case 0xd0:
            r.sleb();
            return Kind.Plain;
        case 0xfc: {
            const sub = r.u32();
            if (sub <= 7) return Kind.Plain;
            if (sub === 8 || sub === 12 || sub === 14) {
                r.u32();
                r.u32();
            } else if (sub === 10) {
                r.u32();
                r.u32();
            } else if (sub === 9 || sub === 11 || sub === 13 || sub === 15 || sub === 16 || sub === 17) r.u32();
            else throw new Error(`wasm: unknown 0xfc op ${sub}`);
            return Kind.Plain;
        }
        case 0xfd: {
            const sub = r.u32();
            if (sub <= 11 || sub === 92 || sub === 93) skipMemarg(r);
            else if (sub === 12 || sub === 13) r.skip(16);
            else if (sub >= 21 && sub <= 34) r.skip(1);
            else if (sub >= 84 && sub <= 91) {
                skipMemarg(r);
                r.skip(1);
            }
            return Kind.Plain;
        }
        case 0xfe: {
            const sub = r.u32();
            if (sub === 3) r.skip(1);
            else skipMemarg(r);
            return Kind.Plain;
        }
        default:
            if (op >= 0x28 && op <= 0x3e) {
                skipMemarg(r);
                return Kind.Plain;
            }
            if ((op >= 0x45 && op <= 0xc4) || op === 0x01 || op === 0x1a || op === 0x1b || op === 0xd1 || op === 0xd3)
                return Kind.Plain;
            throw new Error(`wasm: unknown opcode 0x${op.toString(16)} at ${r.pos - 1}`);
    }
}

class Out {
    private chunks: Uint8Array[] = [];
    private cur: number[] = [];
    length = 0;
    push(...bytes: number[]): void {
        for (const b of bytes) this.cur.push(b);
        this.length += bytes.length;
    }
    bytes(b: Uint8Array): void {
        this.flush();
        this.chunks.push(b);
        this.length += b.length;
    }
    private flush(): void {
        if (this.cur.length) {
            this.chunks.push(Uint8Array.from(this.cur));
            this.cur = [];
        }
    }
    result(): Uint8Array {
        this.flush();
        const out = new Uint8Array(this.length);
        let o = 0;
        for (const c of this.chunks) {
            out.set(c, o);
            o += c.length;
        }
        return out;
    }
}

/**
 * Meters one function body. The count lives in a new i64 local while the function runs (locals are registers,
 * a global is a memory access); it is loaded from the global on entry and after every call, and stored back
 * before every call, return, trap and at the end, so the global is exact whenever control leaves the function
 * or the host looks at it (imports are calls too).
 */
function meterBody(wasm: Uint8Array, start: number, end: number, counter: number, params: number): Uint8Array {
    const r = new Reader(wasm, start);
    const groups = r.u32();
    const groupsStart = r.pos;
    let locals = params;
    for (let i = 0; i < groups; i++) {
        locals += r.u32();
        skipValType(r);
    }
    const L = u32Bytes(locals);
    const cg = u32Bytes(counter);
    const syncOut = [0x20, ...L, 0x24, ...cg];
    const syncIn = [0x23, ...cg, 0x21, ...L];
    const out = new Out();
    out.push(...u32Bytes(groups + 1));
    out.bytes(wasm.subarray(groupsStart, r.pos));
    out.push(0x01, 0x7e, ...syncIn);
    let seg = new Out();
    let rawStart = r.pos;
    let count = 0;
    let check = false; // function entry needs no check; loops do
    let depth = 0; // open blocks; a branch to label `depth` leaves the function
    const leavesFunction = (at: number, op: number): boolean => {
        if (op === 0x0c || op === 0x0d || op === 0xd4 || op === 0xd6) return new Reader(wasm, at + 1).u32() === depth;
        if (op === 0x0e) {
            const lr = new Reader(wasm, at + 1);
            const n = lr.u32();
            for (let i = 0; i <= n; i++) if (lr.u32() === depth) return true;
            return false;
        }
        return op === 0x0f || op === 0x00 || op === 0x12 || op === 0x13 || op === 0x15 || op === 0x08 || op === 0x09 || op === 0x0a || (op === 0x0b && depth === 0);
    };
    while (r.pos < end) {
        const at = r.pos;
        const op = wasm[at];
        const isCall = op === 0x10 || op === 0x11 || op === 0x14;
        const before = isCall || leavesFunction(at, op);
        const kind = instruction(r);
        if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06) depth++;
        else if (op === 0x0b || op === 0x18) depth--;
        count += FREE_OPS.has(op) ? 0 : 1;
        if (before) {
            seg.bytes(wasm.subarray(rawStart, at));
            seg.push(...syncOut);
            rawStart = at;
        }
        if (isCall) {
            seg.bytes(wasm.subarray(rawStart, r.pos));
            seg.push(...syncIn);
            rawStart = r.pos;
        }
        if (kind !== Kind.Plain || r.pos >= end) {
            seg.bytes(wasm.subarray(rawStart, r.pos));
            rawStart = r.pos;
            // if (remaining < 0) { store it; unreachable }
            if (check) out.push(0x20, ...L, 0x42, 0x00, 0x53, 0x04, 0x40, ...syncOut, 0x00, 0x0b);
            // remaining -= count
            if (count > 0) out.push(0x20, ...L, 0x42, ...slebBytes(BigInt(count)), 0x7d, 0x21, ...L);
            out.bytes(seg.result());
            seg = new Out();
            count = 0;
            check = kind === Kind.Loop;
        }
    }
    return out.result();
}

/** number of parameters of every function type (plain `func` types; GC type forms are not supported) */
function typeParams(wasm: Uint8Array, s: Section): number[] {
    const r = new Reader(wasm, s.start);
    const n = r.u32();
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
        const form = r.byte();
        if (form !== 0x60) throw new Error(`wasm: unsupported type form 0x${form.toString(16)}`);
        const np = r.u32();
        for (let j = 0; j < np; j++) skipValType(r);
        const nr = r.u32();
        for (let j = 0; j < nr; j++) skipValType(r);
        out.push(np);
    }
    return out;
}

export type PatchedModule = { wasm: Uint8Array; mutableGlobals: number[] };

const NUMERIC = new Set([0x7f, 0x7e, 0x7d, 0x7c]);

/**
 * Adds the host's accessors and (unless `meter` is false) the instruction counter. Globals the host needs
 * (the counter, the module's own mutable globals such as the stack pointer) stay internal and are reached
 * through small exported getter/setter functions appended after all existing functions: exported mutable
 * globals are slower to access in V8, and appended functions and types shift no existing index.
 */
export function patchWasm(wasm: Uint8Array, opts: { meter?: boolean } = {}): PatchedModule {
    const meter = opts.meter ?? true;
    const secs = sections(wasm);
    let importedGlobals = 0;
    let importedTables = 0;
    let importedFuncs = 0;
    let definedGlobals = 0;
    let definedTables = 0;
    let definedFuncs = 0;
    let types = 0;
    const mutableGlobals: { index: number; type: number }[] = [];
    for (const s of secs) {
        const r = new Reader(wasm, s.start);
        if (s.id === 1) types = r.u32();
        else if (s.id === 3) definedFuncs = r.u32();
        else if (s.id === 2) {
            const n = r.u32();
            for (let i = 0; i < n; i++) {
                r.skip(r.u32());
                r.skip(r.u32());
                const kind = r.byte();
                if (kind === 0) {
                    r.u32();
                    importedFuncs++;
                } else if (kind === 1) {
                    skipValType(r);
                    skipLimits(r);
                    importedTables++;
                } else if (kind === 2) skipLimits(r);
                else if (kind === 3) {
                    const t = r.buf[r.pos];
                    skipValType(r);
                    if (r.byte() & 1) mutableGlobals.push({ index: importedGlobals, type: t });
                    importedGlobals++;
                } else if (kind === 4) {
                    r.byte();
                    r.u32();
                }
            }
        } else if (s.id === 4) definedTables = r.u32();
        else if (s.id === 6) {
            const n = r.u32();
            for (let i = 0; i < n; i++) {
                const t = r.buf[r.pos];
                skipValType(r);
                if (r.byte() & 1) mutableGlobals.push({ index: importedGlobals + i, type: t });
                skipConstExpr(r);
            }
            definedGlobals = n;
        }
    }
    for (const id of [1, 3, 7, 10]) {
        if (!secs.some((s) => s.id === id)) throw new Error(`wasm: module without section ${id} is not a canister`);
    }
    const unsupported = mutableGlobals.find((g) => !NUMERIC.has(g.type));
    if (unsupported) throw new Error(`wasm: mutable global ${unsupported.index} of a reference type is not supported`);

    const counterIdx = importedGlobals + definedGlobals; // counts DOWN: instructions left in this message
    const newGlobals: number[][] = meter ? [[0x7e, 0x01, 0x42, 0x00, 0x0b]] : [];

    // accessor functions: getter () -> t and setter (t) -> () per global
    const newTypes: number[][] = [];
    const typeIndex = new Map<string, number>();
    const sig = (params: number[], results: number[]) => {
        const key = `${params}|${results}`;
        let i = typeIndex.get(key);
        if (i === undefined) {
            i = types + newTypes.length;
            typeIndex.set(key, i);
            newTypes.push([0x60, ...u32Bytes(params.length), ...params, ...u32Bytes(results.length), ...results]);
        }
        return i;
    };
    const newFuncs: number[] = [];
    const newBodies: number[][] = [];
    const newExports: number[][] = [];
    const accessor = (name: string, global: number, type: number) => {
        const g = u32Bytes(global);
        const getter = [0x00, 0x23, ...g, 0x0b];
        const setter = [0x00, 0x20, 0x00, 0x24, ...g, 0x0b];
        newFuncs.push(sig([], [type]));
        newBodies.push(getter);
        newExports.push([...nameBytes(`${name}_get`), 0x00, ...u32Bytes(importedFuncs + definedFuncs + newFuncs.length - 1)]);
        newFuncs.push(sig([type], []));
        newBodies.push(setter);
        newExports.push([...nameBytes(`${name}_set`), 0x00, ...u32Bytes(importedFuncs + definedFuncs + newFuncs.length - 1)]);
    };
    if (importedTables + definedTables > 0) newExports.push([...nameBytes(TABLE_EXPORT), 0x01, 0x00]);
    for (const g of mutableGlobals) accessor(GLOBAL_EXPORT_PREFIX + g.index, g.index, g.type);
    if (meter) accessor(REMAINING_EXPORT, counterIdx, 0x7e);

    const out = new Out();
    out.bytes(wasm.subarray(0, 8));
    const emit = (id: number, payload: Uint8Array) => {
        out.push(id, ...u32Bytes(payload.length));
        out.bytes(payload);
    };
    const appendVec = (s: Section | undefined, extra: number[][]): Uint8Array => {
        const body = new Out();
        let count = 0;
        let rest: Uint8Array = new Uint8Array(0);
        if (s) {
            const r = new Reader(wasm, s.start);
            count = r.u32();
            rest = wasm.subarray(r.pos, s.end);
        }
        body.push(...u32Bytes(count + extra.length));
        body.bytes(rest);
        for (const e of extra) body.push(...e);
        return body.result();
    };
    const hasGlobal = secs.some((s) => s.id === 6);
    for (const s of secs) {
        // a missing global section goes right before the export section (sections keep their order)
        if (!hasGlobal && newGlobals.length && s.id === 7) emit(6, appendVec(undefined, newGlobals));
        if (s.id === 1) emit(1, appendVec(s, newTypes));
        else if (s.id === 3) emit(3, appendVec(s, newFuncs.map((t) => u32Bytes(t))));
        else if (s.id === 6) emit(6, appendVec(s, newGlobals));
        else if (s.id === 7) emit(7, appendVec(s, newExports));
        else if (s.id === 10) {
            const r = new Reader(wasm, s.start);
            const n = r.u32();
            const body = new Out();
            body.push(...u32Bytes(n + newBodies.length));
            if (meter) {
                const params = typeParams(wasm, secs.find((x) => x.id === 1)!);
                const fr = new Reader(wasm, secs.find((x) => x.id === 3)!.start);
                fr.u32();
                for (let i = 0; i < n; i++) {
                    const size = r.u32();
                    const fn = meterBody(wasm, r.pos, r.pos + size, counterIdx, params[fr.u32()]);
                    body.push(...u32Bytes(fn.length));
                    body.bytes(fn);
                    r.pos += size;
                }
            } else body.bytes(wasm.subarray(r.pos, s.end));
            for (const b of newBodies) body.push(...u32Bytes(b.length), ...b);
            emit(10, body.result());
        } else {
            out.push(s.id, ...u32Bytes(s.end - s.start));
            out.bytes(wasm.subarray(s.start, s.end));
        }
    }
    return { wasm: out.result(), mutableGlobals: mutableGlobals.map((g) => g.index) };
}
