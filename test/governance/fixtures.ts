// Shared set-up for the governance tests: a fake canister environment, principals, a clock.
import { Principal } from '@dfinity/principal';
import { cidForRaw } from '../../canister/src/atproto/cbor.ts';
import { Governance } from '../../canister/src/governance/governance.ts';
import type { GovernanceEnv, GovernanceInit, Rules } from '../../canister/src/governance/types.ts';
import { MemoryKv, type KvStore } from '../../canister/src/storage/kv.ts';

export const SEC = 1_000_000_000n;
export const MIN = 60n * SEC;
export const HOUR = 60n * MIN;
export const DAY = 24n * HOUR;
/** 2026-01-01T00:00:00Z in ns. */
export const T0 = 1_767_225_600n * SEC;

export const principal = (n: number): string => Principal.fromUint8Array(Uint8Array.of(n, 7, 7, 1)).toText();
export const [ALICE, BOB, CAROL, DAVE, EVE] = [1, 2, 3, 4, 5].map(principal) as [string, string, string, string, string];
export const ANON = '2vxsx-fae';

export const DID = 'did:web:localhost%3A2583';
export const HANDLE = 'canopy.test';

export type FakeEnv = GovernanceEnv & { blobs: Map<string, { mimeType: string; size: number }>; wakes: bigint[] };

export function fakeEnv(): FakeEnv {
  const blobs = new Map<string, { mimeType: string; size: number }>();
  const wakes: bigint[] = [];
  return {
    blobs, wakes,
    did: () => DID,
    handle: () => HANDLE,
    blob: (cid) => blobs.get(cid),
    wake: (at) => void wakes.push(at),
  };
}

/** Registers a fake uploaded blob and returns its CID text. */
export function addBlob(env: FakeEnv, seed: string, mimeType = 'image/png', size = 1000): string {
  const cid = cidForRaw(new TextEncoder().encode(seed)).toString();
  env.blobs.set(cid, { mimeType, size });
  return cid;
}

export const RULES: Rules = { votingPeriodNs: DAY, quorumBps: 5000, thresholdBps: 5000 };

export function setup(opts: { members?: [string, bigint][]; rules?: Rules; delegates?: GovernanceInit['delegates'] } = {}) {
  const kv = new MemoryKv();
  const env = fakeEnv();
  const gov = new Governance(kv, env);
  const members = opts.members ?? [[ALICE, 1n], [BOB, 1n], [CAROL, 1n]];
  gov.init({ members: members.map(([principal, power]) => ({ principal, power })), rules: opts.rules ?? RULES, delegates: opts.delegates }, T0);
  return { kv, env, gov };
}

/** Every key and value in the store, for "nothing changed" assertions. */
export function dump(kv: KvStore): string[] {
  return kv.range({ prefix: '', limit: Number.MAX_SAFE_INTEGER }).map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`);
}

export const postAction = (text: string) => ({ kind: 'post' as const, post: { text } });

import assert from 'node:assert/strict';
import { GovernanceError } from '../../canister/src/governance/types.ts';

/** Asserts `fn` is refused with a GovernanceError matching `reason` and the store is byte-for-byte unchanged. */
export function assertRefused(kv: KvStore, fn: () => unknown, reason: RegExp): void {
  const before = dump(kv);
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GovernanceError, `expected GovernanceError, got ${String(e)}`);
    assert.match((e as Error).message, reason);
    return true;
  });
  assert.deepEqual(dump(kv), before, 'a refusal must not change state');
}
