// Firehose delivery: the Canopy bridge side by side with the reference PDS (@atproto/pds on loopback).
// Figures: commit-to-delivery latency p50/p99 with 1 and 1,000 subscribers, frames/s delivered to 1,000
// subscribers, and RSS. Subscribers live in a child process (this same file, CANOPY_BENCH_ROLE=subscribers)
// so their CPU and memory do not count against the server under test.
//
// "Commit" time is when the write is issued: for the PDS, the createRecord call (so its write path is
// included); for the bridge, the moment the event lands in its EventSource. Until the canister can be
// deployed by the test helpers, the bridge is driven from the in-memory EventSource (the output says so):
// its latency is then polling + relay only, without the canister's update-call time.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { encodeFrame } from '../canister/src/repo/events.ts';
import { MemoryEventSource, startBridge, SUBSCRIBE_PATH } from '../bridge/src/index.ts';
import type { Replica } from '../replica/src/index.ts';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LATENCY_WRITES = Number(process.env.BENCH_LATENCY_WRITES ?? 80);
const BURST_WRITES_BRIDGE = Number(process.env.BENCH_BURST_WRITES ?? 1000);
const BURST_WRITES_PDS = Number(process.env.BENCH_PDS_BURST_WRITES ?? 200);
const BURST_WRITES_CANISTER = Number(process.env.BENCH_CANISTER_BURST_WRITES ?? 100);
const MANY = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);

// ---------------------------------------------------------------- subscriber child process
type ToChild =
  | { cmd: 'connect'; url: string; n: number }
  | { cmd: 'reset' }
  | { cmd: 'collect'; writeTimes: number[]; timeoutMs: number }
  | { cmd: 'close' };
type Collected = { p50: number; p99: number; samples: number; missing: number; lastArrival: number; firstArrival: number };

function isCommitFrame(b: Buffer): boolean {
  // Header {op: 1, t: '#commit'} is the frame's first few bytes; finding '#commit' there is enough.
  return b.subarray(0, 24).includes('#commit');
}

async function subscriberChild(): Promise<void> {
  let sockets: WebSocket[] = [];
  let arrivals: number[][] = [];
  const send = (m: unknown) => process.send!(m);
  process.on('message', async (m: ToChild) => {
    if (m.cmd === 'connect') {
      sockets = [];
      arrivals = [];
      const opens: Promise<void>[] = [];
      for (let i = 0; i < m.n; i++) {
        const mine: number[] = [];
        arrivals.push(mine);
        const ws = new WebSocket(m.url);
        ws.on('message', (data: Buffer) => {
          if (isCommitFrame(data)) mine.push(now());
        });
        ws.on('error', () => {});
        sockets.push(ws);
        opens.push(new Promise((res, rej) => {
          ws.once('open', () => res());
          ws.once('error', rej);
        }));
        if (i % 100 === 99) await Promise.all(opens.slice(-100));
      }
      await Promise.all(opens);
      send({ ok: 'connected' });
    } else if (m.cmd === 'reset') {
      for (const a of arrivals) a.length = 0;
      send({ ok: 'reset' });
    } else if (m.cmd === 'collect') {
      const want = m.writeTimes.length;
      const deadline = Date.now() + m.timeoutMs;
      while (arrivals.some((a) => a.length < want) && Date.now() < deadline) await sleep(20);
      const lat: number[] = [];
      let missing = 0;
      let first = Infinity;
      let last = 0;
      for (const a of arrivals) {
        missing += Math.max(0, want - a.length);
        for (let i = 0; i < Math.min(want, a.length); i++) {
          lat.push(a[i] - m.writeTimes[i]);
          first = Math.min(first, a[i]);
          last = Math.max(last, a[i]);
        }
      }
      lat.sort((x, y) => x - y);
      const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN);
      send({ p50: q(0.5), p99: q(0.99), samples: lat.length, missing, firstArrival: first, lastArrival: last } satisfies Collected);
    } else if (m.cmd === 'close') {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  });
  send({ ok: 'ready' });
}

