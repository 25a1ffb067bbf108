// The governance state machine over a KvStore: members, proposals, votes, delegates, audit.
// Every method validates completely before its first write, so a refusal leaves the store untouched.
//
// Key layout (all values DAG-CBOR):
//   config                 {initialized, nextId, auditSeq}
//   rules                  Rules
//   member/<principal>     {power, sinceNs}          memberstats {count, totalPower}
//   delegate/<principal>   Delegate                  budget/<principal> {buckets} (delegate-budget.ts)
//   author/<collection>/<rkey>  principal of the delegate that last wrote the record
//   uploads/<principal>    {buckets}: blob bytes uploaded in the rolling 24 hours
//   p/<id>                 Proposal                  s/<status>/<id>, od/…, ob/… (proposal-index.ts)
//   elect/<id>/<principal> power (snapshot at creation)
//   vote/<id>/<principal>  VoteRecord
//   audit/<seq>            AuditEntry                upgrade/<seq> UpgradeApproval
import type { KvStore } from '../storage/kv.ts';
import { checkAction, effectsFor, ensurePower, ensurePrincipal, ensureScope, isInternalKind } from './actions.ts';
import {
  decodeAudit, decodeDelegate, decodeProposal, decodeRules, decodeUpgrade, decodeVote,
} from './codec.ts';
import { delegationExpired, refuseAnonymous } from './permissions.ts';
import { decide, ensureRules, rulesMembershipProblem, type Membership } from './rules.ts';
import { ensureProposalSize } from './proposal-limits.ts';
import { addWrite, used, type Buckets } from './delegate-budget.ts';
import { big, decodeBytes, getValue, idKey, putValue, scan } from './store.ts';
import { decodeMeta, dueOpen, earliestDeadline, markLeased, metaOf, openBy, openCount, reindex, type ProposalMeta } from './proposal-index.ts';
import { decodeCbor, encodeCbor } from '../atproto/cbor.ts';
import {
  GovernanceError, PROPOSAL_STATUSES, VOTE_CHOICES, WRITE_ACTIONS,
  type AuditEntry, type Delegate, type Effect, type ExecutionOutcome, type GovernanceEnv, type GovernanceInit,
  type Member, type Proposal, type ProposalAction, type ProposalStatus, type Rules, type UpgradeApproval,
  type VoteChoice, type VoteRecord, type WriteAction,
} from './types.ts';

type Config = { initialized: boolean; nextId: bigint; auditSeq: bigint; indexed?: boolean };

/** An adopted proposal whose execution was claimed this many times without reporting is marked failed. */
export const MAX_EXECUTION_ATTEMPTS = 3;
/** Proposals closed per timer run (the rest are closed by the next run, scheduled at once). */
export const MAX_CLOSE_PER_RUN = 4;
/**
 * A page of proposals stops once the stored proposals it holds reach this size: about 11 k
 * instructions per stored byte to decode, convert and Candid-encode (attack bench), so a page stays
 * near 0.7 B instructions (queries may use 5 B). A single proposal larger than this is a page alone.
 */
export const MAX_PAGE_BYTES = 64_000;
export const MAX_SUMMARY_BYTES = 4_000;
export const MAX_PAGE = 100;
/** Bounds the work one member can cause (each proposal snapshots the electorate). */
export const MAX_OPEN_PER_PROPOSER = 20;
export const MAX_OPEN_PROPOSALS = 500;
/** Blob bytes one principal (member or delegate) may upload in any 24 hours. */
export const MAX_UPLOAD_BYTES_PER_DAY = 50_000_000;
/** Every proposal snapshots the electorate: this bounds that work (and a rules check's scan). */
export const MAX_MEMBERS = 500;

const fail = (message: string): never => {
  throw new GovernanceError(message);
};
const failOnProblem = (problem: string | null): void => {
  if (problem) fail(problem);
};
const pageLimit = (limit: number): number => Math.max(1, Math.min(MAX_PAGE, Math.floor(limit) || MAX_PAGE));

