// Hand-assembled canisters for the management canister's lifecycle rules (chunked installs, stop, snapshots,
// controllers, inspect_message) and helpers to call aaaaa-aa with Azle's management Candid types.
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import * as M from 'azle/canisters/management/idl';
import type { CallResult, Engine } from '../../../replica/src/exec/engine.ts';
import { add, assemble, bytes, call, drop, eq, globalGet, globalSet, I32, i32, load32, load8, store32, store8, sub, unreachable, when } from './mini-wasm.ts';

export const MGMT = Principal.managementCanister();

/**
 * A counter canister. Heap counter at 0, a mutable global; `inc` bumps both, query `get` replies both (8 bytes,
 * little endian), query `qnop` replies them too. canister_inspect_message accepts every method except those
 * whose name has 4 letters (`nope`: not accepted) or 5 letters (`trap_`: traps). `waiting` calls raw_rand and
 * replies from the callback, so its call context stays open until the management canister answers. `greet`
 * replies the Candid empty text. `version` tells two builds apart (it is the global's initial value).
 */
export function counterWasm(version = 0): Uint8Array {
    const imports = [
        { name: 'msg_reply_data_append', params: [I32, I32], results: [] }, // 0
        { name: 'msg_reply', params: [], results: [] }, // 1
        { name: 'accept_message', params: [], results: [] }, // 2
        { name: 'msg_method_name_size', params: [], results: [I32] }, // 3
        { name: 'call_new', params: [I32, I32, I32, I32, I32, I32, I32, I32], results: [] }, // 4
        { name: 'call_perform', params: [], results: [I32] } // 5
    ];
    const replyState = [...store32(4, globalGet(0)), ...i32(0), ...i32(8), ...call(0), ...call(1)];
    const funcs = [
        { export: 'canister_query get', body: replyState }, // 0
        { export: 'canister_update inc', body: [...store32(0, [...load32(0), ...i32(1), ...add]), ...globalGet(0), ...i32(1), ...add, ...globalSet(0), ...replyState] }, // 1
        {
            export: 'canister_inspect_message',
            body: [
                ...when([...call(3), ...i32(5), ...eq], unreachable),
                ...when([...call(3), ...i32(4), ...eq, 0x45 /* i32.eqz */], call(2))
            ]
        }, // 2
        // calls aaaaa-aa raw_rand (the management canister's id is the empty principal)
        { export: 'canister_update waiting', body: [...i32(0), ...i32(0), ...i32(100), ...i32(8), ...i32(4), ...i32(0), ...i32(4), ...i32(0), ...call(4), ...call(5), ...drop] }, // 3
        { body: call(1), params: [I32] }, // 4: reply / reject callback: answers the original call
        { export: 'canister_update nope', body: call(1) }, // 5
        { export: 'canister_update trap_', body: call(1) }, // 6
        { export: 'canister_query qnop', body: replyState }, // 7
        { export: 'canister_update greet', body: [...i32(120), ...i32(8), ...call(0), ...call(1)] } // 8
    ];
    return assemble({
        imports,
        funcs,
        globals: [version * 1000],
        data: [
            { offset: 100, bytes: bytes('raw_rand') },
            { offset: 120, bytes: [0x44, 0x49, 0x44, 0x4c, 0x00, 0x01, 0x71, 0x00] } // Candid ("")
        ]
    });
}

/** a new canister controlled by `controller` with the counter module installed */
export async function deployCounter(engine: Engine, controller: Principal, version = 0): Promise<Principal> {
    const id = await engine.createCanister({ controllers: [controller] });
    await engine.installCode(id, counterWasm(version), new Uint8Array(), 'install', controller);
    return id;
}

/** heap counter and global of the counter canister */
export async function counterState(engine: Engine, id: Principal, sender: Principal): Promise<{ heap: number; global: number }> {
    const r = await engine.query(id, 'get', new Uint8Array(), sender);
    if (!('reply' in r)) throw new Error(`get rejected: ${r.reject.message}`);
    const v = new DataView(r.reply.buffer, r.reply.byteOffset);
    return { heap: v.getInt32(0, true), global: v.getInt32(4, true) };
}

