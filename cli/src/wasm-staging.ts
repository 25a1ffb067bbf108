// Staging a wasm module for an upgrade proposal: 1 MiB chunks (the IC's chunk size, under the
// 2 MiB ingress limit) in order, resuming an upload the canister already holds part of, with a
// progress bar. Used by `canopy propose upgrade` and by the local stack.
import { createHash } from 'node:crypto';
import type { ActorSubclass } from '@dfinity/agent';
import type { CanopyService } from '../../canister/src/api/interface.ts';
import { progressBar } from './upload.ts';

export const WASM_CHUNK_BYTES = 1024 * 1024;

export const wasmSha256 = (wasm: Uint8Array): string => createHash('sha256').update(wasm).digest('hex');

type Stager = Pick<ActorSubclass<CanopyService>, 'stage_wasm_chunk' | 'list_staged_wasm'>;

/** Uploads `wasm` unless it is staged already; returns its hex SHA-256. */
export async function stageWasm(actor: Stager, wasm: Uint8Array, progress?: (line: string, final: boolean) => void): Promise<string> {
  const wasmHash = wasmSha256(wasm);
  const staged = (await actor.list_staged_wasm()).find((m) => m.wasm_hash === wasmHash && m.size === BigInt(wasm.length));
  let offset = staged ? Number(staged.received) : 0;
  progress?.(progressBar(offset, wasm.length), false);
  while (offset < wasm.length) {
    const chunk = wasm.subarray(offset, offset + WASM_CHUNK_BYTES);
    const r = await actor.stage_wasm_chunk({ wasm_hash: wasmHash, total_size: BigInt(wasm.length), offset: BigInt(offset), chunk });
    offset = Number(r.received);
    progress?.(progressBar(offset, wasm.length), false);
  }
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
