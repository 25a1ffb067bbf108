/**
 * Execution engine of the local replica: runs real canister wasm with the IC's message semantics.
 *
 * API (used by replica/src/http and replica/src/index.ts; also in docs/contracts.md section 5):
 *   const engine = await Engine.create({ stateDir?, log?, tickMs?, instructionLimits?, ecdsaLatencyMs? })  // restores canisters from stateDir
 *   engine.createCanister({ controllers?, cycles?, sender? })     -> Promise<Principal>
 *   engine.installCode(id, wasm, arg, 'install'|'reinstall'|'upgrade', sender?) -> Promise<void> (throws EngineError;
 *                                              with a sender, only a controller may install)
 *   engine.query(id, method, arg, sender)   -> Promise<CallResult>  (state changes discarded)
 *   engine.acceptIngress(id, method, arg, sender) -> Reject | null  (the IC's ingress filter: inspect_message,
 *                                              controllers-only management methods)
 *   engine.update(id, method, arg, sender, { accepted? }) -> Promise<CallResult>  (passes acceptIngress unless
 *                                              `accepted`; resolves when the call is answered;
 *                                              id = aaaaa-aa routes to the management canister)
 *   engine.effectiveCanisterId(method, arg) -> Principal | undefined   (target of a management call)
 *   engine.hasCanister(id), engine.canisterIds(), engine.controllers(id), engine.moduleHash(id)
 *   engine.now() -> ns; await engine.advanceTime(ms) (runs due timers to quiescence)
 *   engine.certifiedData(id); engine.setDataCertificateProvider(fn)
 *   engine.metrics(); engine.metricsText(); await engine.close()
 *
 * Scheduling: one message executes at a time (wasm runs synchronously); a FIFO queue holds requests and
 * responses between canisters, global timers run when the queue is empty. Management work that completes
 * later (compiling a module, outcalls, raw_rand, delayed signatures) is answered from a later scheduler run.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Principal } from '@dfinity/principal';
import { newCanisterState, type CanisterState } from './canister-state.ts';
import { canisterInfo, captureSnapshot, dropSnapshot, findSnapshot, restoreSnapshot, snapshotInfo, uninstall, updateSettings } from './canister-ops.ts';
import { CanisterStore } from './canister-store.ts';
import { EngineError, RejectCode, Trap, type CallResult, type Reject } from './errors.ts';
import { handleManagement, managementEffectiveCanisterId, notControllerIngress, refuseManagementIngress } from './management.ts';
import type { InstallMode, ManagementPort } from './management-port.ts';
import { MessageLog, metricsText, type EngineMetrics, type MessageMetric } from './metrics.ts';
import { CanisterRuntime, type ExecContext, type ExecOutcome, type Mode, type OutgoingCall } from './runtime.ts';
import { StableMemory } from './stable-memory.ts';
import { patchWasm } from './wasm-patch.ts';
import { concat } from '../bytes.ts';

export { EngineError, RejectCode, type CallResult } from './errors.ts';
export type { EngineMetrics, MessageMetric } from './metrics.ts';
export type { CanisterState } from './canister-state.ts';
export type { InstallMode } from './management-port.ts';

export const INSTRUCTION_LIMITS = {
    update: 40_000_000_000n,
    query: 5_000_000_000n,
    install: 300_000_000_000n,
    /** canister_inspect_message (the IC's limit for message acceptance calls) */
    inspect: 200_000_000n
};
export const DEFAULT_CYCLES = 100_000_000_000_000n;
const MANAGEMENT = Principal.managementCanister();
const MAX_MESSAGES_PER_PUMP = 100_000;
const HEARTBEAT_INTERVAL_NS = 1_000_000_000n;
/** how long a stop_canister call waits for the canister to stop before it fails (replica time) */
const STOP_TIMEOUT_NS = 5n * 60n * 1_000_000_000n;
/** Candid encoding of an empty reply: "DIDL", no types, no values */
const EMPTY_REPLY = [0x44, 0x49, 0x44, 0x4c, 0x00, 0x00];

export type EngineOptions = {
    stateDir?: string;
    log?: (line: string) => void;
    /** real time (default) or a fixed start; advanceTime adds to either */
    startTimeNs?: bigint;
    /** how often due timers are checked in real time (ms); 0 disables the ticker */
    tickMs?: number;
    /** instruction limits (default: the IC's); tests lower them to exercise the limit quickly */
    instructionLimits?: Partial<typeof INSTRUCTION_LIMITS>;
    /** real-time delay before a sign_with_ecdsa reply (default 0; on mainnet a threshold signature takes seconds) */
    ecdsaLatencyMs?: number;
};

export type Origin =
    | { kind: 'ingress'; resolve: (r: CallResult) => void }
    | { kind: 'canister'; callbackId: number }
    | { kind: 'system' };

type CallContext = {
    canister: CanisterState;
    origin: Origin;
    responded: boolean;
    outstanding: number;
    /** answered and no call outstanding: it no longer keeps a stopping canister from stopping */
    closed: boolean;
    cyclesAvailable: bigint;
    instructions: bigint;
};

type Callback = { id: number; canister: CanisterState; generation: number; ctx: CallContext; call: OutgoingCall };

type RequestMessage = {
    kind: 'request';
    callee: Principal;
    method: string;
    arg: Uint8Array;
    caller: Principal;
    cycles: bigint;
    origin: Origin;
};
type ResponseMessage = { kind: 'response'; callbackId: number; result: CallResult; refund: bigint };
type Message = RequestMessage | ResponseMessage;

function hex(b: Uint8Array): string {
    return Buffer.from(b).toString('hex');
}

