// One instantiated canister module plus the ic0 System API it imports. Executes one message at a time
// (an entry point export or a table callback) and either commits it or rolls back heap, globals and
// stable memory on a trap. Everything a message may change outside the wasm is collected in its
// ExecContext and applied by the engine only when the message commits.
import { Trap } from './errors.ts';
import { PAGE, StableMemory } from './stable-memory.ts';
import { GLOBAL_EXPORT_PREFIX, REMAINING_EXPORT, TABLE_EXPORT } from './wasm-patch.ts';

/** execution modes of the interface spec: I init/post_upgrade, G pre_upgrade, U update, RQ replicated query,
 *  NRQ non-replicated query, Ry/Rt reply/reject callback, C cleanup, T system task (timer/heartbeat), F inspect */
export type Mode = 'I' | 'G' | 'U' | 'RQ' | 'NRQ' | 'Ry' | 'Rt' | 'C' | 'T' | 'F';

export type OutgoingCall = {
    callee: Uint8Array;
    method: string;
    replyFun: number;
    replyEnv: number;
    rejectFun: number;
    rejectEnv: number;
    cleanup: { fun: number; env: number } | null;
    args: Uint8Array[];
    cycles: bigint;
};

export type ExecContext = {
    mode: Mode;
    canisterId: Uint8Array;
    caller: Uint8Array;
    arg: Uint8Array;
    methodName: string;
    time: bigint;
    canisterVersion: bigint;
    controllers: Uint8Array[];
    /** whether the call context was already answered before this message */
    responded: boolean;
    rejectCode: number;
    rejectMessage: string;
    cyclesAvailable: bigint;
    cyclesRefunded: bigint;
    /** working copy of the canister balance (committed only if the message commits) */
    balance: bigint;
    globalTimer: bigint;
    /** the certificate for data_certificate_copy (NRQ only); resolved on first use, as signing one costs ~15 ms */
    dataCertificate: () => Uint8Array | null;
    callContextInstructions: bigint;
    instructionLimit: bigint;
    debugPrint: (line: string) => void;
    // outputs
    replyChunks: Uint8Array[];
    response: { reply: Uint8Array } | { reject: string } | null;
    calls: OutgoingCall[];
    building: OutgoingCall | null;
    certifiedData: Uint8Array | null;
    instructions: bigint;
};

export type ExecOutcome = { ok: true } | { ok: false; message: string; limitExceeded: boolean };

const ALL: Mode[] = ['I', 'G', 'U', 'RQ', 'NRQ', 'Ry', 'Rt', 'C', 'T', 'F'];
const RESPONDING: Mode[] = ['U', 'RQ', 'NRQ', 'Ry', 'Rt'];
const CALLING: Mode[] = ['U', 'Ry', 'Rt', 'T'];
const MUTATING: Mode[] = ['I', 'G', 'U', 'Ry', 'Rt', 'C', 'T'];
const MODE_NAMES: Record<Mode, string> = {
    I: 'init',
    G: 'pre_upgrade',
    U: 'update',
    RQ: 'replicated query',
    NRQ: 'non-replicated query',
    Ry: 'reply callback',
    Rt: 'reject callback',
    C: 'cleanup',
    T: 'system task',
    F: 'inspect message'
};
const MAX_CYCLES = (1n << 128n) - 1n;
/** replies and inter-canister arguments are limited to 2 MiB on the IC */
const MAX_PAYLOAD = 2 * 1024 * 1024;
/** per-call overhead and per-byte cost charged for System API calls (the IC charges both) */
const API_BASE_COST = 50n;
const BYTE_COST = 1n;
/**
 * Calibration of the raw count (1 per executed wasm instruction, block/loop/else/end free) to the IC's
 * instruction counter, which also weighs calls, system API fees and some costly instructions: Azle 0.33's
 * published hello_world `setMessage` figure is 1_395_312 instructions, the raw count here is 1_149_806
 * (replica/README.md). Reported counts, performance_counter and limits all use raw * NUM / DEN.
 */
export const CALIBRATION_NUM = 12135n;
export const CALIBRATION_DEN = 10000n;

