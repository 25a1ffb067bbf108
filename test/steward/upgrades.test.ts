// The steward's upgrade procedure (steward/src/upgrades.ts) against in-memory ports: a fake
// management canister that models one canister (module, running/stopped, snapshots, chunk store),
// a fake Canopy peer, a manual clock and timer queue. The real canisters run in steward-replica.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { IDL } from '@dfinity/candid';
import { UpgradeRequestIdl, UpgradeViewIdl } from '../../steward/src/interface.ts';
import { LEASE_NS, Steward, StewardError, type BytesMap, type Outcome, type Ports, type UpgradeRequest } from '../../steward/src/upgrades.ts';

const CANOPY = 'rrkah-fqaaa-aaaaa-aaaaq-cai';
const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

type Module = { wasm: Uint8Array; healthy: boolean; trapsOnUpgrade?: boolean };

/** One canister as the management canister sees it, plus the Canopy methods the steward calls. */
class World {
  calls: string[] = [];
  module: Module;
  state = 'v1-state';
  running = true;
  snapshots = new Map<string, { module: Module; state: string }>();
  chunks = new Map<string, Uint8Array>();
  modules = new Map<string, Module>();
  reports: { proposal_id: bigint; outcome: Outcome }[] = [];
  failReports = 0;
  hang?: { method: string; release?: () => void };
  hung?: { method: string; release?: () => void };
  nowNs = 1_000_000_000_000n;
  timers: { at: bigint; job: () => Promise<void> }[] = [];
  private snapshotSeq = 0;

  /** `target`: the canister upgraded; `store`: whose chunk store holds the modules */
  constructor(initial: Module, readonly ids = { target: CANOPY, store: CANOPY }) {
    this.module = initial;
  }

  stage(m: Module): { hash: Uint8Array; chunks: Uint8Array[] } {
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < m.wasm.length; i += 4) {
      const c = m.wasm.subarray(i, i + 4);
      this.chunks.set(hex(sha(c)), c);
      hashes.push(sha(c));
    }
    this.modules.set(hex(sha(m.wasm)), m);
    return { hash: sha(m.wasm), chunks: hashes };
  }

  private async enter(method: string): Promise<void> {
    this.calls.push(method);
    if (this.hang?.method === method) {
      const h = this.hang;
      this.hang = undefined;
      this.hung = h;
      await new Promise<void>((resolve) => (h.release = resolve));
    }
  }

  ports(): Ports {
    const w = this;
    return {
      nowNs: () => w.nowNs,
      schedule: (s, job) => void w.timers.push({ at: w.nowNs + BigInt(s) * 1_000_000_000n, job }),
      mgmt: {
        async stop(c) {
          assert.equal(c, w.ids.target);
          await w.enter('stop');
          w.running = false;
        },
        async start(c) {
          assert.equal(c, w.ids.target);
          await w.enter('start');
          w.running = true;
        },
        async listSnapshots() {
          await w.enter('list_snapshots');
          return [...w.snapshots.keys()].map((k) => new Uint8Array(Buffer.from(k, 'hex')));
        },
        async takeSnapshot(_c, replace) {
          await w.enter('take_snapshot');
          if (replace) assert.ok(w.snapshots.delete(hex(replace)), 'replaces an existing snapshot');
          assert.equal(w.snapshots.size, 0, 'at most one snapshot');
          const id = new Uint8Array([++w.snapshotSeq]);
          w.snapshots.set(hex(id), { module: w.module, state: w.state });
          return id;
        },
        async loadSnapshot(_c, id) {
          await w.enter('load_snapshot');
          const s = w.snapshots.get(hex(id));
          if (!s) throw new Error('no such snapshot');
          w.module = s.module;
          w.state = s.state;
        },
        async installChunked(a) {
          await w.enter('install');
          assert.equal(a.target, w.ids.target);
          assert.equal(a.store, w.ids.store);
          assert.equal(w.running, false, 'installs only into a stopped canister');
          const parts = a.chunkHashes.map((h) => w.chunks.get(hex(h)));
          if (parts.some((p) => !p)) throw { type: 'CallRejected', rejectCode: 4, rejectMessage: 'chunk not found' };
          const wasm = Buffer.concat(parts as Uint8Array[]);
          if (hex(sha(wasm)) !== hex(a.wasmHash)) throw { type: 'CallRejected', rejectCode: 4, rejectMessage: 'wasm_module_hash mismatch' };
          const m = w.modules.get(hex(a.wasmHash))!;
          if (m.trapsOnUpgrade) throw { type: 'CallRejected', rejectCode: 5, rejectMessage: 'canister trapped in post_upgrade' };
          w.module = m;
          w.state = `${w.state}+upgraded`;
        },
        async moduleHash() {
          await w.enter('module_hash');
          return sha(w.module.wasm);
        },
      },
      peer: {
        async healthCheck() {
          await w.enter('health_check');
          if (!w.running) throw { type: 'CallRejected', rejectCode: 5, rejectMessage: 'canister is stopped' };
          return w.module.healthy ? { ok: true, detail: `state ${w.state}` } : { ok: false, detail: 'governance store unreadable' };
        },
        async report(_c, r) {
          await w.enter('report');
          if (w.failReports > 0) {
            w.failReports--;
            throw { type: 'CallRejected', rejectCode: 2, rejectMessage: 'canister is stopping' };
          }
          w.reports.push(r);
        },
      },
    };
  }

  /** Runs due timers (moving the clock to each) until none is left within `horizonNs`. */
  async run(horizonNs = 10_000n * 1_000_000_000n): Promise<void> {
    const end = this.nowNs + horizonNs;
    for (let i = 0; i < 1000; i++) {
      this.timers.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
      const next = this.timers[0];
      if (!next || next.at > end) return;
      this.timers.shift();
      if (next.at > this.nowNs) this.nowNs = next.at;
      // A job blocked on a call that never answers (a trapped message) must not block the others;
      // every other fake call settles within microtasks, before the next macrotask.
      await Promise.race([next.job(), new Promise((r) => setImmediate(r))]);
    }
    throw new Error('timers did not settle');
  }
}

