// Read-only commands: status, members, delegates, proposals, proposal, audit.
import type { Command, Context } from '../cli.ts';
import { Actor, type HttpAgent } from '@dfinity/agent';
import { freezingThresholdSeconds } from '../canister-settings.ts';
import { CliError, usageError } from '../errors.ts';
import { sovereigntyOf, sovereigntyText } from '../sovereignty.ts';
import { fromOpt, tagged, tagOf } from '../../../canister/src/api/candid.ts';
import type { DelegateScopeC, ProposalViewC } from '../../../canister/src/api/interface.ts';
import { PROPOSAL_STATUSES } from '../../../canister/src/governance/types.ts';
import { duration, isoFromNs, percent, relative, table } from '../format.ts';
import { isOneOf, parseId, parsePositiveInt } from '../values.ts';

const STATUSES = PROPOSAL_STATUSES;


/** The scripting contract's shape: {id, kind, status, result?} with result {uri, cid, rev}. */
/** An upgrade's result is `{moduleHash}`; a failed proposal also carries `failure`. */
export function proposalJson(p: ProposalViewC): {
  id: bigint; kind: string; status: string; result?: { uri: string; cid: string | null; rev: string | null } | { moduleHash: string }; failure?: string;
} {
  const out: ReturnType<typeof proposalJson> = { id: p.id, kind: p.kind, status: tagOf(p.status) };
  const result = fromOpt(p.result);
  const first = result?.records[0];
  const moduleHash = result && fromOpt(result.module_hash);
  if (result && first) out.result = { uri: first.uri, cid: fromOpt(first.cid) ?? null, rev: fromOpt(result.rev) ?? null };
  else if (moduleHash) out.result = { moduleHash };
  if (out.status === 'failed') out.failure = fromOpt(p.failure) ?? '';
  return out;
}

export function proposalText(p: ProposalViewC): string {
  const status = tagOf(p.status);
  const lines = [
    `Proposal ${p.id}: ${p.kind} — ${status}${status === 'failed' ? ` (${fromOpt(p.failure)})` : ''}`,
    `  proposer   ${p.proposer}`,
  ];
  if (p.summary) lines.push(`  summary    ${p.summary}`);
  lines.push(`  created    ${isoFromNs(p.created_at_ns)}`);
  if (status === 'open') lines.push(`  deadline   ${isoFromNs(p.deadline_ns)} (${relative(p.deadline_ns)})`);
  else if (fromOpt(p.closed_at_ns) !== undefined) lines.push(`  closed     ${isoFromNs(fromOpt(p.closed_at_ns)!)}`);
  lines.push(
    `  votes      yes ${p.yes}, no ${p.no}, abstain ${p.abstain} of ${p.total_power} (${p.electorate_size} members at creation)`,
    `  rules      quorum ${percent(p.rules.quorum_bps)}, threshold ${percent(p.rules.threshold_bps)}, period ${duration(p.rules.voting_period_ns)}`,
  );
  const detail = actionDetail(p);
  if (detail) lines.push(`  action     ${detail}`);
  const result = fromOpt(p.result);
  if (result) {
    for (const r of result.records) lines.push(`  wrote      ${r.uri}${fromOpt(r.cid) ? ` (cid ${fromOpt(r.cid)})` : ''}`);
    if (fromOpt(result.rev)) lines.push(`  commit rev ${fromOpt(result.rev)}`);
    if (fromOpt(result.module_hash)) lines.push(`  installed  module ${fromOpt(result.module_hash)}`);
  }
  return lines.join('\n');
}

