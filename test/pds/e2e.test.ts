// End to end: the compiled canister wasm on the local replica, driven through @dfinity/agent
// (Candid) and through the HTTP gateway by independent atproto clients (@atproto/api,
// @atproto/repo). One replica and one deployment for the whole file.
import { test, before, after } from 'node:test';
import { MAX_DELEGATE_BATCH } from '../../canister/src/api/delegate-writes.ts';
import assert from 'node:assert/strict';
import { AtpAgent } from '@atproto/api';
import { readCar as readAtprotoCar, verifyRepoCar } from '@atproto/repo';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import * as dagCbor from '@ipld/dag-cbor';
import { verifySignature } from '../../canister/src/atproto/crypto.ts';
import { CID, cidForRaw, decodeCbor, encodeBlock } from '../../canister/src/atproto/cbor.ts';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import { readCar } from '../../canister/src/repo/car.ts';
import { checkCommitEvent } from '../support/sync-check.ts';
import { buildCanister, deployCanopy, startWithDelegate, testInitArgs, type CanopyFixture } from '../support/canopy.ts';

let fx: CanopyFixture;
const member = Ed25519KeyIdentity.generate();
const delegate = Ed25519KeyIdentity.generate();
const stranger = Ed25519KeyIdentity.generate();
const logs: string[] = [];

const POST = 'app.bsky.feed.post';
const postJson = (text: string) => JSON.stringify({ $type: POST, text, createdAt: new Date().toISOString() });

before(async () => {
  fx = await startWithDelegate({
    replica: { log: (l) => logs.push(l) },
    members: [member.getPrincipal()],
    delegate,
    collections: [POST, 'app.bsky.actor.profile'],
    actions: ['create', 'put', 'delete'],
    writesPerDay: 100_000,
  });
});

after(async () => {
  if (process.env.SHOW_LOGS) console.log(logs.filter((l) => l.includes('[exec]')).join('\n'));
  await fx?.replica.stop();
});

/** fetch for @atproto/api that sends requests through the gateway to our canister. */
const gatewayFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  url.searchParams.set('canisterId', fx.canopy.canisterId.toText());
  if (input instanceof Request) return fetch(url, { method: input.method, headers: input.headers, body: input.body, ...init });
  return fetch(url, init);
};

async function allEvents(after = 0n) {
  const out: { seq: bigint; header: { t?: string }; body: Record<string, unknown> }[] = [];
  for (;;) {
    const page = await fx.anonActor.get_events({ after, limit: 100, max_bytes: 1_000_000 });
    for (const e of page.events) out.push({ seq: e.seq, ...(decodeFrame(new Uint8Array(e.frame)) as { header: { t?: string }; body: Record<string, unknown> }) });
    if (page.events.length === 0) return out;
    after = page.events[page.events.length - 1].seq;
  }
}

/** Sync v1.1 over the whole log: prevData chains, ops invert with only the event's blocks, revs increase. */
async function checkEventLog() {
  const events = await allEvents();
  let prevData: CID | null = null;
  let prevRev: string | null = null;
  let lastSeq = 0n;
  for (const e of events) {
    assert.ok(e.seq > lastSeq, 'seq strictly increasing');
    lastSeq = e.seq;
    if (e.header.t === '#sync') {
      const car = readCar(e.body.blocks as Uint8Array);
      const commit = decodeCbor<{ data: CID; rev: string }>(car.blocks.get(car.roots[0])!);
      prevData = commit.data;
      prevRev = commit.rev;
    } else if (e.header.t === '#commit') {
      const checked = await checkCommitEvent(e.body, prevData, { didKey: fx.signingKey, sinceExpected: prevRev });
      if (prevRev) assert.ok(checked.commit.rev > prevRev, 'rev increases');
      prevData = checked.commit.data;
      prevRev = checked.commit.rev;
    }
  }
  return events;
}