function setup(initial: Module = { wasm: new Uint8Array([0, 97, 115, 109, 1]), healthy: true }) {
  const world = new World(initial);
  const store = new Map<string, Uint8Array>();
  const map: BytesMap = { get: (k) => store.get(k), set: (k, v) => void store.set(k, v) };
  const steward = new Steward(map, world.ports());
  steward.init({ target: CANOPY });
  return { world, steward, map, reopen: () => new Steward(map, world.ports()) };
}

function request(id: bigint, staged: { hash: Uint8Array; chunks: Uint8Array[] }, arg = new Uint8Array()): UpgradeRequest {
  return { proposal_id: id, wasm_hash: staged.hash, arg, chunk_hashes: staged.chunks };
}

const phase = (v: { phase: object } | undefined) => v && Object.keys(v.phase)[0];
const v2 = { wasm: new Uint8Array([0, 97, 115, 109, 2, 2, 2, 2, 9]), healthy: true };

test('a successful upgrade: replies first, then stop, snapshot, install the voted hash, start, health, report', async () => {
  const { world, steward } = setup();
  const staged = world.stage(v2);
  const view = steward.request(CANOPY, request(7n, staged));
  assert.equal(phase(view), 'stop');
  assert.deepEqual(world.calls, [], 'nothing runs before the reply');
  // The view round-trips through its Candid type.
  IDL.encode([UpgradeViewIdl], [view]);
  await world.run();
  assert.deepEqual(world.calls, ['stop', 'list_snapshots', 'take_snapshot', 'install', 'start', 'health_check', 'module_hash', 'report']);
  const done = steward.get(7n)!;
  assert.equal(phase(done), 'done');
  assert.deepEqual(done.outcome, [{ ok: { module_hash: staged.hash } }]);
  assert.equal(done.reported, true);
  assert.deepEqual(world.reports, [{ proposal_id: 7n, outcome: { ok: { module_hash: staged.hash } } }]);
  assert.equal(hex(sha(world.module.wasm)), hex(staged.hash));
  assert.equal(world.running, true);
  assert.deepEqual(steward.configView().active, []);
});

