// Identity: did:web document, did:plc genesis operation (signed with the rotation key), handle
// and activation changes emitting #identity / #account.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dagCbor from '@ipld/dag-cbor';
import { createHash } from 'node:crypto';
import { parseDidKey, verifySignature } from '../../canister/src/atproto/crypto.ts';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import { didWebFor } from '../../canister/src/pds/identity.ts';
import { memoryPds } from './fixtures.ts';

const base32 = (bytes: Uint8Array) => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0, value = 0, out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
};

test('did:web: DID from hostname (port percent-encoded) and a document with #atproto Multikey and #atproto_pds', async () => {
  assert.equal(didWebFor('example.com'), 'did:web:example.com');
  assert.equal(didWebFor('localhost:2583'), 'did:web:localhost%3A2583');
  assert.throws(() => didWebFor('bad host/x'), /invalid did:web hostname/);
  const { pds, signingKey } = memoryPds();
  await pds.bootstrap();
  const doc = pds.identity.didDocument() as Record<string, any>;
  assert.equal(doc.id, 'did:web:localhost%3A2583');
  assert.deepEqual(doc.alsoKnownAs, ['at://community.test']);
  assert.equal(doc.verificationMethod[0].id, 'did:web:localhost%3A2583#atproto');
  assert.equal(doc.verificationMethod[0].type, 'Multikey');
  assert.equal(`did:key:${doc.verificationMethod[0].publicKeyMultibase}`, signingKey.didKey());
  assert.deepEqual(doc.service, [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'http://localhost:2583' }]);
});

test('did:plc: genesis operation signed by the rotation key; DID derived from it', async () => {
  const { pds, signingKey, rotationKey } = memoryPds({ init: { didMethod: { plc: { plcUrl: 'https://plc.directory' } } } });
  const s = await pds.bootstrap();
  assert.equal(s.method, 'plc');
  const op = JSON.parse(pds.identity.plcLog.get(0)!.op);
  // The DID document is the one a PLC directory derives from the operation.
  const doc = pds.identity.didDocument() as Record<string, any>;
  assert.equal(doc.id, s.did);
  assert.deepEqual(doc.alsoKnownAs, op.alsoKnownAs);
  assert.deepEqual(doc.verificationMethod, [
    { id: `${s.did}#atproto`, type: 'Multikey', controller: s.did, publicKeyMultibase: op.verificationMethods.atproto.replace('did:key:', '') },
  ]);
  assert.deepEqual(doc.service, [{ id: '#atproto_pds', type: op.services.atproto_pds.type, serviceEndpoint: op.services.atproto_pds.endpoint }]);
  assert.deepEqual(op.rotationKeys, [rotationKey.didKey()]);
  assert.deepEqual(op.verificationMethods, { atproto: signingKey.didKey() });
  assert.deepEqual(op.alsoKnownAs, ['at://community.test']);
  assert.deepEqual(op.services, { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'http://localhost:2583' } });
  assert.equal(op.prev, null);
  assert.equal(op.type, 'plc_operation');
  // Independent check: signature over the DAG-CBOR of the unsigned op, base64url, low-S.
  const { sig, ...unsigned } = op;
  assert.ok(verifySignature(rotationKey.didKey(), dagCbor.encode(unsigned), new Uint8Array(Buffer.from(sig, 'base64url'))));
  assert.doesNotThrow(() => parseDidKey(op.rotationKeys[0]));
  const expectedDid = `did:plc:${base32(createHash('sha256').update(dagCbor.encode(op)).digest()).slice(0, 24)}`;
  assert.equal(s.did, expectedDid);
  assert.equal(pds.status().plcUrl, 'https://plc.directory');
  assert.equal(pds.identity.plcLog.get(0)!.accepted, false);
});

