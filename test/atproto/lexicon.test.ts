import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { INTEROP, readJson } from './interop.ts';
import { jsonToData } from '../../canister/src/atproto/data-model.ts';
import {
  LexiconSet, RecordValidationError, LexiconDocError, checkLexiconDoc, validateRecord,
} from '../../canister/src/atproto/lexicon/index.ts';
import { generateBskyLexicons } from '../../canister/src/atproto/lexicon/gen-bsky-lexicons.ts';

const catalog = readdirSync(new URL('lexicon/catalog/', INTEROP))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(`lexicon/catalog/${f}`, INTEROP), 'utf8')));

type RecordCase = { name: string; rkey: string; data: { $type: string } };

/** JSON -> data model (malformed $bytes/$link is a rejection too) -> lexicon validation. */
function validateCase(set: LexiconSet, c: RecordCase): void {
  set.validateRecord(c.data.$type, jsonToData(c.data), c.rkey);
}

test('interop catalog lexicons load', () => {
  assert.ok(catalog.length >= 5);
  const set = new LexiconSet(catalog);
  assert.ok(set.has('example.lexicon.record'));
});

test('interop record-data valid cases accept', () => {
  const set = new LexiconSet(catalog);
  const cases = readJson<RecordCase[]>('lexicon/record-data-valid.json');
  assert.ok(cases.length >= 3);
  for (const c of cases) assert.doesNotThrow(() => validateCase(set, c), c.name);
});

test('interop record-data invalid cases reject', () => {
  const set = new LexiconSet(catalog);
  const cases = readJson<RecordCase[]>('lexicon/record-data-invalid.json');
  assert.ok(cases.length >= 50);
  for (const c of cases) assert.throws(() => validateCase(set, c), Error, c.name);
});

test('interop record-data invalid cases fail for the stated reason, not just the first one', () => {
  // Most invalid cases differ from a valid record in one field; they must fail with RecordValidationError
  // (or a DataModelError from jsonToData for malformed $bytes), and a message that names the field.
  const set = new LexiconSet(catalog);
  for (const c of readJson<RecordCase[]>('lexicon/record-data-invalid.json')) {
    const fields = Object.keys(c.data).filter((k) => k !== '$type' && k !== 'integer');
    try {
      validateCase(set, c);
      assert.fail(`accepted: ${c.name}`);
    } catch (err) {
      assert.ok(err instanceof RecordValidationError, `${c.name}: ${err}`);
      if (fields.length === 1 && 'integer' in c.data) {
        assert.match(err.message, new RegExp(`Record/${fields[0]}\\b`), `${c.name}: ${err.message}`);
      }
    }
  }
});

test('interop lexicon documents: valid load, invalid rejected', () => {
  for (const c of readJson<{ name: string; lexicon: unknown }[]>('lexicon/lexicon-valid.json')) {
    assert.doesNotThrow(() => checkLexiconDoc(c.lexicon), c.name);
  }
  const invalid = readJson<{ name: string; lexicon: unknown }[]>('lexicon/lexicon-invalid.json');
  assert.ok(invalid.length >= 7);
  for (const c of invalid) assert.throws(() => checkLexiconDoc(c.lexicon), LexiconDocError, c.name);
});

test('record key type is enforced when an rkey is given', () => {
  const set = new LexiconSet(catalog);
  const data = jsonToData({ $type: 'example.lexicon.record', integer: 1 });
  assert.doesNotThrow(() => set.validateRecord('example.lexicon.record', data, 'demo'));
  assert.throws(() => set.validateRecord('example.lexicon.record', data, 'other'), /key type literal:demo/);
  assert.throws(() => set.validateRecord('example.lexicon.record', data, '..'), RecordValidationError);
});

test('checked-in Bluesky lexicons are exactly what the generator produces from @atproto/api', async () => {
  const checkedIn = readFileSync(new URL('../../canister/src/atproto/lexicon/bsky-lexicons.ts', import.meta.url), 'utf8');
  assert.equal(checkedIn, await generateBskyLexicons());
});

test('union $type must be absolute', () => {
  const set = new LexiconSet(catalog);
  const base = { $type: 'example.lexicon.record', integer: 1 };
  assert.doesNotThrow(() => set.validateRecord(base.$type, { ...base, closedUnion: { $type: 'example.lexicon.record#demoObject', a: 1 } }));
  assert.throws(() => set.validateRecord(base.$type, { ...base, closedUnion: { $type: '#demoObject', a: 1 } }), /\$type must be one of/);
  assert.throws(() => set.validateRecord(base.$type, { ...base, closedUnion: { $type: 'lex:example.lexicon.record#demoObject', a: 1 } }), /\$type must be one of/);
});
