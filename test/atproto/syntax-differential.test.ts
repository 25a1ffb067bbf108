// Our syntax validators vs @atproto/syntax on mutated interop lines (fixed seed). Not compared: AT-URI
// (the reference's isValidAtUri is the lenient form: trailing slash, '+'/'@' in rkeys, fragments) and
// language (the reference's isValidLanguage accepts any tag-like string, even "JA"); the interop vectors
// decide those and syntax.test.ts checks them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as reference from '@atproto/syntax';
import * as ours from '../../canister/src/atproto/syntax/index.ts';
import { readLines } from './interop.ts';

const CHARS = [...'abcXYZ019-._:%/#@~ \u00e9🌲+=TtZz'];

function mutator(seed: number) {
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  return (s: string): string => {
    for (let ops = 1 + rand(3); ops > 0; ops--) {
      const p = rand(s.length + 1);
      const c = CHARS[rand(CHARS.length)];
      switch (rand(4)) {
        case 0: s = s.slice(0, p) + c + s.slice(p); break;
        case 1: s = s.slice(0, p) + s.slice(p + 1); break;
        case 2: s = s.slice(0, p) + c + s.slice(p + 1); break;
        default: s = s.slice(0, p) + s.slice(p, p + 3) + s.slice(p);
      }
    }
    return s;
  };
}

const pairs: [string, (s: string) => boolean, (s: string) => boolean][] = [
  ['handle', ours.isValidHandle, (s) => reference.isValidHandle(s)],
  ['did', ours.isValidDid, (s) => reference.isValidDid(s)],
  ['nsid', ours.isValidNsid, (s) => reference.isValidNsid(s)],
  ['recordkey', ours.isValidRecordKey, (s) => reference.isValidRecordKey(s)],
  ['tid', ours.isValidTid, (s) => reference.isValidTid(s)],
  ['datetime', ours.isValidDatetime, (s) => reference.isDatetimeString(s)],
];

for (const [name, isValid, referenceIsValid] of pairs) {
  test(`syntax ${name} agrees with @atproto/syntax on mutated inputs`, () => {
    const mutate = mutator(7);
    const lines = [...readLines(`syntax/${name}_syntax_valid.txt`), ...readLines(`syntax/${name}_syntax_invalid.txt`)];
    const diffs: string[] = [];
    let accepted = 0;
    let total = 0;
    for (const line of lines.filter((l) => l.length < 300)) {
      for (let i = 0; i < 60; i++) {
        const s = mutate(line);
        const expected = referenceIsValid(s);
        total++;
        if (expected) accepted++;
        if (isValid(s) !== expected) diffs.push(`${JSON.stringify(s)}: reference ${expected}`);
      }
    }
    assert.deepEqual(diffs.slice(0, 10), []);
    assert.ok(accepted > 0 && accepted < total, `${accepted}/${total} accepted: mutations should produce both kinds`);
  });
}
