// The management canister (aaaaa-aa): Candid-encoded methods (types from Azle's management IDL), caller =
// the sender (a user for ingress, the calling canister otherwise). It decodes, checks who may do what and
// answers (now, or for work that completes later through port.later); the engine carries out the
// operations behind the ManagementPort.
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import * as M from 'azle/canisters/management/idl';
import { concat } from '../bytes.ts';
import { ECDSA_KEY_NAMES, ecdsaPublicKey, signWithEcdsa } from './ecdsa.ts';
import { createHash, randomBytes } from 'node:crypto';
import { EngineError, RejectCode, type CallResult, type Reject } from './errors.ts';
import type { Answer, CanisterInfo, ManagementPort, ManagementRequest, SnapshotInfo } from './management-port.ts';

export const SIGN_WITH_ECDSA_FEE = 26_153_846_153n;
export const CREATE_CANISTER_FEE = 500_000_000_000n;
const MAX_HTTP_RESPONSE_BYTES = 2_000_000n;

/** methods whose argument record names the canister they act on (effective canister id) */
const TARGETED: Record<string, IDL.Type> = {
    install_code: M.install_code_args,
    install_chunked_code: M.install_chunked_code_args,
    canister_status: M.canister_status_args,
    update_settings: M.update_settings_args,
    start_canister: M.start_canister_args,
    stop_canister: M.stop_canister_args,
    delete_canister: M.delete_canister_args,
    uninstall_code: M.uninstall_code_args,
    deposit_cycles: M.deposit_cycles_args,
    provisional_top_up_canister: M.provisional_top_up_canister_args,
    upload_chunk: M.upload_chunk_args,
    stored_chunks: M.stored_chunks_args,
    clear_chunk_store: M.clear_chunk_store_args,
    take_canister_snapshot: M.take_canister_snapshot_args,
    load_canister_snapshot: M.load_canister_snapshot_args,
    list_canister_snapshots: M.list_canister_snapshots_args,
    delete_canister_snapshot: M.delete_canister_snapshot_args
};

/** methods a user may call by ingress only as a controller of the target (the IC's ingress filter) */
const CONTROLLERS_ONLY = new Set([
    'canister_status',
    'start_canister',
    'stop_canister',
    'uninstall_code',
    'delete_canister',
    'update_settings',
    'install_code',
    'install_chunked_code',
    'upload_chunk',
    'stored_chunks',
    'clear_chunk_store',
    'take_canister_snapshot',
    'load_canister_snapshot',
    'list_canister_snapshots',
    'delete_canister_snapshot'
]);

/** methods only canisters may call (interface spec: "cannot be called by external users via ingress messages") */
const CANISTERS_ONLY = new Set([
    'raw_rand',
    'deposit_cycles',
    'http_request',
    'ecdsa_public_key',
    'sign_with_ecdsa',
    'canister_info',
    'schnorr_public_key',
    'sign_with_schnorr',
    'node_metrics_history',
    'subnet_info'
]);

/** the spec's chunk size limit, and this replica's CHUNK_STORE_SIZE and MAX_CHUNKS_IN_LARGE_WASM (the IC's: a 100 MiB store) */
export const MAX_CHUNK_BYTES = 1024 * 1024;
export const CHUNK_STORE_SIZE = 100;
export const MAX_CHUNKS_IN_LARGE_WASM = 100;
/** MAX_SNAPSHOTS: snapshots per canister (the IC's current limit) */
export const MAX_SNAPSHOTS = 10;

export function managementEffectiveCanisterId(method: string, arg: Uint8Array): Principal | undefined {
    const t = TARGETED[method];
    if (!t) return undefined;
    try {
        const [v] = IDL.decode([t], arg) as unknown as [{ canister_id?: Principal; target_canister?: Principal }];
        return v.canister_id ?? v.target_canister;
    } catch {
        return undefined;
    }
}

