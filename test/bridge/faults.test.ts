// Restarts, source failures, shutdown, keepalive, limits, health and metrics.
import test from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { MemoryEventSource, startBridge } from '../../bridge/src/index.ts';
import { backoffDelay } from '../../bridge/src/backoff.ts';
import { appendN, client, range, sleep, testBridge, TestClient } from './helpers.ts';

test('bridge restart: a client resuming from its last seq misses nothing and gets nothing twice', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 10);
  const first = await startBridge({ host: '127.0.0.1', port: 0, logLevel: 'silent', pollMinMs: 10, source });
  let firstClosed = false;
  t.after(() => (firstClosed ? undefined : first.close()));
  const a = new TestClient(first.url, 0);
  t.after(() => a.close());
  await a.waitForSeq(10);
  appendN(source, 5);
  await a.waitForSeq(15);

  const closing = first.close();
  const closed = await a.closed;
  await closing;
  firstClosed = true;
  assert.equal(closed.code, 1001, 'graceful shutdown says going away');

  appendN(source, 7); // written while no bridge runs
  const second = await testBridge(t, source);
  const resumeFrom = a.lastSeq()!;
  const b = client(t, second, resumeFrom);
  await b.waitForSeq(22);
  appendN(source, 3);
  await b.waitForSeq(25);
  const all = [...a.seqs(), ...b.seqs()];
  assert.deepEqual(all, range(1, 25));
});

test('backoff: a failing source is retried with growing delays; clients stay connected and resume', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 3);
  const bridge = await testBridge(t, source, { pollMinMs: 5, pollMaxMs: 5, errorBackoffMinMs: 200, errorBackoffMaxMs: 1000 });
  const c = client(t, bridge);
  await c.opened;
  await sleep(30);

  source.failure = new Error('canister unreachable');
  await sleep(30); // let any in-flight successful poll finish
  const callsBefore = source.calls;
  await sleep(1200);
  const failedCalls = source.calls - callsBefore;
  // Unthrottled at 5 ms this would be ~240 calls; the backoff (>= 100 ms each) allows at most 13.
  assert.ok(failedCalls >= 2 && failedCalls <= 13, `failed calls in 1.2 s: ${failedCalls}`);
  assert.ok(bridge.poller.consecutiveErrors >= 2);
  assert.ok(bridge.metrics.pollErrors.get() >= 2);

  const health = await fetch(`${bridge.httpUrl}/_health`);
  assert.equal(health.status, 503);
  const hb = await health.json();
  assert.equal(hb.canisterReachable, false);
  assert.equal(hb.status, 'degraded');
  assert.equal(bridge.hub.size(), 1, 'the client is still connected');

  appendN(source, 2);
  source.failure = null;
  await c.waitForSeq(5, 5000);
  assert.deepEqual(c.seqs(), [4, 5]);
  const ok = await (await fetch(`${bridge.httpUrl}/_health`)).json();
  assert.equal(ok.canisterReachable, true);
  assert.equal(ok.headSeq, 5);
  assert.equal(ok.lagEvents, 0);
});

test('backoff delays grow exponentially up to the ceiling, with jitter', () => {
  const hi = () => 0.999999;
  const lo = () => 0;
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 100, 1000, hi)), [100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual([1, 2, 6].map((n) => backoffDelay(n, 100, 1000, lo)), [50, 50, 50]);
});

test('a client that connects while the source is down waits, then replays', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 4);
  source.failure = new Error('down at start');
  const bridge = await startBridge({ host: '127.0.0.1', port: 0, logLevel: 'silent', source, errorBackoffMinMs: 20, errorBackoffMaxMs: 50 });
  t.after(() => bridge.close());
  const c = client(t, bridge, 2);
  await c.opened;
  await sleep(150);
  assert.deepEqual(c.seqs(), []);
  source.failure = null;
  await c.waitForSeq(4);
  assert.deepEqual(c.seqs(), [3, 4]);
});

test('max connections: further upgrades are refused with 503', async (t) => {
  const source = new MemoryEventSource();
  const bridge = await testBridge(t, source, { maxConnections: 2 });
  const a = client(t, bridge);
  const b = client(t, bridge);
  await Promise.all([a.opened, b.opened]);
  const c = client(t, bridge);
  await assert.rejects(c.opened, /HTTP 503/);
  assert.equal(bridge.metrics.rejected.get({ reason: 'max_connections' }), 1);
  a.close();
  await b.waitFor(() => bridge.hub.size() === 1, 2000, 'a to be gone');
  const d = client(t, bridge);
  await d.opened;
});

