// Hashing is the dominant per-byte cost inside the canister: a record's bytes must be hashed once
// per commit, however the write enters (Candid JSON → data model → validation → commit → event).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashCounter } from '../../canister/src/atproto/cbor.ts';
import { Pds } from '../../canister/src/pds/pds.ts';
import { memoryPds } from './fixtures.ts';

test('a large record is hashed exactly once per commit (create and update)', async () => {
  const { pds } = memoryPds();
  await pds.bootstrap();
  const collection = 'com.example.canopy.large';
  for (const [action, size] of [['create', 300_000], ['put', 250_000]] as const) {
    const record = Pds.parseRecordJson(JSON.stringify({ $type: collection, text: 'y'.repeat(size), n: 1 }));
    const before = { ...hashCounter };
    await pds.write([{ action, collection, rkey: 'big', record }]);
    const bytes = hashCounter.bytes - before.bytes;
    // The record once, plus small blocks: MST nodes, the commit, key heights.
    assert.ok(bytes >= size && bytes < size + 20_000, `${action}: hashed ${bytes} bytes for a ${size}-byte record`);
    const stored = pds.repo.getRecord(collection, 'big');
    assert.ok(stored && stored.bytes.length > size);
  }
});