/**
 * The IC's ingress filter for calls to aaaaa-aa: what a user may not even submit (refused before execution,
 * answered on the call endpoint without a certificate). Null when the call may go ahead.
 */
export function refuseManagementIngress(port: ManagementPort, method: string, arg: Uint8Array, sender: Principal): Reject | null {
    if (CANISTERS_ONLY.has(method)) {
        return { code: RejectCode.CANISTER_REJECT, message: `Only canisters can call ic00 method ${method}`, errorCode: 'IC0406' };
    }
    if (!CONTROLLERS_ONLY.has(method)) return null;
    const target = managementEffectiveCanisterId(method, arg);
    if (!target) return null; // undecodable: execution rejects it with the decoding error
    let c: CanisterInfo;
    try {
        c = port.canister(target);
    } catch (e) {
        return e instanceof EngineError ? e.reject : null;
    }
    return isController(c, sender) ? null : notControllerIngress(c.id, method);
}

/** the ingress filter's refusal of a user who is not a controller */
export function notControllerIngress(id: Principal, method: string): Reject {
    return { code: RejectCode.CANISTER_ERROR, message: `Only controllers of canister ${id.toText()} can call ic00 method ${method}`, errorCode: 'IC0512' };
}

function isController(c: { controllers: Principal[] }, caller: Principal): boolean {
    return c.controllers.some((p) => p.compareTo(caller) === 'eq');
}

/** only controllers (and, for some methods, the canister itself) may act on a canister: the IC's CanisterInvalidController */
function requireController(c: CanisterInfo, caller: Principal, orSelf = false): void {
    if (isController(c, caller) || (orSelf && c.id.compareTo(caller) === 'eq')) return;
    throw new EngineError(
        RejectCode.CANISTER_ERROR,
        `Only the controllers of the canister ${c.id.toText()} can control it.\nCanister's controllers: ${c.controllers.map((p) => p.toText()).join(' ')}\nSender's ID: ${caller.toText()}`,
        'IC0512'
    );
}

function decode<T>(t: IDL.Type, arg: Uint8Array): T {
    try {
        return IDL.decode([t], arg)[0] as T;
    } catch (e) {
        throw new EngineError(RejectCode.CANISTER_REJECT, `Error decoding candid: ${(e as Error).message}`);
    }
}

const reply = (t: IDL.Type, v: unknown): CallResult => ({ reply: new Uint8Array(IDL.encode([t], [v])) });
const empty = (): CallResult => ({ reply: new Uint8Array(IDL.encode([], [])) });

