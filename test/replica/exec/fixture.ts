// Shared set-up for the engine tests: the Azle test canister (built once, cached) and Candid call helpers.
import { readFile } from 'node:fs/promises';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { Engine, type CallResult } from '../../../replica/src/exec/engine.ts';
import { buildAzleCanister } from '../../helpers/azle-build.ts';

export const USER = Principal.selfAuthenticating(new Uint8Array(32).fill(7));
export const OTHER = Principal.selfAuthenticating(new Uint8Array(32).fill(9));

let wasm: Promise<Uint8Array> | undefined;
export function testCanisterWasm(): Promise<Uint8Array> {
    wasm ??= buildAzleCanister({ name: 'replica_test', main: 'test/fixtures/replica-canister/main.ts' }).then(
        async (p) => new Uint8Array(await readFile(p))
    );
    return wasm;
}

export function initArg(text?: string): Uint8Array {
    return new Uint8Array(IDL.encode([IDL.Opt(IDL.Text)], [text === undefined ? [] : [text]]));
}

export async function deployTestCanister(engine: Engine, text?: string): Promise<Principal> {
    const id = await engine.createCanister({ controllers: [USER] });
    await engine.installCode(id, await testCanisterWasm(), initArg(text), 'install', USER);
    return id;
}

export function decodeResult(r: CallResult, ret: IDL.Type[]): any {
    if ('reject' in r) throw Object.assign(new Error(`reject ${r.reject.code}: ${r.reject.message}`), { reject: r.reject });
    const v = IDL.decode(ret, r.reply);
    return ret.length === 1 ? v[0] : v;
}

export function caller(engine: Engine, id: Principal, sender: Principal = USER) {
    const enc = (types: IDL.Type[], args: unknown[]) => new Uint8Array(IDL.encode(types, args));
    return {
        query: async (m: string, types: IDL.Type[], args: unknown[], ret: IDL.Type[]) =>
            decodeResult(await engine.query(id, m, enc(types, args), sender), ret),
        update: async (m: string, types: IDL.Type[], args: unknown[], ret: IDL.Type[]) =>
            decodeResult(await engine.update(id, m, enc(types, args), sender), ret),
        rawQuery: (m: string, types: IDL.Type[], args: unknown[]) => engine.query(id, m, enc(types, args), sender),
        rawUpdate: (m: string, types: IDL.Type[], args: unknown[]) => engine.update(id, m, enc(types, args), sender)
    };
}

export const Counts = IDL.Record({ stable: IDL.Nat64, heap: IDL.Nat64 });
