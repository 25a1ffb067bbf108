// Every served endpoint against an in-memory read model holding a repo built by @atproto/repo.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readCar, verifyProofs } from '@atproto/repo';
import { CID } from '../../canister/src/atproto/cbor.ts';
import { KvReadModel } from './fixtures/model.ts';
import { call } from './fixtures/call.ts';
import { face } from './fixtures/face.ts';
import { MAX_GET_BLOCKS_CIDS } from '../../canister/src/xrpc/handlers/sync.ts';
import { tidFromTime } from '../../canister/src/atproto/syntax/index.ts';

const POST = 'app.bsky.feed.post';
const LIKE = 'app.bsky.feed.like';
let m: KvReadModel;
const postKeys: string[] = [];
const tidChars = '234567abcdefghijklmnopqrstuvwxyz';
const tid = (i: number) => '3l' + tidChars[(i >> 5) % 32] + tidChars[i % 32] + 'aaaaaaaaa';

before(async () => {
  m = await KvReadModel.create({ handle: 'Community.Example.com' });
  const writes = [];
  for (let i = 0; i < 25; i++) {
    postKeys.push(tid(i));
    writes.push({ action: 'create' as const, collection: POST, rkey: tid(i), record: { $type: POST, text: `post ${i}`, createdAt: '2026-01-01T00:00:00.000Z' } });
  }
  writes.push({ action: 'create' as const, collection: LIKE, rkey: tid(100), record: { $type: LIKE, createdAt: '2026-01-01T00:00:00.000Z', blob: new Uint8Array([1, 2, 3]) } });
  writes.push({ action: 'create' as const, collection: 'app.bsky.actor.profile', rkey: 'self', record: { $type: 'app.bsky.actor.profile', displayName: 'Canopy' } });
  await m.commit(writes);
});

const did = () => m.did();

test('describeServer names the service did:web and closed sign-up', () => {
  const r = call(face, m, '/xrpc/com.atproto.server.describeServer');
  assert.equal(r.status_code, 200);
  assert.match(r.header('content-type')!, /^application\/json/);
  assert.deepEqual(r.json(), { did: 'did:web:pds.example.com', availableUserDomains: [], inviteCodeRequired: true, phoneVerificationRequired: false });
  assert.equal(r.header('access-control-allow-origin'), '*');
});

test('describeRepo by DID and by handle (case-insensitive); unknown repo is 400 RepoNotFound (as the reference)', () => {
  for (const repo of [did(), 'community.example.com', 'COMMUNITY.example.COM']) {
    const r = call(face, m, `/xrpc/com.atproto.repo.describeRepo?repo=${encodeURIComponent(repo)}`);
    assert.equal(r.status_code, 200, repo);
    const j = r.json();
    assert.equal(j.did, did());
    assert.equal(j.handle, 'Community.Example.com');
    // Not the PDS host, and nothing recorded a resolution: the canister cannot vouch for it.
    assert.equal(j.handleIsCorrect, false);
    assert.deepEqual(j.didDoc, {});
    assert.deepEqual([...j.collections].sort(), ['app.bsky.actor.profile', LIKE, POST]);
  }
  const r = call(face, m, '/xrpc/com.atproto.repo.describeRepo?repo=someone.else.com');
  assert.equal(r.status_code, 400);
  assert.equal(r.json().error, 'RepoNotFound');
});

test('describeRepo: handleIsCorrect is true when the handle is the PDS host this canister answers /.well-known/atproto-did for', async () => {
  const host = await KvReadModel.create({ handle: 'PDS.example.com', pdsUrl: 'https://pds.example.com' });
  await host.commit([{ action: 'create', collection: POST, rkey: '3laaaaaaaaaaa', record: { $type: POST, text: 'x', createdAt: '2026-01-01T00:00:00.000Z' } }]);
  assert.equal(call(face, host, `/xrpc/com.atproto.repo.describeRepo?repo=${host.did()}`).json().handleIsCorrect, true);
  assert.equal(call(face, host, '/.well-known/atproto-did').text(), host.did());
});

