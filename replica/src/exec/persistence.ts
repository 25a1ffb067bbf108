// State directory layout (one directory per canister, named by its textual id):
//   engine.json                      { nextCanisterIndex, timeOffsetNs }
//   wal.bin                          write-ahead log of the batch being applied (present only mid-commit)
//   canisters/<id>/meta.json         controllers, cycles, version, timer, certified data, install arg,
//                                    stable size, module file name
//   canisters/<id>/module-<sha256>.wasm   installed (original) wasm, content-addressed
//   canisters/<id>/stable.bin        stable memory, page p at byte p * 64 KiB (sparse file)
//   canisters/<id>/chunks/<sha256>.bin            wasm chunk store (written when a chunk is uploaded)
//   canisters/<id>/snapshots/<snapshot id hex>/   snapshot: meta.json, module.wasm, heap.bin, stable.bin,
//                                                 chunks/<sha256>.bin (written whole when it is taken)
// A batch (all canisters changed by the messages of one scheduler run) is first written to wal.bin with a
// trailing sha256 and fsync'ed, then applied in place (pages written, fsync, meta.json by atomic rename), then
// the log is removed. A crash leaves either the old state, or a complete log that is replayed on start.
import { createHash } from 'node:crypto';
import {
    closeSync,
    existsSync,
    fsyncSync,
    ftruncateSync,
    mkdirSync,
    openSync,
    readdirSync,
    readFileSync,
    readSync,
    renameSync,
    rmSync,
    unlinkSync,
    writeSync
} from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from './canister-state.ts';
import { PAGE, StableMemory } from './stable-memory.ts';

export type CanisterMeta = {
    id: string;
    controllers: string[];
    cycles: string;
    version: string;
    status: 'running' | 'stopping' | 'stopped';
    globalTimer: string;
    certifiedData: string; // hex
    installArg: string; // hex, replayed to post_upgrade on restart
    module: string | null; // file name of the installed wasm
    stablePages: number;
    createdAtNs: string;
    /** absent in state directories written before these existed */
    nextSnapshotIndex?: number;
    freezingThreshold?: string;
};

type SnapshotMeta = {
    takenAtNs: string;
    globals: string[]; // bigint as "<n>n", numbers as text
    certifiedData: string;
    globalTimer: string;
    installArg: string;
    stablePages: number;
};

export type EngineMeta = { nextCanisterIndex: number; timeOffsetNs: string };

/** one canister's part of a batch: its metadata and the stable pages to write (all of them when `full`) */
export type CanisterWrite = { meta: CanisterMeta; full: boolean; pages: Map<number, Uint8Array | undefined> };

const WAL_MAGIC = new TextEncoder().encode('CANOPYWAL1');

function writeAtomic(path: string, data: string | Uint8Array): void {
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
        writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
        fsyncSync(fd);
    } finally {
        closeSync(fd);
    }
    renameSync(tmp, path);
}

function u32le(n: number): Uint8Array {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    return b;
}

