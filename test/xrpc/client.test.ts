// Client compatibility: @atproto/api AtpAgent against the XRPC face over a loopback HTTP server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AtpAgent, XRPCError } from '@atproto/api';
import { verifyRepoCar } from '@atproto/repo';
import { KvReadModel } from './fixtures/model.ts';
import { face } from './fixtures/face.ts';
import { serve } from './fixtures/http-server.ts';

const POST = 'app.bsky.feed.post';
let m: KvReadModel;
let server: { url: string; close(): Promise<void> };
let agent: AtpAgent;
const rkeys = Array.from({ length: 12 }, (_, i) => `3kaaaaaaaaa${'234567abcdefghij'[i]}a`);

before(async () => {
  m = await KvReadModel.create({ handle: 'canopy.example.com' });
  await m.commit(rkeys.map((rkey, i) => ({ action: 'create' as const, collection: POST, rkey, record: { $type: POST, text: `hello ${i}`, createdAt: '2026-01-01T00:00:00.000Z' } })));
  server = await serve(face, m);
  agent = new AtpAgent({ service: server.url });
});
after(async () => {
  await server?.close();
});

test('AtpAgent describeServer', async () => {
  const res = await agent.com.atproto.server.describeServer();
  assert.equal(res.success, true);
  assert.equal(res.data.did, 'did:web:pds.example.com');
  assert.deepEqual(res.data.availableUserDomains, []);
  assert.equal(res.headers['access-control-allow-origin'], '*');
});

test('AtpAgent getRecord, and RecordNotFound as a typed error', async () => {
  const res = await agent.com.atproto.repo.getRecord({ repo: m.did(), collection: POST, rkey: rkeys[2] });
  assert.equal(res.data.uri, `at://${m.did()}/${POST}/${rkeys[2]}`);
  assert.equal(res.data.cid, m.getRecord(POST, rkeys[2])!.cid.toString());
  assert.equal((res.data.value as { text: string }).text, 'hello 2');
  await assert.rejects(agent.com.atproto.repo.getRecord({ repo: m.did(), collection: POST, rkey: 'missing' }), (err: unknown) => {
    assert.ok(err instanceof XRPCError);
    assert.equal(err.error, 'RecordNotFound');
    assert.equal(err.status, 400);
    return true;
  });
});

test('AtpAgent listRecords with cursor paging and reverse', async () => {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 10; i++) {
    const res = await agent.com.atproto.repo.listRecords({ repo: 'canopy.example.com', collection: POST, limit: 5, cursor, reverse: true });
    seen.push(...res.data.records.map((r) => r.uri.split('/').pop()!));
    cursor = res.data.cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, [...rkeys].sort());
});

test('AtpAgent sync.getRepo over HTTP verifies; write routes are closed to it', async () => {
  const res = await agent.com.atproto.sync.getRepo({ did: m.did() });
  const verified = await verifyRepoCar(res.data, m.did(), m.signingDidKey());
  assert.equal(verified.creates.length, rkeys.length);
  await assert.rejects(
    agent.com.atproto.repo.createRecord({ repo: m.did(), collection: POST, record: { $type: POST, text: 'no', createdAt: '2026-01-01T00:00:00.000Z' } }),
    (err: unknown) => err instanceof XRPCError && err.status === 401 && err.error === 'AuthMissing',
  );
  await assert.rejects(agent.login({ identifier: 'canopy.example.com', password: 'x' }), (err: unknown) => err instanceof XRPCError && err.status === 401);
  const r = await agent.com.atproto.repo.listRecords({ repo: m.did(), collection: POST, limit: 100 });
  assert.equal(r.data.records.length, rkeys.length, 'no record was added');
});

test('raw fetch: preflight and a streamed big blob over HTTP', async () => {
  const pre = await fetch(`${server.url}/xrpc/com.atproto.repo.getRecord`, {
    method: 'OPTIONS',
    headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  const big = new Uint8Array(2_100_000).map((_, i) => i % 251);
  const cid = m.addBlob(big, 'image/jpeg');
  const res = await fetch(`${server.url}/xrpc/com.atproto.sync.getBlob?did=${m.did()}&cid=${cid}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/jpeg');
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), big);
});
