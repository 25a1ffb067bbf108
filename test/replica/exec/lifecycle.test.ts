// The management canister's lifecycle methods as the interface specification describes them: chunk store and
// install_chunked_code, stop/start with open call contexts, snapshots, controller checks on every method (for
// users and for canisters controlling canisters), canister_status, canister_inspect_message, and that chunk
// stores and snapshots survive a restart.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';
import { Engine, RejectCode, type CallResult } from '../../../replica/src/exec/engine.ts';
import { CHUNK_STORE_SIZE, MAX_CHUNK_BYTES, MAX_SNAPSHOTS } from '../../../replica/src/exec/management.ts';
import { caller, Counts, deployTestCanister, initArg, OTHER, testCanisterWasm, USER } from './fixture.ts';
import { counterState, counterWasm, decodeReply, deployCounter, M, MGMT, mgmt, mgmtArg, proxyWasm, viaProxy } from './lifecycle-fixtures.ts';

const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const hex = (b: Uint8Array | number[]) => Buffer.from(b).toString('hex');

function rejected(r: CallResult, code: number, errorCode: string | undefined, text: RegExp): void {
    assert.ok('reject' in r, `expected a reject, got a reply`);
    assert.equal(r.reject.code, code, r.reject.message);
    if (errorCode) assert.equal(r.reject.errorCode, errorCode, r.reject.message);
    assert.match(r.reject.message, text);
}

const statusOf = async (engine: Engine, id: Principal, sender = USER) =>
    decodeReply<M.canister_status_result>(await mgmt(engine, 'canister_status', M.canister_status_args, { canister_id: id }, sender), M.canister_status_result);

const upload = (engine: Engine, id: Principal, chunk: Uint8Array, sender = USER) =>
    mgmt(engine, 'upload_chunk', M.upload_chunk_args, { canister_id: id, chunk }, sender);

const chunkedArgs = (target: Principal, wasm: Uint8Array, chunks: Uint8Array[], mode: M.canister_install_mode, store?: Principal): M.install_chunked_code_args => ({
    target_canister: target,
    store_canister: store ? [store] : [],
    chunk_hashes_list: chunks.map((c) => ({ hash: sha(c) })),
    wasm_module_hash: sha(wasm),
    mode,
    arg: new Uint8Array(),
    sender_canister_version: []
});

function split(wasm: Uint8Array, size: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < wasm.length; i += size) out.push(wasm.slice(i, i + size));
    return out;
}

