// The state the engine keeps per canister, and the one place such a record is made (creation and
// restore from the state directory both go through newCanisterState).
import type { Principal } from '@dfinity/principal';
import type { CallResult } from './errors.ts';
import type { CanisterRuntime } from './runtime.ts';
import { StableMemory } from './stable-memory.ts';

export type CanisterStatus = 'running' | 'stopping' | 'stopped';

/** a canister snapshot (interface spec: heap, stable memory, globals, certified data, chunk store, module) */
export type Snapshot = {
    /** see snapshotId */
    id: Uint8Array;
    takenAtNs: bigint;
    wasm: Uint8Array;
    heap: Uint8Array;
    globals: (number | bigint)[];
    stable: StableMemory;
    certifiedData: Uint8Array;
    globalTimer: bigint;
    installArg: Uint8Array;
    chunks: Map<string, Uint8Array>;
};

export type CanisterState = {
    id: Principal;
    idBytes: Uint8Array;
    controllers: Principal[];
    cycles: bigint;
    /** seconds (settings.freezing_threshold; kept and reported, not enforced) */
    freezingThreshold: bigint;
    version: bigint;
    status: CanisterStatus;
    /** the installed (uncompressed) module; null while empty */
    wasm: Uint8Array | null;
    moduleHash: Uint8Array | null;
    runtime: CanisterRuntime | null;
    stable: StableMemory;
    globalTimer: bigint;
    certifiedData: Uint8Array;
    installArg: Uint8Array;
    /** bumped by every install/uninstall/snapshot load: callbacks of an older generation are dropped */
    generation: number;
    createdAtNs: bigint;
    /** replica time of the last canister_heartbeat (heartbeats run at most once per second of replica time) */
    lastHeartbeatNs: bigint;
    /** call contexts not yet closed (a stopping canister becomes stopped when this reaches 0) */
    openCallContexts: number;
    /** stop_canister calls waiting for the canister to stop, each with its deadline (replica time, ns) */
    stopWaiters: { answer: (r: CallResult) => void; deadlineNs: bigint }[];
    /** wasm chunk store: hex sha256 -> chunk */
    chunks: Map<string, Uint8Array>;
    snapshots: Snapshot[];
    /** counter for snapshot ids */
    nextSnapshotIndex: number;
    /** persistence: file name of the stored module (null until stored) */
    moduleFile: string | null;
    /** persistence: stable memory must be rewritten in full (install/reinstall/uninstall/snapshot load) */
    stableReset: boolean;
    metaDirty: boolean;
};

export type NewCanister = Partial<Omit<CanisterState, 'id' | 'idBytes'>> & { controllers: Principal[]; cycles: bigint; createdAtNs: bigint };

export function newCanisterState(id: Principal, init: NewCanister): CanisterState {
    return {
        id,
        idBytes: id.toUint8Array(),
        version: 0n,
        freezingThreshold: 2_592_000n,
        status: 'running',
        wasm: null,
        moduleHash: null,
        runtime: null,
        stable: new StableMemory(),
        globalTimer: 0n,
        certifiedData: new Uint8Array(0),
        installArg: new Uint8Array(0),
        generation: 0,
        lastHeartbeatNs: 0n,
        openCallContexts: 0,
        stopWaiters: [],
        chunks: new Map(),
        snapshots: [],
        nextSnapshotIndex: 0,
        moduleFile: null,
        stableReset: true,
        metaDirty: true,
        ...init
    };
}

/** snapshot ids: an 8-byte big-endian index followed by the canister id (unique per canister, never reused) */
export function snapshotId(c: CanisterState, index: number): Uint8Array {
    const out = new Uint8Array(8 + c.idBytes.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(index));
    out.set(c.idBytes, 8);
    return out;
}

export function snapshotIndex(id: Uint8Array): number {
    return Number(new DataView(id.buffer, id.byteOffset, 8).getBigUint64(0));
}