test('did:plc handle change queues a chained PLC op (applied on acceptance, test/pds/plc.test.ts); did:web handle change emits #identity; deactivation emits #account, reactivation #account, #identity, #sync', async () => {
  const plc = memoryPds({ init: { didMethod: { plc: { plcUrl: 'https://plc.directory' } } } });
  await plc.pds.bootstrap();
  const plcHead = plc.pds.events.head();
  const queued = await plc.pds.setHandle('new-name.example.com');
  assert.equal(queued.handle, 'community.test');
  assert.equal(plc.pds.events.head(), plcHead);
  const op = JSON.parse(plc.pds.identity.plcLog.get(1)!.op);
  assert.equal(op.prev, plc.pds.identity.plcLog.get(0)!.cid);
  const { sig, ...unsigned } = op;
  assert.ok(verifySignature(plc.rotationKey.didKey(), dagCbor.encode(unsigned), new Uint8Array(Buffer.from(sig, 'base64url'))));

  const { pds } = memoryPds();
  const s0 = await pds.bootstrap();
  const head0 = pds.events.head();
  const s1 = await pds.setHandle('new-name.example.com');
  assert.equal(s1.handle, 'new-name.example.com');
  pds.setActive(false);
  pds.setActive(false); // no change, no event
  await assert.rejects(pds.write([{ action: 'create', collection: 'app.bsky.feed.post', record: { text: 'x', createdAt: '2026-01-01T00:00:00Z' } }]), /not active/);
  pds.setActive(true);
  const evs = pds.events.page(head0, 10, 1_000_000).events.map((e) => decodeFrame(e.frame));
  // Reactivation: #account, then #identity and #sync of the current commit, as the reference sequences it.
  assert.deepEqual(evs.map((e) => (e.header as { t: string }).t), ['#identity', '#account', '#account', '#identity', '#sync']);
  assert.equal(evs[3].body.handle, 'new-name.example.com');
  assert.equal(evs[4].body.rev, pds.repo.head()!.rev);
  assert.equal(evs[0].body.handle, 'new-name.example.com');
  assert.equal(evs[0].body.did, s0.did);
  assert.deepEqual([evs[1].body.active, evs[1].body.status], [false, 'deactivated']);
  assert.deepEqual([evs[2].body.active, evs[2].body.status], [true, undefined]);
  assert.deepEqual(pds.status().active, true);
  await assert.rejects(pds.setHandle('not a handle'), /invalid handle/);
});

test('upgrade from state written before the PLC operation log: the one operation and its outcome move into the log', async () => {
  const { pds, storage, reopen, clock } = memoryPds({ init: { didMethod: { plc: { plcUrl: 'https://plc.directory' } } } });
  const s = await pds.bootstrap();
  const genesis = pds.identity.plcLog.get(0)!;
  // What the earlier version stored: the operation inside the identity state, no log.
  const { encodeCbor } = await import('../../canister/src/atproto/cbor.ts');
  for (const [k] of storage.kv.range({ prefix: 'id/plc/', limit: 100 })) storage.kv.delete(k);
  storage.kv.set('id/state', encodeCbor({ ...s, plcOp: genesis.op, plcOpCid: genesis.cid, plcSubmitted: true, plcLastError: null }));
  const upgraded = reopen();
  assert.equal(upgraded.identity.plcLog.count(), 0);
  upgraded.identity.migrateLegacyPlc(clock.ns);
  const e = upgraded.identity.plcLog.get(0)!;
  assert.deepEqual([e.op, e.cid, e.accepted, e.reason], [genesis.op, genesis.cid, true, 'genesis']);
  assert.equal('plcOp' in upgraded.identity.require(), false);
  upgraded.identity.migrateLegacyPlc(clock.ns); // once only
  assert.equal(upgraded.identity.plcLog.count(), 1);
  const next = await upgraded.setHandle('after-upgrade.test');
  assert.equal(next.handle, s.handle);
  assert.equal(JSON.parse(upgraded.identity.plcLog.get(1)!.op).prev, genesis.cid);
});