export type DelegateWrite = { action: WriteAction; collection: string; rkey: string };
export type DelegateWriteResult = { uri: string; cid: string | null; rev: string };

export class Governance {
  constructor(
    private readonly kv: KvStore,
    private readonly env: GovernanceEnv,
  ) {}

  // ---------- configuration ----------

  private config(): Config {
    const v = getValue(this.kv, 'config') as Record<string, unknown> | undefined;
    if (!v) return { initialized: false, nextId: 1n, auditSeq: 0n };
    return { initialized: Boolean(v.initialized), nextId: big(v.nextId), auditSeq: big(v.auditSeq), indexed: Boolean(v.indexed) };
  }

  isInitialized(): boolean {
    return this.config().initialized;
  }

  /** Canister init only: founding members, rules and optional initial delegates. */
  init(input: GovernanceInit, nowNs: bigint): void {
    if (this.isInitialized()) fail('governance is already initialized');
    if (input.members.length === 0) fail('at least one founding member is required');
    const seen = new Set<string>();
    for (const m of input.members) {
      ensurePrincipal(m.principal, 'founding member');
      ensurePower(m.power, 'founding member');
      if (seen.has(m.principal)) fail(`founding member ${m.principal} is listed twice`);
      seen.add(m.principal);
    }
    ensureRules(input.rules);
    if (input.members.length > MAX_MEMBERS) fail(`at most ${MAX_MEMBERS} members`);
    const power = input.members.map((m) => m.power);
    failOnProblem(rulesMembershipProblem(input.rules, {
      count: power.length, totalPower: power.reduce((a, b) => a + b, 0n), maxPower: power.reduce((a, b) => (a > b ? a : b), 0n),
    }));
    const delegates = (input.delegates ?? []).map((d) => ({
      principal: ensurePrincipal(d.principal, 'initial delegate'),
      scope: ensureScope(d.scope, nowNs),
    }));

    putValue(this.kv, 'config', { initialized: true, nextId: 1n, auditSeq: 0n, indexed: true });
    putValue(this.kv, 'rules', input.rules);
    for (const m of input.members) this.setMember(m.principal, m.power, nowNs);
    for (const d of delegates) this.setDelegate({ principal: d.principal, scope: d.scope, grantedBy: null, grantedAtNs: nowNs });
    this.audit(nowNs, 'init', 'init', null, `${input.members.length} founding members, ${delegates.length} delegates`);
  }

  private ensureInitialized(): void {
    if (!this.isInitialized()) fail('governance is not initialized');
  }

  // ---------- members ----------

  private memberStats(): { count: number; totalPower: bigint } {
    const v = getValue(this.kv, 'memberstats') as Record<string, unknown> | undefined;
    return v ? { count: Number(v.count), totalPower: big(v.totalPower) } : { count: 0, totalPower: 0n };
  }

  getMember(principal: string): Member | null {
    const v = getValue(this.kv, `member/${principal}`) as Record<string, unknown> | undefined;
    return v ? { principal, power: big(v.power), sinceNs: big(v.sinceNs) } : null;
  }

  private setMember(principal: string, power: bigint, nowNs: bigint): void {
    const prev = this.getMember(principal);
    const stats = this.memberStats();
    putValue(this.kv, `member/${principal}`, { power, sinceNs: prev?.sinceNs ?? nowNs });
    putValue(this.kv, 'memberstats', {
      count: stats.count + (prev ? 0 : 1),
      totalPower: stats.totalPower - (prev?.power ?? 0n) + power,
    });
  }

  /** The membership as it would be after `change` (power null: removed). */
  private membershipAfter(change?: { principal: string; power: bigint | null }): Membership {
    let count = 0;
    let totalPower = 0n;
    let maxPower = 0n;
    const add = (p: bigint) => {
      count++;
      totalPower += p;
      if (p > maxPower) maxPower = p;
    };
    for (const [key, bytes] of scan(this.kv, 'member/')) {
      if (change && key === `member/${change.principal}`) continue;
      add(big((decodeBytes(bytes) as Record<string, unknown>).power));
    }
    if (change && change.power !== null) add(change.power);
    return { count, totalPower, maxPower };
  }

