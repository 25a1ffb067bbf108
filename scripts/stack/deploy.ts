// Deploys the canister the way dfx does: through the management canister with the
// controller's identity, creating it once and upgrading it when the wasm changes.
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { Actor, CanisterStatus, type HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';

type Mode = 'install' | 'upgrade';

interface Management {
  provisional_create_canister_with_cycles(a: {
    amount: [] | [bigint];
    settings: [] | [{ controllers: [] | [Principal[]] }];
    specified_id: [] | [Principal];
  }): Promise<{ canister_id: Principal }>;
  install_code(a: { mode: Record<string, null>; canister_id: Principal; wasm_module: Uint8Array; arg: Uint8Array }): Promise<void>;
}

const managementIdl: IDL.InterfaceFactory = ({ IDL }) => {
  const settings = IDL.Record({ controllers: IDL.Opt(IDL.Vec(IDL.Principal)) });
  return IDL.Service({
    provisional_create_canister_with_cycles: IDL.Func(
      [IDL.Record({ amount: IDL.Opt(IDL.Nat), settings: IDL.Opt(settings), specified_id: IDL.Opt(IDL.Principal) })],
      [IDL.Record({ canister_id: IDL.Principal })],
      [],
    ),
    install_code: IDL.Func(
      [
        IDL.Record({
          mode: IDL.Variant({ install: IDL.Null, reinstall: IDL.Null, upgrade: IDL.Null }),
          canister_id: IDL.Principal,
          wasm_module: IDL.Vec(IDL.Nat8),
          arg: IDL.Vec(IDL.Nat8),
        }),
      ],
      [],
      [],
    ),
  });
};

function management(agent: HttpAgent): Management {
  return Actor.createActor(managementIdl, {
    agent,
    canisterId: Principal.managementCanister(),
    callTransform: (_method, args) => ({
      effectiveCanisterId: (args[0] as { canister_id?: Principal }).canister_id ?? Principal.managementCanister(),
    }),
  }) as unknown as Management;
}

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
  const ic = management(opts.agent);
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