/** calls to a stopping or stopped canister are rejected (IC0509 / IC0508) */
function notRunning(c: CanisterState): Reject {
    return { code: RejectCode.CANISTER_ERROR, message: `Canister ${c.id.toText()} is ${c.status}`, errorCode: c.status === 'stopped' ? 'IC0508' : 'IC0509' };
}

/** local canister ids: 8-byte big-endian index followed by 0x01 0x01, as the IC allocates them */
export function canisterIdFromIndex(index: number): Principal {
    const b = new Uint8Array(10);
    let v = BigInt(index);
    for (let i = 7; i >= 0; i--) {
        b[i] = Number(v & 0xffn);
        v >>= 8n;
    }
    b[8] = 1;
    b[9] = 1;
    return Principal.fromUint8Array(b);
}

function lazyOnce(get: (() => Uint8Array | null) | undefined): () => Uint8Array | null {
    if (!get) return () => null;
    let value: Uint8Array | null | undefined;
    return () => (value === undefined ? (value = get()) : value);
}

const moduleCache = new Map<string, Promise<WebAssembly.Module>>();

export class Engine {
    private canisters = new Map<string, CanisterState>();
    private queue: Message[] = [];
    private callbacks = new Map<number, Callback>();
    private nextCallbackId = 1;
    private nextCanisterIndex = 0x100000; // first id: lxzze-o7777-77777-aaaaa-cai-style range used by local replicas
    private timeOffsetNs = 0n;
    private lastTimeNs = 0n;
    private pumping = false;
    private asyncPending = 0;
    private idleWaiters: (() => void)[] = [];
    private pendingIngress = new Set<(r: CallResult) => void>();
    private answered: (() => void)[] = [];
    private ticker: NodeJS.Timeout | undefined;
    private closed = false;
    private dataCertificateProvider: (id: Principal) => Uint8Array | undefined = () => undefined;
    private readonly store: CanisterStore | null;
    private readonly log: (line: string) => void;
    private readonly messages: MessageLog;
    private readonly startTimeNs: bigint | undefined;
    private readonly limits: typeof INSTRUCTION_LIMITS;
    private readonly sleeps = new Set<() => void>();
    private readonly management: ManagementPort;

    private constructor(opts: EngineOptions) {
        this.log = opts.log ?? (() => {});
        this.messages = new MessageLog(this.log);
        this.store = opts.stateDir ? new CanisterStore(opts.stateDir) : null;
        this.startTimeNs = opts.startTimeNs;
        this.limits = { ...INSTRUCTION_LIMITS, ...opts.instructionLimits };
        this.management = this.managementPort(Math.max(0, opts.ecdsaLatencyMs ?? 0));
        const tick = opts.tickMs ?? 100;
        if (tick > 0) {
            this.ticker = setInterval(() => this.pump(), tick);
            this.ticker.unref();
        }
    }

    static async create(opts: EngineOptions = {}): Promise<Engine> {
        const engine = new Engine(opts);
        if (engine.store) await engine.restore(engine.store);
        return engine;
    }

    // ---------------------------------------------------------------- clock

    /** replica time in ns: real (or fixed) time plus advanceTime offsets, strictly increasing per reading */
    now(): bigint {
        const base = this.startTimeNs ?? BigInt(Date.now()) * 1_000_000n;
        let t = base + this.timeOffsetNs;
        if (t <= this.lastTimeNs) t = this.lastTimeNs + 1n;
        this.lastTimeNs = t;
        return t;
    }

    async advanceTime(ms: number): Promise<void> {
        this.timeOffsetNs += BigInt(Math.round(ms * 1_000_000));
        this.saveEngineMeta();
        this.pump();
        await this.whenIdle();
    }

    // ---------------------------------------------------------------- canisters

    hasCanister(id: Principal): boolean {
        return this.canisters.has(id.toText());
    }

    canisterIds(): Principal[] {
        return [...this.canisters.values()].map((c) => c.id);
    }

    controllers(id: Principal): Principal[] {
        return [...this.get(id).controllers];
    }

    moduleHash(id: Principal): Uint8Array | undefined {
        return this.canisters.get(id.toText())?.moduleHash ?? undefined;
    }

    certifiedData(id: Principal): Uint8Array {
        return this.canisters.get(id.toText())?.certifiedData ?? new Uint8Array(0);
    }

    setDataCertificateProvider(fn: (id: Principal) => Uint8Array | undefined): void {
        this.dataCertificateProvider = fn;
    }

    private get(id: Principal): CanisterState {
        const c = this.canisters.get(id.toText());
        if (!c) throw new EngineError(RejectCode.DESTINATION_INVALID, `Canister ${id.toText()} not found`, 'IC0301');
        return c;
    }

    async createCanister(opts: { controllers?: Principal[]; cycles?: bigint; sender?: Principal } = {}): Promise<Principal> {
        return this.addCanister(opts).id;
    }

    private addCanister(opts: { controllers?: Principal[]; cycles?: bigint; sender?: Principal }): CanisterState {
        const id = canisterIdFromIndex(this.nextCanisterIndex++);
        const controllers = opts.controllers ?? (opts.sender && !opts.sender.isAnonymous() ? [opts.sender] : []);
        const c = newCanisterState(id, { controllers, cycles: opts.cycles ?? DEFAULT_CYCLES, createdAtNs: this.now() });
        this.canisters.set(id.toText(), c);
        this.saveEngineMeta();
        this.flush();
        this.log(`[exec] created canister ${id.toText()} controllers=[${controllers.map((p) => p.toText()).join(',')}]`);
        return c;
    }

