// The Azle test canister (test/fixtures/replica-canister, built once and cached) and its interface.
import { readFile } from 'node:fs/promises';
import { IDL } from '@dfinity/candid';
import { buildAzleCanister } from '../../helpers/azle-build.ts';

let wasm: Promise<Uint8Array> | undefined;
export function testCanisterWasm(): Promise<Uint8Array> {
  wasm ??= buildAzleCanister({ name: 'replica_test', main: 'test/fixtures/replica-canister/main.ts' }).then(
    async (p) => new Uint8Array(await readFile(p))
  );
  return wasm;
}

export const initArg = (text?: string) => new Uint8Array(IDL.encode([IDL.Opt(IDL.Text)], [text === undefined ? [] : [text]]));

const Counts = IDL.Record({ stable: IDL.Nat64, heap: IDL.Nat64 });
export const testCanisterIdl: IDL.InterfaceFactory = ({ IDL }) =>
  IDL.Service({
    greet: IDL.Func([IDL.Text], [IDL.Text], ['query']),
    whoami: IDL.Func([], [IDL.Text], ['query']),
    getInitArg: IDL.Func([], [IDL.Text], ['query']),
    increment: IDL.Func([], [IDL.Nat64], []),
    getCounts: IDL.Func([], [Counts], ['query']),
    getNote: IDL.Func([IDL.Text], [IDL.Opt(IDL.Text)], ['query']),
    incrementThenTrap: IDL.Func([], [IDL.Nat64], []),
    burn: IDL.Func([IDL.Nat64], [IDL.Nat64], []),
    scheduleTimer: IDL.Func([IDL.Nat32], [IDL.Nat64], []),
    getTimerFired: IDL.Func([], [IDL.Record({ heap: IDL.Nat64, stable: IDL.Nat64 })], ['query']),
    ecdsaPublicKey: IDL.Func([IDL.Vec(IDL.Vec(IDL.Nat8))], [IDL.Record({ public_key: IDL.Vec(IDL.Nat8), chain_code: IDL.Vec(IDL.Nat8) })], []),
    sign: IDL.Func([IDL.Vec(IDL.Vec(IDL.Nat8)), IDL.Vec(IDL.Nat8)], [IDL.Vec(IDL.Nat8)], []),
    setCertified: IDL.Func([IDL.Vec(IDL.Nat8)], [IDL.Bool], []),
    getCertificate: IDL.Func([], [IDL.Opt(IDL.Vec(IDL.Nat8))], ['query'])
  });

/** The same canister with `whoami` called as an update (replicated execution of a query method). */
export const whoamiUpdateIdl: IDL.InterfaceFactory = ({ IDL }) => IDL.Service({ whoami: IDL.Func([], [IDL.Text], []) });

export type Counts = { stable: bigint; heap: bigint };
export type TestCanister = {
  greet(name: string): Promise<string>;
  whoami(): Promise<string>;
  getInitArg(): Promise<string>;
  increment(): Promise<bigint>;
  getCounts(): Promise<Counts>;
  getNote(key: string): Promise<[] | [string]>;
  incrementThenTrap(): Promise<bigint>;
  burn(n: bigint): Promise<bigint>;
  scheduleTimer(seconds: number): Promise<bigint>;
  getTimerFired(): Promise<{ heap: bigint; stable: bigint }>;
  ecdsaPublicKey(path: Uint8Array[]): Promise<{ public_key: Uint8Array; chain_code: Uint8Array }>;
  sign(path: Uint8Array[], digest: Uint8Array): Promise<Uint8Array>;
  setCertified(data: Uint8Array): Promise<boolean>;
  getCertificate(): Promise<[] | [Uint8Array]>;
};
