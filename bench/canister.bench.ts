// Instructions (from the local replica's metering) for the canister's hot paths:
// a single-post commit at repo sizes 100 and 10,000, a getRepo chunk, a get_events page,
// listRecords, and one create_record of a record at the 1,000,000-byte limit.
// `npm run bench -- canister` (CANOPY_BENCH_RECORDS=2000 for a quicker, smaller repo; default 10,000)
//
// Reference figures at 10,000 records (before → after the interpreter-tuned SHA-256, native-backed
// UTF-8, the specialised MST node decoder and the fast CID helpers):
//   create_record, 1,000,000-byte record   traps at 40 B (900 kB: limit) → ~15.0 B (~16 k instr/byte)
//   create_record, 100 kB record           6.06 B → ~1.6 B
//   getRepo chunk max (5 chunks)           3,875 M → ~860 M (avg 3,207 M → ~735 M)
//   listRecords (100)                      579 M → ~272 M
//   200-op commit                          7.7 B → ~6.0 B;  single post ~164 M → ~130–160 M
import { Ed25519KeyIdentity } from '@dfinity/identity';
import * as dagCbor from '@ipld/dag-cbor';
import { startReplica } from '../replica/src/index.ts';
import { buildCanister, deployCanopy, testInitArgs } from '../test/support/canopy.ts';

const POST = 'app.bsky.feed.post';
const LARGE = 'com.example.canopy.large';

/** JSON of a record whose DAG-CBOR encoding is exactly `size` bytes (ASCII text; size >= 100,000). */
function largeRecordJson(size: number): string {
  const base = { $type: LARGE, text: '' };
  const overhead = dagCbor.encode(base).length; // includes a 1-byte header for the empty string
  return JSON.stringify({ ...base, text: 'x'.repeat(size - overhead - 4) }); // strings >= 65,536 chars: 5-byte header
}
const postJson = (text: string) => JSON.stringify({ $type: POST, text, createdAt: new Date().toISOString() });

export type Line = { kind: string; method: string; instructions: bigint };
export function parse(line: string): Line | null {
  const m = /\[exec\] (\S+) \S+ (.*?) ?(ok|reject|trap|limit) instructions=(\d+)/.exec(line);
  return m ? { kind: m[1], method: m[2].trim(), instructions: BigInt(m[4]) } : null;
}

export const fmt = (n: bigint | number) => `${(Number(n) / 1e6).toFixed(1)} M`;

