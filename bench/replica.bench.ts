// Per-call wall time and instruction counts of the replica's execution engine on the Azle test canister.
import { readFile } from 'node:fs/promises';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
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
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