function isLoopback(url: URL): boolean {
    const h = url.hostname.replace(/^\[|\]$/g, '');
    return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function handleManagement(port: ManagementPort, m: ManagementRequest, answer: Answer): void {
    try {
        const result = dispatch(port, m, answer);
        if (result) answer(result.result, result.refund);
    } catch (e) {
        if (e instanceof EngineError) answer({ reject: e.reject }, m.cycles);
        else answer({ reject: { code: RejectCode.CANISTER_ERROR, message: `management canister: ${(e as Error).message}` } }, m.cycles);
    }
}

type Sync = { result: CallResult; refund: bigint } | undefined;

function settingsControllers(settings: [] | [{ controllers: [] | [Principal[]] }]): Principal[] | undefined {
    const s = settings[0];
    return s && s.controllers.length ? s.controllers[0] : undefined;
}

function installMode(mode: M.canister_install_mode): 'install' | 'reinstall' | 'upgrade' {
    return 'install' in mode ? 'install' : 'reinstall' in mode ? 'reinstall' : 'upgrade';
}

function dispatch(port: ManagementPort, m: ManagementRequest, answer: Answer): Sync {
    const ok = (result: CallResult, refund = m.cycles): Sync => ({ result, refund });
    const controlled = (id: Principal, orSelf = false): CanisterInfo => {
        const c = port.canister(id);
        requireController(c, m.caller, orSelf);
        return c;
    };
    /** compiles, then installs in a later scheduler run, and answers */
    const installLater = (target: Principal, wasm: Uint8Array, arg: Uint8Array, mode: M.canister_install_mode): Sync => {
        port.later(port.compile(wasm), (module, error) => {
            try {
                if (!module) throw error;
                controlled(target); // still a controller once the module is compiled
                port.install(target, wasm, module, arg, installMode(mode), m.caller);
                answer(empty(), m.cycles);
            } catch (e) {
                answer({ reject: asReject(e) }, m.cycles);
            }
        });
        return undefined;
    };
    if (!m.fromCanister && CANISTERS_ONLY.has(m.method)) {
        throw new EngineError(RejectCode.CANISTER_REJECT, `Only canisters can call ic00 method ${m.method}`, 'IC0406');
    }
    switch (m.method) {
        case 'provisional_create_canister_with_cycles': {
            const a = decode<M.provisional_create_canister_with_cycles_args>(M.provisional_create_canister_with_cycles_args, m.arg);
            const id = port.createCanister({ controllers: settingsControllers(a.settings), cycles: a.amount[0], sender: m.caller });
            return ok(reply(M.provisional_create_canister_with_cycles_result, { canister_id: id }));
        }
        case 'create_canister': {
            const a = decode<M.create_canister_args>(M.create_canister_args, m.arg);
            // a canister pays the creation fee out of the attached cycles; ingress (local convenience) gets the default balance
            if (m.fromCanister && m.cycles < CREATE_CANISTER_FEE) {
                throw new EngineError(
                    RejectCode.CANISTER_REJECT,
                    `create_canister: ${m.cycles} cycles attached, but ${CREATE_CANISTER_FEE} are required`
                );
            }
            const id = port.createCanister({
                controllers: settingsControllers(a.settings),
                cycles: m.fromCanister ? m.cycles - CREATE_CANISTER_FEE : undefined,
                sender: m.caller
            });
            return ok(reply(M.create_canister_result, { canister_id: id }), 0n);
        }
        case 'install_code': {
            const a = decode<M.install_code_args>(M.install_code_args, m.arg);
            controlled(a.canister_id);
            return installLater(a.canister_id, Uint8Array.from(a.wasm_module), Uint8Array.from(a.arg), a.mode);
        }
        case 'install_chunked_code': {
            const a = decode<M.install_chunked_code_args>(M.install_chunked_code_args, m.arg);
            controlled(a.target_canister);
            const store = a.store_canister[0] ?? a.target_canister;
            // the caller must control the store canister, or be it
            controlled(store, true);
            if (a.chunk_hashes_list.length > MAX_CHUNKS_IN_LARGE_WASM) {
                throw chunkStoreError(`Wasm module consists of ${a.chunk_hashes_list.length} chunks, but at most ${MAX_CHUNKS_IN_LARGE_WASM} are allowed`);
            }
            const chunks = a.chunk_hashes_list.map(({ hash }) => {
                const chunk = port.chunk(store, hex(hash));
                if (!chunk) throw chunkStoreError(`Chunk with hash ${hex(hash)} is not present in the chunk store of canister ${store.toText()}`);
                return chunk;
            });
            const wasm = concat(chunks);
            const actual = createHash('sha256').update(wasm).digest('hex');
            if (actual !== hex(a.wasm_module_hash)) {
                throw chunkStoreError(`Wasm module hash ${actual} does not match given hash ${hex(a.wasm_module_hash)}`);
            }
            return installLater(a.target_canister, wasm, Uint8Array.from(a.arg), a.mode);
        }
        case 'upload_chunk': {
            const a = decode<M.upload_chunk_args>(M.upload_chunk_args, m.arg);
            const c = controlled(a.canister_id, true);
            const chunk = Uint8Array.from(a.chunk);
            const hash = createHash('sha256').update(chunk).digest();
            if (chunk.length > MAX_CHUNK_BYTES) {
                throw chunkStoreError(`Wasm chunk size ${chunk.length} exceeds the maximum chunk size of ${MAX_CHUNK_BYTES}`);
            }
            if (!c.chunkHashes.includes(hex(hash))) {
                if (c.chunkHashes.length >= CHUNK_STORE_SIZE) {
                    throw chunkStoreError(
                        `Wasm chunk store has already reached maximum capacity of ${CHUNK_STORE_SIZE * MAX_CHUNK_BYTES} bytes or the maximum number of entries, ${CHUNK_STORE_SIZE}`
                    );
                }
                port.putChunk(a.canister_id, hex(hash), chunk);
            }
            return ok(reply(M.upload_chunk_result, { hash: new Uint8Array(hash) }));
        }
        case 'stored_chunks': {
            const a = decode<M.stored_chunks_args>(M.stored_chunks_args, m.arg);
            const c = controlled(a.canister_id, true);
            return ok(reply(M.stored_chunks_result, c.chunkHashes.map((h) => ({ hash: unhex(h) }))));
        }
        case 'clear_chunk_store': {
            const a = decode<M.clear_chunk_store_args>(M.clear_chunk_store_args, m.arg);
            controlled(a.canister_id, true);
            port.clearChunks(a.canister_id);
            return ok(empty());
        }
        case 'canister_status': {
            const a = decode<M.canister_status_args>(M.canister_status_args, m.arg);
            const c = controlled(a.canister_id, true);
            return ok(reply(M.canister_status_result, canisterStatus(c)));
        }
        case 'update_settings': {
            const a = decode<M.update_settings_args>(M.update_settings_args, m.arg);
            controlled(a.canister_id);
            const controllers = a.settings.controllers[0];
            if (controllers && controllers.length > 10) {
                throw new EngineError(
                    RejectCode.CANISTER_ERROR,
                    `Could not validate the settings: Invalid settings: 'controllers' length exceeds maximum size allowed of 10.`,
                    'IC0504'
                );
            }
            port.updateSettings(a.canister_id, { controllers, freezingThreshold: a.settings.freezing_threshold[0] });
            return ok(empty());
        }
        case 'start_canister': {
            const a = decode<M.start_canister_args>(M.start_canister_args, m.arg);
            controlled(a.canister_id);
            port.start(a.canister_id);
            return ok(empty());
        }
        case 'stop_canister': {
            const a = decode<M.stop_canister_args>(M.stop_canister_args, m.arg);
            controlled(a.canister_id);
            port.stop(a.canister_id, (r) => answer(r, m.cycles));
            return undefined;
        }
        case 'uninstall_code': {
            const a = decode<M.uninstall_code_args>(M.uninstall_code_args, m.arg);
            controlled(a.canister_id);
            port.uninstall(a.canister_id);
            return ok(empty());
        }
        case 'delete_canister': {
            const a = decode<M.delete_canister_args>(M.delete_canister_args, m.arg);
            const c = controlled(a.canister_id);
            if (c.id.compareTo(m.caller) === 'eq') {
                throw new EngineError(RejectCode.CANISTER_ERROR, `Canister ${c.id.toText()} cannot delete itself.`, 'IC0512');
            }
            if (c.status !== 'stopped') {
                throw new EngineError(RejectCode.CANISTER_ERROR, `Canister ${c.id.toText()} must be stopped before it is deleted.`, 'IC0510');
            }
            port.deleteCanister(a.canister_id);
            return ok(empty());
        }
        case 'take_canister_snapshot': {
            const a = decode<M.take_canister_snapshot_args>(M.take_canister_snapshot_args, m.arg);
            const c = controlled(a.canister_id);
            const replace = a.replace_snapshot[0] ? Uint8Array.from(a.replace_snapshot[0]) : undefined;
            if (replace) ownSnapshot(c, replace);
            else if (c.snapshots.length >= MAX_SNAPSHOTS) {
                throw new EngineError(
                    RejectCode.CANISTER_REJECT,
                    `Canister ${c.id.toText()} has reached the maximum number of snapshots allowed: ${MAX_SNAPSHOTS}.`,
                    'IC0406'
                );
            }
            const taken = port.takeSnapshot(a.canister_id);
            // the replaced snapshot goes once the new one exists
            if (replace) port.deleteSnapshot(a.canister_id, replace);
            return ok(reply(M.take_canister_snapshot_result, snapshotRecord(taken)));
        }
        case 'load_canister_snapshot': {
            const a = decode<M.load_canister_snapshot_args>(M.load_canister_snapshot_args, m.arg);
            const c = controlled(a.canister_id);
            const id = Uint8Array.from(a.snapshot_id);
            ownSnapshot(c, id);
            port.later(port.compile(port.snapshotWasm(a.canister_id, id)), (module, error) => {
                try {
                    if (!module) throw error;
                    controlled(a.canister_id);
                    port.loadSnapshot(a.canister_id, id, module);
                    answer(empty(), m.cycles);
                } catch (e) {
                    answer({ reject: asReject(e) }, m.cycles);
                }
            });
            return undefined;
        }
        case 'list_canister_snapshots': {
            const a = decode<M.list_canister_snapshots_args>(M.list_canister_snapshots_args, m.arg);
            const c = controlled(a.canister_id);
            return ok(reply(M.list_canister_snapshots_result, c.snapshots.map(snapshotRecord)));
        }
        case 'delete_canister_snapshot': {
            const a = decode<M.delete_canister_snapshot_args>(M.delete_canister_snapshot_args, m.arg);
            const c = controlled(a.canister_id);
            const id = Uint8Array.from(a.snapshot_id);
            ownSnapshot(c, id);
            port.deleteSnapshot(a.canister_id, id);
            return ok(empty());
        }
        case 'deposit_cycles': {
            const a = decode<M.deposit_cycles_args>(M.deposit_cycles_args, m.arg);
            port.addCycles(a.canister_id, m.cycles);
            return ok(empty(), 0n);
        }
        case 'provisional_top_up_canister': {
            const a = decode<M.provisional_top_up_canister_args>(M.provisional_top_up_canister_args, m.arg);
            port.addCycles(a.canister_id, a.amount);
            return ok(empty());
        }
        case 'raw_rand': {
            // On the IC the randomness comes from a later round. Answering in a later event-loop turn keeps a canister
            // that yields with raw_rand (waiting for another message, e.g. a commit awaiting its signature) from
            // starving HTTP requests, timers and outcalls of this process.
            const random = reply(M.raw_rand_result, new Uint8Array(randomBytes(32)));
            port.later(port.nextTurn(), () => answer(random, m.cycles));
            return undefined;
        }
        case 'ecdsa_public_key': {
            const a = decode<M.ecdsa_public_key_args>(M.ecdsa_public_key_args, m.arg);
            checkKey(a.key_id.name);
            const target = a.canister_id[0] ?? m.caller;
            const r = ecdsaPublicKey(a.key_id.name, target.toUint8Array(), a.derivation_path.map((p) => Uint8Array.from(p)));
            return ok(reply(M.ecdsa_public_key_result, r));
        }
        case 'sign_with_ecdsa': {
            const a = decode<M.sign_with_ecdsa_args>(M.sign_with_ecdsa_args, m.arg);
            checkKey(a.key_id.name);
            if (a.message_hash.length !== 32) {
                throw new EngineError(RejectCode.CANISTER_REJECT, `message_hash must be 32 bytes, got ${a.message_hash.length}`);
            }
            if (m.cycles < SIGN_WITH_ECDSA_FEE) {
                throw new EngineError(
                    RejectCode.CANISTER_REJECT,
                    `sign_with_ecdsa request sent with ${m.cycles} cycles, but ${SIGN_WITH_ECDSA_FEE} cycles are required.`
                );
            }
            const signature = signWithEcdsa(
                a.key_id.name,
                m.caller.toUint8Array(),
                a.derivation_path.map((p) => Uint8Array.from(p)),
                Uint8Array.from(a.message_hash)
            );
            const signed = reply(M.sign_with_ecdsa_result, { signature });
            const refund = m.cycles - SIGN_WITH_ECDSA_FEE;
            if (port.ecdsaLatencyMs > 0) {
                // as on mainnet, where a threshold signature takes seconds: the reply comes later, other messages run meanwhile
                port.later(port.sleep(port.ecdsaLatencyMs), () => answer(signed, refund));
                return undefined;
            }
            return ok(signed, refund);
        }
        case 'http_request': {
            httpOutcall(port, m, answer);
            return undefined;
        }
        default:
            throw new EngineError(RejectCode.DESTINATION_INVALID, `Management canister has no method '${m.method}'`);
    }
}

const hex = (b: Uint8Array | number[]) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

function asReject(e: unknown): Reject {
    return e instanceof EngineError ? e.reject : { code: RejectCode.CANISTER_ERROR, message: (e as Error)?.message ?? String(e) };
}

/** errors of the wasm chunk store and of install_chunked_code (the IC's CanisterContractViolation) */
function chunkStoreError(message: string): EngineError {
    return new EngineError(RejectCode.CANISTER_ERROR, `Error from Wasm chunk store: ${message}.`, 'IC0504');
}

/** a snapshot named in a call must belong to the canister and exist */
function ownSnapshot(c: CanisterInfo, id: Uint8Array): void {
    const owner = id.subarray(8);
    if (id.length <= 8 || Buffer.compare(owner, c.id.toUint8Array()) !== 0) {
        throw new EngineError(RejectCode.CANISTER_REJECT, `The snapshot ${hex(id)} does not belong to canister ${c.id.toText()}.`, 'IC0406');
    }
    if (!c.snapshots.some((s) => Buffer.compare(s.id, id) === 0)) {
        throw new EngineError(RejectCode.DESTINATION_INVALID, `Could not find the snapshot ID ${hex(id)} for canister ${c.id.toText()}.`, 'IC0305');
    }
}

function snapshotRecord(s: SnapshotInfo): M.snapshot {
    return { id: s.id, total_size: s.totalSize, taken_at_timestamp: s.takenAtNs };
}

function canisterStatus(c: CanisterInfo): M.canister_status_result {
    return {
        status: { [c.status]: null } as M.canister_status_result['status'],
        memory_size: c.memorySize,
        cycles: c.cycles,
        settings: {
            freezing_threshold: c.freezingThreshold,
            controllers: c.controllers,
            reserved_cycles_limit: 5_000_000_000_000n,
            log_visibility: { controllers: null },
            wasm_memory_limit: 3n * 1024n * 1024n * 1024n,
            memory_allocation: 0n,
            compute_allocation: 0n
        },
        query_stats: {
            response_payload_bytes_total: 0n,
            num_instructions_total: 0n,
            num_calls_total: 0n,
            request_payload_bytes_total: 0n
        },
        idle_cycles_burned_per_day: 0n,
        module_hash: c.moduleHash ? [c.moduleHash] : [],
        reserved_cycles: 0n
    };
}

function checkKey(name: string): void {
    if (!ECDSA_KEY_NAMES.includes(name)) {
        throw new EngineError(
            RejectCode.CANISTER_REJECT,
            `Requested unknown threshold key: ecdsa:Secp256k1:${name}, existing keys: ${ECDSA_KEY_NAMES.map((k) => `ecdsa:Secp256k1:${k}`).join(', ')}`
        );
    }
}

type HttpArgs = {
    url: string;
    method: { get?: null; head?: null; post?: null };
    max_response_bytes: [] | [bigint];
    body: [] | [Uint8Array];
    transform: [] | [{ function: [Principal, string]; context: Uint8Array }];
    headers: { name: string; value: string }[];
};

/** fee of an HTTPS outcall on a 13-node subnet (interface spec cycles cost formula) */
export function httpOutcallFee(requestBytes: bigint, maxResponseBytes: bigint): bigint {
    const n = 13n;
    return (3_000_000n + 60_000n * n) * n + 400n * n * requestBytes + 800n * n * maxResponseBytes;
}

function httpOutcall(port: ManagementPort, m: ManagementRequest, answer: Answer): void {
    const a = decode<HttpArgs>(M.http_request_args, m.arg);
    let url: URL;
    try {
        url = new URL(a.url);
    } catch {
        throw new EngineError(RejectCode.CANISTER_REJECT, `Invalid URL ${a.url}`);
    }
    if (!isLoopback(url)) {
        throw new EngineError(RejectCode.SYS_FATAL, `This local replica only performs HTTP outcalls to loopback addresses, not ${url.hostname}`);
    }
    const maxBytes = a.max_response_bytes[0] ?? MAX_HTTP_RESPONSE_BYTES;
    if (maxBytes > MAX_HTTP_RESPONSE_BYTES) {
        throw new EngineError(RejectCode.CANISTER_REJECT, `max_response_bytes cannot exceed ${MAX_HTTP_RESPONSE_BYTES}`);
    }
    const body = a.body[0] ? Uint8Array.from(a.body[0]) : undefined;
    const requestBytes =
        BigInt(a.url.length) +
        BigInt(body?.length ?? 0) +
        BigInt(a.headers.reduce((n, h) => n + h.name.length + h.value.length, 0)) +
        BigInt(a.transform[0] ? a.transform[0].function[1].length + a.transform[0].context.length : 0);
    const fee = httpOutcallFee(requestBytes, maxBytes);
    if (m.cycles < fee) {
        throw new EngineError(RejectCode.CANISTER_REJECT, `http_request request sent with ${m.cycles} cycles, but ${fee} cycles are required.`);
    }
    const refund = m.cycles - fee;
    const method = Object.keys(a.method)[0].toUpperCase();
    const work = (async () => {
        const res = await fetch(url, {
            method,
            headers: a.headers.map((h) => [h.name, h.value] as [string, string]),
            body: method === 'POST' ? body : undefined,
            signal: AbortSignal.timeout(30_000),
            redirect: 'manual'
        });
        const bytes = new Uint8Array(await res.arrayBuffer());
        const headers: { name: string; value: string }[] = [];
        res.headers.forEach((value, name) => headers.push({ name, value }));
        return { status: BigInt(res.status), headers, body: bytes };
    })();
    port.later(work, (response, error) => {
        if (!response) {
            answer({ reject: { code: RejectCode.SYS_TRANSIENT, message: `Connecting to ${url.host} failed: ${(error as Error)?.message}` } }, refund);
            return;
        }
        const size = BigInt(response.body.length + response.headers.reduce((n, h) => n + h.name.length + h.value.length, 0));
        if (size > maxBytes) {
            answer({ reject: { code: RejectCode.SYS_FATAL, message: `Http body exceeds size limit of ${maxBytes} bytes.` } }, refund);
            return;
        }
        const t = a.transform[0];
        if (!t) {
            answer(reply(M.http_request_result, response), refund);
            return;
        }
        const [target, fn] = t.function;
        if (target.toText() !== m.caller.toText()) {
            answer({ reject: { code: RejectCode.CANISTER_REJECT, message: 'The transform function must be a query method of the calling canister' } }, refund);
            return;
        }
        let out: CallResult;
        try {
            out = port.transform(target, fn, new Uint8Array(IDL.encode([M.http_transform_args], [{ response, context: Uint8Array.from(t.context) }])));
        } catch (e) {
            answer({ reject: { code: RejectCode.DESTINATION_INVALID, message: (e as Error).message } }, refund);
            return;
        }
        const missing = 'reject' in out && out.reject.code === RejectCode.DESTINATION_INVALID;
        answer('reply' in out || missing ? out : { reject: { code: RejectCode.SYS_FATAL, message: `Transform failed: ${out.reject.message}` } }, refund);
    });
}
