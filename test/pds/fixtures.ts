// Shared fixtures for the plain-Node canister tests: an in-memory Pds with local signers.
import { LocalSigner, type Signer } from '../../canister/src/atproto/crypto.ts';
import { MemoryKv } from '../../canister/src/storage/kv.ts';
import { MemoryBlockStore } from '../../canister/src/storage/block-store.ts';
import { Pds, type PdsInit } from '../../canister/src/pds/pds.ts';
import { tidFromTime } from '../../canister/src/atproto/syntax/index.ts';

const rkeys = new Map<string, string>();
/** A valid TID record key for a readable test name; names used earlier get smaller TIDs. */
export function rk(name: string): string {
  let t = rkeys.get(name);
  if (!t) rkeys.set(name, (t = tidFromTime(1_700_000_000_000_000 + rkeys.size, 7)));
  return t;
}

/** A signer whose signatures wait until the test releases them (to hold a commit "in flight"). */
export class GatedSigner implements Signer {
  private waiting: (() => void)[] = [];
  gated = false;
  signs = 0;
  constructor(readonly inner: LocalSigner) {}
  publicKey() {
    return this.inner.publicKey();
  }
  async sign(digest: Uint8Array) {
    this.signs++;
    if (this.gated) await new Promise<void>((r) => this.waiting.push(r));
    return this.inner.sign(digest);
  }
  pending() {
    return this.waiting.length;
  }
  /** Releases only the most recent pending signature. */
  releaseLast() {
    this.waiting.pop()?.();
  }
  releaseAll() {
    const w = this.waiting;
    this.waiting = [];
    for (const r of w) r();
  }
}

export const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

export function memoryPds(opts: { clock?: { ns: bigint }; init?: Partial<PdsInit> } = {}) {
  const clock = opts.clock ?? { ns: 1_700_000_000_000_000_000n };
  const signingKey = LocalSigner.generate();
  const rotationKey = LocalSigner.generate();
  const signing = new GatedSigner(signingKey);
  const storage = { kv: new MemoryKv(), blocks: new MemoryBlockStore(), events: new MemoryKv(), blobData: new MemoryKv() };
  const env = {
    signing,
    rotation: rotationKey,
    nowNs: () => clock.ns,
    yieldTurn,
  };
  const pds = new Pds(storage, env);
  pds.init({
    config: { ecdsaKeyName: 'dfx_test_key' },
    didMethod: { web: { hostname: 'localhost:2583' } },
    handle: 'community.test',
    pdsUrl: 'http://localhost:2583',
    ...opts.init,
  });
  return { pds, storage, env, signing, signingKey, rotationKey, clock, reopen: () => new Pds(storage, env) };
}

export const post = (text: string, createdAt = '2026-01-01T00:00:00.000Z') => ({ $type: 'app.bsky.feed.post', text, createdAt });
