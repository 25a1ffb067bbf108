// The whole stack as a user runs it (`npm start` = startStack): replica + canister + bridge + Worker
// (wrangler dev). A post is proposed and voted through with the `canopy` CLI; independent atproto
// consumers then read it through the Worker: @atproto/api (records), @atproto/sync Firehose (commit
// signatures and proofs, with the DID document resolved over HTTP through the Worker), the Sync v1.1
// checker on every #commit, and @atproto/repo verifyRepoCar on getRepo. Finally the stack restarts on
// the same state directory: the record and the event log survive, and a consumer resuming from its
// cursor misses nothing.
import { test, before, after } from 'node:test';
import { until } from '../support/until.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtpAgent } from '@atproto/api';
import { Firehose } from '@atproto/sync';
import { IdResolver } from '@atproto/identity';
import { verifyRepoCar } from '@atproto/repo';
import { startStack, type RunningStack, type StackPorts } from '../../scripts/stack/index.ts';
import { freePort } from '../../scripts/stack/processes.ts';
import { checkCommitEvent } from '../support/sync-check.ts';
import { CID } from '../../canister/src/atproto/cbor.ts';
import { TestClient, range } from '../bridge/helpers.ts';
import { cliUser, type CanopyUser } from './user.ts';

const WAIT_MS = 60_000;
// Per test: a start may include a canister build on a cold cache; everything else is bounded by WAIT_MS.
const START_TIMEOUT = { timeout: 300_000 };
const STEP_TIMEOUT = { timeout: 180_000 };
const stateDir = mkdtempSync(join(tmpdir(), 'canopy-stack-test-'));
const logs: string[] = [];
let ports: StackPorts;
let stack: RunningStack | undefined;
let user: CanopyUser;
let signingKey: string;
const clients: TestClient[] = [];
const firehoses: Firehose[] = [];

function log(source: string, line: string): void {
  logs.push(`[${source}] ${line}`);
  if (logs.length > 400) logs.splice(0, logs.length - 400);
}

async function start(): Promise<RunningStack> {
  stack = await startStack({ stateDir, ports, identity: user.identity, log });
  return stack;
}

function firehoseUrl(s: RunningStack): string {
  return s.pdsUrl.replace(/^http/, 'ws');
}

function client(s: RunningStack, cursor?: number): TestClient {
  const c = new TestClient(firehoseUrl(s), cursor);
  clients.push(c);
  return c;
}

/** Waits on the running stack: its parts answer within WAIT_MS. */
const STACK_WAIT = { timeoutMs: WAIT_MS, intervalMs: 250 };

/** Sync v1.1 over every #commit a client received, chained: each prevData is the previous commit's data. */
async function checkCommits(c: TestClient, startPrevData?: CID | null): Promise<{ checked: number; lastData: CID | undefined }> {
  let prevData = startPrevData;
  let checked = 0;
  for (const f of c.frames) {
    if (f.kind !== 'message' || f.type !== '#commit') continue;
    const r = await checkCommitEvent(f.bytes, prevData, { didKey: signingKey });
    prevData = r.commit.data;
    checked++;
  }
  return { checked, lastData: prevData ?? undefined };
}

before(async () => {
  ports = { replica: await freePort(), pds: await freePort(), bridge: await freePort() };
  user = await cliUser();
});

after(async () => {
  for (const c of clients) c.close();
  for (const f of firehoses) await f.destroy().catch(() => undefined);
  await stack?.stop();
  user?.cleanup();
  rmSync(stateDir, { recursive: true, force: true });
});

function dumpLogsOnFailure(): void {
  console.log(`--- last stack log lines ---\n${logs.slice(-80).join('\n')}`);
}

// State shared by the steps below (they run in order).
let post: { uri: string; cid: string; rev: string };
let raw: TestClient;
let lastCommitData: CID | undefined;
const firehoseEvents: { seq: number; event: string; uri?: string; cid?: string }[] = [];
const firehoseErrors: Error[] = [];

