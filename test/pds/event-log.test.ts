// Event log paging and retention (contracts.md section 3), over MemoryKv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from '../../canister/src/storage/kv.ts';
import { EventLog } from '../../canister/src/pds/event-log.ts';

const HOUR = 3600n * 1_000_000_000n;
const frame = (n: number) => (seq: bigint) => new Uint8Array(n).fill(Number(seq % 251n));

test('empty log: head 0, oldest 0, no events', () => {
  const log = new EventLog(new MemoryKv());
  assert.deepEqual(log.page(0n, 10, 1000), { events: [], head: 0n, oldest: 0n });
});

test('seqs start at 1, strictly increase; paging by after/limit/max_bytes, always at least one event', () => {
  const log = new EventLog(new MemoryKv());
  for (let i = 0; i < 10; i++) assert.equal(log.append(BigInt(i) * 1000n, frame(100)), BigInt(i + 1));
  let p = log.page(0n, 3, 1_000_000);
  assert.deepEqual(p.events.map((e) => e.seq), [1n, 2n, 3n]);
  assert.equal(p.head, 10n);
  assert.equal(p.oldest, 1n);
  p = log.page(3n, 100, 250);
  assert.deepEqual(p.events.map((e) => e.seq), [4n, 5n], 'stops before exceeding max_bytes');
  p = log.page(5n, 100, 10);
  assert.deepEqual(p.events.map((e) => e.seq), [6n], 'one event even if it alone exceeds max_bytes');
  p = log.page(10n, 100, 1000);
  assert.deepEqual(p.events, []);
  assert.equal(p.head, 10n);
  const e = log.get(7n)!;
  assert.equal(e.timeNs, 6000n);
  assert.equal(e.frame[0], 7);
});

test('frames embed the seq and ISO time they are given', () => {
  const log = new EventLog(new MemoryKv());
  let seen: [bigint, string] | null = null;
  log.append(1_700_000_000_123_000_000n, (seq, time) => {
    seen = [seq, time];
    return new Uint8Array([1]);
  });
  assert.deepEqual(seen, [1n, '2023-11-14T22:13:20.123Z']);
});

test('retention keeps the last N events or the last T, whichever keeps more', () => {
  const kv = new MemoryKv();
  const log = new EventLog(kv, () => ({ minEvents: 5, minAgeNs: 2n * HOUR }));
  // 20 events one hour apart: at t=19h only events younger than 2h (t=18h,19h... i.e. seq 18..20) are young,
  // but the last 5 (16..20) are kept by count.
  for (let i = 0; i < 20; i++) log.append(BigInt(i) * HOUR, frame(10));
  assert.equal(log.oldest(), 16n);
  assert.equal(log.head(), 20n);
  const p = log.page(0n, 100, 1_000_000);
  assert.deepEqual(p.events.map((e) => e.seq), [16n, 17n, 18n, 19n, 20n], 'a cursor older than retention starts at oldest');
  assert.equal(kv.range({ prefix: 'e/', limit: 100 }).length, 5, 'pruned events are deleted');

  // A burst within the age window is kept whole even beyond N.
  const log2 = new EventLog(new MemoryKv(), () => ({ minEvents: 5, minAgeNs: 2n * HOUR }));
  for (let i = 0; i < 50; i++) log2.append(100n * HOUR + BigInt(i), frame(10));
  assert.equal(log2.oldest(), 1n);
  // Later, once they age out, pruning (bounded per call) brings it back to N.
  log2.append(200n * HOUR, frame(10));
  assert.ok(log2.oldest() > 1n);
  while (log2.prune(200n * HOUR) > 0);
  assert.equal(log2.oldest(), 47n);
  assert.equal(log2.head(), 51n);
});

test('state lives in the store: a new EventLog over the same kv continues the sequence', () => {
  const kv = new MemoryKv();
  const a = new EventLog(kv);
  a.append(1n, frame(5));
  a.append(2n, frame(5));
  const b = new EventLog(kv);
  assert.equal(b.append(3n, frame(5)), 3n);
  assert.equal(b.page(0n, 10, 1000).events.length, 3);
});
