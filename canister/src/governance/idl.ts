// Candid interface of the governance methods, and one handler per method, so canister/src/main.ts
// only declares one-line decorated delegations:
//
//   @update(G.methods.propose.args, G.methods.propose.ret)
//   propose(a: G.ProposeArgs) { return handlers.propose(ctx(), a); }
//
// `IDL` comes from @dfinity/candid, the same module Azle re-exports (azle's index does
// `export * from '@dfinity/candid'` and the package resolves to this one), so the objects work in
// the decorators and in plain Node tests alike.
import { IDL } from '@dfinity/candid';
import type { Governance } from './governance.ts';
import { previewJson } from './records.ts';
import {
  GovernanceError, type AuditEntry, type Delegate, type DelegateScope, type GovernanceInit, type Proposal,
  type ProposalAction, type ProposalStatus, type Rules, type VoteChoice, type WriteAction,
} from './types.ts';

// ---------- IDL types ----------

export const RulesIdl = IDL.Record({ voting_period_ns: IDL.Nat64, quorum_bps: IDL.Nat32, threshold_bps: IDL.Nat32 });
const StrongRefIdl = IDL.Record({ uri: IDL.Text, cid: IDL.Text });
const ImageIdl = IDL.Record({
  cid: IDL.Text,
  alt: IDL.Text,
  aspect_ratio: IDL.Opt(IDL.Record({ width: IDL.Nat32, height: IDL.Nat32 })),
});
const PostIdl = IDL.Record({
  text: IDL.Text,
  langs: IDL.Vec(IDL.Text),
  mentions: IDL.Vec(IDL.Record({ handle: IDL.Text, did: IDL.Text })),
  reply: IDL.Opt(IDL.Record({ root: StrongRefIdl, parent: StrongRefIdl })),
  images: IDL.Vec(ImageIdl),
  quote: IDL.Opt(StrongRefIdl),
});
export const WriteActionIdl = IDL.Variant({ create: IDL.Null, put: IDL.Null, delete: IDL.Null });
export const DelegateScopeIdl = IDL.Record({
  collections: IDL.Vec(IDL.Text),
  actions: IDL.Vec(WriteActionIdl),
  writes_per_day: IDL.Nat32,
  expires_at_ns: IDL.Opt(IDL.Nat64),
});
const PrincipalArg = IDL.Record({ principal: IDL.Text });
export const ProposalActionIdl = IDL.Variant({
  post: PostIdl,
  delete_record: IDL.Record({ collection: IDL.Text, rkey: IDL.Text }),
  put_record: IDL.Record({ collection: IDL.Text, rkey: IDL.Opt(IDL.Text), record_json: IDL.Text }),
  update_profile: IDL.Record({
    display_name: IDL.Opt(IDL.Text),
    description: IDL.Opt(IDL.Text),
    avatar: IDL.Opt(IDL.Text),
    banner: IDL.Opt(IDL.Text),
  }),
  set_handle: IDL.Record({ handle: IDL.Text }),
  add_member: IDL.Record({ principal: IDL.Text, power: IDL.Nat64 }),
  remove_member: PrincipalArg,
  set_member_power: IDL.Record({ principal: IDL.Text, power: IDL.Nat64 }),
  set_rules: RulesIdl,
  grant_delegate: IDL.Record({ principal: IDL.Text, scope: DelegateScopeIdl }),
  revoke_delegate: PrincipalArg,
  set_account_active: IDL.Record({ active: IDL.Bool }),
  approve_upgrade: IDL.Record({ wasm_hash: IDL.Text }),
});
export const ProposeArgsIdl = IDL.Record({ action: ProposalActionIdl, summary: IDL.Opt(IDL.Text) });
export const VoteIdl = IDL.Variant({ yes: IDL.Null, no: IDL.Null, abstain: IDL.Null });
export const ProposalStatusIdl = IDL.Variant({
  open: IDL.Null, adopted: IDL.Null, rejected: IDL.Null, expired: IDL.Null, executed: IDL.Null, failed: IDL.Null,
});
export const ExecutionResultIdl = IDL.Record({
  rev: IDL.Opt(IDL.Text),
  records: IDL.Vec(IDL.Record({ uri: IDL.Text, cid: IDL.Opt(IDL.Text) })),
});
export const ProposalViewIdl = IDL.Record({
  id: IDL.Nat64,
  kind: IDL.Text,
  proposer: IDL.Text,
  summary: IDL.Text,
  action: ProposalActionIdl,
  /** atproto JSON of what will be written (post/put record, profile patch) */
  preview_json: IDL.Opt(IDL.Text),
  status: ProposalStatusIdl,
  created_at_ns: IDL.Nat64,
  deadline_ns: IDL.Nat64,
  closed_at_ns: IDL.Opt(IDL.Nat64),
  executed_at_ns: IDL.Opt(IDL.Nat64),
  rules: RulesIdl,
  electorate_size: IDL.Nat32,
  total_power: IDL.Nat64,
  yes: IDL.Nat64,
  no: IDL.Nat64,
  abstain: IDL.Nat64,
  failure: IDL.Opt(IDL.Text),
  result: IDL.Opt(ExecutionResultIdl),
});
const VoteViewIdl = IDL.Record({ principal: IDL.Text, vote: VoteIdl, power: IDL.Nat64, time_ns: IDL.Nat64 });
const MemberViewIdl = IDL.Record({ principal: IDL.Text, power: IDL.Nat64, since_ns: IDL.Nat64 });
export const DelegateViewIdl = IDL.Record({
  principal: IDL.Text,
  scope: DelegateScopeIdl,
  granted_by: IDL.Opt(IDL.Nat64),
  granted_at_ns: IDL.Nat64,
  writes_today: IDL.Nat32,
});
const AuditEntryIdl = IDL.Record({
  seq: IDL.Nat64,
  time_ns: IDL.Nat64,
  actor: IDL.Text,
  event: IDL.Text,
  proposal_id: IDL.Opt(IDL.Nat64),
  detail: IDL.Text,
  uri: IDL.Opt(IDL.Text),
  cid: IDL.Opt(IDL.Text),
  rev: IDL.Opt(IDL.Text),
});
/** Embedded by canister-state in the canister's init argument. */
export const GovernanceInitIdl = IDL.Record({
  members: IDL.Vec(IDL.Record({ principal: IDL.Text, power: IDL.Nat64 })),
  rules: RulesIdl,
  delegates: IDL.Vec(IDL.Record({ principal: IDL.Text, scope: DelegateScopeIdl })),
});

