import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLines } from './interop.ts';
import * as syntax from '../../canister/src/atproto/syntax/index.ts';

const cases: [string, (v: string) => boolean, ((v: unknown) => void)?][] = [
  ['handle', syntax.isValidHandle, syntax.ensureValidHandle],
  ['did', syntax.isValidDid, syntax.ensureValidDid],
  ['nsid', syntax.isValidNsid, syntax.ensureValidNsid],
  ['tid', syntax.isValidTid, syntax.ensureValidTid],
  ['recordkey', syntax.isValidRecordKey, syntax.ensureValidRecordKey],
  ['aturi', syntax.isValidAtUri, syntax.ensureValidAtUri],
  ['datetime', syntax.isValidDatetime, syntax.ensureValidDatetime],
  ['cid', syntax.isValidCid, syntax.ensureValidCid],
  ['language', syntax.isValidLanguage, syntax.ensureValidLanguage],
  ['atidentifier', syntax.isValidAtIdentifier, syntax.ensureValidAtIdentifier],
  ['uri', syntax.isValidUri, syntax.ensureValidUri],
];

for (const [name, isValid, ensure] of cases) {
  test(`syntax ${name}: interop valid lines accept`, () => {
    const lines = readLines(`syntax/${name}_syntax_valid.txt`);
    assert.ok(lines.length > 0);
    for (const line of lines) {
      assert.equal(isValid(line), true, `${name} should accept ${JSON.stringify(line.slice(0, 100))}`);
      ensure?.(line);
    }
  });
  test(`syntax ${name}: interop invalid lines reject`, () => {
    const lines = readLines(`syntax/${name}_syntax_invalid.txt`);
    assert.ok(lines.length > 0);
    for (const line of lines) {
      assert.equal(isValid(line), false, `${name} should reject ${JSON.stringify(line.slice(0, 100))}`);
      if (ensure) assert.throws(() => ensure(line), syntax.InvalidSyntaxError);
    }
  });
}

// "*_parse_invalid": lines that match the grammar but do not denote a valid value (month 0, negative
// normalized time, repeated BCP 47 variant/singleton). Our validators are the strict kind and reject them.
for (const [name, isValid] of [['datetime', syntax.isValidDatetime], ['language', syntax.isValidLanguage]] as const) {
  test(`syntax ${name}: interop parse-invalid lines reject`, () => {
    const lines = readLines(`syntax/${name}_parse_invalid.txt`);
    assert.ok(lines.length > 0);
    for (const line of lines) assert.equal(isValid(line), false, `${name} should reject ${line}`);
  });
}

test('ensure* names the problem and rejects non-strings', () => {
  assert.throws(() => syntax.ensureValidHandle('john..test'), /invalid handle/);
  assert.throws(() => syntax.ensureValidDid(42), /expected a string/);
  assert.throws(() => syntax.ensureValidAtUri('at://did:plc:abc/app.bsky.feed.post/x/y'), /more than collection/);
});

test('parseAtUri splits authority, collection, rkey', () => {
  assert.deepEqual(syntax.parseAtUri('at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a'), {
    authority: 'did:plc:abc',
    collection: 'app.bsky.feed.post',
    rkey: '3jzfcijpj2z2a',
  });
  assert.deepEqual(syntax.parseAtUri('at://alice.test'), { authority: 'alice.test' });
});
