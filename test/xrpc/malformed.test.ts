// A corpus of malformed requests, each answered with the right XRPC error and status; and every
// HTTP write/session route answering 401 without touching state.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { KvReadModel } from './fixtures/model.ts';
import { call } from './fixtures/call.ts';
import { face } from './fixtures/face.ts';
import { MAX_URL_LENGTH } from '../../canister/src/xrpc/server.ts';

const POST = 'app.bsky.feed.post';
let m: KvReadModel;
let D: string;
let head: string;
before(async () => {
  m = await KvReadModel.create();
  await m.commit([{ action: 'create', collection: POST, rkey: '3laaaaaaaaaaa', record: { $type: POST, text: 'x', createdAt: '2026-01-01T00:00:00.000Z' } }]);
  D = m.did();
  head = m.head()!.commitCid.toString();
});

type Case = { url: string; method?: string; body?: Uint8Array; status: number; error: string };
const R = (p: string) => `/xrpc/com.atproto.repo.${p}`;
const S = (p: string) => `/xrpc/com.atproto.sync.${p}`;

function corpus(): Case[] {
  const bad = (url: string, error = 'InvalidRequest', status = 400): Case => ({ url, status, error });
  return [
    // XRPC paths
    bad('/xrpc/'),
    bad('/xrpc/notannsid'),
    bad('/xrpc/com..atproto.repo.getRecord'),
    bad('/xrpc/com.atproto.repo.getRecord/extra'),
    bad('/xrpc/1com.atproto.x'),
    bad('/xrpc/com.atproto.repo.get%20Record'),
    bad('/xrpc/com.atproto.repo.getRecord.'),
    { url: '/xrpc/com.example.unknown.method', status: 501, error: 'MethodNotImplemented' },
    { url: '/xrpc/app.bsky.feed.getTimeline', status: 501, error: 'MethodNotImplemented' },
    { url: '/xrpc/com.atproto.sync.subscribeRepos', status: 501, error: 'MethodNotImplemented' },
    { url: '/xrpc/com.atproto.sync.requestCrawl', method: 'POST', status: 501, error: 'MethodNotImplemented' },
    // missing / malformed params: repo.getRecord
    bad(R('getRecord')),
    bad(R(`getRecord?repo=${D}&collection=${POST}`)),
    bad(R(`getRecord?repo=${D}&rkey=abc`)),
    bad(R(`getRecord?repo=not a did&collection=${POST}&rkey=abc`)),
    bad(R(`getRecord?repo=did:plc&collection=${POST}&rkey=abc`)),
    bad(R(`getRecord?repo=${D}&collection=notnsid&rkey=abc`)),
    bad(R(`getRecord?repo=${D}&collection=${POST}&rkey=..`)),
    bad(R(`getRecord?repo=${D}&collection=${POST}&rkey=.`)),
    bad(R(`getRecord?repo=${D}&collection=${POST}&rkey=a/b`)),
    bad(R(`getRecord?repo=${D}&collection=${POST}&rkey=has%20space`)),
    bad(R(`getRecord?repo=${D}&collection=${POST}&rkey=${'a'.repeat(513)}`)),
    bad(R(`getRecord?repo=${D}&collection=${POST}&rkey=abc&cid=notacid`)),
    bad(R(`getRecord?repo=${D}&collection=${POST}&rkey=abc&cid=bafyrei`)),
    bad(R(`getRecord?repo=${D}&collection=${POST}&rkey=abc&rkey=def`)),
    bad(R(`getRecord?repo=${D}&collection=${POST}&rkey=%E0%A4%A`)),
    bad(R(`getRecord?repo=${D}&collection=${POST}&rkey=`)),
    // listRecords: limit, cursor, reverse
    bad(R(`listRecords?repo=${D}&collection=${POST}&limit=0`)),
    bad(R(`listRecords?repo=${D}&collection=${POST}&limit=101`)),
    bad(R(`listRecords?repo=${D}&collection=${POST}&limit=-5`)),
    bad(R(`listRecords?repo=${D}&collection=${POST}&limit=ten`)),
    bad(R(`listRecords?repo=${D}&collection=${POST}&limit=1.5`)),
    bad(R(`listRecords?repo=${D}&collection=${POST}&limit=`)),
    bad(R(`listRecords?repo=${D}&collection=${POST}&cursor=bad/cursor`)),
    bad(R(`listRecords?repo=${D}&collection=${POST}&cursor=..`)),
    bad(R(`listRecords?repo=${D}&collection=${POST}&reverse=yes`)),
    bad(R(`listRecords?repo=${D}&collection=${POST}&reverse=1`)),
    bad(R(`listRecords?repo=${D}`)),
    bad(R('describeRepo')),
    bad(R('describeRepo?repo=bad_handle!')),
    // sync params
    bad(S('getRepo')),
    bad(S('getRepo?did=plc:abc')),
    bad(S(`getRepo?did=${D}&since=notatid`)),
    bad(S(`getRepo?did=${D}&since=3laaaaaaaaaa`)),
    bad(S(`getLatestCommit?did=DID:PLC:abc`)),
    bad(S('getRepoStatus')),
    bad(S(`getRecord?did=${D}&collection=${POST}`)),
    bad(S(`getRecord?did=${D}&collection=bad&rkey=x`)),
    bad(S(`getBlocks?did=${D}`)),
    bad(S(`getBlocks?did=${D}&cids=nope`)),
    bad(S(`getBlocks?did=${D}&cids=${head}&cids=zzz`)),
    bad(S(`getBlob?did=${D}`)),
    bad(S(`getBlob?did=${D}&cid=not-a-cid`)),
    bad(S(`listBlobs?did=${D}&limit=1001`)),
    bad(S(`listBlobs?did=${D}&limit=0`)),
    bad(S(`listBlobs?did=${D}&cursor=garbage`)),
    bad(S(`listBlobs?did=${D}&since=123`)),
    bad(S('listRepos?limit=0')),
    bad(S('listRepos?limit=5000')),
    bad(S('listRepos?cursor=not-a-did')),
    bad(S('listRepos?cursor=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')),
    bad('/xrpc/com.atproto.identity.resolveHandle'),
    bad('/xrpc/com.atproto.identity.resolveHandle?handle=no_underscores.com'),
    bad('/xrpc/com.atproto.identity.resolveHandle?handle=localhost'),
    // not found
    { url: R(`getRecord?repo=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa&collection=${POST}&rkey=abc`), status: 400, error: 'RepoNotFound' },
    { url: R(`getRecord?repo=${D}&collection=${POST}&rkey=missing`), status: 400, error: 'RecordNotFound' },
    { url: S('getRepo?did=did:web:elsewhere.example'), status: 400, error: 'RepoNotFound' },
    { url: S(`getBlob?did=${D}&cid=bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm`), status: 400, error: 'BlobNotFound' },
    { url: '/nothing-here', status: 404, error: 'NotFound' },
    // wrong HTTP methods on reads
    { url: R(`getRecord?repo=${D}&collection=${POST}&rkey=abc`), method: 'POST', status: 400, error: 'InvalidRequest' },
    { url: S(`getRepo?did=${D}`), method: 'PUT', status: 400, error: 'InvalidRequest' },
    { url: '/xrpc/com.atproto.server.describeServer', method: 'DELETE', status: 400, error: 'InvalidRequest' },
    { url: '/.well-known/atproto-did', method: 'POST', status: 400, error: 'InvalidRequest' },
    // oversize
    { url: '/xrpc/com.atproto.server.describeServer', method: 'POST', body: new Uint8Array(300 * 1024), status: 413, error: 'PayloadTooLarge' },
    { url: R('createRecord'), method: 'POST', body: new Uint8Array(2 * 1024 * 1024), status: 413, error: 'PayloadTooLarge' },
    bad(`/xrpc/com.atproto.server.describeServer?pad=${'x'.repeat(MAX_URL_LENGTH)}`),
  ];
}

