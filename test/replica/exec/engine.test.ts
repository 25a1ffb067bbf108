import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { secp256k1 } from '@noble/curves/secp256k1';
import { sha256 } from '@noble/hashes/sha2';
import { Engine, RejectCode } from '../../../replica/src/exec/engine.ts';
import { caller, Counts, deployTestCanister, initArg, OTHER, testCanisterWasm, USER } from './fixture.ts';

describe('engine: messages, traps, upgrades, timers, calls', () => {
    let engine: Engine;
    let id: Principal;
    let c: ReturnType<typeof caller>;

    before(async () => {
        engine = await Engine.create({ tickMs: 0 });
        id = await deployTestCanister(engine, 'first');
        c = caller(engine, id);
    });
    after(() => engine.close());

    test('query and update round trips see the sender and init argument', async () => {
        assert.equal(await c.query('greet', [IDL.Text], ['IC'], [IDL.Text]), 'Hello, IC!');
        assert.equal(await c.query('whoami', [], [], [IDL.Text]), USER.toText());
        assert.equal(await c.query('getInitArg', [], [], [IDL.Text]), 'first');
        const before = (await c.query('getCounts', [], [], [Counts])).stable;
        assert.equal(await c.update('increment', [], [], [IDL.Nat64]), before + 1n);
    });

    test('query state changes are discarded', async () => {
        const a = await c.query('queryWrites', [], [], [IDL.Nat64]);
        const b = await c.query('queryWrites', [], [], [IDL.Nat64]);
        assert.equal(a, b);
    });

    test('a trap rolls back heap and stable memory and rejects with CANISTER_ERROR', async () => {
        const before = await c.query('getCounts', [], [], [Counts]);
        const r = await c.rawUpdate('incrementThenTrap', [], []);
        assert.ok('reject' in r);
        assert.equal(r.reject.code, RejectCode.CANISTER_ERROR);
        assert.match(r.reject.message, /Canister called `ic0.trap` with message: 'deliberate trap after writing state'/);
        assert.deepEqual(await c.query('getCounts', [], [], [Counts]), before);
        // the canister still works after the rollback
        assert.equal(await c.update('increment', [], [], [IDL.Nat64]), before.stable + 1n);
    });

    test('unknown methods and canisters reject with DESTINATION_INVALID', async () => {
        const q = await c.rawQuery('nope', [], []);
        assert.ok('reject' in q && q.reject.code === RejectCode.DESTINATION_INVALID && /no query method 'nope'/.test(q.reject.message));
        const u = await c.rawUpdate('nope', [], []);
        assert.ok('reject' in u && u.reject.code === RejectCode.DESTINATION_INVALID);
        const missing = await engine.query(Principal.fromText('aaaaa-aa'.replace('aaaaa-aa', 'rrkah-fqaaa-aaaaa-aaaaq-cai')), 'greet', new Uint8Array(), USER);
        assert.ok('reject' in missing && missing.reject.code === RejectCode.DESTINATION_INVALID);
    });

    test('self-calls: reply callback, callee trap and missing method come back with IC reject codes', async () => {
        assert.equal(await c.update('selfGreet', [IDL.Text], ['me'], [IDL.Text]), 'Hello, me!');
        const before = await c.query('getCounts', [], [], [Counts]);
        assert.match(await c.update('selfCallTrapping', [], [], [IDL.Text]), /^rejected 5: .*deliberate trap/);
        assert.deepEqual(await c.query('getCounts', [], [], [Counts]), before);
        assert.match(await c.update('callMissingMethod', [], [], [IDL.Text]), /^rejected 3: .*no update method 'noSuchMethod'/);
    });

    test('raw_rand gives 32 fresh bytes per call', async () => {
        const a: Uint8Array = await c.update('randomBytes', [], [], [IDL.Vec(IDL.Nat8)]);
        const b: Uint8Array = await c.update('randomBytes', [], [], [IDL.Vec(IDL.Nat8)]);
        assert.equal(a.length, 32);
        assert.notDeepEqual(a, b);
    });

    test('ECDSA: sign_with_ecdsa verifies against ecdsa_public_key, low-S, keys differ per path', async () => {
        const path = [new TextEncoder().encode('repo')];
        const { public_key, chain_code } = await c.update('ecdsaPublicKey', [IDL.Vec(IDL.Vec(IDL.Nat8))], [path], [
            IDL.Record({ public_key: IDL.Vec(IDL.Nat8), chain_code: IDL.Vec(IDL.Nat8) })
        ]);
        assert.equal(public_key.length, 33);
        assert.equal(chain_code.length, 32);
        const cyclesBefore = (await c.query('info', [], [], [IDL.Record({ cycles: IDL.Nat })])).cycles;
        for (let i = 0; i < 4; i++) {
            const digest = sha256(new TextEncoder().encode(`message ${i}`));
            const sig: Uint8Array = await c.update('sign', [IDL.Vec(IDL.Vec(IDL.Nat8)), IDL.Vec(IDL.Nat8)], [path, digest], [IDL.Vec(IDL.Nat8)]);
            assert.equal(sig.length, 64);
            assert.ok(secp256k1.verify(sig, digest, public_key, { lowS: true, prehash: false }));
            assert.ok(!secp256k1.verify(sig, sha256(new Uint8Array([i])), public_key, { prehash: false }));
        }
        const cyclesAfter = (await c.query('info', [], [], [IDL.Record({ cycles: IDL.Nat })])).cycles;
        assert.equal(cyclesBefore - cyclesAfter, 4n * 26_153_846_153n, 'the signing fee is charged');
        const other = await c.update('ecdsaPublicKey', [IDL.Vec(IDL.Vec(IDL.Nat8))], [[new TextEncoder().encode('rotation')]], [
            IDL.Record({ public_key: IDL.Vec(IDL.Nat8), chain_code: IDL.Vec(IDL.Nat8) })
        ]);
        assert.notDeepEqual(other.public_key, public_key);
        const again = await c.update('ecdsaPublicKey', [IDL.Vec(IDL.Vec(IDL.Nat8))], [path], [
            IDL.Record({ public_key: IDL.Vec(IDL.Nat8), chain_code: IDL.Vec(IDL.Nat8) })
        ]);
        assert.deepEqual(again.public_key, public_key, 'derivation is deterministic');
    });

    test('a timer fires once time advances past it', async () => {
        await c.update('scheduleTimer', [IDL.Nat32], [3600], [IDL.Nat64]);
        const before = await c.query('getTimerFired', [], [], [IDL.Record({ heap: IDL.Nat64, stable: IDL.Nat64 })]);
        await engine.advanceTime(60_000);
        assert.deepEqual(await c.query('getTimerFired', [], [], [IDL.Record({ heap: IDL.Nat64, stable: IDL.Nat64 })]), before);
        const t0: bigint = await c.query('now', [], [], [IDL.Nat64]);
        await engine.advanceTime(3_600_000);
        const after = await c.query('getTimerFired', [], [], [IDL.Record({ heap: IDL.Nat64, stable: IDL.Nat64 })]);
        assert.equal(after.heap, before.heap + 1n);
        assert.equal(after.stable, before.stable + 1n);
        const t1: bigint = await c.query('now', [], [], [IDL.Nat64]);
        assert.ok(t1 - t0 >= 3_600_000_000_000n, 'canister time moved with advanceTime');
    });

    test('performance_counter reports the instructions of the running message', async () => {
        const n: bigint = await c.query('instructionsSoFar', [], [], [IDL.Nat64]);
        assert.ok(n > 1000n && n < 5_000_000_000n, `got ${n}`);
        const m = engine.metrics();
        assert.ok(m.messages.some((x) => x.method === 'instructionsSoFar' && x.instructions >= n));
        assert.match(engine.metricsText(), /replica_instructions_total \d+/);
    });

    test('certified data and data certificates', async () => {
        const data = sha256(new Uint8Array([1, 2, 3]));
        await c.update('setCertified', [IDL.Vec(IDL.Nat8)], [data], [IDL.Bool]);
        assert.deepEqual(engine.certifiedData(id), data);
        assert.deepEqual(await c.query('getCertificate', [], [], [IDL.Opt(IDL.Vec(IDL.Nat8))]), []);
        engine.setDataCertificateProvider((cid) => (cid.toText() === id.toText() ? new Uint8Array([9, 9, 9]) : undefined));
        assert.deepEqual(await c.query('getCertificate', [], [], [IDL.Opt(IDL.Vec(IDL.Nat8))]), [new Uint8Array([9, 9, 9])]);
        engine.setDataCertificateProvider(() => undefined);
    });

    test('upgrade keeps stable data, drops heap, runs pre/post upgrade', async () => {
        const before = await c.query('getCounts', [], [], [Counts]);
        assert.ok(before.heap > 0n);
        const v0 = (await c.query('info', [], [], [IDL.Record({ version: IDL.Nat64 })])).version;
        await engine.installCode(id, await testCanisterWasm(), initArg('second'), 'upgrade', USER);
        const after = await c.query('getCounts', [], [], [Counts]);
        assert.equal(after.stable, before.stable);
        assert.equal(after.heap, 0n);
        assert.equal(await c.query('getInitArg', [], [], [IDL.Text]), 'second');
        assert.deepEqual(await c.query('getNote', [IDL.Text], ['pre_upgrade_ran'], [IDL.Opt(IDL.Text)]), ['yes']);
        assert.deepEqual(await c.query('getNote', [IDL.Text], ['post_upgrade_count'], [IDL.Opt(IDL.Text)]), ['1']);
        const v1 = (await c.query('info', [], [], [IDL.Record({ version: IDL.Nat64 })])).version;
        assert.ok(v1 > v0);
    });

    test('install over an installed canister and non-controller installs are refused', async () => {
        await assert.rejects(engine.installCode(id, await testCanisterWasm(), initArg(), 'install', USER), /not empty/);
        await assert.rejects(engine.installCode(id, await testCanisterWasm(), initArg(), 'upgrade', OTHER), /Only controllers/);
    });

    test('a trap in post_upgrade leaves the old module, heap and stable memory in place', async () => {
        const before = await c.query('getCounts', [], [], [Counts]);
        const hash = engine.moduleHash(id);
        await assert.rejects(
            engine.installCode(id, await testCanisterWasm(), initArg('trap-in-post-upgrade'), 'upgrade', USER),
            (e: any) => e.code === RejectCode.CANISTER_ERROR && /post_upgrade refused/.test(e.message)
        );
        assert.deepEqual(await c.query('getCounts', [], [], [Counts]), before);
        assert.equal(await c.query('getInitArg', [], [], [IDL.Text]), 'second');
        assert.deepEqual(await c.query('getNote', [IDL.Text], ['post_upgrade_count'], [IDL.Opt(IDL.Text)]), ['1']);
        assert.deepEqual(await c.query('getNote', [IDL.Text], ['pre_upgrade_ran'], [IDL.Opt(IDL.Text)]), ['yes']);
        assert.deepEqual(engine.moduleHash(id), hash);
        assert.equal(await c.update('increment', [], [], [IDL.Nat64]), before.stable + 1n);
    });

    test('a trap in init leaves the canister empty', async () => {
        const fresh = await engine.createCanister({ controllers: [USER] });
        await assert.rejects(engine.installCode(fresh, await testCanisterWasm(), initArg('trap-in-init'), 'install', USER), /init refused/);
        assert.equal(engine.moduleHash(fresh), undefined);
        const r = await engine.query(fresh, 'greet', new Uint8Array(IDL.encode([IDL.Text], ['x'])), USER);
        assert.ok('reject' in r && /empty/.test(r.reject.message));
    });

    test('calls between two canisters move cycles: accepted part stays, the rest is refunded', async () => {
        const other = await deployTestCanister(engine);
        const info = IDL.Record({ cycles: IDL.Nat });
        const a0 = (await c.query('info', [], [], [info])).cycles;
        const b0 = (await caller(engine, other).query('info', [], [], [info])).cycles;
        const r = await c.update('sendCycles', [IDL.Principal, IDL.Nat], [other, 1_000_000n], [
            IDL.Record({ accepted: IDL.Nat, refunded: IDL.Nat })
        ]);
        assert.deepEqual(r, { accepted: 500_000n, refunded: 500_000n });
        assert.equal((await c.query('info', [], [], [info])).cycles, a0 - 500_000n);
        assert.equal((await caller(engine, other).query('info', [], [], [info])).cycles, b0 + 500_000n);
        assert.equal(await c.update('greetOther', [IDL.Principal, IDL.Text], [other, 'peer'], [IDL.Text]), 'Hello, peer!');
    });

    test('reinstall clears stable memory', async () => {
        const id2 = await deployTestCanister(engine);
        const c2 = caller(engine, id2);
        await c2.update('increment', [], [], [IDL.Nat64]);
        await engine.installCode(id2, await testCanisterWasm(), initArg(), 'reinstall', USER);
        assert.deepEqual(await c2.query('getCounts', [], [], [Counts]), { stable: 0n, heap: 0n });
    });
});

