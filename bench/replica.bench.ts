// Per-call wall time and instruction counts of the replica's execution engine on the Azle test canister,
// then where the time of one Canopy create_record / get_events goes through the whole replica (HTTP + engine).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import * as M from 'azle/canisters/management/idl';
import { Engine } from '../replica/src/exec/engine.ts';
import { buildAzleCanister } from '../test/helpers/azle-build.ts';

type Row = { op: string; calls: number; wallMsMedian: number; instructionsMedian: bigint };

function median<T>(xs: T[], cmp: (a: T, b: T) => number): T {
    const s = [...xs].sort(cmp);
    return s[Math.floor(s.length / 2)];
}

export default async function bench(): Promise<void> {
    const wasm = new Uint8Array(await readFile(await buildAzleCanister({ name: 'replica_test', main: 'test/fixtures/replica-canister/main.ts' })));
    const engine = await Engine.create({ tickMs: 0 });
    const user = Principal.selfAuthenticating(new Uint8Array(32).fill(1));
    const rows: Row[] = [];
    const lastInstructions = () => engine.metrics().messages.at(-1)?.instructions ?? 0n;
    const measure = async (op: string, n: number, fn: () => Promise<unknown>, instr: () => bigint = lastInstructions) => {
        const walls: number[] = [];
        const instrs: bigint[] = [];
        for (let i = 0; i < n; i++) {
            const t = performance.now();
            await fn();
            walls.push(performance.now() - t);
            instrs.push(instr());
        }
        rows.push({
            op,
            calls: n,
            wallMsMedian: median(walls, (a, b) => a - b),
            instructionsMedian: median(instrs, (a, b) => (a < b ? -1 : a > b ? 1 : 0))
        });
    };
    try {
        const arg = new Uint8Array(IDL.encode([IDL.Opt(IDL.Text)], [[]]));
        const installInstr = () =>
            engine
                .metrics()
                .messages.filter((m) => m.kind === 'install')
                .at(-1)?.instructions ?? 0n;
        let id = await engine.createCanister({ controllers: [user] });
        await measure('install (create + install_code)', 3, async () => {
            id = await engine.createCanister({ controllers: [user] });
            await engine.installCode(id, wasm, arg, 'install', user);
        }, installInstr);
        await measure('upgrade', 3, () => engine.installCode(id, wasm, arg, 'upgrade', user), installInstr);
        const greet = new Uint8Array(IDL.encode([IDL.Text], ['bench']));
        await measure('query greet', 50, () => engine.query(id, 'greet', greet, user));
        const empty = new Uint8Array(IDL.encode([], []));
        await measure('update increment (StableBTreeMap insert)', 50, () => engine.update(id, 'increment', empty, user));
        await measure('update selfGreet (inter-canister self-call; last = reply callback)', 20, () =>
            engine.update(id, 'selfGreet', greet, user)
        );
        // the management canister's lifecycle on the same canister (wall time; these run no canister code but
        // install_chunked_code's post_upgrade, which is counted)
        const mgmt = (method: string, type: IDL.Type, value: unknown) =>
            engine.update(Principal.managementCanister(), method, new Uint8Array(IDL.encode([type], [value])), user);
        const chunks: Uint8Array[] = [];
        for (let i = 0; i < wasm.length; i += 1024 * 1024) chunks.push(wasm.subarray(i, i + 1024 * 1024));
        await measure(`upload_chunk x${chunks.length} (1 MiB chunks of the module)`, 3, async () => {
            for (const chunk of chunks) await mgmt('upload_chunk', M.upload_chunk_args, { canister_id: id, chunk });
        }, () => 0n);
        const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
        await measure('install_chunked_code (upgrade)', 3, () =>
            mgmt('install_chunked_code', M.install_chunked_code_args, {
                target_canister: id,
                store_canister: [],
                chunk_hashes_list: chunks.map((c) => ({ hash: sha(c) })),
                wasm_module_hash: sha(wasm),
                mode: { upgrade: [] },
                arg,
                sender_canister_version: []
            }), installInstr);
        let snapshot: Uint8Array | number[] = [];
        await measure('take_canister_snapshot (replacing the last one)', 3, async () => {
            const r = await mgmt('take_canister_snapshot', M.take_canister_snapshot_args, { canister_id: id, replace_snapshot: snapshot.length ? [snapshot] : [] });
            if ('reply' in r) snapshot = (IDL.decode([M.take_canister_snapshot_result], r.reply)[0] as unknown as M.snapshot).id;
        }, () => 0n);
        await measure('load_canister_snapshot', 3, () =>
            mgmt('load_canister_snapshot', M.load_canister_snapshot_args, { canister_id: id, snapshot_id: snapshot, sender_canister_version: [] }), () => 0n);
        // calibration check against Azle 0.33.0's published figure (replica/README.md)
        const hello = new Uint8Array(
            await readFile(await buildAzleCanister({ name: 'hello_world', main: 'node_modules/azle/examples/stable/demo/hello_world/src/index.ts' }))
        );
        const helloId = await engine.createCanister({ controllers: [user] });
        await engine.installCode(helloId, hello, new Uint8Array(IDL.encode([], [])), 'install', user);
        const msg = new Uint8Array(IDL.encode([IDL.Text], ['Goodbye world!']));
        await measure('hello_world setMessage (Azle publishes 1_395_312)', 10, () => engine.update(helloId, 'setMessage', msg, user));
        console.log('replica engine (Azle test canister)');
        for (const r of rows) {
            console.log(
                `  ${r.op.padEnd(66)} ${String(r.calls).padStart(3)} calls  median ${r.wallMsMedian.toFixed(2).padStart(8)} ms  ${r.instructionsMedian.toLocaleString('en-US').padStart(15)} instructions`
            );
        }
    } finally {
        await engine.close();
    }
    await benchCanopyOverHttp();
}

