// Runs the Worker with `wrangler dev` (the real workerd runtime, offline) against local origins that
// stand in for the canister gateway and the bridge.
import { test, before, after } from 'node:test';
import { until } from '../support/until.ts';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server, type IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startWorkerDev, freePort, type WorkerDev } from '../../proxy-worker/dev.ts';

const BIG = 10 * 1024 * 1024;
const CHUNK = 64 * 1024;

function bigChunk(i: number): Buffer {
  return Buffer.alloc(CHUNK, i % 251);
}
const bigDigest = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < BIG / CHUNK; i++) h.update(bigChunk(i));
  return h.digest('hex');
})();

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Waiters for the close of the bridge stand-in's connection at a given URL. */
const bridgeCloses = new Map<string, (c: { code: number; reason: string }) => void>();
let canister: Server;
let bridge: Server;
let deadPort: number;
let worker: WorkerDev;
let base: string;
const seenByCanister: { url: string; headers: IncomingMessage['headers'] }[] = [];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function startWorker(canisterUrl: string, bridgeUrls: string): Promise<{ dev: WorkerDev; base: string }> {
  const dev = await startWorkerDev({ port: await freePort(), canisterUrl, bridgeUrls });
  return { dev, base: dev.url };
}

before(async () => {
  canister = createServer(async (req, res) => {
    seenByCanister.push({ url: req.url!, headers: req.headers });
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/big') {
      res.writeHead(200, { 'content-type': 'application/vnd.ipld.car' });
      for (let i = 0; i < BIG / CHUNK; i++) {
        if (!res.write(bigChunk(i))) await new Promise((r) => res.once('drain', r));
      }
      res.end();
      return;
    }
    if (url.pathname === '/upload') {
      const h = createHash('sha256');
      let n = 0;
      for await (const part of req) {
        h.update(part as Buffer);
        n += (part as Buffer).length;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bytes: n, sha256: h.digest('hex') }));
      return;
    }
    if (url.pathname === '/gateway-too-big') {
      // What an HTTP gateway answers for a body over its limit: plain text.
      req.resume();
      res.writeHead(413, { 'content-type': 'text/plain' });
      res.end('request body too large');
      return;
    }
    if (url.pathname === '/gateway-no-route') {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>no such canister</html>');
      return;
    }
    if (url.pathname === '/xrpc/canister-error') {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'RecordNotFound', message: 'from the canister' }));
      return;
    }
    if (url.pathname === '/gateway-down') {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html>boundary node error</html>');
      return;
    }
    const body = await readBody(req);
    res.writeHead(201, { 'content-type': 'application/octet-stream', 'x-origin': 'canister', 'set-cookie': 'a=b' });
    res.end(Buffer.concat([Buffer.from(`${req.method} ${req.url}\n`), body]));
  });
  bridge = createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  const wss = new WebSocketServer({ server: bridge });
  wss.on('connection', (ws, req) => {
    ws.on('close', (code, reason) => bridgeCloses.get(req.url!)?.({ code, reason: reason.toString() }));
    ws.send(Buffer.from([0xa2, 0x01, 0x02, 0xff]));
    ws.send(`hello ${req.url}`);
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      if (!isBinary && text.startsWith('close ')) {
        const [, code, reason] = text.split(' ');
        ws.close(Number(code), reason);
        return;
      }
      ws.send(data, { binary: isBinary });
    });
  });
  const canisterPort = await listen(canister);
  const bridgePort = await listen(bridge);
  const dead = createServer();
  deadPort = await listen(dead);
  await new Promise((r) => dead.close(r));
  ({ dev: worker, base } = await startWorker(
    `http://127.0.0.1:${canisterPort}/?canisterId=aaaaa-aa`,
    `http://127.0.0.1:${deadPort},http://127.0.0.1:${bridgePort}`,
  ));
});

after(async () => {
  await worker?.stop();
  canister?.closeAllConnections();
  bridge?.closeAllConnections();
  await Promise.all([canister, bridge].map((s) => new Promise((r) => s?.close(r))));
});

test('HTTP passes method, path, query and headers; response passes byte-exact', async () => {
  const body = Buffer.from([0, 1, 2, 3, 254, 255]);
  // node:http, because fetch refuses to send hop-by-hop headers.
  const res = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
    const req = httpRequest(
      `${base}/xrpc/com.atproto.repo.getRecord?repo=did%3Aweb%3Ax&collection=a.b.c&rkey=3k2,x`,
      { method: 'POST', headers: { 'x-custom': 'kept', 'proxy-authorization': 'Basic c2VjcmV0', 'keep-alive': 'timeout=5' } },
      async (r) => resolve({ status: r.statusCode!, headers: r.headers, body: await readBody(r) }),
    );
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(res.status, 201);
  assert.equal(res.headers['x-origin'], 'canister');
  const got = res.body;
  const line = 'POST /xrpc/com.atproto.repo.getRecord?canisterId=aaaaa-aa&repo=did%3Aweb%3Ax&collection=a.b.c&rkey=3k2,x\n';
  assert.deepEqual(got, Buffer.concat([Buffer.from(line), body]));
  const seen = seenByCanister.at(-1)!;
  assert.equal(seen.headers['x-custom'], 'kept');
  assert.equal(seen.headers['proxy-authorization'], undefined, 'hop-by-hop credentials stay at the edge');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.match(String(seen.headers['x-forwarded-host']), /^127\.0\.0\.1:\d+$/);
  assert.ok(seen.headers['x-forwarded-for'] !== undefined, 'X-Forwarded-For is set');
});

