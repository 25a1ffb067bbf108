// The governance methods of the Candid interface (api/interface.ts): one handler per method,
// `(ctx, ...candidArgs) => candidResult`, converting between Candid values and governance's domain
// types, so canister/src/main.ts only declares one-line decorated delegations.
import type { Governance } from '../governance/governance.ts';
import { previewJson } from '../bsky/records.ts';
import {
  GovernanceError, type AuditEntry, type Delegate, type DelegateScope, type GovernanceInit, type Proposal,
  type ProposalAction, type Rules,
} from '../governance/types.ts';
import { fromOpt, some, tagged, tagOf } from './candid.ts';
import { upgradeActionFromC, upgradeActionToC } from './upgrade-candid.ts';
import type {
  Args, AuditEntryC, DelegateScopeC, DelegateViewC, GovernanceInitC, MethodName, ProposalActionC, ProposalViewC, Result, RulesC,
} from './interface.ts';

/** The governance methods of the method table. */
export const GOVERNANCE_METHODS = [
  'propose', 'vote', 'get_proposal', 'list_proposals', 'list_votes', 'list_members', 'list_delegates', 'get_rules',
  'get_audit_log', 'list_upgrade_approvals',
] as const satisfies readonly MethodName[];
export type GovernanceMethod = (typeof GOVERNANCE_METHODS)[number];

// ---------- conversions ----------

