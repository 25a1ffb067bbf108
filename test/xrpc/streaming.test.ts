// getRepo in bounded chunks through the streaming callback (concatenation = one CAR that
// @atproto/repo verifies), getRepo `since`, big blobs, and tokens that cannot be honoured.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readCar, verifyRepoCar } from '@atproto/repo';
import { KvReadModel } from './fixtures/model.ts';
import { call, drain } from './fixtures/call.ts';
import { concatBytes as concat } from '../../canister/src/repo/car.ts';
import { face } from './fixtures/face.ts';

const POST = 'app.bsky.feed.post';
const IC_SAFE_CHUNK = 1_500_000;
let m: KvReadModel;
let firstRev: string;
const firstKeys: string[] = [];
const laterKeys: string[] = [];
const chars = '234567abcdefghijklmnopqrstuvwxyz';
const tid = (i: number) => '3m' + chars[(i >> 10) % 32] + chars[(i >> 5) % 32] + chars[i % 32] + 'aaaaaaaa';
const post = (i: number) => ({ $type: POST, text: `${i} `.padEnd(3000, 'lorem ipsum '), createdAt: '2026-01-01T00:00:00.000Z' });

before(async () => {
  m = await KvReadModel.create();
  const writes = [];
  for (let i = 0; i < 600; i++) {
    firstKeys.push(tid(i));
    writes.push({ action: 'create' as const, collection: POST, rkey: tid(i), record: post(i) });
  }
  firstRev = (await m.commit(writes)).rev;
  await new Promise((r) => setTimeout(r, 5)); // next rev is strictly later
  const later = [];
  for (let i = 600; i < 605; i++) {
    laterKeys.push(tid(i));
    later.push({ action: 'create' as const, collection: POST, rkey: tid(i), record: post(i) });
  }
  later.push({ action: 'delete' as const, collection: POST, rkey: firstKeys[0] });
  await m.commit(later);
});

test('getRepo streams several bounded chunks that concatenate into a CAR verifyRepoCar accepts', async () => {
  const r = call(face, m, `/xrpc/com.atproto.sync.getRepo?did=${m.did()}`);
  assert.equal(r.status_code, 200);
  assert.equal(r.header('content-type'), 'application/vnd.ipld.car');
  assert.ok(r.streaming_token, 'a 1.8 MB repo needs streaming');
  const chunks = drain(face, m, r);
  assert.ok(chunks.length >= 4, `expected several chunks, got ${chunks.length}`);
  for (const c of chunks) assert.ok(c.length > 0 && c.length <= IC_SAFE_CHUNK, `chunk of ${c.length} bytes`);
  const car = concat(chunks);
  const verified = await verifyRepoCar(car, m.did(), m.signingDidKey());
  assert.equal(verified.creates.length, 604);
  const paths = new Set(verified.creates.map((c) => `${c.collection}/${c.rkey}`));
  for (const k of [...firstKeys.slice(1), ...laterKeys]) assert.ok(paths.has(`${POST}/${k}`), k);
  assert.ok(!paths.has(`${POST}/${firstKeys[0]}`), 'deleted record is gone');
});

test('getRepo since=<rev> carries only what changed after that rev', async () => {
  const r = call(face, m, `/xrpc/com.atproto.sync.getRepo?did=${m.did()}&since=${firstRev}`);
  assert.equal(r.status_code, 200);
  const diff = await readCar(concat(drain(face, m, r)));
  assert.equal(diff.roots[0].toString(), m.head()!.commitCid.toString());
  const cids = new Set(diff.blocks.cids().map(String));
  assert.ok(cids.has(m.head()!.commitCid.toString()));
  assert.ok(cids.has(m.head()!.data.toString()), 'new MST root');
  for (const k of laterKeys) assert.ok(cids.has(m.getRecord(POST, k)!.cid.toString()), `new record ${k}`);
  for (const k of firstKeys.slice(1, 50)) assert.ok(!cids.has(m.getRecord(POST, k)!.cid.toString()), `old record ${k} not resent`);
  assert.ok(diff.blocks.size < 60, `diff is small (${diff.blocks.size} blocks)`);
  // since before any commit = everything
  const all = call(face, m, `/xrpc/com.atproto.sync.getRepo?did=${m.did()}&since=2222222222222`);
  const full = await readCar(concat(drain(face, m, all)));
  assert.ok(full.blocks.size > 600);
});