export class CanisterRuntime {
    readonly memory: WebAssembly.Memory;
    private readonly table: WebAssembly.Table | undefined;
    private readonly globals: { get: () => number | bigint; set: (v: number | bigint) => void }[];
    private readonly remainingGet: (() => bigint) | undefined;
    private readonly remainingSet: ((v: bigint) => void) | undefined;
    /** the raw instruction budget the running message started with */
    private budget = 0n;
    private readonly exports: WebAssembly.Exports;
    private ctx: ExecContext | null = null;
    private heapSnapshot = new Uint8Array(0);
    private globalsSnapshot: (number | bigint)[] = [];
    private committedValid = false;
    /** wall time spent copying the heap since the last takeCopyMs() */
    private copyMs = 0;

    private constructor(
        instance: WebAssembly.Instance,
        readonly stable: StableMemory
    ) {
        this.exports = instance.exports;
        this.memory = this.exports.memory as WebAssembly.Memory;
        if (!(this.memory instanceof WebAssembly.Memory)) throw new Trap('canister module does not export its memory');
        this.table = this.exports[TABLE_EXPORT] as WebAssembly.Table | undefined;
        this.globals = Object.keys(this.exports)
            .filter((k) => k.startsWith(GLOBAL_EXPORT_PREFIX) && k.endsWith('_get'))
            .map((k) => {
                const base = k.slice(0, -'_get'.length);
                return {
                    get: this.exports[k] as () => number | bigint,
                    set: this.exports[`${base}_set`] as (v: number | bigint) => void
                };
            });
        this.remainingGet = this.exports[`${REMAINING_EXPORT}_get`] as (() => bigint) | undefined;
        this.remainingSet = this.exports[`${REMAINING_EXPORT}_set`] as ((v: bigint) => void) | undefined;
    }

    static instantiate(module: WebAssembly.Module, stable: StableMemory): CanisterRuntime {
        let self: CanisterRuntime | undefined;
        const imports = systemApi(() => {
            if (!self || !self.ctx) throw new Trap('System API called outside of a message');
            return { rt: self, ctx: self.ctx };
        });
        const unknown = WebAssembly.Module.imports(module).filter((i) => i.module !== 'ic0' || !(i.name in imports.ic0));
        if (unknown.length) {
            throw new Trap(`Wasm module imports unknown functions: ${unknown.map((i) => `${i.module}.${i.name}`).join(', ')}`);
        }
        const instance = new WebAssembly.Instance(module, imports);
        self = new CanisterRuntime(instance, stable);
        return self;
    }

    /**
     * A new instance whose heap and mutable globals are those given (a snapshot being loaded); the module's
     * data segments written by instantiation are overwritten by the heap copy.
     */
    static withState(module: WebAssembly.Module, stable: StableMemory, heap: Uint8Array, globals: (number | bigint)[]): CanisterRuntime {
        const rt = CanisterRuntime.instantiate(module, stable);
        const missing = heap.length - rt.memory.buffer.byteLength;
        if (missing > 0) rt.memory.grow(Math.ceil(missing / PAGE));
        const live = new Uint8Array(rt.memory.buffer);
        live.set(heap);
        live.fill(0, heap.length);
        if (globals.length !== rt.globals.length) throw new Trap('snapshot globals do not match the module');
        rt.globals.forEach((g, i) => g.set(globals[i]!));
        return rt;
    }

    /** copies of the heap and mutable globals as they are now (between messages: the committed state) */
    captureState(): { heap: Uint8Array; globals: (number | bigint)[] } {
        return { heap: new Uint8Array(this.memory.buffer).slice(), globals: this.globals.map((g) => g.get()) };
    }

    hasExport(name: string): boolean {
        return typeof this.exports[name] === 'function';
    }

    exportNames(): string[] {
        return Object.keys(this.exports);
    }

    heapBytes(): number {
        return this.memory.buffer.byteLength;
    }

    /** instructions used so far in the running message */
    instructionsNow(): bigint {
        return this.remainingGet ? ((this.budget - this.remainingGet()) * CALIBRATION_NUM) / CALIBRATION_DEN : 0n;
    }

    private overBudget(): boolean {
        return this.remainingGet ? this.remainingGet() < 0n : false;
    }

    charge(n: bigint): void {
        if (this.remainingGet && this.remainingSet) this.remainingSet(this.remainingGet() - n);
    }

