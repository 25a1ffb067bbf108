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

export type Sovereignty = {
  controllers: string[];
  steward: string | null;
  moduleHash: string | null;
  sovereign: boolean;
  /** non-canister principals among the controllers of Canopy or of its steward */
  people: string[];
};

/** What `canopy status` reports about control: all certified by the IC except the steward's id, which Canopy names. */
export async function sovereigntyOf(agent: HttpAgent, canopyId: string, steward: string | null): Promise<Sovereignty> {
  const canopy = await certifiedCanister(agent, Principal.fromText(canopyId));
  const stewardState = steward ? await certifiedCanister(agent, Principal.fromText(steward)) : null;
  const people = [...new Set([...canopy.controllers, ...(stewardState?.controllers ?? [])].filter((p) => !isCanisterPrincipal(p)))];
  return {
    controllers: canopy.controllers,
    steward,
    moduleHash: canopy.moduleHash,
    sovereign: stewardState !== null && isSovereign({ id: canopyId, ...canopy }, { id: steward!, ...stewardState }),
    people,
  };
}

/** The plain sentence `canopy status` prints about who can change the code. */
export function sovereigntyText(s: Sovereignty): string {
  if (s.people.length)
    return `WARNING: a person controls the canisters (${s.people.join(', ')}): they can install any code, which can post and sign as the community`;
  if (s.sovereign) return 'sovereign: Canopy and its steward control only each other; code changes only by an upgrade proposal';
  return 'not sovereign: the controllers of Canopy and its steward are not exactly each other';
}