const ListProposalsArgs = IDL.Record({
  status: IDL.Opt(ProposalStatusIdl),
  after: IDL.Opt(IDL.Nat64),
  limit: IDL.Opt(IDL.Nat32),
  oldest_first: IDL.Opt(IDL.Bool),
});
const ListVotesArgs = IDL.Record({ id: IDL.Nat64, after: IDL.Opt(IDL.Text), limit: IDL.Opt(IDL.Nat32) });
const ListMembersArgs = IDL.Record({ after: IDL.Opt(IDL.Text), limit: IDL.Opt(IDL.Nat32) });
const AuditArgs = IDL.Record({ after: IDL.Opt(IDL.Nat64), limit: IDL.Opt(IDL.Nat32), newest_first: IDL.Opt(IDL.Bool) });

type M = { mode: 'query' | 'update'; args: IDL.Type[]; ret: IDL.Type };
/** Every governance Candid method: mode, argument types and return type. */
export const methods = {
  propose: { mode: 'update', args: [ProposeArgsIdl], ret: IDL.Nat64 },
  vote: { mode: 'update', args: [IDL.Record({ id: IDL.Nat64, vote: VoteIdl })], ret: ProposalViewIdl },
  get_proposal: { mode: 'query', args: [IDL.Nat64], ret: IDL.Opt(ProposalViewIdl) },
  list_proposals: {
    mode: 'query', args: [ListProposalsArgs], ret: IDL.Record({ proposals: IDL.Vec(ProposalViewIdl), next: IDL.Opt(IDL.Nat64) }),
  },
  list_votes: { mode: 'query', args: [ListVotesArgs], ret: IDL.Record({ votes: IDL.Vec(VoteViewIdl), next: IDL.Opt(IDL.Text) }) },
  list_members: {
    mode: 'query', args: [ListMembersArgs],
    ret: IDL.Record({ members: IDL.Vec(MemberViewIdl), count: IDL.Nat32, total_power: IDL.Nat64, next: IDL.Opt(IDL.Text) }),
  },
  list_delegates: { mode: 'query', args: [], ret: IDL.Vec(DelegateViewIdl) },
  get_rules: { mode: 'query', args: [], ret: RulesIdl },
  get_audit_log: { mode: 'query', args: [AuditArgs], ret: IDL.Record({ entries: IDL.Vec(AuditEntryIdl), next: IDL.Opt(IDL.Nat64) }) },
  list_upgrade_approvals: {
    mode: 'query', args: [], ret: IDL.Vec(IDL.Record({ wasm_hash: IDL.Text, proposal_id: IDL.Nat64, time_ns: IDL.Nat64 })),
  },
} satisfies Record<string, M>;