/**
 * The Canopy canister on a replica in its own process, called through @dfinity/agent as clients do. Splits a
 * call's wall time into the replica's parts (from its log lines) and the client's (request signing, certificate
 * check). CANOPY_BENCH_WASM=<path> uses a given canister wasm instead of building the current sources.
 */
async function benchCanopyOverHttp(): Promise<void> {
    const { startReplicaProcess } = await import('../replica/src/process.ts');
    const { deployCanopy, testInitArgs } = await import('../test/support/canopy.ts');
    const { Ed25519KeyIdentity } = await import('@dfinity/identity');
    const lines: string[] = [];
    const replica = await startReplicaProcess({ host: '127.0.0.1', port: 0, log: (l) => lines.push(l) });
    const num = (re: RegExp) => (l: string) => Number(re.exec(l)?.[1] ?? NaN);
    const med = (xs: number[]) => (xs.length ? median(xs, (a, b) => a - b) : NaN);
    const fmt = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : 'n/a');
    try {
        const delegate = Ed25519KeyIdentity.generate();
        const canopy = await deployCanopy(
            replica as never,
            testInitArgs({
                members: [Ed25519KeyIdentity.generate().getPrincipal()],
                delegates: [
                    {
                        principal: delegate.getPrincipal().toText(),
                        scope: { collections: ['app.bsky.feed.post'], actions: [{ create: null }], writes_per_day: 100_000, expires_at_ns: [] }
                    }
                ]
            }),
            { wasm: process.env.CANOPY_BENCH_WASM ? readFileSync(process.env.CANOPY_BENCH_WASM) : undefined }
        );
        await canopy.ready();
        const writer = await canopy.actor(delegate);
        const reader = await canopy.actor();
        const N = 30;
        const client = { create: [] as number[], events: [] as number[] };
        for (let i = 0; i < N + 3; i++) {
            if (i === 3) lines.length = 0; // warm-up done
            let t = performance.now();
            await writer.create_record({
                collection: 'app.bsky.feed.post',
                rkey: [],
                record_json: JSON.stringify({ $type: 'app.bsky.feed.post', text: `bench ${i}`, createdAt: new Date().toISOString() })
            });
            if (i >= 3) client.create.push(performance.now() - t);
            t = performance.now();
            await reader.get_events({ after: BigInt(Number.MAX_SAFE_INTEGER), limit: 100, max_bytes: 1_000_000 });
            if (i >= 3) client.events.push(performance.now() - t);
        }
        const pick = (pred: (l: string) => boolean, f: (l: string) => number) => med(lines.filter(pred).map(f));
        const wall = num(/ wall=([\d.]+)ms/);
        const copy = num(/ heap-copy=([\d.]+)ms/);
        const httpMs = num(/ in ([\d.]+) ms/);
        const isUpdate = (l: string) => l.startsWith('[exec] update ') && l.includes(' create_record ');
        const isCallback = (l: string) => l.startsWith('[exec] reply-callback ');
        const isQuery = (l: string) => l.startsWith('[exec] query ') && l.includes(' get_events ');
        console.log(`canopy canister over HTTP (replica in its own process, ${N} calls each, medians)`);
        console.log(`  create_record, client wall (agent: sign request, call, check certificate)  ${fmt(med(client.create))}`);
        console.log(`    replica: call received -> answered (engine)                           ${fmt(pick((l) => l.startsWith('[http] update ') && l.includes(' create_record '), httpMs))}`);
        console.log(`    update message create_record: wall ${fmt(pick(isUpdate, wall))}, of it heap copy ${fmt(pick(isUpdate, copy))}`);
        console.log(`    reply callback (after sign_with_ecdsa): wall ${fmt(pick(isCallback, wall))}, of it heap copy ${fmt(pick(isCallback, copy))}`);
        console.log(`  get_events (empty page), client wall                                      ${fmt(med(client.events))}`);
        console.log(`    replica: query received -> answered                                   ${fmt(pick((l) => l.startsWith('[http] query ') && l.includes(' get_events '), httpMs))}`);
        console.log(`    query message: wall ${fmt(pick(isQuery, wall))}, of it heap copy ${fmt(pick(isQuery, copy))}`);
    } finally {
        await replica.stop();
    }
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