  /** Why the rules and membership that `action` would leave cannot work together, or null. */
  private fitProblem(action: ProposalAction): string | null {
    switch (action.kind) {
      case 'set_rules':
        return rulesMembershipProblem(action.rules, this.membershipAfter());
      case 'add_member':
      case 'set_member_power': {
        const after = this.membershipAfter({ principal: action.principal, power: action.power });
        if (after.count > MAX_MEMBERS) return `at most ${MAX_MEMBERS} members`;
        return rulesMembershipProblem(this.rules(), after);
      }
      case 'remove_member':
        return rulesMembershipProblem(this.rules(), this.membershipAfter({ principal: action.principal, power: null }));
      default:
        return null;
    }
  }

  private removeMember(principal: string): void {
    const prev = this.getMember(principal)!;
    const stats = this.memberStats();
    this.kv.delete(`member/${principal}`);
    putValue(this.kv, 'memberstats', { count: stats.count - 1, totalPower: stats.totalPower - prev.power });
  }

  listMembers(opts: { after?: string; limit: number }): { members: Member[]; count: number; totalPower: bigint; next: string | null } {
    const limit = pageLimit(opts.limit);
    const rows = this.kv.range({ prefix: 'member/', after: opts.after === undefined ? undefined : `member/${opts.after}`, limit });
    const members = rows.map(([k]) => this.getMember(k.slice('member/'.length))!);
    const stats = this.memberStats();
    return { members, ...stats, next: rows.length === limit ? members[members.length - 1]!.principal : null };
  }

  rules(): Rules {
    this.ensureInitialized();
    return decodeRules(getValue(this.kv, 'rules') as Record<string, unknown>);
  }

  // ---------- proposals ----------

  getProposal(id: bigint): Proposal | null {
    const v = getValue(this.kv, `p/${idKey(id)}`) as Record<string, unknown> | undefined;
    return v ? decodeProposal(v) : null;
  }

  private saveProposal(p: Proposal, previous: ProposalStatus | null): void {
    putValue(this.kv, `p/${idKey(p.id)}`, p);
    reindex(this.kv, p, previous);
  }

  /**
   * Brings proposals stored before the index carried metadata into it, at most `limit` per call
   * (the governance timer calls it until it reports done). Returns true when nothing is left.
   */
  completeIndex(limit = 10): boolean {
    const config = this.config();
    if (!config.initialized || config.indexed) return true;
    let fixed = 0;
    for (const status of ['open', 'adopted'] as const) {
      for (const [key, bytes] of scan(this.kv, `s/${status}/`)) {
        if (decodeMeta(bytes) !== null) continue;
        if (fixed >= limit) return false;
        const p = this.getProposal(BigInt(key.slice(`s/${status}/`.length)))!;
        this.kv.delete(key);
        reindex(this.kv, p, null);
        fixed++;
      }
    }
    putValue(this.kv, 'config', { ...this.config(), indexed: true });
    return true;
  }

  /** Index entries of the proposals with `status`, in id order (no payload is decoded). */
  *proposalMetas(status: ProposalStatus): Generator<ProposalMeta> {
    for (const [key, bytes] of scan(this.kv, `s/${status}/`)) {
      const meta = decodeMeta(bytes);
      if (meta) yield meta;
      else yield metaOf(this.getProposal(BigInt(key.slice(`s/${status}/`.length)))!);
    }
  }

