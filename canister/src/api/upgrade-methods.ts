// The Canopy side of upgrades by vote (docs/contracts.md "Steward", "What Canopy implements"):
// members stage a module in the canister's own chunk store, an adopted `upgrade` proposal asks the
// steward to install it, and the steward reports the outcome. The IC calls (management canister,
// steward) are ports, so this module stays pure.
import type { Governance } from '../governance/governance.ts';
import type { Effect, ExecutionOutcome, ProposalStatus } from '../governance/types.ts';
import { GovernanceError } from '../governance/types.ts';
import { decide } from '../governance/rules.ts';
import { getValue, putValue } from '../governance/store.ts';
import { upgradeSteward, type ManagementPort, type StewardPorts } from './steward-upgrade.ts';
import { WasmStaging, type StagedModule } from './wasm-staging.ts';
import type { Pds } from '../pds/pds.ts';
import type { KvStore } from '../storage/kv.ts';
import type { CallContext } from './governance-methods.ts';
import type { Args, Result, StagedWasmC, StewardUpgradeRequestC, StewardUpgradeViewC, UpgradeOutcomeC } from './interface.ts';
import { requireMember } from './pds-methods.ts';

export interface UpgradePorts {
  /** management `upload_chunk` into this canister's own chunk store; the chunk's SHA-256 */
  uploadChunk(chunk: Uint8Array): Promise<Uint8Array>;
  /** management `clear_chunk_store` of this canister */
  clearChunkStore(): Promise<void>;
  /** the steward's `upgrade_canopy` (a reject throws) */
  requestUpgrade(steward: string, req: StewardUpgradeRequestC): Promise<StewardUpgradeViewC>;
  isController(principal: string): boolean;
  /** this canister's id (the store canister when installing the steward) */
  self(): string;
  management: ManagementPort;
  stewardPeer: StewardPorts;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

const stagedToC = (m: StagedModule): StagedWasmC => ({
  wasm_hash: m.wasmHash, size: BigInt(m.size), received: BigInt(m.received), complete: m.complete, uploader: m.uploader, updated_at_ns: m.updatedAtNs,
});

/** Proposals whose module must stay staged: still open, or adopted and not yet executed. */
const LIVE: ProposalStatus[] = ['open', 'adopted'];

export function outcomeToExecution(o: UpgradeOutcomeC): ExecutionOutcome {
  if ('ok' in o) return { ok: { rev: null, records: [], moduleHash: hex(Uint8Array.from(o.ok.module_hash)) } };
  return { err: o.failed.reason || 'the upgrade failed (no reason given)' };
}

export class Upgrades {
  readonly staging: WasmStaging;

  constructor(
    private readonly kv: KvStore,
    private readonly pds: Pds,
    private readonly gov: Governance,
    private readonly ports: UpgradePorts,
  ) {
    this.staging = new WasmStaging(kv);
  }

  steward(): string | null {
    return (getValue(this.kv, 'steward') as string | undefined) ?? null;
  }

  /** Hashes of modules live upgrade proposals name. */
  inUse(): Set<string> {
    const out = new Set<string>();
    for (const status of LIVE) {
      let after: bigint | undefined;
      for (;;) {
        const page = this.gov.listProposals({ status, after, limit: 100 });
        for (const p of page.proposals) if (p.action.kind === 'upgrade') out.add(p.action.wasmHash);
        if (page.next === null) break;
        after = page.next;
      }
    }
    return out;
  }

  /** Drops unused staged modules; clears the chunk store once nothing staged is left in it. */
  async collect(nowNs: bigint): Promise<void> {
    if (!this.staging.collect(this.inUse(), nowNs)) return;
    await this.ports.clearChunkStore();
    this.staging.storeCleared();
  }

