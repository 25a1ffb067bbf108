// Instructions (from the local replica's metering) for the canister's hot paths:
// a single-post commit at repo sizes 100 and 10,000, a getRepo chunk, a get_events page,
// listRecords, the largest delegate request (25 writes) and one create_record of a record at the delegate's
// request cap (48 KiB: delegates may not send more, so that one message stays under 2 B instructions).
// `npm run bench -- canister` (CANOPY_BENCH_RECORDS=2000 for a quicker, smaller repo; default 10,000)
//
// Reference figures at 10,000 records (before → after the interpreter-tuned SHA-256, native-backed
// UTF-8, the specialised MST node decoder and the fast CID helpers):
//   create_record, 1,000,000-byte record   traps at 40 B (900 kB: limit) → ~15.0 B (~16 k instr/byte); now refused
//                                          before decoding (delegate requests ≤ 48 KiB: `npm run bench -- attack`)
//   create_record, 100 kB record           6.06 B → ~1.6 B
//   getRepo chunk max (5 chunks)           3,875 M → ~860 M (avg 3,207 M → ~735 M)
//   listRecords (100)                      579 M → ~272 M
//   200-op commit                          7.7 B → ~6.0 B (delegates now send ≤ 25); single post ~164 M → ~130–160 M
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { IDL } from '@dfinity/candid';
import { MAX_DELEGATE_BATCH } from '../canister/src/api/delegate-writes.ts';
import { MAX_RECORD_ARG_BYTES } from '../canister/src/api/ingress-policy.ts';
import { methods } from '../canister/src/api/interface.ts';
import { startReplica } from '../replica/src/index.ts';
import { buildCanister, deployCanopy, testInitArgs } from '../test/support/canopy.ts';

const POST = 'app.bsky.feed.post';
const LARGE = 'com.example.canopy.large';

/** JSON of a record of one long ASCII string whose create_record argument just fits the delegate cap. */
function largeRecordJson(): string {
  const json = (n: number) => JSON.stringify({ $type: LARGE, text: 'x'.repeat(n) });
  let n = MAX_RECORD_ARG_BYTES;
  while (IDL.encode(methods.create_record.args, [{ collection: LARGE, rkey: [], record_json: json(n) }]).byteLength > MAX_RECORD_ARG_BYTES) n -= 16;
  return json(n);
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
        const k = Math.min(MAX_DELEGATE_BATCH, n - records);
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

    const batch = await measure(() => a.apply_writes({ writes: Array.from({ length: MAX_DELEGATE_BATCH }, (_, i) => ({ create: { collection: POST, rkey: [], record_json: postJson(`batch ${i}`) } })) }));
    records += MAX_DELEGATE_BATCH;
    rows.push([`${MAX_DELEGATE_BATCH}-op commit (apply_writes), ${big} records`, fmt(batch.filter((l) => l.kind === 'update' || l.kind === 'reply-callback').reduce((s, l) => s + l.instructions, 0n))]);

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

    const large = await measure(() => a.create_record({ collection: LARGE, rkey: [], record_json: largeRecordJson() }));
    rows.push([`create_record of a record at the delegate cap (${MAX_RECORD_ARG_BYTES} B argument)`, fmt(large.filter((l) => l.kind === 'update' || l.kind === 'reply-callback').reduce((s, l) => s + l.instructions, 0n))]);
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