  propose(caller: string, input: { action: ProposalAction; summary?: string }, nowNs: bigint): bigint {
    refuseAnonymous(caller);
    this.ensureInitialized();
    if (!this.getMember(caller)) fail(`${caller} is not a member; only members can propose`);
    const summary = input.summary ?? '';
    if (typeof summary !== 'string' || new TextEncoder().encode(summary).length > MAX_SUMMARY_BYTES)
      fail(`the summary must be at most ${MAX_SUMMARY_BYTES} bytes`);
    const mine = openBy(this.kv, caller, MAX_OPEN_PER_PROPOSER);
    const open = openCount(this.kv, MAX_OPEN_PROPOSALS);
    if (mine >= MAX_OPEN_PER_PROPOSER) fail(`${caller} already has ${mine} open proposals; wait until some close`);
    if (open >= MAX_OPEN_PROPOSALS) fail(`there are already ${open} open proposals; wait until some close`);
    ensureProposalSize(input.action);
    const { action, preview } = checkAction(this.env, input.action, nowNs);
    failOnProblem(this.fitProblem(action));
    const rules = this.rules();

    const config = this.config();
    const id = config.nextId;
    let count = 0;
    let totalPower = 0n;
    for (const [key, bytes] of scan(this.kv, 'member/')) {
      const principal = key.slice('member/'.length);
      const power = big((decodeBytes(bytes) as Record<string, unknown>).power);
      this.kv.set(`elect/${idKey(id)}/${principal}`, encodeCbor(power));
      count++;
      totalPower += power;
    }
    const proposal: Proposal = {
      id, proposer: caller, summary, action, preview,
      createdAtNs: nowNs, deadlineNs: nowNs + rules.votingPeriodNs, rules,
      electorate: { count, totalPower },
      tally: { yes: 0n, no: 0n, abstain: 0n },
      status: 'open', closedAtNs: null, executedAtNs: null, failure: null, effects: null, result: null, claim: null,
    };
    putValue(this.kv, 'config', { ...config, nextId: id + 1n });
    this.saveProposal(proposal, null);
    this.audit(nowNs, caller, 'proposed', id, action.kind);
    this.env.wake?.(proposal.deadlineNs);
    return id;
  }

  /** Voting power of `principal` in the electorate snapshotted when proposal `id` was created. */
  electoratePower(id: bigint, principal: string): bigint | null {
    const bytes = this.kv.get(`elect/${idKey(id)}/${principal}`);
    return bytes === undefined ? null : big(decodeCbor(bytes));
  }

  getVote(id: bigint, principal: string): VoteRecord | null {
    const v = getValue(this.kv, `vote/${idKey(id)}/${principal}`) as Record<string, unknown> | undefined;
    return v ? decodeVote(v) : null;
  }

  vote(caller: string, id: bigint, choice: VoteChoice, nowNs: bigint): Proposal {
    refuseAnonymous(caller);
    if (!VOTE_CHOICES.includes(choice)) fail(`a vote is yes, no or abstain, not ${JSON.stringify(choice)}`);
    const p = this.getProposal(id) ?? fail(`there is no proposal ${id}`);
    if (p.status !== 'open') fail(`proposal ${id} is closed (${p.status}); votes are no longer accepted`);
    if (nowNs >= p.deadlineNs) fail(`voting on proposal ${id} ended at ${new Date(Number(p.deadlineNs / 1_000_000n)).toISOString()}`);
    const power = this.electoratePower(id, caller);
    if (power === null) fail(`${caller} was not a member when proposal ${id} was created, so cannot vote on it`);
    const prev = this.getVote(id, caller);
    if (prev?.vote === choice) fail(`${caller} already voted ${choice} on proposal ${id}; a vote counts once`);

    if (prev) p.tally[prev.vote] -= prev.power;
    p.tally[choice] += power!;
    putValue(this.kv, `vote/${idKey(id)}/${caller}`, { principal: caller, vote: choice, power: power!, atNs: nowNs });
    this.audit(nowNs, caller, 'voted', id, prev ? `${choice} (was ${prev.vote})` : choice);
    const decision = decide(p.tally, p.electorate.totalPower, p.rules, false);
    if (decision) this.close(p, decision, nowNs);
    else this.saveProposal(p, 'open');
    return this.getProposal(id)!;
  }

  listVotes(id: bigint, opts: { after?: string; limit: number }): { votes: VoteRecord[]; next: string | null } {
    const limit = pageLimit(opts.limit);
    const prefix = `vote/${idKey(id)}/`;
    const rows = this.kv.range({ prefix, after: opts.after === undefined ? undefined : prefix + opts.after, limit });
    const votes = rows.map(([, bytes]) => decodeVote(decodeBytes(bytes) as Record<string, unknown>));
    return { votes, next: rows.length === limit ? votes[votes.length - 1]!.principal : null };
  }

