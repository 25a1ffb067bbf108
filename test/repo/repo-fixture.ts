// Shared setup for the repo tests: an in-memory repo driven through prepareCommit /
// finishCommit with a local secp256k1 signer, plus deterministic random helpers.
import { LocalSigner } from '../../canister/src/atproto/crypto.ts';
import { tidFromTime } from '../../canister/src/atproto/syntax/index.ts';
import { BlockMap } from '../../canister/src/repo/block-map.ts';
import { type CommitResult, finishCommit, prepareCommit, type RepoHead, type WriteOp } from '../../canister/src/repo/writes.ts';

export const DID = 'did:plc:testrepo2cxvuntu7ai3ka5';

export class TestRepo {
  readonly store = new BlockMap();
  head: RepoHead | null = null;
  readonly signer = new LocalSigner(new Uint8Array(32).fill(7));
  private micros = 1_700_000_000_000_000;

  nextRev(): string {
    this.micros += 1000;
    return tidFromTime(this.micros, 1);
  }

  commit(writes: WriteOp[]): CommitResult {
    const prepared = prepareCommit(this.store, this.head, DID, writes, this.nextRev());
    const result = finishCommit(prepared, this.signer.signSync(prepared.digest));
    this.store.addAll(result.newBlocks);
    for (const cid of result.removedNodeCids) this.store.delete(cid);
    this.head = result.head;
    return result;
  }

  didKey(): string {
    return this.signer.didKey();
  }
}

export function post(text: string, i = 0): Record<string, unknown> {
  return { $type: 'app.bsky.feed.post', text, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() };
}

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(arr: T[], rand: () => number): T[] {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [arr[i], arr[j]] = [arr[j], arr[i]];
  }
  return arr;
}

const COLLECTIONS = ['app.bsky.feed.like', 'app.bsky.feed.post', 'app.bsky.graph.follow', 'com.example.thing'];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Distinct random repo paths across a few collections (TID-like and arbitrary record keys). */
export function randomPaths(n: number, rand: () => number): string[] {
  const out = new Set<string>();
  while (out.size < n) {
    const coll = COLLECTIONS[Math.floor(rand() * COLLECTIONS.length)];
    const len = rand() < 0.8 ? 13 : 1 + Math.floor(rand() * 20);
    let rkey = '';
    for (let i = 0; i < len; i++) rkey += ALPHABET[Math.floor(rand() * ALPHABET.length)];
    out.add(`${coll}/${rkey}`);
  }
  return [...out];
}
