// Group commit, ordering, batching and rejection — plain Node over the pure PDS modules.
import { test } from 'node:test';
import { until } from '../support/until.ts';
import assert from 'node:assert/strict';
import { CID, decodeCbor } from '../../canister/src/atproto/cbor.ts';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import { readCar } from '../../canister/src/repo/car.ts';
import { checkCommitEvent } from '../support/sync-check.ts';
import { DROPPED_BLOCK_GRACE_NS } from '../../canister/src/pds/repo-store.ts';
import { memoryPds, post, rk } from './fixtures.ts';
import type { Pds } from '../../canister/src/pds/pds.ts';

function frames(pds: Pds) {
  const page = pds.events.page(0n, 10_000, 100_000_000);
  return page.events.map((e) => ({ seq: e.seq, ...decodeFrame(e.frame) }));
}

/** A #commit carrying writes (the genesis #commit has none). */
const isWriteCommit = (f: { header: unknown; body: Record<string, unknown> }) => (f.header as { t: string }).t === '#commit' && (f.body.ops as unknown[]).length > 0;

/** Runs the Sync v1.1 consumer checks over every #commit in the log, chaining prevData. */
async function checkLog(pds: Pds, didKey: string) {
  let prevData: CID | null = null;
  let prevRev: string | null = null;
  let lastSeq = 0;
  const all = frames(pds);
  for (const f of all) {
    assert.ok(f.seq > BigInt(lastSeq), 'seqs increase');
    assert.equal(f.body.seq, Number(f.seq), 'frame seq matches log seq');
    lastSeq = Number(f.seq);
    const t = (f.header as { t: string }).t;
    if (t === '#sync') {
      const car = readCar(f.body.blocks as Uint8Array);
      const commit = decodeCbor<{ data: CID; rev: string }>(car.blocks.get(car.roots[0])!);
      prevData = commit.data;
      prevRev = commit.rev;
    } else if (t === '#commit') {
      const checked = await checkCommitEvent(encodeAgain(f), prevData, { didKey, sinceExpected: prevRev });
      if (prevRev) assert.ok(checked.commit.rev > prevRev, 'rev increases');
      prevData = checked.commit.data;
      prevRev = checked.commit.rev;
    }
  }
  return all;
}

// checkCommitEvent takes frame bytes or a decoded body.
const encodeAgain = (f: { body: Record<string, unknown> }) => f.body;

test('bootstrap emits #identity, #account, #commit, #sync (as the reference) and builds the empty genesis commit', async () => {
  const { pds, signingKey } = memoryPds();
  const s = await pds.bootstrap();
  assert.equal(s.did, 'did:web:localhost%3A2583');
  assert.equal(s.signingKey, signingKey.didKey());
  const fs = frames(pds);
  assert.deepEqual(fs.map((f) => (f.header as { t: string }).t), ['#identity', '#account', '#commit', '#sync']);
  assert.deepEqual(fs[2].body.ops, []);
  assert.equal(fs[0].body.handle, 'community.test');
  assert.equal(fs[1].body.active, true);
  assert.ok(pds.repo.head());
  // Idempotent.
  await pds.bootstrap();
  assert.equal(frames(pds).length, 4);
  const st = pds.status();
  assert.equal(st.headSeq, 4n);
  assert.equal(st.rev, pds.repo.head()!.rev);
  assert.equal(st.active, true);
});

