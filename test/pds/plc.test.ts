// did:plc against a real PLC directory (@did-plc/server, in memory): low-S signatures, chained
// operations submitted in order with retry and backoff, #identity only once the directory accepted a
// change, manual submission idempotent and rate-limited; @did-plc/lib checks every operation and the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1';
import * as plcLib from '@did-plc/lib';
import { LocalSigner, type Signer } from '../../canister/src/atproto/crypto.ts';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import { PlcSubmitter, RETRY_FIRST_NS, type PlcHttp } from '../../canister/src/pds/plc-submit.ts';
import { plcStatusC } from '../../canister/src/api/pds-methods.ts';
import { fetchPlcHttp } from '../support/plc-http.ts';
import { startPlcDirectory } from '../../scripts/stack/plc-directory.ts';
import { memoryPds } from './fixtures.ts';

const N = secp256k1.CURVE.n;
const SECOND = 1_000_000_000n;

/** A signer that always answers the high-S twin of a valid signature (threshold ECDSA may). */
class HighSSigner implements Signer {
  constructor(readonly inner: LocalSigner) {}
  publicKey() {
    return this.inner.publicKey();
  }
  async sign(digest: Uint8Array) {
    const sig = secp256k1.Signature.fromCompact(await this.inner.sign(digest));
    return new secp256k1.Signature(sig.r, N - sig.s).toCompactRawBytes();
  }
}

function identityFrames(pds: ReturnType<typeof memoryPds>['pds']) {
  return pds.events.page(0n, 1000, 10_000_000).events.map((e) => decodeFrame(e.frame)).filter((f) => (f.header as { t: string }).t === '#identity');
}

async function plcPds(plcUrl: string, rotation?: Signer) {
  const f = memoryPds({ init: { didMethod: { plc: { plcUrl } } } });
  if (rotation) (f.env as { rotation: Signer }).rotation = rotation;
  await f.pds.bootstrap();
  return f;
}

/** Every operation the directory holds for `did`, checked by @did-plc/lib; returns the document data. */
async function checkAuditLog(plcUrl: string, did: string) {
  const audit = (await (await fetch(`${plcUrl}/${did}/log/audit`)).json()) as { operation: any; cid: string; nullified: boolean }[];
  for (const entry of audit) {
    assert.equal(entry.nullified, false);
    const { sig } = entry.operation;
    const raw = Buffer.from(sig, 'base64url');
    assert.equal(secp256k1.Signature.fromCompact(raw).hasHighS(), false, 'low-S');
    await plcLib.assureValidOp(entry.operation);
  }
  const data = await plcLib.validateOperationLog(did, audit.map((e) => e.operation));
  return { audit, data: data! };
}

test('genesis signed with a high-S signer is normalized to low-S; the directory accepts it; #identity follows acceptance', async (t) => {
  const dir = await startPlcDirectory();
  t.after(() => dir.close());
  const { pds } = await plcPds(dir.url, new HighSSigner(LocalSigner.generate()));
  const s = pds.identity.require();
  const before = identityFrames(pds).length; // account creation's #identity
  const http = fetchPlcHttp();
  const submitter = new PlcSubmitter(pds, http);
  assert.equal(await submitter.run(), null);
  assert.equal(identityFrames(pds).length, before + 1);
  const doc = (await (await fetch(`${dir.url}/${s.did}`)).json()) as Record<string, unknown>;
  const mine = pds.identity.didDocument() as Record<string, unknown>;
  // (This directory version still writes the older verification-method encoding; the key is compared below.)
  for (const k of ['id', 'alsoKnownAs', 'service']) assert.deepEqual(doc[k], mine[k], k);
  const { data } = await checkAuditLog(dir.url, s.did);
  assert.deepEqual(data.verificationMethods, { atproto: s.signingKey });
  assert.deepEqual(data.rotationKeys, [s.rotationKey]);
  assert.equal(data.did, s.did);
  // Nothing waits: a manual submission is a no-op (no outcall).
  const calls = http.calls.post + http.calls.get;
  await submitter.run(true);
  assert.equal(http.calls.post + http.calls.get, calls);
  const status = plcStatusC(pds);
  assert.equal(status.submitted, true);
  assert.equal(status.pending, 0);
  assert.equal(status.history.length, 1);
  assert.equal(status.history[0].reason, 'genesis');
});

