// Backpressure against the real canister on the local replica: two live subscribers, one reading everything and
// one that stops reading right after the WebSocket handshake. Commits of the largest record a delegate may send
// (~46 KB #commit frames) push more bytes than the kernel socket buffers of a paused loopback peer absorb (~3.6 MB
// measured) plus the bridge's budget, so the bridge must cut the slow one off with ConsumerTooSlow while the fast one
// gets every frame.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { startWithDelegate, type CanopyFixture } from '../support/canopy.ts';
import { decodeFrame } from '../../canister/src/repo/events.ts';
import { startBridge, type RunningBridge } from '../../bridge/src/index.ts';
import { range, sleep, TestClient } from './helpers.ts';

const COLLECTION = 'com.example.canopy.filler';
const RECORDS_PER_COMMIT = 1;
const RECORD_PAD = 45_000; // one record near the delegate's 48 KiB request cap per #commit frame
const BUDGET = 256 * 1024;
// A paused loopback peer absorbed ~3.6 MB (~80 of these frames) before the bridge saw unsent bytes. The cap
// leaves room for kernels that buffer three times as much.
const MAX_COMMITS_BEFORE_DROP = 350;
const COMMITS_AFTER_DROP = 2;

let fx: CanopyFixture;
let bridge: RunningBridge;
const clients: TestClient[] = [];
const warnings: { msg: string; sub?: number; bufferedBytes?: number; lastSent?: number; time?: string }[] = [];
const member = Ed25519KeyIdentity.generate();
const delegate = Ed25519KeyIdentity.generate();

before(async () => {
  fx = await startWithDelegate({
    replica: { host: '127.0.0.1' },
    members: [member.getPrincipal()],
    delegate,
    collections: [COLLECTION],
    actions: ['create'],
    writesPerDay: 10_000,
  });
  bridge = await startBridge({
    host: '127.0.0.1', port: 0, icHost: fx.replica.url, canisterId: fx.canopy.canisterId.toText(),
    pollMinMs: 20, pollMaxMs: 100, bufferBudgetBytes: BUDGET,
    // The slow client stays paused for a few commits after the drop: the bridge must not terminate it (which
    // would discard the queued error frame) nor drop it as a dead peer before it reads again.
    shutdownGraceMs: 60_000, pingIntervalMs: 600_000,
    logLevel: 'warn', logSink: (line) => void warnings.push(JSON.parse(line)),
  });
  await bridge.poller.ready;
});

after(async () => {
  for (const c of clients) c.close();
  await bridge?.close();
  await fx?.replica.stop();
});

/** `p`, or a failure after `ms` (the timer is cleared so it never holds the process open). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

let written = 0;
/** One apply_writes call: RECORDS_PER_COMMIT distinct large records in one commit (one #commit frame). */
async function bigCommit(): Promise<number> {
  const writes = range(1, RECORDS_PER_COMMIT).map(() => {
    const n = written++;
    const record = { $type: COLLECTION, n, createdAt: new Date().toISOString(), data: `${n}:` + 'x'.repeat(RECORD_PAD) };
    return { create: { collection: COLLECTION, rkey: [] as [], record_json: JSON.stringify(record) } };
  });
  const r = await fx.delegateActor.apply_writes({ writes });
  return Number(r.seq);
}

/** The canister's own frames after `after`, one per query (each ~46 KB). */
async function canisterFrames(after: number): Promise<{ head: number; frames: Map<number, Uint8Array> }> {
  const anon = await fx.canopy.actor();
  const frames = new Map<number, Uint8Array>();
  let head = after;
  for (let cursor = after; ; ) {
    const page = await anon.get_events({ after: BigInt(cursor), limit: 1, max_bytes: 1_900_000 });
    head = Number(page.head);
    if (page.events.length === 0) break;
    for (const e of page.events as { seq: bigint; frame: Uint8Array }[]) frames.set(Number(e.seq), new Uint8Array(e.frame));
    cursor = Number(page.events[page.events.length - 1].seq);
    if (cursor >= head) break;
  }
  return { head, frames };
}