/** The governance part of the service, for agents (CLI, tests): `IDL.Service(governanceService)`. */
export const governanceService: Record<string, IDL.FuncClass> = Object.fromEntries(
  Object.entries(methods).map(([name, m]) => [name, IDL.Func(m.args as [] | [IDL.Type, ...IDL.Type[]], [m.ret as IDL.Type], m.mode === 'query' ? ['query'] : [])]),
);

// ---------- Candid JS shapes ----------

type Opt<T> = [] | [T];
type Variant<K extends string> = { [P in K]: { [Q in P]: null } }[K];
export type RulesC = { voting_period_ns: bigint; quorum_bps: number; threshold_bps: number };
export type StrongRefC = { uri: string; cid: string };
export type ScopeC = { collections: string[]; actions: Variant<WriteAction>[]; writes_per_day: number; expires_at_ns: Opt<bigint> };
export type ProposalActionC =
  | { post: {
      text: string; langs: string[]; mentions: { handle: string; did: string }[];
      reply: Opt<{ root: StrongRefC; parent: StrongRefC }>;
      images: { cid: string; alt: string; aspect_ratio: Opt<{ width: number; height: number }> }[];
      quote: Opt<StrongRefC>;
    } }
  | { delete_record: { collection: string; rkey: string } }
  | { put_record: { collection: string; rkey: Opt<string>; record_json: string } }
  | { update_profile: { display_name: Opt<string>; description: Opt<string>; avatar: Opt<string>; banner: Opt<string> } }
  | { set_handle: { handle: string } }
  | { add_member: { principal: string; power: bigint } }
  | { remove_member: { principal: string } }
  | { set_member_power: { principal: string; power: bigint } }
  | { set_rules: RulesC }
  | { grant_delegate: { principal: string; scope: ScopeC } }
  | { revoke_delegate: { principal: string } }
  | { set_account_active: { active: boolean } }
  | { approve_upgrade: { wasm_hash: string } };
export type ProposeArgs = { action: ProposalActionC; summary: Opt<string> };
export type VoteArgs = { id: bigint; vote: Variant<VoteChoice> };
export type ExecutionResultC = { rev: Opt<string>; records: { uri: string; cid: Opt<string> }[] };
export type ProposalView = {
  id: bigint; kind: string; proposer: string; summary: string; action: ProposalActionC; preview_json: Opt<string>;
  status: Variant<ProposalStatus>; created_at_ns: bigint; deadline_ns: bigint; closed_at_ns: Opt<bigint>;
  executed_at_ns: Opt<bigint>; rules: RulesC; electorate_size: number; total_power: bigint; yes: bigint; no: bigint;
  abstain: bigint; failure: Opt<string>; result: Opt<ExecutionResultC>;
};
export type ListProposalsArgs = { status: Opt<Variant<ProposalStatus>>; after: Opt<bigint>; limit: Opt<number>; oldest_first: Opt<boolean> };
export type ListVotesArgs = { id: bigint; after: Opt<string>; limit: Opt<number> };
export type ListMembersArgs = { after: Opt<string>; limit: Opt<number> };
export type AuditArgs = { after: Opt<bigint>; limit: Opt<number>; newest_first: Opt<boolean> };
export type GovernanceInitC = {
  members: { principal: string; power: bigint }[];
  rules: RulesC;
  delegates: { principal: string; scope: ScopeC }[];
};
export type DelegateViewC = { principal: string; scope: ScopeC; granted_by: Opt<bigint>; granted_at_ns: bigint; writes_today: number };

// ---------- conversions ----------

const opt = <T>(v: T | null | undefined): Opt<T> => (v === null || v === undefined ? [] : [v]);
const unopt = <T>(v: Opt<T>): T | undefined => (v.length ? v[0] : undefined);
/** The single tag of a Candid variant value. */
export const tag = <K extends string>(v: Variant<K> | Record<string, unknown>): K => {
  const keys = Object.keys(v);
  if (keys.length !== 1) throw new GovernanceError('malformed variant');
  return keys[0] as K;
};
const variant = <K extends string>(k: K): Variant<K> => ({ [k]: null }) as Variant<K>;