test('changes queue behind an unaccepted operation, are retried with backoff, and apply (with #identity) only when accepted', async (t) => {
  const dir = await startPlcDirectory();
  t.after(() => dir.close());
  const { pds, clock } = await plcPds(dir.url);
  const s0 = pds.identity.require();
  let down = true;
  const real = fetchPlcHttp();
  const http: PlcHttp = {
    post: (u, j) => (down ? Promise.reject(new Error('connection refused')) : real.post(u, j)),
    get: (u) => (down ? Promise.reject(new Error('connection refused')) : real.get(u)),
  };
  const submitter = new PlcSubmitter(pds, http);
  const frames0 = identityFrames(pds).length;

  // Directory down: the genesis waits; its retry is scheduled 10 s later, then 20 s.
  assert.equal(await submitter.run(), clock.ns + RETRY_FIRST_NS);
  clock.ns += RETRY_FIRST_NS;
  assert.equal(await submitter.run(), clock.ns + 2n * RETRY_FIRST_NS);
  // Before the backoff expires, the timer does nothing.
  assert.equal(await submitter.run(), clock.ns + 2n * RETRY_FIRST_NS);
  assert.equal(pds.identity.plcLog.get(0)!.attempts, 2);
  assert.match(pds.identity.plcLog.get(0)!.lastError!, /connection refused/);

  // A handle change and an endpoint change queue behind it, chained; nothing is applied or announced yet.
  await pds.setHandle('renamed.test');
  const e2 = await pds.setPdsEndpoint('https://pds.example.com/');
  assert.equal(pds.identity.require().handle, s0.handle);
  assert.equal(identityFrames(pds).length, frames0);
  const log = pds.identity.plcLog;
  assert.equal(log.count(), 3);
  assert.equal(JSON.parse(log.get(1)!.op).prev, log.get(0)!.cid);
  assert.equal(JSON.parse(e2.op).prev, log.get(1)!.cid);
  assert.deepEqual(JSON.parse(e2.op).alsoKnownAs, ['at://renamed.test']);
  assert.equal(log.get(0)!.op, JSON.stringify(JSON.parse(log.get(0)!.op))); // the genesis is untouched

  // A manual submission right after an attempt is refused; after 30 s it goes through (ignoring the backoff).
  await assert.rejects(submitter.run(true), /retry in \d+ s/);
  down = false;
  clock.ns += 31n * SECOND;
  assert.equal(await submitter.run(true), null);
  assert.equal(plcStatusC(pds).pending, 0);
  assert.deepEqual(log.history(10).map((e) => e.accepted), [true, true, true]);
  const st = pds.identity.require();
  assert.equal(st.handle, 'renamed.test');
  assert.equal(st.pdsUrl, 'https://pds.example.com');
  // One #identity per accepted operation, the last one carrying the new handle.
  const frames = identityFrames(pds).slice(frames0);
  assert.equal(frames.length, 3);
  assert.equal(frames[2].body.handle, 'renamed.test');

  const { audit, data } = await checkAuditLog(dir.url, st.did);
  assert.deepEqual(audit.map((a) => a.cid), [0, 1, 2].map((i) => log.get(i)!.cid));
  assert.deepEqual(data.alsoKnownAs, ['at://renamed.test']);
  assert.equal(data.services.atproto_pds.endpoint, 'https://pds.example.com');
});

test('an accepted operation whose answer was lost is recognised from the directory\'s last operation', async (t) => {
  const dir = await startPlcDirectory();
  t.after(() => dir.close());
  const { pds } = await plcPds(dir.url);
  const real = fetchPlcHttp();
  const http: PlcHttp = {
    post: async (u, j) => {
      await real.post(u, j);
      throw new Error('response lost');
    },
    get: real.get,
  };
  assert.equal(await new PlcSubmitter(pds, http).run(), null);
  assert.equal(pds.identity.plcLog.get(0)!.accepted, true);
  // Resubmitting the same operation is refused by the directory, yet recognised as accepted.
  await pds.setHandle('again.test');
  const e = pds.identity.plcLog.get(1)!;
  await real.post(`${dir.url}/${pds.identity.require().did}`, e.op);
  assert.equal(await new PlcSubmitter(pds, real).run(), null);
  assert.equal(pds.identity.require().handle, 'again.test');
  assert.equal(pds.identity.plcLog.get(1)!.attempts, 1);
});

test('rotation keys: the canister\'s key first plus up to four did:keys; the directory accepts an operation signed by an added key', async (t) => {
  const dir = await startPlcDirectory();
  t.after(() => dir.close());
  const { pds } = await plcPds(dir.url);
  const s = pds.identity.require();
  const { Secp256k1Keypair } = await import('@atproto/crypto');
  const recoveryKey = await Secp256k1Keypair.create({ exportable: true });
  await assert.rejects(pds.setRotationKeys(['did:key:zBad']), /not a valid did:key/);
  const others = await Promise.all([1, 2, 3, 4, 5].map(async () => (await Secp256k1Keypair.create()).did()));
  await assert.rejects(pds.setRotationKeys(others), /at most 5 rotation keys/);
  await assert.rejects(pds.setRotationKeys([s.rotationKey!]), /distinct/);
  assert.equal(pds.identity.plcLog.count(), 1); // refusals queued nothing
  const e = await pds.setRotationKeys([recoveryKey.did()]);
  assert.deepEqual(JSON.parse(e.op).rotationKeys, [s.rotationKey, recoveryKey.did()]);
  assert.equal(await new PlcSubmitter(pds, fetchPlcHttp()).run(), null);
  const { data } = await checkAuditLog(dir.url, s.did);
  assert.deepEqual(data.rotationKeys, [s.rotationKey, recoveryKey.did()]);
  // The recovery key now controls the DID: the directory accepts its operation (signed here with the
  // independent implementation).
  const audit = (await (await fetch(`${dir.url}/${s.did}/log/audit`)).json()) as { operation: any; cid: string }[];
  const last = audit[audit.length - 1];
  const unsigned = { ...last.operation, prev: last.cid, alsoKnownAs: ['at://recovered.test'] };
  delete unsigned.sig;
  const sig = Buffer.from(await recoveryKey.sign(new Uint8Array((await import('@ipld/dag-cbor')).encode(unsigned)))).toString('base64url');
  const res = await fetch(`${dir.url}/${s.did}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...unsigned, sig }) });
  assert.equal(res.status, 200, await res.text());
});

test('did:web refuses rotation keys and a PDS endpoint with the reason', async () => {
  const { pds } = memoryPds();
  await pds.bootstrap();
  await assert.rejects(pds.setRotationKeys([]), /did:web identity has no PLC operations/);
  await assert.rejects(pds.setPdsEndpoint('https://x.example'), /did:web identity has no PLC operations/);
  assert.equal(plcStatusC(pds).history.length, 0);
});
