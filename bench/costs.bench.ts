// What a community pays: instructions of a post, a proposal, a vote and a 1 MB blob upload measured
// on the local replica, priced with the IC's published fees for a 13-node application subnet, and a
// typical community month. `npm run bench -- costs`. The README's cost table is this output.
//
// Fees (13-node subnet; dfinity developer docs, "Cycles costs"): 5 M cycles per update message plus
// 1 cycle per instruction; ingress 1.2 M cycles per message plus 2,000 per byte; storage 127,000
// cycles per GiB per second; sign_with_ecdsa with key_1 26,153,846,153 cycles; 1 T cycles = 1 XDR
// ≈ 1.35 USD (May 2025).
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { startReplica } from '../replica/src/index.ts';
import { deployCanopy, testInitArgs } from '../test/support/canopy.ts';
import { fmt, parse, type Line } from './canister.bench.ts';
import { CYCLES_PER_INSTRUCTION, ECDSA_SIGN, GIB_SECOND, INGRESS_BYTE, INGRESS_MESSAGE as INGRESS_BASE, UPDATE_BASE, USD_PER_T } from './ic-prices.ts';

const POST = 'app.bsky.feed.post';
const MONTH_S = 30 * 24 * 3600;

/** Cycles of the messages of one call: execution of each message plus the ingress of the first. */
const cyclesOf = (lines: Line[], ingressBytes: number) =>
  lines.reduce((s, l) => s + UPDATE_BASE + Number(l.instructions) * CYCLES_PER_INSTRUCTION, 0) + INGRESS_BASE + INGRESS_BYTE * ingressBytes;
const usd = (cycles: number) => (cycles / 1e12) * USD_PER_T;
const money = (x: number) => (x >= 0.01 ? `$${x.toFixed(2)}` : `$${x.toPrecision(2)}`);
const cyc = (c: number) => (c >= 1e9 ? `${(c / 1e9).toFixed(2)} B` : `${(c / 1e6).toFixed(1)} M`);

export default async function bench(): Promise<void> {
  const logs: string[] = [];
  const replica = await startReplica({ port: 0, log: (l) => logs.push(l) });
  try {
    const members = [Ed25519KeyIdentity.generate(), Ed25519KeyIdentity.generate(), Ed25519KeyIdentity.generate()];
    const delegate = Ed25519KeyIdentity.generate();
    const canopy = await deployCanopy(
      replica,
      testInitArgs({
        members: members.map((m) => m.getPrincipal()),
        delegates: [{ principal: delegate.getPrincipal().toText(), scope: { collections: [POST], actions: [{ create: null }], writes_per_day: 100_000, expires_at_ns: [] } }],
      }),
    );
    await canopy.ready();
    const [m0, m1] = await Promise.all(members.map((m) => canopy.actor(m)));
    const d = await canopy.actor(delegate);
    const measure = async (fn: () => Promise<unknown>) => {
      const mark = logs.length;
      await fn();
      return logs.slice(mark).map(parse).filter((l): l is Line => l !== null && (l.kind === 'update' || l.kind === 'reply-callback'));
    };
    // Warm up (first messages load code paths) and give the repo some records.
    for (let i = 0; i < 3; i++) await d.create_record({ collection: POST, rkey: [], record_json: JSON.stringify({ $type: POST, text: `warm ${i}`, createdAt: new Date().toISOString() }) });

    const text = 'A post of about a hundred characters, as a community announcement would usually be written.';
    const postJson = JSON.stringify({ $type: POST, text, createdAt: new Date().toISOString() });
    const post = await measure(() => d.create_record({ collection: POST, rkey: [], record_json: postJson }));
    const postCycles = cyclesOf(post, postJson.length + 100) + ECDSA_SIGN;
    let id = 0n;
    const action = { post: { text, langs: ['en'], mentions: [], reply: [] as [], images: [], quote: [] as [] } };
    const propose = await measure(async () => {
      id = await m0.propose({ action, summary: [] });
    });
    const proposeCycles = cyclesOf(propose, text.length + 100);
    const vote = await measure(() => m1.vote({ id, vote: { yes: null } }));
    const voteCycles = cyclesOf(vote, 40);

    const MB = 1_000_000;
    const bytes = new Uint8Array(MB);
    for (let i = 0; i < MB; i++) bytes[i] = (i * 7919) & 255;
    bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    let chunks = 0;
    const upload = await measure(async () => {
      const upload_id = await m0.blob_upload_start({ mime_type: 'image/png', size: BigInt(MB) });
      for (let off = 0; off < MB; off += 500_000, chunks++) await m0.blob_upload_chunk({ upload_id, offset: BigInt(off), data: bytes.subarray(off, off + 500_000) });
      await m0.blob_upload_finish({ upload_id });
    });
    const uploadCycles = cyclesOf(upload, MB) + (chunks + 1) * INGRESS_BASE;
    const storeMbMonth = (GIB_SECOND * MONTH_S * MB) / 2 ** 30;

    console.log('instructions per operation (replica metering) and their price on a 13-node subnet');
    const rows: [string, string, number][] = [
      ['post (delegate create_record, incl. 1 threshold signature)', fmt(post.reduce((s, l) => s + l.instructions, 0n)), postCycles],
      ['proposal (propose; its execution is a post)', fmt(propose.reduce((s, l) => s + l.instructions, 0n)), proposeCycles],
      ['vote', fmt(vote.reduce((s, l) => s + l.instructions, 0n)), voteCycles],
      ['upload 1 MB of blob (start, chunks, hash)', fmt(upload.reduce((s, l) => s + l.instructions, 0n)), uploadCycles],
      ['store 1 MB of blob for a month', '-', storeMbMonth],
    ];
    for (const [k, ins, c] of rows) console.log(`  ${k.padEnd(62)} ${ins.padStart(10)} instr  ${cyc(c).padStart(10)} cycles  ${money(usd(c)).padStart(10)}`);

    // A typical community month: 20 members, 10 posts and 30 votes a day (each post decided by a
    // proposal with 3 votes), 1 GB of blobs stored (uploaded once, 1/12 of it this month), the
    // canister's stable memory as measured here, and the heap (assumed 100 MiB).
    const cm = replica.engine.metrics().canisters.find((c) => c.id === canopy.canisterId.toText());
    const memBytes = (cm ? cm.stablePages * 65536 : 0) + 100 * 2 ** 20;
    const month = {
      posts: 300 * postCycles,
      proposals: 300 * proposeCycles,
      votes: 900 * voteCycles,
      blobStorage: 1000 * storeMbMonth,
      blobUpload: (1000 / 12) * uploadCycles,
      memory: (GIB_SECOND * MONTH_S * memBytes) / 2 ** 30,
    };
    const total = Object.values(month).reduce((a, b) => a + b, 0);
    console.log('a typical community month (20 members; 10 posts and 30 votes a day; 1 GB of blobs)');
    for (const [k, c] of Object.entries(month)) console.log(`  ${k.padEnd(62)} ${''.padStart(16)} ${cyc(c).padStart(10)} cycles  ${money(usd(c)).padStart(10)}`);
    console.log(`  ${'total'.padEnd(62)} ${''.padStart(16)} ${cyc(total).padStart(10)} cycles  ${money(usd(total)).padStart(10)}`);
  } finally {
    await replica.stop();
  }
}
