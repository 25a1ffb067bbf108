// Governance effects executed by the canister after adoption, and delegate writes with their
// budget and audit — plain Node over the pure modules (Governance from the governance helper).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { decodeCbor } from '../../canister/src/atproto/cbor.ts';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import { Governance, MAX_UPLOAD_BYTES_PER_DAY } from '../../canister/src/governance/governance.ts';
import { scopedKv } from '../../canister/src/storage/kv.ts';
import { executeAdopted, pinnedBlobs } from '../../canister/src/api/executor.ts';
import { applyProfilePatch } from '../../canister/src/bsky/profile.ts';
import * as api from '../../canister/src/api/pds-methods.ts';
import * as writes from '../../canister/src/api/delegate-writes.ts';
import { memoryPds } from '../pds/fixtures.ts';

const HOUR = 3600n * 1_000_000_000n;
const principal = () => Ed25519KeyIdentity.generate().getPrincipal().toText();

async function setup(
  delegateScope?: { collections: string[]; actions: ('create' | 'put' | 'delete')[]; writesPerDay: number; expiresAtNs: bigint | null },
  blobGraceNs?: bigint,
) {
  const env = memoryPds(blobGraceNs ? { init: { config: { ecdsaKeyName: 'dfx_test_key', blobs: { maxBytes: 5_000_000, graceNs: blobGraceNs } } } } : {});
  await env.pds.bootstrap();
  const gov = new Governance(scopedKv(env.storage.kv, 'gov'), {
    did: () => env.pds.status().did,
    handle: () => env.pds.status().handle,
    blob: (cid) => {
      const m = env.pds.blobs.getMeta(cidOf(cid));
      return m && { mimeType: m.mimeType, size: m.size };
    },
  });
  const members = [principal(), principal(), principal()];
  const delegate = principal();
  gov.init(
    {
      members: members.map((p) => ({ principal: p, power: 1n })),
      rules: { votingPeriodNs: HOUR, quorumBps: 5000, thresholdBps: 5000 },
      delegates: delegateScope ? [{ principal: delegate, scope: delegateScope }] : [],
    },
    env.clock.ns,
  );
  return { ...env, gov, members, delegate };
}
import { CID } from '../../canister/src/atproto/cbor.ts';
const cidOf = (s: string) => CID.parse(s);

test('an adopted post proposal is executed by the executor: record written, execution recorded', async () => {
  const { pds, gov, members, clock } = await setup();
  const id = gov.propose(members[0], { action: { kind: 'post', post: { text: 'Hello from the community #canopy' } } }, clock.ns);
  gov.vote(members[0], id, 'yes', clock.ns);
  gov.vote(members[1], id, 'yes', clock.ns);
  assert.equal(gov.getProposal(id)!.status, 'adopted');
  assert.equal(await executeAdopted(pds, gov, () => clock.ns), 1);
  const p = gov.getProposal(id)!;
  assert.equal(p.status, 'executed', p.failure ?? '');
  const uri = p.result!.records[0].uri;
  const rkey = uri.split('/').pop()!;
  const rec = pds.repo.getRecord('app.bsky.feed.post', rkey)!;
  assert.equal(rec.cid.toString(), p.result!.records[0].cid);
  assert.equal(decodeCbor<{ text: string }>(rec.bytes).text, 'Hello from the community #canopy');
  assert.equal(p.result!.rev, pds.repo.head()!.rev);
  // Idempotent: nothing left to run.
  assert.equal(await executeAdopted(pds, gov, () => clock.ns), 0);
});

test('set_handle and set_account_active effects emit #identity and #account', async () => {
  const { pds, gov, members, clock } = await setup();
  const head = pds.events.head();
  for (const action of [{ kind: 'set_handle' as const, handle: 'renamed.example.com' }, { kind: 'set_account_active' as const, active: false }]) {
    const id = gov.propose(members[0], { action }, clock.ns);
    gov.vote(members[1], id, 'yes', clock.ns);
    gov.vote(members[2], id, 'yes', clock.ns);
  }
  assert.equal(await executeAdopted(pds, gov, () => clock.ns), 2);
  const types = pds.events.page(head, 10, 1_000_000).events.map((e) => (decodeFrame(e.frame).header as { t: string }).t);
  assert.deepEqual(types, ['#identity', '#account']);
  assert.equal(pds.status().handle, 'renamed.example.com');
  assert.equal(pds.status().active, false);
});

