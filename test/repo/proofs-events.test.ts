// Record proofs (sync.getRecord) through @atproto/repo verifyProofs / verifyRecords, and the
// event-stream frames for every message type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyProofs, verifyRecords } from '@atproto/repo';
import { CID, decodeCbor, encodeCbor } from '../../canister/src/atproto/cbor.ts';
import { encodeCar, readCar } from '../../canister/src/repo/car.ts';
import {
  accountEventBody,
  commitEventBody,
  decodeFrame,
  encodeErrorFrame,
  eventFrame,
  identityEventBody,
  infoEventBody,
  syncEventBody,
} from '../../canister/src/repo/events.ts';
import { recordProofBlocks } from '../../canister/src/repo/proofs.ts';
import type { WriteOp } from '../../canister/src/repo/writes.ts';
import { checkCommitEvent } from '../support/sync-check.ts';
import { DID, post, randomPaths, rng, TestRepo } from './repo-fixture.ts';

const time = '2026-11-21T10:00:00.000Z';

function populated(n: number): { repo: TestRepo; paths: string[] } {
  const repo = new TestRepo();
  const paths = randomPaths(n, rng(77)).map((p) => `app.bsky.feed.post/${p.split('/')[1]}`);
  const unique = [...new Set(paths)];
  for (let i = 0; i < unique.length; i += 200) {
    repo.commit(unique.slice(i, i + 200).map((p, j): WriteOp => ({ action: 'create', collection: 'app.bsky.feed.post', rkey: p.split('/')[1], record: post(p, j) })));
  }
  return { repo, paths: unique };
}

test('record proofs verify for present and absent records', async () => {
  const { repo, paths } = populated(500);
  const commitCid = repo.head!.commitCid;
  for (const path of paths.slice(0, 25)) {
    const rkey = path.split('/')[1];
    const blocks = recordProofBlocks(repo.store, commitCid, 'app.bsky.feed.post', rkey);
    const car = encodeCar([commitCid], blocks);
    const cid = blocks.cids().find((c) => !c.equals(commitCid) && decodeCbor<{ text?: string }>(blocks.get(c)!).text === path)!;
    assert.ok(cid, 'record block included');
    const res = await verifyProofs(car, [{ collection: 'app.bsky.feed.post', rkey, cid: cid as never }], DID, repo.didKey());
    assert.equal(res.verified.length, 1);
    const records = await verifyRecords(car, DID, repo.didKey());
    assert.equal(records.length, 1);
    assert.ok(blocks.size < 15, `proof is a path, not the repo (${blocks.size} blocks)`);
  }
  // Absence proof: no record block, and the path proves non-existence.
  for (const rkey of ['3aaaaaaaaaaaa', 'zzzz', 'mmmmmm']) {
    const blocks = recordProofBlocks(repo.store, commitCid, 'app.bsky.feed.post', rkey);
    const res = await verifyProofs(encodeCar([commitCid], blocks), [{ collection: 'app.bsky.feed.post', rkey, cid: null }], DID, repo.didKey());
    assert.equal(res.verified.length, 1, `absence of ${rkey}`);
  }
  // A claim with the wrong CID does not verify.
  const rkey = paths[0].split('/')[1];
  const wrong = CID.parse('bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454');
  const res = await verifyProofs(encodeCar([commitCid], recordProofBlocks(repo.store, commitCid, 'app.bsky.feed.post', rkey)), [{ collection: 'app.bsky.feed.post', rkey, cid: wrong as never }], DID, repo.didKey());
  assert.equal(res.unverified.length, 1);
});

