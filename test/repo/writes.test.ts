// prepareCommit / finishCommit: commits, ops, diffs and limits, checked with @atproto/repo
// (verifyDiffCar, verifyRepoCar, verifyCommitSig) and the Sync v1.1 inversion helper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1';
import { BlockMap as RefBlockMap, MemoryBlockstore, Repo, verifyCommitSig, verifyDiffCar, verifyRepoCar } from '@atproto/repo';
import { CID, decodeCbor, encodeCbor, sha256 } from '../../canister/src/atproto/cbor.ts';
import { verifySignature } from '../../canister/src/atproto/crypto.ts';
import { BlockMap } from '../../canister/src/repo/block-map.ts';
import { exportRepoCar, encodeCar } from '../../canister/src/repo/car.ts';
import { normalizeLowS } from '../../canister/src/repo/commit.ts';
import { commitEventBody, eventFrame } from '../../canister/src/repo/events.ts';
import { finishCommit, prepareCommit, RepoWriteError, type WriteOp } from '../../canister/src/repo/writes.ts';
import { checkCommitEvent } from '../support/sync-check.ts';
import { DID, post, randomPaths, rng, TestRepo } from './repo-fixture.ts';

const time = '2026-11-21T10:00:00.000Z';

function creates(paths: string[], start = 0): WriteOp[] {
  return paths.map((p, i) => {
    const [collection, rkey] = p.split('/');
    return { action: 'create', collection, rkey, record: { ...post(`record ${start + i}`, i), $type: collection } };
  });
}

test('first commit: v3 commit signed over sha-256 of the unsigned commit', async () => {
  const repo = new TestRepo();
  const result = repo.commit(creates(['app.bsky.feed.post/3kabc2222222a']));
  const commit = decodeCbor<Record<string, unknown>>(result.commitBytes);
  assert.deepEqual(Object.keys(commit).sort(), ['data', 'did', 'prev', 'rev', 'sig', 'version']);
  assert.equal(commit.version, 3);
  assert.equal(commit.prev, null);
  assert.equal(commit.did, DID);
  assert.equal(commit.rev, result.rev);
  const unsigned = encodeCbor({ did: commit.did, version: 3, data: commit.data, rev: commit.rev, prev: null });
  assert.ok(verifySignature(repo.didKey(), unsigned, commit.sig as Uint8Array));
  assert.ok(await verifyCommitSig(commit as never, repo.didKey()));
  assert.equal(result.since, null);
  assert.equal(result.prevData, null);
  assert.deepEqual(result.ops.map((o) => [o.action, o.path, o.prev]), [['create', 'app.bsky.feed.post/3kabc2222222a', undefined]]);
  await checkCommitEvent(eventFrame('#commit', commitEventBody(result, { seq: 1, time })), null, { didKey: repo.didKey() });
});

test('a sequence of batches: every event inverts to prevData and passes verifyDiffCar', async () => {
  const repo = new TestRepo();
  const rand = rng(11);
  const live: string[] = [];
  const pool = randomPaths(2000, rand);
  let next = 0;
  // Grow to a few hundred records so trees are several layers deep.
  for (let i = 0; i < 4; i++) {
    const batch = pool.slice(next, next + 150);
    next += 150;
    repo.commit(creates(batch, next));
    live.push(...batch);
  }
  for (let round = 0; round < 25; round++) {
    const writes: WriteOp[] = [];
    const used = new Set<string>();
    const n = 1 + Math.floor(rand() * 12);
    for (let j = 0; j < n; j++) {
      const r = rand();
      if (r < 0.4 || live.length < 20) {
        const p = pool[next++];
        writes.push(...creates([p], next));
        used.add(p);
      } else {
        const idx = Math.floor(rand() * live.length);
        const p = live[idx];
        if (used.has(p)) continue;
        used.add(p);
        const [collection, rkey] = p.split('/');
        writes.push(r < 0.7 ? { action: 'delete', collection, rkey } : { action: 'update', collection, rkey, record: { ...post(`upd ${round}`), $type: collection } });
      }
    }
    const before = repo.head!;
    const prevRepo = await Repo.load(new MemoryBlockstore(new RefBlockMap(repo.store.entries() as never)), before.commitCid as never);
    const result = repo.commit(writes);
    for (const w of writes) {
      const p = `${w.collection}/${w.rkey}`;
      if (w.action === 'create') live.push(p);
      if (w.action === 'delete') live.splice(live.indexOf(p), 1);
    }
    const body = commitEventBody(result, { seq: round + 10, time });
    await checkCommitEvent(eventFrame('#commit', body), before.data, { didKey: repo.didKey(), sinceExpected: before.rev });
    // Independent diff check: @atproto/repo applies the diff to its copy of the previous repo.
    const diff = await verifyDiffCar(prevRepo, body.blocks as Uint8Array, DID, repo.didKey());
    assert.equal(diff.commit.cid.toString(), result.commitCid.toString());
    const described = (xs: { action: string; path: string; cid: unknown }[]) => xs.map((x) => `${x.action} ${x.path} ${x.cid ?? null}`).sort();
    assert.deepEqual(
      described(diff.writes.map((w) => ({ action: w.action, path: `${w.collection}/${w.rkey}`, cid: w.action === 'delete' ? null : (w as { cid: unknown }).cid }))),
      described(result.ops),
    );
    assert.equal(result.prevData!.toString(), before.data.toString());
  }
  // After all the churn (and deleting removedNodeCids), the stored repo is still complete.
  const verified = await verifyRepoCar(exportRepoCar(repo.store, repo.head!.commitCid), DID, repo.didKey());
  assert.equal(verified.creates.length, live.length);
});

