// atproto figures: what record validation (validator + Bluesky schemas) adds to the canister bundle
// (esbuild, minified, per source file via the metafile), and throughput of validation, syntax checks
// and signatures in Node.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { jsonToData } from '../canister/src/atproto/data-model.ts';
import { validateRecord } from '../canister/src/atproto/lexicon/index.ts';
import { LocalSigner, verifySignature } from '../canister/src/atproto/crypto.ts';
import { isValidAtUri, isValidDatetime, isValidHandle } from '../canister/src/atproto/syntax/index.ts';
import { sha256 } from '../canister/src/atproto/cbor.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

async function bundle(contents: string) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true, minify: true, write: false, format: 'esm', platform: 'neutral', metafile: true,
    mainFields: ['module', 'main'], conditions: ['import'], logLevel: 'silent',
  });
  const out = result.outputFiles[0]!.contents;
  const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
  const bytesOf = (match: (path: string) => boolean) =>
    Object.entries(inputs).filter(([p]) => match(p)).reduce((n, [, v]) => n + v.bytesInOutput, 0);
  return { total: out.length, gzip: gzipSync(out).length, bytesOf };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export default async function bench(): Promise<void> {
  // Bundle of everything record validation needs, attributed per source file. The shared data-model/CID
  // code is in the canister anyway (repo, XRPC); validator, schemas and syntax checks are what validation adds.
  const b = await bundle(
    "import { validateRecord } from './canister/src/atproto/lexicon/index.ts'; globalThis.v = validateRecord;",
  );
  const schemas = b.bytesOf((p) => p.endsWith('lexicon/bsky-lexicons.ts'));
  const validator = b.bytesOf((p) => /atproto\/lexicon\/(validator|text|index)\.ts$/.test(p));
  const syntax = b.bytesOf((p) => p.includes('atproto/syntax/'));
  const dataModel = b.bytesOf((p) => p.endsWith('atproto/data-model.ts'));
  const deps = b.bytesOf((p) => p.includes('node_modules'));
  console.log('bundle (esbuild --minify) for validateRecord:');
  console.log(`  lexicon validator (validator.ts, text.ts, index.ts): ${validator} B`);
  console.log(`  Bluesky schemas (bsky-lexicons.ts, 21 lexicons):    ${schemas} B`);
  console.log(`  syntax validators:                                   ${syntax} B`);
  console.log(`  => validation adds:                                  ${validator + schemas + syntax} B (${kb(validator + schemas + syntax)})`);
  console.log(`  data-model.ts: ${dataModel} B; shared deps (multiformats CID etc.): ${deps} B`);
  console.log(`  whole entry bundle: ${b.total} B minified, ${b.gzip} B gzip`);

  const c = await bundle("export * from './canister/src/atproto/crypto.ts';");
  console.log(`bundle for crypto.ts incl. @noble/curves (K-256 + P-256): ${c.total} B minified (${kb(c.total)}), ${c.gzip} B gzip`);
  const d = await bundle("export { formatDidKey, atprotoVerificationMethod } from './canister/src/atproto/did-key.ts';");
  console.log(`bundle for did-key.ts alone (what the canister needs for its did:key): ${d.total} B minified`);

  const post = jsonToData({
    $type: 'app.bsky.feed.post',
    text: 'hello @alice.test, see https://example.com 🌲',
    createdAt: '2026-11-21T10:00:00.000Z',
    langs: ['en'],
    facets: [{ index: { byteStart: 6, byteEnd: 17 }, features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz' }] }],
    reply: {
      root: { uri: 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l3qo2vutsw2b', cid: 'bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q' },
      parent: { uri: 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l3qo2vutsw2b', cid: 'bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q' },
    },
  });
  const rate = (label: string, n: number, fn: () => void) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    const ms = performance.now() - t0;
    console.log(`${label}: ${Math.round((n / ms) * 1000).toLocaleString('en')}/s`);
  };
  rate('validateRecord(app.bsky.feed.post with reply+facet)', 20_000, () => validateRecord('app.bsky.feed.post', post));
  rate('isValidHandle + isValidAtUri + isValidDatetime', 100_000, () => {
    isValidHandle('alice.bsky.social');
    isValidAtUri('at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l3qo2vutsw2b');
    isValidDatetime('2026-11-21T10:00:00.000Z');
  });
  const signer = LocalSigner.generate();
  const didKey = signer.didKey();
  const data = new TextEncoder().encode('commit bytes');
  const sig = signer.signSync(sha256(data));
  rate('LocalSigner.signSync (secp256k1)', 500, () => signer.signSync(sha256(data)));
  rate('verifySignature (did:key, secp256k1)', 500, () => verifySignature(didKey, data, sig));
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
