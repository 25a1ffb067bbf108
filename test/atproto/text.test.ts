import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countGraphemes, countGraphemesFallback, utf8Length } from '../../canister/src/atproto/lexicon/text.ts';

const corpus = [
  '', 'a', 'hello world', 'a\r\nb', '\n\n', 'é', 'e\u0301', 'e\u0301\u0302x',
  '👍', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '❤️', '🇩🇪', '🇩🇪🇫🇷', '🇩🇪🇫', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '👩🏽‍💻 coding',
  '한국어', '\u1100\u1161\u11a8', '\u1100\u1100\u1161', 'ᄀ각',
  'नमस्ते', 'क्षत्रिय', 'हिन्दी', 'বাংলা', 'தமிழ்', 'ไทย', '日本語のテキスト', 'Ελληνικά', 'العربية', 'עִבְרִית',
  'a\u200db', '\u200d', 'x\ufe0f', '🇩🇪🏳️‍🌈🇩🇪🏳️‍🌈', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
];

test('grapheme fallback (used when Intl.Segmenter is missing, as in the canister) agrees with Intl.Segmenter', () => {
  const seg = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const s of corpus) {
    const expected = [...seg.segment(s)].length;
    assert.equal(countGraphemes(s), expected, JSON.stringify(s));
    assert.equal(countGraphemesFallback(s), expected, `fallback on ${JSON.stringify(s)}`);
  }
});

test('grapheme fallback agrees on random mixes of the corpus', () => {
  const seg = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let seed = 42;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  for (let i = 0; i < 500; i++) {
    let s = '';
    for (let j = rand(6); j >= 0; j--) s += corpus[rand(corpus.length)];
    assert.equal(countGraphemesFallback(s), [...seg.segment(s)].length, JSON.stringify(s));
  }
});

test('utf8Length equals the encoded length, lone surrogates counted as U+FFFD', () => {
  for (const s of [...corpus, '\ud800', 'a\udc00b', '\u{10ffff}', '\u07ff\u0800']) {
    assert.equal(utf8Length(s), Buffer.byteLength(s, 'utf8'), JSON.stringify(s));
  }
});
