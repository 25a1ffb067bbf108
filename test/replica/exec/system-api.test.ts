// System API semantics on hand-assembled wasm (no Azle): reject codes, modes, cleanup callbacks, heartbeat.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Principal } from '@dfinity/principal';
import { Engine, RejectCode } from '../../../replica/src/exec/engine.ts';
import { USER } from './fixture.ts';
import { add, assemble, call, drop, I32, i32, I64, load32, store32, unreachable } from './mini-wasm.ts';

// memory layout: 0 reply buffer (20 bytes: counters at 0, 4, 8, 12 (heartbeat), 16), 100 own id, 200 method name, 300 reject text
const imports = [
    { name: 'msg_reply_data_append', params: [I32, I32], results: [] }, // 0
    { name: 'msg_reply', params: [], results: [] }, // 1
    { name: 'msg_reject', params: [I32, I32], results: [] }, // 2
    { name: 'global_timer_set', params: [I64], results: [I64] }, // 3
    { name: 'canister_self_size', params: [], results: [I32] }, // 4
    { name: 'canister_self_copy', params: [I32, I32, I32], results: [] }, // 5
    { name: 'call_new', params: [I32, I32, I32, I32, I32, I32, I32, I32], results: [] }, // 6
    { name: 'call_on_cleanup', params: [I32, I32], results: [] }, // 7
    { name: 'call_perform', params: [], results: [I32] }, // 8
    { name: 'stable_size', params: [], results: [I32] }, // 9
    { name: 'stable_grow', params: [I32], results: [I32] }, // 10
    { name: 'stable_write', params: [I32, I32, I32], results: [] }, // 11
    { name: 'stable_read', params: [I32, I32, I32], results: [] } // 12
];
// writes i32 `value` at heap 500, grows stable memory by one page and copies it to stable offset 0
const stableWrite = (value: number) => [...store32(500, i32(value)), ...i32(1), ...call(10), ...drop, ...i32(0), ...i32(500), ...i32(4), ...call(11)];
const replyCounters = [...i32(0), ...i32(20), ...call(0), ...call(1)];
const bump = (addr: number) => store32(addr, [...load32(addr), ...i32(1), ...add]);
const funcs = [
    { export: 'canister_query get', body: replyCounters }, // table 0
    { export: 'canister_update reject_me', body: [...i32(300), ...i32(4), ...call(2)] }, // 1
    { export: 'canister_update no_reply', body: bump(16) }, // 2
    { export: 'canister_query timer_in_query', body: [0x42, 0x05, ...call(3), ...drop, ...replyCounters] }, // 3
    { export: 'canister_update reply_ok', body: [...call(1)] }, // 4
    {
        // self-call whose reply callback traps; the cleanup callback must run and keep its write
        export: 'canister_update call_then_trap',
        body: [
            ...i32(100), ...i32(0), ...call(4), ...call(5),
            ...i32(100), ...call(4), ...i32(200), ...i32(8), ...i32(6), ...i32(0), ...i32(6), ...i32(0), ...call(6),
            ...i32(7), ...i32(0), ...call(7),
            ...call(8), ...drop,
            ...bump(0)
        ]
    }, // 5
    { body: [...bump(4), ...unreachable], params: [I32] }, // 6: reply/reject callback that traps
    { body: bump(8), params: [I32] }, // 7: cleanup
    { export: 'canister_heartbeat', body: bump(12) }, // 8
    { export: 'canister_update stable_ok', body: [...stableWrite(41), ...call(1)] }, // 9
    { export: 'canister_update stable_then_trap', body: [...stableWrite(99), ...unreachable] }, // 10
    {
        // replies stable[0..4] and the stable size in pages
        export: 'canister_query stable_get',
        body: [...i32(400), ...i32(0), ...i32(4), ...call(12), ...store32(404, call(9)), ...i32(400), ...i32(8), ...call(0), ...call(1)]
    } // 11
];
const wasm = assemble({
    imports,
    funcs,
    data: [
        { offset: 200, bytes: [...new TextEncoder().encode('reply_ok')] },
        { offset: 300, bytes: [...new TextEncoder().encode('nope')] }
    ]
});

describe('System API on hand-assembled wasm', () => {
    let engine: Engine;
    let id: Principal;
    const counters = async () => {
        const r = await engine.query(id, 'get', new Uint8Array(), USER);
        assert.ok('reply' in r);
        const v = new DataView(r.reply.buffer, r.reply.byteOffset);
        return [0, 4, 8, 12, 16].map((o) => v.getInt32(o, true));
    };

    before(async () => {
        engine = await Engine.create({ tickMs: 0 });
        id = await engine.createCanister({ controllers: [USER] });
        await engine.installCode(id, wasm, new Uint8Array(), 'install', USER);
    });
    after(() => engine.close());

    test('msg_reject gives CANISTER_REJECT with the canister text', async () => {
        assert.deepEqual(await engine.update(id, 'reject_me', new Uint8Array(), USER), {
            reject: { code: RejectCode.CANISTER_REJECT, message: 'nope' }
        });
    });

    test('an update that neither replies nor calls is rejected with "did not reply", its writes kept', async () => {
        const before = (await counters())[4];
        const r = await engine.update(id, 'no_reply', new Uint8Array(), USER);
        assert.ok('reject' in r && r.reject.code === RejectCode.CANISTER_ERROR && /did not reply/.test(r.reject.message));
        assert.equal((await counters())[4], before + 1);
    });

    test('System API calls outside their modes trap (global_timer_set in a query)', async () => {
        const r = await engine.query(id, 'timer_in_query', new Uint8Array(), USER);
        assert.ok('reject' in r && r.reject.code === RejectCode.CANISTER_ERROR);
        assert.match(r.reject.message, /"ic0_global_timer_set" cannot be executed in non-replicated query mode/);
    });

    test('a trapping reply callback is rolled back, the cleanup callback runs and keeps its changes', async () => {
        const [a0, b0, c0] = await counters();
        const r = await engine.update(id, 'call_then_trap', new Uint8Array(), USER);
        assert.ok('reject' in r && r.reject.code === RejectCode.CANISTER_ERROR && /trapped/.test(r.reject.message), JSON.stringify(r));
        const [a1, b1, c1] = await counters();
        assert.equal(a1, a0 + 1, 'the first message committed');
        assert.equal(b1, b0, 'the trapping callback was rolled back');
        assert.equal(c1, c0 + 1, 'cleanup ran once');
    });

    test('32-bit stable memory API: writes commit, a trap rolls back contents and growth', async () => {
        const read = async () => {
            const r = await engine.query(id, 'stable_get', new Uint8Array(), USER);
            assert.ok('reply' in r);
            const v = new DataView(r.reply.buffer, r.reply.byteOffset);
            return { value: v.getInt32(0, true), pages: v.getInt32(4, true) };
        };
        assert.ok('reply' in (await engine.update(id, 'stable_ok', new Uint8Array(), USER)));
        assert.deepEqual(await read(), { value: 41, pages: 1 });
        const r = await engine.update(id, 'stable_then_trap', new Uint8Array(), USER);
        assert.ok('reject' in r && /Canister trapped: unreachable/.test(r.reject.message), JSON.stringify(r));
        assert.deepEqual(await read(), { value: 41, pages: 1 });
    });

    test('canister_heartbeat runs as time passes', async () => {
        const before = (await counters())[3];
        await engine.advanceTime(1500);
        await engine.advanceTime(1500);
        const after = (await counters())[3];
        assert.ok(after >= before + 2, `${before} -> ${after}`);
    });
});
