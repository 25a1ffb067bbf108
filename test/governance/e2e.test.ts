// Governance end to end on the local replica, through the canister's Candid interface, with three
// members on three identities (the CLI end-to-end test repeats these flows through `canopy`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { startReplica, type Replica } from '../../replica/src/index.ts';
import { deployCanopy, getRecord as getRecordVia, settle as settleVia, testInitArgs, type CanopyActor, type DeployedCanopy } from '../support/canopy.ts';
import { tagged, tagOf } from '../../canister/src/api/candid.ts';
import type { ProposalActionC } from '../../canister/src/api/interface.ts';

const POST = 'app.bsky.feed.post';
const [alice, bob, carol] = [0, 1, 2].map(() => Ed25519KeyIdentity.generate());
const dave = Ed25519KeyIdentity.generate(); // delegate, then member
const eve = Ed25519KeyIdentity.generate(); // outsider

let replica: Replica;
let canopy: DeployedCanopy;
let did: string;
const as: Record<string, CanopyActor> = {};

const postAction = (text: string): ProposalActionC => ({ post: { text, langs: ['en'], mentions: [], reply: [], images: [], quote: [] } });
const propose = (who: string, action: ProposalActionC) => as[who]!.propose({ action, summary: [] });
const vote = (who: string, id: bigint, v: 'yes' | 'no' | 'abstain') => as[who]!.vote({ id, vote: tagged(v) });
const statusOf = async (id: bigint) => tagOf((await as.alice!.get_proposal(id))[0]!.status);

const getRecord = (uri: string) => getRecordVia(canopy, uri);
/** Lets the canister's timers run (execution after adoption). */
const settle = (id: bigint) => settleVia(replica, () => statusOf(id), (s) => s === 'adopted');

before(async () => {
  replica = await startReplica({ port: 0 });
  canopy = await deployCanopy(replica, testInitArgs({
    members: [alice, bob, carol].map((i) => i.getPrincipal()),
    delegates: [{
      principal: dave.getPrincipal().toText(),
      scope: { collections: [POST], actions: [{ create: null }], writes_per_day: 2, expires_at_ns: [] },
    }],
  }));
  did = (await canopy.ready()).did;
  for (const [name, id] of Object.entries({ alice, bob, carol, dave, eve })) as[name] = await canopy.actor(id);
  as.anon = await canopy.actor();
});
after(async () => {
  await replica?.stop();
});

describe('governance on the replica', () => {
  it('a post proposal passes and the record appears', async () => {
    const id = await propose('alice', postAction('Hello from the Canopy DAO 🌳 #canopy'));
    assert.equal(await statusOf(id), 'open');
    await vote('alice', id, 'yes');
    const view = await vote('bob', id, 'yes');
    assert.ok('adopted' in view.status);
    assert.equal(await settle(id), 'executed');
    const p = (await as.carol!.get_proposal(id))[0]!;
    const [rec] = p.result[0]!.records;
    assert.match(rec.uri, new RegExp(`^at://${did}/${POST}/`));
    const got = await getRecord(rec.uri);
    assert.equal(got.status, 200);
    assert.equal(got.body.value.text, 'Hello from the Canopy DAO 🌳 #canopy');
    assert.equal(got.body.cid, rec.cid[0]);
    assert.equal(got.body.value.facets[0].features[0].tag, 'canopy');
    const status = await as.anon!.get_status();
    assert.equal(status.rev[0], p.result[0]!.rev[0]);
  });

  it('a rejected proposal writes nothing', async () => {
    const before = await as.anon!.get_status();
    const id = await propose('alice', postAction('this should never be posted'));
    await vote('bob', id, 'no');
    await vote('carol', id, 'no');
    assert.equal(await statusOf(id), 'rejected');
    await replica.advanceTime(2_000);
    const after = await as.anon!.get_status();
    assert.equal(after.head_seq, before.head_seq);
    assert.deepEqual(after.rev, before.rev);
  });

  it('a delegate posts within scope and is refused outside it', async () => {
    const record_json = (text: string) => JSON.stringify({ $type: POST, text, createdAt: new Date().toISOString() });
    const ok = await as.dave!.create_record({ collection: POST, rkey: [], record_json: record_json('delegate post') });
    assert.equal((await getRecord(ok.uri)).body.value.text, 'delegate post');
    const audit = await as.alice!.get_audit_log({ after: [], limit: [1], newest_first: [true] });
    assert.equal(audit.entries[0].actor, dave.getPrincipal().toText());
    assert.equal(audit.entries[0].rev[0], ok.rev);
    await assert.rejects(
      as.dave!.create_record({ collection: 'app.bsky.graph.follow', rkey: [], record_json: JSON.stringify({ subject: did, createdAt: new Date().toISOString() }) }),
      /may not write to app.bsky.graph.follow/,
    );
    await assert.rejects(as.dave!.delete_record({ collection: POST, rkey: ok.uri.split('/').pop()!, swap_record: [] }), /may not delete/);
    await as.dave!.create_record({ collection: POST, rkey: [], record_json: record_json('second') });
    await assert.rejects(as.dave!.create_record({ collection: POST, rkey: [], record_json: record_json('third') }), /budget of 2 writes/);
    await assert.rejects(as.eve!.create_record({ collection: POST, rkey: [], record_json: record_json('eve') }), /not a delegate/);
    await assert.rejects(as.anon!.create_record({ collection: POST, rkey: [], record_json: record_json('anon') }), /anonymous/);
  });

  it('a member is added by proposal, votes, and is then removed', async () => {
    const daveP = dave.getPrincipal().toText();
    const add = await propose('alice', { add_member: { principal: daveP, power: 1n } });
    await vote('alice', add, 'yes');
    await vote('carol', add, 'yes');
    assert.equal(await statusOf(add), 'executed');
    const members = await as.anon!.list_members({ after: [], limit: [] });
    assert.equal(members.count, 4);
    const id = await propose('dave', postAction('dave proposes as a member'));
    await vote('dave', id, 'yes');
    assert.equal((await as.alice!.list_votes({ id, after: [], limit: [] })).votes.length, 1);
    const remove = await propose('bob', { remove_member: { principal: daveP } });
    await vote('alice', remove, 'yes');
    await vote('bob', remove, 'yes');
    await vote('carol', remove, 'yes');
    assert.equal(await statusOf(remove), 'executed');
    assert.equal((await as.anon!.list_members({ after: [], limit: [] })).count, 3);
    await assert.rejects(propose('dave', postAction('not any more')), /not a member/);
  });

  it('adding a member directly is refused', async () => {
    const eveP = eve.getPrincipal().toText();
    await assert.rejects(propose('eve', { add_member: { principal: eveP, power: 1n } }), /not a member; propose is refused/);
    await assert.rejects(propose('anon', { add_member: { principal: eveP, power: 1n } }), /anonymous/);
    const id = await propose('alice', { add_member: { principal: eveP, power: 1n } });
    await assert.rejects(vote('eve', id, 'yes'), /is not a member; vote is refused/);
    await assert.rejects(vote('alice', id, 'maybe' as never), /./);
    assert.equal((await as.anon!.list_members({ after: [], limit: [] })).count, 3);
  });
});
