// Moving the account out the standard atproto way, to the reference PDS (@atproto/pds), against a real
// PLC directory (@did-plc/server, in memory): the canister signs the createAccount service-auth token
// only after a migrate_out proposal named the destination; the reference accepts it (it verifies the
// token against our DID document); repo and blobs are imported; the PLC operation handing the DID to the
// reference's key is signed after the second adoption; when the directory accepts it the account is
// deactivated here with #account. The reference then serves every record and blob, its repo verifies
// with its key, and @did-plc/lib accepts the whole operation log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AtpAgent } from '@atproto/api';
import { verifyRepoCar } from '@atproto/repo';
import * as plcLib from '@did-plc/lib';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Governance } from '../../canister/src/governance/governance.ts';
import { scopedKv } from '../../canister/src/storage/kv.ts';
import { executeAdopted } from '../../canister/src/api/executor.ts';
import { PlcSubmitter } from '../../canister/src/pds/plc-submit.ts';
import { migrationServiceAuth } from '../../canister/src/pds/migration.ts';
import { pdsReadModel } from '../../canister/src/pds/read-model.ts';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import type { ProposalAction } from '../../canister/src/governance/types.ts';
import { fetchPlcHttp } from '../support/plc-http.ts';
import { startPlcDirectory } from '../../scripts/stack/plc-directory.ts';
import { call, drain } from '../xrpc/fixtures/call.ts';
import { face } from '../xrpc/fixtures/face.ts';
import { memoryPds } from '../pds/fixtures.ts';
import { startReferencePds } from './reference-pds.ts';

const HOUR = 3600n * 1_000_000_000n;
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