test('delegate writes through Candid; @atproto/api reads describeServer, getRecord, listRecords', async () => {
  const created = await fx.delegateActor.create_record({ collection: POST, rkey: [], record_json: postJson('hello from the canister') });
  assert.match(created.uri, new RegExp(`^at://${fx.did}/${POST}/`));
  const rkey = created.uri.split('/').pop()!;
  const agent = new AtpAgent({ service: fx.replica.url, fetch: gatewayFetch });
  const server = await agent.com.atproto.server.describeServer();
  assert.ok(server.data.did);
  const rec = await agent.com.atproto.repo.getRecord({ repo: fx.did, collection: POST, rkey });
  assert.equal((rec.data.value as { text: string }).text, 'hello from the canister');
  assert.equal(rec.data.cid, created.cid[0]);
  await fx.delegateActor.put_record({ collection: POST, rkey, record_json: postJson('edited'), swap_record: [] });
  const list = await agent.com.atproto.repo.listRecords({ repo: fx.did, collection: POST, limit: 10 });
  assert.equal(list.data.records.length, 1);
  assert.equal((list.data.records[0].value as { text: string }).text, 'edited');
  await fx.delegateActor.delete_record({ collection: POST, rkey, swap_record: [] });
  await assert.rejects(agent.com.atproto.repo.getRecord({ repo: fx.did, collection: POST, rkey }), /not found|RecordNotFound|Could not locate/i);
  const events = await checkEventLog();
  const commits = events.filter((e) => e.header.t === '#commit');
  // The first is the empty genesis commit (no ops), as the reference sequences account creation.
  assert.deepEqual((commits[0].body.ops as unknown[]).length, 0);
  assert.deepEqual(commits.slice(1).map((c) => (c.body.ops as { action: string }[])[0].action), ['create', 'update', 'delete']);
  const audit = await fx.anonActor.get_audit_log({ after: [], limit: [50], newest_first: [] });
  assert.equal(audit.entries.filter((e: { event: string }) => e.event === 'delegate_write').length, 3);
});

// The local replica answers sign_with_ecdsa within the same round, so concurrent writes rarely
// overlap a pending signature here; batching itself is proven in writer.test.ts with a gated signer.
test('concurrent writes on the replica: all land, each reply names its commit, events stay valid', async () => {
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => fx.delegateActor.create_record({ collection: POST, rkey: [], record_json: postJson(`concurrent ${i}`) })),
  );
  const status = await fx.anonActor.get_status();
  assert.ok(results.every((r: { seq: bigint }) => r.seq <= status.head_seq));
  assert.equal(new Set(results.map((r: { uri: string }) => r.uri)).size, 6);
  const agent = new AtpAgent({ service: fx.replica.url, fetch: gatewayFetch });
  for (const r of results) await agent.com.atproto.repo.getRecord({ repo: fx.did, collection: POST, rkey: r.uri.split('/').pop()! });
  await checkEventLog();
});

test('an adopted post proposal is executed by the canister timer and the record appears over HTTP', async () => {
  const m = await fx.canopy.actor(member);
  const id = await m.propose({ action: { post: { text: 'Decided together', langs: ['en'], mentions: [], reply: [], images: [], quote: [] } }, summary: [] });
  await m.vote({ id, vote: { yes: null } });
  let p = (await m.get_proposal(id))[0]!;
  for (let i = 0; i < 20 && p.status && !('executed' in p.status) && !('failed' in p.status); i++) {
    await fx.replica.advanceTime(1000);
    p = (await m.get_proposal(id))[0]!;
  }
  assert.ok('executed' in p.status, JSON.stringify(p.failure));
  const uri = p.result[0]!.records[0]!.uri;
  const agent = new AtpAgent({ service: fx.replica.url, fetch: gatewayFetch });
  const rec = await agent.com.atproto.repo.getRecord({ repo: fx.did, collection: POST, rkey: uri.split('/').pop()! });
  assert.equal((rec.data.value as { text: string }).text, 'Decided together');
  await checkEventLog();
});