    async installCode(id: Principal, wasm: Uint8Array, arg: Uint8Array, mode: InstallMode, sender?: Principal): Promise<void> {
        const c = this.get(id);
        if (sender && !c.controllers.some((p) => p.compareTo(sender) === 'eq')) {
            const { code, message, errorCode } = notControllerIngress(id, 'install_code');
            throw new EngineError(code, message, errorCode);
        }
        const module = await this.compile(wasm);
        this.install(c, wasm, module, arg, mode, sender ?? MANAGEMENT);
        this.pump();
        await this.whenIdle();
    }

    /** compiles (and caches) the patched module of a wasm (gzip accepted) */
    private async compile(wasm: Uint8Array): Promise<WebAssembly.Module> {
        const raw = wasm[0] === 0x1f && wasm[1] === 0x8b ? new Uint8Array(gunzipSync(wasm)) : wasm;
        const key = createHash('sha256').update(raw).digest('hex');
        let m = moduleCache.get(key);
        if (!m) {
            m = (async () => {
                try {
                    return await WebAssembly.compile(patchWasm(raw).wasm as Uint8Array<ArrayBuffer>);
                } catch (e) {
                    moduleCache.delete(key);
                    throw new EngineError(RejectCode.CANISTER_ERROR, `Wasm module of canister is invalid: ${(e as Error).message}`, 'IC0505');
                }
            })();
            moduleCache.set(key, m);
        }
        return m;
    }

    /**
     * Runs canister_init or canister_post_upgrade of a new instance (install, reinstall, upgrade, restore after a
     * restart, snapshot-less restore): the one place these entry points run. The caller commits or rolls back.
     */
    private runStart(
        c: CanisterState,
        rt: CanisterRuntime,
        entry: 'canister_init' | 'canister_post_upgrade',
        o: { arg: Uint8Array; caller: Principal; limit: bigint; balance: bigint }
    ): { outcome: ExecOutcome; ctx: ExecContext } | null {
        if (!rt.hasExport(entry)) return null;
        // the global timer is deactivated by install, reinstall and upgrade
        const ctx = this.context(c, 'I', { caller: o.caller, arg: o.arg, time: this.now(), limit: o.limit, globalTimer: 0n, balance: o.balance });
        const outcome = rt.execute(entry, [], ctx, { stableTxn: false });
        return { outcome, ctx };
    }

    /** install/reinstall/upgrade with the module compiled already; throws EngineError, changes nothing then */
    private install(c: CanisterState, wasm: Uint8Array, module: WebAssembly.Module, arg: Uint8Array, mode: InstallMode, caller: Principal): void {
        const id = c.id.toText();
        if (mode === 'install' && c.runtime) {
            throw new EngineError(
                RejectCode.CANISTER_ERROR,
                `Canister ${id} cannot be installed because the canister is not empty. Try installing with mode='reinstall' instead.`,
                'IC0538'
            );
        }
        if (mode === 'upgrade' && !c.runtime) {
            throw new EngineError(RejectCode.CANISTER_ERROR, `Canister ${id} is empty; upgrade needs an installed module`, 'IC0537');
        }
        const started = performance.now();
        const stable = mode === 'upgrade' ? c.stable : new StableMemory();
        stable.begin();
        let instructions = 0n;
        const fail = (what: string, outcome: ExecOutcome & { ok: false }): never => {
            stable.rollback();
            this.record('install', c, what, instructions, started, outcome.limitExceeded ? 'limit' : 'trap');
            throw new EngineError(RejectCode.CANISTER_ERROR, this.trapText(c, outcome, this.limits.install));
        };
        let timer = 0n;
        let certified = mode === 'upgrade' ? c.certifiedData : new Uint8Array(0);
        let balance = c.cycles;
        const old = c.runtime;
        if (mode === 'upgrade' && old && old.hasExport('canister_pre_upgrade')) {
            const ctx = this.context(c, 'G', { caller, time: this.now(), limit: this.limits.install, balance });
            // discard: the old heap must stay as it was in case the upgrade fails (on success it is dropped anyway)
            const outcome = old.execute('canister_pre_upgrade', [], ctx, { stableTxn: false, discard: true });
            instructions += ctx.instructions;
            if (!outcome.ok) fail('canister_pre_upgrade', outcome);
            balance = ctx.balance;
        }
        let rt: CanisterRuntime;
        try {
            rt = CanisterRuntime.instantiate(module, stable);
        } catch (e) {
            stable.rollback();
            throw new EngineError(RejectCode.CANISTER_ERROR, `Error from Canister ${id}: ${(e as Error).message}`, 'IC0505');
        }
        const entry = mode === 'upgrade' ? 'canister_post_upgrade' : 'canister_init';
        // one install_code message: pre_upgrade and post_upgrade share the install limit
        const ran = this.runStart(c, rt, entry, { arg, caller, limit: this.limits.install - instructions, balance });
        if (ran) {
            instructions += ran.ctx.instructions;
            if (!ran.outcome.ok) fail(entry, ran.outcome);
            timer = ran.ctx.globalTimer;
            balance = ran.ctx.balance;
            if (ran.ctx.certifiedData) certified = ran.ctx.certifiedData;
        }
        stable.commit();
        c.runtime = rt;
        c.stable = stable;
        // the module as submitted (gzipped or not): the IC's module_hash is the SHA-256 of these bytes
        c.wasm = wasm;
        c.moduleHash = new Uint8Array(createHash('sha256').update(wasm).digest());
        c.version += 1n;
        c.globalTimer = timer;
        c.certifiedData = certified;
        c.cycles = balance;
        c.installArg = arg;
        c.generation += 1;
        if (mode !== 'upgrade') c.stableReset = true;
        c.metaDirty = true;
        c.moduleFile = null;
        this.flush();
        this.record('install', c, `${mode}`, instructions, started, 'ok');
    }

