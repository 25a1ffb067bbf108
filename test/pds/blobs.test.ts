// Blobs: chunked upload, sniffing, resumable hashing, CIDs, references and garbage collection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2';
import { cidForRaw } from '../../canister/src/atproto/cbor.ts';
import { MemoryKv } from '../../canister/src/storage/kv.ts';
import { BlobStore, checkMime, sniffMime, blobRefs } from '../../canister/src/pds/blobs.ts';
import { sha256Final, sha256Init, sha256Update } from '../../canister/src/pds/resumable-sha256.ts';
import { memoryPds, post, rk } from './fixtures.ts';

const HOUR = 3600n * 1_000_000_000n;
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const png = (size: number) => {
  const b = new Uint8Array(randomBytes(size));
  b.set(PNG);
  return b;
};

test('resumable SHA-256 matches @noble/hashes for many sizes and split points', () => {
  for (const size of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 4096, 100_003]) {
    const data = new Uint8Array(randomBytes(size));
    const split = Math.floor(size / 3);
    let st = sha256Init();
    st = sha256Update(st, data.subarray(0, split));
    st = sha256Update(st, data.subarray(split, split + 7));
    st = sha256Update(st, data.subarray(split + 7));
    assert.deepEqual(sha256Final(st), nobleSha256(data), `size ${size}`);
  }
});

test('sniffing and declared type checks', () => {
  assert.equal(sniffMime(PNG), 'image/png');
  assert.equal(sniffMime(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0])), 'image/jpeg');
  assert.equal(sniffMime(new TextEncoder().encode('GIF89a....')), 'image/gif');
  assert.equal(sniffMime(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 ')), 'image/webp');
  assert.equal(sniffMime(new TextEncoder().encode('\0\0\0\x18ftypisom')), 'video/mp4');
  assert.equal(sniffMime(new TextEncoder().encode('hello')), undefined);
  assert.equal(checkMime('image/png', 'image/png'), 'image/png');
  assert.equal(checkMime('application/octet-stream', 'image/png'), 'image/png');
  assert.throws(() => checkMime('image/jpeg', 'image/png'), /mismatch/);
  assert.throws(() => checkMime('image/png', undefined), /not image\/png/);
  assert.equal(checkMime('text/plain; charset=utf-8', undefined), 'text/plain');
  assert.throws(() => checkMime('not a type', undefined), /invalid content type/);
});

function store(limits = { maxBytes: 5_000_000, graceNs: HOUR }) {
  return new BlobStore(new MemoryKv(), new MemoryKv(), () => limits);
}

test('chunked upload: CID is the raw-codec CID of the bytes; bounded hash steps; reads across chunks', () => {
  const s = store();
  const bytes = png(3_000_000);
  const id = s.start('alice', 'image/png', bytes.length, 0n);
  s.putChunk('alice', id, 0, bytes.subarray(0, 1_900_000));
  assert.throws(() => s.putChunk('alice', id, 5, bytes.subarray(1_900_000)), /expected offset 1900000/);
  assert.throws(() => s.putChunk('bob', id, 1_900_000, bytes.subarray(1_900_000)), /another principal/);
  s.putChunk('alice', id, 1_900_000, bytes.subarray(1_900_000));
  assert.throws(() => s.finish('alice', id, 0n), /not fully hashed/);
  let steps = 0;
  while (!s.hashStep('alice', id, 256 * 1024)) steps++;
  assert.ok(steps >= 10, `hashing took ${steps + 1} bounded steps`);
  const out = s.finish('alice', id, 0n);
  assert.equal(out.cid.toString(), cidForRaw(bytes).toString());
  assert.equal(out.mimeType, 'image/png');
  const meta = s.getMeta(out.cid)!;
  assert.deepEqual(s.read(meta, 1_899_990, 20), bytes.subarray(1_899_990, 1_900_010));
  assert.deepEqual(s.read(meta, 0, bytes.length), bytes);
});

