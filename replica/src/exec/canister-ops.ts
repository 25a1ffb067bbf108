// Operations on one canister's state that involve no scheduling: what the management port's uninstall,
// settings, snapshot and status reads do to a CanisterState. The engine adds persistence and messaging.
import { createHash } from 'node:crypto';
import type { Principal } from '@dfinity/principal';
import { snapshotId, type CanisterState, type Snapshot } from './canister-state.ts';
import { EngineError, RejectCode } from './errors.ts';
import type { CanisterInfo, SnapshotInfo } from './management-port.ts';
import { CanisterRuntime } from './runtime.ts';
import { PAGE, StableMemory } from './stable-memory.ts';

/** the interface spec charges a stored chunk as 1 MiB, whatever its size */
const CHUNK_STORAGE_BYTES = 1n << 20n;

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

export function snapshotInfo(s: Snapshot): SnapshotInfo {
    const size = s.heap.length + s.stable.size * PAGE + s.wasm.length + s.certifiedData.length;
    return { id: s.id, takenAtNs: s.takenAtNs, totalSize: BigInt(size) + BigInt(s.chunks.size) * CHUNK_STORAGE_BYTES };
}

export function canisterInfo(c: CanisterState): CanisterInfo {
    const snapshots = c.snapshots.map(snapshotInfo);
    const memorySize =
        BigInt(c.runtime?.heapBytes() ?? 0) +
        BigInt(c.stable.size) * BigInt(PAGE) +
        BigInt(c.chunks.size) * CHUNK_STORAGE_BYTES +
        snapshots.reduce((n, s) => n + s.totalSize, 0n);
    return {
        id: c.id,
        controllers: [...c.controllers],
        status: c.status,
        cycles: c.cycles,
        freezingThreshold: c.freezingThreshold,
        moduleHash: c.moduleHash,
        memorySize,
        chunkHashes: [...c.chunks.keys()],
        snapshots
    };
}

/** empties a canister: module, heap, stable memory, timer and certified data go; callbacks of its calls are dropped */
export function uninstall(c: CanisterState): void {
    c.runtime = null;
    c.wasm = null;
    c.moduleHash = null;
    c.stable = new StableMemory();
    c.stableReset = true;
    c.globalTimer = 0n;
    c.certifiedData = new Uint8Array(0);
    c.generation += 1;
    c.version += 1n;
    c.metaDirty = true;
    c.moduleFile = null;
}

export function updateSettings(c: CanisterState, s: { controllers?: Principal[]; freezingThreshold?: bigint }): void {
    if (s.controllers) c.controllers = [...s.controllers];
    if (s.freezingThreshold !== undefined) c.freezingThreshold = s.freezingThreshold;
    c.version += 1n;
    c.metaDirty = true;
}

/** a snapshot of the canister as it is between messages (its live heap is then the committed one) */
export function captureSnapshot(c: CanisterState, takenAtNs: bigint): Snapshot {
    if (!c.runtime || !c.wasm) {
        throw new EngineError(RejectCode.CANISTER_REJECT, `Failed to create snapshot for empty canister ${c.id.toText()}:`, 'IC0406');
    }
    const { heap, globals } = c.runtime.captureState();
    const snapshot: Snapshot = {
        id: snapshotId(c, c.nextSnapshotIndex++),
        takenAtNs,
        wasm: c.wasm,
        heap,
        globals,
        stable: c.stable.clone(),
        certifiedData: c.certifiedData,
        globalTimer: c.globalTimer,
        installArg: c.installArg,
        chunks: new Map(c.chunks)
    };
    c.snapshots.push(snapshot);
    c.metaDirty = true;
    return snapshot;
}

export function findSnapshot(c: CanisterState, id: Uint8Array): Snapshot {
    const s = c.snapshots.find((x) => sameBytes(x.id, id));
    if (!s) {
        throw new EngineError(
            RejectCode.DESTINATION_INVALID,
            `Could not find the snapshot ID ${Buffer.from(id).toString('hex')} for canister ${c.id.toText()}.`,
            'IC0305'
        );
    }
    return s;
}

export function dropSnapshot(c: CanisterState, id: Uint8Array): void {
    c.snapshots = c.snapshots.filter((s) => !sameBytes(s.id, id));
}

/** puts a canister back to a snapshot: module, heap, globals, stable memory, certified data, timer, chunk store */
export function restoreSnapshot(c: CanisterState, s: Snapshot, module: WebAssembly.Module): void {
    const stable = s.stable.clone();
    c.runtime = CanisterRuntime.withState(module, stable, s.heap, s.globals);
    c.stable = stable;
    c.stableReset = true;
    c.wasm = s.wasm;
    c.moduleHash = sha256(s.wasm);
    c.moduleFile = null;
    c.certifiedData = s.certifiedData;
    c.globalTimer = s.globalTimer;
    c.installArg = s.installArg;
    c.chunks = new Map(s.chunks);
    c.generation += 1;
    c.version += 1n;
    c.metaDirty = true;
}
