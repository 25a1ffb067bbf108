// Bluesky record validation, checked against the reference validator (@atproto/api `lexicons`, i.e.
// @atproto/lexicon) on realistic records and on systematic single-field mutations of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lexicons as reference, jsonToLex } from '@atproto/api';
import { jsonToData, DataModelError } from '../../canister/src/atproto/data-model.ts';
import { validateRecord, RecordValidationError } from '../../canister/src/atproto/lexicon/index.ts';

import { samples, mutations } from './bsky-samples.ts';

function referenceAccepts(json: unknown): boolean {
  try {
    const value = jsonToLex(json as any) as { $type: string };
    reference.assertValidRecord(value.$type, value);
    return true;
  } catch {
    return false;
  }
}

/** null when accepted, else our error message. */
function ourError(json: unknown): string | null {
  try {
    const value = jsonToData(json) as { $type: string };
    validateRecord(value.$type, value);
    return null;
  } catch (err) {
    if (err instanceof RecordValidationError || err instanceof DataModelError) return err.message;
    throw err;
  }
}
const oursAccepts = (json: unknown) => ourError(json) === null;

// Where we are deliberately stricter than @atproto/lexicon's assertValidRecord: it does not apply the
// data-model rules (interop data-model-invalid: empty $type, malformed blob objects) nor blob accept/maxSize
// (interop record-data-invalid "blob too large" / "blob wrong type"); the reference PDS checks those elsewhere.
const STRICTER_BY_DESIGN = [/not valid data/, /must be a blob/, /blob is larger than/, /blob mimeType must be/];

test('realistic Bluesky records are accepted by ours and the reference', () => {
  for (const s of samples) {
    assert.equal(referenceAccepts(s), true, `reference rejects sample ${s.$type}`);
    assert.equal(oursAccepts(s), true, `we reject sample ${JSON.stringify(s).slice(0, 200)}`);
  }
});

test('single-field mutations: our verdict equals the reference validator on every one', (t) => {
  let count = 0;
  let rejected = 0;
  let stricter = 0;
  const mismatches: string[] = [];
  for (const s of samples) {
    for (const [what, mutated] of mutations(s)) {
      const error = ourError(mutated);
      const theirs = referenceAccepts(mutated);
      count++;
      if (!theirs) rejected++;
      if (error === null && !theirs) mismatches.push(`${s.$type}: ${what}: we accept, reference rejects`);
      if (error !== null && theirs) {
        stricter++;
        if (!STRICTER_BY_DESIGN.some((re) => re.test(error))) mismatches.push(`${s.$type}: ${what}: we reject (${error}), reference accepts`);
      }
    }
  }
  assert.ok(count > 1000, `only ${count} mutations`);
  assert.ok(rejected > count / 3, 'mutations should mostly be invalid');
  assert.deepEqual(mismatches, []);
  assert.ok(stricter < count / 10, `stricter on ${stricter} of ${count}`);
  t.diagnostic(`${count} mutations, reference rejects ${rejected}, we are stricter by design on ${stricter}`);
});

test('record-level rules: $type must match, unknown collections get data-model checks only', () => {
  assert.throws(() => validateRecord('app.bsky.feed.like', jsonToData(samples[0])), /\$type must be/);
  assert.doesNotThrow(() => validateRecord('com.example.thing', { $type: 'com.example.thing', anything: [1, 'two'] }));
  assert.throws(() => validateRecord('com.example.thing', { $type: 'com.example.thing', x: 1.5 }), /not valid data/);
  assert.throws(() => validateRecord('not-an-nsid', { $type: 'not-an-nsid' }), RecordValidationError);
  assert.throws(() => validateRecord('app.bsky.feed.post', jsonToData({ ...samples[0], text: 'x'.repeat(301) })), /Record\/text must not be longer than 300 graphemes/);
  assert.doesNotThrow(() => validateRecord('app.bsky.feed.post', jsonToData(samples[0]), '3l3qo2vutsw2b'));
  assert.throws(() => validateRecord('app.bsky.feed.post', jsonToData(samples[0]), 'self'), /key type tid/);
  assert.throws(() => validateRecord('app.bsky.actor.profile', jsonToData(samples[11]), '3l3qo2vutsw2b'), /literal:self/);
});