test('repo.getRecord returns uri, cid, JSON value; cid mismatch and missing are RecordNotFound', () => {
  const base = `/xrpc/com.atproto.repo.getRecord?repo=${did()}&collection=${POST}&rkey=${postKeys[3]}`;
  const r = call(face, m, base);
  assert.equal(r.status_code, 200);
  const j = r.json();
  assert.equal(j.uri, `at://${did()}/${POST}/${postKeys[3]}`);
  assert.equal(j.cid, m.getRecord(POST, postKeys[3])!.cid.toString());
  assert.deepEqual(j.value, { $type: POST, text: 'post 3', createdAt: '2026-01-01T00:00:00.000Z' });
  assert.equal(call(face, m, `${base}&cid=${j.cid}`).status_code, 200);
  const other = m.getRecord(POST, postKeys[4])!.cid.toString();
  const mismatch = call(face, m, `${base}&cid=${other}`);
  assert.equal(mismatch.status_code, 400);
  assert.equal(mismatch.json().error, 'RecordNotFound');
  const missing = call(face, m, `/xrpc/com.atproto.repo.getRecord?repo=${did()}&collection=${POST}&rkey=nope`);
  assert.equal(missing.status_code, 400);
  assert.equal(missing.json().error, 'RecordNotFound');
  // bytes come back as {$bytes}
  const like = call(face, m, `/xrpc/com.atproto.repo.getRecord?repo=${did()}&collection=${LIKE}&rkey=${tid(100)}`).json();
  assert.deepEqual(like.value.blob, { $bytes: 'AQID' });
});

test('listRecords pages newest-first by default and oldest-first with reverse, never repeating', () => {
  for (const reverse of [false, true]) {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const url = `/xrpc/com.atproto.repo.listRecords?repo=${did()}&collection=${POST}&limit=7&reverse=${reverse}` + (cursor ? `&cursor=${cursor}` : '');
      const r = call(face, m, url);
      assert.equal(r.status_code, 200);
      const j = r.json();
      assert.ok(j.records.length <= 7);
      for (const rec of j.records) {
        seen.push(rec.uri.split('/').pop());
        assert.equal(rec.value.$type, POST);
        assert.equal(rec.cid, m.getRecord(POST, rec.uri.split('/').pop())!.cid.toString());
      }
      cursor = j.cursor;
      if (!cursor) break;
    }
    const expected = [...postKeys].sort();
    assert.deepEqual(seen, reverse ? expected : expected.reverse());
  }
  const def = call(face, m, `/xrpc/com.atproto.repo.listRecords?repo=${did()}&collection=${POST}`).json();
  assert.equal(def.records.length, 25);
  assert.equal(def.cursor, undefined);
  const none = call(face, m, `/xrpc/com.atproto.repo.listRecords?repo=${did()}&collection=com.example.empty`).json();
  assert.deepEqual(none, { records: [] });
});

test('getLatestCommit and getRepoStatus report the head', () => {
  const head = m.head()!;
  assert.deepEqual(call(face, m, `/xrpc/com.atproto.sync.getLatestCommit?did=${did()}`).json(), { cid: head.commitCid.toString(), rev: head.rev });
  assert.deepEqual(call(face, m, `/xrpc/com.atproto.sync.getRepoStatus?did=${did()}`).json(), { did: did(), active: true, rev: head.rev });
  const other = call(face, m, '/xrpc/com.atproto.sync.getRepoStatus?did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa');
  assert.equal(other.status_code, 400);
  assert.equal(other.json().error, 'RepoNotFound');
});

test('sync.getRecord returns a CAR proof that @atproto/repo verifies (existence and non-existence)', async () => {
  const rec = m.getRecord(POST, postKeys[7])!;
  const r = call(face, m, `/xrpc/com.atproto.sync.getRecord?did=${did()}&collection=${POST}&rkey=${postKeys[7]}`);
  assert.equal(r.status_code, 200);
  assert.equal(r.header('content-type'), 'application/vnd.ipld.car');
  const res = await verifyProofs(r.body, [{ collection: POST, rkey: postKeys[7], cid: rec.cid as never }], did(), m.signingDidKey());
  assert.equal(res.verified.length, 1);
  assert.equal(res.unverified.length, 0);
  const absent = call(face, m, `/xrpc/com.atproto.sync.getRecord?did=${did()}&collection=${POST}&rkey=3zzzzzzzzzzzz`);
  const res2 = await verifyProofs(absent.body, [{ collection: POST, rkey: '3zzzzzzzzzzzz', cid: null }], did(), m.signingDidKey());
  assert.equal(res2.verified.length, 1);
});

test('getBlocks returns exactly the requested blocks; a missing one is BlockNotFound', async () => {
  const a = m.getRecord(POST, postKeys[0])!.cid;
  const b = m.head()!.commitCid;
  const r = call(face, m, `/xrpc/com.atproto.sync.getBlocks?did=${did()}&cids=${a}&cids=${b}`);
  assert.equal(r.status_code, 200);
  const car = await readCar(r.body);
  assert.deepEqual(car.roots, []);
  assert.deepEqual(car.blocks.cids().map(String).sort(), [a.toString(), b.toString()].sort());
  const bogus = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
  const miss = call(face, m, `/xrpc/com.atproto.sync.getBlocks?did=${did()}&cids=${a}&cids=${bogus}`);
  assert.equal(miss.status_code, 400);
  assert.equal(miss.json().error, 'BlockNotFound');
});

