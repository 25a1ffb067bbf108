// The cycle balance over time: burn rate since the last top-up, days left, and the low-balance
// warning (once a day into the audit log).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cyclesReport, LOW_BALANCE, sampleCycles } from '../../canister/src/api/cycles.ts';
import { MemoryKv } from '../../canister/src/storage/kv.ts';

const MIN = 60n * 1_000_000_000n;
const T0 = 1_767_225_600_000_000_000n;
const T = 10n ** 12n;

describe('cycles', () => {
  it('has no burn rate before an hour of samples, then the rate since the last top-up', () => {
    const kv = new MemoryKv();
    assert.equal(sampleCycles(kv, T0, 100n * T), null);
    assert.equal(cyclesReport(kv, T0 + 30n * MIN, 100n * T - T / 48n).burnPerDay, null);
    // 1 T per day: 10 minutes cost 1/144 T
    let balance = 100n * T;
    for (let i = 1n; i <= 12n; i++) {
      balance -= T / 144n;
      assert.equal(sampleCycles(kv, T0 + i * 10n * MIN, balance), null);
    }
    const r = cyclesReport(kv, T0 + 120n * MIN, balance);
    assert.ok(r.burnPerDay! > (T * 99n) / 100n && r.burnPerDay! <= T, `burn ${r.burnPerDay}`);
    assert.ok(r.daysLeft! > 98 && r.daysLeft! < 101, `days ${r.daysLeft}`);
    assert.equal(r.warning, null);
    // a top-up starts a new window: no rate until another hour has passed
    sampleCycles(kv, T0 + 130n * MIN, balance + 50n * T);
    assert.equal(cyclesReport(kv, T0 + 140n * MIN, balance + 50n * T - T / 144n).burnPerDay, null);
  });

  it('warns when the cycles would last fewer than the warning days, or the balance is low, once a day', () => {
    const kv = new MemoryKv();
    let balance = 20n * T;
    sampleCycles(kv, T0, balance);
    const warnings: string[] = [];
    const at: bigint[] = [];
    for (let i = 1n; i <= 200n; i++) {
      balance -= T / 144n; // 1 T a day: 20 days left
      const w = sampleCycles(kv, T0 + i * 10n * MIN, balance);
      if (w) {
        warnings.push(w);
        at.push(i);
      }
    }
    // from the first hour on (a rate needs an hour of samples), again a day later: 33 hours, two warnings
    assert.deepEqual(at, [6n, 150n]);
    assert.match(warnings[0]!, /last 1\d\.\d days; top up/);
    assert.match(cyclesReport(kv, T0 + 2000n * MIN, LOW_BALANCE - 1n).warning!, /below/);
  });
});