describe('chunk store and install_chunked_code', () => {
    let engine: Engine;
    before(async () => {
        engine = await Engine.create({ tickMs: 0 });
    });
    after(() => engine.close());

    test('upload_chunk / stored_chunks / clear_chunk_store, with the size and capacity limits', async () => {
        const id = await engine.createCanister({ controllers: [USER] });
        const chunk = new Uint8Array([1, 2, 3]);
        const r = decodeReply<M.upload_chunk_result>(await upload(engine, id, chunk), M.upload_chunk_result);
        assert.equal(hex(r.hash), hex(sha(chunk)));
        await upload(engine, id, chunk); // the same chunk again: stored once
        const stored = () =>
            mgmt(engine, 'stored_chunks', M.stored_chunks_args, { canister_id: id }, USER).then((x) => decodeReply<M.stored_chunks_result>(x, M.stored_chunks_result));
        assert.deepEqual((await stored()).map((h) => hex(h.hash)), [hex(sha(chunk))]);

        rejected(await upload(engine, id, new Uint8Array(MAX_CHUNK_BYTES + 1)), RejectCode.CANISTER_ERROR, 'IC0504', /exceeds the maximum chunk size of 1048576/);
        for (let i = 1; i < CHUNK_STORE_SIZE; i++) assert.ok('reply' in (await upload(engine, id, new Uint8Array([0xee, i]))));
        assert.equal((await stored()).length, CHUNK_STORE_SIZE);
        rejected(await upload(engine, id, new Uint8Array([0xff])), RejectCode.CANISTER_ERROR, 'IC0504', /maximum number of entries, 100/);
        // chunks count toward memory as 1 MiB each
        assert.ok((await statusOf(engine, id)).memory_size >= BigInt(CHUNK_STORE_SIZE) * 1048576n);

        assert.ok('reply' in (await mgmt(engine, 'clear_chunk_store', M.clear_chunk_store_args, { canister_id: id }, USER)));
        assert.deepEqual(await stored(), []);
    });

    test('only controllers (and the canister itself) use a chunk store; users are refused before execution', async () => {
        const id = await engine.createCanister({ controllers: [USER] });
        for (const [method, type] of [
            ['upload_chunk', M.upload_chunk_args],
            ['stored_chunks', M.stored_chunks_args],
            ['clear_chunk_store', M.clear_chunk_store_args]
        ] as const) {
            const value = method === 'upload_chunk' ? { canister_id: id, chunk: new Uint8Array([9]) } : { canister_id: id };
            const arg = mgmtArg(type, value);
            const refused = engine.acceptIngress(MGMT, method, arg, OTHER);
            assert.deepEqual(refused, {
                code: RejectCode.CANISTER_ERROR,
                message: `Only controllers of canister ${id.toText()} can call ic00 method ${method}`,
                errorCode: 'IC0512'
            });
            rejected(await engine.update(MGMT, method, arg, OTHER), RejectCode.CANISTER_ERROR, 'IC0512', /Only controllers/);
        }
        assert.equal(engine.acceptIngress(MGMT, 'stored_chunks', mgmtArg(M.stored_chunks_args, { canister_id: id }), USER), null);
    });

    test('install_chunked_code checks the hash, the chunks and the mode, and installs exactly the hashed module', async () => {
        const id = await engine.createCanister({ controllers: [USER] });
        const v1 = counterWasm(1);
        const chunks = split(v1, 100);
        assert.ok(chunks.length >= 3);
        for (const c of chunks) await upload(engine, id, c);
        const install = (a: M.install_chunked_code_args, sender = USER) => mgmt(engine, 'install_chunked_code', M.install_chunked_code_args, a, sender);

        const wrongHash = { ...chunkedArgs(id, v1, chunks, { install: null }), wasm_module_hash: sha(new Uint8Array([1])) };
        rejected(await install(wrongHash), RejectCode.CANISTER_ERROR, 'IC0504', /Wasm module hash [0-9a-f]{64} does not match given hash/);
        const missing = chunkedArgs(id, v1, [...chunks, new Uint8Array([42])], { install: null });
        rejected(await install(missing), RejectCode.CANISTER_ERROR, 'IC0504', /is not present in the chunk store/);
        const swapped = chunkedArgs(id, v1, [chunks[1]!, chunks[0]!, ...chunks.slice(2)], { install: null });
        rejected(await install({ ...swapped, wasm_module_hash: sha(v1) }), RejectCode.CANISTER_ERROR, 'IC0504', /does not match/);
        assert.equal(engine.moduleHash(id), undefined, 'nothing installed by the refused calls');
        rejected(await install(chunkedArgs(id, v1, chunks, { install: null }), OTHER), RejectCode.CANISTER_ERROR, 'IC0512', /Only controllers/);

        assert.ok('reply' in (await install(chunkedArgs(id, v1, chunks, { install: null }))));
        assert.deepEqual(engine.moduleHash(id), sha(v1));
        assert.deepEqual((await statusOf(engine, id)).module_hash, [sha(v1)]);
        await engine.update(id, 'inc', new Uint8Array(), USER);
        assert.deepEqual(await counterState(engine, id, USER), { heap: 1, global: 1001 });

        rejected(await install(chunkedArgs(id, v1, chunks, { install: null })), RejectCode.CANISTER_ERROR, 'IC0538', /not empty/);
        // upgrade: a new instance (fresh heap and globals of the new module)
        const v2 = counterWasm(2);
        const chunks2 = split(v2, 150);
        for (const c of chunks2) await upload(engine, id, c);
        assert.ok('reply' in (await install(chunkedArgs(id, v2, chunks2, { upgrade: [] }))));
        assert.deepEqual(engine.moduleHash(id), sha(v2));
        assert.deepEqual(await counterState(engine, id, USER), { heap: 0, global: 2000 });
        assert.ok('reply' in (await install(chunkedArgs(id, v1, chunks, { reinstall: null }))));
        assert.deepEqual(engine.moduleHash(id), sha(v1));
    });

    test('a canister controlling others installs the real canister wasm from a different store canister', async () => {
        const proxy = await engine.createCanister({ controllers: [USER] });
        await engine.installCode(proxy, proxyWasm(), new Uint8Array(), 'install', USER);
        const target = await engine.createCanister({ controllers: [proxy] });
        const store = await engine.createCanister({ controllers: [USER] });
        const wasm = await testCanisterWasm();
        const chunks = split(wasm, MAX_CHUNK_BYTES);
        assert.ok(chunks.length >= 3, 'the Azle module takes several chunks');
        for (const c of chunks) assert.ok('reply' in (await upload(engine, store, c)));
        const args = { ...chunkedArgs(target, wasm, chunks, { install: null }, store), arg: initArg('chunked') };

        // the proxy controls the target but not the store: refused with the IC's controller error
        const denied = await viaProxy(engine, proxy, 'install_chunked_code', M.install_chunked_code_args, args, USER);
        rejected(denied, RejectCode.CANISTER_ERROR, undefined, new RegExp(`Only the controllers of the canister ${store.toText()} can control it`));
        // and the user controls the store but not the target
        rejected(await mgmt(engine, 'install_chunked_code', M.install_chunked_code_args, args, USER), RejectCode.CANISTER_ERROR, 'IC0512', /Only controllers/);

        assert.ok('reply' in (await mgmt(engine, 'update_settings', M.update_settings_args, {
            canister_id: store,
            settings: { controllers: [[USER, proxy]], freezing_threshold: [], reserved_cycles_limit: [], log_visibility: [], wasm_memory_limit: [], memory_allocation: [], compute_allocation: [] },
            sender_canister_version: []
        }, USER)));
        const done = await viaProxy(engine, proxy, 'install_chunked_code', M.install_chunked_code_args, args, USER);
        assert.ok('reply' in done, JSON.stringify(done));
        assert.deepEqual(engine.moduleHash(target), sha(wasm));
        assert.equal(await caller(engine, target).query('getInitArg', [], [], [IDL.Text]), 'chunked');

        // canister_status through the controlling canister; the user (not a controller of the target) is refused
        const status = decodeReply<M.canister_status_result>(
            await viaProxy(engine, proxy, 'canister_status', M.canister_status_args, { canister_id: target }, USER),
            M.canister_status_result
        );
        assert.deepEqual(status.settings.controllers.map((p) => p.toText()), [proxy.toText()]);
        assert.deepEqual(status.module_hash, [sha(wasm)]);
        assert.equal(status.settings.freezing_threshold, 2_592_000n);
        assert.ok(status.cycles > 0n && status.memory_size > 0n);
        rejected(await mgmt(engine, 'canister_status', M.canister_status_args, { canister_id: target }, USER), RejectCode.CANISTER_ERROR, 'IC0512', /Only controllers/);
    });
});

