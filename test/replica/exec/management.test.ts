import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import * as M from 'azle/canisters/management/idl';
import { Engine, RejectCode } from '../../../replica/src/exec/engine.ts';
import { caller, decodeResult, deployTestCanister, OTHER, USER } from './fixture.ts';

const MGMT = Principal.managementCanister();

describe('management canister, outcalls and the http interface methods', () => {
    let engine: Engine;
    let id: Principal;
    let server: Server;
    let base: string;

    before(async () => {
        engine = await Engine.create({ tickMs: 0 });
        id = await deployTestCanister(engine);
        server = createServer((req, res) => {
            res.setHeader('x-extra', 'dropped-by-transform');
            res.end(`hello from ${req.url}`);
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
        await engine.close();
        await new Promise((r) => server.close(r));
    });

    test('provisional_create_canister_with_cycles and canister_status over Candid', async () => {
        const created = decodeResult(
            await engine.update(
                MGMT,
                'provisional_create_canister_with_cycles',
                new Uint8Array(IDL.encode([M.provisional_create_canister_with_cycles_args], [
                    { settings: [], specified_id: [], amount: [123_000_000_000n], sender_canister_version: [] }
                ])),
                USER
            ),
            [M.provisional_create_canister_with_cycles_result]
        );
        const newId: Principal = created.canister_id;
        assert.ok(engine.hasCanister(newId));
        const statusArg = new Uint8Array(IDL.encode([M.canister_status_args], [{ canister_id: newId }]));
        assert.equal(engine.effectiveCanisterId('canister_status', statusArg)?.toText(), newId.toText());
        const status = await engine.update(MGMT, 'canister_status', statusArg, USER);
        assert.ok('reply' in status);
        const [decoded] = IDL.decode([IDL.Record({ cycles: IDL.Nat, settings: IDL.Record({ controllers: IDL.Vec(IDL.Principal) }), module_hash: IDL.Opt(IDL.Vec(IDL.Nat8)) })], status.reply) as any;
        assert.equal(decoded.cycles, 123_000_000_000n);
        assert.deepEqual(decoded.settings.controllers.map((p: Principal) => p.toText()), [USER.toText()]);
        assert.deepEqual(decoded.module_hash, []);
        const denied = await engine.update(MGMT, 'canister_status', statusArg, OTHER);
        assert.ok('reject' in denied && denied.reject.code === RejectCode.CANISTER_ERROR && /Only controllers/.test(denied.reject.message));
    });

    test('update_settings changes controllers, seen by is_controller', async () => {
        const c = caller(engine, id, OTHER);
        assert.equal((await c.query('info', [], [], [IDL.Record({ callerIsController: IDL.Bool })])).callerIsController, false);
        const arg = (controllers: Principal[]) =>
            new Uint8Array(IDL.encode([M.update_settings_args], [
                {
                    canister_id: id,
                    settings: {
                        controllers: [controllers],
                        freezing_threshold: [],
                        reserved_cycles_limit: [],
                        log_visibility: [],
                        wasm_memory_limit: [],
                        memory_allocation: [],
                        compute_allocation: []
                    },
                    sender_canister_version: []
                }
            ]));
        assert.ok('reply' in (await engine.update(MGMT, 'update_settings', arg([USER, OTHER]), USER)));
        assert.equal((await c.query('info', [], [], [IDL.Record({ callerIsController: IDL.Bool })])).callerIsController, true);
        assert.ok('reply' in (await engine.update(MGMT, 'update_settings', arg([USER]), OTHER)));
        assert.deepEqual(engine.controllers(id).map((p) => p.toText()), [USER.toText()]);
    });

    test('install_code through the management canister (upgrade) keeps the canister working', async () => {
        const c = caller(engine, id);
        const n: bigint = await c.update('increment', [], [], [IDL.Nat64]);
        const { testCanisterWasm, initArg } = await import('./fixture.ts');
        const gzipped = gzipSync(await testCanisterWasm());
        const arg = new Uint8Array(IDL.encode([M.install_code_args], [
            // gzip-compressed, as dfx sends larger modules
            { arg: initArg('via-mgmt'), wasm_module: gzipped, mode: { upgrade: [] }, canister_id: id, sender_canister_version: [] }
        ]));
        const r = await engine.update(MGMT, 'install_code', arg, USER);
        assert.ok('reply' in r, JSON.stringify(r));
        assert.equal(await c.query('getInitArg', [], [], [IDL.Text]), 'via-mgmt');
        assert.equal((await c.query('getCounts', [], [], [IDL.Record({ stable: IDL.Nat64 })])).stable, n);
        // as on the IC, the module hash is that of the module as submitted (here gzipped)
        assert.deepEqual(engine.moduleHash(id), new Uint8Array(createHash('sha256').update(gzipped).digest()));
    });

    test('uninstall_code empties a canister; stop + delete_canister removes it', async () => {
        const { deployTestCanister: deploy } = await import('./fixture.ts');
        const victim = await deploy(engine);
        const arg = new Uint8Array(IDL.encode([M.uninstall_code_args], [{ canister_id: victim, sender_canister_version: [] }]));
        assert.ok('reply' in (await engine.update(MGMT, 'uninstall_code', arg, USER)));
        const r = await engine.query(victim, 'greet', new Uint8Array(IDL.encode([IDL.Text], ['x'])), USER);
        assert.ok('reject' in r && r.reject.code === RejectCode.CANISTER_ERROR && /empty/.test(r.reject.message));
        assert.equal(engine.moduleHash(victim), undefined);
        const idArg = new Uint8Array(IDL.encode([M.delete_canister_args], [{ canister_id: victim }]));
        const early = await engine.update(MGMT, 'delete_canister', idArg, USER);
        assert.ok('reject' in early && /must be stopped/.test(early.reject.message));
        assert.ok('reply' in (await engine.update(MGMT, 'stop_canister', idArg, USER)));
        assert.ok('reply' in (await engine.update(MGMT, 'delete_canister', idArg, USER)));
        assert.equal(engine.hasCanister(victim), false);
    });

    test('raw_rand and threshold keys are for canisters only', async () => {
        const r = await engine.update(MGMT, 'raw_rand', new Uint8Array(IDL.encode([], [])), USER);
        assert.ok('reject' in r && r.reject.code === RejectCode.CANISTER_REJECT);
    });

    test('http_request outcall to loopback runs for real and applies the transform', async () => {
        const c = caller(engine, id);
        const r = await c.update('fetchUrl', [IDL.Text], [`${base}/path?q=1`], [IDL.Record({ status: IDL.Nat, body: IDL.Text, headers: IDL.Nat32 })]);
        assert.deepEqual(r, { status: 200n, body: 'hello from /path?q=1|transformed:42', headers: 0 });
    });

    test('http_request outcall to a non-loopback host is refused', async () => {
        const c = caller(engine, id);
        const r = await c.rawUpdate('fetchUrl', [IDL.Text], ['https://example.com/']);
        assert.ok('reject' in r && /loopback/.test(r.reject.message), JSON.stringify(r));
    });

    test('http_request query streams a 10 MB body through its callback', async () => {
        const HttpReq = IDL.Record({ url: IDL.Text, method: IDL.Text, body: IDL.Vec(IDL.Nat8), headers: IDL.Vec(IDL.Tuple(IDL.Text, IDL.Text)), certificate_version: IDL.Opt(IDL.Nat16) });
        const Token = IDL.Record({ index: IDL.Nat32 });
        const Resp = IDL.Record({
            status_code: IDL.Nat16,
            body: IDL.Vec(IDL.Nat8),
            upgrade: IDL.Opt(IDL.Bool),
            streaming_strategy: IDL.Opt(IDL.Variant({ Callback: IDL.Record({ token: Token, callback: IDL.Func([Token], [IDL.Opt(IDL.Record({ token: IDL.Opt(Token), body: IDL.Vec(IDL.Nat8) }))], ['query']) }) }))
        });
        const c = caller(engine, id);
        const first = await c.query('http_request', [HttpReq], [{ url: '/big', method: 'GET', body: [], headers: [], certificate_version: [] }], [Resp]);
        assert.equal(first.status_code, 200);
        const parts: Uint8Array[] = [first.body];
        let token = first.streaming_strategy[0]?.Callback.token;
        const [cbPrincipal, cbMethod] = first.streaming_strategy[0].Callback.callback;
        assert.equal(cbPrincipal.toText(), id.toText());
        for (let i = 0; token && i < 10; i++) {
            const next = await c.query(cbMethod, [Token], [token], [IDL.Opt(IDL.Record({ token: IDL.Opt(Token), body: IDL.Vec(IDL.Nat8) }))]);
            parts.push(next[0].body);
            token = next[0].token[0];
        }
        const total = parts.reduce((n, p) => n + p.length, 0);
        assert.equal(total, 10_000_000);
        let offset = 0;
        for (const p of parts) {
            for (let i = 0; i < p.length; i += 99_991) assert.equal(p[i], ((offset + i) * 7) % 251);
            offset += p.length;
        }
        // POST asks for the update upgrade; http_request_update writes
        const up = await c.query('http_request', [HttpReq], [{ url: '/w', method: 'POST', body: [], headers: [], certificate_version: [] }], [Resp]);
        assert.deepEqual(up.upgrade, [true]);
    });
});
