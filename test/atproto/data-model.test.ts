import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readJson } from './interop.ts';
import {
  jsonToData, dataToJson, validateDataModel, DataModelError, base64Encode, base64Decode, isBlobRef,
} from '../../canister/src/atproto/data-model.ts';
import { encodeCbor, decodeCbor, cidForCborBytes, CID } from '../../canister/src/atproto/cbor.ts';
import { jsonToLex, lexToIpld } from '@atproto/lexicon';

const bytesEqual = (a: Uint8Array, b: Uint8Array, msg?: string) =>
  assert.equal(Buffer.from(a).toString('hex'), Buffer.from(b).toString('hex'), msg);

const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** JSON -> data model -> validated, as an incoming record goes. */
const ingest = (json: unknown) => {
  const data = jsonToData(json);
  validateDataModel(data);
  return data;
};

test('data-model fixtures: exact DAG-CBOR bytes and CID, and back to the same JSON', () => {
  const fixtures = readJson<{ json: unknown; cbor_base64: string; cid: string }[]>('data-model/data-model-fixtures.json');
  assert.equal(fixtures.length, 3);
  for (const f of fixtures) {
    const bytes = encodeCbor(ingest(f.json));
    bytesEqual(bytes, fromB64(f.cbor_base64));
    assert.equal(cidForCborBytes(bytes).toString(), f.cid);
    assert.deepEqual(dataToJson(decodeCbor(bytes)), f.json);
  }
});

test('data-model valid cases accept', () => {
  const cases = readJson<{ note: string; json: unknown }[]>('data-model/data-model-valid.json');
  assert.ok(cases.length >= 5);
  for (const c of cases) assert.doesNotThrow(() => ingest(c.json), c.note);
});

test('data-model invalid cases reject with DataModelError', () => {
  const cases = readJson<{ note: string; json: unknown }[]>('data-model/data-model-invalid.json');
  assert.ok(cases.length >= 12);
  for (const c of cases) assert.throws(() => ingest(c.json), DataModelError, c.note);
});

test('our JSON conversion agrees with @atproto/lexicon jsonToLex on the fixtures', () => {
  const fixtures = readJson<{ json: unknown }[]>('data-model/data-model-fixtures.json');
  for (const f of fixtures) {
    const ours = encodeCbor(jsonToData(f.json));
    const theirs = encodeCbor(lexToIpld(jsonToLex(f.json as any)));
    bytesEqual(ours, theirs);
  }
});

test('other values outside the data model are rejected', () => {
  const cid = CID.parse('bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a');
  const bad: [string, unknown][] = [
    ['NaN', { a: NaN }],
    ['Infinity', { a: Infinity }],
    ['unsafe integer', { a: 2 ** 53 }],
    ['undefined', { a: undefined }],
    ['Date', { a: new Date() }],
    ['Map', { a: new Map() }],
    ['lone surrogate', { a: 'x\ud800y' }],
    ['CIDv0', { a: CID.parse('QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR') }],
    ['$link key in data model', { a: { $link: cid.toString() } }],
    ['array top-level', [1]],
    ['blob negative size', { b: { $type: 'blob', ref: cid, mimeType: 'image/png', size: -1 } }],
  ];
  for (const [note, v] of bad) assert.throws(() => validateDataModel(v), DataModelError, note);
  assert.doesNotThrow(() => validateDataModel({ a: 'ok 👨‍👩‍👧', b: [cid, new Uint8Array([1]), null, true, -5] }));
  assert.ok(isBlobRef({ $type: 'blob', ref: cid, mimeType: 'image/png', size: 3 }));
});

test('base64 matches Node (no padding) and decodes padded, unpadded and short tails', () => {
  for (let n = 0; n < 40; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    const ref = Buffer.from(bytes).toString('base64');
    assert.equal(base64Encode(bytes), ref.replace(/=+$/, ''));
    assert.deepEqual(base64Decode(ref), bytes);
    assert.deepEqual(base64Decode(ref.replace(/=+$/, '')), bytes);
  }
  assert.equal(base64Decode('123').length, 2);
  assert.throws(() => base64Decode('a'), DataModelError);
  assert.throws(() => base64Decode('ab!d'), DataModelError);
});