describe('engine: instruction limits', () => {
    test('a message over the limit is rejected with the IC error and changes nothing', async () => {
        const engine = await Engine.create({ tickMs: 0, instructionLimits: { update: 200_000_000n, query: 100_000_000n } });
        try {
            const id = await deployTestCanister(engine);
            const c = caller(engine, id);
            await c.update('increment', [], [], [IDL.Nat64]);
            const before = await c.query('getCounts', [], [], [Counts]);
            const r = await c.rawUpdate('burn', [IDL.Nat64], [100_000_000n]);
            assert.ok('reject' in r);
            assert.equal(r.reject.code, RejectCode.CANISTER_ERROR);
            assert.equal(
                r.reject.message,
                `Error from Canister ${id.toText()}: Canister exceeded the limit of 200000000 instructions for single message execution.`
            );
            assert.deepEqual(await c.query('getCounts', [], [], [Counts]), before);
            const q = await c.rawQuery('burnQuery', [IDL.Nat64], [100_000_000n]);
            assert.ok('reject' in q && /exceeded the limit of 100000000 instructions/.test(q.reject.message));
            // below the limit the same methods succeed
            assert.equal(typeof (await c.update('burn', [IDL.Nat64], [10n], [IDL.Nat64])), 'bigint');
            assert.equal((await c.query('getCounts', [], [], [Counts])).stable, before.stable + 1_000_000n);
        } finally {
            await engine.close();
        }
    });
});

