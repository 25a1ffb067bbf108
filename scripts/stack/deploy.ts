// Deploys the canister the way dfx does: through the management canister with the
// controller's identity, creating it once and upgrading it when the wasm changes.
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { CanisterStatus, type HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import { managementActor } from '../../replica/src/management-client.ts';

type Mode = 'install' | 'upgrade';

/** The module hash the replica certifies for a canister, or null when none is installed. */
async function installedModuleHash(agent: HttpAgent, canisterId: Principal): Promise<string | null> {
  const status = await CanisterStatus.request({ agent, canisterId, paths: ['module_hash'] });
  const hash = status.get('module_hash');
  return typeof hash === 'string' && hash.length > 0 ? hash : null;
}

export interface DeployResult {
  canisterId: Principal;
  action: 'created' | 'upgraded' | 'unchanged';
}

/**
 * Creates the canister if `existing` is unknown to the replica, installs `wasm` with `initArg`,
 * or upgrades when the installed module differs. The wasm is gzipped, as `dfx.json` asks, to stay
 * under the 2 MiB ingress limit.
 */
export async function deployCanister(opts: {
  agent: HttpAgent;
  wasm: Uint8Array;
  initArg: Uint8Array;
  existing?: Principal;
}): Promise<DeployResult> {
  const ic = managementActor(opts.agent);
  const gz = new Uint8Array(gzipSync(opts.wasm, { level: 9 }));
  // Replicas differ in whether they hash the module as submitted or decompressed: accept either.
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const current = new Set([sha(gz), sha(opts.wasm)]);
  let canisterId = opts.existing;
  let mode: Mode = 'install';
  if (canisterId) {
    const installed = await installedModuleHash(opts.agent, canisterId).catch(() => undefined);
    if (installed === undefined) canisterId = undefined; // the replica does not know it (state was wiped)
    else if (installed !== null && current.has(installed)) return { canisterId, action: 'unchanged' };
    else if (installed !== null) mode = 'upgrade';
  }
  let created = false;
  if (!canisterId) {
    const controller = await opts.agent.getPrincipal();
    ({ canister_id: canisterId } = await ic.provisional_create_canister_with_cycles({
      amount: [],
      settings: [{ controllers: [[controller]] }],
      specified_id: [],
    }));
    created = true;
  }
  // Upgrades take no argument (docs/contracts.md): the canister keeps its init configuration.
  const arg = mode === 'upgrade' ? new Uint8Array(IDL.encode([], [])) : opts.initArg;
  await ic.install_code({ mode: { [mode]: null }, canister_id: canisterId, wasm_module: gz, arg });
  return { canisterId, action: created ? 'created' : mode === 'upgrade' ? 'upgraded' : 'created' };
}
