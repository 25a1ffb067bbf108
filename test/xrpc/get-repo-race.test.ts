// sync.getRepo while commits land between streaming callbacks: the download still yields the complete,
// verifiable CAR of the commit it started from (blocks a commit drops stay readable for a grace period),
// and a token that outlived the grace is refused with a reason instead of serving a CAR with holes.
// Runs the real Pds (repo store, group-commit writer, housekeeping) behind the production XRPC face.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCar, verifyRepoCar } from '@atproto/repo';
import { call } from './fixtures/call.ts';
import { face } from './fixtures/face.ts';
import { concatBytes } from '../../canister/src/repo/car.ts';
import { pdsReadModel } from '../../canister/src/pds/read-model.ts';
import { DROPPED_BLOCK_GRACE_NS } from '../../canister/src/pds/repo-store.ts';
import { StreamingTokenError } from '../../canister/src/xrpc/streaming.ts';
import { memoryPds, rk } from '../pds/fixtures.ts';

// A collection without a lexicon here, so records can be big enough for a multi-chunk repo.
const POST = 'com.example.note';
const post = (i: number, edit = '') => ({ $type: POST, text: `${i}${edit} `.padEnd(2900, 'lorem ipsum '), createdAt: '2026-01-01T00:00:00.000Z' });

async function bigRepo(records: number) {
  const f = memoryPds();
  await f.pds.bootstrap();
  for (let i = 0; i < records; i += 200) {
    const batch = [];
    for (let j = i; j < Math.min(records, i + 200); j++) batch.push({ action: 'create' as const, collection: POST, rkey: rk(`r${j}`), record: post(j) });
    await f.pds.write(batch);
  }
  return { ...f, model: pdsReadModel(f.pds) };
}

/** Each commit rewrites or deletes many records, so MST nodes, records and the old commit are all dropped. */
async function churn(pds: Awaited<ReturnType<typeof bigRepo>>['pds'], round: number, records: number) {
  const writes = [];
  for (let j = round; j < records; j += 7) {
    writes.push(j % 2 === 0
      ? { action: 'delete' as const, collection: POST, rkey: rk(`r${j}`) }
      : { action: 'put' as const, collection: POST, rkey: rk(`r${j}`), record: post(j, ` edit ${round}`) });
    if (writes.length === 60) break;
  }
  await pds.write(writes);
}

test('commits racing a multi-chunk getRepo: the CAR of the starting commit arrives whole and verifies', async () => {
  const RECORDS = 600;
  const { pds, model, signingKey, clock } = await bigRepo(RECORDS);
  const start = pds.repo.head()!;
  const first = call(face, model, `/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(model.did())}`);
  assert.equal(first.status_code, 200);
  const chunks = [first.body];
  let token = first.streaming_token;
  let commits = 0;
  for (let round = 0; token; round++) {
    clock.ns += 1_000_000_000n; // a second between callbacks
    await churn(pds, round, RECORDS);
    commits++;
    assert.equal(pds.housekeeping().blocks, 0, 'nothing dropped is due yet');
    const next = face.handleStreamingCallback(token, model);
    chunks.push(next.body);
    token = next.token;
  }
  assert.ok(chunks.length >= 3, `a multi-chunk download (${chunks.length} chunks)`);
  assert.ok(commits >= 2 && pds.repo.head()!.commitCid.toString() !== start.commitCid.toString(), 'commits landed mid-download');
  assert.ok(pds.repo.droppedPending() > 0, 'those commits dropped blocks the download still needed');

  const car = concatBytes(chunks);
  const verified = await verifyRepoCar(car, model.did(), signingKey.didKey());
  assert.equal(verified.commit.rev, start.rev, 'the CAR is the commit the download started from');
  const parsed = await readCar(car);
  assert.deepEqual(parsed.roots.map((r: unknown) => String(r)), [start.commitCid.toString()]);
  const creates = verified.creates.filter((c) => c.collection === POST);
  assert.equal(creates.length, RECORDS, 'every record of the starting commit is in it');
});

/** Follows a token to the end; throws whatever a callback throws. */
function rest(model: ReturnType<typeof pdsReadModel>, token: NonNullable<ReturnType<typeof call>['streaming_token']>): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let t: typeof token | undefined = token; t; ) {
    const next = face.handleStreamingCallback(t, model);
    out.push(next.body);
    t = next.token;
  }
  return out;
}

test('once the grace is over, a stale token fails on its first callback, never part-way; housekeeping is bounded; a new download is whole', async () => {
  const RECORDS = 600;
  const { pds, model, signingKey, clock } = await bigRepo(RECORDS);
  const start = pds.repo.head()!;
  const first = call(face, model, `/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(model.did())}`);
  const token = first.streaming_token!;
  assert.ok(token, 'multi-chunk');
  for (let round = 0; round < 3; round++) {
    clock.ns += 1_000_000_000n;
    await churn(pds, round, RECORDS);
  }
  const pending = pds.repo.droppedPending();
  assert.ok(pending > 20, `${pending} dropped blocks wait`);
  clock.ns += DROPPED_BLOCK_GRACE_NS;
  // Collect one block at a time. At every step the rest of the stale download either completes (and then
  // the whole CAR verifies) or is refused at its first callback with a reason: it never breaks part-way.
  let servedWhole = 0;
  let refusedAt = -1;
  for (let step = 0; step <= pending; step++) {
    let tail: Uint8Array[] | undefined;
    try {
      tail = rest(model, token);
    } catch (err) {
      assert.ok(err instanceof StreamingTokenError, `step ${step}: refused cleanly, not ${(err as Error).message}`);
      assert.match((err as Error).message, /no longer stored; restart the getRepo download/);
      refusedAt = step;
      break;
    }
    servedWhole++;
    const verified = await verifyRepoCar(concatBytes([first.body, ...tail]), model.did(), signingKey.didKey());
    assert.equal(verified.commit.rev, start.rev);
    assert.equal(pds.repo.collectDropped(clock.ns, 1), 1, 'bounded: one block per run of size 1');
  }
  assert.ok(refusedAt > 0, `served whole while its commit was kept (${servedWhole} steps), then refused`);
  assert.equal(pds.housekeeping().blocks, pending - refusedAt);
  assert.equal(pds.repo.droppedPending(), 0);

  const again = call(face, model, `/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(model.did())}`);
  const chunks = [again.body, ...(again.streaming_token ? rest(model, again.streaming_token) : [])];
  const verified = await verifyRepoCar(concatBytes(chunks), model.did(), signingKey.didKey());
  assert.equal(verified.commit.rev, pds.repo.head()!.rev);
});

test('a record dropped and then written again with the same content survives the collection of its old drop', async () => {
  const { pds, model, clock } = await bigRepo(3);
  const rkey = rk('r1');
  const cid = pds.repo.recordCid(POST, rkey)!;
  await pds.write([{ action: 'delete', collection: POST, rkey }]);
  clock.ns += 1_000_000_000n;
  await pds.write([{ action: 'create', collection: POST, rkey, record: post(1) }]);
  assert.ok(pds.repo.recordCid(POST, rkey)!.equals(cid), 'same content, same block');
  clock.ns += DROPPED_BLOCK_GRACE_NS + 1n;
  pds.housekeeping();
  const r = call(face, model, `/xrpc/com.atproto.repo.getRecord?repo=${encodeURIComponent(model.did())}&collection=${POST}&rkey=${rkey}`);
  assert.equal(r.status_code, 200, r.text());
  // ...and it carries the rev of the commit that brought it back (getRepo `since`).
  assert.equal(pds.repo.blocks.rev(cid), pds.repo.head()!.rev);
});