test('writes are refused for the anonymous principal, non-delegates and out-of-scope collections, with no state change', async () => {
  const before = await fx.anonActor.get_status();
  await assert.rejects(fx.anonActor.create_record({ collection: POST, rkey: [], record_json: postJson('x') }), /anonymous/);
  await assert.rejects((await fx.canopy.actor(stranger)).create_record({ collection: POST, rkey: [], record_json: postJson('x') }), /not a delegate/);
  await assert.rejects(fx.delegateActor.create_record({ collection: 'app.bsky.graph.follow', rkey: [], record_json: JSON.stringify({ $type: 'app.bsky.graph.follow', subject: fx.did, createdAt: new Date().toISOString() }) }), /may not write/);
  await assert.rejects(fx.delegateActor.create_record({ collection: POST, rkey: [], record_json: '{not json' }), /not valid JSON/);
  await assert.rejects((await fx.canopy.actor(stranger)).blob_upload_start({ mime_type: 'image/png', size: 10n }), /is not a member or a delegate; blob_upload_start is refused/);
  const afterStatus = await fx.anonActor.get_status();
  assert.equal(afterStatus.head_seq, before.head_seq);
  assert.deepEqual(afterStatus.rev, before.rev);
});

test('every HTTP write route answers 401 and changes nothing', async () => {
  const before = await fx.anonActor.get_status();
  const routes = [
    'com.atproto.repo.createRecord', 'com.atproto.repo.putRecord', 'com.atproto.repo.deleteRecord', 'com.atproto.repo.applyWrites',
    'com.atproto.repo.uploadBlob', 'com.atproto.server.createSession', 'com.atproto.server.createAccount', 'com.atproto.server.refreshSession',
    'com.atproto.identity.updateHandle', 'com.atproto.server.deleteAccount', 'com.atproto.server.activateAccount', 'com.atproto.server.deactivateAccount',
  ];
  for (const nsid of routes) {
    const res = await fetch(fx.canopy.url(`/xrpc/${nsid}`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ repo: fx.did, collection: POST, record: { $type: POST, text: 'x', createdAt: new Date().toISOString() } }),
    });
    assert.equal(res.status, 401, nsid);
    const body = (await res.json()) as { error: string };
    assert.equal(body.error, 'AuthMissing', nsid);
  }
  const afterStatus = await fx.anonActor.get_status();
  assert.equal(afterStatus.head_seq, before.head_seq);
  assert.deepEqual(afterStatus.rev, before.rev);
});

test('an upgrade in the middle of a sequence of writes loses no record and no event', async () => {
  const rkeys: string[] = [];
  for (let i = 0; i < 3; i++) rkeys.push((await fx.delegateActor.create_record({ collection: POST, rkey: [], record_json: postJson(`before ${i}`) })).uri.split('/').pop()!);
  // Writes in flight while the upgrade is installed (the replica runs them to completion first or after).
  const inflight = [0, 1, 2].map((i) => fx.delegateActor.create_record({ collection: POST, rkey: [], record_json: postJson(`during ${i}`) }));
  const headBefore = (await fx.anonActor.get_status()).head_seq;
  await fx.replica.installCode(fx.canopy.canisterId, await buildCanister(), new Uint8Array(), 'upgrade');
  const settled = await Promise.allSettled(inflight);
  for (const s of settled) if (s.status === 'fulfilled') rkeys.push(s.value.uri.split('/').pop()!);
  for (let i = 0; i < 3; i++) rkeys.push((await fx.delegateActor.create_record({ collection: POST, rkey: [], record_json: postJson(`after ${i}`) })).uri.split('/').pop()!);
  assert.ok(rkeys.length >= 6);
  const agent = new AtpAgent({ service: fx.replica.url, fetch: gatewayFetch });
  for (const rkey of rkeys) await agent.com.atproto.repo.getRecord({ repo: fx.did, collection: POST, rkey });
  // The ordered index (a heap cache) was rebuilt after the upgrade: listing sees every record.
  const listed = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await agent.com.atproto.repo.listRecords({ repo: fx.did, collection: POST, limit: 100, cursor });
    for (const r of page.data.records) listed.add(r.uri.split('/').pop()!);
    cursor = page.data.cursor;
  } while (cursor);
  for (const rkey of rkeys) assert.ok(listed.has(rkey), `listRecords after upgrade has ${rkey}`);
  const status = await fx.anonActor.get_status();
  assert.ok(status.head_seq >= headBefore + 3n);
  const events = await checkEventLog();
  assert.equal(events.length, Number(status.head_seq), 'every seq from 1 to head is present');
});