    /**
     * Runs one message. `target` is an export name or a table index (callbacks). With `stableTxn` false the
     * caller manages the stable-memory journal (install/upgrade span several executions).
     */
    execute(
        target: string | number,
        args: number[],
        ctx: ExecContext,
        opts: { stableTxn?: boolean; discard?: boolean } = {}
    ): ExecOutcome {
        const stableTxn = opts.stableTxn ?? true;
        const fn =
            typeof target === 'string'
                ? (this.exports[target] as ((...a: number[]) => unknown) | undefined)
                : (this.table?.get(target) as ((...a: number[]) => unknown) | null | undefined);
        if (typeof fn !== 'function') return { ok: false, message: `no function ${String(target)}`, limitExceeded: false };
        // `committed` holds the heap as of the last committed message: a trap or a query restores it, a commit
        // refreshes it (one heap copy per message either way). After a commit the live heap is the committed
        // state, so the copy is deferred: to idle time (settle) or, at the latest, to here.
        if (!this.committedValid) this.snapshotCommitted();
        if (stableTxn) this.stable.begin();
        this.budget = (ctx.instructionLimit * CALIBRATION_DEN) / CALIBRATION_NUM;
        this.remainingSet?.(this.budget);
        this.ctx = ctx;
        let outcome: ExecOutcome;
        try {
            fn(...args);
            outcome = { ok: true };
        } catch (e) {
            const limitExceeded = this.overBudget();
            outcome = { ok: false, message: trapMessage(e), limitExceeded };
        } finally {
            this.ctx = null;
        }
        ctx.instructions = this.instructionsNow();
        if (outcome.ok && this.overBudget()) {
            outcome = { ok: false, message: 'instruction limit exceeded', limitExceeded: true };
        }
        if (outcome.ok && !opts.discard) {
            if (stableTxn) this.stable.commit();
            this.committedValid = false;
        } else {
            this.restoreCommitted();
            if (stableTxn) this.stable.rollback();
        }
        return outcome;
    }

    /** takes the deferred copy of the committed heap now (the engine calls this when idle; not counted in copy time) */
    settle(): void {
        if (this.committedValid) return;
        const counted = this.copyMs;
        this.snapshotCommitted();
        this.copyMs = counted;
    }

    /** heap copy time (ms) of the messages run since the last call */
    takeCopyMs(): number {
        const ms = this.copyMs;
        this.copyMs = 0;
        return ms;
    }

    private snapshotCommitted(): void {
        const started = performance.now();
        const heap = new Uint8Array(this.memory.buffer);
        if (this.heapSnapshot.length !== heap.length) this.heapSnapshot = new Uint8Array(heap.length);
        this.heapSnapshot.set(heap);
        this.globalsSnapshot = this.globals.map((g) => g.get());
        this.committedValid = true;
        this.copyMs += performance.now() - started;
    }

    /** puts heap and globals back to the last committed state (memory that grew since stays, zeroed) */
    private restoreCommitted(): void {
        const started = performance.now();
        const now = new Uint8Array(this.memory.buffer);
        now.set(this.heapSnapshot);
        if (now.length > this.heapSnapshot.length) now.fill(0, this.heapSnapshot.length);
        this.globals.forEach((g, i) => g.set(this.globalsSnapshot[i]));
        this.copyMs += performance.now() - started;
    }
}

function trapMessage(e: unknown): string {
    if (e instanceof Trap) return e.message;
    if (e instanceof WebAssembly.RuntimeError) return `Canister trapped: ${e.message}`;
    if (e instanceof RangeError) return `Canister trapped: ${e.message}`; // e.g. stack overflow
    return `Canister trapped: ${e instanceof Error ? e.message : String(e)}`;
}