    // ---------------------------------------------------------------- calls

    async query(id: Principal, method: string, arg: Uint8Array, sender: Principal): Promise<CallResult> {
        const started = performance.now();
        if (id.toText() === MANAGEMENT.toText()) {
            return { reject: { code: RejectCode.DESTINATION_INVALID, message: `Management canister has no query method '${method}'` } };
        }
        const c = this.canisters.get(id.toText());
        if (!c) return { reject: { code: RejectCode.DESTINATION_INVALID, message: `Canister ${id.toText()} not found` } };
        if (!c.runtime) return { reject: { code: RejectCode.CANISTER_ERROR, message: `Canister ${id.toText()} is empty: it has no Wasm module` } };
        if (c.status !== 'running') return { reject: notRunning(c) };
        const entry = `canister_query ${method}`;
        if (!c.runtime.hasExport(entry)) {
            return { reject: { code: RejectCode.DESTINATION_INVALID, message: `Canister ${id.toText()} has no query method '${method}'` } };
        }
        return this.runQuery(c, entry, method, arg, sender, 'NRQ', started);
    }

    /** a query execution whose state changes are discarded (also used for http outcall transforms) */
    private runQuery(c: CanisterState, entry: string, method: string, arg: Uint8Array, sender: Principal, mode: Mode, started = performance.now()): CallResult {
        if (!c.runtime) return { reject: { code: RejectCode.CANISTER_ERROR, message: `Canister ${c.id.toText()} is empty` } };
        const ctx = this.context(c, mode, {
            caller: sender,
            arg,
            methodName: method,
            time: this.now(),
            limit: this.limits.query,
            dataCertificate: mode === 'NRQ' ? () => this.dataCertificateProvider(c.id) ?? null : undefined
        });
        const outcome = c.runtime.execute(entry, [], ctx, { discard: true });
        this.messages.totals.queries++;
        if (!outcome.ok) {
            this.record('query', c, method, ctx.instructions, started, outcome.limitExceeded ? 'limit' : 'trap');
            return { reject: { code: RejectCode.CANISTER_ERROR, message: this.trapText(c, outcome, this.limits.query) } };
        }
        const result = this.responseOf(c, ctx.response);
        this.record('query', c, method, ctx.instructions, started, 'reply' in result ? 'ok' : 'reject');
        return result;
    }

    /**
     * The checks an ingress update passes before it is accepted, as the IC makes them before a message enters a
     * block: for aaaaa-aa the management canister's ingress filter (controllers only, canisters only); for a
     * canister that exports it, `canister_inspect_message` (mode F, metered, state discarded), which must call
     * ic0.accept_message. Returns the refusal, or null. Queries and inter-canister calls never pass here.
     */
    acceptIngress(id: Principal, method: string, arg: Uint8Array, sender: Principal): Reject | null {
        if (id.compareTo(MANAGEMENT) === 'eq') return refuseManagementIngress(this.management, method, arg, sender);
        const c = this.canisters.get(id.toText());
        if (!c?.runtime?.hasExport('canister_inspect_message')) return null;
        const started = performance.now();
        const ctx = this.context(c, 'F', { caller: sender, arg, methodName: method, time: this.now(), limit: this.limits.inspect });
        const outcome = c.runtime.execute('canister_inspect_message', [], ctx, { discard: true });
        this.messages.totals.instructions += ctx.instructions;
        if (!outcome.ok) {
            this.messages.totals.traps++;
            this.record('inspect', c, method, ctx.instructions, started, outcome.limitExceeded ? 'limit' : 'trap');
            return { code: RejectCode.CANISTER_ERROR, message: this.trapText(c, outcome, this.limits.inspect) };
        }
        const accepted = ctx.response !== null;
        this.record('inspect', c, method, ctx.instructions, started, accepted ? 'ok' : 'reject');
        if (accepted) return null;
        return { code: RejectCode.CANISTER_REJECT, message: `Canister ${id.toText()} rejected the message`, errorCode: 'IC0406' };
    }

    /**
     * An ingress update call: resolves when the call is answered. It first passes acceptIngress (a refusal is
     * returned as the reject) unless the caller did that already (`accepted`, as the HTTP interface does).
     */
    update(id: Principal, method: string, arg: Uint8Array, sender: Principal, opts: { accepted?: boolean } = {}): Promise<CallResult> {
        return new Promise<CallResult>((resolve) => {
            if (this.closed) {
                resolve({ reject: { code: RejectCode.SYS_TRANSIENT, message: 'replica is shutting down' } });
                return;
            }
            const refused = opts.accepted ? null : this.acceptIngress(id, method, arg, sender);
            if (refused) {
                resolve({ reject: refused });
                return;
            }
            const answer = (r: CallResult) => {
                this.pendingIngress.delete(answer);
                resolve(r);
            };
            this.pendingIngress.add(answer);
            this.queue.push({ kind: 'request', callee: id, method, arg, caller: sender, cycles: 0n, origin: { kind: 'ingress', resolve: answer } });
            this.pump();
        });
    }

    effectiveCanisterId(method: string, arg: Uint8Array): Principal | undefined {
        return managementEffectiveCanisterId(method, arg);
    }

    // ---------------------------------------------------------------- scheduler