  /**
   * A page of proposals, newest first unless `reverse` is false. A page ends after `limit`
   * proposals or once the stored proposals reach MAX_PAGE_BYTES, whichever comes first.
   */
  listProposals(opts: { status?: ProposalStatus; after?: bigint; limit: number; reverse?: boolean }): { proposals: Proposal[]; next: bigint | null } {
    const limit = pageLimit(opts.limit);
    const reverse = opts.reverse ?? true;
    if (opts.status !== undefined && !PROPOSAL_STATUSES.includes(opts.status)) fail(`unknown status ${JSON.stringify(opts.status)}`);
    const prefix = opts.status ? `s/${opts.status}/` : 'p/';
    const rows = this.kv.range({ prefix, after: opts.after === undefined ? undefined : prefix + idKey(opts.after), reverse, limit });
    const proposals: Proposal[] = [];
    let bytes = 0;
    for (const [k] of rows) {
      const id = BigInt(k.slice(prefix.length));
      const stored = this.kv.get(`p/${idKey(id)}`)!;
      if (proposals.length > 0 && bytes + stored.length > MAX_PAGE_BYTES) break;
      bytes += stored.length;
      proposals.push(decodeProposal(decodeBytes(stored) as Record<string, unknown>));
    }
    const more = proposals.length < rows.length || rows.length === limit;
    return { proposals, next: more && proposals.length ? proposals[proposals.length - 1]!.id : null };
  }

  /**
   * Closes open proposals whose voting period has ended, earliest first, at most `max` of them
   * (call again while it returns `max` ids). Returns the ids that changed.
   */
  tick(nowNs: bigint, max = MAX_CLOSE_PER_RUN): bigint[] {
    const due = dueOpen(this.kv, nowNs, max);
    for (const id of due) {
      const p = this.getProposal(id)!;
      this.close(p, decide(p.tally, p.electorate.totalPower, p.rules, true)!, nowNs);
    }
    return due;
  }

  /**
   * When the canister should next call tick/claimExecution (null: nothing scheduled): now if an
   * adopted proposal can be claimed, else the earliest end of an execution lease or deadline. Reads
   * index entries only.
   */
  nextWakeNs(nowNs: bigint): bigint | null {
    if (!this.config().indexed) return nowNs;
    let next = earliestDeadline(this.kv);
    for (const m of this.proposalMetas('adopted')) {
      const at = m.leaseEndNs !== undefined && m.leaseEndNs > nowNs ? m.leaseEndNs : nowNs;
      if (next === null || at < next) next = at;
      if (next <= nowNs) break;
    }
    return next;
  }

  private close(p: Proposal, decision: 'adopted' | 'rejected' | 'expired', nowNs: bigint): void {
    p.status = decision;
    p.closedAtNs = nowNs;
    this.audit(nowNs, 'governance', 'closed', p.id, decision);
    if (decision !== 'adopted') {
      this.saveProposal(p, 'open');
      return;
    }
    if (isInternalKind(p.action.kind)) {
      const failure = this.applyInternal(p, nowNs);
      p.status = failure ? 'failed' : 'executed';
      p.executedAtNs = nowNs;
      p.failure = failure;
      p.effects = [];
      p.result = failure ? null : { rev: null, records: [] };
      this.audit(nowNs, 'governance', failure ? 'failed' : 'executed', p.id, failure ?? p.action.kind);
      this.saveProposal(p, 'open');
      return;
    }
    p.effects = effectsFor(p, nowNs);
    this.saveProposal(p, 'open');
    this.env.wake?.(nowNs);
  }