test('post_upgrade trap (install rejected): load the snapshot, start, report failed with the reason', async () => {
  const { world, steward } = setup();
  const before = world.module;
  const staged = world.stage({ wasm: new Uint8Array([0, 97, 115, 109, 3, 3]), healthy: true, trapsOnUpgrade: true });
  steward.request(CANOPY, request(8n, staged));
  await world.run();
  assert.deepEqual(world.calls, ['stop', 'list_snapshots', 'take_snapshot', 'install', 'load_snapshot', 'start', 'report']);
  const v = steward.get(8n)!;
  const outcome = v.outcome[0] as { failed: { reason: string } };
  assert.match(outcome.failed.reason, /install_chunked_code failed: .*post_upgrade/);
  assert.equal(world.module, before);
  assert.equal(world.state, 'v1-state');
  assert.equal(world.running, true);
  assert.deepEqual(world.reports.map((r) => r.proposal_id), [8n]);
});

test('a module that installs but fails the health check is rolled back, state as before', async () => {
  const { world, steward } = setup();
  const before = world.module;
  const staged = world.stage({ wasm: new Uint8Array([0, 97, 115, 109, 4]), healthy: false });
  steward.request(CANOPY, request(9n, staged));
  await world.run();
  assert.deepEqual(world.calls, [
    'stop', 'list_snapshots', 'take_snapshot', 'install', 'start', 'health_check', 'stop', 'load_snapshot', 'start', 'report',
  ]);
  assert.match((steward.get(9n)!.outcome[0] as { failed: { reason: string } }).failed.reason, /health check failed: not healthy: governance store unreadable/);
  assert.equal(world.module, before);
  assert.equal(world.state, 'v1-state');
  assert.equal(world.running, true);
});

test('a health check that rejects (missing method, trap) is a failure too', async () => {
  const { world, steward } = setup();
  const staged = world.stage(v2);
  const ports = world.ports();
  ports.peer.healthCheck = async () => {
    world.calls.push('health_check');
    throw { type: 'CallRejected', rejectCode: 3, rejectMessage: 'Canister has no update method health_check' };
  };
  const store = new Map<string, Uint8Array>();
  const s = new Steward({ get: (k) => store.get(k), set: (k, v) => void store.set(k, v) }, ports);
  s.init({ target: CANOPY });
  s.request(CANOPY, request(10n, staged));
  await world.run();
  assert.match((s.get(10n)!.outcome[0] as { failed: { reason: string } }).failed.reason, /no update method health_check/);
  assert.equal(world.state, 'v1-state');
  void steward;
});

test('only the Canopy canister may call; refusals change nothing', async () => {
  const { world, steward } = setup();
  const staged = world.stage(v2);
  for (const caller of ['2vxsx-fae', 'aaaaa-aa', 'ryjl3-tyaaa-aaaaa-aaaba-cai']) {
    assert.throws(() => steward.request(caller, request(1n, staged)), (e: Error) => e instanceof StewardError && /only the Canopy canister .* may call/.test(e.message));
    assert.throws(() => steward.resume(caller, 1n), StewardError);
    assert.throws(() => steward.health(caller), StewardError);
  }
  assert.equal(steward.get(1n), undefined);
  assert.equal(world.timers.length, 0);
  assert.equal(steward.health(CANOPY).ok, true);
});

