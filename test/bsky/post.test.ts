import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RichText } from '@atproto/api';
import { EXECUTION_LEASE_NS } from '../../canister/src/api/executor.ts';
import { CID } from '../../canister/src/atproto/cbor.ts';
import { isValidTid, tidTimestamp } from '../../canister/src/atproto/syntax/index.ts';
import { detectFacets } from '../../canister/src/bsky/facets.ts';
import { buildPost } from '../../canister/src/bsky/post.ts';
import { countGraphemes, countGraphemesFallback, utf8Length } from '../../canister/src/atproto/lexicon/text.ts';
import { ALICE, BOB, DID, HANDLE, T0, addBlob, assertRefused, fakeEnv, setup } from '../governance/fixtures.ts';

const bytesOf = (s: string) => new TextEncoder().encode(s);
const sliceBytes = (text: string, start: number, end: number) => new TextDecoder().decode(bytesOf(text).slice(start, end));

const SAMPLES = [
  'héllo @alice.bsky.social, see https://example.com/a?b=c. #café #123 #tag! 🎉 example.com/x (https://foo.org/bar)',
  '日本語 @bob.test テスト #日本 https://例え.jp/パス',
  'emoji 👩‍👩‍👧 #fam👍 @carol.example.org.',
  '#️⃣ keycap is not a tag, ＃fullwidth is',
  'x@y.com is no mention, @@a.b neither, @a.com/x is',
  'Ünïcödé 🇺🇸🇫🇷 flags then #ünïcode and https://bsky.app/profile/did:plc:abc',
];