/**
 * A canister that calls the management canister for whoever calls its `proxy` update: the argument is one byte
 * n, the method name (n bytes) and the Candid argument. It replies with the management canister's reply bytes,
 * or, if the call is rejected, with the reject code (one byte) followed by the reject message.
 */
export function proxyWasm(): Uint8Array {
    const imports = [
        { name: 'msg_arg_data_size', params: [], results: [I32] }, // 0
        { name: 'msg_arg_data_copy', params: [I32, I32, I32], results: [] }, // 1
        { name: 'call_new', params: [I32, I32, I32, I32, I32, I32, I32, I32], results: [] }, // 2
        { name: 'call_data_append', params: [I32, I32], results: [] }, // 3
        { name: 'call_perform', params: [], results: [I32] }, // 4
        { name: 'msg_reply_data_append', params: [I32, I32], results: [] }, // 5
        { name: 'msg_reply', params: [], results: [] }, // 6
        { name: 'msg_reject_code', params: [], results: [I32] }, // 7
        { name: 'msg_reject_msg_size', params: [], results: [I32] }, // 8
        { name: 'msg_reject_msg_copy', params: [I32, I32, I32], results: [] } // 9
    ];
    const nameLen = load8(1000);
    const funcs = [
        {
            export: 'canister_update proxy',
            body: [
                ...i32(1000), ...i32(0), ...call(0), ...call(1),
                ...i32(0), ...i32(0), ...i32(1001), ...nameLen, ...i32(1), ...i32(0), ...i32(2), ...i32(0), ...call(2),
                ...i32(1001), ...nameLen, ...add, ...call(0), ...i32(1), ...sub, ...nameLen, ...sub, ...call(3),
                ...call(4), ...drop
            ]
        }, // 0
        { body: [...i32(20000), ...i32(0), ...call(0), ...call(1), ...i32(20000), ...call(0), ...call(5), ...call(6)], params: [I32] }, // 1: reply callback
        {
            body: [...store8(20000, call(7)), ...i32(20001), ...i32(0), ...call(8), ...call(9), ...i32(20000), ...call(8), ...i32(1), ...add, ...call(5), ...call(6)],
            params: [I32]
        } // 2: reject callback
    ];
    return assemble({ imports, funcs });
}

/** what a proxied management call came back with */
export function proxied(r: CallResult): CallResult {
    if (!('reply' in r)) return r;
    const b = r.reply;
    if (b[0] === 0x44 && b[1] === 0x49 && b[2] === 0x44 && b[3] === 0x4c) return r;
    return { reject: { code: b[0]!, message: new TextDecoder().decode(b.subarray(1)) } };
}

/** Candid-encodes a management argument with Azle's type for it */
export function mgmtArg<T>(type: IDL.Type, value: T): Uint8Array {
    return new Uint8Array(IDL.encode([type], [value]));
}

export const mgmt = (engine: Engine, method: string, type: IDL.Type, value: unknown, sender: Principal) =>
    engine.update(MGMT, method, mgmtArg(type, value), sender);

/** calls aaaaa-aa through the proxy canister (so the caller is that canister) */
export async function viaProxy(engine: Engine, proxy: Principal, method: string, type: IDL.Type, value: unknown, sender: Principal): Promise<CallResult> {
    const name = new TextEncoder().encode(method);
    const arg = mgmtArg(type, value);
    const payload = new Uint8Array(1 + name.length + arg.length);
    payload[0] = name.length;
    payload.set(name, 1);
    payload.set(arg, 1 + name.length);
    return proxied(await engine.update(proxy, 'proxy', payload, sender));
}

export function decodeReply<T>(r: CallResult, type: IDL.Type): T {
    if (!('reply' in r)) throw new Error(`rejected ${r.reject.code}: ${r.reject.message}`);
    return IDL.decode([type], r.reply)[0] as T;
}

export { M };
