// Group commit end to end: with a threshold signature that takes time (the replica's `ecdsaLatencyMs`,
// as on mainnet), concurrent create_record calls that arrive while a commit waits for its signature go
// together into the next commit, in arrival order, and every #commit still passes the Sync v1.1 checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import type { CID } from '../../canister/src/atproto/cbor.ts';
import { checkCommitEvent } from '../support/sync-check.ts';
import { startWithDelegate, type CanopyFixture } from '../support/canopy.ts';

const POST = 'app.bsky.feed.post';
const WRITES = 10;
/** signature latency; the writes are issued well within it, so all but the first queue behind one commit */
const ECDSA_LATENCY_MS = 1000;

let fx: CanopyFixture;
const logs: string[] = [];
const member = Ed25519KeyIdentity.generate();
const delegate = Ed25519KeyIdentity.generate();

before(async () => {
  fx = await startWithDelegate({
    replica: { ecdsaLatencyMs: ECDSA_LATENCY_MS, log: (l) => logs.push(l) },
    members: [member.getPrincipal()],
    delegate,
    collections: [POST],
    actions: ['create'],
    writesPerDay: 100_000,
  });
});

after(async () => {
  if (process.env.SHOW_LOGS) console.log(logs.filter((l) => l.includes('[exec]')).join('\n'));
  await fx?.replica.stop();
});

type Event = { seq: bigint; t?: string; body: Record<string, unknown> };

async function eventsAfter(after: bigint): Promise<Event[]> {
  const out: Event[] = [];
  for (;;) {
    const page = await fx.anonActor.get_events({ after, limit: 100, max_bytes: 1_000_000 });
    for (const e of page.events) {
      const { header, body } = decodeFrame(new Uint8Array(e.frame)) as { header: { t?: string }; body: Record<string, unknown> };
      out.push({ seq: e.seq, t: header.t, body });
    }
    if (page.events.length === 0) return out;
    after = page.events[page.events.length - 1].seq;
  }
}

test('concurrent writes during a slow signature land in fewer commits, in arrival order, each a valid #commit', async (t) => {
  const status = await fx.anonActor.get_status();
  const headBefore: bigint = status.head_seq;
  const revBefore: string = status.rev[0]!;
  const earlier = await eventsAfter(0n);
  assert.ok(earlier.some((e) => e.t === '#commit' || e.t === '#sync'), 'the genesis commit is in the log');

  // Each call is issued once the previous one has started executing in the canister (its [exec] line), so the
  // order they arrive in is the order issued; none waits for an answer, so all but the first arrive while the
  // first commit waits for its signature.
  const executed = () => logs.filter((l) => /^\[exec\] update \S+ create_record /.test(l)).length;
  const started = performance.now();
  const calls: Promise<{ uri: string; rev: string; seq: bigint; commit: string }>[] = [];
  for (let i = 0; i < WRITES; i++) {
    const count = executed();
    calls.push(
      fx.delegateActor.create_record({
        collection: POST,
        rkey: [],
        record_json: JSON.stringify({ $type: POST, text: `group ${i}`, createdAt: new Date().toISOString() }),
      }),
    );
    for (let waited = 0; executed() === count && waited < 10_000; waited += 2) await new Promise((r) => setTimeout(r, 2));
    assert.ok(executed() > count, `write ${i} reached the canister`);
  }
  const settled = await Promise.allSettled(calls);
  const elapsed = performance.now() - started;
  const rejected = settled.filter((s) => s.status === 'rejected');
  assert.deepEqual(rejected, [], 'every write succeeds');
  const results = settled.map((s) => (s as PromiseFulfilledResult<Awaited<(typeof calls)[number]>>).value);
  assert.ok(elapsed >= ECDSA_LATENCY_MS, `a commit waits for its signature (${elapsed.toFixed(0)} ms)`);

  const events = (await eventsAfter(headBefore)).filter((e) => e.seq > headBefore);
  const commits = events.filter((e) => e.t === '#commit');
  assert.equal(commits.length, events.length, 'only #commit events were added');
  const opsPerCommit = commits.map((c) => (c.body.ops as unknown[]).length);
  assert.equal(opsPerCommit.reduce((a, b) => a + b, 0), WRITES, 'every write is one op');
  assert.ok(commits.length < WRITES, `${WRITES} writes in ${commits.length} commits (${opsPerCommit.join(' + ')} ops)`);
  assert.ok(opsPerCommit.some((n) => n > 1), 'some commit carries several writes');
  t.diagnostic(`${WRITES} writes -> ${commits.length} commits (${opsPerCommit.join(' + ')} ops) in ${elapsed.toFixed(0)} ms`);

  // Arrival order: the ops, commit after commit, are the writes in the order they were issued.
  const opPaths = commits.flatMap((c) => (c.body.ops as { path: string }[]).map((op) => op.path));
  const resultPaths = results.map((r) => r.uri.split('/').slice(-2).join('/'));
  assert.deepEqual(opPaths, resultPaths, 'ops in arrival order');
  // Each caller's answer names the commit that carries its write.
  for (const [i, r] of results.entries()) {
    const carrier = commits.find((c) => (c.body.ops as { path: string }[]).some((op) => op.path === resultPaths[i]))!;
    assert.equal(r.seq, carrier.seq, `write ${i}: seq of its commit`);
    assert.equal(r.rev, carrier.body.rev, `write ${i}: rev of its commit`);
    assert.equal(r.commit, String(carrier.body.commit), `write ${i}: cid of its commit`);
  }
  assert.equal(new Set(results.map((r) => r.rev)).size, commits.length, 'one rev per commit, shared by its writes');

  // Sync v1.1: each #commit chains onto the previous one (prevData, since) and inverts with its own blocks.
  let prevRev = revBefore;
  let prevData: CID | null | undefined = undefined;
  for (const c of commits) {
    const checked = await checkCommitEvent(c.body, prevData, { didKey: fx.signingKey, sinceExpected: prevRev });
    assert.ok(checked.commit.rev > prevRev, 'rev increases');
    prevRev = checked.commit.rev;
    prevData = checked.commit.data;
  }
});