  /** Applies membership/rules/delegate/upgrade changes; returns a failure reason or null. */
  private applyInternal(p: Proposal, nowNs: bigint): string | null {
    const a = p.action;
    // Membership may have changed since the proposal was made: what no longer fits fails here.
    const misfit = this.fitProblem(a);
    if (misfit) return misfit;
    switch (a.kind) {
      case 'add_member':
        if (this.getMember(a.principal)) return `${a.principal} is already a member`;
        this.setMember(a.principal, a.power, nowNs);
        return null;
      case 'set_member_power':
        if (!this.getMember(a.principal)) return `${a.principal} is not a member`;
        this.setMember(a.principal, a.power, nowNs);
        return null;
      case 'remove_member': {
        const m = this.getMember(a.principal);
        if (!m) return `${a.principal} is not a member`;
        if (this.memberStats().count === 1) return 'the last member cannot be removed';
        this.removeMember(a.principal);
        return null;
      }
      case 'set_rules':
        putValue(this.kv, 'rules', a.rules);
        return null;
      case 'grant_delegate':
        if (delegationExpired(a.scope, nowNs)) return 'the delegate grant expired before it was adopted';
        this.setDelegate({ principal: a.principal, scope: a.scope, grantedBy: p.id, grantedAtNs: nowNs });
        return null;
      case 'revoke_delegate':
        if (!this.getDelegate(a.principal)) return `${a.principal} is not a delegate`;
        this.kv.delete(`delegate/${a.principal}`);
        this.kv.delete(`budget/${a.principal}`);
        return null;
      case 'approve_upgrade': {
        const seq = this.kv.range({ prefix: 'upgrade/', reverse: true, limit: 1 });
        const next = seq.length ? BigInt(seq[0]![0].slice('upgrade/'.length)) + 1n : 1n;
        putValue(this.kv, `upgrade/${idKey(next)}`, { wasmHash: a.wasmHash, proposalId: p.id, atNs: nowNs });
        return null;
      }
      default:
        return `proposal kind ${a.kind} is not applied internally`;
    }
  }

  // ---------- execution (canister timer) ----------

  /**
   * Takes the oldest adopted proposal whose effects are not being run, and leases it to the caller
   * for `leaseNs` (a crashed execution becomes claimable again after that; the canister uses
   * api/executor.ts EXECUTION_LEASE_NS, derived from the writer's stall timeout).
   */
  claimExecution(nowNs: bigint, leaseNs: bigint): { id: bigint; effects: Effect[]; attempt: number } | null {
    for (const [key] of scan(this.kv, 's/adopted/')) {
      const p = this.getProposal(BigInt(key.slice('s/adopted/'.length)))!;
      if (p.claim && p.claim.atNs + leaseNs > nowNs) continue;
      if ((p.claim?.attempts ?? 0) >= MAX_EXECUTION_ATTEMPTS) {
        // Every earlier run ended without reporting (it trapped): give up on this one, run the others.
        this.recordExecution(p.id, { err: `execution did not complete after ${MAX_EXECUTION_ATTEMPTS} attempts` }, nowNs);
        continue;
      }
      p.claim = { atNs: nowNs, attempts: (p.claim?.attempts ?? 0) + 1 };
      this.saveProposal(p, 'adopted');
      markLeased(this.kv, p, nowNs + leaseNs);
      return { id: p.id, effects: p.effects ?? [], attempt: p.claim.attempts };
    }
    return null;
  }

  /**
   * Records the outcome of running an adopted proposal's effects. Idempotent: reporting again for
   * an executed or failed proposal changes nothing and returns it as it is.
   */
  recordExecution(id: bigint, outcome: ExecutionOutcome, nowNs: bigint): Proposal {
    const p = this.getProposal(id) ?? fail(`there is no proposal ${id}`);
    if (p.status === 'executed' || p.status === 'failed') return p;
    if (p.status !== 'adopted') fail(`proposal ${id} is ${p.status}, not adopted; nothing to execute`);
    if ('ok' in outcome) {
      p.status = 'executed';
      p.result = outcome.ok;
      const first = outcome.ok.records[0];
      this.audit(nowNs, 'governance', 'executed', id, p.action.kind, first?.uri ?? null, first?.cid ?? null, outcome.ok.rev);
    } else {
      p.status = 'failed';
      p.failure = outcome.err || 'execution failed (no reason given)';
      this.audit(nowNs, 'governance', 'failed', id, p.failure);
    }
    p.executedAtNs = nowNs;
    p.claim = null;
    this.saveProposal(p, 'adopted');
    return p;
  }

