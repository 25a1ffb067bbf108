// The staging bookkeeping of upgrade modules (api/wasm-staging.ts), without the chunk store: order,
// SHA-256 of the whole module, bounds, and collection of modules no live proposal uses.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  MAX_CHUNK_BYTES, MAX_MODULE_BYTES, MAX_STAGED_MODULES, MAX_STORE_CHUNKS, STAGING_GRACE_NS, WasmStaging,
} from '../../canister/src/api/wasm-staging.ts';
import { GovernanceError } from '../../canister/src/governance/types.ts';
import { MemoryKv } from '../../canister/src/storage/kv.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const T0 = 1_700_000_000_000_000_000n;

/** Stages `wasm` in chunks of `size` as the canister does: check, upload (here: hash), record. */
function stage(s: WasmStaging, wasm: Uint8Array, size = 1000, wasmHash = hex(sha(wasm)), now = T0) {
  let m;
  for (let offset = 0; offset < wasm.length; offset += size) {
    const data = wasm.subarray(offset, offset + size);
    const c = { wasmHash, totalSize: wasm.length, offset, length: data.length };
    s.checkChunk(c);
    m = s.addChunk('member', c, data, sha(data), now);
  }
  return m!;
}

describe('wasm staging', () => {
  it('a module is complete when its bytes hash to its name; chunk hashes kept in order', () => {
    const s = new WasmStaging(new MemoryKv());
    const wasm = randomBytes(3500);
    const m = stage(s, wasm);
    assert.equal(m.complete, true);
    assert.equal(m.received, 3500);
    assert.deepEqual(m.chunks, [0, 1000, 2000, 3000].map((o) => hex(sha(wasm.subarray(o, o + 1000)))));
    assert.ok(s.isStaged(hex(sha(wasm))));
    assert.throws(() => s.checkChunk({ wasmHash: hex(sha(wasm)), totalSize: 3500, offset: 0, length: 10 }), /already staged/);
  });

  it('a module whose bytes hash to something else is dropped with the reason', () => {
    const s = new WasmStaging(new MemoryKv());
    const wasm = randomBytes(2000);
    assert.throws(() => stage(s, wasm, 1000, 'ab'.repeat(32)), (e: Error) => e instanceof GovernanceError && /SHA-256 is [0-9a-f]{64}, not abab/.test(e.message));
    assert.equal(s.get('ab'.repeat(32)), null);
    assert.equal(s.isStaged('ab'.repeat(32)), false);
  });

  it('refuses chunks out of order, past the end, too large, and modules beyond the bounds', () => {
    const s = new WasmStaging(new MemoryKv());
    const h = 'cd'.repeat(32);
    assert.throws(() => s.checkChunk({ wasmHash: h, totalSize: 100, offset: 10, length: 10 }), /expected the chunk at offset 0/);
    assert.throws(() => s.checkChunk({ wasmHash: h, totalSize: 100, offset: 0, length: 101 }), /past total_size/);
    assert.throws(() => s.checkChunk({ wasmHash: h, totalSize: MAX_MODULE_BYTES + 1, offset: 0, length: 1 }), /a module must be/);
    assert.throws(() => s.checkChunk({ wasmHash: h, totalSize: 4 * MAX_CHUNK_BYTES, offset: 0, length: MAX_CHUNK_BYTES + 1 }), /a chunk must be/);
    assert.throws(() => s.checkChunk({ wasmHash: 'XY', totalSize: 1, offset: 0, length: 1 }), /64 lowercase hex/);
    for (let i = 0; i < MAX_STAGED_MODULES; i++) stage(s, randomBytes(10));
    assert.throws(() => s.checkChunk({ wasmHash: h, totalSize: 10, offset: 0, length: 10 }), /modules are staged already/);
  });

  it('bounds the chunk store', () => {
    const s = new WasmStaging(new MemoryKv());
    const wasm = randomBytes(MAX_STORE_CHUNKS * 10);
    const h = hex(sha(wasm));
    for (let i = 0; i < MAX_STORE_CHUNKS; i++) {
      const data = wasm.subarray(i * 10, i * 10 + 10);
      s.addChunk('m', { wasmHash: h, totalSize: wasm.length + 10, offset: i * 10, length: 10 }, data, sha(data), T0);
    }
    assert.throws(() => s.checkChunk({ wasmHash: h, totalSize: wasm.length + 10, offset: wasm.length, length: 10 }), /chunk store is full/);
  });

  it('drops modules no live proposal uses after the grace period; asks for the store to be cleared when none is left', () => {
    const s = new WasmStaging(new MemoryKv());
    const used = stage(s, randomBytes(1500));
    const unused = stage(s, randomBytes(1500));
    assert.equal(s.collect(new Set([used.wasmHash]), T0 + STAGING_GRACE_NS - 1n), false, 'within the grace period both stay');
    assert.ok(s.get(unused.wasmHash));
    assert.equal(s.collect(new Set([used.wasmHash]), T0 + STAGING_GRACE_NS), false);
    assert.equal(s.get(unused.wasmHash), null);
    assert.ok(s.isStaged(used.wasmHash), 'a module an open proposal names stays');
    assert.equal(s.collect(new Set(), T0 + 3n * STAGING_GRACE_NS), true, 'nothing left: clear the store');
    s.storeCleared();
    assert.deepEqual(s.storeChunks(), []);
    assert.equal(s.collect(new Set(), T0 + 4n * STAGING_GRACE_NS), false);
  });
});
