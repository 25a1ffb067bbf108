// Realistic Bluesky records and systematic single-field mutations of them (shared by tests and checks).
const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const now = '2026-11-21T10:00:00.000Z';
export const strongRef = { uri: `at://${did}/app.bsky.feed.post/3l3qo2vutsw2b`, cid: 'bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q' };
export const blob = (mimeType: string, size = 1234) => ({
  $type: 'blob', ref: { $link: 'bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity' }, mimeType, size,
});

export const samples: Record<string, unknown>[] = [
  { $type: 'app.bsky.feed.post', text: 'hello world', createdAt: now },
  {
    $type: 'app.bsky.feed.post',
    text: 'hi @alice.test see https://example.com #canopy 👨‍👩‍👧',
    createdAt: now,
    langs: ['en', 'pt-BR'],
    tags: ['governance'],
    facets: [
      { index: { byteStart: 3, byteEnd: 14 }, features: [{ $type: 'app.bsky.richtext.facet#mention', did }] },
      { index: { byteStart: 19, byteEnd: 38 }, features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com' }] },
      { index: { byteStart: 39, byteEnd: 46 }, features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'canopy' }] },
    ],
    reply: { root: strongRef, parent: strongRef },
    labels: { $type: 'com.atproto.label.defs#selfLabels', values: [{ val: 'nudity' }] },
    embed: {
      $type: 'app.bsky.embed.images',
      images: [{ image: blob('image/png'), alt: 'a tree', aspectRatio: { width: 4, height: 3 } }],
    },
  },
  {
    $type: 'app.bsky.feed.post', text: '', createdAt: now,
    embed: { $type: 'app.bsky.embed.external', external: { uri: 'https://example.com/a', title: 'A', description: 'B', thumb: blob('image/jpeg') } },
  },
  {
    $type: 'app.bsky.feed.post', text: 'quote', createdAt: now,
    embed: {
      $type: 'app.bsky.embed.recordWithMedia',
      record: { $type: 'app.bsky.embed.record', record: strongRef },
      media: { $type: 'app.bsky.embed.video', video: blob('video/mp4', 5_000_000), alt: 'clip', captions: [{ lang: 'en', file: blob('text/vtt', 100) }] },
    },
  },
  { $type: 'app.bsky.feed.post', text: 'q', createdAt: now, embed: { $type: 'app.bsky.embed.record', record: strongRef } },
  { $type: 'app.bsky.feed.like', subject: strongRef, createdAt: now },
  { $type: 'app.bsky.feed.like', subject: strongRef, createdAt: now, via: strongRef },
  { $type: 'app.bsky.feed.repost', subject: strongRef, createdAt: now },
  { $type: 'app.bsky.graph.follow', subject: did, createdAt: now },
  { $type: 'app.bsky.graph.block', subject: did, createdAt: now },
  {
    $type: 'app.bsky.actor.profile', displayName: 'Canopy Commons', description: 'A community-governed account',
    avatar: blob('image/png', 100_000), banner: blob('image/jpeg', 900_000), pinnedPost: strongRef, createdAt: now,
    website: 'https://canopy.example', pronouns: 'they/them',
  },
  { $type: 'app.bsky.actor.profile' },
  {
    $type: 'app.bsky.graph.list', name: 'Members', purpose: 'app.bsky.graph.defs#curatelist', createdAt: now,
    description: 'members of the commons', avatar: blob('image/png'),
  },
  { $type: 'app.bsky.graph.listitem', subject: did, list: `at://${did}/app.bsky.graph.list/3l3qo2vutsw2b`, createdAt: now },
  {
    $type: 'app.bsky.feed.threadgate', post: strongRef.uri, createdAt: now,
    allow: [{ $type: 'app.bsky.feed.threadgate#mentionRule' }, { $type: 'app.bsky.feed.threadgate#listRule', list: `at://${did}/app.bsky.graph.list/3l3qo2vutsw2b` }],
    hiddenReplies: [strongRef.uri],
  },
  {
    $type: 'app.bsky.feed.postgate', post: strongRef.uri, createdAt: now,
    detachedQuotes: [strongRef.uri], quotepostRules: [{ $type: 'app.bsky.feed.postgate#disableRule' }],
  },
];

// Replacement values for mutations; floats are left out (they are not data-model values at all).
const replacements: unknown[] = [
  null, true, 0, -1, 2 ** 40, '', 'not a did', 'x'.repeat(3001), '🌲'.repeat(301), [], [1], {}, { $type: 'blob' },
  blob('application/octet-stream', 10_000_000), { $link: 'bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q' },
  { $type: 'com.example.unknown', a: 1 }, '2026-13-01T00:00:00Z', 'https://example.com',
];

/** Every (path, mutated record) obtained by deleting or replacing one value somewhere in `record`. */
export function* mutations(record: any): Generator<[string, any]> {
  function* walk(node: any, path: (string | number)[]): Generator<[string, any]> {
    if (node === null || typeof node !== 'object') return;
    for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
      if (key === '$type' && path.length === 0) continue;
      const here = [...path, key];
      const edit = (fn: (parent: any) => void) => {
        const copy = structuredClone(record);
        fn(here.slice(0, -1).reduce((n: any, k) => n[k], copy));
        return copy;
      };
      if (!Array.isArray(node)) yield [`${here.join('/')} deleted`, edit((p) => delete p[key])];
      for (const r of replacements) yield [`${here.join('/')} = ${JSON.stringify(r).slice(0, 40)}`, edit((p) => (p[key] = structuredClone(r)))];
      yield* walk(node[key], here);
    }
  }
  yield* walk(record, []);
}

