// Per-connection buffered-bytes budget: a client that stops reading is cut off with ConsumerTooSlow while the
// others keep receiving every frame.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEventSource } from '../../bridge/src/index.ts';
import { appendN, client, range, sleep, testBridge } from './helpers.ts';

test('a slow consumer is cut off with ConsumerTooSlow while a fast one keeps receiving', async (t) => {
  const source = new MemoryEventSource();
  const bridge = await testBridge(t, source, { bufferBudgetBytes: 256 * 1024, shutdownGraceMs: 10_000 });
  const fast = client(t, bridge);
  const slow = client(t, bridge);
  await Promise.all([fast.opened, slow.opened]);
  await sleep(50);
  slow.pause();
  // ~32 KB frames; far more than the kernel socket buffers plus the 256 KB budget.
  let produced = 0;
  const deadline = Date.now() + 20_000;
  while (bridge.metrics.slowDrops.get() === 0 && Date.now() < deadline) {
    appendN(source, 20, 32 * 1024);
    produced += 20;
    await sleep(15);
  }
  assert.equal(bridge.metrics.slowDrops.get(), 1, 'exactly the slow client was dropped');
  appendN(source, 10, 1024);
  produced += 10;
  await fast.waitForSeq(produced, 20_000);
  assert.deepEqual(fast.seqs(), range(1, produced), 'the fast client got every frame, in order');

  // Once the slow client reads again it finds, after what was buffered, the error frame and the close.
  (slow.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
  const closed = await slow.closed;
  const last = slow.frames.at(-1);
  assert.deepEqual(last, { kind: 'error', error: 'ConsumerTooSlow', message: 'Stream consumer too slow' });
  assert.equal(closed.code, 1008);
  assert.ok(slow.seqs().length < produced);
  assert.deepEqual(slow.seqs(), range(1, slow.seqs().length), 'what it did get had no gap');
  await fast.waitFor(() => bridge.hub.size() === 1, 5000, 'only the fast client to remain');
});

test('a replaying client is paced, not dropped, when it reads slowly', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 200, 16 * 1024); // ~3.2 MB of history
  const bridge = await testBridge(t, source, { bufferBudgetBytes: 64 * 1024, replayHighWaterBytes: 64 * 1024, pageLimit: 50 });
  const c = client(t, bridge, 0);
  await c.opened;
  c.pause();
  await sleep(300);
  (c.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
  await c.waitForSeq(200, 20_000);
  assert.deepEqual(c.seqs(), range(1, 200));
  assert.equal(bridge.metrics.slowDrops.get(), 0);
});
