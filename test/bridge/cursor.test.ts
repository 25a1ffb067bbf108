// Cursor semantics of subscribeRepos (event-stream spec) over the in-memory EventSource.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEventSource } from '../../bridge/src/index.ts';
import { appendN, client, range, sleep, testBridge } from './helpers.ts';

test('no cursor: live events only', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 5);
  const bridge = await testBridge(t, source);
  const c = client(t, bridge);
  await c.opened;
  await sleep(60); // let the connection settle into live mode
  appendN(source, 3);
  await c.waitForSeq(8);
  assert.deepEqual(c.seqs(), [6, 7, 8]);
  assert.ok(c.frames.every((f) => f.kind === 'message' && f.type === '#identity'));
});

test('frames are relayed byte for byte', async (t) => {
  const source = new MemoryEventSource();
  const bridge = await testBridge(t, source);
  const c = client(t, bridge);
  await c.opened;
  await sleep(40);
  // An unknown message type the bridge must pass along untouched. Header {t: '#x', op: 1}, body {seq, x: h'010203'}.
  const ev = source.append((seq) => Uint8Array.from([...encodeHeader(), 0xa2, 0x63, 0x73, 0x65, 0x71, seq, 0x61, 0x78, 0x43, 1, 2, 3]));
  await c.waitForSeq(ev.seq);
  const got = c.frames.at(-1)!;
  assert.equal(got.kind, 'message');
  assert.deepEqual(got.kind === 'message' && got.bytes, ev.frame);
});

function encodeHeader(): number[] {
  // {"t": "#x", "op": 1} in canonical DAG-CBOR order (shorter key first: "t" < "op").
  return [0xa2, 0x61, 0x74, 0x62, 0x23, 0x78, 0x62, 0x6f, 0x70, 0x01];
}

test('cursor inside the window (from the ring): replay after it, then live, no gap or duplicate', async (t) => {
  const source = new MemoryEventSource();
  const bridge = await testBridge(t, source, { pageLimit: 4 }); // replay in several ring slices
  appendN(source, 20);
  const probe = client(t, bridge);
  await probe.opened;
  await sleep(30);
  appendN(source, 1); // 21
  await probe.waitForSeq(21);
  const before = bridge.metrics.replays.get({ kind: 'ring' });
  const c = client(t, bridge, 15);
  await c.waitForSeq(21);
  assert.equal(bridge.metrics.replays.get({ kind: 'ring' }), before + 1);
  appendN(source, 4);
  await c.waitForSeq(25);
  assert.deepEqual(c.seqs(), range(16, 25));
});

test('cursor inside the window (paged from the source) with events arriving during the replay: exact seam', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 300);
  // Tiny ring and pages so the replay takes many source round trips while the poller keeps publishing.
  const bridge = await testBridge(t, source, { ringMaxEvents: 5, pageLimit: 7 });
  source.latencyMs = 2;
  let producing = true;
  const producer = (async () => {
    while (producing) {
      appendN(source, 3);
      await sleep(3);
    }
  })();
  const c = client(t, bridge, 42);
  await c.waitFor((cl) => (cl.lastSeq() ?? 0) > 330, 10_000, 'replay to pass the original head');
  producing = false;
  await producer;
  const head = source.headSeq();
  await c.waitForSeq(head, 10_000);
  await sleep(100);
  assert.deepEqual(c.seqs(), range(43, head));
  assert.equal(bridge.metrics.replays.get({ kind: 'source' }), 1);
  assert.ok(c.frames.every((f) => f.kind === 'message' && f.type === '#identity'), 'no #info for an in-window cursor');
});

test('replay that runs ahead of the shared poller: the later broadcast of the same events is not sent twice', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 50);
  // A slow poller: it knows head 50 and will not look again for a while.
  const bridge = await testBridge(t, source, { pollMinMs: 400, pollMaxMs: 400, pollHotMs: 0 });
  appendN(source, 20); // 51..70, not yet seen by the poller
  const c = client(t, bridge, 45);
  await c.waitForSeq(70);
  assert.equal(bridge.poller.lastSeq < 70, true, 'the client got ahead of the poller');
  await c.waitFor(() => bridge.poller.lastSeq >= 70, 3000, 'the poller to catch up');
  appendN(source, 5);
  await c.waitForSeq(75, 3000);
  await sleep(50);
  assert.deepEqual(c.seqs(), range(46, 75));
});

test('cursor equal to the head: nothing replayed, then live', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 10);
  const bridge = await testBridge(t, source);
  const c = client(t, bridge, 10);
  await c.opened;
  await sleep(60);
  assert.deepEqual(c.seqs(), []);
  appendN(source, 2);
  await c.waitForSeq(12);
  assert.deepEqual(c.seqs(), [11, 12]);
});

test('cursor 0 on a log that never pruned: the whole window without #info, then live', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 12);
  const bridge = await testBridge(t, source);
  const c = client(t, bridge, 0);
  await c.waitForSeq(12);
  appendN(source, 1);
  await c.waitForSeq(13);
  assert.deepEqual(c.seqs(), range(1, 13));
  assert.ok(c.frames.every((f) => f.kind === 'message' && f.type === '#identity'), 'no #info: nothing was missed');
});

test('cursor 0 after events were pruned: #info OutdatedCursor, then the retained window', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 12);
  source.trimBefore(5);
  const bridge = await testBridge(t, source);
  const c = client(t, bridge, 0);
  await c.waitForSeq(12);
  const first = c.frames[0];
  assert.equal(first.kind === 'message' && first.type, '#info');
  assert.equal(first.kind === 'message' && first.body.name, 'OutdatedCursor');
  assert.deepEqual(c.seqs(), range(5, 12));
  assert.equal(c.frames.filter((f) => f.kind === 'message' && f.type === '#info').length, 1);
});

test('cursor older than the window: #info OutdatedCursor, then from the oldest retained event', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 30);
  source.trimBefore(11);
  const bridge = await testBridge(t, source);
  const c = client(t, bridge, 4);
  await c.waitForSeq(30);
  assert.equal(c.frames[0].kind === 'message' && c.frames[0].body.name, 'OutdatedCursor');
  assert.deepEqual(c.seqs(), range(11, 30));
  // The cursor just before the oldest retained event is inside the window: no #info.
  const d = client(t, bridge, 10);
  await d.waitForSeq(30);
  assert.deepEqual(d.seqs(), range(11, 30));
  assert.ok(d.frames.every((f) => f.kind === 'message' && f.type === '#identity'));
});

test('cursor ahead of the head: FutureCursor error frame, then close', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 5);
  const bridge = await testBridge(t, source);
  const c = client(t, bridge, 6);
  const closed = await c.closed;
  assert.deepEqual(c.frames, [{ kind: 'error', error: 'FutureCursor', message: 'Cursor 6 is ahead of the stream head 5' }]);
  assert.equal(closed.code, 1008);
});

test('malformed cursor: the upgrade is refused with 400', async (t) => {
  const source = new MemoryEventSource();
  const bridge = await testBridge(t, source);
  for (const bad of ['-1', 'abc', '1.5', '99999999999999999999']) {
    const c = client(t, bridge, bad);
    await assert.rejects(c.opened, /HTTP 400/);
  }
});