test('writes are visible in the index; create/update/delete events pass Sync v1.1 checks', async () => {
  const { pds, signingKey } = memoryPds();
  await pds.bootstrap();
  const a = await pds.write([{ action: 'create', collection: 'app.bsky.feed.post', record: post('hello') }]);
  const uri = a.results[0].uri;
  const rkey = uri.split('/').pop()!;
  assert.match(uri, /^at:\/\/did:web:localhost%3A2583\/app\.bsky\.feed\.post\/[a-z2-7]{13}$/);
  assert.ok(pds.repo.getRecord('app.bsky.feed.post', rkey));
  await pds.write([{ action: 'put', collection: 'app.bsky.feed.post', rkey, record: post('edited') }]);
  await pds.write([{ action: 'put', collection: 'app.bsky.actor.profile', rkey: 'self', record: { $type: 'app.bsky.actor.profile', displayName: 'C' } }]);
  await pds.write([{ action: 'delete', collection: 'app.bsky.feed.post', rkey }]);
  assert.equal(pds.repo.getRecord('app.bsky.feed.post', rkey), undefined);
  assert.deepEqual(pds.repo.collections(), ['app.bsky.actor.profile']);
  const fs = await checkLog(pds, signingKey.didKey());
  const actions = fs.filter(isWriteCommit).map((f) => (f.body.ops as { action: string }[]).map((o) => o.action).join());
  assert.deepEqual(actions, ['create', 'update', 'create', 'delete']);
});

test('group commit: writes arriving while a signature is pending go into the next commit together, in order', async () => {
  const { pds, signing, signingKey } = memoryPds();
  await pds.bootstrap();
  signing.gated = true;
  const first = pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('a0'), record: post('first') }]);
  await until('first signature request', () => signing.pending() === 1, { intervalMs: 0 });
  const rest = ['a1', 'a2', 'a3', 'a4'].map((name) => pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk(name), record: post(name) }]));
  // A write that cannot apply (duplicate create) is refused on its own, right away.
  await assert.rejects(pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('a2'), record: post('dup') }]), /already exists/);
  assert.equal(pds.writer.queued(), 4);
  signing.releaseAll();
  await until('second signature request', () => signing.pending() === 1, { intervalMs: 0 });
  signing.releaseAll();
  const [o1, ...others] = await Promise.all([first, ...rest]);
  assert.equal(new Set(others.map((o) => o.rev)).size, 1, 'the four queued writes share one commit');
  assert.notEqual(o1.rev, others[0].rev);
  assert.equal(signing.signs, 1 + 2, 'genesis + two commits');
  const fs = await checkLog(pds, signingKey.didKey());
  const commits = fs.filter(isWriteCommit);
  assert.equal(commits.length, 2);
  assert.deepEqual((commits[1].body.ops as { path: string }[]).map((o) => o.path), ['a1', 'a2', 'a3', 'a4'].map((k) => `app.bsky.feed.post/${rk(k)}`));
});

test('group commit: at most 200 ops per commit, requests never split, arrival order kept', async () => {
  const { pds, signing, signingKey } = memoryPds();
  await pds.bootstrap();
  signing.gated = true;
  const mk = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ action: 'create' as const, collection: 'app.bsky.feed.like', rkey: rk(`${prefix}${i}`), record: { $type: 'app.bsky.feed.like', subject: { uri: 'at://did:plc:abc/app.bsky.feed.post/3k', cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' }, createdAt: '2026-01-01T00:00:00.000Z' } }));
  const p0 = pds.write(mk('z', 1));
  await until('first signature', () => signing.pending() === 1, { intervalMs: 0 });
  const p1 = pds.write(mk('a', 150));
  const p2 = pds.write(mk('b', 40));
  const p3 = pds.write(mk('c', 30)); // 150 + 40 + 30 > 200: goes to the commit after
  await assert.rejects(pds.write(mk('d', 201)), /too many writes/);
  for (let round = 0; round < 3; round++) {
    signing.releaseAll();
    await until(`signature ${round + 2}`, () => signing.pending() === 1 || round === 2, { intervalMs: 0 });
  }
  signing.releaseAll();
  const [o0, o1, o2, o3] = await Promise.all([p0, p1, p2, p3]);
  assert.equal(o1.rev, o2.rev);
  assert.notEqual(o2.rev, o3.rev);
  assert.notEqual(o0.rev, o1.rev);
  const fs = await checkLog(pds, signingKey.didKey());
  const sizes = fs.filter(isWriteCommit).map((f) => (f.body.ops as unknown[]).length);
  assert.deepEqual(sizes, [1, 190, 30]);
  assert.equal(pds.repo.recordCount(), 221);
});

test('a queued write made invalid by an earlier one in the same batch is rejected alone; others commit', async () => {
  const { pds, signing } = memoryPds();
  await pds.bootstrap();
  await pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('x'), record: post('x') }]);
  signing.gated = true;
  const hold = pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('hold'), record: post('h') }]);
  await until('hold signature', () => signing.pending() === 1, { intervalMs: 0 });
  const del1 = pds.write([{ action: 'delete', collection: 'app.bsky.feed.post', rkey: rk('x') }]);
  // Deleting twice: the second is refused at submission (the queue already deletes it).
  await assert.rejects(pds.write([{ action: 'delete', collection: 'app.bsky.feed.post', rkey: rk('x') }]), /not found/);
  const ok = pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('y'), record: post('y') }]);
  const headBefore = pds.repo.head()!.rev;
  signing.releaseAll();
  await until('second signature', () => signing.pending() === 1, { intervalMs: 0 });
  signing.releaseAll();
  await Promise.all([hold, del1, ok]);
  assert.notEqual(pds.repo.head()!.rev, headBefore);
  assert.equal(pds.repo.getRecord('app.bsky.feed.post', rk('x')), undefined);
  assert.ok(pds.repo.getRecord('app.bsky.feed.post', rk('y')));
});