export const rulesFromC = (r: RulesC): Rules => ({ votingPeriodNs: r.voting_period_ns, quorumBps: r.quorum_bps, thresholdBps: r.threshold_bps });
export const rulesToC = (r: Rules): RulesC => ({ voting_period_ns: r.votingPeriodNs, quorum_bps: r.quorumBps, threshold_bps: r.thresholdBps });
export const scopeFromC = (s: ScopeC): DelegateScope => ({
  collections: s.collections,
  actions: s.actions.map((a) => tag(a)),
  writesPerDay: s.writes_per_day,
  expiresAtNs: unopt(s.expires_at_ns) ?? null,
});
export const scopeToC = (s: DelegateScope): ScopeC => ({
  collections: s.collections,
  actions: s.actions.map((a) => variant(a)),
  writes_per_day: s.writesPerDay,
  expires_at_ns: opt(s.expiresAtNs),
});

export function actionFromC(c: ProposalActionC): ProposalAction {
  if ('post' in c) {
    const p = c.post;
    return {
      kind: 'post',
      post: {
        text: p.text,
        langs: p.langs,
        mentions: p.mentions,
        reply: unopt(p.reply),
        images: p.images.map((i) => ({ cid: i.cid, alt: i.alt, aspectRatio: unopt(i.aspect_ratio) })),
        quote: unopt(p.quote),
      },
    };
  }
  if ('delete_record' in c) return { kind: 'delete_record', ...c.delete_record };
  if ('put_record' in c) {
    const p = c.put_record;
    return { kind: 'put_record', collection: p.collection, rkey: unopt(p.rkey), recordJson: p.record_json };
  }
  if ('update_profile' in c) {
    const p = c.update_profile;
    return {
      kind: 'update_profile',
      profile: { displayName: unopt(p.display_name), description: unopt(p.description), avatar: unopt(p.avatar), banner: unopt(p.banner) },
    };
  }
  if ('set_handle' in c) return { kind: 'set_handle', handle: c.set_handle.handle };
  if ('add_member' in c) return { kind: 'add_member', ...c.add_member };
  if ('remove_member' in c) return { kind: 'remove_member', ...c.remove_member };
  if ('set_member_power' in c) return { kind: 'set_member_power', ...c.set_member_power };
  if ('set_rules' in c) return { kind: 'set_rules', rules: rulesFromC(c.set_rules) };
  if ('grant_delegate' in c) return { kind: 'grant_delegate', principal: c.grant_delegate.principal, scope: scopeFromC(c.grant_delegate.scope) };
  if ('revoke_delegate' in c) return { kind: 'revoke_delegate', ...c.revoke_delegate };
  if ('set_account_active' in c) return { kind: 'set_account_active', active: c.set_account_active.active };
  if ('approve_upgrade' in c) return { kind: 'approve_upgrade', wasmHash: c.approve_upgrade.wasm_hash };
  throw new GovernanceError(`unknown proposal kind ${tag(c as Record<string, unknown>)}`);
}

export function actionToC(a: ProposalAction): ProposalActionC {
  switch (a.kind) {
    case 'post': {
      const p = a.post;
      return {
        post: {
          text: p.text, langs: p.langs ?? [], mentions: p.mentions ?? [], reply: opt(p.reply),
          images: (p.images ?? []).map((i) => ({ cid: i.cid, alt: i.alt, aspect_ratio: opt(i.aspectRatio) })),
          quote: opt(p.quote),
        },
      };
    }
    case 'delete_record': return { delete_record: { collection: a.collection, rkey: a.rkey } };
    case 'put_record': return { put_record: { collection: a.collection, rkey: opt(a.rkey), record_json: a.recordJson } };
    case 'update_profile': {
      const p = a.profile;
      return { update_profile: { display_name: opt(p.displayName), description: opt(p.description), avatar: opt(p.avatar), banner: opt(p.banner) } };
    }
    case 'set_handle': return { set_handle: { handle: a.handle } };
    case 'add_member': return { add_member: { principal: a.principal, power: a.power } };
    case 'remove_member': return { remove_member: { principal: a.principal } };
    case 'set_member_power': return { set_member_power: { principal: a.principal, power: a.power } };
    case 'set_rules': return { set_rules: rulesToC(a.rules) };
    case 'grant_delegate': return { grant_delegate: { principal: a.principal, scope: scopeToC(a.scope) } };
    case 'revoke_delegate': return { revoke_delegate: { principal: a.principal } };
    case 'set_account_active': return { set_account_active: { active: a.active } };
    case 'approve_upgrade': return { approve_upgrade: { wasm_hash: a.wasmHash } };
  }
}