test('a 10 MB body streams through unchanged, both directions', async () => {
  const res = await fetch(`${base}/big`);
  assert.equal(res.status, 200);
  const h = createHash('sha256');
  let n = 0;
  for await (const part of res.body! as unknown as AsyncIterable<Uint8Array>) {
    h.update(part);
    n += part.length;
  }
  assert.equal(n, BIG);
  assert.equal(h.digest('hex'), bigDigest);

  const upload = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < BIG / CHUNK; i++) controller.enqueue(bigChunk(i));
      controller.close();
    },
  });
  const up = await fetch(`${base}/upload`, { method: 'POST', body: upload, duplex: 'half' } as RequestInit);
  assert.deepEqual(await up.json(), { bytes: BIG, sha256: bigDigest });
});

test('CORS preflight is answered like the reference PDS', async () => {
  const res = await fetch(`${base}/xrpc/com.atproto.repo.listRecords`, {
    method: 'OPTIONS',
    headers: { origin: 'https://bsky.app', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,content-type' },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-allow-methods')!, /GET/);
  assert.equal(res.headers.get('access-control-allow-headers'), 'authorization,content-type');
  assert.equal(res.headers.get('access-control-max-age'), '86400');
});

test('subscribeRepos without an upgrade gets an XRPC error', async () => {
  const res = await fetch(`${base}/xrpc/com.atproto.sync.subscribeRepos`);
  assert.equal(res.status, 426);
  const body = (await res.json()) as { error: string; message: string };
  assert.equal(body.error, 'InvalidRequest');
  assert.match(body.message, /WebSocket/);
});

test('an edge HTML error page becomes an XRPC 502', async () => {
  const res = await fetch(`${base}/gateway-down`);
  assert.equal(res.status, 502);
  assert.equal((await res.json() as { error: string }).error, 'UpstreamFailure');
});

test('every error the Worker passes on is XRPC JSON with a fitting status; the canister\'s own pass unchanged', async () => {
  const tooBig = await fetch(`${base}/gateway-too-big`, { method: 'POST', body: new Uint8Array(4096) });
  assert.equal(tooBig.status, 413);
  assert.match(tooBig.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(((await tooBig.json()) as { error: string }).error, 'PayloadTooLarge');
  const noRoute = await fetch(`${base}/gateway-no-route`);
  assert.equal(noRoute.status, 404);
  const body = (await noRoute.json()) as { error: string; message: string };
  assert.deepEqual([body.error, typeof body.message], ['NotFound', 'string']);
  const own = await fetch(`${base}/xrpc/canister-error`);
  assert.equal(own.status, 400);
  assert.deepEqual(await own.json(), { error: 'RecordNotFound', message: 'from the canister' });
});

function openSocket(url: string): Promise<{ ws: WebSocket; messages: { data: Buffer; binary: boolean }[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const messages: { data: Buffer; binary: boolean }[] = [];
    ws.on('message', (data, binary) => messages.push({ data: data as Buffer, binary }));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('error', reject);
  });
}

test('WebSocket frames relay both ways (failing over a dead bridge) and close codes propagate', async () => {
  const wsBase = base.replace(/^http/, 'ws');
  const { ws, messages } = await openSocket(`${wsBase}/xrpc/com.atproto.sync.subscribeRepos?cursor=42`);
  await until('greeting frames', () => messages.length >= 2, { timeoutMs: 5000 });
  assert.deepEqual(messages[0], { data: Buffer.from([0xa2, 0x01, 0x02, 0xff]), binary: true });
  assert.equal(messages[1].binary, false);
  assert.equal(messages[1].data.toString(), 'hello /xrpc/com.atproto.sync.subscribeRepos?cursor=42');

  ws.send(Buffer.from([9, 8, 7]));
  ws.send('text up');
  await until('echoes', () => messages.length >= 4, { timeoutMs: 5000 });
  assert.deepEqual(messages[2], { data: Buffer.from([9, 8, 7]), binary: true });
  assert.deepEqual({ text: messages[3].data.toString(), binary: messages[3].binary }, { text: 'text up', binary: false });

  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.send('close 4001 going-away-now');
  assert.deepEqual(await closed, { code: 4001, reason: 'going-away-now' });
});

test('a client close code reaches the bridge', async () => {
  const wsBase = base.replace(/^http/, 'ws');
  const path = '/xrpc/com.atproto.sync.subscribeRepos?cursor=7';
  const upstreamClosed = new Promise<{ code: number; reason: string }>((resolve) => bridgeCloses.set(path, resolve));
  const { ws } = await openSocket(`${wsBase}${path}`);
  ws.close(4002, 'client-bye');
  assert.deepEqual(await upstreamClosed, { code: 4002, reason: 'client-bye' });
});

test('502 with an XRPC error when every origin is down', async () => {
  const down = await startWorker(`http://127.0.0.1:${deadPort}/`, `http://127.0.0.1:${deadPort}`);
  try {
    const res = await fetch(`${down.base}/xrpc/_health`);
    assert.equal(res.status, 502);
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, 'UpstreamUnavailable');
    const ws = new WebSocket(`${down.base.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos`);
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => undefined);
    });
    ws.terminate();
    assert.equal(status, 502);
  } finally {
    await down.dev.stop();
  }
});