test('identity documents over HTTP: did.json with the signing key, atproto-did, resolveHandle', async () => {
  const doc = (await (await fetch(fx.canopy.url('/.well-known/did.json'))).json()) as { id: string; verificationMethod: { publicKeyMultibase: string }[]; service: { serviceEndpoint: string }[] };
  assert.equal(doc.id, fx.did);
  assert.equal(`did:key:${doc.verificationMethod[0].publicKeyMultibase}`, fx.signingKey);
  assert.equal(await (await fetch(fx.canopy.url('/.well-known/atproto-did'))).text(), fx.did);
  const agent = new AtpAgent({ service: fx.replica.url, fetch: gatewayFetch });
  const res = await agent.com.atproto.identity.resolveHandle({ handle: 'community.test' });
  assert.equal(res.data.did, fx.did);
});

test('did:plc: genesis operation signed by the rotation key and submitted to the PLC directory by HTTPS outcall', async () => {
  const received: { path: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    const plc = await deployCanopy(fx.replica, testInitArgs({ members: [member.getPrincipal()], plcUrl: `http://127.0.0.1:${port}` }));
    const status = await plc.ready();
    assert.match(status.did, /^did:plc:[a-z2-7]{24}$/);
    const a = await plc.actor();
    let plcStatus = await a.get_plc_status();
    for (let i = 0; i < 20 && !plcStatus.submitted; i++) {
      await fx.replica.advanceTime(1000);
      plcStatus = await a.get_plc_status();
    }
    assert.equal(plcStatus.submitted, true, plcStatus.last_error[0]);
    assert.equal(received.length, 1);
    assert.equal(received[0].path, `/${status.did}`);
    const op = JSON.parse(received[0].body);
    assert.deepEqual(op, JSON.parse(plcStatus.operation_json[0]!));
    assert.deepEqual(op.verificationMethods, { atproto: status.signing_key });
    assert.deepEqual(op.rotationKeys, [plcStatus.rotation_key[0]]);
    assert.notEqual(plcStatus.rotation_key[0], status.signing_key, 'separate derivation paths');
    const { sig, ...unsigned } = op;
    assert.ok(verifySignature(op.rotationKeys[0], dagCbor.encode(unsigned), new Uint8Array(Buffer.from(sig, 'base64url'))));
    const digest = createHash('sha256').update(dagCbor.encode(op)).digest();
    const b32 = (bytes: Uint8Array) => {
      const abc = 'abcdefghijklmnopqrstuvwxyz234567';
      let bits = 0, v = 0, out = '';
      for (const b of bytes) {
        v = (v << 8) | b;
        bits += 8;
        while (bits >= 5) { out += abc[(v >>> (bits - 5)) & 31]; bits -= 5; }
      }
      return out;
    };
    assert.equal(status.did, `did:plc:${b32(digest).slice(0, 24)}`);
  } finally {
    server.close();
  }
});

test('blobs: chunked Candid upload, hashed over several messages, referenced by a record, served by getBlob', async () => {
  const bytes = new Uint8Array(300_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 255;
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const m = await fx.canopy.actor(member);
  const id = await m.blob_upload_start({ mime_type: 'image/png', size: BigInt(bytes.length) });
  assert.equal(await m.blob_upload_chunk({ upload_id: id, offset: 0n, data: bytes.subarray(0, 150_000) }), 150_000n);
  await assert.rejects(m.blob_upload_chunk({ upload_id: id, offset: 0n, data: bytes.subarray(150_000) }), /expected offset 150000/);
  await m.blob_upload_chunk({ upload_id: id, offset: 150_000n, data: bytes.subarray(150_000) });
  const mark = logs.length;
  const blob = await m.blob_upload_finish({ upload_id: id });
  assert.ok(logs.slice(mark).filter((l) => l.includes('reply-callback')).length >= 1, 'hashing spans more than one message');
  assert.equal(blob.cid, cidForRaw(bytes).toString());
  assert.equal(blob.mime_type, 'image/png');
  const record = {
    $type: POST, text: 'with an image', createdAt: new Date().toISOString(),
    embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'pattern', image: { $type: 'blob', ref: { $link: blob.cid }, mimeType: 'image/png', size: bytes.length } }] },
  };
  await fx.delegateActor.create_record({ collection: POST, rkey: [], record_json: JSON.stringify(record) });
  const res = await fetch(fx.canopy.url(`/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(fx.did)}&cid=${blob.cid}`));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes);
  const agent = new AtpAgent({ service: fx.replica.url, fetch: gatewayFetch });
  const list = await agent.com.atproto.sync.listBlobs({ did: fx.did });
  assert.deepEqual(list.data.cids, [blob.cid]);
});