describe('controller checks on every management method', () => {
    let engine: Engine;
    let id: Principal;
    let proxy: Principal;
    before(async () => {
        engine = await Engine.create({ tickMs: 0 });
        id = await deployCounter(engine, USER);
        proxy = await engine.createCanister({ controllers: [USER] });
        await engine.installCode(proxy, proxyWasm(), new Uint8Array(), 'install', USER);
    });
    after(() => engine.close());

    const settings = { controllers: [[OTHER]], freezing_threshold: [], reserved_cycles_limit: [], log_visibility: [], wasm_memory_limit: [], memory_allocation: [], compute_allocation: [] };
    const calls = (): [string, IDL.Type, unknown][] => [
        ['install_code', M.install_code_args, { canister_id: id, wasm_module: counterWasm(3), arg: new Uint8Array(), mode: { reinstall: null }, sender_canister_version: [] }],
        ['uninstall_code', M.uninstall_code_args, { canister_id: id, sender_canister_version: [] }],
        ['update_settings', M.update_settings_args, { canister_id: id, settings, sender_canister_version: [] }],
        ['stop_canister', M.stop_canister_args, { canister_id: id }],
        ['start_canister', M.start_canister_args, { canister_id: id }],
        ['delete_canister', M.delete_canister_args, { canister_id: id }],
        ['canister_status', M.canister_status_args, { canister_id: id }],
        ['take_canister_snapshot', M.take_canister_snapshot_args, { canister_id: id, replace_snapshot: [] }],
        ['list_canister_snapshots', M.list_canister_snapshots_args, { canister_id: id }],
        ['load_canister_snapshot', M.load_canister_snapshot_args, { canister_id: id, snapshot_id: new Uint8Array(18), sender_canister_version: [] }],
        ['delete_canister_snapshot', M.delete_canister_snapshot_args, { canister_id: id, snapshot_id: new Uint8Array(18) }],
        ['upload_chunk', M.upload_chunk_args, { canister_id: id, chunk: new Uint8Array([1]) }],
        ['stored_chunks', M.stored_chunks_args, { canister_id: id }],
        ['clear_chunk_store', M.clear_chunk_store_args, { canister_id: id }],
        ['install_chunked_code', M.install_chunked_code_args, chunkedArgs(id, counterWasm(3), [], { upgrade: [] })]
    ];

    test('a user who is not a controller is refused each one, and nothing changes', async () => {
        const before = { status: await statusOf(engine, id), state: await counterState(engine, id, USER) };
        for (const [method, type, value] of calls()) {
            rejected(await mgmt(engine, method, type, value, OTHER), RejectCode.CANISTER_ERROR, 'IC0512', new RegExp(`Only controllers of canister ${id.toText()} can call ic00 method ${method}`));
        }
        const after = { status: await statusOf(engine, id), state: await counterState(engine, id, USER) };
        assert.deepEqual(after, before);
    });

    test('a canister that is not a controller is refused each one with the IC execution error', async () => {
        for (const [method, type, value] of calls()) {
            const r = await viaProxy(engine, proxy, method, type, value, USER);
            rejected(r, RejectCode.CANISTER_ERROR, undefined, new RegExp(`Only the controllers of the canister ${id.toText()} can control it.\\nCanister's controllers: ${USER.toText()}\\nSender's ID: ${proxy.toText()}`));
        }
        assert.equal(engine.hasCanister(id), true);
        assert.deepEqual(engine.controllers(id).map((p) => p.toText()), [USER.toText()]);
    });

    test('methods for canisters only are refused to users; update_settings refuses more than 10 controllers', async () => {
        for (const method of ['raw_rand', 'deposit_cycles', 'http_request', 'sign_with_ecdsa', 'ecdsa_public_key']) {
            const r = await engine.update(MGMT, method, new Uint8Array(IDL.encode([], [])), USER);
            rejected(r, RejectCode.CANISTER_REJECT, 'IC0406', new RegExp(`Only canisters can call ic00 method ${method}`));
        }
        const many = Array.from({ length: 11 }, () => USER);
        const r = await mgmt(engine, 'update_settings', M.update_settings_args, { canister_id: id, settings: { ...settings, controllers: [many] }, sender_canister_version: [] }, USER);
        rejected(r, RejectCode.CANISTER_ERROR, 'IC0504', /controllers/);
        assert.deepEqual(engine.controllers(id).map((p) => p.toText()), [USER.toText()]);
    });
});

