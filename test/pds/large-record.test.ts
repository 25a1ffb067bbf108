// The largest record a delegate may send (the ingress policy's cap, chosen so one message stays
// under 2 B instructions) commits through the compiled canister on the local replica, reads back
// byte-identical, and its #commit event passes the Sync v1.1 checks; a record at the spec's
// 1,000,000-byte limit is refused before it is decoded, with a clear reason, and changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { IDL } from '@dfinity/candid';
import { jsonToData } from '../../canister/src/atproto/data-model.ts';
import { methods } from '../../canister/src/api/interface.ts';
import { MAX_RECORD_ARG_BYTES } from '../../canister/src/api/ingress-policy.ts';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import { checkCommitEvent } from '../support/sync-check.ts';
import { startWithDelegate, type CanopyFixture } from '../support/canopy.ts';

const COLLECTION = 'com.example.canopy.large';
const logs: string[] = [];
let fx: CanopyFixture;
const delegate = Ed25519KeyIdentity.generate();

before(async () => {
  fx = await startWithDelegate({
    replica: { log: (l) => logs.push(l) },
    members: [Ed25519KeyIdentity.generate().getPrincipal()],
    delegate,
    collections: [COLLECTION],
    actions: ['create', 'put'],
    writesPerDay: 100,
  });
});

after(async () => {
  await fx?.replica.stop();
});

/**
 * A record whose DAG-CBOR encoding is exactly `size` bytes: mixed ASCII and multi-byte text
 * (so UTF-8 handling is exercised), a nested object and an integer. Sized with @ipld/dag-cbor.
 */
function recordOfSize(size: number): { json: Record<string, unknown>; cid: CID } {
  const unit = 'Canopy records hold the words of a community — ünïcödé, 漢字 and 🌳. ';
  const body = unit.repeat(Math.ceil(size / unit.length)).slice(0, Math.floor(size / 1.25));
  const rec = { $type: COLLECTION, body, meta: { n: 7, tags: ['a', 'b'] } };
  // Settle the remaining bytes with an ASCII field: key "pad" (4 bytes) + string header + text.
  const missing = size - dagCbor.encode(rec).length;
  const header = (n: number) => (n < 24 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
  let padLen = missing - 4 - 1;
  while (padLen > 0 && 4 + header(padLen) + padLen > missing) padLen--;
  assert.ok(padLen > 0 && 4 + header(padLen) + padLen === missing, 'record can be padded to the exact size');
  const json = { ...rec, pad: 'x'.repeat(padLen) };
  const bytes = dagCbor.encode(json);
  assert.equal(bytes.length, size);
  const cid = CID.createV1(0x71, Digest.create(0x12, createHash('sha256').update(bytes).digest()));
  return { json, cid };
}

test('a record at the delegate cap commits through create_record and reads back identical', async () => {
  const { json, cid } = recordOfSize(45_000);
  const arg = IDL.encode(methods.create_record.args, [{ collection: COLLECTION, rkey: [], record_json: JSON.stringify(json) }]);
  assert.ok(arg.byteLength <= MAX_RECORD_ARG_BYTES && arg.byteLength > MAX_RECORD_ARG_BYTES * 0.9, `near the cap: ${arg.byteLength}`);
  const mark = logs.length;
  const res = await fx.delegateActor.create_record({ collection: COLLECTION, rkey: [], record_json: JSON.stringify(json) });
  const spent = logs
    .slice(mark)
    .map((l) => /\[exec\] (update|reply-callback) \S+ .*?instructions=(\d+)/.exec(l))
    .filter((m) => m !== null)
    .reduce((s, m) => s + BigInt(m![2]), 0n);
  console.log(`# record at the delegate cap: create_record used ${(Number(spent) / 1e9).toFixed(2)} B instructions`);
  assert.equal(res.cid[0], cid.toString(), 'CID computed by the canister = sha-256 of @ipld/dag-cbor bytes');

  const rkey = res.uri.split('/').pop();
  const got = await fetch(fx.canopy.url(`/xrpc/com.atproto.repo.getRecord?repo=${encodeURIComponent(fx.did)}&collection=${COLLECTION}&rkey=${rkey}`));
  assert.equal(got.status, 200);
  const body = (await got.json()) as { cid: string; value: unknown };
  assert.equal(body.cid, cid.toString());
  assert.deepEqual(jsonToData(body.value), jsonToData(json));

  // The #commit event carries the record block and passes the relay's Sync v1.1 checks.
  const page = await fx.anonActor.get_events({ after: res.seq - 1n, limit: 1, max_bytes: 1_900_000 });
  assert.equal(page.events.length, 1);
  const frame = decodeFrame(new Uint8Array(page.events[0].frame)) as { header: { t?: string }; body: Record<string, unknown> };
  assert.equal(frame.header.t, '#commit');
  const checked = await checkCommitEvent(frame.body, undefined, { didKey: fx.signingKey });
  assert.equal(checked.commit.rev, res.rev);
});

test('a 1,000,000-byte record is refused before decoding, with a clear reason, and changes nothing', async () => {
  const { json } = recordOfSize(1_000_000);
  const before = await fx.anonActor.get_status();
  const list = async () => (await (await fetch(fx.canopy.url(`/xrpc/com.atproto.repo.listRecords?repo=${encodeURIComponent(fx.did)}&collection=${COLLECTION}`))).json()) as { records: unknown[] };
  const countBefore = (await list()).records.length;
  await assert.rejects(
    fx.delegateActor.create_record({ collection: COLLECTION, rkey: [], record_json: JSON.stringify(json) }),
    (err: Error) => /create_record: the argument is \d+ bytes, more than the 49152 allowed/.test(err.message),
  );
  const after = await fx.anonActor.get_status();
  assert.equal(after.rev[0], before.rev[0], 'repo head unchanged');
  assert.equal(after.head_seq, before.head_seq, 'no event emitted');
  assert.equal((await list()).records.length, countBefore);
});