test('keepalive: a peer that stops answering pings is dropped; a healthy one is kept', async (t) => {
  const source = new MemoryEventSource();
  const bridge = await testBridge(t, source, { pingIntervalMs: 80 });
  const healthy = client(t, bridge);
  const dead = client(t, bridge);
  await Promise.all([healthy.opened, dead.opened]);
  dead.pause(); // never reads the pings, so never pongs
  await healthy.waitFor(() => bridge.metrics.deadPeers.get() === 1, 3000, 'the dead peer to be dropped');
  await healthy.waitFor(() => bridge.hub.size() === 1, 3000, 'one connection left');
  await sleep(300);
  assert.equal(bridge.hub.size(), 1, 'the healthy client survives further pings');
  appendN(source, 1);
  await healthy.waitForSeq(1);
});

test('graceful shutdown closes clients with 1001 and stops the server', async (t) => {
  const source = new MemoryEventSource();
  const bridge = await startBridge({ host: '127.0.0.1', port: 0, logLevel: 'silent', source });
  await bridge.poller.ready;
  const c = new TestClient(bridge.url);
  t.after(() => c.close());
  await c.opened;
  await bridge.close();
  const closed = await c.closed;
  assert.equal(closed.code, 1001);
  assert.equal(closed.reason, 'bridge shutting down');
  await assert.rejects(fetch(`${bridge.httpUrl}/_health`));
});

test('HTTP surface: /_health, /metrics, 426 without upgrade, 400 wrong method, 501 unknown method, 404', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 3);
  const bridge = await testBridge(t, source);
  const c = client(t, bridge, 1);
  await c.waitForSeq(3);

  const h = await fetch(`${bridge.httpUrl}/_health`);
  assert.equal(h.status, 200);
  const hb = await h.json();
  assert.equal(hb.status, 'ok');
  assert.equal(hb.canisterReachable, true);
  assert.equal(hb.headSeq, 3);
  assert.equal(hb.connections, 1);

  const m = await fetch(`${bridge.httpUrl}/metrics`);
  assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await m.text();
  for (const line of [
    /^bridge_connections 1$/m,
    /^bridge_frames_sent_total 2$/m,
    /^bridge_bytes_sent_total \d+$/m,
    /^bridge_replays_total\{kind="source"\} 1$/m,
    /^bridge_slow_consumer_drops_total 0$/m,
    /^bridge_poll_duration_seconds_count \d+$/m,
    /^bridge_poll_errors_total 0$/m,
    /^bridge_canister_head_seq 3$/m,
    /^bridge_lag_events 0$/m,
    /^process_resident_memory_bytes \d+$/m,
  ]) assert.match(text, line);

  const plain = await fetch(`${bridge.httpUrl}/xrpc/com.atproto.sync.subscribeRepos`);
  assert.equal(plain.status, 426);
  assert.equal((await plain.json()).error, 'InvalidRequest');
  // Statuses as the reference answers them: wrong method 400, unknown XRPC method 501, other paths 404.
  const post = await fetch(`${bridge.httpUrl}/xrpc/com.atproto.sync.subscribeRepos`, { method: 'POST' });
  assert.deepEqual([post.status, (await post.json()).error], [400, 'InvalidRequest']);
  const other = await fetch(`${bridge.httpUrl}/xrpc/com.atproto.sync.getRepo`);
  assert.deepEqual([other.status, (await other.json()).error], [501, 'MethodNotImplemented']);
  const page = await fetch(`${bridge.httpUrl}/favicon.ico`);
  assert.deepEqual([page.status, (await page.json()).error], [404, 'NotFound']);
});

/** Sends raw bytes and returns what the server wrote back before closing. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => socket.write(bytes));
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
  });
}

test('HTTP requests Node cannot parse get XRPC JSON errors too (malformed request line, oversized headers)', async (t) => {
  const bridge = await testBridge(t, new MemoryEventSource());
  const port = Number(new URL(bridge.httpUrl).port);
  const bodyOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
  const malformed = await rawExchange(port, 'NOT A REQUEST\r\n\r\n');
  assert.match(malformed, /^HTTP\/1\.1 400 /);
  assert.match(malformed, /content-type: application\/json/i);
  assert.equal(bodyOf(malformed).error, 'InvalidRequest');
  const huge = await rawExchange(port, `GET /_health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
  assert.match(huge, /^HTTP\/1\.1 431 /);
  assert.deepEqual(Object.keys(bodyOf(huge)).sort(), ['error', 'message']);
});

test('stateless: two instances over the same log relay identical streams', async (t) => {
  const source = new MemoryEventSource();
  appendN(source, 5);
  const one = await testBridge(t, source);
  const two = await testBridge(t, source, { ringMaxEvents: 1 });
  const a = client(t, one, 2);
  const b = client(t, two, 2);
  await Promise.all([a.opened, b.opened]);
  appendN(source, 5);
  await Promise.all([a.waitForSeq(10), b.waitForSeq(10)]);
  assert.deepEqual(a.seqs(), range(3, 10));
  assert.deepEqual(b.frames, a.frames);
});