describe('stop_canister and start_canister', () => {
    let engine: Engine;
    let id: Principal;
    const idArg = () => ({ canister_id: id });
    before(async () => {
        engine = await Engine.create({ tickMs: 0 });
        id = await deployCounter(engine, USER);
    });
    after(() => engine.close());

    test('stopping completes only when no call context is open; calls meanwhile are rejected as the IC does', async () => {
        const waiting = engine.update(id, 'waiting', new Uint8Array(), USER); // its context waits for raw_rand
        let stopped = false;
        const stop = mgmt(engine, 'stop_canister', M.stop_canister_args, idArg(), USER).then((r) => ((stopped = true), r));
        assert.deepEqual((await statusOf(engine, id)).status, { stopping: null });
        rejected(await engine.update(id, 'inc', new Uint8Array(), USER), RejectCode.CANISTER_ERROR, 'IC0509', /is stopping/);
        rejected(await engine.query(id, 'get', new Uint8Array(), USER), RejectCode.CANISTER_ERROR, 'IC0509', /is stopping/);
        assert.equal(stopped, false);
        // the open call's response is still processed; then the canister stops and stop_canister answers
        assert.ok('reply' in (await waiting));
        assert.ok('reply' in (await stop));
        assert.deepEqual((await statusOf(engine, id)).status, { stopped: null });
        rejected(await engine.update(id, 'inc', new Uint8Array(), USER), RejectCode.CANISTER_ERROR, 'IC0508', /is stopped/);
        assert.deepEqual(await counterState(engine, id, USER).catch((e: Error) => e.message), `get rejected: Canister ${id.toText()} is stopped`);

        assert.ok('reply' in (await mgmt(engine, 'start_canister', M.start_canister_args, idArg(), USER)));
        assert.deepEqual((await statusOf(engine, id)).status, { running: null });
        assert.ok('reply' in (await engine.update(id, 'inc', new Uint8Array(), USER)));
    });

    test('start_canister while stopping cancels the waiting stop_canister', async () => {
        const waiting = engine.update(id, 'waiting', new Uint8Array(), USER);
        const stop = mgmt(engine, 'stop_canister', M.stop_canister_args, idArg(), USER);
        assert.ok('reply' in (await mgmt(engine, 'start_canister', M.start_canister_args, idArg(), USER)));
        rejected(await stop, RejectCode.CANISTER_ERROR, 'IC0511', /stop request was cancelled/);
        const w = await waiting;
        assert.ok('reply' in w, JSON.stringify(w));
        assert.deepEqual((await statusOf(engine, id)).status, { running: null });
    });

    test('a stop that cannot complete fails after the timeout; the canister stops once its contexts close', async () => {
        // a canister stopping itself: its own call context waits for the stop, which waits for that context
        const proxy = await engine.createCanister({ controllers: [USER] });
        await engine.installCode(proxy, proxyWasm(), new Uint8Array(), 'install', USER);
        const settings = { controllers: [[USER, proxy]], freezing_threshold: [], reserved_cycles_limit: [], log_visibility: [], wasm_memory_limit: [], memory_allocation: [], compute_allocation: [] };
        assert.ok('reply' in (await mgmt(engine, 'update_settings', M.update_settings_args, { canister_id: proxy, settings, sender_canister_version: [] }, USER)));
        const pending = viaProxy(engine, proxy, 'stop_canister', M.stop_canister_args, { canister_id: proxy }, USER);
        assert.deepEqual((await statusOf(engine, proxy)).status, { stopping: null });
        await engine.advanceTime(4 * 60_000);
        assert.deepEqual((await statusOf(engine, proxy)).status, { stopping: null });
        await engine.advanceTime(61_000);
        rejected(await pending, RejectCode.SYS_TRANSIENT, undefined, /Stop canister request timed out/);
        assert.deepEqual((await statusOf(engine, proxy)).status, { stopped: null });
    });

    test('a running canister is not deleted; a stopped one is, and not by itself', async () => {
        rejected(await mgmt(engine, 'delete_canister', M.delete_canister_args, idArg(), USER), RejectCode.CANISTER_ERROR, 'IC0510', /must be stopped/);
        assert.ok('reply' in (await mgmt(engine, 'stop_canister', M.stop_canister_args, idArg(), USER)));
        assert.ok('reply' in (await mgmt(engine, 'delete_canister', M.delete_canister_args, idArg(), USER)));
        assert.equal(engine.hasCanister(id), false);
    });
});