test('migration to the reference PDS: service auth after adoption, repo and blobs imported, DID handed over by vote, account deactivated here', { timeout: 120_000 }, async (t) => {
  const dir = await startPlcDirectory();
  t.after(() => dir.close());
  const ref = await startReferencePds({ plc: dir });
  t.after(() => ref.close());

  // Our account: did:plc registered in the directory, a post with an image. Real time: tokens must not be expired.
  const { pds, clock, storage } = memoryPds({ clock: { ns: BigInt(Date.now()) * 1_000_000n }, init: { didMethod: { plc: { plcUrl: dir.url } } } });
  await pds.bootstrap();
  const submitter = new PlcSubmitter(pds, fetchPlcHttp());
  assert.equal(await submitter.run(), null);
  const did = pds.identity.require().did;
  const signingKeyBefore = pds.identity.require().signingKey;
  const bytes = new Uint8Array(5000).map((_, i) => (i * 31) & 255);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const up = pds.blobs.start('m', 'image/png', bytes.length, clock.ns);
  pds.blobs.putChunk('m', up, 0, bytes);
  while (!pds.blobs.hashStep('m', up, 1 << 20));
  const blob = pds.blobs.finish('m', up, clock.ns);
  const image = { $type: 'blob', ref: blob.cid, mimeType: 'image/png', size: bytes.length };
  const written = await pds.write([
    { action: 'create', collection: 'app.bsky.feed.post', record: { text: 'before the move', createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ image, alt: 'a picture' }] } } },
    { action: 'create', collection: 'app.bsky.feed.post', record: { text: 'second', createdAt: new Date().toISOString() } },
  ]);

  const gov = new Governance(scopedKv(storage.kv, 'gov'), { did: () => pds.status().did, handle: () => pds.status().handle, blob: () => undefined });
  const member = Ed25519KeyIdentity.generate().getPrincipal().toText();
  gov.init({ members: [{ principal: member, power: 1n }], rules: { votingPeriodNs: HOUR, quorumBps: 5000, thresholdBps: 5000 } }, clock.ns);
  const adopt = async (action: ProposalAction) => {
    const id = gov.propose(member, { action }, clock.ns);
    gov.vote(member, id, 'yes', clock.ns);
    await executeAdopted(pds, gov, () => clock.ns);
    const p = gov.getProposal(id)!;
    assert.equal(p.status, 'executed', p.failure ?? '');
  };

  // No token before the destination is adopted.
  await assert.rejects(migrationServiceAuth(pds), /no migration was adopted/);
  const agent = new AtpAgent({ service: ref.url });
  const pdsDid = (await agent.com.atproto.server.describeServer()).data.did;
  await adopt({ kind: 'migrate_out', pdsUrl: ref.url, pdsDid, credentials: null });
  const token = await migrationServiceAuth(pds);
  await assert.rejects(migrationServiceAuth(pds), /retry shortly/);

  // The reference creates the account for our DID (deactivated until the move completes).
  await agent.com.atproto.server.createAccount({ did, handle: 'moved.test', email: 'moved@example.com', password: 'moved-password' }, { headers: { authorization: `Bearer ${token}` } });
  await agent.login({ identifier: did, password: 'moved-password' });
  const model = pdsReadModel(pds);
  const car = concat(drain(face, model, call(face, model, `/xrpc/com.atproto.sync.getRepo?did=${did}`)));
  await agent.com.atproto.repo.importRepo(car, { encoding: 'application/vnd.ipld.car' });
  const missing = (await agent.com.atproto.repo.listMissingBlobs({})).data.blobs;
  assert.deepEqual(missing.map((b) => b.cid), [blob.cid.toString()]);
  for (const b of missing) {
    const res = call(face, model, `/xrpc/com.atproto.sync.getBlob?did=${did}&cid=${b.cid}`);
    await agent.com.atproto.repo.uploadBlob(concat(drain(face, model, res)), { encoding: res.header('content-type') });
  }

  // The DID handed over by a second vote, on the exact credentials the reference recommends.
  const rec = (await agent.com.atproto.identity.getRecommendedDidCredentials()).data as { rotationKeys: string[]; alsoKnownAs: string[]; verificationMethods: { atproto: string } };
  const credentials = { signingKey: rec.verificationMethods.atproto, rotationKeys: rec.rotationKeys, handle: rec.alsoKnownAs[0].replace('at://', '') };
  const head = pds.events.head();
  await adopt({ kind: 'migrate_out', pdsUrl: ref.url, pdsDid, credentials });
  assert.equal(pds.identity.require().active, true, 'nothing changes before the directory accepted the operation');
  assert.equal(await submitter.run(), null);
  await agent.com.atproto.server.activateAccount();

  // The directory points at the reference, with its key; the log passes @did-plc/lib.
  const audit = (await (await fetch(`${dir.url}/${did}/log/audit`)).json()) as { operation: any }[];
  const data = (await plcLib.validateOperationLog(did, audit.map((a) => a.operation)))!;
  assert.equal(data.services.atproto_pds.endpoint, ref.url);
  assert.equal(data.verificationMethods.atproto, credentials.signingKey);
  assert.deepEqual(data.rotationKeys, credentials.rotationKeys);

  // The reference serves every record and blob. The imported commit is ours until its first write
  // (the reference keeps an imported commit as signed); from then on its repo verifies with its own key.
  const imported = await verifyRepoCar(new Uint8Array((await agent.com.atproto.sync.getRepo({ did })).data), did, signingKeyBefore);
  assert.equal(imported.creates.length, 2);
  await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: { text: 'after the move', createdAt: new Date().toISOString() } });
  const verified = await verifyRepoCar(new Uint8Array((await agent.com.atproto.sync.getRepo({ did })).data), did, credentials.signingKey);
  assert.equal(verified.creates.length, 3);
  for (const r of written.results) {
    const got = await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: r.uri.split('/').pop()! });
    assert.equal(got.data.cid, r.cid!.toString());
  }
  const gotBlob = await agent.com.atproto.sync.getBlob({ did, cid: blob.cid.toString() });
  assert.deepEqual(new Uint8Array(gotBlob.data), bytes);

  // Here: deactivated, with #identity and #account active:false in the event log.
  const status = call(face, model, `/xrpc/com.atproto.sync.getRepoStatus?did=${did}`).json();
  assert.deepEqual([status.active, status.status], [false, 'deactivated']);
  const frames = pds.events.page(head, 10, 1_000_000).events.map((e) => decodeFrame(e.frame));
  assert.deepEqual(frames.map((f) => (f.header as { t: string }).t), ['#identity', '#account']);
  assert.deepEqual([frames[1].body.active, frames[1].body.status], [false, 'deactivated']);
  await assert.rejects(pds.write([{ action: 'create', collection: 'app.bsky.feed.post', record: { text: 'x', createdAt: new Date().toISOString() } }]), /not active/);
});