test('invalid writes are rejected with a reason and change nothing', async () => {
  const { pds } = memoryPds();
  await pds.bootstrap();
  const before = { head: pds.repo.head()!.rev, seq: pds.events.head() };
  const bad: [Parameters<Pds['write']>[0], RegExp][] = [
    [[{ action: 'create', collection: 'not an nsid', record: post('x') }], /invalid collection/],
    [[{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'bad/key', record: post('x') }], /invalid record key/],
    [[{ action: 'create', collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.like' } }], /does not match/],
    [[{ action: 'create', collection: 'app.bsky.feed.post', record: { text: 1.5 } }], /invalid record/],
    [[{ action: 'create', collection: 'app.bsky.feed.post', record: { text: 'no date' } }], /createdAt/],
    [[{ action: 'create', collection: 'app.bsky.feed.post', record: { text: 'x'.repeat(3001), createdAt: '2026-01-01T00:00:00.000Z' } }], /invalid record/],
    [[{ action: 'delete', collection: 'app.bsky.feed.post', rkey: rk('missing') }], /not found/],
    [[{ action: 'create', collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'x', createdAt: '2026-01-01T00:00:00.000Z', embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: { $type: 'blob', ref: CID.parse('bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'), mimeType: 'image/png', size: 10 } }] } } }], /blob not found/],
  ];
  for (const [input, re] of bad) await assert.rejects(pds.write(input), re);
  assert.equal(pds.repo.head()!.rev, before.head);
  assert.equal(pds.events.head(), before.seq);
});

test('signing failure rejects the batch and leaves the repo unchanged; the next write works', async () => {
  const { pds, signing } = memoryPds();
  await pds.bootstrap();
  const before = pds.repo.head()!;
  const orig = signing.sign.bind(signing);
  signing.sign = async () => {
    throw new Error('ecdsa unavailable');
  };
  await assert.rejects(pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('k'), record: post('k') }]), /signing failed: ecdsa unavailable/);
  assert.equal(pds.repo.head()!.rev, before.rev);
  assert.equal(pds.repo.getRecord('app.bsky.feed.post', rk('k')), undefined);
  signing.sign = orig;
  await pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('k'), record: post('k') }]);
  assert.ok(pds.repo.getRecord('app.bsky.feed.post', rk('k')));
});

test('state survives reopening from the same storage (heap is only a cache)', async () => {
  const { pds, reopen, signingKey } = memoryPds();
  await pds.bootstrap();
  for (let i = 0; i < 5; i++) await pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk(`r${i}`), record: post(`p${i}`) }]);
  const again = reopen();
  assert.equal(again.repo.head()!.rev, pds.repo.head()!.rev);
  assert.equal(again.events.head(), pds.events.head());
  await again.write([{ action: 'create', collection: 'app.bsky.feed.post', record: post('after reopen') }]);
  assert.equal(again.repo.recordCount(), 6);
  assert.ok(again.repo.head()!.rev > pds.repo.head()!.rev || again.repo.head()!.rev === pds.repo.head()!.rev);
  await checkLog(again, signingKey.didKey());
});