describe('engine: threshold-signature latency (ecdsaLatencyMs)', () => {
    const LATENCY_MS = 300;
    let engine: Engine;
    let c: ReturnType<typeof caller>;

    before(async () => {
        engine = await Engine.create({ tickMs: 0, ecdsaLatencyMs: LATENCY_MS });
        c = caller(engine, await deployTestCanister(engine, 'slow-signatures'));
    });
    after(() => engine.close());

    test('sign_with_ecdsa answers after the latency; other messages run meanwhile; the signature verifies', async () => {
        const path = [new TextEncoder().encode('repo')];
        const { public_key } = await c.update('ecdsaPublicKey', [IDL.Vec(IDL.Vec(IDL.Nat8))], [path], [
            IDL.Record({ public_key: IDL.Vec(IDL.Nat8), chain_code: IDL.Vec(IDL.Nat8) })
        ]);
        const digest = sha256(new TextEncoder().encode('slow'));
        const started = performance.now();
        let signedAt = 0;
        const signing = c
            .update('sign', [IDL.Vec(IDL.Vec(IDL.Nat8)), IDL.Vec(IDL.Nat8)], [path, digest], [IDL.Vec(IDL.Nat8)])
            .then((sig: Uint8Array) => ((signedAt = performance.now()), sig));
        const counted = await c.update('increment', [], [], [IDL.Nat64]);
        assert.equal(signedAt, 0, 'an update sent after the signing call is answered before the signature');
        assert.equal(typeof counted, 'bigint');
        const sig = await signing;
        assert.ok(signedAt - started >= LATENCY_MS, `signature after ${(signedAt - started).toFixed(0)} ms`);
        assert.ok(secp256k1.verify(sig, digest, public_key, { lowS: true, prehash: false }));
    });
});
