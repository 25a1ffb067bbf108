// The Candid surface: every handler's arguments and results go through real Candid encoding, as
// they would between an agent and the canister.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDL } from '@dfinity/candid';
import {
  actionFromC, actionToC, GOVERNANCE_METHODS, governanceHandlers, initFromC, type GovernanceMethod,
} from '../../canister/src/api/governance-methods.ts';
import { GovernanceInit, idlFactory, methods, type Args, type ProposalActionC } from '../../canister/src/api/interface.ts';
import { Governance } from '../../canister/src/governance/governance.ts';
import { MemoryKv } from '../../canister/src/storage/kv.ts';
import { ALICE, BOB, DAVE, DAY, T0, addBlob, fakeEnv } from '../governance/fixtures.ts';

type Method = GovernanceMethod;

/** Calls a handler the way the canister does: Candid-decode the args, run, Candid-encode the reply. */
function call(h: ReturnType<typeof governanceHandlers>, name: Method, caller: string, nowNs: bigint, ...args: unknown[]): any {
  const m = methods[name];
  const decodedArgs = IDL.decode(m.args as IDL.Type[], IDL.encode(m.args as IDL.Type[], args));
  const out = (h[name] as (...a: unknown[]) => unknown)({ caller, nowNs }, ...decodedArgs);
  return IDL.decode([m.ret as IDL.Type], IDL.encode([m.ret as IDL.Type], [out]))[0];
}

function fresh() {
  const env = fakeEnv();
  const gov = new Governance(new MemoryKv(), env);
  const initArg = IDL.decode([GovernanceInit], IDL.encode([GovernanceInit], [{
    members: [{ principal: ALICE, power: 1n }, { principal: BOB, power: 1n }],
    rules: { voting_period_ns: DAY, quorum_bps: 5000, threshold_bps: 5000 },
    delegates: [{ principal: DAVE, scope: { collections: ['app.bsky.feed.post'], actions: [{ create: null }], writes_per_day: 10, expires_at_ns: [] } }],
  }]))[0] as never;
  gov.init(initFromC(initArg), T0);
  return { env, gov, h: governanceHandlers(gov) };
}

const propose = (action: ProposalActionC, summary?: string): Args<'propose'>[0] => ({ action, summary: summary === undefined ? [] : [summary] });

