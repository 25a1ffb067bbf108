// What the management canister (management.ts) needs from the engine, and nothing more: it decodes the
// Candid, checks who may do what and answers; the engine owns the canisters and carries the operations out.
import type { Principal } from '@dfinity/principal';
import type { CanisterStatus } from './canister-state.ts';
import type { CallResult } from './errors.ts';

export type InstallMode = 'install' | 'reinstall' | 'upgrade';

/** one call to aaaaa-aa: from a user (ingress) or from a canister */
export type ManagementRequest = { method: string; arg: Uint8Array; caller: Principal; cycles: bigint; fromCanister: boolean };

/** how a management call is answered: now or later, with the cycles to give back to a calling canister */
export type Answer = (result: CallResult, refund: bigint) => void;

export type SnapshotInfo = { id: Uint8Array; takenAtNs: bigint; totalSize: bigint };

/** what the management canister can read about a canister */
export type CanisterInfo = {
    id: Principal;
    controllers: Principal[];
    status: CanisterStatus;
    cycles: bigint;
    freezingThreshold: bigint;
    moduleHash: Uint8Array | null;
    /** heap + stable memory + chunk store + snapshots, in bytes */
    memorySize: bigint;
    /** hex SHA-256 of the chunks in its wasm chunk store */
    chunkHashes: string[];
    snapshots: SnapshotInfo[];
};

export interface ManagementPort {
    /** real-time delay before a sign_with_ecdsa reply */
    readonly ecdsaLatencyMs: number;
    /** throws EngineError (IC0301) for an unknown canister */
    canister(id: Principal): CanisterInfo;
    createCanister(o: { controllers?: Principal[]; cycles?: bigint; sender: Principal }): Principal;
    /** validates and compiles a module (gzip accepted); rejects with EngineError */
    compile(wasm: Uint8Array): Promise<WebAssembly.Module>;
    /** install/reinstall/upgrade with a compiled module; throws EngineError and changes nothing then */
    install(id: Principal, wasm: Uint8Array, module: WebAssembly.Module, arg: Uint8Array, mode: InstallMode, caller: Principal): void;
    uninstall(id: Principal): void;
    updateSettings(id: Principal, s: { controllers?: Principal[]; freezingThreshold?: bigint }): void;
    addCycles(id: Principal, amount: bigint): void;
    deleteCanister(id: Principal): void;
    start(id: Principal): void;
    /** sets the canister stopping; `done` gets an empty reply once it has no open call contexts (or a reject if started meanwhile) */
    stop(id: Principal, done: (r: CallResult) => void): void;
    chunk(id: Principal, hash: string): Uint8Array | undefined;
    putChunk(id: Principal, hash: string, bytes: Uint8Array): void;
    clearChunks(id: Principal): void;
    /** snapshots the canister as it is now (it must have a module) */
    takeSnapshot(id: Principal): SnapshotInfo;
    /** the module a snapshot holds (to compile before loading it); throws EngineError (IC0305) if there is no such snapshot */
    snapshotWasm(id: Principal, snapshot: Uint8Array): Uint8Array;
    loadSnapshot(id: Principal, snapshot: Uint8Array, module: WebAssembly.Module): void;
    deleteSnapshot(id: Principal, snapshot: Uint8Array): void;
    /** runs a query method of a canister as the management canister (HTTP outcall transforms); state changes discarded */
    transform(id: Principal, method: string, arg: Uint8Array): CallResult;
    /** completes `work` outside the current scheduler run, then calls `done` inside a later one */
    later<T>(work: Promise<T>, done: (value: T | undefined, error: unknown) => void): void;
    /** resolves in a later event-loop turn */
    nextTurn(): Promise<void>;
    /** resolves after `ms` of real time, or when the engine closes */
    sleep(ms: number): Promise<void>;
}