test('big blobs stream in bounded chunks with the right Content-Type; small ones do not', () => {
  const big = new Uint8Array(2_600_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
  const cid = m.addBlob(big, 'video/mp4');
  const r = call(face, m, `/xrpc/com.atproto.sync.getBlob?did=${m.did()}&cid=${cid}`);
  assert.equal(r.status_code, 200);
  assert.equal(r.header('content-type'), 'video/mp4');
  assert.equal(r.header('content-length'), String(big.length));
  const chunks = drain(face, m, r);
  assert.equal(chunks.length, 3);
  for (const c of chunks) assert.ok(c.length <= IC_SAFE_CHUNK);
  assert.deepEqual(concat(chunks), big);
  const head = call(face, m, `/xrpc/com.atproto.sync.getBlob?did=${m.did()}&cid=${cid}`, { method: 'HEAD' });
  assert.equal(head.body.length, 0);
  assert.equal(head.streaming_token, undefined);
});

test('streaming tokens that cannot be honoured are refused with a reason', () => {
  const head = m.head()!.commitCid.toString();
  const bad = [
    { kind: 'nope', ref: head, cursor: 'x', since: '' },
    { kind: 'repo', ref: 'not-a-cid', cursor: 'x', since: '' },
    { kind: 'repo', ref: head, cursor: '', since: '' },
    { kind: 'repo', ref: head, cursor: '1', since: 'bad' },
    { kind: 'repo', ref: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm', cursor: '1', since: '' },
    { kind: 'blob', ref: 'bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm', cursor: '10', since: '' },
    { kind: 'blob', ref: head, cursor: '-1', since: '' },
  ];
  for (const token of bad) assert.throws(() => face.handleStreamingCallback(token, m), /./, JSON.stringify(token));
});

test('a repo built by our repo code (the canister path) streams and verifies, and since works on it', async () => {
  const c = await KvReadModel.create({ did: 'did:plc:corecorecorecorecorecore' });
  const first = [];
  for (let i = 0; i < 150; i++) first.push({ action: 'create' as const, collection: POST, rkey: tid(i), record: post(i) });
  const second = first.slice(0, 150).map((w, i) => ({ ...w, rkey: tid(i + 150), record: post(i + 150) }));
  c.commitCore(first.slice(0, 150));
  const mid = c.commitCore(second).rev;
  const third = c.commitCore([{ action: 'create', collection: POST, rkey: tid(400), record: post(400) }]);
  const r = call(face, c, `/xrpc/com.atproto.sync.getRepo?did=${c.did()}`);
  const chunks = drain(face, c, r);
  assert.ok(chunks.length >= 2, `${chunks.length} chunks`);
  const verified = await verifyRepoCar(concat(chunks), c.did(), c.signingDidKey('core'));
  assert.equal(verified.creates.length, 301);
  const diff = await readCar(concat(drain(face, c, call(face, c, `/xrpc/com.atproto.sync.getRepo?did=${c.did()}&since=${mid}`))));
  const cids = new Set(diff.blocks.cids().map(String));
  assert.ok(cids.has(third.commitCid.toString()));
  assert.ok(cids.has(c.getRecord(POST, tid(400))!.cid.toString()));
  assert.ok(!cids.has(c.getRecord(POST, tid(3))!.cid.toString()));
  assert.ok(diff.blocks.size < 30, `${diff.blocks.size} blocks`);
});
