// String measures Lexicon constraints use: UTF-8 length (maxLength) and grapheme count (maxGraphemes).

/** UTF-8 byte length without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

type SegmenterLike = { segment(s: string): Iterable<unknown> };
const Segmenter = (globalThis as { Intl?: { Segmenter?: new (locale?: string, opts?: object) => SegmenterLike } }).Intl
  ?.Segmenter;
const segmenter = Segmenter ? new Segmenter(undefined, { granularity: 'grapheme' }) : undefined;

/** Extended grapheme clusters: Intl.Segmenter when the runtime has it (Node), else `countGraphemesFallback`. */
export function countGraphemes(s: string): number {
  if (!segmenter) return countGraphemesFallback(s);
  let n = 0;
  for (const _ of segmenter.segment(s)) n++;
  return n;
}

// The canister's JS engine has no Intl.Segmenter. This follows the UAX #29 rules that matter for real text:
// CR LF, extenders (marks, ZWJ, emoji modifiers, tags), emoji ZWJ sequences, regional-indicator pairs,
// Hangul syllable sequences and Indic conjuncts (consonant + virama + consonant).
const EXTEND = /[\p{M}\u200c\u200d\u{1f3fb}-\u{1f3ff}\u{e0020}-\u{e007f}]/u;
const PICTO = /\p{Extended_Pictographic}/u;
const LINKERS = new Set([0x094d, 0x09cd, 0x0acd, 0x0b4d, 0x0c4d, 0x0d4d]);
const INDIC_LETTER = /[\u0900-\u0d7f]/u;
const LETTER = /\p{L}/u;

function hangulKind(cp: number): 'L' | 'V' | 'T' | 'LV' | 'LVT' | undefined {
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0xa960 && cp <= 0xa97c)) return 'L';
  if ((cp >= 0x1160 && cp <= 0x11a7) || (cp >= 0xd7b0 && cp <= 0xd7c6)) return 'V';
  if ((cp >= 0x11a8 && cp <= 0x11ff) || (cp >= 0xd7cb && cp <= 0xd7fb)) return 'T';
  if (cp >= 0xac00 && cp <= 0xd7a3) return (cp - 0xac00) % 28 === 0 ? 'LV' : 'LVT';
  return undefined;
}

function hangulJoins(prev: string | undefined, cur: string | undefined): boolean {
  if (!prev || !cur) return false;
  if (prev === 'L') return cur !== 'T';
  if (prev === 'LV' || prev === 'V') return cur === 'V' || cur === 'T';
  return cur === 'T'; // LVT, T
}

export function countGraphemesFallback(s: string): number {
  let count = 0;
  let prev: string | undefined; // previous code point
  let prevHangul: ReturnType<typeof hangulKind>;
  let riRun = 0; // regional indicators in the current cluster
  let pictoBase = false; // cluster is an emoji (possibly with extenders), so ZWJ + emoji continues it
  let indicBase = false; // cluster started with an Indic letter
  let linked = false; // an Indic virama has been seen since the last letter
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const hangul = hangulKind(cp);
    const isRi = cp >= 0x1f1e6 && cp <= 0x1f1ff;
    let join = false;
    if (prev !== undefined) {
      if (prev === '\r' && ch === '\n') join = true;
      else if (prev === '\r' || prev === '\n' || ch === '\r' || ch === '\n') join = false;
      else if (EXTEND.test(ch)) join = true;
      else if (prev === '\u200d' && pictoBase && PICTO.test(ch)) join = true;
      else if (isRi && riRun % 2 === 1) join = true;
      else if (hangulJoins(prevHangul, hangul)) join = true;
      else if (indicBase && linked && INDIC_LETTER.test(ch) && LETTER.test(ch)) join = true;
    }
    if (!join) {
      count++;
      riRun = 0;
      pictoBase = PICTO.test(ch);
      indicBase = INDIC_LETTER.test(ch) && LETTER.test(ch);
      linked = false;
    } else if (LETTER.test(ch)) {
      linked = false;
    }
    if (isRi) riRun++;
    if (LINKERS.has(cp)) linked = true;
    prevHangul = hangul;
    prev = ch;
  }
  return count;
}
