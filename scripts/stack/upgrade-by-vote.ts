// The local stack's deployment: Canopy and the steward controlling each other (no person), and on
// every change of either's code the sovereign path — the founding member stages the new module,
// proposes the upgrade and votes for it, and the other canister installs it — as on mainnet.
import { createHash } from 'node:crypto';
import { Actor, type HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { idlFactory, type CanopyService } from '../../canister/src/api/interface.ts';
import { tagged, tagOf } from '../../canister/src/api/candid.ts';
import { certifiedCanister } from '../../cli/src/sovereignty.ts';
import { proposeUpgrade } from '../../cli/src/wasm-staging.ts';
import { InitArgsIdl } from '../../steward/src/interface.ts';
import { managementActor } from '../../replica/src/management-client.ts';
import { deploySovereign, installChunked } from './sovereign.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export type StackCanisters = { canisterId: string; stewardId: string; action: 'created' | 'upgraded by vote' | 'unchanged' };

/** Canopy's module hash, or undefined when the replica does not know the canister (state wiped). */
async function installedHash(agent: HttpAgent, id: string): Promise<string | null | undefined> {
  return certifiedCanister(agent, Principal.fromText(id)).then((c) => c.moduleHash, () => undefined);
}

export async function deployStack(opts: {
  /** the founding member's agent (also the deployer of fresh canisters) */
  agent: HttpAgent;
  canopyWasm: Uint8Array;
  stewardWasm: Uint8Array;
  initArg: Uint8Array;
  existing: { canisterId?: string; stewardId?: string };
  log: (line: string) => void;
  /** resolves when `done` returns true (polls; rejects when the stack is stopped) */
  waitUntil: (what: string, done: () => Promise<boolean>) => Promise<void>;
}): Promise<StackCanisters> {
  const { agent, existing } = opts;
  const canopyHash = existing.canisterId ? await installedHash(agent, existing.canisterId) : undefined;
  const stewardHash = existing.stewardId ? await installedHash(agent, existing.stewardId) : undefined;

  if (existing.canisterId && canopyHash && existing.stewardId && stewardHash) {
    const stale = { canopy: canopyHash !== sha256(opts.canopyWasm), steward: stewardHash !== sha256(opts.stewardWasm) };
    if (!stale.canopy && !stale.steward) return { canisterId: existing.canisterId, stewardId: existing.stewardId, action: 'unchanged' };
    if (stale.canopy) await upgradeByVote(opts, existing.canisterId, 'canopy', opts.canopyWasm);
    if (stale.steward) await upgradeByVote(opts, existing.canisterId, 'steward', opts.stewardWasm);
    return { canisterId: existing.canisterId, stewardId: existing.stewardId, action: 'upgraded by vote' };
  }

  const setSteward = async (canopy: Principal, steward: Principal) => {
    await Actor.createActor<CanopyService>(idlFactory, { agent, canisterId: canopy }).set_steward(steward.toText());
  };
  const stewardInit = (canopy: Principal) => new Uint8Array(IDL.encode([InitArgsIdl], [{ canopy }]));
  if (existing.canisterId && canopyHash) {
    // A canister from before the steward existed, still controlled by the member: upgrade it
    // directly one last time, then give it a steward and hand both over.
    const canopy = Principal.fromText(existing.canisterId);
    const ic = managementActor(agent);
    if (canopyHash !== sha256(opts.canopyWasm)) await installChunked(ic, canopy, opts.canopyWasm, new Uint8Array(IDL.encode([], [])), 'upgrade');
    const steward = (await ic.provisional_create_canister_with_cycles({ amount: [], settings: [{ controllers: [[await agent.getPrincipal()]] }], specified_id: [] })).canister_id;
    await installChunked(ic, steward, opts.stewardWasm, stewardInit(canopy));
    await setSteward(canopy, steward);
    await ic.update_settings({ canister_id: canopy, settings: { controllers: [[steward]] } });
    await ic.update_settings({ canister_id: steward, settings: { controllers: [[canopy]] } });
    opts.log(`handed ${canopy.toText()} to its new steward ${steward.toText()}; no person controls either from now on`);
    return { canisterId: canopy.toText(), stewardId: steward.toText(), action: 'created' };
  }

  const { canopyId, stewardId } = await deploySovereign({
    agent, canopyWasm: opts.canopyWasm, canopyInit: opts.initArg, stewardWasm: opts.stewardWasm, stewardInit, setSteward,
  });
  return { canisterId: canopyId.toText(), stewardId: stewardId.toText(), action: 'created' };
}

/** The member stages the module, proposes the upgrade, votes yes; the steward (or, for the steward, Canopy) installs it. */
async function upgradeByVote(opts: Parameters<typeof deployStack>[0], canisterId: string, target: 'canopy' | 'steward', wasm: Uint8Array): Promise<void> {
  const canopy = Actor.createActor<CanopyService>(idlFactory, { agent: opts.agent, canisterId });
  const { id, wasmHash } = await proposeUpgrade(canopy, { wasm, target, summary: `local stack: the ${target} code changed` });
  opts.log(`${target} code changed: proposal ${id} upgrades it to ${wasmHash}; voting yes`);
  const voted = await canopy.vote({ id, vote: tagged('yes') });
  if (tagOf(voted.status) === 'open') throw new Error(`proposal ${id} is still open after the founding member's vote (the DAO has other members): vote on it, then start again`);
  let outcome = '';
  await opts.waitUntil(`upgrade proposal ${id}`, async () => {
    const [p] = await canopy.get_proposal(id).catch(() => [] as []); // stopped while the steward installs
    if (!p) return false;
    const status = tagOf(p.status);
    if (status === 'failed') outcome = p.failure[0] ?? 'failed';
    return status === 'executed' || status === 'failed';
  });
  if (outcome) throw new Error(`the upgrade by vote failed (proposal ${id}): ${outcome}; the canister runs its previous code`);
  opts.log(`proposal ${id} executed: ${target} runs ${wasmHash}`);
}
