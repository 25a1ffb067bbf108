// Wasm modules staged for upgrade proposals. The bytes live in the canister's own chunk store (the
// management canister's `upload_chunk`, which install_chunked_code reads); this keeps, per module,
// the chunk hashes in order and the running SHA-256 of the bytes received, so a module is complete
// only when its bytes hash to the name it was uploaded under. The amount staged is bounded, and
// modules no open or adopted proposal uses are dropped after a grace period (the chunk store can
// only be cleared as a whole: it is cleared once no staged module is left).
import { sha256Final, sha256Init, sha256Update, type Sha256State } from '../pds/resumable-sha256.ts';
import type { KvStore } from '../storage/kv.ts';
import { getValue, putValue, scan } from '../governance/store.ts';
import { GovernanceError } from '../governance/types.ts';

/**
 * A member's chunk. The IC's chunk store takes up to 1 MiB, but this canister hashes every byte
 * itself (~10 instructions a byte in QuickJS): 128 KiB keeps one message near 1.3 B instructions,
 * under the 2 B any member's message may cost (`npm run bench -- attack`).
 */
export const MAX_CHUNK_BYTES = 128 * 1024;
/** Chunks kept in the chunk store at once (the IC allows 100 per canister). */
export const MAX_STORE_CHUNKS = 96;
export const MAX_MODULE_BYTES = MAX_STORE_CHUNKS * MAX_CHUNK_BYTES;
export const MAX_STAGED_MODULES = 4;
/** A module nobody proposes (or whose proposal closed) is dropped this long after its last use. */
export const STAGING_GRACE_NS = 3600n * 1_000_000_000n;

export type StagedModule = {
  wasmHash: string;
  size: number;
  received: number;
  /** hex SHA-256 of each chunk as the chunk store names it, in order */
  chunks: string[];
  uploader: string;
  updatedAtNs: bigint;
  complete: boolean;
  sha: Sha256State;
};

export type ChunkInput = { wasmHash: string; totalSize: number; offset: number; length: number };

const fail = (message: string): never => {
  throw new GovernanceError(message);
};
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export class WasmStaging {
  constructor(private readonly kv: KvStore) {}

  get(wasmHash: string): StagedModule | null {
    const v = getValue(this.kv, `module/${wasmHash}`) as StagedModule | undefined;
    return v ? { ...v, updatedAtNs: BigInt(v.updatedAtNs) } : null;
  }

  list(): StagedModule[] {
    return [...scan(this.kv, 'module/')].map(([k]) => this.get(k.slice('module/'.length))!);
  }

  isStaged(wasmHash: string): boolean {
    return this.get(wasmHash)?.complete === true;
  }

  /** Hashes of the chunks of the store (every staged module's, and garbage until the next clear). */
  storeChunks(): string[] {
    return (getValue(this.kv, 'store') as string[] | undefined) ?? [];
  }

  /** Checks a chunk before it is uploaded to the chunk store (nothing changes). */
  checkChunk(c: ChunkInput): void {
    if (!/^[0-9a-f]{64}$/.test(c.wasmHash)) fail('wasm_hash must be 64 lowercase hex digits (SHA-256 of the whole module)');
    if (!Number.isSafeInteger(c.totalSize) || c.totalSize < 1 || c.totalSize > MAX_MODULE_BYTES)
      fail(`a module must be 1..${MAX_MODULE_BYTES} bytes`);
    if (c.length < 1 || c.length > MAX_CHUNK_BYTES) fail(`a chunk must be 1..${MAX_CHUNK_BYTES} bytes`);
    const m = this.get(c.wasmHash);
    const received = m?.received ?? 0;
    if (m?.complete) fail(`module ${c.wasmHash} is already staged`);
    if (m && m.size !== c.totalSize) fail(`module ${c.wasmHash} is being uploaded with total_size ${m.size}`);
    if (c.offset !== received) fail(`module ${c.wasmHash}: expected the chunk at offset ${received}, got ${c.offset}`);
    if (c.offset + c.length > c.totalSize) fail('the chunk goes past total_size');
    if (!m && this.list().length >= MAX_STAGED_MODULES)
      fail(`${MAX_STAGED_MODULES} modules are staged already; one must be proposed and decided (or expire) first`);
    if (this.storeChunks().length >= MAX_STORE_CHUNKS)
      fail(`the chunk store is full (${MAX_STORE_CHUNKS} chunks); staged modules are dropped when no proposal uses them`);
  }

  /** Records a chunk the chunk store accepted under `chunkHash`. Throws (and drops the upload) on a hash mismatch. */
  addChunk(caller: string, c: ChunkInput, data: Uint8Array, chunkHash: Uint8Array, nowNs: bigint): StagedModule {
    this.checkChunk(c);
    const store = this.storeChunks();
    const h = hex(chunkHash);
    if (!store.includes(h)) putValue(this.kv, 'store', [...store, h]);
    const m = this.get(c.wasmHash) ?? {
      wasmHash: c.wasmHash, size: c.totalSize, received: 0, chunks: [], uploader: caller, updatedAtNs: nowNs, complete: false, sha: sha256Init(),
    };
    m.sha = sha256Update(m.sha, data);
    m.received += data.length;
    m.chunks.push(h);
    m.updatedAtNs = nowNs;
    if (m.received === m.size) {
      const digest = hex(sha256Final(m.sha));
      if (digest !== m.wasmHash) {
        this.kv.delete(`module/${m.wasmHash}`);
        return fail(`the uploaded module's SHA-256 is ${digest}, not ${m.wasmHash}; the upload was dropped`);
      }
      m.complete = true;
    }
    putValue(this.kv, `module/${m.wasmHash}`, m);
    return m;
  }

  /** Marks a module as used now (proposed, or its proposal still open), restarting its grace period. */
  touch(wasmHash: string, nowNs: bigint): void {
    const m = this.get(wasmHash);
    if (m) putValue(this.kv, `module/${wasmHash}`, { ...m, updatedAtNs: nowNs });
  }

  /**
   * Drops modules not in `inUse` whose grace period ran out. Returns true when the chunk store
   * should be cleared (no module left, chunks in the store); call `storeCleared` after clearing it.
   */
  collect(inUse: Set<string>, nowNs: bigint): boolean {
    for (const m of this.list()) {
      if (inUse.has(m.wasmHash)) this.touch(m.wasmHash, nowNs);
      else if (m.updatedAtNs + STAGING_GRACE_NS <= nowNs) this.kv.delete(`module/${m.wasmHash}`);
    }
    return this.list().length === 0 && this.storeChunks().length > 0;
  }

  /** After clear_chunk_store: an upload that started while the store was being cleared lost its chunks too. */
  storeCleared(): void {
    for (const m of this.list()) if (!m.complete) this.kv.delete(`module/${m.wasmHash}`);
    this.kv.delete('store');
  }
}