class Subscribers {
  private constructor(private readonly child: ChildProcess) {}
  static async start(): Promise<Subscribers> {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, CANOPY_BENCH_ROLE: 'subscribers' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const s = new Subscribers(child);
    await s.next();
    return s;
  }
  private next<T>(): Promise<T> {
    return new Promise((res, rej) => {
      const onExit = () => rej(new Error('subscriber process exited'));
      this.child.once('exit', onExit);
      this.child.once('message', (m) => {
        this.child.off('exit', onExit);
        res(m as T);
      });
    });
  }
  async ask<T>(m: ToChild): Promise<T> {
    const reply = this.next<T>();
    this.child.send(m);
    return reply;
  }
  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'close' });
    await Promise.race([exited, sleep(3000)]);
    this.child.kill();
  }
}

// ---------------------------------------------------------------- the measured scenarios
type Writer = () => Promise<void>;
type Figures = { p50_1: number; p99_1: number; p50_n: number; p99_n: number; framesPerSec: number; rssMb: number; missing: number };

/** Paced writes (50–150 ms apart, so every phase of a poll cycle is sampled), then per-frame latencies. */
async function latencyRun(subs: Subscribers, write: Writer, count: number): Promise<Collected> {
  await subs.ask({ cmd: 'reset' });
  const writeTimes: number[] = [];
  for (let i = 0; i < count; i++) {
    writeTimes.push(now());
    await write();
    await sleep(50 + Math.random() * 100);
  }
  return subs.ask<Collected>({ cmd: 'collect', writeTimes, timeoutMs: 30_000 });
}

/** A burst of writes as fast as the server takes them; frames/s = frames delivered / (last arrival − first write). */
async function burstRun(subs: Subscribers, write: Writer, count: number, concurrency: number, n: number): Promise<{ fps: number; missing: number }> {
  await subs.ask({ cmd: 'reset' });
  const writeTimes: number[] = new Array(count).fill(0);
  const t0 = now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      writeTimes[i] = now();
      await write();
    }
  }));
  const c = await subs.ask<Collected>({ cmd: 'collect', writeTimes, timeoutMs: 120_000 });
  return { fps: (count * n - c.missing) / ((c.lastArrival - t0) / 1000), missing: c.missing };
}

async function measure(url: string, write: Writer, burst: { count: number; concurrency: number }, rss: () => number): Promise<Figures> {
  const one = await Subscribers.start();
  let r1: Collected;
  try {
    await one.ask({ cmd: 'connect', url, n: 1 });
    await sleep(200);
    r1 = await latencyRun(one, write, LATENCY_WRITES);
  } finally {
    await one.close();
  }
  const many = await Subscribers.start();
  try {
    await many.ask({ cmd: 'connect', url, n: MANY });
    await sleep(500);
    const rn = await latencyRun(many, write, LATENCY_WRITES);
    const b = await burstRun(many, write, burst.count, burst.concurrency, MANY);
    const rssMb = rss() / 1024 / 1024;
    return { p50_1: r1.p50, p99_1: r1.p99, p50_n: rn.p50, p99_n: rn.p99, framesPerSec: b.fps, rssMb, missing: r1.missing + rn.missing + b.missing };
  } finally {
    await many.close();
  }
}

// ---------------------------------------------------------------- the bridge
async function benchBridge(): Promise<Figures & { mode: string }> {
  const source = new MemoryEventSource();
  // A commit-sized frame (~1.5 KB) with a #commit header; the bridge relays bytes and never looks inside.
  const pad = new Uint8Array(1400).fill(7);
  const write: Writer = async () => {
    source.append((seq) => encodeFrame({ op: 1, t: '#commit' }, { seq, pad, time: new Date().toISOString() }));
  };
  const bridge = await startBridge({ host: '127.0.0.1', port: 0, logLevel: 'warn', source, maxConnections: MANY + 10 });
  try {
    await bridge.poller.ready;
    const f = await measure(`${bridge.url}${SUBSCRIBE_PATH}`, write, { count: BURST_WRITES_BRIDGE, concurrency: 1 }, () => process.memoryUsage.rss());
    return { ...f, mode: 'in-memory EventSource' };
  } finally {
    await bridge.close();
  }
}

