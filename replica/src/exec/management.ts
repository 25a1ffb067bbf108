// The management canister (aaaaa-aa): Candid-encoded methods (types from Azle's management IDL), caller =
// the sender (a user for ingress, the calling canister otherwise). It decodes, checks who may do what and
// answers (now, or for work that completes later through port.later); the engine carries out the
// operations behind the ManagementPort.
import { randomBytes } from 'node:crypto';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import * as M from 'azle/canisters/management/idl';
import { ECDSA_KEY_NAMES, ecdsaPublicKey, signWithEcdsa } from './ecdsa.ts';
import { EngineError, RejectCode, type CallResult } from './errors.ts';
import type { Answer, CanisterInfo, ManagementPort, ManagementRequest } from './management-port.ts';

export const SIGN_WITH_ECDSA_FEE = 26_153_846_153n;
export const CREATE_CANISTER_FEE = 500_000_000_000n;
const MAX_HTTP_RESPONSE_BYTES = 2_000_000n;

/** methods whose argument record names the canister they act on (effective canister id) */
const TARGETED: Record<string, IDL.Type> = {
    install_code: M.install_code_args,
    canister_status: M.canister_status_args,
    update_settings: M.update_settings_args,
    start_canister: M.start_canister_args,
    stop_canister: M.stop_canister_args,
    delete_canister: M.delete_canister_args,
    uninstall_code: M.uninstall_code_args,
    deposit_cycles: M.deposit_cycles_args,
    provisional_top_up_canister: M.provisional_top_up_canister_args
};

export function managementEffectiveCanisterId(method: string, arg: Uint8Array): Principal | undefined {
    const t = TARGETED[method];
    if (!t) return undefined;
    try {
        const [v] = IDL.decode([t], arg) as unknown as [{ canister_id: Principal }];
        return v.canister_id;
    } catch {
        return undefined;
    }
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

/** only controllers may act on a canister */
export function requireController(c: { id: Principal; controllers: Principal[] }, caller: Principal, method: string): void {
    if (!c.controllers.some((p) => p.compareTo(caller) === 'eq')) {
        throw new EngineError(RejectCode.CANISTER_ERROR, `Only controllers of canister ${c.id.toText()} can call ic00 method ${method}`);
    }
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
    const controlled = (id: Principal, method: string): CanisterInfo => {
        const c = port.canister(id);
        requireController(c, m.caller, method);
        return c;
    };
    const canisterOnly = () => {
        if (!m.fromCanister) throw new EngineError(RejectCode.CANISTER_REJECT, `Only canisters can call ic00 method ${m.method}`);
    };
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
            controlled(a.canister_id, 'install_code');
            const wasm = Uint8Array.from(a.wasm_module);
            const arg = Uint8Array.from(a.arg);
            port.later(port.compile(wasm), (module, error) => {
                try {
                    if (!module) throw error;
                    port.install(a.canister_id, wasm, module, arg, installMode(a.mode), m.caller);
                    answer(empty(), m.cycles);
                } catch (e) {
                    const code = e instanceof EngineError ? e.code : RejectCode.CANISTER_ERROR;
                    answer({ reject: { code, message: (e as Error).message, errorCode: e instanceof EngineError ? e.errorCode : undefined } }, m.cycles);
                }
            });
            return undefined;
        }
        case 'canister_status': {
            const a = decode<M.canister_status_args>(M.canister_status_args, m.arg);
            const c = controlled(a.canister_id, 'canister_status');
            return ok(reply(M.canister_status_result, canisterStatus(c)));
        }
        case 'update_settings': {
            const a = decode<M.update_settings_args>(M.update_settings_args, m.arg);
            controlled(a.canister_id, 'update_settings');
            const controllers = a.settings.controllers[0];
            if (controllers && controllers.length > 10) {
                throw new EngineError(RejectCode.CANISTER_REJECT, 'Invalid settings: at most 10 controllers are allowed');
            }
            port.updateSettings(a.canister_id, { controllers, freezingThreshold: a.settings.freezing_threshold[0] });
            return ok(empty());
        }
        case 'start_canister': {
            const a = decode<M.start_canister_args>(M.start_canister_args, m.arg);
            controlled(a.canister_id, m.method);
            port.start(a.canister_id);
            return ok(empty());
        }
        case 'stop_canister': {
            const a = decode<M.stop_canister_args>(M.stop_canister_args, m.arg);
            controlled(a.canister_id, m.method);
            port.stop(a.canister_id, (r) => answer(r, m.cycles));
            return undefined;
        }
        case 'uninstall_code': {
            const a = decode<M.uninstall_code_args>(M.uninstall_code_args, m.arg);
            controlled(a.canister_id, 'uninstall_code');
            port.uninstall(a.canister_id);
            return ok(empty());
        }
        case 'delete_canister': {
            const a = decode<M.delete_canister_args>(M.delete_canister_args, m.arg);
            const c = controlled(a.canister_id, 'delete_canister');
            if (c.status !== 'stopped') {
                throw new EngineError(RejectCode.CANISTER_ERROR, `Canister ${c.id.toText()} must be stopped before it is deleted.`, 'IC0510');
            }
            port.deleteCanister(a.canister_id);
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
            canisterOnly();
            // On the IC the randomness comes from a later round. Answering in a later event-loop turn keeps a canister
            // that yields with raw_rand (waiting for another message, e.g. a commit awaiting its signature) from
            // starving HTTP requests, timers and outcalls of this process.
            const random = reply(M.raw_rand_result, new Uint8Array(randomBytes(32)));
            port.later(port.nextTurn(), () => answer(random, m.cycles));
            return undefined;
        }
        case 'ecdsa_public_key': {
            canisterOnly();
            const a = decode<M.ecdsa_public_key_args>(M.ecdsa_public_key_args, m.arg);
            checkKey(a.key_id.name);
            const target = a.canister_id[0] ?? m.caller;
            const r = ecdsaPublicKey(a.key_id.name, target.toUint8Array(), a.derivation_path.map((p) => Uint8Array.from(p)));
            return ok(reply(M.ecdsa_public_key_result, r));
        }
        case 'sign_with_ecdsa': {
            canisterOnly();
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
            canisterOnly();
            httpOutcall(port, m, answer);
            return undefined;
        }
        default:
            throw new EngineError(RejectCode.DESTINATION_INVALID, `Management canister has no method '${m.method}'`);
    }
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