test('bad requests are refused with a reason and no state change', () => {
  const { world, steward } = setup();
  const staged = world.stage(v2);
  assert.throws(() => steward.request(CANOPY, { ...request(1n, staged), wasm_hash: new Uint8Array(31) }), /32-byte/);
  assert.throws(() => steward.request(CANOPY, { ...request(1n, staged), chunk_hashes: [] }), /empty/);
  assert.throws(() => steward.request(CANOPY, { ...request(1n, staged), chunk_hashes: [new Uint8Array(3)] }), /32 bytes/);
  assert.throws(() => steward.request(CANOPY, { ...request(1n, staged), chunk_hashes: Array(101).fill(staged.hash) }), /at most 100/);
  assert.equal(steward.get(1n), undefined);
  assert.equal(world.timers.length, 0);
  // The request type is what Canopy encodes.
  IDL.encode([UpgradeRequestIdl], [request(1n, staged)]);
});

test('a proposal never runs twice; one upgrade at a time', async () => {
  const { world, steward } = setup();
  const staged = world.stage(v2);
  steward.request(CANOPY, request(11n, staged));
  assert.throws(() => steward.request(CANOPY, request(12n, staged)), /upgrade of proposal 11 is still in progress/);
  const again = steward.request(CANOPY, request(11n, staged));
  assert.equal(phase(again), 'stop');
  assert.equal(world.timers.length, 1, 'the repeat schedules nothing');
  await world.run();
  const installs = world.calls.filter((c) => c === 'install').length;
  assert.equal(phase(steward.request(CANOPY, request(11n, staged))), 'done');
  assert.throws(() => steward.request(CANOPY, request(11n, world.stage(v2 /* same */) && { hash: sha(new Uint8Array([1])), chunks: staged.chunks })), /already has an upgrade/);
  await world.run();
  assert.equal(world.calls.filter((c) => c === 'install').length, installs);
  assert.equal(installs, 1);
  assert.equal(world.reports.length, 1);
  // after it finished, the next proposal may run
  steward.request(CANOPY, request(12n, world.stage({ wasm: new Uint8Array([0, 97, 115, 109, 5]), healthy: true })));
  await world.run();
  assert.equal(phase(steward.get(12n)), 'done');
});

test('the report is retried with backoff until Canopy acknowledges it', async () => {
  const { world, steward } = setup();
  world.failReports = 3;
  const staged = world.stage(v2);
  steward.request(CANOPY, request(13n, staged));
  const t0 = world.nowNs;
  await world.run();
  assert.equal(world.calls.filter((c) => c === 'report').length, 4);
  const v = steward.get(13n)!;
  assert.equal(phase(v), 'done');
  assert.equal(v.report_attempts, 3);
  assert.deepEqual(v.last_error.length, 1);
  // 2 + 4 + 8 seconds of backoff
  assert.equal(world.nowNs - t0, 14n * 1_000_000_000n);
  assert.equal(world.reports.length, 1);
});

test('a step interrupted by a trap is resumed after its lease expires, and its late result is ignored', async () => {
  const { world, steward, reopen } = setup();
  const staged = world.stage(v2);
  world.hang = { method: 'install' };
  steward.request(CANOPY, request(14n, staged));
  await world.run(1_000_000_000n);
  assert.equal(phase(steward.get(14n)), 'install');
  // The message that awaited the install trapped: its continuation never runs. Before the lease
  // expires nobody else drives it; the peer's resume is a no-op.
  const resumed = reopen(); // heap state is gone as after a trap/upgrade; stable state remains
  resumed.resume(CANOPY, 14n);
  await world.run(1_000_000_000n);
  assert.equal(world.calls.filter((c) => c === 'install').length, 1);
  world.nowNs += LEASE_NS + 1n;
  resumed.wake();
  await world.run();
  assert.equal(phase(resumed.get(14n)), 'done');
  assert.equal(world.calls.filter((c) => c === 'install').length, 2, 'the install step ran again');
  assert.equal(world.reports.length, 1);
  // The first driver's call answers late: it no longer holds the lease, so nothing happens.
  const calls = world.calls.length;
  world.hung!.release!();
  await new Promise((r) => setImmediate(r));
  assert.equal(world.calls.length, calls);
  assert.equal(phase(resumed.get(14n)), 'done');
  assert.equal(world.reports.length, 1);
});