test('#commit frame: header then body, fields per the sync spec', async () => {
  const { repo } = populated(50);
  const before = repo.head!;
  const result = repo.commit([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'newone', record: post('n') }]);
  const frame = eventFrame('#commit', commitEventBody(result, { seq: 42, time }));
  const { header, body } = decodeFrame(frame);
  assert.deepEqual(header, { op: 1, t: '#commit' });
  // Header is a separate DAG-CBOR object at the start of the frame.
  assert.deepEqual(frame.subarray(0, encodeCbor({ op: 1, t: '#commit' }).length), encodeCbor({ t: '#commit', op: 1 }));
  assert.deepEqual(Object.keys(body).sort(), ['blobs', 'blocks', 'commit', 'ops', 'prevData', 'rebase', 'repo', 'rev', 'seq', 'since', 'time', 'tooBig']);
  assert.equal(body.seq, 42);
  assert.equal(body.repo, DID);
  assert.equal(body.rev, result.rev);
  assert.equal(body.since, before.rev);
  assert.equal(body.tooBig, false);
  assert.deepEqual(body.blobs, []);
  assert.equal((body.prevData as CID).toString(), before.data.toString());
  assert.deepEqual(body.ops, [{ action: 'create', path: 'app.bsky.feed.post/newone', cid: result.ops[0].cid }]);
  await checkCommitEvent(frame, before.data, { didKey: repo.didKey() });
  await checkCommitEvent(body, before.data);
});

test('the inversion check fails when a proof block is missing', async () => {
  const { repo, paths } = populated(300);
  for (const victim of paths.slice(0, 6)) {
    const before = repo.head!;
    const result = repo.commit([{ action: 'delete', collection: 'app.bsky.feed.post', rkey: victim.split('/')[1] }]);
    const body = commitEventBody(result, { seq: 5, time });
    await checkCommitEvent(body, before.data);
    // Every MST node in the diff is needed: dropping any one breaks inversion.
    const nodes = result.eventBlocks.cids().filter((c) => !c.equals(result.commitCid));
    assert.ok(nodes.length > 0);
    for (const drop of nodes) {
      const blocks = result.eventBlocks.cids().filter((c) => !c.equals(drop)).map((c): [CID, Uint8Array] => [c, result.eventBlocks.get(c)!]);
      await assert.rejects(checkCommitEvent({ ...body, blocks: encodeCar([result.commitCid], blocks) }, before.data), `without ${drop}`);
    }
    // A wrong prevData is caught.
    await assert.rejects(checkCommitEvent({ ...body, prevData: result.data }, before.data));
  }
});

test('#sync, #identity, #account, #info and error frames', () => {
  const repo = new TestRepo();
  const result = repo.commit([]);
  const sync = decodeFrame(eventFrame('#sync', syncEventBody(result, { seq: 7, time })));
  assert.deepEqual(sync.header, { op: 1, t: '#sync' });
  assert.deepEqual(Object.keys(sync.body).sort(), ['blocks', 'did', 'rev', 'seq', 'time']);
  const car = readCar(sync.body.blocks as Uint8Array);
  assert.equal(car.roots[0].toString(), result.commitCid.toString());
  assert.deepEqual(car.blocks.cids().map(String), [result.commitCid.toString()]);
  assert.equal(sync.body.rev, result.rev);

  const id = decodeFrame(eventFrame('#identity', identityEventBody({ seq: 8, did: DID, time, handle: 'alice.test' })));
  assert.deepEqual(id, { header: { op: 1, t: '#identity' }, body: { seq: 8, did: DID, time, handle: 'alice.test' } });
  assert.deepEqual(decodeFrame(eventFrame('#identity', identityEventBody({ seq: 9, did: DID, time }))).body, { seq: 9, did: DID, time });

  const acct = decodeFrame(eventFrame('#account', accountEventBody({ seq: 10, did: DID, time, active: false, status: 'deactivated' })));
  assert.deepEqual(acct.body, { seq: 10, did: DID, time, active: false, status: 'deactivated' });
  assert.deepEqual(decodeFrame(eventFrame('#account', accountEventBody({ seq: 11, did: DID, time, active: true }))).body, { seq: 11, did: DID, time, active: true });

  const info = decodeFrame(eventFrame('#info', infoEventBody('OutdatedCursor', 'cursor too old')));
  assert.deepEqual(info, { header: { op: 1, t: '#info' }, body: { name: 'OutdatedCursor', message: 'cursor too old' } });

  const err = decodeFrame(encodeErrorFrame('FutureCursor', 'cursor is in the future'));
  assert.deepEqual(err, { header: { op: -1 }, body: { error: 'FutureCursor', message: 'cursor is in the future' } });
  assert.deepEqual(decodeFrame(encodeErrorFrame('ConsumerTooSlow')).body, { error: 'ConsumerTooSlow' });
});