    /** runs queued messages and due timers until nothing is left (synchronously) */
    pump(): void {
        if (this.pumping || this.closed) return;
        this.pumping = true;
        let n = 0;
        try {
            for (;;) {
                while (this.queue.length && n < MAX_MESSAGES_PER_PUMP) {
                    this.handle(this.queue.shift()!);
                    n++;
                }
                if (n >= MAX_MESSAGES_PER_PUMP) {
                    setImmediate(() => this.pump());
                    break;
                }
                if (!this.runDueTimers()) break;
            }
        } finally {
            this.pumping = false;
            this.flush();
            const answered = this.answered;
            this.answered = [];
            for (const a of answered) a();
            this.settleWhenIdle();
        }
        if (!this.queue.length && this.asyncPending === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) w();
        }
    }

    private settleScheduled = false;

    /** takes the committed-heap copies deferred by the messages just run, once pending replies have gone out */
    private settleWhenIdle(): void {
        if (this.settleScheduled) return;
        this.settleScheduled = true;
        setImmediate(() => {
            this.settleScheduled = false;
            if (this.pumping || this.closed) return;
            for (const c of this.canisters.values()) c.runtime?.settle();
        });
    }

    /** resolves once no message is queued and no outcall is in flight */
    whenIdle(): Promise<void> {
        if (!this.queue.length && this.asyncPending === 0 && !this.pumping) return Promise.resolve();
        return new Promise((resolve) => this.idleWaiters.push(resolve));
    }

    /** management canister work that completes later (http outcalls, installs, delayed replies) */
    private startAsync<T>(work: Promise<T>, done: (value: T | undefined, error: unknown) => void): void {
        this.asyncPending++;
        work.then(
            (v) => done(v, undefined),
            (e) => done(undefined, e ?? new Error('failed'))
        ).finally(() => {
            this.asyncPending--;
            this.pump();
        });
    }

    /** resolves in a later event-loop turn (after pending I/O) */
    private nextTurn(): Promise<void> {
        return new Promise((resolve) => setImmediate(resolve));
    }

    /** resolves after `ms` of real time, or at close */
    private sleep(ms: number): Promise<void> {
        return new Promise((resolve) => {
            const wake = () => {
                clearTimeout(timer);
                this.sleeps.delete(wake);
                resolve();
            };
            const timer = setTimeout(wake, ms);
            this.sleeps.add(wake);
        });
    }

    private handle(m: Message): void {
        if (m.kind === 'request') this.handleRequest(m);
        else this.handleResponse(m);
    }

    /** answers whoever is waiting for a call: an ingress promise or a caller canister's callback */
    private deliver(origin: Origin, result: CallResult, refund: bigint): void {
        // ingress answers go out after the batch is persisted, so a caller never sees a reply that a crash could lose
        if (origin.kind === 'ingress') {
            if (this.pumping) this.answered.push(() => origin.resolve(result));
            else origin.resolve(result);
        }
        else if (origin.kind === 'canister') this.queue.push({ kind: 'response', callbackId: origin.callbackId, result, refund });
    }

    private handleRequest(m: RequestMessage): void {
        if (m.callee.toText() === MANAGEMENT.toText()) {
            const request = { method: m.method, arg: m.arg, caller: m.caller, cycles: m.cycles, fromCanister: m.origin.kind === 'canister' };
            handleManagement(this.management, request, (result, refund) => this.deliver(m.origin, result, refund));
            return;
        }
        const id = m.callee.toText();
        const c = this.canisters.get(id);
        const reject = (code: number, message: string, errorCode?: string) =>
            this.deliver(m.origin, { reject: { code, message, errorCode } }, m.cycles);
        if (!c) return reject(RejectCode.DESTINATION_INVALID, `Canister ${id} not found`);
        if (!c.runtime) return reject(RejectCode.CANISTER_ERROR, `Canister ${id} is empty: it has no Wasm module`);
        if (c.status !== 'running') return this.deliver(m.origin, { reject: notRunning(c) }, m.cycles);
        let entry = `canister_update ${m.method}`;
        let mode: Mode = 'U';
        if (!c.runtime.hasExport(entry)) {
            entry = `canister_query ${m.method}`;
            mode = 'RQ';
            if (!c.runtime.hasExport(entry)) return reject(RejectCode.DESTINATION_INVALID, `Canister ${id} has no update method '${m.method}'`);
        }
        const cc = this.openContext(c, m.origin, m.cycles);
        const started = performance.now();
        const ctx = this.context(c, mode, {
            caller: m.caller,
            arg: m.arg,
            methodName: m.method,
            time: this.now(),
            limit: this.limits.update,
            cyclesAvailable: m.cycles
        });
        const outcome = c.runtime.execute(entry, [], ctx, { discard: mode === 'RQ' });
        this.messages.totals.updates++;
        this.afterExecution(cc, ctx, outcome, started, mode === 'RQ' ? 'update(query)' : 'update', m.method);
    }

    private handleResponse(m: ResponseMessage): void {
        const cb = this.callbacks.get(m.callbackId);
        if (!cb) return;
        this.callbacks.delete(m.callbackId);
        const cc = cb.ctx;
        cc.outstanding--;
        const c = cb.canister;
        if (!c.runtime || c.generation !== cb.generation || !this.canisters.has(c.id.toText())) {
            // the module that made the call is gone (reinstalled/uninstalled): its callbacks are dropped
            this.finishIfDone(cc, `Canister ${c.id.toText()} was reinstalled while awaiting a response`);
            return;
        }
        c.cycles += m.refund;
        const started = performance.now();
        const isReply = 'reply' in m.result;
        const ctx = this.context(c, isReply ? 'Ry' : 'Rt', {
            caller: c.id,
            arg: 'reply' in m.result ? m.result.reply : new Uint8Array(0),
            time: this.now(),
            limit: this.limits.update,
            cyclesAvailable: cc.cyclesAvailable,
            cyclesRefunded: m.refund,
            responded: cc.responded,
            rejectCode: 'reject' in m.result ? m.result.reject.code : 0,
            rejectMessage: 'reject' in m.result ? m.result.reject.message : '',
            callContextInstructions: cc.instructions
        });
        const fun = isReply ? cb.call.replyFun : cb.call.rejectFun;
        const outcome = c.runtime.execute(fun, [isReply ? cb.call.replyEnv : cb.call.rejectEnv], ctx);
        if (!outcome.ok && cb.call.cleanup) {
            const cctx = this.context(c, 'C', { caller: c.id, time: this.now(), limit: this.limits.update });
            const cleanup = c.runtime.execute(cb.call.cleanup.fun, [cb.call.cleanup.env], cctx);
            if (cleanup.ok) this.commitEffects(c, cctx);
            else this.log(`[exec] cleanup callback of ${c.id.toText()} trapped: ${cleanup.message}`);
        }
        this.afterExecution(cc, ctx, outcome, started, isReply ? 'reply-callback' : 'reject-callback', '');
    }

    private runDueTimers(): boolean {
        let ran = false;
        for (const c of this.canisters.values()) {
            if (c.stopWaiters.length && this.expireStopCalls(c)) ran = true;
            if (!c.runtime || c.status !== 'running') continue;
            if (c.runtime.hasExport('canister_heartbeat')) {
                const now = this.now();
                if (now - c.lastHeartbeatNs >= HEARTBEAT_INTERVAL_NS) {
                    c.lastHeartbeatNs = now;
                    ran = true;
                    const cc = this.openContext(c, { kind: 'system' }, 0n);
                    const started = performance.now();
                    const ctx = this.context(c, 'T', { caller: MANAGEMENT, time: now, limit: this.limits.update });
                    const outcome = c.runtime.execute('canister_heartbeat', [], ctx);
                    this.afterExecution(cc, ctx, outcome, started, 'heartbeat', 'canister_heartbeat');
                }
            }
            if (c.globalTimer === 0n) continue;
            const now = this.now();
            if (c.globalTimer > now) continue;
            c.globalTimer = 0n; // deactivated before the timer runs
            c.metaDirty = true;
            ran = true;
            if (!c.runtime.hasExport('canister_global_timer')) continue;
            const cc = this.openContext(c, { kind: 'system' }, 0n);
            const started = performance.now();
            const ctx = this.context(c, 'T', { caller: MANAGEMENT, time: now, limit: this.limits.update });
            const outcome = c.runtime.execute('canister_global_timer', [], ctx);
            this.afterExecution(cc, ctx, outcome, started, 'timer', 'canister_global_timer');
        }
        return ran;
    }

    private afterExecution(cc: CallContext, ctx: ExecContext, outcome: ExecOutcome, started: number, kind: string, method: string): void {
        const c = cc.canister;
        cc.instructions += ctx.instructions;
        this.messages.totals.instructions += ctx.instructions;
        if (!outcome.ok) {
            this.messages.totals.traps++;
            this.record(kind, c, method, ctx.instructions, started, outcome.limitExceeded ? 'limit' : 'trap');
            this.finishIfDone(cc, this.trapText(c, outcome, ctx.instructionLimit));
            return;
        }
        const readOnly = ctx.mode === 'RQ';
        if (!readOnly) this.commitEffects(c, ctx);
        if (ctx.building) c.cycles += ctx.building.cycles; // call_new without call_perform: the call is dropped
        cc.cyclesAvailable = ctx.cyclesAvailable;
        if (ctx.response) {
            cc.responded = true;
            const refund = cc.cyclesAvailable;
            cc.cyclesAvailable = 0n;
            this.deliver(cc.origin, this.responseOf(c, ctx.response), refund);
        }
        for (const call of ctx.calls) {
            const id = this.nextCallbackId++;
            this.callbacks.set(id, { id, canister: c, generation: c.generation, ctx: cc, call });
            cc.outstanding++;
            this.queue.push({
                kind: 'request',
                callee: Principal.fromUint8Array(call.callee),
                method: call.method,
                arg: concat(call.args),
                caller: c.id,
                cycles: call.cycles,
                origin: { kind: 'canister', callbackId: id }
            });
        }
        this.record(kind, c, method, ctx.instructions, started, ctx.response && 'reject' in ctx.response ? 'reject' : 'ok');
        this.finishIfDone(cc, null);
    }

    private openContext(c: CanisterState, origin: Origin, cycles: bigint): CallContext {
        c.openCallContexts++;
        return { canister: c, origin, responded: false, outstanding: 0, closed: false, cyclesAvailable: cycles, instructions: 0n };
    }

    /** a call context with no call outstanding is answered (did not reply / trap) if it was not, and closed */
    private finishIfDone(cc: CallContext, trap: string | null): void {
        if (cc.outstanding > 0 || cc.closed) return;
        if (cc.responded) return this.closeContext(cc);
        cc.responded = true;
        this.closeContext(cc);
        if (cc.origin.kind === 'system') {
            if (trap) this.log(`[exec] ${cc.canister.id.toText()} system task: ${trap}`);
            return;
        }
        const refund = cc.cyclesAvailable;
        cc.cyclesAvailable = 0n;
        this.deliver(
            cc.origin,
            {
                reject: {
                    code: RejectCode.CANISTER_ERROR,
                    message: trap ?? `Canister ${cc.canister.id.toText()} did not reply to the call`
                }
            },
            refund
        );
    }

    private closeContext(cc: CallContext): void {
        cc.closed = true;
        const c = cc.canister;
        c.openCallContexts--;
        if (c.status === 'stopping' && c.openCallContexts === 0) this.stopped(c);
    }

    /** stop_canister calls past their deadline fail; the canister stays stopping (it may stop later) */
    private expireStopCalls(c: CanisterState): boolean {
        const now = this.now();
        const expired = c.stopWaiters.filter((w) => w.deadlineNs <= now);
        if (!expired.length) return false;
        c.stopWaiters = c.stopWaiters.filter((w) => w.deadlineNs > now);
        for (const w of expired) {
            w.answer({ reject: { code: RejectCode.SYS_TRANSIENT, message: `Stop canister request timed out`, errorCode: 'IC0206' } });
        }
        return true;
    }

    /** a stopping canister with no open call context is stopped; the stop_canister calls waiting for it are answered */
    private stopped(c: CanisterState): void {
        c.status = 'stopped';
        c.metaDirty = true;
        const waiters = c.stopWaiters;
        c.stopWaiters = [];
        for (const w of waiters) w.answer({ reply: new Uint8Array(EMPTY_REPLY) });
    }

    private commitEffects(c: CanisterState, ctx: ExecContext): void {
        c.cycles = ctx.balance;
        if (c.globalTimer !== ctx.globalTimer) {
            c.globalTimer = ctx.globalTimer;
        }
        if (ctx.certifiedData) c.certifiedData = ctx.certifiedData;
        c.version += 1n;
        c.metaDirty = true;
    }

    private responseOf(c: CanisterState, response: ExecContext['response']): CallResult {
        if (!response) return { reject: { code: RejectCode.CANISTER_ERROR, message: `Canister ${c.id.toText()} did not reply to the call` } };
        if ('reply' in response) return { reply: response.reply };
        return { reject: { code: RejectCode.CANISTER_REJECT, message: response.reject } };
    }

    private trapText(c: CanisterState, outcome: ExecOutcome & { ok: false }, limit: bigint): string {
        if (outcome.limitExceeded) {
            return `Error from Canister ${c.id.toText()}: Canister exceeded the limit of ${limit} instructions for single message execution.`;
        }
        return `Error from Canister ${c.id.toText()}: ${outcome.message}.`;
    }

    /** a fresh execution context for one message */
    private context(
        c: CanisterState,
        mode: Mode,
        o: {
            caller: Principal;
            time: bigint;
            limit: bigint;
            arg?: Uint8Array;
            methodName?: string;
            cyclesAvailable?: bigint;
            cyclesRefunded?: bigint;
            responded?: boolean;
            rejectCode?: number;
            rejectMessage?: string;
            /** NRQ only: yields the data certificate (called at most once, when the canister asks for it) */
            dataCertificate?: () => Uint8Array | null;
            callContextInstructions?: bigint;
            globalTimer?: bigint;
            balance?: bigint;
        }
    ): ExecContext {
        const id = c.id.toText();
        return {
            mode,
            canisterId: c.idBytes,
            caller: o.caller.toUint8Array(),
            arg: o.arg ?? new Uint8Array(0),
            methodName: o.methodName ?? '',
            time: o.time,
            canisterVersion: c.version,
            controllers: c.controllers.map((p) => p.toUint8Array()),
            responded: o.responded ?? false,
            rejectCode: o.rejectCode ?? 0,
            rejectMessage: o.rejectMessage ?? '',
            cyclesAvailable: o.cyclesAvailable ?? 0n,
            cyclesRefunded: o.cyclesRefunded ?? 0n,
            balance: o.balance ?? c.cycles,
            globalTimer: o.globalTimer ?? c.globalTimer,
            dataCertificate: lazyOnce(o.dataCertificate),
            callContextInstructions: o.callContextInstructions ?? 0n,
            instructionLimit: o.limit,
            debugPrint: (line) => this.log(`[canister ${id}] ${line}`),
            replyChunks: [],
            response: null,
            calls: [],
            building: null,
            certifiedData: null,
            instructions: 0n
        };
    }

    // ---------------------------------------------------------------- metrics

    private record(kind: string, c: CanisterState, method: string, instructions: bigint, started: number, outcome: MessageMetric['outcome']): void {
        const heapCopyMs = c.runtime?.takeCopyMs();
        this.messages.record({ kind, canisterId: c.id.toText(), method, instructions, wallMs: performance.now() - started, heapCopyMs, outcome });
    }

    metrics(): EngineMetrics {
        return this.messages.snapshot(
            [...this.canisters.values()].map((c) => ({
                id: c.id.toText(),
                cycles: c.cycles,
                version: c.version,
                stablePages: c.stable.size,
                heapBytes: c.runtime?.heapBytes() ?? 0,
                moduleHash: c.moduleHash ? hex(c.moduleHash) : null
            }))
        );
    }

    /** Prometheus-style text for a metrics endpoint */
    metricsText(): string {
        return metricsText(this.metrics());
    }

    // ---------------------------------------------------------------- persistence

    /** persists every canister changed since the last flush as one durable batch */
    private flush(): void {
        this.store?.flush(this.canisters.values());
    }

    private saveEngineMeta(): void {
        this.store?.saveEngineMeta({ nextCanisterIndex: this.nextCanisterIndex, timeOffsetNs: this.timeOffsetNs.toString() });
    }

    /** brings canisters back as an upgrade would: same ids and stable memory, post_upgrade, fresh heap */
    private async restore(store: CanisterStore): Promise<void> {
        const meta = store.loadEngineMeta();
        if (meta) {
            this.nextCanisterIndex = meta.nextCanisterIndex;
            this.timeOffsetNs = BigInt(meta.timeOffsetNs);
        }
        for (const { state: c, wasm } of store.load()) {
            this.canisters.set(c.id.toText(), c);
            if (!wasm) continue;
            const rt = CanisterRuntime.instantiate(await this.compile(wasm), c.stable);
            const started = performance.now();
            c.stable.begin();
            const ran = this.runStart(c, rt, 'canister_post_upgrade', { arg: c.installArg, caller: MANAGEMENT, limit: this.limits.install, balance: c.cycles });
            if (ran && !ran.outcome.ok) {
                c.stable.rollback();
                c.moduleHash = null;
                this.log(`[exec] restoring ${c.id.toText()}: post_upgrade failed: ${ran.outcome.message}; canister left empty`);
                continue;
            }
            c.stable.commit();
            if (ran) {
                c.globalTimer = ran.ctx.globalTimer;
                c.cycles = ran.ctx.balance;
                if (ran.ctx.certifiedData) c.certifiedData = ran.ctx.certifiedData;
                this.record('restore', c, 'canister_post_upgrade', ran.ctx.instructions, started, 'ok');
            }
            c.runtime = rt;
            c.generation = 1;
            c.metaDirty = true;
            // a canister that was stopping when the replica stopped has no call context left
            if (c.status === 'stopping') c.status = 'stopped';
        }
        this.flush();
        this.pump();
        await this.whenIdle();
    }

    // ---------------------------------------------------------------- management canister port

    /** the operations the management canister (management.ts) carries out on canisters */
    private managementPort(ecdsaLatencyMs: number): ManagementPort {
        return {
            ecdsaLatencyMs,
            canister: (id) => canisterInfo(this.get(id)),
            createCanister: (o) => this.addCanister(o).id,
            compile: (wasm) => this.compile(wasm),
            install: (id, wasm, module, arg, mode, caller) => this.install(this.get(id), wasm, module, arg, mode, caller),
            uninstall: (id) => uninstall(this.get(id)),
            updateSettings: (id, settings) => updateSettings(this.get(id), settings),
            addCycles: (id, amount) => {
                const c = this.get(id);
                c.cycles += amount;
                c.metaDirty = true;
            },
            deleteCanister: (id) => {
                this.canisters.delete(id.toText());
                this.store?.forget(id);
            },
            start: (id) => {
                const c = this.get(id);
                const waiters = c.stopWaiters;
                c.stopWaiters = [];
                c.status = 'running';
                c.metaDirty = true;
                for (const w of waiters) {
                    w.answer({ reject: { code: RejectCode.CANISTER_ERROR, message: `Canister ${c.id.toText()}'s stop request was cancelled.`, errorCode: 'IC0511' } });
                }
            },
            stop: (id, done) => {
                const c = this.get(id);
                if (c.status === 'stopped') return done({ reply: new Uint8Array(EMPTY_REPLY) });
                c.stopWaiters.push({ answer: done, deadlineNs: this.now() + STOP_TIMEOUT_NS });
                c.status = 'stopping';
                c.metaDirty = true;
                if (c.openCallContexts === 0) this.stopped(c);
            },
            chunk: (id, hash) => this.get(id).chunks.get(hash),
            putChunk: (id, hash, bytes) => {
                this.get(id).chunks.set(hash, bytes);
                this.store?.saveChunk(id, hash, bytes);
            },
            clearChunks: (id) => {
                this.get(id).chunks.clear();
                this.store?.clearChunks(id);
            },
            takeSnapshot: (id) => {
                const snapshot = captureSnapshot(this.get(id), this.now());
                this.store?.saveSnapshot(id, snapshot);
                this.flush(); // the index with it, so no later snapshot reuses the id
                return snapshotInfo(snapshot);
            },
            snapshotWasm: (id, snapshot) => findSnapshot(this.get(id), snapshot).wasm,
            loadSnapshot: (id, snapshot, module) => {
                const c = this.get(id);
                restoreSnapshot(c, findSnapshot(c, snapshot), module);
                this.store?.clearChunks(id);
                for (const [hash, bytes] of c.chunks) this.store?.saveChunk(id, hash, bytes);
            },
            deleteSnapshot: (id, snapshot) => {
                dropSnapshot(this.get(id), snapshot);
                this.store?.deleteSnapshot(id, snapshot);
            },
            transform: (id, method, arg) => {
                const c = this.get(id);
                const entry = `canister_query ${method}`;
                if (!c.runtime?.hasExport(entry)) {
                    return { reject: { code: RejectCode.DESTINATION_INVALID, message: `Canister ${id.toText()} has no query method '${method}'` } };
                }
                return this.runQuery(c, entry, method, arg, MANAGEMENT, 'NRQ');
            },
            later: (work, done) => this.startAsync(work, done),
            nextTurn: () => this.nextTurn(),
            sleep: (ms) => this.sleep(ms)
        };
    }

    async close(): Promise<void> {
        if (this.ticker) clearInterval(this.ticker);
        this.flush();
        this.closed = true;
        for (const wake of [...this.sleeps]) wake();
        // calls still waiting (queued, or awaiting a callback or an outcall) are answered so no caller hangs
        for (const answer of [...this.pendingIngress]) answer({ reject: { code: RejectCode.SYS_TRANSIENT, message: 'replica stopped' } });
        this.queue = [];
        for (const w of this.idleWaiters) w();
        this.idleWaiters = [];
    }
}

export { Trap };