test('malformed request corpus: each gets its XRPC error and status', () => {
  const cases = corpus();
  assert.ok(cases.length >= 50, `corpus has ${cases.length} cases`);
  console.log(`malformed corpus: ${cases.length} cases`);
  for (const c of cases) {
    const r = call(face, m, c.url, { method: c.method, body: c.body });
    const label = `${c.method ?? 'GET'} ${c.url.slice(0, 120)}`;
    assert.equal(r.status_code, c.status, label + ' ' + r.text());
    assert.match(r.header('content-type') ?? '', /^application\/json/, label);
    const j = r.json();
    assert.equal(j.error, c.error, label);
    assert.equal(typeof j.message, 'string', label);
    assert.ok(j.message.length > 0, label);
    assert.equal(r.streaming_token, undefined, label);
    assert.notEqual(r.upgrade, true, label);
  }
});

const CLOSED = [
  'com.atproto.repo.createRecord',
  'com.atproto.repo.putRecord',
  'com.atproto.repo.deleteRecord',
  'com.atproto.repo.applyWrites',
  'com.atproto.repo.uploadBlob',
  'com.atproto.repo.importRepo',
  'com.atproto.server.createSession',
  'com.atproto.server.refreshSession',
  'com.atproto.server.deleteSession',
  'com.atproto.server.getSession',
  'com.atproto.server.createAccount',
  'com.atproto.server.deleteAccount',
  'com.atproto.server.deactivateAccount',
  'com.atproto.server.activateAccount',
  'com.atproto.server.createAppPassword',
  'com.atproto.server.getServiceAuth',
  'com.atproto.server.requestPasswordReset',
  'com.atproto.identity.updateHandle',
  'com.atproto.identity.submitPlcOperation',
  'com.atproto.identity.signPlcOperation',
  'com.atproto.admin.deleteAccount',
  'com.atproto.admin.updateSubjectStatus',
  'app.bsky.actor.putPreferences',
];

function snapshot(model: KvReadModel): string {
  return JSON.stringify(model.kv.range({ prefix: '', limit: 1e9 }).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
}

test('HTTP write and session routes answer 401 AuthMissing and change nothing', () => {
  const before = snapshot(m);
  const headBefore = m.head()!.commitCid.toString();
  const body = new TextEncoder().encode(JSON.stringify({ repo: D, collection: POST, record: { $type: POST, text: 'pwned', createdAt: '2026-01-01T00:00:00.000Z' }, identifier: 'x', password: 'y' }));
  for (const nsid of CLOSED) {
    for (const method of ['POST', 'GET']) {
      const r = call(face, m, `/xrpc/${nsid}`, {
        method,
        body: method === 'POST' ? body : undefined,
        headers: [['Content-Type', 'application/json'], ['Authorization', 'Bearer forged.jwt.token']],
      });
      assert.equal(r.status_code, 401, `${method} ${nsid}`);
      const j = r.json();
      assert.equal(j.error, 'AuthMissing');
      assert.match(j.message, /Candid/);
      assert.ok(r.header('www-authenticate'));
      assert.notEqual(r.upgrade, true, 'never upgraded to an update call');
    }
  }
  assert.equal(snapshot(m), before);
  assert.equal(m.head()!.commitCid.toString(), headBefore);
});