test('listRecords pages newest-first by default and ascending with reverse; blocks of deleted records go', async () => {
  const { pds, storage, clock } = memoryPds();
  await pds.bootstrap();
  const keys = ['3kaaaaaaaaa22', '3kaaaaaaaaa23', '3kaaaaaaaaa24', '3kaaaaaaaaa25', '3kaaaaaaaaa26'];
  await pds.write(keys.map((rkey, i) => ({ action: 'create' as const, collection: 'app.bsky.feed.post', rkey, record: post(`n${i}`) })));
  const desc = pds.repo.listRecords('app.bsky.feed.post', { limit: 2, reverse: false });
  assert.deepEqual(desc.map((r) => r.rkey), [keys[4], keys[3]]);
  const next = pds.repo.listRecords('app.bsky.feed.post', { limit: 2, cursor: keys[3], reverse: false });
  assert.deepEqual(next.map((r) => r.rkey), [keys[2], keys[1]]);
  const asc = pds.repo.listRecords('app.bsky.feed.post', { limit: 10, cursor: keys[1], reverse: true });
  assert.deepEqual(asc.map((r) => r.rkey), keys.slice(2));
  const cid = pds.repo.recordCid('app.bsky.feed.post', keys[0])!;
  await pds.write([{ action: 'delete', collection: 'app.bsky.feed.post', rkey: keys[0] }]);
  assert.ok(storage.blocks.get(cid), 'kept for the drop grace period (a getRepo in flight may still need it)');
  clock.ns += DROPPED_BLOCK_GRACE_NS;
  assert.ok(pds.housekeeping().blocks >= 1);
  assert.equal(storage.blocks.get(cid), undefined, 'record block released');
});

test('a commit presumed lost (signature not back within the stale window) does not block the queue; a late signature cannot overwrite', async () => {
  const { pds, signing, clock, signingKey } = memoryPds();
  await pds.bootstrap();
  signing.gated = true;
  const lost = pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('lost'), record: post('lost') }]);
  await until('signature request', () => signing.pending() === 1, { intervalMs: 0 });
  const queued = pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('next'), record: post('next') }]);
  clock.ns += 16n * 60n * 1_000_000_000n; // beyond the stale window
  await until('the queued write leads a new commit', () => signing.pending() === 2, { intervalMs: 0 });
  signing.releaseLast();
  const out = await queued;
  assert.equal(out.results.length, 1);
  signing.releaseAll(); // the old signature finally arrives: the head moved, so it must not apply
  await assert.rejects(lost, /repo changed while signing|commit was lost/);
  assert.ok(pds.repo.getRecord('app.bsky.feed.post', rk('next')));
  assert.equal(pds.repo.getRecord('app.bsky.feed.post', rk('lost')), undefined);
  await checkLog(pds, signingKey.didKey());
});

test('a writer waiting inside a batch whose signature never returns is released with an error after the stale window', async () => {
  const { pds, signing, clock } = memoryPds();
  await pds.bootstrap();
  signing.gated = true;
  const w1 = pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('s1'), record: post('1') }]);
  await until('first signature', () => signing.pending() === 1, { intervalMs: 0 });
  const w2 = pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('s2'), record: post('2') }]);
  const w3 = pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('s3'), record: post('3') }]);
  signing.releaseAll();
  await w1;
  await until('batch of w2+w3 waits for its signature', () => signing.pending() === 1, { intervalMs: 0 });
  const outcome = Promise.race([w2.then(() => 'w2', () => 'w2 failed'), w3.then(() => 'w3', () => 'w3 failed')]);
  clock.ns += 16n * 60n * 1_000_000_000n; // that signature never comes back
  assert.match(await outcome, /failed/);
  assert.equal(pds.repo.getRecord('app.bsky.feed.post', rk('s2')), undefined);
  assert.equal(pds.repo.getRecord('app.bsky.feed.post', rk('s3')), undefined);
});
