// The cost of an upgrade by vote at 10,000 records (replica metering): staging the module (per
// 1 MiB chunk: upload and SHA-256), the install (Canopy's post_upgrade), the steward's health
// check, and the wall time from the vote to the executed proposal — against the IC's install
// limit (300 B instructions). `npm run bench -- upgrade` (CANOPY_BENCH_RECORDS=2000 for a quicker run).
import { Actor, HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { tagged, tagOf } from '../canister/src/api/candid.ts';
import { idlFactory, type CanopyService } from '../canister/src/api/interface.ts';
import { proposeUpgrade } from '../cli/src/wasm-staging.ts';
import { startReplica } from '../replica/src/index.ts';
import { deploySovereign } from '../scripts/stack/sovereign.ts';
import { InitArgsIdl } from '../steward/src/interface.ts';
import { buildTarget, withCustomSection } from '../test/steward/deploy.ts';
import { buildCanister, encodeInitArgs, testInitArgs } from '../test/support/canopy.ts';

const POST = 'app.bsky.feed.post';
const postJson = (text: string) => JSON.stringify({ $type: POST, text, createdAt: new Date().toISOString() });
const fmt = (n: bigint) => `${(Number(n) / 1e6).toFixed(1)} M`;

type Line = { kind: string; canister: string; method: string; instructions: bigint };
function parse(line: string): Line | null {
  const m = /\[exec\] (\S+) (\S+) (.*?) ?(ok|reject|trap|limit) instructions=(\d+)/.exec(line);
  return m ? { kind: m[1]!, canister: m[2]!, method: m[3]!.trim(), instructions: BigInt(m[5]!) } : null;
}

export default async function bench(): Promise<void> {
  const target = Number(process.env.CANOPY_BENCH_RECORDS ?? 10_000);
  const logs: string[] = [];
  const replica = await startReplica({ port: 0, log: (l) => logs.push(l) });
  try {
    const v1 = await buildCanister();
    const member = Ed25519KeyIdentity.generate();
    const delegate = Ed25519KeyIdentity.generate();
    const deployerAgent = await HttpAgent.create({ host: replica.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    const init = testInitArgs({
      members: [member.getPrincipal()],
      delegates: [{ principal: delegate.getPrincipal().toText(), scope: { collections: [POST], actions: [{ create: null }], writes_per_day: 100_000, expires_at_ns: [] } }],
    });
    const { canopyId } = await deploySovereign({
      agent: deployerAgent,
      canopyWasm: v1,
      canopyInit: encodeInitArgs(init),
      stewardWasm: await buildTarget('steward'),
      stewardInit: (canopy) => new Uint8Array(IDL.encode([InitArgsIdl], [{ canopy }])),
      setSteward: async (canopy, steward) => {
        await Actor.createActor<CanopyService>(idlFactory, { agent: deployerAgent, canisterId: canopy }).set_steward(steward.toText());
      },
    });
    const actor = async (identity: Ed25519KeyIdentity) =>
      Actor.createActor<CanopyService>(idlFactory, { agent: await HttpAgent.create({ host: replica.url, identity, shouldFetchRootKey: true }), canisterId: canopyId });
    const writer = await actor(delegate);
    const voter = await actor(member);
    for (let i = 0; i < 60 && !(await voter.get_status()).rev.length; i++) await replica.advanceTime(1_000);
    const t0 = Date.now();
    for (let n = 0; n < target; n += 200) {
      const k = Math.min(200, target - n);
      await writer.apply_writes({ writes: Array.from({ length: k }, (_, i) => ({ create: { collection: POST, rkey: [], record_json: postJson(`filler ${n + i}`) } })) });
    }
    const growMs = Date.now() - t0;

    const v2 = withCustomSection(v1, 'bench release');
    const mark = logs.length;
    const { id } = await proposeUpgrade(voter, { wasm: v2, target: 'canopy' });
    const staged = logs.slice(mark).map(parse).filter((l): l is Line => l !== null && l.canister === canopyId.toText());
    const stagedTotal = staged.reduce((s, l) => s + l.instructions, 0n);
    const chunks = Math.ceil(v2.length / (1024 * 1024));
    const voteMark = logs.length;
    const started = Date.now();
    await voter.vote({ id, vote: tagged('yes') });
    let status = 'adopted';
    for (let i = 0; i < 600 && (status === 'adopted' || status === 'open'); i++) {
      await replica.advanceTime(1_000);
      const [p] = await voter.get_proposal(id).catch(() => [] as []);
      if (p) status = tagOf(p.status);
    }
    const upgradeMs = Date.now() - started;
    const lines = logs.slice(voteMark).map(parse).filter((l): l is Line => l !== null && l.canister === canopyId.toText());
    const install = lines.find((l) => l.kind === 'install' && l.instructions > 0n);
    const health = lines.find((l) => l.method === 'health_check');
    const cm = replica.engine.metrics().canisters.find((c) => c.id === canopyId.toText());
    console.log(`upgrade by vote at ${target.toLocaleString('en-US')} records (grown in ${(growMs / 1000).toFixed(0)} s); proposal ${status}`);
    const rows: [string, string][] = [
      [`staging ${(v2.length / 2 ** 20).toFixed(2)} MiB in ${chunks} chunks (upload + SHA-256)`, `${fmt(stagedTotal)} (${fmt(stagedTotal / BigInt(chunks))} per chunk; update limit 40 B)`],
      ['install: Canopy post_upgrade', install ? `${fmt(install.instructions)} (install limit 300 B)` : 'not seen'],
      ['health_check on the new module', health ? fmt(health.instructions) : 'not seen'],
      ['vote → executed (replica wall time, incl. snapshot)', `${(upgradeMs / 1000).toFixed(1)} s`],
    ];
    if (cm) rows.push(['stable memory / wasm heap (snapshot size)', `${((cm.stablePages * 65536) / 2 ** 20).toFixed(1)} MiB / ${(cm.heapBytes / 2 ** 20).toFixed(1)} MiB`]);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(56)} ${v}`);
  } finally {
    await replica.stop();
  }
}
