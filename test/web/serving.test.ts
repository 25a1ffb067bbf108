// How the Worker serves the web app (wrangler dev, the real workerd runtime): the built app as static
// assets under a strict CSP, /api/ forwarded to the IC host for the app's agent, /app-config.json
// naming the canister, and every other path still reaching the canister.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startWorkerDev, freePort, type WorkerDev } from '../../proxy-worker/dev.ts';

const CANISTER_ID = 'uxrrr-q7777-77774-qaaaq-cai';
let origin: Server;
let dev: WorkerDev;
const seen: { method: string; url: string; body: Buffer }[] = [];

before(async () => {
  origin = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/cbor' }).end('origin');
    });
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const host = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  dev = await startWorkerDev({ port: await freePort(), canisterUrl: `${host}/?canisterId=${CANISTER_ID}`, bridgeUrls: 'http://127.0.0.1:9' });
}, { timeout: 120_000 });

after(async () => {
  await dev?.stop();
  origin?.close();
});

test('/ serves the app under a strict Content-Security-Policy', async () => {
  const res = await fetch(`${dev.url}/`);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /<script type="module" src="\/app\.js"><\/script>/);
  const csp = res.headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
  }
  assert.ok(!/unsafe-inline|unsafe-eval|https?:/.test(csp), `no inline code and no other origin: ${csp}`);
  const js = await fetch(`${dev.url}/app.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.ok((await js.text()).length > 10_000);
  assert.equal(seen.length, 0, 'static files never reach the canister');
});

test('/api/ goes to the IC host (the replica, without the canister query) with the body intact', async () => {
  const body = new Uint8Array([0xd9, 0xd9, 0xf7, 1, 2, 3]);
  const res = await fetch(`${dev.url}/api/v3/canister/${CANISTER_ID}/call`, { method: 'POST', body, headers: { 'content-type': 'application/cbor' } });
  assert.equal(res.status, 200);
  const last = seen.at(-1)!;
  assert.equal(last.method, 'POST');
  assert.equal(last.url, `/api/v3/canister/${CANISTER_ID}/call`);
  assert.deepEqual(new Uint8Array(last.body), body);
});

test('/app-config.json names the canister and the local network (the agent fetches the root key only there)', async () => {
  const res = await fetch(`${dev.url}/app-config.json`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { canisterId: CANISTER_ID, network: 'local' });
});

test('XRPC still reaches the canister URL', async () => {
  const res = await fetch(`${dev.url}/xrpc/com.atproto.server.describeServer`);
  assert.equal(res.status, 200);
  assert.equal(seen.at(-1)!.url, `/xrpc/com.atproto.server.describeServer?canisterId=${CANISTER_ID}`);
});