test('npm start: the PDS answers through the Worker with its did:web, DID document and handle', START_TIMEOUT, async () => {
  try {
    const s = await start();
    assert.equal(s.did, `did:web:localhost%3A${ports.pds}`);
    const agent = new AtpAgent({ service: s.pdsUrl });
    const resolved = await agent.com.atproto.identity.resolveHandle({ handle: s.handle });
    assert.equal(resolved.data.did, s.did);
    // did:web resolution as any atproto client does it, over HTTP through the Worker.
    const idResolver = new IdResolver({ fetch: globalThis.fetch });
    const atpData = await idResolver.did.resolveAtprotoData(s.did);
    assert.equal(atpData.handle, s.handle);
    assert.equal(atpData.pds, s.pdsUrl);
    signingKey = atpData.signingKey;
    const described = await agent.com.atproto.server.describeServer();
    assert.equal(described.data.did, s.did);
  } catch (e) {
    dumpLogsOnFailure();
    throw e;
  }
});

test('a post proposed and voted through with the CLI is written, and appears through the Worker', STEP_TIMEOUT, async () => {
  try {
    const s = stack!;
    // Consumers connected before the write: a raw recorder (Sync v1.1) and @atproto/sync's Firehose.
    raw = client(s, 0);
    await raw.opened;
    const firehose = new Firehose({
      service: firehoseUrl(s),
      idResolver: new IdResolver({ fetch: globalThis.fetch }), // did:web resolved through the Worker
      getCursor: () => 0,
      unauthenticatedHandles: true, // canopy.test is not in DNS; resolveHandle is checked above
      handleEvent: (evt) => {
        firehoseEvents.push({
          seq: evt.seq,
          event: evt.event,
          uri: 'uri' in evt ? evt.uri.toString() : undefined,
          cid: 'cid' in evt && evt.cid ? evt.cid.toString() : undefined,
        });
      },
      onError: (err) => void firehoseErrors.push(err),
    });
    firehoses.push(firehose);
    void firehose.start();

    const text = `Hello from the full-stack test ${new Date().toISOString()}`;
    const id = await user.proposePost(s, text);
    await user.vote(s, id, 'yes');
    const proposal = await until(`proposal ${id} executed`, async () => {
      const p = await user.proposal(s, id);
      assert.ok(!['rejected', 'expired', 'failed'].includes(p.status), `proposal ${id} ended ${p.status}`);
      return p.status === 'executed' ? p : undefined;
    }, STACK_WAIT);
    assert.equal(proposal.kind, 'post');
    assert.ok(proposal.result, 'an executed post proposal has a result');
    post = proposal.result;
    assert.match(post.uri, new RegExp(`^at://${s.did.replace(/[.%]/g, '\\$&')}/app\\.bsky\\.feed\\.post/[a-z2-7]{13}$`));

    const agent = new AtpAgent({ service: s.pdsUrl });
    const rkey = post.uri.split('/').pop()!;
    const got = await agent.com.atproto.repo.getRecord({ repo: s.did, collection: 'app.bsky.feed.post', rkey });
    assert.equal(got.data.uri, post.uri);
    assert.equal(got.data.cid, post.cid);
    assert.equal((got.data.value as { text: string }).text, text);
    const listed = await agent.com.atproto.repo.listRecords({ repo: s.did, collection: 'app.bsky.feed.post' });
    assert.ok(listed.data.records.some((r) => r.uri === post.uri && r.cid === post.cid), 'listRecords has the post');
    const latest = await agent.com.atproto.sync.getLatestCommit({ did: s.did });
    assert.equal(latest.data.rev, post.rev);
  } catch (e) {
    dumpLogsOnFailure();
    throw e;
  }
});