test('a corpus of malformed requests through the gateway gets the right XRPC error each', async () => {
  const D = encodeURIComponent(fx.did);
  const OTHER = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
  const MISSING_CID = encodeBlock({ 'not in this repo': 'at all' }).cid.toString();
  const MISSING_BLOB = 'bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
  const R = 'com.atproto.repo';
  const S = 'com.atproto.sync';
  type Case = [path: string, status: number, error: string | string[], init?: RequestInit];
  const cases: Case[] = [
    [`/xrpc/${R}.getRecord?repo=${D}&collection=not_an_nsid&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=a&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=com..bad&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=com.example.&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=1com.x.y&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=${POST}`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=${POST}&rkey=.`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=${POST}&rkey=..`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=${POST}&rkey=a%20b`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=${POST}&rkey=${'a'.repeat(513)}`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=${POST}&rkey=a%23b`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=not%20a%20did&collection=${POST}&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=${POST}&rkey=3zzzzzzzzzz22`, 400, 'RecordNotFound'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=${POST}&rkey=abc&cid=notacid`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&repo=${D}&collection=${POST}&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=%zz&collection=${POST}&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.listRecords?repo=${D}`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.listRecords?repo=${D}&collection=${POST}&limit=0`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.listRecords?repo=${D}&collection=${POST}&limit=101`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.listRecords?repo=${D}&collection=${POST}&limit=-1`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.listRecords?repo=${D}&collection=${POST}&limit=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.listRecords?repo=${D}&collection=${POST}&limit=1.5`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.listRecords?repo=${D}&collection=${POST}&limit=1e3`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.listRecords?repo=${D}&collection=${POST}&reverse=maybe`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.listRecords?repo=${D}&collection=${POST}&cursor=a%20b`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.listRecords?repo=${D}&collection=bad%20nsid`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.describeRepo?repo=bad%20repo`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.describeRepo`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.describeRepo?repo=${OTHER}`, 400, 'RepoNotFound'],
    [`/xrpc/${S}.getRepo?did=bad`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.getRepo`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.getRepo?did=${OTHER}`, 400, 'RepoNotFound'],
    [`/xrpc/${S}.getRepo?did=${D}&since=notatid`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.getLatestCommit?did=bad`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.getLatestCommit?did=${OTHER}`, 400, 'RepoNotFound'],
    [`/xrpc/${S}.getRepoStatus?did=bad`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.getRecord?collection=${POST}&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.getRecord?did=${D}&collection=bad&rkey=abc`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.getRecord?did=${D}&collection=${POST}&rkey=..`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.getBlocks?did=${D}&cids=notacid`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.getBlocks?did=${D}&cids=${MISSING_CID}`, 400, ['BlockNotFound', 'BlocksNotFound']],
    [`/xrpc/${S}.getBlob?did=${D}&cid=notacid`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.getBlob?did=${D}&cid=${MISSING_BLOB}`, 400, 'BlobNotFound'],
    [`/xrpc/${S}.getBlob?did=${D}`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.listBlobs?did=${D}&limit=2000`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.listBlobs?did=${D}&since=bad`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.listBlobs?did=bad`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.listRepos?limit=0`, 400, 'InvalidRequest'],
    [`/xrpc/${S}.listRepos?limit=abc`, 400, 'InvalidRequest'],
    [`/xrpc/com.atproto.identity.resolveHandle?handle=bad%20handle`, 400, 'InvalidRequest'],
    [`/xrpc/com.atproto.identity.resolveHandle`, 400, 'InvalidRequest'],
    [`/xrpc/com.example.nothing.here`, 501, 'MethodNotImplemented'],
    [`/xrpc/not..an..nsid`, 400, 'InvalidRequest'],
    [`/xrpc/${R}.getRecord?repo=${D}&collection=${POST}&rkey=abc`, 400, 'InvalidRequest', { method: 'POST', body: '{}' }],
    [`/xrpc/com.atproto.server.describeServer`, 400, 'InvalidRequest', { method: 'PUT', body: '{}' }],
    [`/xrpc/${R}.listRecords?repo=${D}&collection=${POST}`, 400, 'InvalidRequest', { method: 'DELETE' }],
    [`/xrpc/com.atproto.server.describeServer`, 413, 'PayloadTooLarge', { method: 'POST', body: 'x'.repeat(300_000) }],
  ];
  assert.ok(cases.length >= 50);
  const failures: string[] = [];
  for (const [path, status, error, init] of cases) {
    const res = await fetch(fx.canopy.url(path), init);
    const text = await res.text();
    let body: { error?: string; message?: string } = {};
    try {
      body = JSON.parse(text);
    } catch {
      /* reported below */
    }
    const okError = Array.isArray(error) ? error.includes(body.error ?? '') : body.error === error;
    if (res.status !== status || !okError || typeof body.message !== 'string') {
      failures.push(`${init?.method ?? 'GET'} ${path.slice(0, 120)} → ${res.status} ${text.slice(0, 160)} (expected ${status} ${error})`);
    }
  }
  assert.deepEqual(failures, []);
});

