// The canister's freezing threshold, which the canister cannot read itself: the management
// canister's canister_status answers controllers only, so this asks with the caller's identity and
// reports null when the caller is not a controller.
import { Actor, type ActorSubclass } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';

// Only the fields read here: Candid lets a reply record carry more fields than the reader declares.
const managementIdl: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service({
    canister_status: I.Func(
      [I.Record({ canister_id: I.Principal })],
      [I.Record({ cycles: I.Nat, settings: I.Record({ freezing_threshold: I.Nat }) })],
      [],
    ),
  });
type Management = { canister_status(a: { canister_id: Principal }): Promise<{ cycles: bigint; settings: { freezing_threshold: bigint } }> };

/** Seconds of the freezing threshold, or null if the caller may not read it. */
export async function freezingThresholdSeconds(actor: ActorSubclass<unknown>, canisterId: string): Promise<bigint | null> {
  const agent = Actor.agentOf(actor);
  if (!agent) return null;
  const id = Principal.fromText(canisterId);
  const management = Actor.createActor<Management>(managementIdl, { agent, canisterId: Principal.managementCanister(), effectiveCanisterId: id });
  try {
    return (await management.canister_status({ canister_id: id })).settings.freezing_threshold;
  } catch {
    return null;
  }
}
