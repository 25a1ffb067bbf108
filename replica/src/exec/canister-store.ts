// Keeps the engine's canisters in a state directory (persistence.ts has the file layout): what changed is
// written as one durable batch per scheduler run; chunk stores and snapshots are written when they change;
// on start the canisters are read back (the engine then runs their post_upgrade, as after an upgrade).
import { createHash } from 'node:crypto';
import { Principal } from '@dfinity/principal';
import { newCanisterState, snapshotIndex, type CanisterState, type Snapshot } from './canister-state.ts';
import { StateDir, type CanisterWrite, type EngineMeta } from './persistence.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** a canister read back from disk, with the module it had installed (null when empty or missing) */
export type StoredCanister = { state: CanisterState; wasm: Uint8Array | null };

export class CanisterStore {
    private readonly dir: StateDir;

    constructor(path: string) {
        this.dir = new StateDir(path);
    }

    loadEngineMeta(): EngineMeta | null {
        return this.dir.loadEngineMeta();
    }

    saveEngineMeta(meta: EngineMeta): void {
        this.dir.saveEngineMeta(meta);
    }

    /** persists every canister changed since the last flush as one durable batch */
    flush(canisters: Iterable<CanisterState>): void {
        const changed = [...canisters].filter((c) => c.metaDirty || c.stable.dirty.size || c.stableReset);
        if (!changed.length) return;
        this.dir.commit(changed.map((c) => this.writeOf(c)));
        for (const c of changed) {
            c.stable.dirty.clear();
            c.stableReset = false;
            c.metaDirty = false;
        }
    }

    private writeOf(c: CanisterState): CanisterWrite {
        const pages = new Map<number, Uint8Array | undefined>();
        if (c.stableReset) {
            for (const p of c.stable.pageIndices()) if (p < c.stable.size) pages.set(p, c.stable.page(p));
        } else {
            for (const p of c.stable.dirty) pages.set(p, c.stable.page(p));
        }
        if (c.wasm && !c.moduleFile) c.moduleFile = this.dir.saveWasm(c.id.toText(), c.wasm);
        return {
            full: c.stableReset,
            pages,
            meta: {
                id: c.id.toText(),
                controllers: c.controllers.map((p) => p.toText()),
                cycles: c.cycles.toString(),
                version: c.version.toString(),
                status: c.status,
                globalTimer: c.globalTimer.toString(),
                certifiedData: hex(c.certifiedData),
                installArg: hex(c.installArg),
                module: c.wasm ? c.moduleFile : null,
                stablePages: c.stable.size,
                createdAtNs: c.createdAtNs.toString(),
                nextSnapshotIndex: c.nextSnapshotIndex,
                freezingThreshold: c.freezingThreshold.toString()
            }
        };
    }

    forget(id: Principal): void {
        this.dir.deleteCanister(id.toText());
    }

    saveChunk(id: Principal, hash: string, bytes: Uint8Array): void {
        this.dir.saveChunk(id.toText(), hash, bytes);
    }

    clearChunks(id: Principal): void {
        this.dir.clearChunks(id.toText());
    }

    saveSnapshot(id: Principal, s: Snapshot): void {
        this.dir.saveSnapshot(id.toText(), s);
    }

    deleteSnapshot(id: Principal, snapshot: Uint8Array): void {
        this.dir.deleteSnapshot(id.toText(), snapshot);
    }

    /** every stored canister, as it was at the last durable batch (runtime not yet instantiated) */
    load(): StoredCanister[] {
        return this.dir.canisterIds().map((idText) => {
            const m = this.dir.loadMeta(idText);
            const wasm = m.module ? this.dir.loadWasm(idText, m.module) : null;
            const snapshots = this.dir.loadSnapshots(idText);
            // snapshots are written when taken, the index with the next batch: never reuse the id of one on disk
            const nextSnapshotIndex = Math.max(m.nextSnapshotIndex ?? 0, ...snapshots.map((s) => snapshotIndex(s.id) + 1));
            const state = newCanisterState(Principal.fromText(idText), {
                controllers: m.controllers.map((p) => Principal.fromText(p)),
                cycles: BigInt(m.cycles),
                version: BigInt(m.version),
                status: m.status,
                stable: this.dir.loadStable(idText, m.stablePages),
                globalTimer: BigInt(m.globalTimer),
                certifiedData: new Uint8Array(Buffer.from(m.certifiedData, 'hex')),
                installArg: new Uint8Array(Buffer.from(m.installArg, 'hex')),
                createdAtNs: BigInt(m.createdAtNs),
                chunks: this.dir.loadChunks(idText),
                snapshots,
                nextSnapshotIndex,
                ...(m.freezingThreshold ? { freezingThreshold: BigInt(m.freezingThreshold) } : {}),
                // the module stays recorded even if post_upgrade then fails (the canister answers as empty)
                wasm,
                moduleFile: wasm ? m.module : null,
                moduleHash: wasm ? new Uint8Array(createHash('sha256').update(wasm).digest()) : null,
                stableReset: false,
                metaDirty: false
            });
            return { state, wasm };
        });
    }
}