describe('canister snapshots', () => {
    let engine: Engine;
    before(async () => {
        engine = await Engine.create({ tickMs: 0 });
    });
    after(() => engine.close());

    const take = (id: Principal, replace?: Uint8Array, sender = USER) =>
        mgmt(engine, 'take_canister_snapshot', M.take_canister_snapshot_args, { canister_id: id, replace_snapshot: replace ? [replace] : [] }, sender);
    const load = (id: Principal, snapshot: Uint8Array | number[], sender = USER) =>
        mgmt(engine, 'load_canister_snapshot', M.load_canister_snapshot_args, { canister_id: id, snapshot_id: snapshot, sender_canister_version: [] }, sender);
    const list = async (id: Principal) =>
        decodeReply<M.list_canister_snapshots_result>(await mgmt(engine, 'list_canister_snapshots', M.list_canister_snapshots_args, { canister_id: id }, USER), M.list_canister_snapshots_result);
    const del = (id: Principal, snapshot: Uint8Array | number[]) =>
        mgmt(engine, 'delete_canister_snapshot', M.delete_canister_snapshot_args, { canister_id: id, snapshot_id: snapshot }, USER);

    test('load brings back heap, globals, module and chunk store, even after an upgrade to another module', async () => {
        const id = await deployCounter(engine, USER, 1);
        await engine.update(id, 'inc', new Uint8Array(), USER);
        await engine.update(id, 'inc', new Uint8Array(), USER);
        await upload(engine, id, new Uint8Array([7]));
        const snap = decodeReply<M.snapshot>(await take(id), M.take_canister_snapshot_result);
        assert.ok(snap.total_size > 0n);
        assert.deepEqual((await list(id)).map((s) => hex(s.id)), [hex(snap.id)]);

        await engine.installCode(id, counterWasm(2), new Uint8Array(), 'upgrade', USER);
        await engine.update(id, 'inc', new Uint8Array(), USER);
        await mgmt(engine, 'clear_chunk_store', M.clear_chunk_store_args, { canister_id: id }, USER);
        assert.deepEqual(await counterState(engine, id, USER), { heap: 1, global: 2001 });

        assert.ok('reply' in (await load(id, snap.id)));
        assert.deepEqual(await counterState(engine, id, USER), { heap: 2, global: 1002 });
        assert.deepEqual(engine.moduleHash(id), sha(counterWasm(1)));
        const stored = decodeReply<M.stored_chunks_result>(await mgmt(engine, 'stored_chunks', M.stored_chunks_args, { canister_id: id }, USER), M.stored_chunks_result);
        assert.deepEqual(stored.map((h) => hex(h.hash)), [hex(sha(new Uint8Array([7])))]);
        // it keeps running from there
        await engine.update(id, 'inc', new Uint8Array(), USER);
        assert.deepEqual(await counterState(engine, id, USER), { heap: 3, global: 1003 });
    });

    test('the real canister wasm: stable memory and certified data come back', async () => {
        const id = await deployTestCanister(engine, 'snap');
        const c = caller(engine, id);
        await c.update('increment', [], [], [IDL.Nat64]);
        await c.update('setCertified', [IDL.Vec(IDL.Nat8)], [new Uint8Array(32).fill(1)], [IDL.Bool]);
        const counts = await c.query('getCounts', [], [], [Counts]);
        const snap = decodeReply<M.snapshot>(await take(id), M.take_canister_snapshot_result);
        await c.update('increment', [], [], [IDL.Nat64]);
        await c.update('setCertified', [IDL.Vec(IDL.Nat8)], [new Uint8Array(32).fill(2)], [IDL.Bool]);
        assert.notDeepEqual(await c.query('getCounts', [], [], [Counts]), counts);
        assert.ok('reply' in (await load(id, snap.id)));
        assert.deepEqual(await c.query('getCounts', [], [], [Counts]), counts);
        assert.deepEqual(engine.certifiedData(id), new Uint8Array(32).fill(1));
        assert.equal(await c.update('increment', [], [], [IDL.Nat64]), counts.stable + 1n);
    });

    test('limits, replace_snapshot, deletion and the refusals', async () => {
        const id = await engine.createCanister({ controllers: [USER] });
        rejected(await take(id), RejectCode.CANISTER_REJECT, 'IC0406', /Failed to create snapshot for empty canister/);
        await engine.installCode(id, counterWasm(), new Uint8Array(), 'install', USER);
        const ids: Uint8Array[] = [];
        for (let i = 0; i < MAX_SNAPSHOTS; i++) ids.push(Uint8Array.from(decodeReply<M.snapshot>(await take(id), M.take_canister_snapshot_result).id));
        rejected(await take(id), RejectCode.CANISTER_REJECT, 'IC0406', new RegExp(`has reached the maximum number of snapshots allowed: ${MAX_SNAPSHOTS}`));
        const replacing = Uint8Array.from(decodeReply<M.snapshot>(await take(id, ids[0]), M.take_canister_snapshot_result).id);
        const now = (await list(id)).map((s) => hex(s.id));
        assert.equal(now.length, MAX_SNAPSHOTS);
        assert.ok(!now.includes(hex(ids[0]!)) && now.includes(hex(replacing)));

        rejected(await load(id, ids[0]!), RejectCode.DESTINATION_INVALID, 'IC0305', /Could not find the snapshot ID/);
        rejected(await del(id, ids[0]!), RejectCode.DESTINATION_INVALID, 'IC0305', /Could not find the snapshot ID/);
        rejected(await take(id, ids[0]), RejectCode.DESTINATION_INVALID, 'IC0305', /Could not find the snapshot ID/);
        const other = await deployCounter(engine, USER);
        rejected(await load(other, replacing), RejectCode.CANISTER_REJECT, 'IC0406', /does not belong to canister/);
        rejected(await take(id, undefined, OTHER), RejectCode.CANISTER_ERROR, 'IC0512', /Only controllers/);
        rejected(await load(id, replacing, OTHER), RejectCode.CANISTER_ERROR, 'IC0512', /Only controllers/);

        assert.ok('reply' in (await del(id, replacing)));
        assert.equal((await list(id)).length, MAX_SNAPSHOTS - 1);
    });
});