test('getRepo of a 5,000-record repo streams in several chunks and passes verifyRepoCar', async () => {
  const have = (await fx.anonActor.get_status()).head_seq;
  let created = 0;
  while (created < 5000) {
    const n = Math.min(MAX_DELEGATE_BATCH, 5000 - created);
    const writes = Array.from({ length: n }, (_, i) => ({ create: { collection: POST, rkey: [] as [], record_json: postJson(`bulk post ${created + i} with some text to make it realistic`) } }));
    await fx.delegateActor.apply_writes({ writes });
    created += n;
  }
  assert.ok((await fx.anonActor.get_status()).head_seq >= have + 25n);
  const mark = logs.length;
  const res = await fetch(fx.canopy.url(`/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(fx.did)}`));
  assert.equal(res.status, 200);
  const car = new Uint8Array(await res.arrayBuffer());
  const callbacks = logs.slice(mark).filter((l) => l.includes('http_request_streaming_callback')).length;
  assert.ok(callbacks >= 2, `streamed in several chunks (callbacks: ${callbacks})`);
  const verified = await verifyRepoCar(car, fx.did, fx.signingKey);
  const posts = verified.creates.filter((c) => c.collection === POST).length;
  const status = await fx.anonActor.get_status();
  assert.equal(verified.commit.rev, status.rev[0], 'the CAR is the current commit');
  assert.ok(posts >= 5000, `${posts} posts in the exported repo`);
  // Every record the index lists is in the CAR (spot check through listRecords).
  const agent = new AtpAgent({ service: fx.replica.url, fetch: gatewayFetch });
  const page = await agent.com.atproto.repo.listRecords({ repo: fx.did, collection: POST, limit: 100 });
  const inCar = new Set(verified.creates.map((c) => `${c.collection}/${c.rkey}`));
  for (const r of page.data.records) assert.ok(inCar.has(`${POST}/${r.uri.split('/').pop()}`));
  // getBlocks takes the 1,000 cids it advertises in one GET through the gateway (a ~65 KB URL).
  const { blocks } = await readAtprotoCar(car);
  const wanted = [...blocks.entries()].slice(0, 1000).map((b) => b.cid.toString());
  assert.equal(wanted.length, 1000);
  const blocksRes = await fetch(fx.canopy.url(`/xrpc/com.atproto.sync.getBlocks?did=${encodeURIComponent(fx.did)}&${wanted.map((c) => `cids=${c}`).join('&')}`));
  assert.equal(blocksRes.status, 200, await blocksRes.clone().text());
  const got = await readAtprotoCar(new Uint8Array(await blocksRes.arrayBuffer()));
  assert.deepEqual(got.blocks.entries().map((b) => b.cid.toString()).sort(), [...wanted].sort());
});
