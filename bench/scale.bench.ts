// The canister at scale: grows one repo to 100,000 records in apply_writes batches (a delegate request's most) through
// the local replica and, at 1,000 / 10,000 / 100,000 records, prints each hot path's instructions
// (replica metering) against its goal. `npm run bench -- scale`; CANOPY_SCALE_RECORDS=10000 stops
// at a smaller size (the checkpoints up to it are still printed).
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { startReplica } from '../replica/src/index.ts';
import { buildCanister, deployCanopy, testInitArgs } from '../test/support/canopy.ts';
import { fmt, parse, type Line } from './canister.bench.ts';
import { MAX_DELEGATE_BATCH } from '../canister/src/api/delegate-writes.ts';

const POST = 'app.bsky.feed.post';
const QUERY_LIMIT = 5_000_000_000n;
const postJson = (text: string) => JSON.stringify({ $type: POST, text, createdAt: new Date().toISOString() });
const updateTotal = (lines: Line[]) => lines.filter((l) => l.kind === 'update' || l.kind === 'reply-callback').reduce((s, l) => s + l.instructions, 0n);
const median = (xs: bigint[]) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[xs.length >> 1];

const row = (name: string, value: string, goal: string, met: boolean | null) =>
  console.log(`  ${name.padEnd(44)} ${value.padStart(14)}   goal ${goal.padEnd(22)} ${met === null ? '' : met ? 'met' : 'NOT MET'}`);

export default async function bench(): Promise<void> {
  const target = Number(process.env.CANOPY_SCALE_RECORDS ?? 100_000);
  const checkpoints = [1_000, 10_000, 100_000].filter((n) => n <= target);
  const logs: string[] = [];
  const replica = await startReplica({ port: 0, log: (l) => logs.push(l) });
  try {
    // A delegate may write at most 100,000 records a day: the growth takes turns between two.
    const delegates = [Ed25519KeyIdentity.generate(), Ed25519KeyIdentity.generate()];
    const canopy = await deployCanopy(
      replica,
      testInitArgs({
        members: [Ed25519KeyIdentity.generate().getPrincipal()],
        delegates: delegates.map((d) => ({ principal: d.getPrincipal().toText(), scope: { collections: [POST], actions: [{ create: null }], writes_per_day: 100_000, expires_at_ns: [] } })),
      }),
    );
    const { did } = await canopy.ready();
    const actors = await Promise.all(delegates.map((d) => canopy.actor(d)));
    const a = new Proxy(actors[0], { get: (_, p) => (actors[Math.floor(records / 60_000)] as unknown as Record<string | symbol, unknown>)[p] });
    const wasm = await buildCanister();
    const measure = async (fn: () => Promise<unknown>) => {
      const mark = logs.length;
      await fn();
      const lines = logs.slice(mark).map(parse).filter((l): l is Line => l !== null);
      logs.length = 0; // the replica logs every message; keep memory flat over 100,000 records
      return lines;
    };
    const batch = (n: number, tag: string) => ({ writes: Array.from({ length: n }, (_, i) => ({ create: { collection: POST, rkey: [] as [], record_json: postJson(`${tag} ${i}`) } })) });
    // A delegate request carries at most MAX_DELEGATE_BATCH writes (hardening), so the repo grows in
    // batches of that size; a 200-op commit forms only when several delegates' writes share a signature.
    const B = MAX_DELEGATE_BATCH;
    let records = 0;
    let growMs = 0;
    for (const at of checkpoints) {
      const t0 = Date.now();
      while (records < at - (B + 4)) {
        const k = Math.min(B, at - (B + 4) - records);
        await a.apply_writes(batch(k, `filler ${records}`));
        logs.length = 0;
        records += k;
      }
      growMs += Date.now() - t0;
      console.log(`\nat ${at.toLocaleString('en-US')} records (grown in ${(growMs / 1000).toFixed(0)} s so far, ${B}-op batches)`);
      const singles: bigint[] = [];
      for (let i = 0; i < 3; i++) {
        singles.push(updateTotal(await measure(() => a.create_record({ collection: POST, rkey: [], record_json: postJson('a single post') }))));
        records++;
      }
      const single = median(singles);
      row('single-post commit (median of 3)', fmt(single), at === 100_000 ? '< 300 M at 100k' : '(< 300 M at 100k)', at === 100_000 ? single < 300_000_000n : null);
      const big = updateTotal(await measure(() => a.apply_writes(batch(B, 'batch'))));
      records += B;
      row(`${B}-op commit (apply_writes, a delegate request's most)`, fmt(big), '< 2 B (a member or delegate message)', big < 2_000_000_000n);
      const lr = (await measure(() => fetch(canopy.url(`/xrpc/com.atproto.repo.listRecords?repo=${encodeURIComponent(did)}&collection=${POST}&limit=100`)).then((r) => r.arrayBuffer()))).find((l) => l.method === 'http_request')!.instructions;
      row('listRecords(100)', fmt(lr), '< 100 M', lr < 100_000_000n);
      const dr = (await measure(() => fetch(canopy.url(`/xrpc/com.atproto.repo.describeRepo?repo=${encodeURIComponent(did)}`)).then((r) => r.arrayBuffer()))).find((l) => l.method === 'http_request')!.instructions;
      row('describeRepo (collections)', fmt(dr), '< 100 M', dr < 100_000_000n);
      let carBytes = 0;
      const t1 = Date.now();
      const repo = await measure(async () => {
        const res = await fetch(canopy.url(`/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(did)}`));
        carBytes = (await res.arrayBuffer()).byteLength;
      });
      const streamMs = Date.now() - t1;
      const chunks = repo.filter((l) => l.kind === 'query' && (l.method === 'http_request' || l.method === 'http_request_streaming_callback'));
      const max = chunks.reduce((m, l) => (l.instructions > m ? l.instructions : m), 0n);
      row(`getRepo chunk, max of ${chunks.length}`, fmt(max), '< 5 B (query limit)', max < QUERY_LIMIT);
      row('getRepo streamed (gateway)', `${(streamMs / 1000).toFixed(1)} s`, `${(carBytes / 1e6).toFixed(1)} MB, no chunk over`, max < QUERY_LIMIT);
      const upg = (await measure(() => replica.installCode(canopy.canisterId, wasm, new Uint8Array(), 'upgrade'))).find((l) => l.kind === 'install');
      row('post_upgrade', upg ? fmt(upg.instructions) : 'n/a', '< 5 B', upg ? upg.instructions < 5_000_000_000n : false);
      const cm = replica.engine.metrics().canisters.find((c) => c.id === canopy.canisterId.toText());
      if (cm) row('stable memory used', `${((cm.stablePages * 65536) / 2 ** 20).toFixed(1)} MiB`, '(report)', null);
    }
  } finally {
    await replica.stop();
  }
}