describe('canister_inspect_message', () => {
    let engine: Engine;
    let id: Principal;
    before(async () => {
        engine = await Engine.create({ tickMs: 0 });
        id = await deployCounter(engine, USER);
    });
    after(() => engine.close());

    test('ingress the canister does not accept, or whose inspection traps, is refused; nothing runs', async () => {
        const before = await counterState(engine, id, USER);
        assert.deepEqual(engine.acceptIngress(id, 'nope', new Uint8Array(), USER), {
            code: RejectCode.CANISTER_REJECT,
            message: `Canister ${id.toText()} rejected the message`,
            errorCode: 'IC0406'
        });
        rejected(await engine.update(id, 'nope', new Uint8Array(), USER), RejectCode.CANISTER_REJECT, 'IC0406', /rejected the message/);
        rejected(await engine.update(id, 'trap_', new Uint8Array(), USER), RejectCode.CANISTER_ERROR, undefined, /Canister trapped: unreachable/);
        assert.deepEqual(await counterState(engine, id, USER), before);
        assert.ok('reply' in (await engine.update(id, 'inc', new Uint8Array(), USER)));
        assert.equal((await counterState(engine, id, USER)).heap, before.heap + 1);
        // metered like other execution
        const inspections = engine.metrics().messages.filter((m) => m.kind === 'inspect' && m.canisterId === id.toText());
        assert.deepEqual(inspections.map((m) => [m.method, m.outcome]).slice(-4), [['nope', 'reject'], ['nope', 'reject'], ['trap_', 'trap'], ['inc', 'ok']]);
        assert.ok(inspections.every((m) => m.instructions > 0n));
    });

    test('queries and inter-canister calls are not inspected', async () => {
        assert.ok('reply' in (await engine.query(id, 'qnop', new Uint8Array(), USER)));
        const azle = await deployTestCanister(engine);
        const inspections = () => engine.metrics().messages.filter((m) => m.kind === 'inspect' && m.canisterId === id.toText()).length;
        const before = inspections();
        // greet has five letters: inspecting it would trap; called by a canister it simply runs
        assert.equal(await caller(engine, azle).update('greetOther', [IDL.Principal, IDL.Text], [id, 'x'], [IDL.Text]), '');
        assert.equal(inspections(), before);
    });
});