  // ---------- delegates ----------

  getDelegate(principal: string): Delegate | null {
    const v = getValue(this.kv, `delegate/${principal}`) as Record<string, unknown> | undefined;
    return v ? decodeDelegate(v) : null;
  }

  private setDelegate(d: Delegate): void {
    putValue(this.kv, `delegate/${d.principal}`, d);
    this.kv.delete(`budget/${d.principal}`);
  }

  listDelegates(): Delegate[] {
    return [...scan(this.kv, 'delegate/')].map(([, bytes]) => decodeDelegate(decodeBytes(bytes) as Record<string, unknown>));
  }

  /** Writes a delegate used in the rolling 24-hour window ending at `nowNs` (delegate-budget.ts). */
  delegateWritesToday(principal: string, nowNs: bigint): number {
    return used(this.budget(principal), nowNs);
  }

  private budget(principal: string): Buckets {
    return this.buckets(`budget/${principal}`);
  }

  private buckets(key: string): Buckets {
    const v = getValue(this.kv, key) as Record<string, unknown> | undefined;
    return Array.isArray(v?.buckets) ? (v.buckets as [number, number][]).map(([h, c]) => [Number(h), Number(c)]) : [];
  }

  /** Refuses an upload that would take `caller` over MAX_UPLOAD_BYTES_PER_DAY in any 24 hours (writes nothing). */
  checkUploadBytes(caller: string, bytes: number, nowNs: bigint): void {
    const spent = used(this.uploadBuckets(caller), nowNs);
    if (spent + bytes > MAX_UPLOAD_BYTES_PER_DAY)
      fail(`${caller} has uploaded ${spent} bytes in the last 24 hours; ${bytes} more would pass the ${MAX_UPLOAD_BYTES_PER_DAY} allowed`);
  }

  /** Counts an upload of `bytes` against the caller's rolling 24-hour allowance. */
  addUploadBytes(caller: string, bytes: number, nowNs: bigint): void {
    putValue(this.kv, `uploads/${caller}`, { buckets: addWrite(this.uploadBuckets(caller), nowNs, 1, bytes) });
  }

  private uploadBuckets(caller: string): Buckets {
    return this.buckets(`uploads/${caller}`);
  }

  /** The delegate that wrote the record at collection/rkey (while it was the last to write it), or null. */
  authorOf(collection: string, rkey: string): string | null {
    const v = getValue(this.kv, `author/${collection}/${rkey}`);
    return typeof v === 'string' ? v : null;
  }

  /**
   * Refuses a direct write outside the caller's delegation: anonymous, not (or no longer) a
   * delegate, expired, an operation or collection outside the scope, or a put/delete of an existing
   * record the delegate did not write itself unless the scope allows `put_any`/`delete_any`. Writes
   * nothing: the canister checks again when the write is committed.
   */
  checkDelegateWrite(caller: string, write: { action: WriteAction; collection: string; rkey?: string }, nowNs: bigint, exists?: (collection: string, rkey: string) => boolean): Delegate {
    refuseAnonymous(caller);
    const d = this.getDelegate(caller) ?? fail(`${caller} is not a delegate; direct writes need a delegation adopted by vote`);
    if (delegationExpired(d.scope, nowNs)) fail(`the delegation of ${caller} has expired`);
    if (!WRITE_ACTIONS.includes(write.action)) fail(`unknown write operation ${JSON.stringify(write.action)}`);
    const any = write.action === 'create' ? null : (`${write.action}_any` as const);
    if (!d.scope.actions.includes(write.action) && !(any && d.scope.actions.includes(any)))
      fail(`delegate ${caller} may not ${write.action} records (allowed: ${d.scope.actions.join(', ')})`);
    if (!d.scope.collections.includes(write.collection))
      fail(`delegate ${caller} may not write to ${write.collection} (allowed: ${d.scope.collections.join(', ')})`);
    if (any && write.rkey !== undefined && !d.scope.actions.includes(any) && this.authorOf(write.collection, write.rkey) !== caller
      && (exists?.(write.collection, write.rkey) ?? true))
      fail(`delegate ${caller} may only ${write.action} records it wrote itself (${write.collection}/${write.rkey} is not one; a scope with ${any} allows it)`);
    return d;
  }