export default async function bench(): Promise<void> {
  const target = Number(process.env.CANOPY_BENCH_RECORDS ?? 10_000);
  const big = target.toLocaleString('en-US');
  const logs: string[] = [];
  const replica = await startReplica({ port: 0, log: (l) => logs.push(l) });
  try {
    const delegate = Ed25519KeyIdentity.generate();
    const canopy = await deployCanopy(
      replica,
      testInitArgs({
        members: [Ed25519KeyIdentity.generate().getPrincipal()],
        delegates: [{ principal: delegate.getPrincipal().toText(), scope: { collections: [POST, LARGE], actions: [{ create: null }], writes_per_day: 100_000, expires_at_ns: [] } }],
      }),
    );
    const { did } = await canopy.ready();
    const a = await canopy.actor(delegate);
    const anon = await canopy.actor();
    let records = 0;
    const growTo = async (n: number) => {
      while (records < n) {
        const k = Math.min(200, n - records);
        await a.apply_writes({ writes: Array.from({ length: k }, (_, i) => ({ create: { collection: POST, rkey: [], record_json: postJson(`filler ${records + i}`) } })) });
        records += k;
      }
    };
    /** Sum of the instructions of every message of one call (update + callbacks after awaits). */
    const measure = async (fn: () => Promise<unknown>) => {
      const mark = logs.length;
      await fn();
      return logs.slice(mark).map(parse).filter((l): l is Line => l !== null);
    };
    const singlePost = async () => {
      const lines = await measure(() => a.create_record({ collection: POST, rkey: [], record_json: postJson('a single post, as the community would write it') }));
      records++;
      return lines.filter((l) => l.kind === 'update' || l.kind === 'reply-callback').reduce((s, l) => s + l.instructions, 0n);
    };

    const rows: [string, string][] = [];
    await growTo(100);
    const at100: bigint[] = [];
    for (let i = 0; i < 3; i++) at100.push(await singlePost());
    rows.push(['single-post commit, 100 records', at100.map(fmt).join(' / ')]);
    const t0 = Date.now();
    await growTo(target);
    const growMs = Date.now() - t0;
    const at10k: bigint[] = [];
    for (let i = 0; i < 3; i++) at10k.push(await singlePost());
    rows.push([`single-post commit, ${big} records`, at10k.map(fmt).join(' / ')]);

    const batch = await measure(() => a.apply_writes({ writes: Array.from({ length: 200 }, (_, i) => ({ create: { collection: POST, rkey: [], record_json: postJson(`batch ${i}`) } })) }));
    records += 200;
    rows.push([`200-op commit (apply_writes), ${big} records`, fmt(batch.filter((l) => l.kind === 'update' || l.kind === 'reply-callback').reduce((s, l) => s + l.instructions, 0n))]);

    const repo = await measure(async () => {
      const res = await fetch(canopy.url(`/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(did)}`));
      const bytes = new Uint8Array(await res.arrayBuffer());
      rows.push(['getRepo CAR size', `${(bytes.length / 1e6).toFixed(2)} MB`]);
    });
    const chunks = repo.filter((l) => l.kind === 'query' && (l.method === 'http_request' || l.method === 'http_request_streaming_callback'));
    const max = chunks.reduce((m, l) => (l.instructions > m ? l.instructions : m), 0n);
    const avg = chunks.reduce((s, l) => s + l.instructions, 0n) / BigInt(Math.max(1, chunks.length));
    rows.push([`getRepo chunk (${chunks.length} chunks of ≤500 kB / ≤3,000 blocks)`, `avg ${fmt(avg)}, max ${fmt(max)}`]);

    const ev = await measure(() => anon.get_events({ after: 0n, limit: 100, max_bytes: 1_000_000 }));
    rows.push(['get_events page (100 events, ≤1 MB)', fmt(ev.find((l) => l.method === 'get_events')!.instructions)]);
    const ev2 = await measure(() => anon.get_events({ after: 0n, limit: 1000, max_bytes: 1_800_000 }));
    rows.push(['get_events page (≤1000 events, ≤1.8 MB)', fmt(ev2.find((l) => l.method === 'get_events')!.instructions)]);
    const rec = await measure(() => fetch(canopy.url(`/xrpc/com.atproto.repo.listRecords?repo=${encodeURIComponent(did)}&collection=${POST}&limit=100`)).then((r) => r.arrayBuffer()));
    rows.push([`listRecords (100) at ${big} records`, fmt(rec.find((l) => l.method === 'http_request')!.instructions)]);

    const large = await measure(() => a.create_record({ collection: LARGE, rkey: [], record_json: largeRecordJson(1_000_000) }));
    rows.push(['create_record of a 1,000,000-byte record', fmt(large.filter((l) => l.kind === 'update' || l.kind === 'reply-callback').reduce((s, l) => s + l.instructions, 0n))]);
    records++;

    const upgrade = await measure(async () => replica.installCode(canopy.canisterId, await buildCanister(), new Uint8Array(), 'upgrade'));
    const upg = upgrade.find((l) => l.kind === 'install');
    if (upg) rows.push([`upgrade (post_upgrade), ${records} records`, fmt(upg.instructions)]);
    const after = await measure(() => fetch(canopy.url(`/xrpc/com.atproto.repo.listRecords?repo=${encodeURIComponent(did)}&collection=${POST}&limit=100`)).then((r) => r.arrayBuffer()));
    rows.push(['listRecords (100) right after the upgrade', fmt(after.find((l) => l.method === 'http_request')!.instructions)]);
    const cm = replica.engine.metrics().canisters.find((c) => c.id === canopy.canisterId.toText());
    if (cm) rows.push([`stable memory / wasm heap at ${records} records`, `${((cm.stablePages * 65536) / 2 ** 20).toFixed(1)} MiB / ${(cm.heapBytes / 2 ** 20).toFixed(1)} MiB`]);
    console.log(`canister instructions (replica metering); repo grown 100 → ${big} records in ${(growMs / 1000).toFixed(0)} s`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(48)} ${v}`);
    console.log('  limits: update 40 B, query 5 B; target: single post < 1 B at 10,000 records');
  } finally {
    await replica.stop();
  }
}