describe('chunk stores and snapshots across a restart', () => {
    test('they are kept in the state directory like the rest of the state', async () => {
        const dir = await mkdtemp(join(tmpdir(), 'replica-lifecycle-'));
        try {
            let engine = await Engine.create({ stateDir: dir, tickMs: 0 });
            const id = await deployCounter(engine, USER, 1);
            await engine.update(id, 'inc', new Uint8Array(), USER);
            const chunk = new Uint8Array([5, 5, 5]);
            await upload(engine, id, chunk);
            const snap = decodeReply<M.snapshot>(await snapshotNow(engine, id), M.take_canister_snapshot_result);
            const gone = decodeReply<M.snapshot>(await snapshotNow(engine, id), M.take_canister_snapshot_result);
            assert.ok('reply' in (await mgmt(engine, 'delete_canister_snapshot', M.delete_canister_snapshot_args, { canister_id: id, snapshot_id: gone.id }, USER)));
            await engine.update(id, 'inc', new Uint8Array(), USER);
            await engine.close();
            // as after a crash between writing a snapshot and writing the index: the stored index is behind
            const metaPath = join(dir, 'canisters', id.toText(), 'meta.json');
            const meta = JSON.parse(await readFile(metaPath, 'utf8')) as Record<string, unknown>;
            assert.equal(meta.nextSnapshotIndex, 2);
            await writeFile(metaPath, JSON.stringify({ ...meta, nextSnapshotIndex: 0 }));

            engine = await Engine.create({ stateDir: dir, tickMs: 0 });
            try {
                // a restart is an upgrade: fresh heap and globals
                assert.deepEqual(await counterState(engine, id, USER), { heap: 0, global: 1000 });
                const stored = decodeReply<M.stored_chunks_result>(await mgmt(engine, 'stored_chunks', M.stored_chunks_args, { canister_id: id }, USER), M.stored_chunks_result);
                assert.deepEqual(stored.map((h) => hex(h.hash)), [hex(sha(chunk))]);
                const snaps = decodeReply<M.list_canister_snapshots_result>(
                    await mgmt(engine, 'list_canister_snapshots', M.list_canister_snapshots_args, { canister_id: id }, USER),
                    M.list_canister_snapshots_result
                );
                assert.deepEqual(snaps.map((s) => [hex(s.id), s.taken_at_timestamp]), [[hex(snap.id), snap.taken_at_timestamp]]);
                // the snapshot still holds the heap as it was when taken
                assert.ok('reply' in (await mgmt(engine, 'load_canister_snapshot', M.load_canister_snapshot_args, { canister_id: id, snapshot_id: snap.id, sender_canister_version: [] }, USER)));
                assert.deepEqual(await counterState(engine, id, USER), { heap: 1, global: 1001 });
                // a new snapshot never takes the id of one on disk
                const next = decodeReply<M.snapshot>(await snapshotNow(engine, id), M.take_canister_snapshot_result);
                assert.notEqual(hex(next.id), hex(snap.id));
                assert.equal((await mgmt(engine, 'list_canister_snapshots', M.list_canister_snapshots_args, { canister_id: id }, USER).then((r) => decodeReply<M.list_canister_snapshots_result>(r, M.list_canister_snapshots_result))).length, 2);
            } finally {
                await engine.close();
            }
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });
});

function snapshotNow(engine: Engine, id: Principal) {
    return mgmt(engine, 'take_canister_snapshot', M.take_canister_snapshot_args, { canister_id: id, replace_snapshot: [] }, USER);
}