  /**
   * Refuses a write outside the caller's delegation (checkDelegateWrite), or reserves one write of
   * its rolling 24-hour budget. The canister calls this before writing, then recordDelegateWrite on
   * success or releaseDelegateWrite if the write did not happen.
   */
  authorizeDelegateWrite(caller: string, write: { action: WriteAction; collection: string; rkey?: string }, nowNs: bigint, exists?: (collection: string, rkey: string) => boolean): void {
    const d = this.checkDelegateWrite(caller, write, nowNs, exists);
    const buckets = this.budget(caller);
    if (used(buckets, nowNs) >= d.scope.writesPerDay) fail(`delegate ${caller} has used its budget of ${d.scope.writesPerDay} writes in 24 hours`);
    putValue(this.kv, `budget/${caller}`, { buckets: addWrite(buckets, nowNs, 1) });
  }

  /** Gives back the most recent reserved write that did not happen. */
  releaseDelegateWrite(caller: string, nowNs: bigint): void {
    const buckets = this.budget(caller);
    if (used(buckets, nowNs) > 0) putValue(this.kv, `budget/${caller}`, { buckets: addWrite(buckets, nowNs, -1) });
  }

  /** Audit entry for a delegate's direct write (who, what, when, the record, the rev), and who wrote the record. */
  recordDelegateWrite(caller: string, write: DelegateWrite, result: DelegateWriteResult, nowNs: bigint): void {
    if (write.action === 'delete') this.kv.delete(`author/${write.collection}/${write.rkey}`);
    else putValue(this.kv, `author/${write.collection}/${write.rkey}`, caller);
    this.audit(nowNs, caller, 'delegate_write', null, `${write.action} ${write.collection}/${write.rkey}`, result.uri, result.cid, result.rev);
  }

  // ---------- upgrades & audit ----------

  upgradeApprovals(): UpgradeApproval[] {
    return [...scan(this.kv, 'upgrade/')].map(([, bytes]) => decodeUpgrade(decodeBytes(bytes) as Record<string, unknown>));
  }

  isUpgradeApproved(wasmHash: string): boolean {
    return this.upgradeApprovals().some((u) => u.wasmHash === wasmHash.toLowerCase());
  }

  /** An operational warning (e.g. a low cycle balance) in the audit log, by the canister itself. */
  recordWarning(nowNs: bigint, detail: string): void {
    this.audit(nowNs, 'canister', 'warning', null, detail);
  }

  private audit(
    nowNs: bigint, actor: string, event: AuditEntry['event'], proposalId: bigint | null, detail: string,
    uri: string | null = null, cid: string | null = null, rev: string | null = null,
  ): void {
    const config = this.config();
    const seq = config.auditSeq + 1n;
    putValue(this.kv, 'config', { ...config, auditSeq: seq });
    putValue(this.kv, `audit/${idKey(seq)}`, { seq, atNs: nowNs, actor, event, proposalId, detail, uri, cid, rev });
  }

  auditLog(opts: { after?: bigint; limit: number; reverse?: boolean }): { entries: AuditEntry[]; next: bigint | null } {
    const limit = pageLimit(opts.limit);
    const rows = this.kv.range({
      prefix: 'audit/', after: opts.after === undefined ? undefined : `audit/${idKey(opts.after)}`, reverse: opts.reverse ?? false, limit,
    });
    const entries = rows.map(([, bytes]) => decodeAudit(decodeBytes(bytes) as Record<string, unknown>));
    return { entries, next: rows.length === limit ? entries[entries.length - 1]!.seq : null };
  }
}