test('an upgrade in progress continues after the steward itself restarts (post_upgrade wakes it)', async () => {
  const { world, steward, reopen } = setup();
  const staged = world.stage(v2);
  steward.request(CANOPY, request(15n, staged));
  world.timers = []; // the steward was upgraded before its timer ran: timers are gone
  const after = reopen();
  after.wake();
  await world.run();
  assert.equal(phase(after.get(15n)), 'done');
  assert.deepEqual(world.reports.map((r) => r.proposal_id), [15n]);
});

test('stop or snapshot failing: Canopy is started again, nothing loaded, failed with the reason', async () => {
  for (const failing of ['stop', 'take_snapshot'] as const) {
    const { world, steward } = setup();
    const ports = world.ports();
    const boom = async () => {
      world.calls.push(failing);
      throw { type: 'CallRejected', rejectCode: 5, rejectMessage: `${failing} refused` };
    };
    if (failing === 'stop') ports.mgmt.stop = boom;
    else ports.mgmt.takeSnapshot = boom;
    const store = new Map<string, Uint8Array>();
    const s = new Steward({ get: (k) => store.get(k), set: (k, v) => void store.set(k, v) }, ports);
    s.init({ target: CANOPY });
    s.request(CANOPY, request(20n, world.stage(v2)));
    await world.run();
    assert.equal(world.calls.includes('install'), false);
    assert.equal(world.calls.includes('load_snapshot'), false);
    assert.equal(world.calls.at(-2), 'start');
    assert.equal(world.running, true);
    assert.match((s.get(20n)!.outcome[0] as { failed: { reason: string } }).failed.reason, new RegExp(`${failing} refused`));
    void steward;
  }
});

test('a failing rollback step is retried until it succeeds', async () => {
  const { world } = setup();
  const ports = world.ports();
  let loadFailures = 2;
  const load = ports.mgmt.loadSnapshot;
  ports.mgmt.loadSnapshot = async (c, id) => {
    if (loadFailures-- > 0) {
      world.calls.push('load_snapshot');
      throw { type: 'CallRejected', rejectCode: 2, rejectMessage: 'busy' };
    }
    return load(c, id);
  };
  const store = new Map<string, Uint8Array>();
  const s = new Steward({ get: (k) => store.get(k), set: (k, v) => void store.set(k, v) }, ports);
  s.init({ target: CANOPY });
  s.request(CANOPY, request(21n, world.stage({ wasm: new Uint8Array([0, 97, 115, 109, 6]), healthy: false })));
  await world.run();
  assert.equal(world.calls.filter((c) => c === 'load_snapshot').length, 3);
  const v = s.get(21n)!;
  assert.equal(phase(v), 'done');
  assert.deepEqual(v.last_error, ['load_canister_snapshot failed: reject 2: busy']);
  assert.equal(world.state, 'v1-state');
  assert.equal(world.running, true);
});

test('the reverse flow: Canopy drives the same procedure to upgrade the steward from its own chunk store', async () => {
  const STEWARD = 'ryjl3-tyaaa-aaaaa-aaaba-cai';
  const world = new World({ wasm: new Uint8Array([0, 97, 115, 109, 7]), healthy: true }, { target: STEWARD, store: CANOPY });
  const store = new Map<string, Uint8Array>();
  const procedure = new Steward({ get: (k) => store.get(k), set: (k, v) => void store.set(k, v) }, world.ports());
  procedure.init({ target: STEWARD, store: CANOPY });
  const staged = world.stage(v2);
  procedure.enqueue(request(30n, staged));
  await world.run();
  assert.deepEqual(world.calls, ['stop', 'list_snapshots', 'take_snapshot', 'install', 'start', 'health_check', 'module_hash', 'report']);
  assert.deepEqual(procedure.get(30n)!.outcome, [{ ok: { module_hash: staged.hash } }]);
  assert.equal(hex(sha(world.module.wasm)), hex(staged.hash));
});
