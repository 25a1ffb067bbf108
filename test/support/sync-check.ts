// Sync v1.1 consumer checks for one #commit event, done the way a relay does them and using
// @atproto/repo's MST (an implementation nobody here wrote) for the inversion:
//  - frame header {op: 1, t: '#commit'}; body fields per the lexicon (tooBig false, blobs [], ...)
//  - blocks is a CAR whose first root is the commit; every block matches its CID; <= 2,000,000 bytes
//  - the commit is v3, its rev/did match the event, rev is a TID not > 5 min in the future, and (given a did:key) its signature verifies
//  - <= 200 ops; each created/updated record is in the diff and the new tree maps its path to its cid
//  - starting from the new MST root with ONLY the event's blocks, inverting the ops (in reverse
//    and in forward order) reproduces prevData (and `prevDataExpected`, when the caller knows the previous root).
// Reusable for firehose events: pass frame bytes or an already-decoded body.
import assert from 'node:assert/strict';
import { BlockMap as RefBlockMap, MST, MemoryBlockstore, readCarWithRoot, verifyCommitSig } from '@atproto/repo';
import { CID, decodeCbor } from '../../canister/src/atproto/cbor.ts';
import { isValidTid, tidTimestamp } from '../../canister/src/atproto/syntax/index.ts';
import { decodeFrame } from '../../canister/src/repo/events.ts';

export type CheckedCommitEvent = {
  body: Record<string, unknown>;
  commitCid: CID;
  commit: { did: string; version: number; data: CID; rev: string; prev: CID | null; sig: Uint8Array };
  prevData: CID | null;
  blockCount: number;
};

type EventOp = { action: string; path: string; cid: CID | null; prev?: CID };

export async function checkCommitEvent(
  frameOrBody: Uint8Array | Record<string, unknown>,
  prevDataExpected?: CID | null,
  opts: { didKey?: string; sinceExpected?: string | null } = {},
): Promise<CheckedCommitEvent> {
  let body: Record<string, unknown>;
  if (frameOrBody instanceof Uint8Array) {
    const { header, body: b } = decodeFrame(frameOrBody);
    assert.deepEqual(header, { op: 1, t: '#commit' }, 'frame header');
    body = b;
  } else body = frameOrBody;

  for (const field of ['seq', 'rebase', 'tooBig', 'repo', 'commit', 'rev', 'since', 'blocks', 'ops', 'blobs', 'time']) {
    assert.ok(field in body, `#commit body lacks ${field}`);
  }
  assert.equal(typeof body.seq, 'number');
  assert.ok(Number.isInteger(body.seq) && (body.seq as number) > 0, 'seq is a positive integer');
  assert.equal(body.tooBig, false);
  assert.equal(body.rebase, false);
  assert.deepEqual(body.blobs, []);
  assert.equal(typeof body.time, 'string');
  assert.ok(!Number.isNaN(Date.parse(body.time as string)), 'time is a datetime');
  assert.ok(body.since === null || typeof body.since === 'string', 'since is a string or null');
  if (opts.sinceExpected !== undefined) assert.equal(body.since, opts.sinceExpected, 'since');
  const blocks = body.blocks as Uint8Array;
  assert.ok(blocks instanceof Uint8Array, 'blocks are bytes');
  assert.ok(blocks.length <= 2_000_000, `blocks ${blocks.length} bytes > 2,000,000`);
  const ops = body.ops as EventOp[];
  assert.ok(Array.isArray(ops) && ops.length <= 200, 'at most 200 ops');

  // readCarWithRoot verifies each block against its CID.
  const car = await readCarWithRoot(blocks);
  const commitCid = CID.asCID(body.commit)!;
  assert.ok(commitCid, 'commit is a CID link');
  assert.equal(car.root.toString(), commitCid.toString(), 'CAR root is the commit');
  const commitBytes = car.blocks.get(car.root);
  assert.ok(commitBytes, 'commit block is in the CAR');
  const commit = decodeCbor<CheckedCommitEvent['commit']>(commitBytes);
  assert.equal(commit.version, 3);
  assert.ok('prev' in commit, 'commit has prev');
  assert.equal(commit.did, body.repo, 'commit did = repo');
  assert.equal(commit.rev, body.rev, 'commit rev = event rev');
  assert.ok(isValidTid(commit.rev), 'rev is a TID');
  assert.ok(tidTimestamp(commit.rev) / 1000 <= Date.now() + 5 * 60_000, 'rev is not more than 5 minutes in the future');
  if (typeof body.since === 'string') assert.ok(commit.rev > body.since, 'rev increases past since');
  if (opts.didKey) assert.ok(await verifyCommitSig(commit as never, opts.didKey), 'commit signature verifies');

  const prevData = body.prevData === undefined ? null : CID.asCID(body.prevData);
  if (body.prevData !== undefined) assert.ok(prevData, 'prevData is a CID link');
  if (prevDataExpected !== undefined) {
    assert.equal(prevData?.toString() ?? null, prevDataExpected?.toString() ?? null, 'prevData = previous data root');
  }

  // Inversion on a store holding only the event's blocks.
  const storage = new MemoryBlockstore(new RefBlockMap(car.blocks as never));
  const mst = MST.load(storage, commit.data as never);
  const seen = new Set<string>();
  for (const op of ops) {
    assert.ok(!seen.has(op.path), `duplicate path ${op.path}`);
    seen.add(op.path);
    const current = await mst.get(op.path);
    if (op.action === 'create' || op.action === 'update') {
      assert.ok(op.cid, `${op.action} op has a cid`);
      assert.equal(current?.toString(), op.cid.toString(), `tree maps ${op.path} to the op cid`);
      assert.ok(car.blocks.has(op.cid as never), `record block for ${op.path} is in the diff`);
      if (op.action === 'update') assert.ok(op.prev, 'update op has prev');
      else assert.equal(op.prev, undefined, 'create op has no prev');
    } else {
      assert.equal(op.action, 'delete');
      assert.equal(op.cid, null, 'delete op cid is null');
      assert.ok(op.prev, 'delete op has prev');
      assert.equal(current, null, `${op.path} is gone from the new tree`);
    }
  }
  if (prevData) {
    // Consumers may invert in either order; both must work from the event's blocks alone.
    for (const order of [[...ops].reverse(), ops]) {
      let tree = mst;
      for (const op of order) {
        if (op.action === 'create') tree = await tree.delete(op.path);
        else if (op.action === 'update') tree = await tree.update(op.path, op.prev as never);
        else tree = await tree.add(op.path, op.prev as never);
      }
      const inverted = await tree.getPointer();
      assert.equal(inverted.toString(), prevData.toString(), 'inverting the ops yields prevData');
    }
  } else {
    assert.equal(body.since, null, 'only a first commit may omit prevData');
  }
  return { body, commitCid, commit, prevData, blockCount: car.blocks.size };
}
