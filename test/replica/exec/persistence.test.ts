import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { IDL } from '@dfinity/candid';
import { Engine } from '../../../replica/src/exec/engine.ts';
import { caller, Counts, deployTestCanister, USER } from './fixture.ts';

test('a restarted engine brings canisters back with the same ids and stable data (as an upgrade)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'replica-exec-state-'));
    try {
        let engine = await Engine.create({ stateDir: dir, tickMs: 0 });
        const id = await deployTestCanister(engine, 'persisted');
        const c = caller(engine, id);
        await c.update('increment', [], [], [IDL.Nat64]);
        await c.update('increment', [], [], [IDL.Nat64]);
        await c.rawUpdate('incrementThenTrap', [], []); // rolled back: must not reach the disk either
        const data = new Uint8Array(32).fill(5);
        await c.update('setCertified', [IDL.Vec(IDL.Nat8)], [data], [IDL.Bool]);
        const hash = engine.moduleHash(id);
        await engine.close();

        engine = await Engine.create({ stateDir: dir, tickMs: 0 });
        try {
            assert.deepEqual(engine.canisterIds().map((p) => p.toText()), [id.toText()]);
            const c2 = caller(engine, id);
            assert.deepEqual(await c2.query('getCounts', [], [], [Counts]), { stable: 2n, heap: 0n });
            assert.equal(await c2.query('getInitArg', [], [], [IDL.Text]), 'persisted');
            assert.deepEqual(await c2.query('getNote', [IDL.Text], ['post_upgrade_count'], [IDL.Opt(IDL.Text)]), ['1']);
            assert.deepEqual(engine.controllers(id).map((p) => p.toText()), [USER.toText()]);
            assert.deepEqual(engine.moduleHash(id), hash);
            assert.deepEqual(engine.certifiedData(id), data);
            // writes keep working and a new canister gets a fresh id
            assert.equal(await c2.update('increment', [], [], [IDL.Nat64]), 3n);
            const other = await engine.createCanister({ controllers: [USER] });
            assert.notEqual(other.toText(), id.toText());
        } finally {
            await engine.close();
        }
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
});

test('a complete write-ahead log left by a crash is replayed; a torn one is ignored', async () => {
    const { StateDir, encodeWal } = await import('../../../replica/src/exec/persistence.ts');
    const { writeFile } = await import('node:fs/promises');
    const dir = await mkdtemp(join(tmpdir(), 'replica-exec-wal-'));
    try {
        const meta = (id: string, cycles: string) => ({
            id,
            controllers: [],
            cycles,
            version: '1',
            status: 'running' as const,
            globalTimer: '0',
            certifiedData: '',
            installArg: '',
            module: null,
            stablePages: 2,
            createdAtNs: '0'
        });
        const page = new Uint8Array(65536).fill(7);
        const first = new StateDir(dir);
        first.commit([{ meta: meta('aaaaa-aa', '1'), full: true, pages: new Map([[0, page]]) }]);

        // a crash after the log was written but before it was applied
        const logged = encodeWal([{ meta: meta('aaaaa-aa', '2'), full: false, pages: new Map([[1, page]]) }]);
        await writeFile(join(dir, 'wal.bin'), Buffer.concat(logged));
        let store = new StateDir(dir);
        assert.equal(store.loadMeta('aaaaa-aa').cycles, '2');
        const stable = store.loadStable('aaaaa-aa', 2);
        assert.deepEqual(stable.page(0), page);
        assert.deepEqual(stable.page(1), page);

        // a crash while the log itself was being written: the batch never happened
        const torn = Buffer.concat(encodeWal([{ meta: meta('aaaaa-aa', '3'), full: true, pages: new Map() }]));
        await writeFile(join(dir, 'wal.bin'), torn.subarray(0, torn.length - 5));
        store = new StateDir(dir);
        assert.equal(store.loadMeta('aaaaa-aa').cycles, '2');
        assert.deepEqual(store.loadStable('aaaaa-aa', 2).page(1), page);
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
});
