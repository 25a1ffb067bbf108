// End to end: the real canister on the local replica, the bridge polling it through @dfinity/agent, and
// independent consumers: @atproto/sync's Firehose (signatures, op proofs) and the Sync v1.1 checker
// (prevData present and chained, ops invert to it with the event's blocks) on the raw frames.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Firehose } from '@atproto/sync';
import { IdResolver, MemoryCache } from '@atproto/identity';
import { startReplica, type Replica } from '../../replica/src/index.ts';
import { buildCanister, deployCanopy, encodeInitArgs, testInitArgs, type CanopyActor, type DeployedCanopy } from '../support/canopy.ts';
import { checkCommitEvent } from '../support/sync-check.ts';
import { CID } from '../../canister/src/atproto/cbor.ts';
import { startBridge, type RunningBridge } from '../../bridge/src/index.ts';
import { range, sleep, TestClient } from './helpers.ts';

let replica: Replica;
let canopy: DeployedCanopy;
let writer: CanopyActor;
let status: { did: string; signing_key: string; handle: string; pds_url: string };
let wasm: Uint8Array;
let initArgs: ReturnType<typeof testInitArgs>;
const bridges: RunningBridge[] = [];
const clients: TestClient[] = [];
const member = Ed25519KeyIdentity.generate();
const delegate = Ed25519KeyIdentity.generate();
const logs: string[] = [];

before(async () => {
  wasm = await buildCanister();
  replica = await startReplica({ host: '127.0.0.1', port: 0, log: (l) => logs.push(l) });
  initArgs = testInitArgs({
    members: [member.getPrincipal()],
    delegates: [{
      principal: delegate.getPrincipal().toText(),
      scope: { collections: ['app.bsky.feed.post'], actions: [{ create: null }, { put: null }, { delete: null }], writes_per_day: 10_000, expires_at_ns: [] },
    }],
  });
  canopy = await deployCanopy(replica, initArgs, { wasm });
  await canopy.ready();
  status = await (await canopy.actor()).get_status();
  writer = await canopy.actor(delegate);
});

after(async () => {
  for (const c of clients) c.close();
  for (const b of bridges) await b.close();
  await replica?.stop();
});

async function bridge(opts: Record<string, unknown> = {}): Promise<RunningBridge> {
  const b = await startBridge({
    host: '127.0.0.1', port: 0, logLevel: 'silent', icHost: replica.url, canisterId: canopy.canisterId.toText(),
    pollMinMs: 20, errorBackoffMinMs: 50, errorBackoffMaxMs: 500, ...opts,
  });
  bridges.push(b);
  await b.poller.ready;
  return b;
}

function rawClient(b: RunningBridge, cursor?: number): TestClient {
  const c = new TestClient(b.url, cursor);
  clients.push(c);
  return c;
}

let n = 0;
async function post(): Promise<{ seq: number; uri: string; cid: string }> {
  const r = await writer.create_record({
    collection: 'app.bsky.feed.post', rkey: [],
    record_json: JSON.stringify({ $type: 'app.bsky.feed.post', text: `bridge e2e ${n++}`, createdAt: new Date().toISOString() }),
  });
  return { seq: Number(r.seq), uri: r.uri, cid: r.cid[0]! };
}

async function headSeq(): Promise<number> {
  return Number((await (await canopy.actor()).get_status()).head_seq);
}

/** Sync v1.1 over every #commit received, in order: each prevData equals the previous commit's data. */
async function checkCommits(c: TestClient): Promise<number> {
  let prevData: CID | null | undefined;
  let checked = 0;
  for (const f of c.frames) {
    if (f.kind !== 'message' || f.type !== '#commit') continue;
    const r = await checkCommitEvent(f.bytes, prevData, { didKey: status.signing_key });
    if (checked > 0 || prevData !== undefined) assert.ok(r.prevData, `#commit seq ${f.seq} has prevData`);
    prevData = r.commit.data;
    checked++;
  }
  return checked;
}