test('ops carry cid and prev; removed CIDs and new blocks are exact', () => {
  const repo = new TestRepo();
  repo.commit(creates(['app.bsky.feed.post/a1', 'app.bsky.feed.post/a2', 'app.bsky.feed.like/b1']));
  const a1 = repo.head!;
  const beforeBlocks = new Set(repo.store.cids().map(String));
  const result = repo.commit([
    { action: 'update', collection: 'app.bsky.feed.post', rkey: 'a1', record: post('changed') },
    { action: 'delete', collection: 'app.bsky.feed.like', rkey: 'b1' },
    { action: 'create', collection: 'app.bsky.feed.post', rkey: 'a3', record: post('new') },
  ]);
  assert.equal(result.since, a1.rev);
  assert.deepEqual(result.ops.map((o) => o.action), ['update', 'delete', 'create']);
  assert.ok(result.ops[0].cid && result.ops[0].prev && !result.ops[0].cid.equals(result.ops[0].prev));
  assert.equal(result.ops[1].cid, null);
  assert.ok(result.ops[1].prev);
  assert.equal(result.ops[2].prev, undefined);
  // Removed records are the previous versions; removed nodes were all in the old store.
  assert.deepEqual(result.removedRecordCids.map(String).sort(), [result.ops[0].prev!, result.ops[1].prev!].map(String).sort());
  for (const c of result.removedNodeCids) assert.ok(beforeBlocks.has(c.toString()));
  // New blocks: commit + 2 records + MST nodes, none of which existed before.
  for (const c of result.newBlocks.cids()) assert.ok(!beforeBlocks.has(c.toString()), `new block ${c} already stored`);
  assert.ok(result.newBlocks.has(result.commitCid));
  assert.ok(result.newBlocks.has(result.ops[0].cid!) && result.newBlocks.has(result.ops[2].cid!));
});

test('batches are refused with clear errors and nothing is returned', () => {
  const repo = new TestRepo();
  repo.commit(creates(['app.bsky.feed.post/exists']));
  const head = repo.head!;
  const rev = repo.nextRev();
  const expectErr = (writes: WriteOp[], code: string, r = rev) => {
    assert.throws(() => prepareCommit(repo.store, head, DID, writes, r), (err: unknown) => {
      assert.ok(err instanceof RepoWriteError, String(err));
      assert.equal(err.code, code, err.message);
      assert.ok(err.message.length > 10);
      return true;
    });
  };
  expectErr(creates(randomPaths(201, rng(3))), 'TooManyOps');
  expectErr([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'big', record: { $type: 'app.bsky.feed.post', text: 'x'.repeat(1_000_001) } }], 'RecordTooLarge');
  // 3 records of 700 KB: each under the record limit, together over the 2,000,000-byte diff limit.
  const big = (k: string) => ({ action: 'create' as const, collection: 'app.bsky.feed.post', rkey: k, record: { $type: 'app.bsky.feed.post', text: k.repeat(350_000) } });
  expectErr([big('b1'), big('b2'), big('b3')], 'DiffTooLarge');
  expectErr(creates(['app.bsky.feed.post/exists']), 'RecordExists');
  expectErr([{ action: 'delete', collection: 'app.bsky.feed.post', rkey: 'missing' }], 'RecordNotFound');
  expectErr([{ action: 'update', collection: 'app.bsky.feed.post', rkey: 'missing', record: post('x') }], 'RecordNotFound');
  expectErr([...creates(['app.bsky.feed.post/dup']), { action: 'delete', collection: 'app.bsky.feed.post', rkey: 'dup' }], 'DuplicatePath');
  expectErr([{ action: 'create', collection: 'not an nsid', rkey: 'x', record: post('x') }], 'InvalidWrite');
  expectErr([{ action: 'create', collection: 'app.bsky.feed.post', rkey: '..', record: post('x') }], 'InvalidWrite');
  expectErr([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'x', record: { $type: 'app.bsky.feed.like' } }], 'InvalidRecord');
  expectErr([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'x', record: { $type: 'app.bsky.feed.post', n: 1.5 } }], 'InvalidRecord');
  expectErr(creates(['app.bsky.feed.post/new']), 'InvalidRev', head.rev);
  // 200 ops is allowed and stays within limits.
  const ok = prepareCommit(repo.store, head, DID, creates(randomPaths(200, rng(4))), rev);
  assert.equal(ok.ops.length, 200);
  assert.ok(ok.diffBytes <= 2_000_000);
});

