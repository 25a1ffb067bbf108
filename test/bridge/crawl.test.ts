// requestCrawl to relays: on start, periodically, and again when no relay has been subscribed for a while.
import test from 'node:test';
import { until } from '../support/until.ts';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryEventSource } from '../../bridge/src/index.ts';
import { client, sleep, testBridge } from './helpers.ts';

type Hit = { method: string; path: string; contentType: string; body: unknown; at: number };

async function fakeRelay(t: { after(fn: () => unknown): void }, status = 200): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      let body: unknown = data;
      try {
        body = JSON.parse(data);
      } catch {
        /* keep raw */
      }
      hits.push({ method: req.method ?? '', path: req.url ?? '', contentType: String(req.headers['content-type']), body, at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{}' : JSON.stringify({ error: 'HostBanned', message: 'nope' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

test('requestCrawl on start to every relay, with the public hostname; failures are logged', async (t) => {
  const good = await fakeRelay(t);
  const banned = await fakeRelay(t, 400);
  const lines: string[] = [];
  const bridge = await testBridge(t, new MemoryEventSource(), {
    relays: [good.url, banned.url], publicHostname: 'pds.example.com', logSink: (l) => lines.push(l), logLevel: 'info',
  });
  await until('both relays to be asked', () => good.hits.length === 1 && banned.hits.length === 1, { timeoutMs: 5000 });
  assert.deepEqual(
    { method: good.hits[0].method, path: good.hits[0].path, ct: good.hits[0].contentType, body: good.hits[0].body },
    { method: 'POST', path: '/xrpc/com.atproto.sync.requestCrawl', ct: 'application/json', body: { hostname: 'pds.example.com' } },
  );
  await until('outcome metrics', () => bridge.metrics.crawlRequests.get({ relay: banned.url, result: 'error' }) === 1, { timeoutMs: 2000 });
  assert.equal(bridge.metrics.crawlRequests.get({ relay: good.url, result: 'ok' }), 1);
  const logged = lines.map((l) => JSON.parse(l));
  const okLine = logged.find((l) => l.msg === 'requestCrawl accepted');
  const badLine = logged.find((l) => l.msg === 'requestCrawl failed');
  assert.equal(okLine?.relay, good.url);
  assert.equal(okLine?.reason, 'start');
  assert.equal(badLine?.status, 400);
  assert.match(String(badLine?.error), /HostBanned/);
  for (const l of logged) {
    assert.equal(typeof l.time, 'string');
    assert.equal(l.service, 'canopy-bridge');
  }
});

test('periodic requestCrawl', async (t) => {
  const relay = await fakeRelay(t);
  await testBridge(t, new MemoryEventSource(), {
    relays: [relay.url], publicHostname: 'pds.example.com', crawlIntervalMs: 150, relayIdleMs: 3_600_000,
  });
  await until('three requests', () => relay.hits.length >= 3, { timeoutMs: 3000 });
});

test('re-requests a crawl when no relay has been subscribed for relayIdleMs, not while one is', async (t) => {
  const relay = await fakeRelay(t);
  const bridge = await testBridge(t, new MemoryEventSource(), {
    relays: [relay.url], publicHostname: 'pds.example.com', crawlIntervalMs: 3_600_000, relayIdleMs: 200,
  });
  await until('the start request', () => relay.hits.length >= 1, { timeoutMs: 3000 });
  await until('an idle re-request', () => relay.hits.length >= 2, { timeoutMs: 3000 });
  // A subscriber (the relay crawling us) arrives: no more idle re-requests while it stays.
  const sub = client(t, bridge);
  await sub.opened;
  await sleep(100);
  const count = relay.hits.length;
  await sleep(700);
  assert.equal(relay.hits.length, count, 'no re-request while subscribed');
  sub.close();
  await until('re-request after the subscriber left', () => relay.hits.length > count, { timeoutMs: 3000 });
});