function actionDetail(p: ProposalViewC): string {
  const [kind, a] = Object.entries(p.action)[0]!;
  switch (kind) {
    case 'post': return JSON.stringify(a.text);
    case 'delete_record': return `delete ${a.collection}/${a.rkey}`;
    case 'put_record': return `put ${a.collection}/${fromOpt(a.rkey) ?? '(new)'} ${a.record_json}`;
    case 'update_profile': return fromOpt(p.preview_json) ?? '';
    case 'set_handle': return `handle → ${a.handle}`;
    case 'add_member': return `add ${a.principal} with power ${a.power}`;
    case 'remove_member': return `remove ${a.principal}`;
    case 'set_member_power': return `set power of ${a.principal} to ${a.power}`;
    case 'set_rules': return `quorum ${percent(a.quorum_bps)}, threshold ${percent(a.threshold_bps)}, period ${duration(a.voting_period_ns)}`;
    case 'grant_delegate': return `delegate ${a.principal}: ${scopeText(a.scope)}`;
    case 'revoke_delegate': return `revoke delegate ${a.principal}`;
    case 'set_account_active': return a.active ? 'reactivate the account' : 'deactivate the account';
    case 'approve_upgrade': return `approve wasm ${a.wasm_hash}`;
    case 'upgrade':
      return `install wasm ${a.wasm_hash} on ${tagOf(a.target)}, built from ${fromOpt(a.commit) ? `commit ${fromOpt(a.commit)}` : 'an unnamed commit'}`
        + `${fromOpt(a.arg) ? ` with a ${(fromOpt(a.arg) as Uint8Array).length}-byte argument` : ''} (check: canopy verify --target ${tagOf(a.target)})`;
    case 'set_rotation_keys': return `rotation keys → the canister's key${a.keys.length ? `, then ${a.keys.join(', ')}` : ' only'}`;
    case 'set_pds_endpoint': return `PDS endpoint → ${a.url}`;
    case 'migrate_out': {
      const cr = fromOpt(a.credentials as [] | [{ signing_key: string; rotation_keys: string[]; handle: string }]);
      return cr ? `move to ${a.pds_url}: DID → its signing key ${cr.signing_key}, rotation keys ${cr.rotation_keys.join(', ')}, handle ${cr.handle}` : `move to ${a.pds_url} (${a.pds_did}): allow creating the account there`;
    }
    default: return '';
  }
}

export function scopeText(s: { collections: string[]; actions: Record<string, null>[]; writes_per_day: number; expires_at_ns: [] | [bigint] }): string {
  const exp = fromOpt(s.expires_at_ns);
  return `${s.actions.map(tagOf).join('/')} in ${s.collections.join(', ')}, ${s.writes_per_day}/day${exp !== undefined ? `, until ${isoFromNs(exp)}` : ''}`;
}