test('diffBytes is the exact size of the event CAR', () => {
  const repo = new TestRepo();
  repo.commit(creates(randomPaths(50, rng(5))));
  const prepared = prepareCommit(repo.store, repo.head, DID, creates(randomPaths(5, rng(6))), repo.nextRev());
  const result = finishCommit(prepared, repo.signer.signSync(prepared.digest));
  assert.equal(encodeCar([result.commitCid], result.eventBlocks).length, prepared.diffBytes);
});

test('finishCommit normalizes a high-S signature to low-S and rejects bad ones', async () => {
  const repo = new TestRepo();
  const prepared = prepareCommit(repo.store, null, DID, creates(['app.bsky.feed.post/x']), repo.nextRev());
  const low = repo.signer.signSync(prepared.digest);
  const sig = secp256k1.Signature.fromCompact(low);
  const high = new secp256k1.Signature(sig.r, secp256k1.CURVE.n - sig.s).toCompactRawBytes();
  assert.notDeepEqual(high, low);
  assert.deepEqual(normalizeLowS(high), low);
  const result = finishCommit(prepared, high);
  const commit = decodeCbor<{ sig: Uint8Array }>(result.commitBytes);
  assert.deepEqual(commit.sig, low);
  assert.ok(verifySignature(repo.didKey(), prepared.unsignedCommitBytes, commit.sig));
  assert.deepEqual(prepared.digest, sha256(prepared.unsignedCommitBytes));
  assert.throws(() => finishCommit(prepared, new Uint8Array(70)), { code: 'InvalidSignature' });
});

test('empty commits: first commit of an empty repo, and a rev-only commit', async () => {
  const repo = new TestRepo();
  const first = repo.commit([]);
  assert.equal(first.ops.length, 0);
  assert.ok(first.newBlocks.has(first.data), 'empty MST root node is stored');
  await verifyRepoCar(exportRepoCar(repo.store, repo.head!.commitCid), DID, repo.didKey());
  repo.commit(creates(['app.bsky.feed.post/one']));
  const before = repo.head!;
  const again = repo.commit([]);
  assert.equal(again.data.toString(), before.data.toString());
  await checkCommitEvent(eventFrame('#commit', commitEventBody(again, { seq: 3, time })), before.data);
});

test('deleting the last record leaves the canonical empty tree', async () => {
  const repo = new TestRepo();
  const empty = repo.commit([]).data;
  repo.commit(creates(['app.bsky.feed.post/a', 'app.bsky.feed.post/b']));
  const before = repo.head!;
  const result = repo.commit([
    { action: 'delete', collection: 'app.bsky.feed.post', rkey: 'a' },
    { action: 'delete', collection: 'app.bsky.feed.post', rkey: 'b' },
  ]);
  assert.equal(result.data.toString(), empty.toString());
  await checkCommitEvent(eventFrame('#commit', commitEventBody(result, { seq: 9, time })), before.data);
});

test('prepareCommit does not touch the store', () => {
  const repo = new TestRepo();
  repo.commit(creates(randomPaths(40, rng(8))));
  const snapshot = new BlockMap();
  snapshot.addAll(repo.store);
  prepareCommit(repo.store, repo.head, DID, creates(randomPaths(10, rng(9))), repo.nextRev());
  assert.deepEqual(repo.store.cids().map(String), snapshot.cids().map(String));
  assert.ok(CID.asCID(repo.head!.data));
});

test('random multi-op batches on small trees always invert (structural interactions)', async () => {
  const rand = rng(2024);
  for (let trial = 0; trial < 6; trial++) {
    const repo = new TestRepo();
    const pool = randomPaths(600, rand);
    let next = 0;
    const live: string[] = [];
    for (let round = 0; round < 12; round++) {
      const writes: WriteOp[] = [];
      const used = new Set<string>();
      const n = 1 + Math.floor(rand() * (round === 0 ? 40 : 30));
      for (let j = 0; j < n; j++) {
        const r = rand();
        if (r < 0.45 || live.length === 0) {
          const p = pool[next++];
          used.add(p);
          writes.push(...creates([p], next));
        } else {
          const p = live[Math.floor(rand() * live.length)];
          if (used.has(p)) continue;
          used.add(p);
          const [collection, rkey] = p.split('/');
          writes.push(r < 0.8 ? { action: 'delete', collection, rkey } : { action: 'update', collection, rkey, record: { ...post(`u${round}`), $type: collection } });
        }
      }
      const before = repo.head;
      const result = repo.commit(writes);
      for (const w of writes) {
        const p = `${w.collection}/${w.rkey}`;
        if (w.action === 'create') live.push(p);
        if (w.action === 'delete') live.splice(live.indexOf(p), 1);
      }
      await checkCommitEvent(commitEventBody(result, { seq: round + 1, time }), before ? before.data : null);
    }
  }
});