/**
 * The real thing: canister on the local replica, bridge as its own process (main.ts), so its RSS is its own.
 * The replica runs in a process of its own too, as a real one does: in this process the writer's agent
 * verifies each call's certificate (a BLS pairing, ~55 ms of CPU), which would otherwise stall the replica.
 */
async function benchBridgeOnCanister(): Promise<Figures & { writeP50: number }> {
  const { startReplicaProcess } = await import('../replica/src/process.ts');
  const { startReplica } = await import('../replica/src/index.ts');
  const { deployCanopy, testInitArgs } = await import('../test/support/canopy.ts');
  const { Ed25519KeyIdentity } = await import('@dfinity/identity');
  // BENCH_REPLICA_IN_PROCESS=1: the replica shares this process (and its CPU) with the writer's agent
  const replica = process.env.BENCH_REPLICA_IN_PROCESS === '1'
    ? await startReplica({ host: '127.0.0.1', port: 0 })
    : await startReplicaProcess({ host: '127.0.0.1', port: 0 });
  let child: ChildProcess | null = null;
  try {
    const member = Ed25519KeyIdentity.generate();
    const delegate = Ed25519KeyIdentity.generate();
    const canopy = await deployCanopy(replica as unknown as Replica, testInitArgs({
      members: [member.getPrincipal()],
      delegates: [{ principal: delegate.getPrincipal().toText(),
        scope: { collections: ['app.bsky.feed.post'], actions: [{ create: null }], writes_per_day: 100_000, expires_at_ns: [] } }],
    }), { wasm: process.env.CANOPY_BENCH_WASM ? readFileSync(process.env.CANOPY_BENCH_WASM) : undefined });
    await canopy.ready();
    const actor = await canopy.actor(delegate);
    const bridgeProc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../bridge/src/main.ts', import.meta.url)),
      '--port', '0', '--ic-host', replica.url, '--canister-id', canopy.canisterId.toText(), '--verify-query-signatures', 'false',
      '--max-connections', String(MANY + 10), '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = bridgeProc;
    const port = await new Promise<number>((res, rej) => {
      let buf = '';
      bridgeProc.stderr!.on('data', (d) => {
        buf += d;
        const m = /"msg":"bridge listening".*?"port":(\d+)/.exec(buf);
        if (m) res(Number(m[1]));
      });
      bridgeProc.once('exit', (code) => rej(new Error(`bridge exited ${code}: ${buf.slice(-500)}`)));
    });
    bridgeProc.stderr!.resume();
    const writeTimes: number[] = [];
    let n = 0;
    const write: Writer = async () => {
      const t0 = now();
      await actor.create_record({ collection: 'app.bsky.feed.post', rkey: [],
        record_json: JSON.stringify({ $type: 'app.bsky.feed.post', text: `bench ${n++}`, createdAt: new Date().toISOString() }) });
      writeTimes.push(now() - t0);
    };
    const rss = () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${bridgeProc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : NaN;
    };
    const f = await measure(`ws://127.0.0.1:${port}${SUBSCRIBE_PATH}`, write, { count: BURST_WRITES_CANISTER, concurrency: 8 }, rss);
    writeTimes.sort((a, b) => a - b);
    return { ...f, writeP50: writeTimes[Math.floor(writeTimes.length / 2)] };
  } finally {
    child?.kill('SIGTERM');
    await replica.stop();
  }
}