test('getBlocks accepts as many cids as it advertises (MAX_GET_BLOCKS_CIDS) in one GET, and refuses one more', async () => {
  const big = await KvReadModel.create();
  const writes = Array.from({ length: MAX_GET_BLOCKS_CIDS }, (_, i) => ({
    action: 'create' as const,
    collection: POST,
    rkey: tidFromTime(1_700_000_000_000_000 + i, 0),
    record: { $type: POST, text: `post ${i}`, createdAt: '2026-01-01T00:00:00.000Z' },
  }));
  for (let i = 0; i < writes.length; i += 200) big.commitCore(writes.slice(i, i + 200));
  const cids = writes.map((w) => big.getRecord(POST, w.rkey)!.cid.toString());
  assert.equal(new Set(cids).size, MAX_GET_BLOCKS_CIDS);
  const url = `/xrpc/com.atproto.sync.getBlocks?did=${big.did()}${cids.map((c) => `&cids=${c}`).join('')}`;
  assert.ok(url.length > 60_000, `a ${url.length}-character URL`);
  const r = call(face, big, url);
  assert.equal(r.status_code, 200, r.text().slice(0, 200));
  assert.equal((await readCar(r.body)).blocks.size, MAX_GET_BLOCKS_CIDS);
  const over = call(face, big, `${url}&cids=${cids[0]}`);
  assert.deepEqual([over.status_code, over.json().error], [400, 'InvalidRequest']);
  assert.match(over.json().message, /at most 1000 cids/);
});

test('listRepos lists the one account with head and rev and an opaque cursor; the cursor ends the listing', () => {
  const head = m.head()!;
  const j = call(face, m, '/xrpc/com.atproto.sync.listRepos').json();
  assert.deepEqual(j.repos, [{ did: did(), head: head.commitCid.toString(), rev: head.rev, active: true }]);
  assert.equal(typeof j.cursor, 'string');
  assert.deepEqual(call(face, m, `/xrpc/com.atproto.sync.listRepos?cursor=${encodeURIComponent(j.cursor)}`).json(), { repos: [] });
  const bad = call(face, m, `/xrpc/com.atproto.sync.listRepos?cursor=${did()}`);
  assert.deepEqual([bad.status_code, bad.json().error], [400, 'InvalidRequest']);
});

test('blobs: listBlobs pages, getBlob serves bytes with the stored Content-Type', () => {
  const cids: CID[] = [];
  for (let i = 0; i < 5; i++) cids.push(m.addBlob(new Uint8Array([i, 1, 2, 3]), i % 2 ? 'image/png' : 'image/jpeg'));
  const all: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const j = call(face, m, `/xrpc/com.atproto.sync.listBlobs?did=${did()}&limit=2${cursor ? `&cursor=${cursor}` : ''}`).json();
    all.push(...j.cids);
    cursor = j.cursor;
    if (!cursor) break;
  }
  assert.deepEqual(all.sort(), cids.map(String).sort());
  // `since` reaches the model: these blobs arrived at the current rev, so none is newer than it.
  assert.deepEqual(call(face, m, `/xrpc/com.atproto.sync.listBlobs?did=${did()}&since=${m.head()!.rev}`).json(), { cids: [] });
  assert.equal(call(face, m, `/xrpc/com.atproto.sync.listBlobs?did=${did()}&since=2222222222222`).json().cids.length, 5);
  const r = call(face, m, `/xrpc/com.atproto.sync.getBlob?did=${did()}&cid=${cids[1]}`);
  assert.equal(r.status_code, 200);
  assert.equal(r.header('content-type'), 'image/png');
  assert.equal(r.header('content-length'), '4');
  assert.equal(r.header('x-content-type-options'), 'nosniff');
  assert.deepEqual([...r.body], [1, 1, 2, 3]);
  assert.equal(r.streaming_token, undefined);
  const missing = call(face, m, `/xrpc/com.atproto.sync.getBlob?did=${did()}&cid=bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm`);
  assert.equal(missing.status_code, 400);
  assert.equal(missing.json().error, 'BlobNotFound');
});

