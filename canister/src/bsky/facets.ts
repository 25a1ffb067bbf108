// Rich-text facets for app.bsky.feed.post: mentions, links and hashtags found in the text, with
// byteStart/byteEnd counted in UTF-8 bytes as app.bsky.richtext.facet requires.
// Detection follows the conventions of the Bluesky app, so posts render the way people expect:
// a token starts at the beginning of the text, after whitespace or after "(".
import { isValidHandle } from '../atproto/syntax/index.ts';
import { countGraphemes, utf8Length } from './text.ts';

export type FacetFeature =
  | { $type: 'app.bsky.richtext.facet#mention'; did: string }
  | { $type: 'app.bsky.richtext.facet#link'; uri: string }
  | { $type: 'app.bsky.richtext.facet#tag'; tag: string };

export type Facet = { index: { byteStart: number; byteEnd: number }; features: FacetFeature[] };

/** Maps a (lowercased) handle to a DID, or undefined when it cannot be resolved. */
export type MentionResolver = (handle: string) => string | undefined;

export type DetectedFacets = { facets: Facet[]; unresolvedMentions: string[] };

// Top-level domains accepted for bare (scheme-less) links. Deliberately short: a false link on
// "file.txt" is worse than a missed one; explicit http(s):// links are always recognised.
const BARE_TLDS = new Set(
  ('com org net edu gov io dev app social xyz info me co ai tv uk de fr nl jp ca au eu us es it ch se no fi dk ' +
    'pl be at br in cz ru pt nz ie blog news tech site online page cloud art')
    .split(' '),
);

const MENTION_RE = /(^|\s|\()@([a-zA-Z0-9.-]+)/g;
const LINK_RE = /(^|\s|\()((https?:\/\/\S+)|([a-z][a-z0-9]*(?:\.[a-z0-9-]+)+\S*))/gi;
const TAG_RE = /(^|\s)[#\uff03]((?!\ufe0f)[^\s\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2]+)/gu;
const TRAILING_PUNCT = /\p{P}+$/u;

function span(text: string, start: number, end: number): Facet['index'] {
  const byteStart = utf8Length(text.slice(0, start));
  return { byteStart, byteEnd: byteStart + utf8Length(text.slice(start, end)) };
}

function trimLink(uri: string): string {
  let out = uri;
  // Sentence punctuation after a link is not part of it; a closing paren only if unbalanced.
  for (;;) {
    if (/[.,;:!?]$/.test(out)) out = out.slice(0, -1);
    else if (out.endsWith(')') && !out.includes('(')) out = out.slice(0, -1);
    else if (/["'\]]$/.test(out) && !/["'[]/.test(out.slice(0, -1))) out = out.slice(0, -1);
    else return out;
  }
}

function detectMentions(text: string, resolve: MentionResolver, out: DetectedFacets): void {
  for (const m of text.matchAll(MENTION_RE)) {
    let handle = m[2]!;
    while (handle.endsWith('.') || handle.endsWith('-')) handle = handle.slice(0, -1);
    if (!isValidHandle(handle)) continue;
    const start = m.index! + m[1]!.length;
    const end = start + 1 + handle.length;
    const did = resolve(handle.toLowerCase());
    if (!did) {
      out.unresolvedMentions.push(handle);
      continue;
    }
    out.facets.push({ index: span(text, start, end), features: [{ $type: 'app.bsky.richtext.facet#mention', did }] });
  }
}

function detectLinks(text: string, out: DetectedFacets): void {
  for (const m of text.matchAll(LINK_RE)) {
    const start = m.index! + m[1]!.length;
    let raw = trimLink(m[2]!);
    let uri = raw;
    if (!m[3]) {
      // bare domain: the part before any path must end in a known TLD
      const host = raw.split(/[/?#]/)[0]!;
      const tld = host.split('.').pop()!.toLowerCase();
      if (!BARE_TLDS.has(tld) || !/^[a-z0-9.-]+$/i.test(host)) continue;
      uri = `https://${raw}`;
    } else if (/^https?:\/\/$/i.test(raw) || !/^https?:\/\/[^/?#\s]+\.[^/?#\s]+|^https?:\/\/localhost/i.test(raw)) {
      continue;
    }
    out.facets.push({ index: span(text, start, start + raw.length), features: [{ $type: 'app.bsky.richtext.facet#link', uri }] });
  }
}

function detectTags(text: string, out: DetectedFacets): void {
  for (const m of text.matchAll(TAG_RE)) {
    const tag = m[2]!.replace(TRAILING_PUNCT, '');
    if (tag.length === 0 || /^\d+$/.test(tag)) continue;
    if (countGraphemes(tag) > 64 || utf8Length(tag) > 640) continue;
    const start = m.index! + m[1]!.length;
    const end = start + 1 + tag.length; // '#' and '＃' are both one UTF-16 unit
    out.facets.push({ index: span(text, start, end), features: [{ $type: 'app.bsky.richtext.facet#tag', tag }] });
  }
}

export function detectFacets(text: string, resolve: MentionResolver): DetectedFacets {
  const out: DetectedFacets = { facets: [], unresolvedMentions: [] };
  detectMentions(text, resolve, out);
  detectLinks(text, out);
  detectTags(text, out);
  // Overlapping facets are invalid; keep the first found (mentions, then links, then tags).
  const kept: Facet[] = [];
  for (const f of out.facets) {
    if (kept.some((k) => f.index.byteStart < k.index.byteEnd && k.index.byteStart < f.index.byteEnd)) continue;
    kept.push(f);
  }
  kept.sort((a, b) => a.index.byteStart - b.index.byteStart);
  return { facets: kept, unresolvedMentions: out.unresolvedMentions };
}