describe('facets', () => {
  it('agree with @atproto/api RichText on byte offsets, links and tags (multi-byte text)', () => {
    for (const text of SAMPLES) {
      const rt = new RichText({ text });
      rt.detectFacetsWithoutResolution();
      const feature = (f: any) => f.did ?? f.uri ?? f.tag;
      const ref = (rt.facets ?? []).map((f) => [f.index.byteStart, f.index.byteEnd, feature(f.features[0])]);
      // resolving every handle to itself makes mention facets comparable with the unresolved reference
      const mine = detectFacets(text, (h) => h).facets.map((f) => [f.index.byteStart, f.index.byteEnd, feature(f.features[0])]);
      assert.deepEqual(mine, ref, text);
      assert.ok(ref.length > 0);
    }
  });

  it('byte offsets slice the UTF-8 bytes exactly at the token', () => {
    const text = '🎉🎉 naïve café @canopy.test → https://例え.jp #日本語タグ';
    const { facets } = detectFacets(text, (h) => (h === HANDLE ? DID : undefined));
    const slices = facets.map((f) => sliceBytes(text, f.index.byteStart, f.index.byteEnd));
    assert.deepEqual(slices, ['@canopy.test', 'https://例え.jp', '#日本語タグ']);
    assert.equal(facets[0]!.index.byteStart, 9 + 7 + 6); // "🎉🎉 " 9, "naïve " 7, "café " 6
  });

  it('mentions resolve to DIDs (own handle, explicit mapping); others stay text', () => {
    const env = fakeEnv();
    const { record } = buildPost(env, {
      text: `hi @${HANDLE} and @Friend.Example.com and @stranger.example.org`,
      mentions: [{ handle: 'friend.example.com', did: 'did:plc:friend1234567890abcdefgh' }],
    });
    const features = (record.facets as any[]).map((f) => f.features[0]);
    assert.deepEqual(features, [
      { $type: 'app.bsky.richtext.facet#mention', did: DID },
      { $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:friend1234567890abcdefgh' },
    ]);
  });
});

describe('post limits', () => {
  it('the limits rely on grapheme counts that match Intl.Segmenter, also without it (canister fallback)', () => {
    const cases = ['abc', 'é', 'e\u0301', '👩‍👩‍👧‍👦', '👍🏽', '🇺🇸🇫🇷', '#️⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '한국어', '\u1100\u1161\u11a8', 'a\r\nb', 'ก้', 'नमस्ते', '👨🏾‍🚀 and 🧑‍🤝‍🧑', ...SAMPLES];
    for (const c of cases) assert.equal(countGraphemesFallback(c), countGraphemes(c), JSON.stringify(c));
    assert.equal(utf8Length('a€😀\ud800'), 1 + 3 + 4 + 3);
  });

  it('accepts 300 graphemes of multi-byte text and refuses 301 graphemes or 3001 bytes', () => {
    const env = fakeEnv();
    buildPost(env, { text: '👍🏽'.repeat(300) }); // 300 graphemes, 2400 bytes
    buildPost(env, { text: 'é'.repeat(300) });
    assert.throws(() => buildPost(env, { text: 'é'.repeat(301) }), /301 graphemes; the limit is 300/);
    // 3001 bytes but few graphemes: family emoji are 25 bytes each
    const fam = '👩‍👩‍👧‍👦';
    assert.equal(utf8Length(fam), 25);
    assert.throws(() => buildPost(env, { text: fam.repeat(120) + 'x' }), /3001 bytes of UTF-8; the limit is 3000/);
  });

  it('refuses oversize or invalid posts through propose, leaving state unchanged', () => {
    const { gov, kv, env } = setup();
    const refuse = (post: object, reason: RegExp) => assertRefused(kv, () => gov.propose(ALICE, { action: { kind: 'post', post: post as never } }, T0), reason);
    refuse({ text: 'x'.repeat(301) }, /limit is 300/);
    refuse({ text: '   ' }, /needs text, images or a quoted record/);
    refuse({ text: 'hi', langs: ['en', 'fr', 'de', 'es'] }, /at most 3 languages/);
    refuse({ text: 'hi', langs: ['not a lang'] }, /invalid language tag/);
    refuse({ text: 'hi', reply: { root: { uri: 'https://x', cid: 'y' }, parent: { uri: 'https://x', cid: 'y' } } }, /reply root/);
    refuse({ text: 'hi', quote: { uri: `at://${DID}/app.bsky.feed.post/3k2a`, cid: 'nope' } }, /quoted record: invalid CID/);
    const missing = CID.parse(addBlob(fakeEnv(), 'elsewhere')).toString();
    refuse({ text: 'hi', images: [{ cid: missing, alt: '' }] }, /has not been uploaded/);
    const pdf = addBlob(env, 'pdf', 'application/pdf');
    refuse({ text: 'hi', images: [{ cid: pdf, alt: '' }] }, /application\/pdf, which is not accepted/);
    const big = addBlob(env, 'big', 'image/jpeg', 2_000_000);
    refuse({ text: 'hi', images: [{ cid: big, alt: '' }] }, /2000000 bytes; the limit is 1000000/);
    const img = addBlob(env, 'ok');
    refuse({ text: 'hi', images: [1, 2, 3, 4, 5].map(() => ({ cid: img, alt: '' })) }, /at most 4 images/);
    refuse({ text: 'hi', mentions: [{ handle: 'a.test', did: 'not-a-did' }] }, /invalid DID/);
    assert.equal(gov.listProposals({ limit: 5 }).proposals.length, 0);
  });
});

describe('post records', () => {
  it('builds images, quote (recordWithMedia), reply and langs; blob refs carry stored metadata', () => {
    const env = fakeEnv();
    const img = addBlob(env, 'photo', 'image/jpeg', 12345);
    const root = { uri: `at://${DID}/app.bsky.feed.post/3kaaaaaaaaa22`, cid: addBlob(env, 'root-cid') };
    const parent = { uri: 'at://did:plc:someoneelse123456789abcd/app.bsky.feed.post/3kbbbbbbbbb22', cid: addBlob(env, 'parent-cid') };
    const quote = { uri: 'at://did:plc:someoneelse123456789abcd/app.bsky.feed.post/3kccccccccc22', cid: addBlob(env, 'quote-cid') };
    const { record } = buildPost(env, {
      text: 'look #photo', langs: ['en'], reply: { root, parent }, quote,
      images: [{ cid: img, alt: 'a tree', aspectRatio: { width: 4, height: 3 } }],
    });
    assert.deepEqual(record.langs, ['en']);
    assert.deepEqual(record.reply, { root, parent });
    const embed = record.embed as any;
    assert.equal(embed.$type, 'app.bsky.embed.recordWithMedia');
    assert.deepEqual(embed.record, { $type: 'app.bsky.embed.record', record: quote });
    assert.equal(embed.media.$type, 'app.bsky.embed.images');
    const image = embed.media.images[0];
    assert.equal(image.alt, 'a tree');
    assert.deepEqual(image.aspectRatio, { width: 4, height: 3 });
    assert.equal(image.image.$type, 'blob');
    assert.equal(image.image.ref.toString(), img);
    assert.equal(image.image.mimeType, 'image/jpeg');
    assert.equal(image.image.size, 12345);
    assert.equal((buildPost(env, { text: 'q', quote }).record.embed as any).$type, 'app.bsky.embed.record');
    // the same post passes the app.bsky.feed.post lexicon when proposed
    const { gov, env: govEnv } = setup();
    for (const [cid, meta] of env.blobs) govEnv.blobs.set(cid, meta);
    const id = gov.propose(ALICE, { action: { kind: 'post', post: { text: 'look #photo', langs: ['en'], reply: { root, parent }, quote, images: [{ cid: img, alt: 'a tree' }] } } }, T0);
    assert.equal(gov.getProposal(id)!.status, 'open');
  });

  it('adopted post: a create with a TID rkey and createdAt at adoption, identical on re-claim', () => {
    const { gov } = setup();
    const id = gov.propose(ALICE, { action: { kind: 'post', post: { text: `hello @${HANDLE} #canopy` } } }, T0);
    const adoptedAt = T0 + 3_600_000_000_123n;
    gov.vote(ALICE, id, 'yes', adoptedAt);
    gov.vote(BOB, id, 'yes', adoptedAt);
    const job = gov.claimExecution(adoptedAt, EXECUTION_LEASE_NS)!;
    assert.equal(job.effects.length, 1);
    const effect = job.effects[0]!;
    assert.equal(effect.type, 'writes');
    const write = (effect as { writes: any[] }).writes[0];
    assert.equal(write.action, 'create');
    assert.equal(write.collection, 'app.bsky.feed.post');
    assert.ok(isValidTid(write.rkey));
    assert.equal(BigInt(tidTimestamp(write.rkey)), adoptedAt / 1000n);
    assert.equal(write.record.createdAt, new Date(Number(adoptedAt / 1_000_000n)).toISOString());
    assert.equal(write.record.text, `hello @${HANDLE} #canopy`);
    assert.equal(write.record.facets.length, 2);
    assert.equal(write.record.facets[0].features[0].did, DID);
  });
});