test('identity: resolveHandle, /.well-known/atproto-did, did.json only for did:web', async () => {
  assert.deepEqual(call(face, m, '/xrpc/com.atproto.identity.resolveHandle?handle=community.example.com').json(), { did: did() });
  const other = call(face, m, '/xrpc/com.atproto.identity.resolveHandle?handle=other.example.com');
  assert.equal(other.status_code, 400);
  assert.equal(other.json().error, 'HandleNotFound');
  const wk = call(face, m, '/.well-known/atproto-did');
  assert.equal(wk.status_code, 200);
  assert.match(wk.header('content-type')!, /^text\/plain/);
  assert.equal(wk.text(), did());
  assert.equal(call(face, m, '/.well-known/did.json').status_code, 404);

  const doc = { '@context': ['https://www.w3.org/ns/did/v1'], id: 'did:web:pds.example.com', alsoKnownAs: ['at://pds.example.com'] };
  const web = await KvReadModel.create({ did: 'did:web:pds.example.com', handle: 'pds.example.com', didDoc: doc });
  const d = call(face, web, '/.well-known/did.json');
  assert.equal(d.status_code, 200);
  assert.deepEqual(d.json(), doc);
});

test('_health, root page, unknown paths', () => {
  assert.deepEqual(call(face, m, '/xrpc/_health').json(), { version: 'canopy/0.1.0' });
  const root = call(face, m, '/');
  assert.equal(root.status_code, 200);
  assert.match(root.text(), /AT Protocol/);
  assert.match(root.text(), new RegExp(did()));
  const nf = call(face, m, '/favicon.ico');
  assert.equal(nf.status_code, 404);
  assert.equal(nf.json().error, 'NotFound');
});

test('HEAD answers headers only; OPTIONS preflight is 204 with CORS like the reference PDS', () => {
  const h = call(face, m, `/xrpc/com.atproto.sync.getLatestCommit?did=${did()}`, { method: 'HEAD' });
  assert.equal(h.status_code, 200);
  assert.equal(h.body.length, 0);
  assert.match(h.header('content-type')!, /^application\/json/);
  const p = call(face, m, '/xrpc/com.atproto.repo.getRecord', {
    method: 'OPTIONS',
    headers: [['Origin', 'https://app.example'], ['Access-Control-Request-Method', 'GET'], ['Access-Control-Request-Headers', 'authorization,atproto-proxy']],
  });
  assert.equal(p.status_code, 204);
  assert.equal(p.header('access-control-allow-origin'), '*');
  assert.equal(p.header('access-control-allow-methods'), 'GET,HEAD,PUT,PATCH,POST,DELETE');
  assert.equal(p.header('access-control-allow-headers'), 'authorization,atproto-proxy');
  assert.equal(p.header('access-control-max-age'), '86400');
  assert.equal(p.body.length, 0);
  const err = call(face, m, '/xrpc/com.atproto.repo.getRecord');
  assert.equal(err.header('access-control-allow-origin'), '*', 'errors carry CORS too');
});

test('inactive accounts: reads answer the lexicon error, getRepoStatus reports it', async () => {
  const d = await KvReadModel.create();
  await d.commit([{ action: 'create', collection: POST, rkey: tid(1), record: { $type: POST, text: 'x', createdAt: '2026-01-01T00:00:00.000Z' } }]);
  for (const [status, error] of [['deactivated', 'RepoDeactivated'], ['takendown', 'RepoTakendown'], ['suspended', 'RepoSuspended']] as const) {
    d.status = { active: false, status };
    for (const url of [
      `/xrpc/com.atproto.sync.getRepo?did=${d.did()}`,
      `/xrpc/com.atproto.sync.getLatestCommit?did=${d.did()}`,
      `/xrpc/com.atproto.repo.getRecord?repo=${d.did()}&collection=${POST}&rkey=${tid(1)}`,
      `/xrpc/com.atproto.repo.listRecords?repo=${d.did()}&collection=${POST}`,
      `/xrpc/com.atproto.sync.listBlobs?did=${d.did()}`,
    ]) {
      const r = call(face, d, url);
      assert.equal(r.status_code, 400, url);
      assert.equal(r.json().error, error, url);
    }
    assert.deepEqual(call(face, d, `/xrpc/com.atproto.sync.getRepoStatus?did=${d.did()}`).json(), { did: d.did(), active: false, status });
    assert.equal(call(face, d, '/xrpc/com.atproto.sync.listRepos').json().repos[0].status, status);
  }
});

test('an empty repo (no commit yet) has no latest commit', async () => {
  const e = await KvReadModel.create();
  const r = call(face, e, `/xrpc/com.atproto.sync.getLatestCommit?did=${e.did()}`);
  assert.equal(r.status_code, 400);
  assert.equal(r.json().error, 'RepoNotFound');
  assert.deepEqual(call(face, e, '/xrpc/com.atproto.sync.listRepos').json(), { repos: [] });
});
