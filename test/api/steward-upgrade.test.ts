// Canopy upgrading the steward (api/steward-upgrade.ts) against fake management and steward ports:
// the order of the steps, the rollback after each kind of failure, a busy steward, a rollback step
// that fails and is retried, and resuming where an interrupted run stopped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { upgradeSteward, type ManagementPort, type StewardPorts, type StewardUpgrade } from '../../canister/src/api/steward-upgrade.ts';
import { MemoryKv } from '../../canister/src/storage/kv.ts';

const HASH = 'ab'.repeat(32);
const u: StewardUpgrade = { id: 7n, steward: 'steward', self: 'canopy', wasmHash: HASH, chunkHashes: ['cd'.repeat(32)], arg: new Uint8Array() };
const bytes = (h: string) => Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16));

function fakes(opts: { failAt?: string; failTimes?: number; busy?: boolean; healthy?: boolean; installed?: string } = {}) {
  const calls: string[] = [];
  let failures = opts.failTimes ?? 1;
  const step = async (name: string) => {
    calls.push(name);
    if (opts.failAt === name && failures-- > 0) throw new Error(`${name} refused`);
  };
  const mgmt: ManagementPort = {
    stop: () => step('stop'),
    start: () => step('start'),
    listSnapshots: async () => (await step('list'), [new Uint8Array([1])]),
    takeSnapshot: async (_c, replace) => (await step(`snapshot(replace ${replace?.[0]})`), new Uint8Array([2])),
    loadSnapshot: (_c, s) => step(`load ${s[0]}`),
    installChunked: (a) => step(`install ${a.target} from ${a.store}`),
    moduleHash: async () => (await step('status'), bytes(opts.installed ?? HASH)),
  };
  const peer: StewardPorts = {
    busy: async () => opts.busy ?? false,
    health: async () => (await step('health'), { ok: opts.healthy ?? true, detail: 'detail' }),
  };
  return { mgmt, peer, calls };
}

describe('Canopy upgrades the steward', () => {
  it('stop, snapshot (replacing the previous one), install from Canopy\'s store, start, health, module hash', async () => {
    const f = fakes();
    const out = await upgradeSteward(new MemoryKv(), f.mgmt, f.peer, u);
    assert.deepEqual(out, { ok: { rev: null, records: [], moduleHash: HASH } });
    assert.deepEqual(f.calls, ['stop', 'list', 'snapshot(replace 1)', 'install steward from canopy', 'start', 'health', 'status']);
  });

  it('a failed install loads the snapshot and starts the steward again; the reason is the failure', async () => {
    const f = fakes({ failAt: 'install steward from canopy' });
    const out = await upgradeSteward(new MemoryKv(), f.mgmt, f.peer, u);
    assert.match((out as { err: string }).err, /^install_chunked_code failed: install steward from canopy refused/);
    assert.deepEqual(f.calls.slice(3), ['install steward from canopy', 'load 2', 'start']);
  });

  it('an unhealthy module or a different installed hash: stop, load, start', async () => {
    for (const f of [fakes({ healthy: false }), fakes({ installed: 'ef'.repeat(32) })]) {
      const out = await upgradeSteward(new MemoryKv(), f.mgmt, f.peer, u);
      assert.match((out as { err: string }).err, /^health check failed: /);
      assert.deepEqual(f.calls.slice(-3), ['stop', 'load 2', 'start']);
    }
  });

  it('stop failing: the steward is started again and nothing is installed', async () => {
    const f = fakes({ failAt: 'stop' });
    const out = await upgradeSteward(new MemoryKv(), f.mgmt, f.peer, u);
    assert.match((out as { err: string }).err, /stop_canister of the steward failed/);
    assert.deepEqual(f.calls, ['stop', 'start']);
  });

  it('a busy steward (upgrading Canopy) is left alone until later', async () => {
    const f = fakes({ busy: true });
    assert.equal(await upgradeSteward(new MemoryKv(), f.mgmt, f.peer, u), null);
    assert.deepEqual(f.calls, []);
  });

  it('a failing rollback step is retried on the next run, from where it stopped', async () => {
    const kv = new MemoryKv();
    const f = fakes({ healthy: false, failAt: 'load 2', failTimes: 1 });
    assert.equal(await upgradeSteward(kv, f.mgmt, f.peer, u), null, 'not decided while the steward is not back');
    const again = fakes({ healthy: false });
    const out = await upgradeSteward(kv, again.mgmt, again.peer, u);
    assert.match((out as { err: string }).err, /^health check failed: not healthy/);
    assert.deepEqual(again.calls, ['load 2', 'start'], 'resumes at the load, nothing installed again');
  });
});