test('a paused live subscriber is cut off with ConsumerTooSlow while a fast one gets every frame (real canister)', async (t) => {
  const started = Date.now();
  const start = Number((await (await fx.canopy.actor()).get_status()).head_seq);

  const fast = new TestClient(bridge.url);
  const slow = new TestClient(bridge.url);
  clients.push(fast, slow);
  const slowRaw: Uint8Array[] = [];
  slow.ws.on('message', (data: Buffer) => void slowRaw.push(new Uint8Array(data)));
  await slow.opened;
  slow.pause(); // stops reading before any event exists: everything it is sent piles up in the kernel, then the bridge
  await fast.opened;
  await fast.waitFor(() => bridge.hub.size() === 2, 5000, 'both subscribers registered');
  await sleep(100);

  // Produce until the bridge drops the slow client; each commit is relayed (to both) once the fast one has it.
  const seqs: number[] = [];
  while (bridge.metrics.slowDrops.get() === 0) {
    assert.ok(seqs.length < MAX_COMMITS_BEFORE_DROP,
      `no ConsumerTooSlow after ${seqs.length} commits (~${(seqs.length * RECORDS_PER_COMMIT * RECORD_PAD / 1e6).toFixed(1)} MB) with budget ${BUDGET}`);
    const seq = await bigCommit();
    seqs.push(seq);
    await fast.waitForSeq(seq, 20_000);
  }
  const commitsToDrop = seqs.length;
  // The fast client keeps getting frames after the cutoff.
  for (let i = 0; i < COMMITS_AFTER_DROP; i++) {
    const seq = await bigCommit();
    seqs.push(seq);
    await fast.waitForSeq(seq, 20_000);
  }

  const { head, frames } = await canisterFrames(start);
  assert.deepEqual(seqs, range(start + 1, head), 'one event per commit, nothing else in the log');
  assert.deepEqual(fast.seqs(), range(start + 1, head), 'the fast client got every frame, contiguous, up to the canister head');
  for (const f of fast.frames) if (f.kind === 'message') assert.deepEqual(f.bytes, frames.get(f.seq!), `frame ${f.seq} relayed unchanged`);
  assert.ok(fast.frames.every((f) => f.kind === 'message' && f.type === '#commit'), 'no error frame for the fast client');

  assert.equal(bridge.metrics.slowDrops.get(), 1, 'exactly one slow-consumer drop');
  const metricsText = await (await fetch(`${bridge.httpUrl}/metrics`)).text();
  assert.match(metricsText, /^bridge_slow_consumer_drops_total 1$/m);
  const drops = warnings.filter((w) => w.msg === 'subscriber too slow; dropping');
  assert.equal(drops.length, 1);
  const dropLastSent = drops[0].lastSent!;
  assert.ok(dropLastSent > start && dropLastSent < head, `dropped mid-stream (last sent ${dropLastSent}, head ${head})`);
  assert.equal(bridge.hub.size(), 2, 'the slow connection still waits for its peer to read the close');

  // The fast client got every frame, including those after the cutoff, while the slow one read nothing.
  assert.equal(slow.frames.length, 0, 'the slow client has read nothing yet');

  (slow.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
  const closed = await within(slow.closed, 20_000, 'the bridge to close the slow connection');
  assert.equal(closed.code, 1008, 'closed with policy violation');
  assert.deepEqual(slow.seqs(), range(start + 1, dropLastSent), 'the slow client got what was sent before the cutoff, in order, no gap');
  for (const f of slow.frames) if (f.kind === 'message') assert.deepEqual(f.bytes, frames.get(f.seq!), `slow frame ${f.seq} unchanged`);
  assert.deepEqual(slow.frames.at(-1), { kind: 'error', error: 'ConsumerTooSlow', message: 'Stream consumer too slow' });
  assert.equal(slowRaw.length, slow.frames.length);
  const last = decodeFrame(slowRaw.at(-1)!);
  assert.deepEqual(last.header, { op: -1 });
  assert.equal(last.body.error, 'ConsumerTooSlow');
  await fast.waitFor(() => bridge.hub.size() === 1, 5000, 'only the fast client to remain');

  const bytesToSlow = range(start + 1, dropLastSent).reduce((s, q) => s + frames.get(q)!.length, 0);
  t.diagnostic(`drop after ${commitsToDrop} commits; ${bytesToSlow} bytes sent to the slow client before the cutoff, ` +
    `${drops[0].bufferedBytes} of them still unsent (the kernel took ${bytesToSlow - drops[0].bufferedBytes!}); ` +
    `frames ~${frames.get(start + 1)!.length} bytes; test body ${Date.now() - started} ms`);
});