export const rulesFromC = (r: RulesC): Rules => ({ votingPeriodNs: r.voting_period_ns, quorumBps: r.quorum_bps, thresholdBps: r.threshold_bps });
export const rulesToC = (r: Rules): RulesC => ({ voting_period_ns: r.votingPeriodNs, quorum_bps: r.quorumBps, threshold_bps: r.thresholdBps });
export const scopeFromC = (s: DelegateScopeC): DelegateScope => ({
  collections: s.collections,
  actions: s.actions.map((a) => tagOf(a)),
  writesPerDay: s.writes_per_day,
  expiresAtNs: fromOpt(s.expires_at_ns) ?? null,
});
export const scopeToC = (s: DelegateScope): DelegateScopeC => ({
  collections: s.collections,
  actions: s.actions.map((a) => tagged(a)),
  writes_per_day: s.writesPerDay,
  expires_at_ns: some(s.expiresAtNs),
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
        reply: fromOpt(p.reply),
        images: p.images.map((i) => ({ cid: i.cid, alt: i.alt, aspectRatio: fromOpt(i.aspect_ratio) })),
        quote: fromOpt(p.quote),
      },
    };
  }
  if ('delete_record' in c) return { kind: 'delete_record', ...c.delete_record };
  if ('put_record' in c) {
    const p = c.put_record;
    return { kind: 'put_record', collection: p.collection, rkey: fromOpt(p.rkey), recordJson: p.record_json };
  }
  if ('update_profile' in c) {
    const p = c.update_profile;
    return {
      kind: 'update_profile',
      profile: { displayName: fromOpt(p.display_name), description: fromOpt(p.description), avatar: fromOpt(p.avatar), banner: fromOpt(p.banner) },
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
  if ('upgrade' in c) return upgradeActionFromC(c.upgrade);
  if ('set_rotation_keys' in c) return { kind: 'set_rotation_keys', keys: c.set_rotation_keys.keys };
  if ('set_pds_endpoint' in c) return { kind: 'set_pds_endpoint', url: c.set_pds_endpoint.url };
  if ('migrate_out' in c) {
    const m = c.migrate_out;
    const cr = fromOpt(m.credentials);
    return {
      kind: 'migrate_out', pdsUrl: m.pds_url, pdsDid: m.pds_did,
      credentials: cr ? { signingKey: cr.signing_key, rotationKeys: cr.rotation_keys, handle: cr.handle } : null,
    };
  }
  throw new GovernanceError(`unknown proposal kind ${tagOf(c)}`);
}

export function actionToC(a: ProposalAction): ProposalActionC {
  switch (a.kind) {
    case 'post': {
      const p = a.post;
      return {
        post: {
          text: p.text, langs: p.langs ?? [], mentions: p.mentions ?? [], reply: some(p.reply),
          images: (p.images ?? []).map((i) => ({ cid: i.cid, alt: i.alt, aspect_ratio: some(i.aspectRatio) })),
          quote: some(p.quote),
        },
      };
    }
    case 'delete_record': return { delete_record: { collection: a.collection, rkey: a.rkey } };
    case 'put_record': return { put_record: { collection: a.collection, rkey: some(a.rkey), record_json: a.recordJson } };
    case 'update_profile': {
      const p = a.profile;
      return { update_profile: { display_name: some(p.displayName), description: some(p.description), avatar: some(p.avatar), banner: some(p.banner) } };
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
    case 'upgrade': return { upgrade: upgradeActionToC(a) };
    case 'set_rotation_keys': return { set_rotation_keys: { keys: a.keys } };
    case 'set_pds_endpoint': return { set_pds_endpoint: { url: a.url } };
    case 'migrate_out': {
      const cr = a.credentials;
      return {
        migrate_out: {
          pds_url: a.pdsUrl, pds_did: a.pdsDid,
          credentials: cr ? [{ signing_key: cr.signingKey, rotation_keys: cr.rotationKeys, handle: cr.handle }] : [],
        },
      };
    }
  }
}

export function proposalToC(p: Proposal): ProposalViewC {
  return {
    id: p.id,
    kind: p.action.kind,
    proposer: p.proposer,
    summary: p.summary,
    action: actionToC(p.action),
    preview_json: some(p.preview === null ? null : previewJson(p.preview)),
    status: tagged(p.status),
    created_at_ns: p.createdAtNs,
    deadline_ns: p.deadlineNs,
    closed_at_ns: some(p.closedAtNs),
    executed_at_ns: some(p.executedAtNs),
    rules: rulesToC(p.rules),
    electorate_size: p.electorate.count,
    total_power: p.electorate.totalPower,
    yes: p.tally.yes,
    no: p.tally.no,
    abstain: p.tally.abstain,
    failure: some(p.failure),
    result: some(p.result && {
      rev: some(p.result.rev), records: p.result.records.map((r) => ({ uri: r.uri, cid: some(r.cid) })), module_hash: some(p.result.moduleHash),
    }),
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
  granted_by: some(d.grantedBy),
  granted_at_ns: d.grantedAtNs,
  writes_today: writesToday,
});

const auditToC = (e: AuditEntry): AuditEntryC => ({
  seq: e.seq, time_ns: e.atNs, actor: e.actor, event: e.event, proposal_id: some(e.proposalId), detail: e.detail,
  uri: some(e.uri), cid: some(e.cid), rev: some(e.rev),
});

// ---------- handlers ----------

export type CallContext = { caller: string; nowNs: bigint };

/** One function per Candid method: `(ctx, ...candidArgs) => candidResult`. Throws GovernanceError on refusal. */
export function governanceHandlers(source: Governance | (() => Governance)) {
  const gov = typeof source === 'function' ? source : () => source;
  return {
    propose: (ctx, args) =>
      gov().propose(ctx.caller, { action: actionFromC(args.action), summary: fromOpt(args.summary) }, ctx.nowNs),
    vote: (ctx, args) => proposalToC(gov().vote(ctx.caller, args.id, tagOf(args.vote), ctx.nowNs)),
    get_proposal: (_ctx, id) => {
      const p = gov().getProposal(id);
      return p ? [proposalToC(p)] : [];
    },
    list_proposals: (_ctx, args) => {
      const status = fromOpt(args.status);
      const page = gov().listProposals({
        status: status && tagOf(status), after: fromOpt(args.after), limit: fromOpt(args.limit) ?? 20, reverse: !(fromOpt(args.oldest_first) ?? false),
      });
      return { proposals: page.proposals.map(proposalToC), next: some(page.next) };
    },
    list_votes: (_ctx, args) => {
      const page = gov().listVotes(args.id, { after: fromOpt(args.after), limit: fromOpt(args.limit) ?? 100 });
      return {
        votes: page.votes.map((v) => ({ principal: v.principal, vote: tagged(v.vote), power: v.power, time_ns: v.atNs })),
        next: some(page.next),
      };
    },
    list_members: (_ctx, args) => {
      const page = gov().listMembers({ after: fromOpt(args.after), limit: fromOpt(args.limit) ?? 100 });
      return {
        members: page.members.map((m) => ({ principal: m.principal, power: m.power, since_ns: m.sinceNs })),
        count: page.count,
        total_power: page.totalPower,
        next: some(page.next),
      };
    },
    list_delegates: (ctx) =>
      gov().listDelegates().map((d) => delegateToC(d, gov().delegateWritesToday(d.principal, ctx.nowNs))),
    get_rules: (_ctx) => rulesToC(gov().rules()),
    get_audit_log: (_ctx, args) => {
      const page = gov().auditLog({ after: fromOpt(args.after), limit: fromOpt(args.limit) ?? 50, reverse: fromOpt(args.newest_first) ?? false });
      return { entries: page.entries.map(auditToC), next: some(page.next) };
    },
    list_upgrade_approvals: (_ctx) =>
      gov().upgradeApprovals().map((u) => ({ wasm_hash: u.wasmHash, proposal_id: u.proposalId, time_ns: u.atNs })),
  } satisfies { [K in GovernanceMethod]: (ctx: CallContext, ...args: Args<K>) => Result<K> };
}
