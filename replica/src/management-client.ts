// Client side of the IC management canister ('aaaaa-aa'), as dfx drives it: the subset of its
// Candid interface we call, and an actor that routes each call to the target canister's subnet.
import { Actor, type HttpAgent } from '@dfinity/agent';
import type { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';

export interface ManagementCanister {
  provisional_create_canister_with_cycles(a: {
    amount: [] | [bigint];
    settings: [] | [{ controllers: [] | [Principal[]] }];
    specified_id: [] | [Principal];
  }): Promise<{ canister_id: Principal }>;
  install_code(a: { mode: Record<string, null>; canister_id: Principal; wasm_module: Uint8Array; arg: Uint8Array }): Promise<void>;
}

export const managementIdl: IDL.InterfaceFactory = ({ IDL }) => {
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

/** Management-canister actor; a call naming a `canister_id` is sent with that canister as its effective id. */
export function managementActor(agent: HttpAgent): ManagementCanister {
  return Actor.createActor(managementIdl, {
    agent,
    canisterId: Principal.managementCanister(),
    callTransform: (_method, args) => ({
      effectiveCanisterId: (args[0] as { canister_id?: Principal }).canister_id ?? Principal.managementCanister(),
    }),
  }) as unknown as ManagementCanister;
}