export function proposalToC(p: Proposal): ProposalView {
  return {
    id: p.id,
    kind: p.action.kind,
    proposer: p.proposer,
    summary: p.summary,
    action: actionToC(p.action),
    preview_json: opt(p.preview === null ? null : previewJson(p.preview)),
    status: variant(p.status),
    created_at_ns: p.createdAtNs,
    deadline_ns: p.deadlineNs,
    closed_at_ns: opt(p.closedAtNs),
    executed_at_ns: opt(p.executedAtNs),
    rules: rulesToC(p.rules),
    electorate_size: p.electorate.count,
    total_power: p.electorate.totalPower,
    yes: p.tally.yes,
    no: p.tally.no,
    abstain: p.tally.abstain,
    failure: opt(p.failure),
    result: opt(p.result && { rev: opt(p.result.rev), records: p.result.records.map((r) => ({ uri: r.uri, cid: opt(r.cid) })) }),
  };
}

export const initFromC = (c: GovernanceInitC): GovernanceInit => ({
  members: c.members,
  rules: rulesFromC(c.rules),
  delegates: c.delegates.map((d) => ({ principal: d.principal, scope: scopeFromC(d.scope) })),
});

const delegateToC = (d: Delegate, writesToday: number): DelegateViewC => ({
  principal: d.principal,
  scope: scopeToC(d.scope),
  granted_by: opt(d.grantedBy),
  granted_at_ns: d.grantedAtNs,
  writes_today: writesToday,
});

const auditToC = (e: AuditEntry) => ({
  seq: e.seq, time_ns: e.atNs, actor: e.actor, event: e.event, proposal_id: opt(e.proposalId), detail: e.detail,
  uri: opt(e.uri), cid: opt(e.cid), rev: opt(e.rev),
});

// ---------- handlers ----------

export type CallContext = { caller: string; nowNs: bigint };

/** One function per Candid method: `(ctx, ...candidArgs) => candidResult`. Throws GovernanceError on refusal. */
export function governanceHandlers(source: Governance | (() => Governance)) {
  const gov = typeof source === 'function' ? source : () => source;
  return {
    propose: (ctx: CallContext, args: ProposeArgs): bigint =>
      gov().propose(ctx.caller, { action: actionFromC(args.action), summary: unopt(args.summary) }, ctx.nowNs),
    vote: (ctx: CallContext, args: VoteArgs): ProposalView => proposalToC(gov().vote(ctx.caller, args.id, tag(args.vote), ctx.nowNs)),
    get_proposal: (_ctx: CallContext, id: bigint): Opt<ProposalView> => {
      const p = gov().getProposal(id);
      return p ? [proposalToC(p)] : [];
    },
    list_proposals: (_ctx: CallContext, args: ListProposalsArgs) => {
      const status = unopt(args.status);
      const page = gov().listProposals({
        status: status && tag(status), after: unopt(args.after), limit: unopt(args.limit) ?? 20, reverse: !(unopt(args.oldest_first) ?? false),
      });
      return { proposals: page.proposals.map(proposalToC), next: opt(page.next) };
    },
    list_votes: (_ctx: CallContext, args: ListVotesArgs) => {
      const page = gov().listVotes(args.id, { after: unopt(args.after), limit: unopt(args.limit) ?? 100 });
      return {
        votes: page.votes.map((v) => ({ principal: v.principal, vote: variant(v.vote), power: v.power, time_ns: v.atNs })),
        next: opt(page.next),
      };
    },
    list_members: (_ctx: CallContext, args: ListMembersArgs) => {
      const page = gov().listMembers({ after: unopt(args.after), limit: unopt(args.limit) ?? 100 });
      return {
        members: page.members.map((m) => ({ principal: m.principal, power: m.power, since_ns: m.sinceNs })),
        count: page.count,
        total_power: page.totalPower,
        next: opt(page.next),
      };
    },
    list_delegates: (ctx: CallContext): DelegateViewC[] =>
      gov().listDelegates().map((d) => delegateToC(d, gov().delegateWritesToday(d.principal, ctx.nowNs))),
    get_rules: (_ctx: CallContext): RulesC => rulesToC(gov().rules()),
    get_audit_log: (_ctx: CallContext, args: AuditArgs) => {
      const page = gov().auditLog({ after: unopt(args.after), limit: unopt(args.limit) ?? 50, reverse: unopt(args.newest_first) ?? false });
      return { entries: page.entries.map(auditToC), next: opt(page.next) };
    },
    list_upgrade_approvals: (_ctx: CallContext) =>
      gov().upgradeApprovals().map((u) => ({ wasm_hash: u.wasmHash, proposal_id: u.proposalId, time_ns: u.atNs })),
  } satisfies { [K in keyof typeof methods]: (ctx: CallContext, ...args: any[]) => unknown };
}