function dumpLogs(): void {
  console.log(logs.slice(-30).join('\n'));
}

test('the whole log through the bridge: Firehose verifies every event, every #commit passes Sync v1.1', async (t) => {
  try {
    const b = await bridge();
    // Independent consumer: @atproto/sync Firehose, DID document pre-seeded (did:web:localhost has no server).
    const didCache = new MemoryCache();
    await didCache.cacheDid(status.did, {
      id: status.did,
      alsoKnownAs: [`at://${status.handle}`],
      verificationMethod: [{ id: `${status.did}#atproto`, type: 'Multikey', controller: status.did, publicKeyMultibase: status.signing_key.replace('did:key:', '') }],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: status.pds_url }],
    });
    const idResolver = new IdResolver({ didCache, fetch: globalThis.fetch });
    const seen: { seq: number; event: string }[] = [];
    const errors: Error[] = [];
    const firehose = new Firehose({
      service: b.url, idResolver, getCursor: () => 0, unauthenticatedHandles: true,
      handleEvent: (evt) => void seen.push({ seq: evt.seq, event: evt.event }),
      onError: (err) => void errors.push(err),
    });
    firehose.start();
    t.after(() => firehose.destroy());

    const raw = rawClient(b, 0);
    for (let i = 0; i < 6; i++) await post();
    const del = await post();
    const rkey = del.uri.split('/').pop()!;
    await writer.delete_record({ collection: 'app.bsky.feed.post', rkey, swap_record: [] });
    const head = await headSeq();
    await raw.waitForSeq(head, 30_000);

    // Nothing was ever pruned from this log, so cursor 0 replays it all without an OutdatedCursor #info.
    assert.ok(raw.frames.every((f) => f.kind === 'message' && f.type !== '#info'), 'no #info');
    assert.deepEqual(raw.seqs(), range(1, head), 'every seq exactly once, in order');
    // Relayed unchanged: the bytes equal the canister's own frames.
    const page = await (await canopy.actor()).get_events({ after: 0n, limit: 1000, max_bytes: 1_000_000 });
    const bySeq = new Map<number, Uint8Array>(page.events.map((e: { seq: bigint; frame: Uint8Array }) => [Number(e.seq), new Uint8Array(e.frame)]));
    for (const f of raw.frames) if (f.kind === 'message' && f.seq !== undefined) assert.deepEqual(f.bytes, bySeq.get(f.seq), `frame ${f.seq} bytes`);
    // Bootstrap emits #identity/#account/#commit (the empty genesis, as the reference)/#sync; then one
    // #commit per write (7 creates + 1 delete).
    assert.equal(await checkCommits(raw), 9);

    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !seen.some((s) => s.seq === head)) await sleep(50);
    assert.deepEqual(errors.map((e) => e.message), [], 'Firehose reported no errors');
    // One Firehose event per commit op / identity / account / sync message; every seq is represented but
    // the genesis #commit's, which has no ops.
    const noOps = new Set(raw.frames.filter((f) => f.kind === 'message' && f.type === '#commit' && (f.body.ops as unknown[]).length === 0).map((f) => f.kind === 'message' && f.seq));
    assert.equal(noOps.size, 1);
    assert.deepEqual([...new Set(seen.map((s) => s.seq))].sort((x, y) => x - y), range(1, head).filter((q) => !noOps.has(q)));
    assert.ok(seen.some((s) => s.event === 'create') && seen.some((s) => s.event === 'delete'));
  } catch (e) {
    dumpLogs();
    throw e;
  }
});