  /** Members only; the caller is checked before the argument is decoded (`decode` runs after). */
  async stageChunk(ctx: CallContext, decode: () => Args<'stage_wasm_chunk'>[0]): Promise<Result<'stage_wasm_chunk'>> {
    requireMember(this.gov, ctx.caller);
    const a = decode();
    const input = { wasmHash: a.wasm_hash, totalSize: Number(a.total_size), offset: Number(a.offset), length: a.chunk.length };
    if (input.offset === 0) await this.collect(ctx.nowNs);
    this.staging.checkChunk(input);
    const chunk = Uint8Array.from(a.chunk);
    const chunkHash = await this.ports.uploadChunk(chunk);
    return stagedToC(this.staging.addChunk(ctx.caller, input, chunk, chunkHash, ctx.nowNs));
  }

  listStaged(): Result<'list_staged_wasm'> {
    return this.staging.list().map(stagedToC);
  }

  setSteward(ctx: CallContext, steward: string): null {
    if (!this.ports.isController(ctx.caller)) throw new GovernanceError(`only a controller may set the steward; ${ctx.caller} is not one`);
    putValue(this.kv, 'steward', steward);
    return null;
  }

  /** Reads the repository head, the event log, the members and the rules, and tallies a vote on them. */
  healthCheck(ctx: CallContext): Result<'health_check'> {
    if (ctx.caller !== this.steward() && !this.gov.getMember(ctx.caller))
      throw new GovernanceError(`only the steward or a member may run the health check; ${ctx.caller} is neither`);
    const problems: string[] = [];
    const s = this.pds.status();
    if (!s.did) problems.push('no DID');
    if (!this.gov.isInitialized()) problems.push('governance is not initialized');
    const members = this.gov.listMembers({ limit: 1 });
    if (members.count === 0) problems.push('no members');
    // A dry-run tally: all power voting yes must adopt under the current rules.
    const all = members.totalPower;
    if (decide({ yes: all, no: 0n, abstain: 0n }, all, this.gov.rules(), true) !== 'adopted') problems.push('a unanimous vote would not pass');
    const detail = `did=${s.did} rev=${s.rev ?? '-'} seq=${s.headSeq} members=${members.count} power=${all}`;
    return { ok: problems.length === 0, detail: problems.length ? `${problems.join('; ')} (${detail})` : detail };
  }

  /** The steward's outcome: idempotent per proposal (recordExecution leaves a decided proposal as it is). */
  report(ctx: CallContext, args: Args<'steward_report'>[0]): null {
    const steward = this.steward();
    if (!steward || ctx.caller !== steward) throw new GovernanceError(`only the steward may report upgrades; ${ctx.caller} is not it`);
    const p = this.gov.getProposal(args.proposal_id);
    if (!p || p.action.kind !== 'upgrade') throw new GovernanceError(`proposal ${args.proposal_id} is not an upgrade`);
    this.gov.recordExecution(p.id, outcomeToExecution(args.outcome), ctx.nowNs);
    return null;
  }

  /**
   * Runs an adopted upgrade: asks the steward (idempotent per proposal id on its side, so a retry
   * after a lost reply cannot install twice). Returns the outcome when it is known, or null while
   * the steward works (its steward_report settles the proposal).
   */
  async execute(id: bigint, effect: Extract<Effect, { type: 'upgrade' }>): Promise<ExecutionOutcome | null> {
    const steward = this.steward();
    if (!steward) return { err: 'no steward is configured (set_steward at deployment)' };
    const m = this.staging.get(effect.wasmHash);
    if (!m?.complete) return { err: `the module ${effect.wasmHash} is no longer staged` };
    if (effect.target === 'steward') {
      return upgradeSteward(this.kv, this.ports.management, this.ports.stewardPeer, {
        id, steward, self: this.ports.self(), wasmHash: effect.wasmHash, chunkHashes: m.chunks, arg: effect.arg,
      });
    }
    let view: StewardUpgradeViewC;
    try {
      view = await this.ports.requestUpgrade(steward, {
        proposal_id: id, wasm_hash: unhex(effect.wasmHash), arg: effect.arg, chunk_hashes: m.chunks.map(unhex),
      });
    } catch (err) {
      return { err: `the steward refused the upgrade: ${err instanceof Error ? err.message : String(err)}` };
    }
    return view.outcome.length ? outcomeToExecution(view.outcome[0]) : null;
  }
}
