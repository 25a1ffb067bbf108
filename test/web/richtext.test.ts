// The app splits post text at facets exactly as Bluesky's own client library does (@atproto/api
// RichText), over facets from the repository's post builder and hand-made edge cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RichText } from '@atproto/api';
import { detectFacets } from '../../canister/src/bsky/facets.ts';
import { segments, type Facet } from '../../web/src/post-view.ts';

const resolve = (handle: string) => (handle === 'alice.test' ? 'did:plc:alice234567abcdefghijklm' : undefined);

function reference(text: string, facets: Facet[]) {
  return [...new RichText({ text, facets: facets as never }).segments()].map((s) => ({
    text: s.text,
    feature: s.isLink() ? 'link' : s.isMention() ? 'mention' : s.isTag() ? 'tag' : undefined,
  }));
}

const mine = (text: string, facets: Facet[]) => segments(text, facets).map((s) => ({ text: s.text, feature: s.feature }));

test('segments match @atproto/api RichText for detected facets (ASCII, emoji, CJK, combining marks)', () => {
  const texts = [
    'Hello @alice.test, see https://example.org/a?b=c #canopy',
    '🌳🌳 co-op #森 and @alice.test 👩‍👩‍👧 https://bsky.app/profile/x',
    'e\u0301te\u0301 #fête (https://example.com) end',
    'no facets at all',
    '#tag1 #tag2\n@alice.test\nexample.org',
  ];
  for (const text of texts) {
    const { facets } = detectFacets(text, resolve);
    assert.ok(facets.length > 0 || text === 'no facets at all', text);
    assert.deepEqual(mine(text, facets as Facet[]), reference(text, facets as Facet[]), text);
  }
});

test('overlapping and out-of-range facets are left as plain text, never mis-sliced', () => {
  const text = 'abc 🌳 def';
  const link = (byteStart: number, byteEnd: number): Facet => ({ index: { byteStart, byteEnd }, features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://x.org' }] });
  const out = segments(text, [link(0, 3), link(2, 6), link(100, 120)]);
  assert.equal(out.map((s) => s.text).join(''), text);
  assert.deepEqual(out[0], { text: 'abc', feature: 'link', href: 'https://x.org' });
  assert.equal(out.filter((s) => s.href).length, 1);
});

test('only http(s) links become links (a javascript: URI in a facet stays text)', () => {
  const text = 'click me';
  const out = segments(text, [{ index: { byteStart: 0, byteEnd: 5 }, features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'javascript:alert(1)' }] }]);
  assert.ok(out.every((s) => !s.href));
  assert.equal(out.map((s) => s.text).join(''), text);
});