// ---------------------------------------------------------------- the reference PDS
async function benchPds(): Promise<Figures> {
  const { startReferencePds } = await import('../test/conformance/reference-pds.ts');
  const ref = await startReferencePds({ handle: 'bench.test' });
  try {
    const { agent, did } = ref;
    let n = 0;
    const write: Writer = async () => {
      await agent.com.atproto.repo.createRecord({
        repo: did, collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: `bench ${n++}`, createdAt: new Date().toISOString() },
      });
    };
    return await measure(`${ref.url.replace(/^http/, 'ws')}${SUBSCRIBE_PATH}`, write, { count: BURST_WRITES_PDS, concurrency: 8 }, () => process.memoryUsage.rss());
  } finally {
    await ref.close();
  }
}

// ---------------------------------------------------------------- report
export default async function bridgeBench(): Promise<void> {
  const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');
  console.log(`\n# bridge vs reference PDS — firehose delivery (${LATENCY_WRITES} paced writes per latency run, ${MANY} subscribers in a child process)`);
  const settle = <T,>(p: Promise<T>, what: string) => p.catch((err) => {
    console.log(`${what} could not run: ${(err as Error).stack ?? err}`);
    return null;
  });
  const c = await settle(benchBridgeOnCanister(), 'bridge on the canister');
  const m = await settle(benchBridge(), 'bridge on the in-memory source');
  const p = await settle(benchPds(), 'reference PDS');
  const cols = ['bridge+canister', 'bridge (memory)', 'reference PDS'];
  const row = (name: string, vals: string[]) => console.log(`${name.padEnd(36)} ${vals.map((v) => v.padStart(16)).join(' ')}`);
  const pick = (f: (x: Figures) => string) => [c, m, p].map((x) => (x ? f(x) : 'n/a'));
  row('', cols);
  row('latency p50, 1 subscriber', pick((x) => ms(x.p50_1)));
  row('latency p99, 1 subscriber', pick((x) => ms(x.p99_1)));
  row(`latency p50, ${MANY} subscribers`, pick((x) => ms(x.p50_n)));
  row(`latency p99, ${MANY} subscribers`, pick((x) => ms(x.p99_n)));
  row(`frames/s to ${MANY} subscribers`, pick((x) => x.framesPerSec.toFixed(0)));
  row(`RSS with ${MANY} subscribers`, pick((x) => `${x.rssMb.toFixed(0)} MB`));
  row('frames missing', pick((x) => String(x.missing)));
  console.log('latency = write issued -> frame received. bridge+canister: create_record update call on the local replica,')
  console.log(`  bridge and replica each in its own process (RSS of the bridge's); write call p50 ${c ? ms(c.writeP50) : 'n/a'} (incl. the agent's`);
  console.log('  certificate check, ~55 ms). bridge (memory): in-memory EventSource,');
  console.log('  polling + relay only; RSS = bench process. PDS: createRecord, RSS = bench process incl. PDS. Default poll min 50 ms.');
  console.log(`  frames/s is bounded by the write rate for the canister (${BURST_WRITES_CANISTER} writes, 8 concurrent) and the PDS (${BURST_WRITES_PDS}, 8 concurrent); memory burst: ${BURST_WRITES_BRIDGE} events.`);
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  for (const [name, b] of [['bridge+canister', c], ['bridge (memory)', m]] as const) {
    if (!b) continue;
    if (p) {
      console.log(`${name}: goal p50 (1 subscriber) within 2x of the PDS: ${verdict(b.p50_1 <= 2 * p.p50_1)} (${(b.p50_1 / p.p50_1).toFixed(2)}x)`);
      console.log(`${name}: goal p50 (${MANY} subscribers) not worse than the PDS: ${verdict(b.p50_n <= p.p50_n)} (${(b.p50_n / p.p50_n).toFixed(2)}x)`);
    }
    console.log(`${name}: goal RSS < 300 MB with ${MANY} subscribers: ${verdict(b.rssMb < 300)} (${b.rssMb.toFixed(0)} MB)`);
  }
}

if (process.env.CANOPY_BENCH_ROLE === 'subscribers') {
  await subscriberChild();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await bridgeBench();
}
