// Identity as relays see it, checked against the reference PDS and the reference's own parsers:
// describeRepo's DID document for did:plc, the event sequence of account creation and reactivation
// (subscribeRepos on both), and the reserved handle TLDs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { ensureAtpDocument } from '@atproto/identity';
import { isValidDidDoc } from '@atproto/common-web';
import { isValidHandle as refIsValidHandle, isValidTld as refIsValidTld } from '@atproto/syntax';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import { pdsReadModel } from '../../canister/src/pds/read-model.ts';
import { isValidAccountHandle } from '../../canister/src/atproto/syntax/handle.ts';
import { call } from '../xrpc/fixtures/call.ts';
import { face } from '../xrpc/fixtures/face.ts';
import { memoryPds } from '../pds/fixtures.ts';
import { startReferencePds, type ReferencePds } from './reference-pds.ts';

let ref: ReferencePds;
before(async () => {
  ref = await startReferencePds();
});
after(() => ref?.close());

type Ev = { t: string; body: Record<string, unknown> };

/** Replays the reference's firehose from the start until `want` events of `did` have arrived. */
async function referenceEvents(did: string, want: number): Promise<Ev[]> {
  const ws = new WebSocket(`${ref.url.replace('http', 'ws')}/xrpc/com.atproto.sync.subscribeRepos?cursor=0`);
  const out: Ev[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${out.length} of ${want} events from the reference`)), 15_000);
      ws.on('error', reject);
      ws.on('message', (data: Buffer) => {
        const { header, body } = decodeFrame(new Uint8Array(data));
        if (!('t' in header)) return;
        if ((body.did ?? body.repo) !== did) return;
        out.push({ t: header.t, body });
        if (out.length === want) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    ws.terminate();
  }
  return out;
}

function ourEvents(pds: ReturnType<typeof memoryPds>['pds'], after = 0n): Ev[] {
  return pds.events.page(after, 1000, 10_000_000).events.map((e) => {
    const { header, body } = decodeFrame(e.frame);
    return { t: (header as { t: string }).t, body };
  });
}

test('account creation and reactivation: the same event sequence as the reference', async () => {
  await ref.agent.com.atproto.server.deactivateAccount({});
  await ref.agent.com.atproto.server.activateAccount();
  const theirs = await referenceEvents(ref.did, 8);

  const { pds } = memoryPds({ init: { didMethod: { plc: { plcUrl: 'https://plc.directory' } } } });
  await pds.bootstrap();
  pds.setActive(false);
  pds.setActive(true);
  const ours = ourEvents(pds);

  const shape = (evs: Ev[]) =>
    evs.map((e) => (e.t === '#account' ? `#account:${e.body.active}` : e.t === '#commit' ? `#commit:${(e.body.ops as unknown[]).length}ops` : e.t));
  assert.deepEqual(shape(theirs), [
    '#identity', '#account:true', '#commit:0ops', '#sync', // creation
    '#account:false', // deactivation
    '#account:true', '#identity', '#sync', // reactivation
  ]);
  assert.deepEqual(shape(ours), shape(theirs));
  // Both assert the handle on reactivation and the current commit's rev in the #sync.
  assert.equal(ours[6].body.handle, pds.status().handle);
  assert.equal(ours[7].body.rev, pds.status().rev);
});

test('describeRepo for did:plc serves the real DID document, in the shape the reference serves and its parser accepts', async () => {
  const { pds, signingKey } = memoryPds({ init: { didMethod: { plc: { plcUrl: 'https://plc.directory' } }, pdsUrl: 'https://pds.example.com' } });
  const s = await pds.bootstrap();
  const model = pdsReadModel(pds);
  const mine = call(face, model, `/xrpc/com.atproto.repo.describeRepo?repo=${s.did}`).json();
  const theirs = (await ref.agent.com.atproto.repo.describeRepo({ repo: ref.did })).data;

  assert.ok(isValidDidDoc(mine.didDoc), 'a DID document by the reference schema');
  const data = ensureAtpDocument(mine.didDoc);
  assert.equal(data.did, s.did);
  assert.equal(data.handle, 'community.test');
  assert.equal(data.pds, 'https://pds.example.com');
  assert.equal(data.signingKey, signingKey.didKey());

  // Same structure as the reference's document (values differ: another account and PDS).
  const skeleton = (doc: any) => ({
    keys: Object.keys(doc).filter((k) => k !== '@context').sort(),
    alsoKnownAs: doc.alsoKnownAs.map((a: string) => a.replace(/^at:\/\/.*/, 'at://<handle>')),
    verificationMethod: doc.verificationMethod.map((v: any) => ({ ...v, id: v.id.replace(doc.id, '<did>'), controller: v.controller === doc.id, publicKeyMultibase: v.publicKeyMultibase[0] })),
    service: doc.service.map((sv: any) => ({ ...sv, serviceEndpoint: typeof sv.serviceEndpoint })),
  });
  assert.deepEqual(skeleton(mine.didDoc), skeleton(theirs.didDoc));
  assert.deepEqual(Object.keys(mine).sort(), Object.keys(theirs).sort());
  // Not the PDS host, and the canister cannot resolve a handle itself: not vouched for.
  assert.equal(mine.handleIsCorrect, false);
});

test('handles: the reserved TLDs are refused for the account exactly where the reference refuses them; .test stays usable', async () => {
  const corpus = [
    'community.test', 'alice.example.com', 'a.b.co', 'xn--ls8h.la',
    'foo.alt', 'foo.arpa', 'foo.example', 'foo.internal', 'foo.invalid', 'foo.local', 'foo.localhost', 'foo.onion',
    'FOO.LOCAL', 'sub.domain.onion', 'local.com', 'example.org', 'onion.net', 'localhost', 'nodots',
  ];
  for (const h of corpus) {
    assert.equal(isValidAccountHandle(h), refIsValidHandle(h) && refIsValidTld(h.toLowerCase()), h);
  }
  const { pds } = memoryPds();
  await pds.bootstrap();
  const before = pds.events.head();
  for (const h of ['renamed.local', 'renamed.onion', 'renamed.example']) {
    await assert.rejects(pds.setHandle(h), /invalid handle/, h);
  }
  assert.equal(pds.events.head(), before, 'a refused handle changes nothing');
  assert.equal((await pds.setHandle('renamed.test')).handle, 'renamed.test');
  assert.throws(() => memoryPds({ init: { handle: 'community.local' } }), /invalid handle/);
});