test('cursor cases against the canister: in window, ahead of the head, none', async () => {
  const b = await bridge({ ringMaxEvents: 2 }); // force paging from the canister
  const head = await headSeq();
  const mid = rawClient(b, head - 3);
  await mid.waitForSeq(head, 20_000);
  assert.deepEqual(mid.seqs(), range(head - 2, head));
  assert.ok(mid.frames.every((f) => f.kind === 'message' && f.type !== '#info'));

  const future = rawClient(b, head + 50);
  const closed = await future.closed;
  assert.equal(closed.code, 1008);
  assert.deepEqual(future.frames.map((f) => f.kind === 'error' && f.error), ['FutureCursor']);

  const live = rawClient(b);
  await live.opened;
  await sleep(100);
  const w = await post();
  await live.waitForSeq(w.seq, 20_000);
  await mid.waitForSeq(w.seq, 20_000);
  assert.deepEqual(live.seqs(), [w.seq]);
  assert.deepEqual(mid.seqs(), range(head - 2, w.seq));
});

test('bridge restart mid-stream: resuming with the last cursor loses no frame', async () => {
  const b1 = await bridge();
  const start = await headSeq();
  const c1 = rawClient(b1, start);
  await c1.opened;
  for (let i = 0; i < 3; i++) await post();
  await c1.waitForSeq(start + 3, 20_000);
  const closing = b1.close();
  await c1.closed;
  await closing;
  for (let i = 0; i < 3; i++) await post(); // while no bridge runs
  const b2 = await bridge();
  const c2 = rawClient(b2, c1.lastSeq());
  for (let i = 0; i < 2; i++) await post();
  const head = await headSeq();
  await c2.waitForSeq(head, 20_000);
  assert.deepEqual([...c1.seqs(), ...c2.seqs()], range(start + 1, head));
  const all = new TestClient(b2.url, start); // the same span in one piece, for the Sync v1.1 chain
  clients.push(all);
  await all.waitForSeq(head, 20_000);
  assert.equal(await checkCommits(all), head - start);
});

test('canister upgrade mid-stream: the connected client gets every frame, no gap or duplicate', async () => {
  const b = await bridge();
  const start = await headSeq();
  const c = rawClient(b, start);
  await c.opened;
  for (let i = 0; i < 3; i++) await post();
  await replica.installCode(canopy.canisterId, wasm, encodeInitArgs(initArgs), 'upgrade');
  writer = await canopy.actor(delegate);
  for (let i = 0; i < 3; i++) await post();
  const head = await headSeq();
  await c.waitForSeq(head, 30_000);
  assert.deepEqual(c.seqs(), range(start + 1, head));
  assert.equal(await checkCommits(c), head - start);
  assert.equal(b.hub.size() >= 1, true, 'still connected');
});

test('cursor older than the canister retention window: #info OutdatedCursor, then from the oldest retained event', async () => {
  // A second canister that keeps only the newest 3 events (pruned on append).
  const small = await deployCanopy(replica, { ...initArgs, event_retention: [{ min_events: 3, min_age_ns: 0n }] }, { wasm });
  await small.ready();
  const w = await small.actor(delegate);
  for (let i = 0; i < 4; i++) {
    await w.create_record({ collection: 'app.bsky.feed.post', rkey: [],
      record_json: JSON.stringify({ $type: 'app.bsky.feed.post', text: `retention ${i}`, createdAt: new Date().toISOString() }) });
  }
  const page = await (await small.actor()).get_events({ after: 0n, limit: 100, max_bytes: 1_000_000 });
  const head = Number(page.head);
  const oldest = Number(page.oldest);
  assert.ok(oldest > 2, `the log was pruned (oldest ${oldest})`);
  const b = await bridge({ canisterId: small.canisterId.toText() });
  const c = rawClient(b, 1);
  await c.waitForSeq(head, 20_000);
  assert.equal(c.frames[0].kind === 'message' && c.frames[0].type, '#info');
  assert.equal(c.frames[0].kind === 'message' && c.frames[0].body.name, 'OutdatedCursor');
  assert.deepEqual(c.seqs(), range(oldest, head));
  const inWindow = rawClient(b, oldest - 1);
  await inWindow.waitForSeq(head, 20_000);
  assert.deepEqual(inWindow.seqs(), range(oldest, head));
  assert.ok(inWindow.frames.every((f) => f.kind === 'message' && f.type !== '#info'));
});