test('the firehose through the Worker: Firehose verifies the commit, every #commit passes Sync v1.1', STEP_TIMEOUT, async () => {
  try {
    await until('Firehose sees the post', async () => (firehoseEvents.some((e) => e.uri === post.uri) ? true : undefined), STACK_WAIT);
    assert.deepEqual(firehoseErrors.map((e) => `${e.name}: ${e.message}`), [], 'Firehose reported no errors');
    const created = firehoseEvents.find((e) => e.uri === post.uri)!;
    assert.equal(created.event, 'create');
    assert.equal(created.cid, post.cid);

    const head = await until('raw client reaches the post', async () => {
      const f = raw.frames.find((x) => x.kind === 'message' && x.type === '#commit' && x.body.rev === post.rev);
      return f && f.kind === 'message' ? f.seq : undefined;
    }, STACK_WAIT);
    assert.deepEqual(raw.seqs(), range(1, head), 'every seq from 1, once, in order');
    const { checked, lastData } = await checkCommits(raw);
    assert.ok(checked >= 1, 'at least the post commit was checked');
    lastCommitData = lastData;
    // Every seq the Firehose saw is one the raw client saw.
    assert.ok(firehoseEvents.every((e) => e.seq >= 1 && e.seq <= head));
  } catch (e) {
    dumpLogsOnFailure();
    throw e;
  }
});

test('getRepo through the Worker passes @atproto/repo verifyRepoCar with the DID key', STEP_TIMEOUT, async () => {
  const s = stack!;
  const agent = new AtpAgent({ service: s.pdsUrl });
  const res = await agent.com.atproto.sync.getRepo({ did: s.did });
  const verified = await verifyRepoCar(res.data, s.did, signingKey);
  assert.equal(verified.commit.rev, post.rev);
  const rkey = post.uri.split('/').pop()!;
  const write = verified.creates.find((c) => c.collection === 'app.bsky.feed.post' && c.rkey === rkey);
  assert.ok(write, 'the post is in the repo');
  assert.equal(write.cid.toString(), post.cid);
});

test('restart on the same state: record and event log kept, a consumer resuming from its cursor misses nothing', START_TIMEOUT, async () => {
  try {
    const before = stack!;
    const lastSeq = raw.lastSeq()!;
    const closed = raw.closed;
    await before.stop();
    stack = undefined;
    await closed; // the consumer sees the firehose go away with the stack
    for (const f of firehoses.splice(0)) await f.destroy();

    const s = await start();
    assert.equal(s.canisterId, before.canisterId, 'the canister is reused');
    assert.equal(s.did, before.did);
    const agent = new AtpAgent({ service: s.pdsUrl });
    const rkey = post.uri.split('/').pop()!;
    const got = await agent.com.atproto.repo.getRecord({ repo: s.did, collection: 'app.bsky.feed.post', rkey });
    assert.equal(got.data.cid, post.cid, 'the record survived the restart');

    const resumed = client(s, lastSeq);
    await resumed.opened;
    const second = await user.writePost(s, `After the restart ${new Date().toISOString()}`);
    const head = await until('the resumed consumer reaches the new post', async () => {
      const f = resumed.frames.find((x) => x.kind === 'message' && x.type === '#commit' && x.body.rev === second.rev);
      return f && f.kind === 'message' ? f.seq : undefined;
    }, STACK_WAIT);
    assert.deepEqual(resumed.seqs(), range(lastSeq + 1, head), 'resumed exactly after the cursor, no gap, no duplicate');
    const { checked } = await checkCommits(resumed, lastCommitData);
    assert.ok(checked >= 1);

    // The whole log is still there: a consumer from 0 gets every seq, and the commits chain across the restart.
    const full = client(s, 0);
    await full.waitForSeq(head, WAIT_MS);
    assert.deepEqual(full.seqs(), range(1, head));
    await checkCommits(full);

    const latest = await agent.com.atproto.sync.getLatestCommit({ did: s.did });
    assert.equal(latest.data.rev, second.rev);
  } catch (e) {
    dumpLogsOnFailure();
    throw e;
  }
});
