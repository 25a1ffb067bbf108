// Typed decoders for values read back from DAG-CBOR (restores bigints and nulls).
import { big, bigOrNull } from './store.ts';
import type {
  AuditEntry, Delegate, DelegateScope, Effect, ExecutionResult, Proposal, ProposalAction, Rules, Tally,
  UpgradeApproval, VoteRecord,
} from './types.ts';

type Obj = Record<string, any>;

export const decodeRules = (v: Obj): Rules => ({
  votingPeriodNs: big(v.votingPeriodNs),
  quorumBps: Number(v.quorumBps),
  thresholdBps: Number(v.thresholdBps),
});

export const decodeScope = (v: Obj): DelegateScope => ({
  collections: [...v.collections],
  actions: [...v.actions],
  writesPerDay: Number(v.writesPerDay),
  expiresAtNs: bigOrNull(v.expiresAtNs),
});

export function decodeAction(v: Obj): ProposalAction {
  switch (v.kind) {
    case 'add_member':
    case 'set_member_power':
      return { ...v, power: big(v.power) } as ProposalAction;
    case 'set_rules':
      return { kind: 'set_rules', rules: decodeRules(v.rules) };
    case 'grant_delegate':
      return { kind: 'grant_delegate', principal: v.principal, scope: decodeScope(v.scope) };
    case 'upgrade':
      return { kind: 'upgrade', wasmHash: v.wasmHash, target: v.target, arg: new Uint8Array(v.arg ?? []), commit: v.commit ?? null };
    default:
      return v as ProposalAction;
  }
}

const decodeTally = (v: Obj): Tally => ({ yes: big(v.yes), no: big(v.no), abstain: big(v.abstain) });

const decodeResult = (v: Obj | null): ExecutionResult | null =>
  v ? { rev: v.rev ?? null, records: v.records.map((r: Obj) => ({ uri: r.uri, cid: r.cid ?? null })), ...(v.moduleHash ? { moduleHash: v.moduleHash } : {}) } : null;

export function decodeProposal(v: Obj): Proposal {
  return {
    id: big(v.id),
    proposer: v.proposer,
    summary: v.summary,
    action: decodeAction(v.action),
    preview: v.preview ?? null,
    createdAtNs: big(v.createdAtNs),
    deadlineNs: big(v.deadlineNs),
    rules: decodeRules(v.rules),
    electorate: { count: Number(v.electorate.count), totalPower: big(v.electorate.totalPower) },
    tally: decodeTally(v.tally),
    status: v.status,
    closedAtNs: bigOrNull(v.closedAtNs),
    executedAtNs: bigOrNull(v.executedAtNs),
    failure: v.failure ?? null,
    effects: (v.effects as Effect[] | null) ?? null,
    result: decodeResult(v.result ?? null),
    claim: v.claim ? { atNs: big(v.claim.atNs), attempts: Number(v.claim.attempts) } : null,
  };
}

export const decodeDelegate = (v: Obj): Delegate => ({
  principal: v.principal,
  scope: decodeScope(v.scope),
  grantedBy: bigOrNull(v.grantedBy),
  grantedAtNs: big(v.grantedAtNs),
});

export const decodeVote = (v: Obj): VoteRecord => ({
  principal: v.principal,
  vote: v.vote,
  power: big(v.power),
  atNs: big(v.atNs),
});

export const decodeAudit = (v: Obj): AuditEntry => ({
  seq: big(v.seq),
  atNs: big(v.atNs),
  actor: v.actor,
  event: v.event,
  proposalId: bigOrNull(v.proposalId),
  detail: v.detail,
  uri: v.uri ?? null,
  cid: v.cid ?? null,
  rev: v.rev ?? null,
});

export const decodeUpgrade = (v: Obj): UpgradeApproval => ({
  wasmHash: v.wasmHash,
  proposalId: big(v.proposalId),
  atNs: big(v.atNs),
});
