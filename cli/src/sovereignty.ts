// Who controls the canisters: controllers and module hash as the IC certifies them, whether a
// person is among the controllers, and whether Canopy and its steward control only each other.
import { CanisterStatus, type HttpAgent } from '@dfinity/agent';
import { Principal } from '@dfinity/principal';

/** Controllers and module hash as the IC certifies them (read_state; anyone may ask). */
export async function certifiedCanister(agent: HttpAgent, canisterId: Principal): Promise<{ controllers: string[]; moduleHash: string | null }> {
  const status = await CanisterStatus.request({ agent, canisterId, paths: ['controllers', 'module_hash'] });
  const controllers = status.get('controllers');
  const hash = status.get('module_hash');
  return {
    controllers: Array.isArray(controllers) ? controllers.map((p) => (p as Principal).toText()) : [],
    moduleHash: typeof hash === 'string' && hash.length > 0 ? hash : null,
  };
}

/** Canister ids are opaque principals of class 0x01; a person's (self-authenticating) principal ends in 0x02. */
export function isCanisterPrincipal(text: string): boolean {
  const bytes = Principal.fromText(text).toUint8Array();
  return bytes.length === 10 && bytes[9] === 0x01;
}

/** True only when the controllers of the two canisters are exactly each other. */
export function isSovereign(canopy: { id: string; controllers: string[] }, steward: { id: string; controllers: string[] }): boolean {
  return canopy.controllers.length === 1 && canopy.controllers[0] === steward.id
    && steward.controllers.length === 1 && steward.controllers[0] === canopy.id;
}