/** the ic0 import object; `cur` gives the running runtime and message context (or traps) */
function systemApi(cur: () => { rt: CanisterRuntime; ctx: ExecContext }) {
    const allowed = (name: string, modes: Mode[]) => {
        const c = cur();
        if (!modes.includes(c.ctx.mode)) {
            throw new Trap(`Canister violated contract: "ic0_${name}" cannot be executed in ${MODE_NAMES[c.ctx.mode]} mode`);
        }
        c.rt.charge(API_BASE_COST);
        return c;
    };
    const mem = (rt: CanisterRuntime) => new Uint8Array(rt.memory.buffer);
    const readBytes = (rt: CanisterRuntime, src: number, size: number): Uint8Array => {
        src >>>= 0;
        size >>>= 0;
        const m = mem(rt);
        if (src + size > m.length) throw new Trap(`Canister trapped: heap out of bounds (read ${src}+${size})`);
        rt.charge(BigInt(size) * BYTE_COST);
        return m.slice(src, src + size);
    };
    const copyOut = (rt: CanisterRuntime, data: Uint8Array, dst: number, offset: number, size: number, what: string) => {
        dst >>>= 0;
        offset >>>= 0;
        size >>>= 0;
        if (offset + size > data.length) throw new Trap(`Canister trapped: ${what} out of bounds (${offset}+${size} > ${data.length})`);
        const m = mem(rt);
        if (dst + size > m.length) throw new Trap(`Canister trapped: heap out of bounds (write ${dst}+${size})`);
        rt.charge(BigInt(size) * BYTE_COST);
        m.set(data.subarray(offset, offset + size), dst);
    };
    const write128 = (rt: CanisterRuntime, v: bigint, dst: number) => {
        const b = new Uint8Array(16);
        for (let i = 0; i < 16; i++) b[i] = Number((v >> BigInt(8 * i)) & 0xffn);
        copyOut(rt, b, dst, 0, 16, 'u128');
    };
    const u128 = (high: bigint, low: bigint) => (BigInt.asUintN(64, high) << 64n) | BigInt.asUintN(64, low);
    const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);
    const respond = (ctx: ExecContext, name: string) => {
        if (ctx.responded || ctx.response) throw new Trap(`Canister violated contract: ic0.${name}: the call is already replied`);
    };
    const stableCheck = (rt: CanisterRuntime, offset: bigint, size: bigint) => {
        if (offset + size > BigInt(rt.stable.size) * BigInt(PAGE)) {
            throw new Trap('Canister trapped: stable memory out of bounds');
        }
    };

    const ic0 = {
        msg_arg_data_size: () => {
            const { ctx } = allowed('msg_arg_data_size', ['I', 'U', 'RQ', 'NRQ', 'Ry', 'F']);
            return ctx.arg.length;
        },
        msg_arg_data_copy: (dst: number, offset: number, size: number) => {
            const { rt, ctx } = allowed('msg_arg_data_copy', ['I', 'U', 'RQ', 'NRQ', 'Ry', 'F']);
            copyOut(rt, ctx.arg, dst, offset, size, 'msg_arg_data_copy');
        },
        msg_caller_size: () => allowed('msg_caller_size', ALL).ctx.caller.length,
        msg_caller_copy: (dst: number, offset: number, size: number) => {
            const { rt, ctx } = allowed('msg_caller_copy', ALL);
            copyOut(rt, ctx.caller, dst, offset, size, 'msg_caller_copy');
        },
        msg_reject_code: () => {
            const { ctx } = allowed('msg_reject_code', ['Ry', 'Rt']);
            return ctx.mode === 'Ry' ? 0 : ctx.rejectCode;
        },
        msg_reject_msg_size: () => new TextEncoder().encode(allowed('msg_reject_msg_size', ['Rt']).ctx.rejectMessage).length,
        msg_reject_msg_copy: (dst: number, offset: number, size: number) => {
            const { rt, ctx } = allowed('msg_reject_msg_copy', ['Rt']);
            copyOut(rt, new TextEncoder().encode(ctx.rejectMessage), dst, offset, size, 'msg_reject_msg_copy');
        },
        msg_method_name_size: () => new TextEncoder().encode(allowed('msg_method_name_size', ['F']).ctx.methodName).length,
        msg_method_name_copy: (dst: number, offset: number, size: number) => {
            const { rt, ctx } = allowed('msg_method_name_copy', ['F']);
            copyOut(rt, new TextEncoder().encode(ctx.methodName), dst, offset, size, 'msg_method_name_copy');
        },
        accept_message: () => {
            const { ctx } = allowed('accept_message', ['F']);
            if (ctx.response) throw new Trap('Canister violated contract: ic0.accept_message called twice');
            ctx.response = { reply: new Uint8Array(0) };
        },
        msg_reply_data_append: (src: number, size: number) => {
            const { rt, ctx } = allowed('msg_reply_data_append', RESPONDING);
            respond(ctx, 'msg_reply_data_append');
            const total = ctx.replyChunks.reduce((n, c) => n + c.length, 0) + (size >>> 0);
            if (total > MAX_PAYLOAD) {
                throw new Trap(`Canister trapped: ic0.msg_reply_data_append: application payload size (${total}) cannot be larger than ${MAX_PAYLOAD}`);
            }
            ctx.replyChunks.push(readBytes(rt, src, size));
        },
        msg_reply: () => {
            const { ctx } = allowed('msg_reply', RESPONDING);
            respond(ctx, 'msg_reply');
            const total = ctx.replyChunks.reduce((n, c) => n + c.length, 0);
            const out = new Uint8Array(total);
            let o = 0;
            for (const c of ctx.replyChunks) {
                out.set(c, o);
                o += c.length;
            }
            ctx.replyChunks = [];
            ctx.response = { reply: out };
        },
        msg_reject: (src: number, size: number) => {
            const { rt, ctx } = allowed('msg_reject', RESPONDING);
            respond(ctx, 'msg_reject');
            ctx.response = { reject: utf8(readBytes(rt, src, size)) };
        },
        msg_cycles_available128: (dst: number) => {
            const { rt, ctx } = allowed('msg_cycles_available128', ['U', 'RQ', 'Ry', 'Rt']);
            write128(rt, ctx.responded ? 0n : ctx.cyclesAvailable, dst);
        },
        msg_cycles_refunded128: (dst: number) => {
            const { rt, ctx } = allowed('msg_cycles_refunded128', ['Ry', 'Rt']);
            write128(rt, ctx.cyclesRefunded, dst);
        },
        msg_cycles_accept128: (maxHigh: bigint, maxLow: bigint, dst: number) => {
            const { rt, ctx } = allowed('msg_cycles_accept128', ['U', 'Ry', 'Rt']);
            const want = u128(maxHigh, maxLow);
            const take = ctx.responded ? 0n : want < ctx.cyclesAvailable ? want : ctx.cyclesAvailable;
            ctx.cyclesAvailable -= take;
            ctx.balance += take;
            write128(rt, take, dst);
        },
        canister_self_size: () => allowed('canister_self_size', ALL).ctx.canisterId.length,
        canister_self_copy: (dst: number, offset: number, size: number) => {
            const { rt, ctx } = allowed('canister_self_copy', ALL);
            copyOut(rt, ctx.canisterId, dst, offset, size, 'canister_self_copy');
        },
        canister_cycle_balance128: (dst: number) => {
            const { rt, ctx } = allowed('canister_cycle_balance128', ALL);
            write128(rt, ctx.balance, dst);
        },
        canister_liquid_cycle_balance128: (dst: number) => {
            const { rt, ctx } = allowed('canister_liquid_cycle_balance128', ALL);
            write128(rt, ctx.balance, dst);
        },
        canister_version: () => allowed('canister_version', ALL).ctx.canisterVersion,
        time: () => allowed('time', ALL).ctx.time,
        global_timer_set: (ts: bigint) => {
            const { ctx } = allowed('global_timer_set', MUTATING);
            const prev = ctx.globalTimer;
            ctx.globalTimer = BigInt.asUintN(64, ts);
            return prev;
        },
        performance_counter: (type: number) => {
            const { rt, ctx } = allowed('performance_counter', ALL);
            if (type === 0) return rt.instructionsNow();
            if (type === 1) return ctx.callContextInstructions + rt.instructionsNow();
            throw new Trap(`Canister trapped: performance_counter: unknown counter type ${type}`);
        },
        in_replicated_execution: () => (allowed('in_replicated_execution', ALL).ctx.mode === 'NRQ' ? 0 : 1),
        is_controller: (src: number, size: number) => {
            const { rt, ctx } = allowed('is_controller', ALL);
            const p = readBytes(rt, src, size);
            if (p.length > 29) throw new Trap('Canister trapped: is_controller: invalid principal');
            return ctx.controllers.some((c) => equal(c, p)) ? 1 : 0;
        },
        certified_data_set: (src: number, size: number) => {
            const { rt, ctx } = allowed('certified_data_set', MUTATING);
            if (size >>> 0 > 32) throw new Trap('Canister trapped: certified_data_set: data is longer than 32 bytes');
            ctx.certifiedData = readBytes(rt, src, size);
        },
        data_certificate_present: () => (allowed('data_certificate_present', ALL).ctx.dataCertificate() ? 1 : 0),
        data_certificate_size: () => {
            const { ctx } = allowed('data_certificate_size', ['NRQ']);
            const cert = ctx.dataCertificate();
            if (!cert) throw new Trap('Canister trapped: no data certificate available');
            return cert.length;
        },
        data_certificate_copy: (dst: number, offset: number, size: number) => {
            const { rt, ctx } = allowed('data_certificate_copy', ['NRQ']);
            const cert = ctx.dataCertificate();
            if (!cert) throw new Trap('Canister trapped: no data certificate available');
            copyOut(rt, cert, dst, offset, size, 'data_certificate_copy');
        },
        debug_print: (src: number, size: number) => {
            const { rt, ctx } = allowed('debug_print', ALL);
            ctx.debugPrint(utf8(readBytes(rt, src, size)));
        },
        trap: (src: number, size: number) => {
            const { rt } = allowed('trap', ALL);
            throw new Trap(`Canister called \`ic0.trap\` with message: '${utf8(readBytes(rt, src, size))}'`);
        },
        cycles_burn128: (high: bigint, low: bigint, dst: number) => {
            const { rt, ctx } = allowed('cycles_burn128', MUTATING);
            const want = u128(high, low);
            const burn = want < ctx.balance ? want : ctx.balance;
            ctx.balance -= burn;
            write128(rt, burn, dst);
        },
        cost_call: (methodNameSize: bigint, payloadSize: bigint, dst: number) => {
            const { rt } = allowed('cost_call', ALL);
            // 13-node subnet: 260_000 per call + 1_000 per byte of method name and payload
            write128(rt, 260_000n + 1_000n * (BigInt.asUintN(64, methodNameSize) + BigInt.asUintN(64, payloadSize)), dst);
        },
        // 32-bit stable memory API (older Rust/Motoko canisters): limited to 4 GiB
        stable_size: () => {
            const { rt } = allowed('stable_size', ALL);
            if (rt.stable.size > 65536) throw new Trap('Canister trapped: stable_size: stable memory is larger than 4 GiB, use stable64_size');
            return rt.stable.size;
        },
        stable_grow: (delta: number) => allowed('stable_grow', ALL).rt.stable.grow(delta >>> 0, 65536),
        stable_read: (dst: number, offset: number, size: number) => {
            const { rt } = allowed('stable_read', ALL);
            stableCheck(rt, BigInt(offset >>> 0), BigInt(size >>> 0));
            const m = mem(rt);
            if ((dst >>> 0) + (size >>> 0) > m.length) throw new Trap('Canister trapped: heap out of bounds (stable_read)');
            rt.charge(BigInt(size >>> 0) * BYTE_COST);
            rt.stable.read(offset >>> 0, m.subarray(dst >>> 0, (dst >>> 0) + (size >>> 0)));
        },
        stable_write: (offset: number, src: number, size: number) => {
            const { rt } = allowed('stable_write', ALL);
            stableCheck(rt, BigInt(offset >>> 0), BigInt(size >>> 0));
            const m = mem(rt);
            if ((src >>> 0) + (size >>> 0) > m.length) throw new Trap('Canister trapped: heap out of bounds (stable_write)');
            rt.charge(BigInt(size >>> 0) * BYTE_COST);
            rt.stable.write(offset >>> 0, m.subarray(src >>> 0, (src >>> 0) + (size >>> 0)));
        },
        canister_status: () => {
            allowed('canister_status', ALL);
            return 1; // running: a canister that is executing a message is running (stopping is not modelled)
        },
        msg_deadline: () => {
            allowed('msg_deadline', ['U', 'RQ', 'NRQ', 'Ry', 'Rt']);
            return 0n; // every call here is a guaranteed-response call
        },
        cost_create_canister: (dst: number) => {
            const { rt } = allowed('cost_create_canister', ALL);
            write128(rt, 500_000_000_000n, dst);
        },
        cost_http_request: (requestSize: bigint, maxResponseBytes: bigint, dst: number) => {
            const { rt } = allowed('cost_http_request', ALL);
            const n = 13n;
            const fee = (3_000_000n + 60_000n * n) * n + 400n * n * BigInt.asUintN(64, requestSize) + 800n * n * BigInt.asUintN(64, maxResponseBytes);
            write128(rt, fee, dst);
        },
        cost_sign_with_ecdsa: (_src: number, _size: number, curve: number, dst: number) => {
            const { rt } = allowed('cost_sign_with_ecdsa', ALL);
            if (curve !== 0) return 1; // only secp256k1
            write128(rt, 26_153_846_153n, dst);
            return 0;
        },
        stable64_size: () => BigInt(allowed('stable64_size', ALL).rt.stable.size),
        stable64_grow: (delta: bigint) => {
            const { rt } = allowed('stable64_grow', ALL);
            const r = rt.stable.grow(Number(BigInt.asUintN(64, delta)));
            return BigInt(r);
        },
        stable64_read: (dst: bigint, offset: bigint, size: bigint) => {
            const { rt } = allowed('stable64_read', ALL);
            const d = Number(BigInt.asUintN(64, dst));
            const n = Number(BigInt.asUintN(64, size));
            stableCheck(rt, BigInt.asUintN(64, offset), BigInt(n));
            const m = mem(rt);
            if (d + n > m.length) throw new Trap('Canister trapped: heap out of bounds (stable64_read)');
            rt.charge(BigInt(n) * BYTE_COST);
            rt.stable.read(Number(BigInt.asUintN(64, offset)), m.subarray(d, d + n));
        },
        stable64_write: (offset: bigint, src: bigint, size: bigint) => {
            const { rt } = allowed('stable64_write', ALL);
            const s = Number(BigInt.asUintN(64, src));
            const n = Number(BigInt.asUintN(64, size));
            stableCheck(rt, BigInt.asUintN(64, offset), BigInt(n));
            const m = mem(rt);
            if (s + n > m.length) throw new Trap('Canister trapped: heap out of bounds (stable64_write)');
            rt.charge(BigInt(n) * BYTE_COST);
            rt.stable.write(Number(BigInt.asUintN(64, offset)), m.subarray(s, s + n));
        },
        call_new: (
            calleeSrc: number,
            calleeSize: number,
            nameSrc: number,
            nameSize: number,
            replyFun: number,
            replyEnv: number,
            rejectFun: number,
            rejectEnv: number
        ) => {
            const { rt, ctx } = allowed('call_new', CALLING);
            ctx.building = {
                callee: readBytes(rt, calleeSrc, calleeSize),
                method: utf8(readBytes(rt, nameSrc, nameSize)),
                replyFun: replyFun >>> 0,
                replyEnv: replyEnv >>> 0,
                rejectFun: rejectFun >>> 0,
                rejectEnv: rejectEnv >>> 0,
                cleanup: null,
                args: [],
                cycles: 0n
            };
        },
        call_on_cleanup: (fun: number, env: number) => {
            const { ctx } = allowed('call_on_cleanup', CALLING);
            if (!ctx.building) throw new Trap('Canister violated contract: ic0.call_on_cleanup without call_new');
            if (ctx.building.cleanup) throw new Trap('Canister violated contract: ic0.call_on_cleanup called twice');
            ctx.building.cleanup = { fun: fun >>> 0, env: env >>> 0 };
        },
        call_data_append: (src: number, size: number) => {
            const { rt, ctx } = allowed('call_data_append', CALLING);
            if (!ctx.building) throw new Trap('Canister violated contract: ic0.call_data_append without call_new');
            const total = ctx.building.args.reduce((n, c) => n + c.length, 0) + (size >>> 0);
            if (total > MAX_PAYLOAD) {
                throw new Trap(`Canister trapped: ic0.call_data_append: application payload size (${total}) cannot be larger than ${MAX_PAYLOAD}`);
            }
            ctx.building.args.push(readBytes(rt, src, size));
        },
        call_cycles_add128: (high: bigint, low: bigint) => {
            const { ctx } = allowed('call_cycles_add128', CALLING);
            if (!ctx.building) throw new Trap('Canister violated contract: ic0.call_cycles_add128 without call_new');
            const amount = u128(high, low);
            if (amount > ctx.balance) throw new Trap('Canister trapped: call_cycles_add128: insufficient cycles balance');
            ctx.balance -= amount;
            ctx.building.cycles += amount;
            if (ctx.building.cycles > MAX_CYCLES) ctx.building.cycles = MAX_CYCLES;
        },
        call_with_best_effort_response: (_timeoutSeconds: number) => {
            const { ctx } = allowed('call_with_best_effort_response', CALLING);
            if (!ctx.building) throw new Trap('Canister violated contract: ic0.call_with_best_effort_response without call_new');
        },
        call_perform: () => {
            const { ctx } = allowed('call_perform', CALLING);
            if (!ctx.building) throw new Trap('Canister violated contract: ic0.call_perform without call_new');
            ctx.calls.push(ctx.building);
            ctx.building = null;
            return 0;
        }
    };
    return { ic0 };
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
}