export const readCommands: Command[] = [
  {
    name: 'status',
    summary: 'the account: DID, handle, PDS URL, canister, cycles',
    examples: ['canopy status', 'canopy status --json', 'canopy status --network ic --canister aaaaa-aa'],
    async run(ctx) {
      const actor = await ctx.conn.actor(false);
      const s = await actor.get_status();
      const c = await actor.get_cycles();
      const freezing = await freezingThresholdSeconds(actor, ctx.conn.canisterId());
      const cycles = {
        balance: c.balance, burnPerDay: fromOpt(c.burn_per_day) ?? null, daysLeft: fromOpt(c.days_left) ?? null,
        freezingThresholdSeconds: freezing, warning: fromOpt(c.warning) ?? null,
      };
      const data: Record<string, unknown> = { did: s.did, handle: s.handle, pdsUrl: s.pds_url, canisterId: ctx.conn.canisterId(), cycles };
      const plc = fromOpt(s.plc_url);
      if (plc) data.plcUrl = plc;
      const sov = await sovereigntyOf(Actor.agentOf(actor) as HttpAgent, ctx.conn.canisterId(), fromOpt(await actor.get_steward().catch(() => [] as [])) ?? null)
        .catch((err) => {
          throw new CliError(ctx.conn.explain(err));
        });
      Object.assign(data, { controllers: sov.controllers, steward: sov.steward, moduleHash: sov.moduleHash, sovereign: sov.sovereign });
      const T = (n: bigint) => `${(Number(n) / 1e12).toFixed(3)} T`;
      ctx.emit(data, () =>
        table([
          ['DID', s.did],
          ['handle', s.handle],
          ['PDS', s.pds_url],
          ['canister', ctx.conn.canisterId()],
          ...(plc ? [['PLC', plc]] : []),
          ['active', s.active ? 'yes' : 'no (deactivated)'],
          ['rev', fromOpt(s.rev) ?? '(no commit yet)'],
          ['events', String(s.head_seq)],
          ['signing key', s.signing_key],
          ['controllers', sov.controllers.join(', ') || '(none)'],
          ['steward', sov.steward ?? '(none)'],
          ['module', sov.moduleHash ?? '(none)'],
          ['cycles', T(c.balance)],
          ['burn', cycles.burnPerDay === null ? '(not measured yet: needs an hour of samples)' : `${T(cycles.burnPerDay)}/day`],
          ['days left', cycles.daysLeft === null ? '(unknown)' : `${cycles.daysLeft.toFixed(1)} days until the balance is spent (it freezes a freezing threshold earlier)`],
          ['freezing threshold', freezing === null ? '(unknown: canister_status answers controllers only)' : `${freezing} s (${(Number(freezing) / 86400).toFixed(1)} days)`],
          ...(cycles.warning ? [['WARNING', cycles.warning]] : []),
        ]) + `\n${sovereigntyText(sov)}`,
      );
    },
  },
  {
    name: 'members',
    summary: 'members and their voting power, and the voting rules',
    examples: ['canopy members', 'canopy members --json'],
    async run(ctx) {
      const actor = await ctx.conn.actor(false);
      const members: { principal: string; power: bigint; since_ns: bigint }[] = [];
      let page: Awaited<ReturnType<typeof actor.list_members>>;
      let after: [] | [string] = [];
      do {
        page = await actor.list_members({ after, limit: [100] });
        members.push(...page.members);
        after = page.next;
      } while (after.length);
      const rules = await actor.get_rules();
      const me = ctx.conn.identity(false)?.identity.getPrincipal().toText();
      ctx.emit(
        {
          count: page.count, totalPower: page.total_power,
          rules: { votingPeriod: duration(rules.voting_period_ns), quorumBps: rules.quorum_bps, thresholdBps: rules.threshold_bps },
          members: members.map((m) => ({ principal: m.principal, power: m.power, since: isoFromNs(m.since_ns) })),
        },
        () =>
          [
            table(members.map((m) => [m.principal + (m.principal === me ? ' (you)' : ''), String(m.power), isoFromNs(m.since_ns)]), ['MEMBER', 'POWER', 'SINCE']),
            '',
            `${page.count} members, total power ${page.total_power}; quorum ${percent(rules.quorum_bps)}, threshold ${percent(rules.threshold_bps)}, voting period ${duration(rules.voting_period_ns)}`,
          ].join('\n'),
      );
    },
  },
  {
    name: 'delegates',
    summary: 'principals allowed to write directly, with their scope',
    examples: ['canopy delegates', 'canopy delegates --json'],
    async run(ctx) {
      const actor = await ctx.conn.actor(false);
      const list = await actor.list_delegates();
      ctx.emit(
        list.map((d) => ({
          principal: d.principal, collections: d.scope.collections, actions: d.scope.actions.map(tagOf),
          writesPerDay: d.scope.writes_per_day, writesToday: d.writes_today,
          expires: fromOpt(d.scope.expires_at_ns) === undefined ? null : isoFromNs(fromOpt(d.scope.expires_at_ns)!),
          grantedBy: fromOpt(d.granted_by) ?? null,
        })),
        () => (list.length === 0 ? 'no delegates' : table(list.map((d) => [d.principal, scopeText(d.scope), `${d.writes_today} today`]), ['DELEGATE', 'SCOPE', 'USED'])),
      );
    },
  },
  {
    name: 'proposals',
    summary: 'list proposals, newest first',
    options: {
      status: { type: 'string', value: STATUSES.join('|'), desc: 'only proposals in this state' },
      limit: { type: 'string', value: 'n', desc: 'how many (default 20, at most 100)' },
      before: { type: 'string', value: 'id', desc: 'page: proposals older than this id' },
    },
    examples: ['canopy proposals', 'canopy proposals --status open', 'canopy proposals --status executed --limit 5 --json'],
    async run(ctx) {
      const status = ctx.values.status as string | undefined;
      if (status !== undefined && !isOneOf(STATUSES, status)) throw usageError(`--status must be one of ${STATUSES.join(', ')}`);
      const limit = ctx.values.limit ? parsePositiveInt(ctx.values.limit, '--limit', 100) : 20;
      const before = ctx.values.before ? parseId(ctx.values.before, '--before') : undefined;
      const actor = await ctx.conn.actor(false);
      const page = await actor.list_proposals({ status: status ? [tagged(status)] : [], after: before === undefined ? [] : [before], limit: [limit], oldest_first: [] });
      const list = page.proposals;
      ctx.emit(
        list.map((p) => ({ ...proposalJson(p), proposer: p.proposer, summary: p.summary, created: isoFromNs(p.created_at_ns), deadline: isoFromNs(p.deadline_ns), yes: p.yes, no: p.no, abstain: p.abstain })),
        () =>
          list.length === 0
            ? 'no proposals'
            : table(
                list.map((p) => [String(p.id), tagOf(p.status), p.kind, `${p.yes}/${p.no}/${p.abstain}`, tagOf(p.status) === 'open' ? relative(p.deadline_ns) : '', (p.summary || actionDetail(p)).slice(0, 60)]),
                ['ID', 'STATUS', 'KIND', 'Y/N/A', 'CLOSES', 'WHAT'],
              ),
      );
    },
  },
  {
    name: 'proposal',
    summary: 'one proposal: state, votes, what it writes, and the result',
    args: '<id>',
    options: { votes: { type: 'boolean', desc: 'also list the votes (text output)' } },
    examples: ['canopy proposal 1', 'canopy proposal 1 --json   # {"id":1,"kind":"post","status":"executed","result":{"uri":…,"cid":…,"rev":…}}'],
    async run(ctx) {
      const id = parseId(ctx.positional(0, 'proposal id'));
      ctx.noMorePositionals(1);
      const actor = await ctx.conn.actor(false);
      const p = fromOpt(await actor.get_proposal(id));
      if (!p) throw new CliError(`there is no proposal ${id}`);
      let votes = '';
      if (ctx.values.votes && !ctx.json) {
        const v = await actor.list_votes({ id, after: [], limit: [100] });
        votes = '\n' + table(v.votes.map((x) => [x.principal, tagOf(x.vote), String(x.power), isoFromNs(x.time_ns)]), ['VOTER', 'VOTE', 'POWER', 'AT']);
      }
      ctx.emit(proposalJson(p), () => proposalText(p) + votes);
    },
  },
  {
    name: 'audit',
    summary: 'the audit log: proposals, votes, executions and direct writes (newest first)',
    options: {
      limit: { type: 'string', value: 'n', desc: 'how many entries (default 20, at most 100)' },
      before: { type: 'string', value: 'seq', desc: 'page: entries older than this sequence number' },
    },
    examples: ['canopy audit', 'canopy audit --limit 100 --json'],
    async run(ctx) {
      const limit = ctx.values.limit ? parsePositiveInt(ctx.values.limit, '--limit', 100) : 20;
      const before = ctx.values.before ? parseId(ctx.values.before, '--before') : undefined;
      const actor = await ctx.conn.actor(false);
      const page = await actor.get_audit_log({ after: before === undefined ? [] : [before], limit: [limit], newest_first: [true] });
      const entries = page.entries.map((e) => ({
        seq: e.seq, time: isoFromNs(e.time_ns), actor: e.actor, event: e.event, proposal: fromOpt(e.proposal_id) ?? null,
        detail: e.detail, uri: fromOpt(e.uri) ?? null, cid: fromOpt(e.cid) ?? null, rev: fromOpt(e.rev) ?? null,
      }));
      ctx.emit(entries, () =>
        table(entries.map((e) => [String(e.seq), e.time, e.event, e.proposal === null ? '' : `#${e.proposal}`, e.actor, [e.detail, e.uri, e.rev && `rev ${e.rev}`].filter(Boolean).join(' ')]), ['SEQ', 'TIME', 'EVENT', 'PROP', 'ACTOR', 'DETAIL']),
      );
    },
  },
];

export type { Context };
