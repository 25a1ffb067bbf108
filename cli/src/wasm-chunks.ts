// The staging loop of an upgrade module, shared by the CLI and the members' web app (so nothing here
// may use Node): chunks of the size the canister takes, in order, resuming an upload the canister
// already holds part of.
import type { ActorSubclass } from '@dfinity/agent';
import type { CanopyService } from '../../canister/src/api/interface.ts';
import { MAX_CHUNK_BYTES } from '../../canister/src/api/wasm-staging.ts';

export const WASM_CHUNK_BYTES = MAX_CHUNK_BYTES;

export type Stager = Pick<ActorSubclass<CanopyService>, 'stage_wasm_chunk' | 'list_staged_wasm'>;

/** Uploads `wasm` (whose hex SHA-256 is `wasmHash`) unless the canister holds it already. */
export async function stageChunks(actor: Stager, wasm: Uint8Array, wasmHash: string, progress?: (received: number, total: number) => void): Promise<void> {
  const staged = (await actor.list_staged_wasm()).find((m) => m.wasm_hash === wasmHash && m.size === BigInt(wasm.length));
  let offset = staged ? Number(staged.received) : 0;
  progress?.(offset, wasm.length);
  while (offset < wasm.length) {
    const chunk = wasm.subarray(offset, offset + WASM_CHUNK_BYTES);
    const r = await actor.stage_wasm_chunk({ wasm_hash: wasmHash, total_size: BigInt(wasm.length), offset: BigInt(offset), chunk });
    offset = Number(r.received);
    progress?.(offset, wasm.length);
  }
}
