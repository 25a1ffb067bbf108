// `CANOPY_DID_METHOD=plc npm start`: the stack runs a real PLC directory (@did-plc/server, in memory)
// and the canister registers its did:plc there through the replica's HTTPS outcalls. A handle change
// voted with the CLI reaches the directory, then the firehose (#identity); @did-plc/lib checks the
// directory's log. A restart on the same state directory gives the fresh directory the accepted
// operations again. Finally `canopy migrate out` moves the account to the reference PDS (@atproto/pds)
// registered at the same directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Actor, HttpAgent } from '@dfinity/agent';
import * as plcLib from '@did-plc/lib';
import { idlFactory, type CanopyService } from '../../canister/src/api/interface.ts';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import { startStack, type RunningStack, type StackPorts } from '../../scripts/stack/index.ts';
import { freePort } from '../../scripts/stack/processes.ts';
import { until } from '../support/until.ts';
import { cliUser, type CanopyUser } from './user.ts';
import { startReferencePds } from '../conformance/reference-pds.ts';

const START_TIMEOUT = { timeout: 300_000 };
const WAIT = { timeoutMs: 90_000, intervalMs: 250 };
const stateDir = mkdtempSync(join(tmpdir(), 'canopy-plc-stack-test-'));
const logs: string[] = [];
let ports: StackPorts;
let plcPort: number;
let stack: RunningStack | undefined;
let user: CanopyUser;

const log = (source: string, line: string) => {
  logs.push(`[${source}] ${line}`);
  if (logs.length > 300) logs.splice(0, logs.length - 300);
};
const start = async () => (stack = await startStack({ stateDir, ports, identity: user.identity, log, didMethod: 'plc', plcPort }));

before(async () => {
  ports = { replica: await freePort(), pds: await freePort(), bridge: await freePort() };
  plcPort = await freePort();
  user = await cliUser();
});

after(async () => {
  await stack?.stop();
  user?.cleanup();
  rmSync(stateDir, { recursive: true, force: true });
});

async function directoryData(s: RunningStack) {
  const res = await fetch(`${s.plcUrl}/${s.did}/data`);
  return res.ok ? ((await res.json()) as { alsoKnownAs: string[]; services: Record<string, { endpoint: string }>; verificationMethods: Record<string, string>; rotationKeys: string[] }) : null;
}

async function identityFrames(s: RunningStack) {
  const agent = await HttpAgent.create({ host: s.replicaUrl, identity: user.identity, shouldFetchRootKey: true });
  const canister = Actor.createActor<CanopyService>(idlFactory, { agent, canisterId: s.canisterId });
  const page = await canister.get_events({ after: 0n, limit: 1000, max_bytes: 1_000_000 });
  return page.events.map((e) => decodeFrame(e.frame)).filter((f) => (f.header as { t: string }).t === '#identity').map((f) => f.body as { seq: number; handle?: string });
}

test('did:plc stack: the DID resolves in the directory with the canister\'s key and endpoint; a handle voted with the CLI reaches the directory, then #identity', START_TIMEOUT, async () => {
  try {
    const s = await start();
    assert.match(s.did, /^did:plc:[a-z2-7]{24}$/);
    assert.equal(s.plcUrl, `http://localhost:${plcPort}`);
    const status = (await user.run(s, ['status'])) as { plcUrl?: string; did: string };
    assert.equal(status.plcUrl, s.plcUrl);
    const data = await directoryData(s);
    assert.ok(data, 'the directory knows the DID');
    assert.equal(data.services.atproto_pds.endpoint, s.pdsUrl);
    assert.deepEqual(data.alsoKnownAs, [`at://${s.handle}`]);
    const described = (await (await fetch(`${s.pdsUrl}/xrpc/com.atproto.repo.describeRepo?repo=${s.did}`)).json()) as { didDoc: { verificationMethod: { publicKeyMultibase: string }[] } };
    assert.equal(data.verificationMethods.atproto, `did:key:${described.didDoc.verificationMethod[0].publicKeyMultibase}`);

    const before = (await identityFrames(s)).length;
    const { id } = (await user.run(s, ['propose', 'handle', 'renamed.test'])) as { id: string };
    await user.vote(s, Number(id), 'yes');
    await until('the new handle in the directory', async () => (await directoryData(s))?.alsoKnownAs[0] === 'at://renamed.test', WAIT);
    await until('#identity with the new handle', async () => (await identityFrames(s)).some((f) => f.handle === 'renamed.test'), WAIT);
    assert.equal((await identityFrames(s)).length, before + 1, 'one #identity, after the directory accepted the change');

    const audit = (await (await fetch(`${s.plcUrl}/${s.did}/log/audit`)).json()) as { operation: any }[];
    assert.equal(audit.length, 2);
    const doc = (await plcLib.validateOperationLog(s.did, audit.map((a) => a.operation)))!;
    assert.deepEqual(doc.alsoKnownAs, ['at://renamed.test']);
  } catch (e) {
    console.log(logs.slice(-80).join('\n'));
    throw e;
  }
});

test('restart on the same state directory: the in-memory directory is given the accepted operations again', START_TIMEOUT, async () => {
  try {
    const did = stack!.did;
    await stack!.stop();
    const s = await start();
    assert.equal(s.did, did);
    const data = await directoryData(s);
    assert.deepEqual(data?.alsoKnownAs, ['at://renamed.test']);
  } catch (e) {
    console.log(logs.slice(-80).join('\n'));
    throw e;
  }
});

test('canopy migrate out: the one-member DAO moves the account to the reference PDS; the directory names it; the account here is deactivated', START_TIMEOUT, async (t) => {
  const s = stack!;
  const ref = await startReferencePds({ plc: { url: s.plcUrl!, close: async () => undefined } });
  t.after(() => ref.close());
  try {
    const out = (await user.run(s, ['migrate', 'out', '--to', ref.url, '--handle', 'moved.test', '--email', 'moved@example.com', '--password', 'moved-password'])) as { did: string; pds: string; status: string };
    assert.deepEqual(out, { did: s.did, pds: ref.url, status: 'migrated' });
    const data = await directoryData(s);
    assert.equal(data?.services.atproto_pds.endpoint, ref.url);
    const repoStatus = (await (await fetch(`${s.pdsUrl}/xrpc/com.atproto.sync.getRepoStatus?did=${s.did}`)).json()) as { active: boolean; status?: string };
    assert.deepEqual([repoStatus.active, repoStatus.status], [false, 'deactivated']);
    const there = (await (await fetch(`${ref.url}/xrpc/com.atproto.sync.getRepoStatus?did=${s.did}`)).json()) as { active: boolean };
    assert.equal(there.active, true);
    // Resumable: running it again finds every step done.
    const again = (await user.run(s, ['migrate', 'out', '--to', ref.url, '--handle', 'moved.test', '--email', 'moved@example.com', '--password', 'moved-password'])) as { status: string };
    assert.equal(again.status, 'migrated');
  } catch (e) {
    console.log(logs.slice(-80).join('\n'));
    throw e;
  }
});
