// Staging a wasm module for an upgrade proposal, with a progress bar, and proposing it. Used by
// `canopy propose upgrade` and by the local stack; the chunk loop itself is wasm-chunks.ts.
import { createHash } from 'node:crypto';
import type { ActorSubclass } from '@dfinity/agent';
import type { CanopyService } from '../../canister/src/api/interface.ts';
import { progressBar } from './upload.ts';
import { stageChunks, type Stager } from './wasm-chunks.ts';

export { WASM_CHUNK_BYTES } from './wasm-chunks.ts';

export const wasmSha256 = (wasm: Uint8Array): string => createHash('sha256').update(wasm).digest('hex');

/** Uploads `wasm` unless it is staged already; returns its hex SHA-256. */
export async function stageWasm(actor: Stager, wasm: Uint8Array, progress?: (line: string, final: boolean) => void): Promise<string> {
  const wasmHash = wasmSha256(wasm);
  await stageChunks(actor, wasm, wasmHash, (received, total) => progress?.(progressBar(received, total), false));
  progress?.(progressBar(wasm.length, wasm.length), true);
  return wasmHash;
}

export type UpgradeProposal = { wasm: Uint8Array; target: 'canopy' | 'steward'; arg?: Uint8Array; commit?: string; summary?: string };

/** Stages the module and proposes the upgrade; `{id, wasmHash}`. */
export async function proposeUpgrade(
  actor: Stager & Pick<ActorSubclass<CanopyService>, 'propose'>,
  p: UpgradeProposal,
  progress?: (line: string, final: boolean) => void,
): Promise<{ id: bigint; wasmHash: string }> {
  const wasmHash = await stageWasm(actor, p.wasm, progress);
  const id = await actor.propose({
    action: { upgrade: { wasm_hash: wasmHash, target: { [p.target]: null } as { canopy: null }, arg: p.arg?.length ? [p.arg] : [], commit: p.commit ? [p.commit] : [] } },
    summary: p.summary ? [p.summary] : [],
  });
  return { id, wasmHash };
}
