// Cost of one single-record commit as the repo grows (1,000 / 10,000 / 100,000 records):
// sha-256 calls and bytes hashed (hashing dominates the canister's instruction cost), blocks
// written, diff size, and throughput in Node. Expect growth with log4(n), not n.
import { encodeBlock, hashCounter } from '../canister/src/atproto/cbor.ts';
import { LocalSigner } from '../canister/src/atproto/crypto.ts';
import { tidFromTime } from '../canister/src/atproto/syntax/index.ts';
import { BlockMap } from '../canister/src/repo/block-map.ts';
import { signedCommitBlock } from '../canister/src/repo/commit.ts';
import { Mst } from '../canister/src/repo/mst.ts';
import { finishCommit, prepareCommit, type RepoHead, type WriteOp } from '../canister/src/repo/writes.ts';

const DID = 'did:plc:benchbenchbenchbenchbenc';
const COLLECTIONS = ['app.bsky.feed.post', 'app.bsky.feed.like', 'app.bsky.graph.follow', 'app.bsky.feed.repost'];

function record(collection: string, i: number): Record<string, unknown> {
  return { $type: collection, text: `benchmark record number ${i}`, createdAt: new Date(1_700_000_000_000 + i * 1000).toISOString() };
}

/** A repo of n records (TID keys spread over a few collections), built in one MST session. */
function buildRepo(n: number, startMicros: number): { store: BlockMap; head: RepoHead; micros: number; paths: string[] } {
  const store = new BlockMap();
  const mst = Mst.create(store);
  let micros = startMicros;
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    micros += 1000 + (i % 7);
    const collection = COLLECTIONS[i % COLLECTIONS.length];
    const block = encodeBlock(record(collection, i));
    store.set(block.cid, block.bytes);
    paths.push(`${collection}/${tidFromTime(micros, 3)}`);
    mst.add(paths[i], block.cid);
  }
  const data = mst.finalize();
  store.addAll(mst.newBlocks);
  micros += 1000;
  const rev = tidFromTime(micros, 0);
  const unsigned = { did: DID, version: 3 as const, data, rev, prev: null };
  const { cid, bytes } = signedCommitBlock(unsigned, new Uint8Array(64));
  store.set(cid, bytes);
  return { store, head: { commitCid: cid, data, rev }, micros, paths };
}

type Sample = { calls: number; bytes: number; blocks: number; diffBytes: number; eventBlocks: number };

function commitOnce(store: BlockMap, head: RepoHead, writes: WriteOp[], rev: string, signer: LocalSigner): { head: RepoHead; sample: Sample } {
  const calls0 = hashCounter.calls;
  const bytes0 = hashCounter.bytes;
  const prepared = prepareCommit(store, head, DID, writes, rev);
  const sig = signer.signSync(prepared.digest); // noble's own sha-256 (HMAC-DRBG) is not counted: the canister signs with threshold ECDSA
  const result = finishCommit(prepared, sig);
  const sample = {
    calls: hashCounter.calls - calls0,
    bytes: hashCounter.bytes - bytes0,
    blocks: result.newBlocks.size,
    diffBytes: prepared.diffBytes,
    eventBlocks: result.eventBlocks.size,
  };
  store.addAll(result.newBlocks);
  for (const cid of result.removedNodeCids) store.delete(cid);
  return { head: result.head, sample };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export default async function bench(): Promise<void> {
  const signer = new LocalSigner(new Uint8Array(32).fill(9));
  const rows: string[][] = [];
  // The first size runs twice: the first pass only warms up the JIT.
  for (const [round, n] of [1_000, 1_000, 10_000, 100_000].entries()) {
    const t0 = performance.now();
    // Distinct time ranges per round, so no key depth is already cached from an earlier round.
    const repo = buildRepo(n, 1_700_000_000_000_000 + round * 10_000_000_000_000);
    const buildMs = performance.now() - t0;
    let { head, micros } = repo;
    const store = repo.store;
    const samples: { append: Sample[]; update: Sample[] } = { append: [], update: [] };
    const COMMITS = 100;
    const t1 = performance.now();
    for (let i = 0; i < COMMITS; i++) {
      micros += 1000;
      const rkey = tidFromTime(micros, 5);
      const rev = tidFromTime(micros, 0);
      // Alternate a typical append (new post, newest TID) with an update at a random place.
      let writes: WriteOp[];
      let kind: 'append' | 'update';
      if (i % 2 === 0) {
        kind = 'append';
        writes = [{ action: 'create', collection: 'app.bsky.feed.post', rkey, record: record('app.bsky.feed.post', n + i) }];
      } else {
        kind = 'update';
        const [collection, key] = repo.paths[(i * 7919) % n].split('/');
        writes = [{ action: 'update', collection, rkey: key, record: record(collection, -i) }];
      }
      const out = commitOnce(store, head, writes, rev, signer);
      head = out.head;
      samples[kind].push(out.sample);
    }
    const commitMs = (performance.now() - t1) / COMMITS;
    // Batch throughput: 200-record commits.
    const t2 = performance.now();
    const BATCHES = 5;
    for (let b = 0; b < BATCHES; b++) {
      const writes: WriteOp[] = [];
      for (let j = 0; j < 200; j++) {
        micros += 1000;
        writes.push({ action: 'create', collection: 'app.bsky.feed.like', rkey: tidFromTime(micros, 6), record: record('app.bsky.feed.like', j) });
      }
      micros += 1000;
      head = commitOnce(store, head, writes, tidFromTime(micros, 0), signer).head;
    }
    const batchRate = (BATCHES * 200) / ((performance.now() - t2) / 1000);
    if (round === 0) continue;
    for (const kind of ['append', 'update'] as const) {
      const s = samples[kind];
      rows.push([
        n.toLocaleString('en-US'),
        kind,
        mean(s.map((x) => x.calls)).toFixed(1),
        mean(s.map((x) => x.bytes)).toFixed(0),
        mean(s.map((x) => x.blocks)).toFixed(1),
        mean(s.map((x) => x.eventBlocks)).toFixed(1),
        mean(s.map((x) => x.diffBytes)).toFixed(0),
        kind === 'append' ? (1000 / commitMs).toFixed(0) : '',
        kind === 'append' ? batchRate.toFixed(0) : '',
        kind === 'append' ? ((n / buildMs) * 1000).toFixed(0) : '',
      ]);
    }
  }
  const header = ['records', 'commit', 'sha256 calls', 'bytes hashed', 'blocks written', 'event blocks', 'diff bytes', '1-rec commits/s', 'records/s (200/commit)', 'bulk build rec/s'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log('single-record commit cost (mean of 50 appends / 50 random updates; signing with noble in Node)');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
