// Pure pieces: the replay ring, the adaptive poll interval, configuration parsing, frames.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Frame } from '@atproto/xrpc-server';
import { FrameRing } from '../../bridge/src/ring.ts';
import { Poller } from '../../bridge/src/poller.ts';
import { BridgeMetrics } from '../../bridge/src/metrics.ts';
import { createLogger } from '../../bridge/src/log.ts';
import { DEFAULTS, loadConfig } from '../../bridge/src/config.ts';
import { errorFrame, infoFrame } from '../../bridge/src/frames.ts';
import { MemoryEventSource } from '../../bridge/src/index.ts';
import type { SourceEvent } from '../../bridge/src/event-source.ts';
import { appendN, sleep } from './helpers.ts';

const ev = (seq: number, size = 10): SourceEvent => ({ seq, timeNs: 0n, frame: new Uint8Array(size) });

test('ring: contiguous coverage, eviction by count and by bytes', () => {
  const ring = new FrameRing(3, 1000);
  ring.reset(10);
  assert.ok(ring.covers(10));
  assert.ok(!ring.covers(9));
  assert.ok(!ring.covers(11));
  for (const s of [11, 12, 13]) ring.push(ev(s));
  assert.ok(ring.covers(10));
  assert.deepEqual(ring.slice(10, 10).map((e) => e.seq), [11, 12, 13]);
  ring.push(ev(14));
  assert.ok(!ring.covers(10), 'seq 11 was evicted');
  assert.ok(ring.covers(11));
  assert.deepEqual(ring.slice(11, 2).map((e) => e.seq), [12, 13]);
  assert.throws(() => ring.push(ev(14)), /not after/);

  const byBytes = new FrameRing(100, 250);
  byBytes.reset(0);
  for (let s = 1; s <= 5; s++) byBytes.push(ev(s, 100));
  assert.equal(byBytes.size(), 2);
  assert.ok(byBytes.covers(3) && !byBytes.covers(2));
  // Many pushes exercise the lazy compaction path.
  const big = new FrameRing(10, 1e9);
  big.reset(0);
  for (let s = 1; s <= 5000; s++) big.push(ev(s, 1));
  assert.deepEqual(big.slice(4995, 100).map((e) => e.seq), [4996, 4997, 4998, 4999, 5000]);
  assert.ok(big.covers(4990) && !big.covers(4989));
});

test('poller: minimum interval while events flow, growing to the maximum when idle, fast again after activity', async (t) => {
  const source = new MemoryEventSource();
  const ring = new FrameRing(100, 1e9);
  const seen: number[] = [];
  const poller = new Poller(source, ring, {
    minMs: 10, maxMs: 80, hotMs: 30, growth: 2, errorMinMs: 10, errorMaxMs: 20, pageLimit: 3, pageMaxBytes: 1e6,
  }, (evs) => seen.push(...evs.map((e) => e.seq)), () => {}, new BridgeMetrics(), createLogger('silent'));
  poller.start();
  t.after(() => poller.stop());
  await poller.ready;
  await sleep(400);
  assert.equal(poller.interval, 80, 'idle: interval reached the maximum');
  const callsIdle = source.calls;
  await sleep(400);
  const idleRate = source.calls - callsIdle; // about 400/80 = 5
  assert.ok(idleRate <= 7, `idle calls in 400 ms: ${idleRate}`);

  appendN(source, 10); // more than one page: drained back to back
  const deadline = Date.now() + 2000;
  while (seen.length < 10 && Date.now() < deadline) await sleep(5);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(poller.interval, 10, 'after activity: back to the minimum');
  const before = source.calls;
  await sleep(25);
  assert.ok(source.calls - before >= 1, 'still polling fast right after activity');
});

test('config: defaults, env vars, then flags', () => {
  assert.equal(DEFAULTS.pollMinMs, 50);
  const cfg = loadConfig(
    { BRIDGE_PORT: '9000', BRIDGE_POLL_MIN_MS: '20', BRIDGE_RELAYS: 'https://a.example, https://b.example', BRIDGE_PUBLIC_HOSTNAME: 'pds.example.com' },
    ['--port', '9100', '--poll-max-ms=400', '--canister-id', 'aaaaa-aa', '--fetch-root-key', 'false'],
  );
  assert.equal(cfg.port, 9100);
  assert.equal(cfg.pollMinMs, 20);
  assert.equal(cfg.pollMaxMs, 400);
  assert.deepEqual(cfg.relays, ['https://a.example', 'https://b.example']);
  assert.equal(cfg.canisterId, 'aaaaa-aa');
  assert.equal(cfg.fetchRootKey, false);
  assert.throws(() => loadConfig({}, ['--nope', '1']), /unknown flag/);
  assert.throws(() => loadConfig({ BRIDGE_PORT: 'x' }, []), /invalid value/);
  assert.throws(() => loadConfig({ BRIDGE_RELAYS: 'https://a.example' }, []), /PUBLIC_HOSTNAME/);
  assert.throws(() => loadConfig({}, ['--poll-min-ms', '100', '--poll-max-ms', '50']), /pollMinMs/);
});

test('frames the bridge builds decode as #info / error frames with an independent decoder', () => {
  const info = Frame.fromBytes(infoFrame('OutdatedCursor', 'm'));
  assert.ok(info.isMessage());
  assert.equal(info.isMessage() && info.type, '#info');
  assert.deepEqual(info.body, { name: 'OutdatedCursor', message: 'm' });
  const err = Frame.fromBytes(errorFrame('FutureCursor', 'x'));
  assert.ok(err.isError());
  assert.equal(err.isError() && err.code, 'FutureCursor');
  assert.deepEqual(err.header, { op: -1 });
});