test('uploads are refused: too large, oversize chunk, content that is not the declared type', () => {
  const s = store({ maxBytes: 1000, graceNs: HOUR });
  assert.throws(() => s.start('a', 'image/png', 1001, 0n), /too large/);
  const s2 = store();
  const id = s2.start('a', 'image/png', 2_000_000, 0n);
  assert.throws(() => s2.putChunk('a', id, 0, new Uint8Array(2_000_000)), /chunk too large/);
  const jpeg = new Uint8Array(100);
  jpeg.set([0xff, 0xd8, 0xff]);
  const id2 = s2.start('a', 'image/png', 100, 0n);
  assert.throws(() => s2.putChunk('a', id2, 0, jpeg), /mismatch/);
  assert.throws(() => s2.putChunk('a', id2, 0, png(101)), /exceeds declared size/);
});

test('referenced blobs are kept; unreferenced ones and abandoned uploads are collected after the grace period', async () => {
  const { pds, clock } = memoryPds();
  await pds.bootstrap();
  const upload = (bytes: Uint8Array) => {
    const id = pds.blobs.start('m', 'image/png', bytes.length, clock.ns);
    pds.blobs.putChunk('m', id, 0, bytes);
    while (!pds.blobs.hashStep('m', id));
    return pds.blobs.finish('m', id, clock.ns);
  };
  const kept = upload(png(5000));
  const dropped = upload(png(6000));
  pds.blobs.start('m', 'image/png', 10, clock.ns); // abandoned
  const image = (b: typeof kept) => ({ $type: 'blob', ref: b.cid, mimeType: b.mimeType, size: b.size });
  const record = { ...post('with image'), embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'x', image: image(kept) }] } };
  assert.equal(blobRefs(record).length, 1);
  await pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('img'), record }]);
  assert.deepEqual(pds.blobs.list({ limit: 10 }).map(String), [kept.cid.toString()]);
  clock.ns += 2n * HOUR;
  // blocks: the genesis commit and its empty MST root, dropped by the first write an hour ago.
  assert.deepEqual(pds.housekeeping(), { events: 0, blobs: 1, uploads: 1, blocks: 2 });
  assert.ok(pds.blobs.getMeta(kept.cid));
  assert.equal(pds.blobs.getMeta(dropped.cid), undefined);
  // Deleting the record starts the grace period for its blob.
  await pds.write([{ action: 'delete', collection: 'app.bsky.feed.post', rkey: rk('img') }]);
  assert.deepEqual(pds.blobs.list({ limit: 10 }), []);
  clock.ns += HOUR / 2n;
  assert.equal(pds.housekeeping().blobs, 0, 'still within grace');
  clock.ns += HOUR;
  assert.equal(pds.housekeeping().blobs, 1);
  assert.equal(pds.blobs.getMeta(kept.cid), undefined);
  // A record that references a missing (collected) blob is refused.
  await assert.rejects(pds.write([{ action: 'create', collection: 'app.bsky.feed.post', rkey: rk('img2'), record }]), /blob not found/);
});

test('collection is bounded per call and resumes where it stopped (wrapping around)', () => {
  const s = store({ maxBytes: 5_000_000, graceNs: HOUR });
  const made: string[] = [];
  for (let i = 0; i < 7; i++) {
    const bytes = png(100 + i);
    const id = s.start('m', 'image/png', bytes.length, 0n);
    s.putChunk('m', id, 0, bytes);
    while (!s.hashStep('m', id));
    made.push(s.finish('m', id, 0n).cid.toString());
  }
  const counts: number[] = [];
  for (let i = 0; i < 4; i++) counts.push(s.collect(2n * HOUR, 3).blobs);
  assert.deepEqual(counts.slice(0, 3), [3, 3, 1]);
  assert.equal(counts.reduce((a, b) => a + b, 0), 7);
});