describe('governance Candid interface', () => {
  it('builds a service from the method table', () => {
    const service = idlFactory({ IDL }) as IDL.ServiceClass;
    const funcs = new Map(service._fields);
    assert.deepEqual(GOVERNANCE_METHODS.filter((name) => funcs.has(name)).sort(), [...GOVERNANCE_METHODS].sort());
    assert.ok(service.display().includes('propose'));
    assert.deepEqual(funcs.get('get_proposal')!.annotations, ['query']);
    assert.deepEqual(funcs.get('vote')!.annotations, []);
  });

  it('propose -> vote -> get_proposal -> list_* round-trip through Candid', () => {
    const { h, env } = fresh();
    const img = addBlob(env, 'pic');
    const id = call(h, 'propose', ALICE, T0, propose({
      post: {
        text: 'hello #canopy', langs: ['en'], mentions: [], reply: [], quote: [],
        images: [{ cid: img, alt: 'pic', aspect_ratio: [{ width: 1, height: 1 }] }],
      },
    }, 'a summary'));
    assert.equal(id, 1n);
    const view = call(h, 'get_proposal', BOB, T0, id)[0];
    assert.equal(view.kind, 'post');
    assert.deepEqual(view.status, { open: null });
    assert.equal(view.summary, 'a summary');
    const preview = JSON.parse(view.preview_json[0]);
    assert.equal(preview.embed.images[0].image.ref.$link, img, 'preview is atproto JSON ($link)');
    assert.equal(preview.facets[0].features[0].tag, 'canopy');
    call(h, 'vote', ALICE, T0 + 1n, { id, vote: { yes: null } });
    const after = call(h, 'vote', BOB, T0 + 2n, { id, vote: { yes: null } });
    assert.deepEqual(after.status, { adopted: null });
    assert.equal(after.yes, 2n);
    assert.equal(call(h, 'get_proposal', BOB, T0, 99n).length, 0);
    const list = call(h, 'list_proposals', BOB, T0, { status: [{ adopted: null }], after: [], limit: [], oldest_first: [] });
    assert.deepEqual(list.proposals.map((p: any) => p.id), [1n]);
    const votes = call(h, 'list_votes', BOB, T0, { id, after: [], limit: [] });
    assert.equal(votes.votes.length, 2);
    const members = call(h, 'list_members', BOB, T0, { after: [], limit: [1] });
    assert.equal(members.count, 2);
    assert.equal(members.members.length, 1);
    assert.equal(members.next.length, 1);
    const delegates = call(h, 'list_delegates', BOB, T0);
    assert.deepEqual(delegates[0].scope.actions, [{ create: null }]);
    assert.equal(delegates[0].writes_today, 0);
    assert.deepEqual(call(h, 'get_rules', BOB, T0), { voting_period_ns: DAY, quorum_bps: 5000, threshold_bps: 5000 });
    const audit = call(h, 'get_audit_log', BOB, T0, { after: [], limit: [2], newest_first: [true] });
    assert.deepEqual(audit.entries.map((e: any) => e.event), ['closed', 'voted']);
    assert.deepEqual(call(h, 'list_upgrade_approvals', BOB, T0), []);
  });

  it('every proposal kind converts to Candid and back unchanged', () => {
    const { h, gov, env } = fresh();
    const avatar = addBlob(env, 'avatar', 'image/png');
    const actions: ProposalActionC[] = [
      { post: { text: 'x', langs: [], mentions: [{ handle: 'a.test', did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' }], reply: [], images: [], quote: [] } },
      { delete_record: { collection: 'app.bsky.feed.post', rkey: '3kabc' } },
      { put_record: { collection: 'app.bsky.feed.like', rkey: [], record_json: JSON.stringify({ subject: { uri: 'at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3kabc', cid: avatar }, createdAt: '2026-01-01T00:00:00.000Z' }) } },
      { update_profile: { display_name: ['Canopy'], description: [], avatar: [avatar], banner: [''] } },
      { set_handle: { handle: 'canopy.example.com' } },
      { add_member: { principal: DAVE, power: 1n } },
      { remove_member: { principal: BOB } },
      { set_member_power: { principal: BOB, power: 2n } },
      { set_rules: { voting_period_ns: 2n * DAY, quorum_bps: 1000, threshold_bps: 6000 } },
      { grant_delegate: { principal: DAVE, scope: { collections: ['app.bsky.feed.post'], actions: [{ put: null }, { delete: null }], writes_per_day: 5, expires_at_ns: [T0 + DAY] } } },
      { revoke_delegate: { principal: DAVE } },
      { set_account_active: { active: false } },
      { approve_upgrade: { wasm_hash: '0f'.repeat(32) } },
    ];
    for (const action of actions) {
      assert.deepEqual(actionToC(actionFromC(action)), action);
      const id = call(h, 'propose', ALICE, T0, propose(action));
      assert.deepEqual(call(h, 'get_proposal', ALICE, T0, id)[0].action, action, Object.keys(action)[0]);
    }
    assert.equal(gov.listProposals({ limit: 100 }).proposals.length, actions.length);
  });

  it('refusals surface as thrown errors with the reason', () => {
    const { h } = fresh();
    assert.throws(() => call(h, 'propose', '2vxsx-fae', T0, propose({ set_handle: { handle: 'x.test' } })), /anonymous principal/);
    assert.throws(() => call(h, 'vote', ALICE, T0, { id: 7n, vote: { no: null } }), /no proposal 7/);
  });
});