test('a failing effect is recorded as failed with its reason, never dropped', async () => {
  const { pds, gov, members, clock } = await setup();
  const id = gov.propose(members[0], { action: { kind: 'delete_record', collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaa22' } }, clock.ns);
  gov.vote(members[0], id, 'yes', clock.ns);
  gov.vote(members[1], id, 'yes', clock.ns);
  await executeAdopted(pds, gov, () => clock.ns);
  const p = gov.getProposal(id)!;
  assert.equal(p.status, 'failed');
  assert.match(p.failure!, /not found/);
});

test('profile patch keeps unchanged fields and removes nulled ones', () => {
  assert.deepEqual(applyProfilePatch({ $type: 'app.bsky.actor.profile', displayName: 'A', description: 'old' }, { description: null, displayName: 'B' }), {
    $type: 'app.bsky.actor.profile',
    displayName: 'B',
  });
});

test('delegate writes: in scope they commit and are audited; out of scope, over budget or anonymous they are refused without state change', async () => {
  const { pds, gov, delegate, members, clock } = await setup({ collections: ['app.bsky.feed.post'], actions: ['create', 'delete'], writesPerDay: 2, expiresAtNs: null });
  const ctx = { caller: delegate, nowNs: clock.ns };
  const json = JSON.stringify({ $type: 'app.bsky.feed.post', text: 'delegated', createdAt: '2026-01-01T00:00:00.000Z' });
  const r = await writes.createRecord(pds, gov, ctx, { collection: 'app.bsky.feed.post', rkey: [], record_json: json });
  assert.match(r.uri, /app\.bsky\.feed\.post/);
  const audit = gov.auditLog({ limit: 50 }).entries.filter((e) => e.event === 'delegate_write');
  assert.equal(audit.length, 1);
  assert.equal(audit[0].actor, delegate);
  assert.equal(audit[0].rev, r.rev);
  const before = { rev: pds.repo.head()!.rev, seq: pds.events.head(), used: gov.delegateWritesToday(delegate, clock.ns) };
  await assert.rejects(writes.putRecord(pds, gov, ctx, { collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaa22', record_json: json, swap_record: [] }), /may not put/);
  await assert.rejects(writes.createRecord(pds, gov, ctx, { collection: 'app.bsky.graph.follow', rkey: [], record_json: json }), /may not write/);
  await assert.rejects(writes.createRecord(pds, gov, { caller: '2vxsx-fae', nowNs: clock.ns }, { collection: 'app.bsky.feed.post', rkey: [], record_json: json }), /anonymous/);
  await assert.rejects(writes.createRecord(pds, gov, { caller: members[0], nowNs: clock.ns }, { collection: 'app.bsky.feed.post', rkey: [], record_json: json }), /not a delegate/);
  // A write that fails validation gives its budget reservation back.
  await assert.rejects(writes.createRecord(pds, gov, ctx, { collection: 'app.bsky.feed.post', rkey: [], record_json: '{"text": 5}' }), /invalid record/);
  assert.deepEqual({ rev: pds.repo.head()!.rev, seq: pds.events.head(), used: gov.delegateWritesToday(delegate, clock.ns) }, before);
  await writes.createRecord(pds, gov, ctx, { collection: 'app.bsky.feed.post', rkey: [], record_json: json });
  await assert.rejects(writes.createRecord(pds, gov, ctx, { collection: 'app.bsky.feed.post', rkey: [], record_json: json }), /budget/);
  // apply_writes: all in scope or nothing (the budget is a rolling 24 hours, counted by the hour).
  clock.ns += 25n * HOUR;
  await assert.rejects(
    writes.applyWrites(pds, gov, { caller: delegate, nowNs: clock.ns }, { writes: [{ create: { collection: 'app.bsky.feed.post', rkey: [], record_json: json } }, { create: { collection: 'app.bsky.feed.like', rkey: [], record_json: json } }] }),
    /may not write/,
  );
  assert.equal(gov.delegateWritesToday(delegate, clock.ns), 0);
  const batch = await writes.applyWrites(pds, gov, { caller: delegate, nowNs: clock.ns }, { writes: [{ create: { collection: 'app.bsky.feed.post', rkey: [], record_json: json } }, { create: { collection: 'app.bsky.feed.post', rkey: [], record_json: json } }] });
  assert.equal(batch.results.length, 2);
  assert.equal(gov.delegateWritesToday(delegate, clock.ns), 2);
});

test('delegate writes are authorized before any record JSON is parsed', async () => {
  const { pds, gov, delegate, members, clock } = await setup({ collections: ['app.bsky.feed.post'], actions: ['create'], writesPerDay: 5, expiresAtNs: null });
  const notJson = '{"text": ';
  const post = { collection: 'app.bsky.feed.post', rkey: [] as [], record_json: notJson };
  // Callers the JSON would never reach are refused for who they are, not for the JSON.
  await assert.rejects(writes.createRecord(pds, gov, { caller: '2vxsx-fae', nowNs: clock.ns }, post), /anonymous/);
  await assert.rejects(writes.createRecord(pds, gov, { caller: members[0], nowNs: clock.ns }, post), /not a delegate/);
  await assert.rejects(writes.createRecord(pds, gov, { caller: delegate, nowNs: clock.ns }, { ...post, collection: 'app.bsky.graph.follow' }), /may not write/);
  await assert.rejects(
    writes.applyWrites(pds, gov, { caller: delegate, nowNs: clock.ns }, { writes: [{ create: post }, { put: { collection: 'app.bsky.feed.post', rkey: 'a', record_json: notJson, swap_record: [] } }] }),
    /may not put/,
  );
  // An authorized caller reaches the parser, and the reservation comes back.
  await assert.rejects(writes.createRecord(pds, gov, { caller: delegate, nowNs: clock.ns }, post), /not valid JSON/);
  assert.equal(gov.delegateWritesToday(delegate, clock.ns), 0);
});

test('blobs of pending proposals are pinned: GC keeps them past the grace period until the post is executed', async () => {
  const { pds, gov, members, clock } = await setup(undefined, HOUR / 6n);
  const bytes = new Uint8Array(2000);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const up = pds.blobs.start(members[0], 'image/png', bytes.length, clock.ns);
  pds.blobs.putChunk(members[0], up, 0, bytes);
  while (!pds.blobs.hashStep(members[0], up));
  const blob = pds.blobs.finish(members[0], up, clock.ns);
  const id = gov.propose(members[0], { action: { kind: 'post', post: { text: 'look', images: [{ cid: blob.cid.toString(), alt: 'a picture' }] } } }, clock.ns);
  clock.ns += HOUR / 3n; // beyond the 10 min grace period, still voting (1 h)
  const pinned = pinnedBlobs(gov);
  assert.ok(pinned.has(blob.cid.toString()));
  assert.equal(pds.housekeeping((c) => pinned.has(c)).blobs, 0);
  assert.equal(pds.housekeeping().blobs, 1, 'without the pin it would have been collected');
  // (the unpinned run above removed it; re-upload and finish the flow properly)
  const up2 = pds.blobs.start(members[0], 'image/png', bytes.length, clock.ns);
  pds.blobs.putChunk(members[0], up2, 0, bytes);
  while (!pds.blobs.hashStep(members[0], up2));
  pds.blobs.finish(members[0], up2, clock.ns);
  gov.vote(members[0], id, 'yes', clock.ns);
  gov.vote(members[1], id, 'yes', clock.ns);
  await executeAdopted(pds, gov, () => clock.ns);
  assert.equal(gov.getProposal(id)!.status, 'executed', gov.getProposal(id)!.failure ?? '');
  clock.ns += HOUR;
  assert.equal(pds.housekeeping((c) => pinnedBlobs(gov).has(c)).blobs, 0, 'now referenced by the record');
  assert.equal(pinnedBlobs(gov).size, 0);
});

test('a delegate revoked while its writes wait (for the signature, or in the queue) writes nothing', async () => {
  const { pds, gov, delegate, members, clock, signing } = await setup({ collections: ['app.bsky.feed.post'], actions: ['create'], writesPerDay: 10, expiresAtNs: null });
  const json = JSON.stringify({ $type: 'app.bsky.feed.post', text: 'queued', createdAt: '2026-01-01T00:00:00.000Z' });
  const before = { rev: pds.repo.head()!.rev, seq: pds.events.head() };
  signing.gated = true;
  const ctx = { caller: delegate, nowNs: clock.ns };
  const inflight = writes.createRecord(pds, gov, ctx, { collection: 'app.bsky.feed.post', rkey: [], record_json: json });
  const queued = writes.createRecord(pds, gov, ctx, { collection: 'app.bsky.feed.post', rkey: [], record_json: json });
  for (let i = 0; i < 20 && signing.pending() === 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(signing.pending(), 1, 'the first write waits for its signature');
  const id = gov.propose(members[0], { action: { kind: 'revoke_delegate', principal: delegate } }, clock.ns);
  gov.vote(members[0], id, 'yes', clock.ns);
  gov.vote(members[1], id, 'yes', clock.ns);
  assert.equal(gov.getDelegate(delegate), null);
  signing.gated = false;
  signing.releaseAll();
  await assert.rejects(inflight, /not a delegate/);
  await assert.rejects(queued, /not a delegate/);
  assert.deepEqual({ rev: pds.repo.head()!.rev, seq: pds.events.head() }, before);
});

test('blob uploads count against a rolling 24-hour allowance per principal; over it, start is refused and nothing changes', async () => {
  const { pds, gov, members, clock, storage } = await setup();
  const ctx = { caller: members[0], nowNs: clock.ns };
  const size = 5_000_000n;
  for (let i = 0; i < Number(MAX_UPLOAD_BYTES_PER_DAY / 5_000_000); i++) api.blobStart(pds, gov, ctx, { mime_type: 'image/png', size });
  const dumpKv = () => storage.kv.range({ prefix: '', limit: 1_000_000 }).map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`);
  const before = dumpKv();
  assert.throws(() => api.blobStart(pds, gov, ctx, { mime_type: 'image/png', size: 1n }), /uploaded 50000000 bytes in the last 24 hours/);
  assert.deepEqual(dumpKv(), before, 'a refused start changes nothing');
  // another principal has its own allowance; the first has its allowance back 25 hours later
  api.blobStart(pds, gov, { caller: members[1], nowNs: clock.ns }, { mime_type: 'image/png', size });
  api.blobStart(pds, gov, { caller: members[0], nowNs: clock.ns + 25n * HOUR }, { mime_type: 'image/png', size });
});

test('one delegate cannot fill a commit alone: at most 25 of its writes wait for a commit at a time', async () => {
  const { pds, gov, delegate, clock, signing } = await setup({ collections: ['app.bsky.feed.post'], actions: ['create'], writesPerDay: 1000, expiresAtNs: null });
  const json = JSON.stringify({ $type: 'app.bsky.feed.post', text: 'many', createdAt: '2026-01-01T00:00:00.000Z' });
  const batch = (n: number) => ({ writes: Array.from({ length: n }, () => ({ create: { collection: 'app.bsky.feed.post', rkey: [] as [], record_json: json } })) });
  const ctx = { caller: delegate, nowNs: clock.ns };
  await assert.rejects(writes.applyWrites(pds, gov, ctx, batch(26)), /at most 25 records per request/);
  signing.gated = true;
  const first = writes.applyWrites(pds, gov, ctx, batch(20));
  for (let i = 0; i < 20 && signing.pending() === 0; i++) await new Promise((r) => setImmediate(r));
  const used = gov.delegateWritesToday(delegate, clock.ns);
  await assert.rejects(writes.applyWrites(pds, gov, ctx, batch(10)), /at most 25 writes waiting for a commit; 20 are waiting/);
  assert.equal(gov.delegateWritesToday(delegate, clock.ns), used, 'the refused request gave its budget back');
  signing.gated = false;
  signing.releaseAll();
  assert.equal((await first).results.length, 20);
  assert.equal((await writes.applyWrites(pds, gov, ctx, batch(10))).results.length, 10, 'once committed, the delegate may send again');
});
