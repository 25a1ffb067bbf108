// Identity proposals end to end over the pure modules: handle, rotation keys and PDS endpoint, each a
// PLC operation signed after adoption, accepted by a real PLC directory (@did-plc/server, in memory)
// and checked by @did-plc/lib; did:web refuses the kinds it cannot carry out, with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as plcLib from '@did-plc/lib';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Governance } from '../../canister/src/governance/governance.ts';
import { scopedKv } from '../../canister/src/storage/kv.ts';
import { executeAdopted } from '../../canister/src/api/executor.ts';
import { PlcSubmitter } from '../../canister/src/pds/plc-submit.ts';
import type { ProposalAction } from '../../canister/src/governance/types.ts';
import { LocalSigner } from '../../canister/src/atproto/crypto.ts';
import { fetchPlcHttp } from '../support/plc-http.ts';
import { startPlcDirectory } from '../../scripts/stack/plc-directory.ts';
import { memoryPds } from '../pds/fixtures.ts';

const HOUR = 3600n * 1_000_000_000n;

async function setup(plcUrl?: string) {
  const env = memoryPds(plcUrl ? { init: { didMethod: { plc: { plcUrl } } } } : {});
  await env.pds.bootstrap();
  const gov = new Governance(scopedKv(env.storage.kv, 'gov'), {
    did: () => env.pds.status().did,
    handle: () => env.pds.status().handle,
    blob: () => undefined,
  });
  const member = Ed25519KeyIdentity.generate().getPrincipal().toText();
  gov.init({ members: [{ principal: member, power: 1n }], rules: { votingPeriodNs: HOUR, quorumBps: 5000, thresholdBps: 5000 } }, env.clock.ns);
  const adopt = async (action: ProposalAction) => {
    const id = gov.propose(member, { action }, env.clock.ns);
    gov.vote(member, id, 'yes', env.clock.ns);
    await executeAdopted(env.pds, gov, () => env.clock.ns);
    const p = gov.getProposal(id)!;
    assert.equal(p.status, 'executed', p.failure ?? '');
    return p;
  };
  return { ...env, gov, member, adopt };
}

test('handle, rotation keys and PDS endpoint by vote: each a PLC operation the directory accepts, in order', async (t) => {
  const dir = await startPlcDirectory();
  t.after(() => dir.close());
  const { pds, adopt, gov, member, clock } = await setup(dir.url);
  const s = pds.identity.require();
  const recovery = LocalSigner.generate().didKey();
  await adopt({ kind: 'set_handle', handle: 'Renamed.Test' });
  await adopt({ kind: 'set_rotation_keys', keys: [recovery] });
  await adopt({ kind: 'set_pds_endpoint', url: 'https://pds.example.com/' });
  assert.equal(pds.identity.plcLog.count(), 4);
  assert.equal(pds.identity.require().handle, s.handle, 'nothing applied before the directory accepted it');
  assert.equal(await new PlcSubmitter(pds, fetchPlcHttp()).run(), null);

  const st = pds.identity.require();
  assert.equal(st.handle, 'renamed.test');
  assert.equal(st.pdsUrl, 'https://pds.example.com');
  const audit = (await (await fetch(`${dir.url}/${s.did}/log/audit`)).json()) as { operation: any; cid: string }[];
  assert.deepEqual(audit.map((a) => a.operation.prev), [null, ...audit.slice(0, -1).map((a) => a.cid)]);
  const data = (await plcLib.validateOperationLog(s.did, audit.map((a) => a.operation)))!;
  assert.deepEqual(data.rotationKeys, [s.rotationKey, recovery]);
  assert.deepEqual(data.alsoKnownAs, ['at://renamed.test']);
  assert.equal(data.services.atproto_pds.endpoint, 'https://pds.example.com');
  assert.deepEqual(data.verificationMethods, { atproto: s.signingKey });

  // Refused when proposed, before anyone votes.
  const refuse = (action: ProposalAction, reason: RegExp) => assert.throws(() => gov.propose(member, { action }, clock.ns), reason);
  refuse({ kind: 'set_rotation_keys', keys: ['did:key:zNotAKey'] }, /not a valid did:key/);
  refuse({ kind: 'set_rotation_keys', keys: [recovery, recovery] }, /distinct/);
  refuse({ kind: 'set_rotation_keys', keys: Array.from({ length: 5 }, () => LocalSigner.generate().didKey()) }, /at most 4 rotation keys besides the canister's own/);
  refuse({ kind: 'set_pds_endpoint', url: 'ftp://x.example' }, /http\(s\) origin/);
  refuse({ kind: 'set_pds_endpoint', url: 'https://x.example/path' }, /http\(s\) origin/);
  refuse({ kind: 'set_pds_endpoint', url: 'not a url' }, /not a URL/);
});

test('did:web: a handle change is immediate; rotation keys and the PDS endpoint are refused with the reason', async () => {
  const { pds, adopt, gov, member, clock } = await setup();
  await adopt({ kind: 'set_handle', handle: 'renamed.test' });
  assert.equal(pds.identity.require().handle, 'renamed.test');
  assert.throws(() => gov.propose(member, { action: { kind: 'set_rotation_keys', keys: [] } }, clock.ns), /did:web identity has no PLC operations/);
  assert.throws(() => gov.propose(member, { action: { kind: 'set_pds_endpoint', url: 'https://x.example' } }, clock.ns), /did:web identity has no PLC operations/);
});
