import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXECUTION_LEASE_NS } from '../../canister/src/api/executor.ts';
import { CID } from '../../canister/src/atproto/cbor.ts';
import { isValidTid } from '../../canister/src/atproto/syntax/index.ts';
import type { Governance } from '../../canister/src/governance/governance.ts';
import { applyProfilePatch } from '../../canister/src/bsky/profile.ts';
import type { Effect, ExecutionResult, ProposalAction } from '../../canister/src/governance/types.ts';
import { ALICE, DID, T0, addBlob, assertRefused, setup } from './fixtures.ts';

function soloDao() {
  return setup({ members: [[ALICE, 1n]] });
}
function pass(ctx: ReturnType<typeof soloDao>, action: ProposalAction, at = T0): bigint {
  const id = ctx.gov.propose(ALICE, { action }, at);
  ctx.gov.vote(ALICE, id, 'yes', at);
  return id;
}

describe('effects of adopted proposals', () => {
  it('delete, put (with and without rkey), handle and account status', () => {
    const ctx = soloDao();
    const like = JSON.stringify({
      $type: 'app.bsky.feed.like',
      subject: { uri: `at://${DID}/app.bsky.feed.post/3kaaaaaaaaa22`, cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' },
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const ids = [
      pass(ctx, { kind: 'delete_record', collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaa22' }),
      pass(ctx, { kind: 'put_record', collection: 'app.bsky.feed.like', rkey: '3kaaaaaaaaa22', recordJson: like }),
      pass(ctx, { kind: 'put_record', collection: 'app.bsky.feed.like', recordJson: like }),
      pass(ctx, { kind: 'set_handle', handle: 'Canopy.Example.COM' }),
      pass(ctx, { kind: 'set_account_active', active: false }),
    ];
    const effects = ids.map((id) => ctx.gov.getProposal(id)!.effects![0]!);
    assert.deepEqual(effects[0], { type: 'writes', writes: [{ action: 'delete', collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaa22' }] });
    const put = (effects[1] as any).writes[0];
    assert.equal(put.action, 'put');
    assert.equal(put.rkey, '3kaaaaaaaaa22');
    assert.ok(CID.asCID(put.record.subject.cid) === null, 'a strong-ref cid stays a string');
    const create = (effects[2] as any).writes[0];
    assert.equal(create.action, 'create');
    assert.ok(isValidTid(create.rkey));
    assert.deepEqual(effects[3], { type: 'setHandle', handle: 'canopy.example.com' });
    assert.deepEqual(effects[4], { type: 'setAccountActive', active: false });
    for (const id of ids) assert.equal(ctx.gov.getProposal(id)!.status, 'adopted');
  });

  it('put_record converts atproto JSON ($link, $bytes, blobs) and refuses bad records', () => {
    const ctx = soloDao();
    const blob = addBlob(ctx.env, 'img');
    const id = pass(ctx, {
      kind: 'put_record', collection: 'com.example.thing', rkey: 'one',
      recordJson: JSON.stringify({ link: { $link: blob }, raw: { $bytes: 'aGVsbG8' }, pic: { $type: 'blob', ref: { $link: blob }, mimeType: 'image/png', size: 3 } }),
    });
    const record = (ctx.gov.getProposal(id)!.effects![0] as any).writes[0].record;
    assert.equal(record.$type, 'com.example.thing');
    assert.equal(CID.asCID(record.link)!.toString(), blob);
    assert.deepEqual(record.raw, new TextEncoder().encode('hello'));
    const refuse = (recordJson: string, reason: RegExp, collection = 'com.example.thing') =>
      assertRefused(ctx.kv, () => ctx.gov.propose(ALICE, { action: { kind: 'put_record', collection, recordJson } }, T0), reason);
    refuse('{not json', /not valid JSON/);
    refuse('[1,2]', /must be a JSON object/);
    refuse(JSON.stringify({ $type: 'app.bsky.feed.post', text: 'x' }), /does not match the collection/);
    refuse(JSON.stringify({ n: 1.5 }), /invalid com.example.thing record/);
    refuse(JSON.stringify({ l: { $link: 'nope' } }), /invalid com.example.thing record/);
    refuse('{}', /invalid collection NSID/, 'not an nsid');
    // Bluesky collections are checked against their lexicons
    refuse(JSON.stringify({ text: 'no createdAt' }), /invalid app.bsky.feed.post record: .*createdAt/, 'app.bsky.feed.post');
    assertRefused(ctx.kv, () => ctx.gov.propose(ALICE, { action: { kind: 'put_record', collection: 'app.bsky.feed.like', rkey: 'self', recordJson: JSON.stringify({ subject: { uri: `at://${DID}/app.bsky.feed.post/3kaaaaaaaaa22`, cid: blob }, createdAt: '2026-01-01T00:00:00.000Z' }) } }, T0), /record key "self" does not match key type tid/);
  });

  it('profile updates are patches merged into the current profile', () => {
    const ctx = soloDao();
    const avatar = addBlob(ctx.env, 'avatar', 'image/jpeg', 5000);
    const id = pass(ctx, { kind: 'update_profile', profile: { displayName: 'Canopy DAO', avatar, banner: '' } });
    const effect = ctx.gov.getProposal(id)!.effects![0] as Extract<Effect, { type: 'updateProfile' }>;
    assert.equal(effect.type, 'updateProfile');
    const current = { $type: 'app.bsky.actor.profile', displayName: 'old', description: 'kept', banner: { $type: 'blob' }, pinnedPost: { uri: 'at://x/y/z', cid: 'c' } };
    const merged = applyProfilePatch(current, effect.patch);
    assert.equal(merged.displayName, 'Canopy DAO');
    assert.equal(merged.description, 'kept');
    assert.equal('banner' in merged, false);
    assert.deepEqual(merged.pinnedPost, current.pinnedPost);
    assert.equal((merged.avatar as any).ref.toString(), avatar);
    assert.equal((merged.avatar as any).size, 5000);
    assert.deepEqual(applyProfilePatch(undefined, { description: 'new' }), { $type: 'app.bsky.actor.profile', description: 'new' });
    const gif = addBlob(ctx.env, 'gif', 'image/gif');
    const refuse = (profile: object, reason: RegExp) =>
      assertRefused(ctx.kv, () => ctx.gov.propose(ALICE, { action: { kind: 'update_profile', profile } }, T0), reason);
    refuse({}, /changes nothing/);
    refuse({ avatar: gif }, /image\/gif, which is not accepted/);
    refuse({ displayName: 'x'.repeat(65) }, /65 graphemes; the limit is 64/);
    refuse({ description: 'é'.repeat(257) }, /limit is 256/);
  });
});

/** The canister's timer loop in miniature (canister/src/api/executor.ts does the same over the real repo). */
async function runAll(gov: Governance, now: () => bigint, run: (effects: Effect[], id: bigint) => Promise<ExecutionResult>): Promise<bigint[]> {
  const done: bigint[] = [];
  for (let job = gov.claimExecution(now(), EXECUTION_LEASE_NS); job; job = gov.claimExecution(now(), EXECUTION_LEASE_NS)) {
    try {
      gov.recordExecution(job.id, { ok: await run(job.effects, job.id) }, now());
    } catch (e) {
      gov.recordExecution(job.id, { err: (e as Error).message }, now());
    }
    done.push(job.id);
  }
  return done;
}

describe('the execution loop', () => {
  it('runs effects in order, records results, and records a thrown error as failed', async () => {
    const ctx = soloDao();
    const ok = pass(ctx, { kind: 'post', post: { text: 'one' } });
    const bad = pass(ctx, { kind: 'post', post: { text: 'two' } });
    const internal = pass(ctx, { kind: 'approve_upgrade', wasmHash: '1'.repeat(64) });
    let clock = T0 + 10n;
    const seen: bigint[] = [];
    const done = await runAll(ctx.gov, () => clock++, async (effects, id) => {
      seen.push(id);
      if (id === bad) throw new Error('commit refused: record too large');
      const w = (effects[0] as any).writes[0];
      return { rev: 'rev-' + id, records: [{ uri: `at://${DID}/${w.collection}/${w.rkey}`, cid: 'cid-' + id }] };
    });
    assert.deepEqual(done, [ok, bad]);
    assert.deepEqual(seen, [ok, bad], 'internal proposals are already executed, never handed to the canister');
    assert.equal(ctx.gov.getProposal(internal)!.status, 'executed');
    const okP = ctx.gov.getProposal(ok)!;
    assert.equal(okP.status, 'executed');
    assert.equal(okP.result!.rev, `rev-${ok}`);
    assert.match(okP.result!.records[0]!.uri, /^at:\/\/did:web:localhost%3A2583\/app\.bsky\.feed\.post\//);
    const badP = ctx.gov.getProposal(bad)!;
    assert.equal(badP.status, 'failed');
    assert.equal(badP.failure, 'commit refused: record too large');
    assert.deepEqual(await runAll(ctx.gov, () => clock++, async () => assert.fail('nothing left to run')), []);
    assert.equal(ctx.gov.nextWakeNs(clock), null);
  });
});
