import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TidClock, tidFromTime, tidTimestamp, tidClockId, isValidTid } from '../../canister/src/atproto/syntax/index.ts';
import { TID as ReferenceTid } from '@atproto/common-web';

test('tidFromTime / tidTimestamp round-trip and agree with @atproto/common-web', () => {
  for (const [micros, clock] of [[0, 0], [1, 1023], [1_700_000_000_123_456, 7], [2 ** 53 - 1, 512]] as const) {
    const tid = tidFromTime(micros, clock);
    assert.ok(isValidTid(tid), tid);
    assert.equal(tidTimestamp(tid), micros);
    assert.equal(tidClockId(tid), clock);
    // the reference does not zero-pad tiny timestamps, so compare on realistic ones only
    if (micros > 2 ** 50) assert.equal(tid, ReferenceTid.fromTime(micros, clock).toString());
  }
  assert.throws(() => tidFromTime(-1, 0), RangeError);
  assert.throws(() => tidFromTime(0, 1024), RangeError);
});

test('TidClock never repeats or goes backwards, even when the wall clock does', () => {
  const clock = new TidClock({ lastMicros: 0, clockId: 3 });
  const times = [1000, 1000, 999, 5, 2000, 2000, 1500, 3000];
  const tids = times.map((t) => clock.next(t));
  for (let i = 1; i < tids.length; i++) assert.ok(tids[i]! > tids[i - 1]!, `${tids[i]} > ${tids[i - 1]}`);
  assert.equal(new Set(tids).size, tids.length);
  assert.equal(tidTimestamp(tids[0]!), 1000);
  assert.equal(tidTimestamp(tids[4]!), 2000);
  assert.equal(tidTimestamp(tids[7]!), 3000);
});

test('TidClock state survives serialization (canister upgrade)', () => {
  const a = new TidClock({ lastMicros: 0, clockId: 9 });
  const last = a.next(5_000_000);
  const restored = new TidClock(JSON.parse(JSON.stringify(a.state())));
  const next = restored.next(4_000_000); // clock stepped back across the restart
  assert.ok(next > last);
  assert.equal(tidClockId(next), 9);
  const b = new TidClock();
  b.observe(next);
  assert.ok(b.next(0) > next);
});