/** the write-ahead log of a batch: magic, per canister a length-prefixed JSON header and its pages, sha256 */
export function encodeWal(writes: CanisterWrite[]): Uint8Array[] {
    const chunks: Uint8Array[] = [WAL_MAGIC];
    for (const w of writes) {
        const indices = [...w.pages.keys()];
        const header = new TextEncoder().encode(
            JSON.stringify({ meta: w.meta, full: w.full, pages: indices.map((p) => [p, w.pages.get(p) ? 1 : 0]) })
        );
        chunks.push(u32le(header.length), header);
        for (const p of indices) {
            const bytes = w.pages.get(p);
            if (bytes) chunks.push(bytes);
        }
    }
    const hash = createHash('sha256');
    for (const c of chunks) hash.update(c);
    chunks.push(hash.digest());
    return chunks;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

function writeStableFile(path: string, stable: StableMemory): void {
    const fd = openSync(path, 'w');
    try {
        for (const p of stable.pageIndices()) writeSync(fd, stable.page(p)!, 0, PAGE, p * PAGE);
        fsyncSync(fd);
    } finally {
        closeSync(fd);
    }
}

function readStableFile(path: string, pages: number): StableMemory {
    const stable = new StableMemory();
    stable.setSize(pages);
    if (!existsSync(path)) return stable;
    const fd = openSync(path, 'r');
    try {
        const zero = new Uint8Array(PAGE);
        for (let i = 0; i < pages; i++) {
            const buf = new Uint8Array(PAGE);
            const n = readSync(fd, buf, 0, PAGE, i * PAGE);
            if (n === 0) break;
            if (!Buffer.from(buf).equals(zero)) stable.setPage(i, buf);
        }
    } finally {
        closeSync(fd);
    }
    return stable;
}

function writeChunks(dir: string, chunks: Map<string, Uint8Array>): void {
    mkdirSync(dir, { recursive: true });
    for (const [hash, bytes] of chunks) writeAtomic(join(dir, `${hash}.bin`), bytes);
}

function readChunks(dir: string): Map<string, Uint8Array> {
    const chunks = new Map<string, Uint8Array>();
    if (!existsSync(dir)) return chunks;
    for (const f of readdirSync(dir)) {
        if (f.endsWith('.bin')) chunks.set(f.slice(0, -4), new Uint8Array(readFileSync(join(dir, f))));
    }
    return chunks;
}

export class StateDir {
    constructor(readonly dir: string) {
        mkdirSync(join(dir, 'canisters'), { recursive: true });
        this.recover();
    }

    private cdir(id: string): string {
        return join(this.dir, 'canisters', id);
    }

    private get walPath(): string {
        return join(this.dir, 'wal.bin');
    }

    loadEngineMeta(): EngineMeta | null {
        const p = join(this.dir, 'engine.json');
        return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as EngineMeta) : null;
    }

    saveEngineMeta(meta: EngineMeta): void {
        writeAtomic(join(this.dir, 'engine.json'), JSON.stringify(meta));
    }

    canisterIds(): string[] {
        return readdirSync(join(this.dir, 'canisters')).filter((d) => existsSync(join(this.cdir(d), 'meta.json')));
    }

    loadMeta(id: string): CanisterMeta {
        return JSON.parse(readFileSync(join(this.cdir(id), 'meta.json'), 'utf8')) as CanisterMeta;
    }

    loadWasm(id: string, file: string): Uint8Array | null {
        const p = join(this.cdir(id), file);
        return existsSync(p) ? new Uint8Array(readFileSync(p)) : null;
    }

    /** stores a module under its hash (before any metadata refers to it); returns the file name */
    saveWasm(id: string, wasm: Uint8Array): string {
        mkdirSync(this.cdir(id), { recursive: true });
        const file = `module-${createHash('sha256').update(wasm).digest('hex')}.wasm`;
        if (!existsSync(join(this.cdir(id), file))) writeAtomic(join(this.cdir(id), file), wasm);
        return file;
    }

    loadStable(id: string, pages: number): StableMemory {
        return readStableFile(join(this.cdir(id), 'stable.bin'), pages);
    }

    saveChunk(id: string, hash: string, bytes: Uint8Array): void {
        writeChunks(join(this.cdir(id), 'chunks'), new Map([[hash, bytes]]));
    }

    clearChunks(id: string): void {
        rmSync(join(this.cdir(id), 'chunks'), { recursive: true, force: true });
    }

    loadChunks(id: string): Map<string, Uint8Array> {
        return readChunks(join(this.cdir(id), 'chunks'));
    }

    /** writes a snapshot whole (into a temporary directory renamed into place) */
    saveSnapshot(id: string, s: Snapshot): void {
        const dir = join(this.cdir(id), 'snapshots', hex(s.id));
        const tmp = `${dir}.tmp`;
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true });
        writeAtomic(join(tmp, 'module.wasm'), s.wasm);
        writeAtomic(join(tmp, 'heap.bin'), s.heap);
        writeStableFile(join(tmp, 'stable.bin'), s.stable);
        writeChunks(join(tmp, 'chunks'), s.chunks);
        const meta: SnapshotMeta = {
            takenAtNs: s.takenAtNs.toString(),
            globals: s.globals.map((g) => (typeof g === 'bigint' ? `${g}n` : String(g))),
            certifiedData: hex(s.certifiedData),
            globalTimer: s.globalTimer.toString(),
            installArg: hex(s.installArg),
            stablePages: s.stable.size
        };
        writeAtomic(join(tmp, 'meta.json'), JSON.stringify(meta));
        rmSync(dir, { recursive: true, force: true });
        renameSync(tmp, dir);
    }

    deleteSnapshot(id: string, snapshot: Uint8Array): void {
        rmSync(join(this.cdir(id), 'snapshots', hex(snapshot)), { recursive: true, force: true });
    }

    loadSnapshots(id: string): Snapshot[] {
        const root = join(this.cdir(id), 'snapshots');
        if (!existsSync(root)) return [];
        const out: Snapshot[] = [];
        for (const name of readdirSync(root)) {
            const dir = join(root, name);
            if (name.endsWith('.tmp') || !existsSync(join(dir, 'meta.json'))) {
                rmSync(dir, { recursive: true, force: true });
                continue;
            }
            const m = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as SnapshotMeta;
            out.push({
                id: unhex(name),
                takenAtNs: BigInt(m.takenAtNs),
                wasm: new Uint8Array(readFileSync(join(dir, 'module.wasm'))),
                heap: new Uint8Array(readFileSync(join(dir, 'heap.bin'))),
                globals: m.globals.map((g) => (g.endsWith('n') ? BigInt(g.slice(0, -1)) : Number(g))),
                stable: readStableFile(join(dir, 'stable.bin'), m.stablePages),
                certifiedData: unhex(m.certifiedData),
                globalTimer: BigInt(m.globalTimer),
                installArg: unhex(m.installArg),
                chunks: readChunks(join(dir, 'chunks'))
            });
        }
        return out.sort((a, b) => (a.takenAtNs < b.takenAtNs ? -1 : a.takenAtNs > b.takenAtNs ? 1 : 0));
    }

    deleteCanister(id: string): void {
        rmSync(this.cdir(id), { recursive: true, force: true });
    }

    /** durably applies one batch (see the header comment) */
    commit(writes: CanisterWrite[]): void {
        if (!writes.length) return;
        const fd = openSync(this.walPath, 'w');
        try {
            for (const c of encodeWal(writes)) writeSync(fd, c);
            fsyncSync(fd);
        } finally {
            closeSync(fd);
        }
        this.apply(writes);
        unlinkSync(this.walPath);
    }

    private apply(writes: CanisterWrite[]): void {
        for (const w of writes) {
            const id = w.meta.id;
            mkdirSync(this.cdir(id), { recursive: true });
            const path = join(this.cdir(id), 'stable.bin');
            if (w.full || w.pages.size) {
                const fd = openSync(path, w.full || !existsSync(path) ? 'w' : 'r+');
                try {
                    if (w.full) ftruncateSync(fd, 0);
                    const zero = new Uint8Array(PAGE);
                    for (const [p, bytes] of w.pages) {
                        if (bytes || !w.full) writeSync(fd, bytes ?? zero, 0, PAGE, p * PAGE);
                    }
                    fsyncSync(fd);
                } finally {
                    closeSync(fd);
                }
            }
            writeAtomic(join(this.cdir(id), 'meta.json'), JSON.stringify(w.meta));
            // modules no longer referenced (after an upgrade or uninstall)
            for (const f of readdirSync(this.cdir(id))) {
                if (f.startsWith('module-') && f.endsWith('.wasm') && f !== w.meta.module) rmSync(join(this.cdir(id), f), { force: true });
            }
        }
    }

    /** replays a complete log left by a crash mid-commit; an incomplete one is from before the commit point */
    private recover(): void {
        if (!existsSync(this.walPath)) return;
        const buf = new Uint8Array(readFileSync(this.walPath));
        const body = buf.subarray(0, buf.length - 32);
        const ok =
            buf.length > WAL_MAGIC.length + 32 &&
            Buffer.from(buf.subarray(0, WAL_MAGIC.length)).equals(Buffer.from(WAL_MAGIC)) &&
            Buffer.from(createHash('sha256').update(body).digest()).equals(Buffer.from(buf.subarray(buf.length - 32)));
        if (ok) {
            const writes: CanisterWrite[] = [];
            let pos = WAL_MAGIC.length;
            while (pos < body.length) {
                const len = new DataView(body.buffer, body.byteOffset + pos, 4).getUint32(0, true);
                pos += 4;
                const h = JSON.parse(new TextDecoder().decode(body.subarray(pos, pos + len))) as {
                    meta: CanisterMeta;
                    full: boolean;
                    pages: [number, number][];
                };
                pos += len;
                const pages = new Map<number, Uint8Array | undefined>();
                for (const [p, present] of h.pages) {
                    if (present) {
                        pages.set(p, body.slice(pos, pos + PAGE));
                        pos += PAGE;
                    } else pages.set(p, undefined);
                }
                writes.push({ meta: h.meta, full: h.full, pages });
            }
            this.apply(writes);
        }
        unlinkSync(this.walPath);
    }
}
