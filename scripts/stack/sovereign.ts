// Deploys Canopy and its steward so that no person controls either (docs/contracts.md "Steward",
// item 7): the deployer creates both canisters, installs each module byte for byte with
// install_chunked_code (a module is larger than one ingress message), tells Canopy its steward,
// then makes the steward Canopy's only controller and, last, Canopy the steward's only controller.
// From then on code changes only by an `upgrade` proposal.
import { createHash } from 'node:crypto';
import type { HttpAgent } from '@dfinity/agent';
import type { Principal } from '@dfinity/principal';
import { managementActor, type ManagementCanister } from '../../replica/src/management-client.ts';

const CHUNK = 1024 * 1024;
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** Installs `wasm` on a canister the agent controls, from the canister's own chunk store (left empty). */
export async function installChunked(
  ic: ManagementCanister, canisterId: Principal, wasm: Uint8Array, arg: Uint8Array, mode: 'install' | 'upgrade' = 'install',
): Promise<void> {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < wasm.length; i += CHUNK) {
    const { hash } = await ic.upload_chunk({ canister_id: canisterId, chunk: wasm.subarray(i, i + CHUNK) });
    chunks.push(Uint8Array.from(hash));
  }
  await ic.install_chunked_code({
    mode: mode === 'install' ? { install: null } : { upgrade: [] },
    target_canister: canisterId,
    store_canister: [canisterId],
    chunk_hashes_list: chunks.map((hash) => ({ hash })),
    wasm_module_hash: sha256(wasm),
    arg,
  });
  await ic.clear_chunk_store({ canister_id: canisterId });
}

export interface SovereignDeployment {
  canopyId: Principal;
  stewardId: Principal;
}

/**
 * Creates and installs both canisters as the agent's identity and hands them to each other.
 * `setSteward` tells the installed Canopy its steward (a controller-only call, made while the
 * deployer still is one).
 */
export async function deploySovereign(opts: {
  agent: HttpAgent;
  canopyWasm: Uint8Array;
  canopyInit: Uint8Array;
  stewardWasm: Uint8Array;
  stewardInit: (canopy: Principal) => Uint8Array;
  setSteward: (canopy: Principal, steward: Principal) => Promise<void>;
}): Promise<SovereignDeployment> {
  const ic = managementActor(opts.agent);
  const deployer = await opts.agent.getPrincipal();
  const create = async () =>
    (await ic.provisional_create_canister_with_cycles({ amount: [], settings: [{ controllers: [[deployer]] }], specified_id: [] })).canister_id;
  const stewardId = await create();
  const canopyId = await create();
  await installChunked(ic, stewardId, opts.stewardWasm, opts.stewardInit(canopyId));
  await installChunked(ic, canopyId, opts.canopyWasm, opts.canopyInit);
  await opts.setSteward(canopyId, stewardId);
  await ic.update_settings({ canister_id: canopyId, settings: { controllers: [[stewardId]] } });
  // Last: this removes the deployer, who can change nothing after it.
  await ic.update_settings({ canister_id: stewardId, settings: { controllers: [[canopyId]] } });
  return { canopyId, stewardId };
}
