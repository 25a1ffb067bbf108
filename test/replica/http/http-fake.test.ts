// The HTTP layer against a fake engine: @dfinity/agent (unmodified, query signatures verified)
// exercises status, query, v3 and v2 calls, read_state and certificates; raw requests probe the
// rejections (bad signatures, expiry, wrong sender); plain HTTP exercises the gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Actor, HttpAgent, CanisterStatus, Cbor, Certificate, Expiry, pollForResponse, type ActorSubclass, type Identity } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity, DelegationChain, DelegationIdentity } from '@dfinity/identity';
import { Secp256k1KeyIdentity } from '@dfinity/identity-secp256k1';
import { Principal } from '@dfinity/principal';
import { startHttpReplica, type HttpReplica } from '../../../replica/src/http/http-replica.ts';
import { FakeEngine, FAKE_CANISTER, CHUNK, CHUNKS, chunkByte } from './fake-engine.ts';

const idl: IDL.InterfaceFactory = ({ IDL }) =>
  IDL.Service({
    greet: IDL.Func([IDL.Text], [IDL.Text], ['query']),
    whoami: IDL.Func([], [IDL.Text], []),
    inc: IDL.Func([], [IDL.Nat64], []),
    get: IDL.Func([], [IDL.Nat64], ['query']),
    fail: IDL.Func([], [], ['query']),
    failUpdate: IDL.Func([], [], [])
  });

let engine: FakeEngine;
let replica: HttpReplica;
let stateDir: string;
const logs: string[] = [];

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'replica-http-'));
  engine = new FakeEngine();
  replica = await startHttpReplica({ engine, port: 0, stateDir, log: (l) => logs.push(l), messageSource: () => engine.messages });
});

after(async () => {
  await replica?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

async function actorFor(identity?: Identity) {
  const agent = await HttpAgent.create({ host: replica.url, shouldFetchRootKey: true, identity, retryTimes: 0 });
  return { agent, actor: Actor.createActor(idl, { agent, canisterId: FAKE_CANISTER }) as ActorSubclass<Record<string, (...a: unknown[]) => Promise<unknown>>> };
}

test('status serves the persisted root key with the IC DER prefix', async () => {
  const agent = await HttpAgent.create({ host: replica.url, shouldFetchRootKey: true });
  const key = agent.rootKey!;
  assert.equal(Buffer.from(key).toString('hex'), Buffer.from(replica.rootKey).toString('hex'));
  assert.equal(Buffer.from(key.slice(0, 37)).toString('hex'), '308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100');
  const status = (await agent.status()) as Record<string, unknown>;
  assert.equal(status.replica_health_status, 'healthy');
  assert.match(String(status.impl_version), /canopy-replica/);
});

test('query round trip with query signature verification on', async () => {
  const { actor } = await actorFor();
  assert.equal(await actor.greet!('world'), 'Hello, world!');
});

test('update over v3 returns a certified reply; rejected updates and queries surface the IC codes', async () => {
  const { actor } = await actorFor();
  const before = (await actor.get!()) as bigint;
  assert.equal(await actor.inc!(), before + 1n);
  assert.equal(await actor.get!(), before + 1n);
  await assert.rejects(actor.fail!(), (e: Error) => /deliberate/.test(e.message) && /IC0503|reject code: 5|Reject code: 5/i.test(e.message));
  await assert.rejects(actor.failUpdate!(), (e: Error) => /failUpdate/.test(e.message));
});

test('v2 call plus read_state polling', async () => {
  const { agent } = await actorFor();
  const start = engine.counter;
  const { requestId, response } = await agent.call(FAKE_CANISTER, { methodName: 'inc', arg: new Uint8Array(IDL.encode([], [])), callSync: false });
  assert.equal(response.status, 202);
  const { reply } = await pollForResponse(agent, FAKE_CANISTER, requestId);
  assert.deepEqual(IDL.decode([IDL.Nat64], reply), [start + 1n]);
});

test('signed calls: the canister sees Ed25519, secp256k1 and delegated principals', async () => {
  const ed = Ed25519KeyIdentity.generate();
  const k1 = Secp256k1KeyIdentity.generate();
  for (const id of [ed, k1]) {
    const { actor } = await actorFor(id);
    assert.equal(await actor.whoami!(), id.getPrincipal().toText());
  }
  const session = Ed25519KeyIdentity.generate();
  const chain = await DelegationChain.create(k1, session.getPublicKey(), new Date(Date.now() + 60_000), { targets: [FAKE_CANISTER] });
  const delegated = DelegationIdentity.fromDelegation(session, chain);
  const { actor } = await actorFor(delegated);
  assert.equal(await actor.whoami!(), k1.getPrincipal().toText());
  assert.equal(await actor.greet!('delegate'), 'Hello, delegate!');

  // a delegation to other targets does not authorize this canister
  const elsewhere = await DelegationChain.create(k1, session.getPublicKey(), new Date(Date.now() + 60_000), {
    targets: [Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai')]
  });
  const { actor: wrong } = await actorFor(DelegationIdentity.fromDelegation(session, elsewhere));
  await assert.rejects(wrong.whoami!(), /delegation/i);
});

async function signedEnvelope(identity: Ed25519KeyIdentity, content: Record<string, unknown>) {
  const body = { ...content, sender: identity.getPrincipal() };
  const signed = (await identity.transformRequest({ body, request: { method: 'POST', headers: {} }, endpoint: 'call' } as never)) as {
    body: Record<string, unknown>;
  };
  return signed.body;
}

const post = (path: string, body: Uint8Array) =>
  fetch(replica.url + path, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/cbor' } });

test('bad signature, wrong sender and expired ingress are rejected without executing', async () => {
  const id = Ed25519KeyIdentity.generate();
  const start = engine.counter;
  const content = {
    request_type: 'call',
    canister_id: FAKE_CANISTER,
    method_name: 'inc',
    arg: new Uint8Array(IDL.encode([], [])),
    ingress_expiry: Expiry.fromDeltaInMilliseconds(60_000)
  };
  const path = `/api/v3/canister/${FAKE_CANISTER.toText()}/call`;

  const env = await signedEnvelope(id, content);
  const sig = new Uint8Array(env.sender_sig as Uint8Array);
  sig[5] ^= 1;
  let res = await post(path, Cbor.encode({ ...env, sender_sig: sig }));
  assert.equal(res.status, 400);
  assert.match(await res.text(), /Invalid signature/);

  const other = Ed25519KeyIdentity.generate();
  res = await post(path, Cbor.encode({ ...env, sender_pubkey: other.getPublicKey().toDer() }));
  assert.equal(res.status, 400);
  assert.match(await res.text(), /Invalid user id/);

  const expired = await signedEnvelope(id, { ...content, ingress_expiry: BigInt(Date.now() - 60_000) * 1_000_000n });
  res = await post(path, Cbor.encode(expired));
  assert.equal(res.status, 400);
  assert.match(await res.text(), /^Invalid request expiry/);

  const far = await signedEnvelope(id, { ...content, ingress_expiry: BigInt(Date.now() + 3_600_000) * 1_000_000n });
  res = await post(path, Cbor.encode(far));
  assert.equal(res.status, 400);
  assert.equal(engine.counter, start, 'nothing executed');

  // sanity: the untampered envelope is accepted
  res = await post(path, Cbor.encode(env));
  assert.equal(res.status, 200);
  assert.equal(engine.counter, start + 1n);
});

test('read_state: canister paths, time, subnet keys; another sender cannot read a request status', async () => {
  const { agent } = await actorFor();
  const status = await CanisterStatus.request({ agent, canisterId: FAKE_CANISTER, paths: ['time', 'controllers', 'module_hash', 'subnet'] });
  assert.ok(Math.abs((status.get('time') as Date).getTime() - Date.now()) < 60_000);
  assert.deepEqual((status.get('controllers') as Principal[]).map((p) => p.toText()), ['2vxsx-fae']);
  assert.equal(String(status.get('module_hash')).length, 64);
  const subnet = status.get('subnet') as { subnetId: string; nodeKeys: Map<string, Uint8Array> };
  assert.equal(subnet.subnetId, replica.keys.subnetId.toText());
  assert.equal(subnet.nodeKeys.size, 1);

  const owner = Ed25519KeyIdentity.generate();
  const { agent: ownerAgent } = await actorFor(owner);
  const { requestId } = await ownerAgent.call(FAKE_CANISTER, { methodName: 'whoami', arg: new Uint8Array(IDL.encode([], [])) });
  const path = [new TextEncoder().encode('request_status'), requestId];
  const stranger = await HttpAgent.create({ host: replica.url, shouldFetchRootKey: true, identity: Ed25519KeyIdentity.generate(), retryTimes: 0 });
  await assert.rejects(stranger.readState(FAKE_CANISTER, { paths: [path] }), /403|caller/);
  const mine = await ownerAgent.readState(FAKE_CANISTER, { paths: [path] });
  assert.ok(mine.certificate.length > 0);
});

test('gateway: GET by ?canisterId and by Host, upgraded POST, 10 MB streamed body, unknown canister', async () => {
  const id = FAKE_CANISTER.toText();
  let res = await fetch(`${replica.url}/hello/x?a=1&canisterId=${id}&b=%20`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'GET /hello/x?a=1&b=%20');
  assert.equal(res.headers.get('x-uni'), Buffer.from('ünï', 'utf8').toString('latin1'));

  const port = new URL(replica.url).port;
  const { request } = await import('node:http');
  const viaHost = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path: '/p?q=1', headers: { Host: `${id}.raw.localhost:${port}`, 'X-Custom': 'Keep' } }, (resp) => {
      let b = '';
      resp.on('data', (c) => (b += c));
      resp.on('end', () => resolve({ status: resp.statusCode!, body: b }));
    });
    r.on('error', reject);
    r.end();
  });
  assert.deepEqual(viaHost, { status: 200, body: 'GET /p?q=1' });
  assert.ok(engine.lastHttpRequest!.headers.some(([k, v]) => k === 'X-Custom' && v === 'Keep'));

  const before = engine.counter;
  res = await fetch(`${replica.url}/submit?canisterId=${id}`, { method: 'POST', body: 'payload' });
  assert.equal(res.status, 201);
  assert.equal(await res.text(), `POST /submit payload by 2vxsx-fae`);
  assert.equal(engine.counter, before + 1n);

  res = await fetch(`${replica.url}/big?canisterId=${id}`);
  assert.equal(res.status, 200);
  let total = 0;
  let bad = 0;
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (let i = 0; i < part.length; i++) if (part[i] !== chunkByte(Math.floor((total + i) / CHUNK))) bad++;
    total += part.length;
  }
  assert.equal(total, CHUNK * CHUNKS);
  assert.equal(bad, 0);

  res = await fetch(`${replica.url}/?canisterId=ryjl3-tyaaa-aaaaa-aaaba-cai`);
  assert.equal(res.status, 404);
  res = await fetch(`${replica.url}/?canisterId=not-a-principal`);
  assert.equal(res.status, 400);
  res = await fetch(`${replica.url}/nothing`);
  assert.equal(res.status, 400);
});

test('gateway: an upgraded call the canister refuses (inspect_message) runs nothing and answers 502', async () => {
  const id = FAKE_CANISTER.toText();
  const before = engine.counter;
  const res = await fetch(`${replica.url}/refused/x?canisterId=${id}`, { method: 'POST', body: 'payload' });
  assert.equal(res.status, 502);
  assert.match(await res.text(), /rejected the message/);
  assert.equal(engine.counter, before);
});

test('gateway: its own errors on /xrpc/ paths are XRPC JSON {error, message} with the fitting status', async () => {
  const id = FAKE_CANISTER.toText();
  const xrpcError = async (res: Response, status: number, error: string) => {
    assert.equal(res.status, status);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, error);
    assert.equal(typeof body.message, 'string');
    assert.ok(body.message.length > 0);
  };
  const big = new Uint8Array(2 * 1024 * 1024 + 1);
  await xrpcError(await fetch(`${replica.url}/xrpc/com.atproto.repo.uploadBlob?canisterId=${id}`, { method: 'POST', body: big }), 413, 'PayloadTooLarge');
  await xrpcError(await fetch(`${replica.url}/xrpc/com.atproto.server.describeServer?canisterId=ryjl3-tyaaa-aaaaa-aaaba-cai`), 404, 'NotFound');
  await xrpcError(await fetch(`${replica.url}/xrpc/com.atproto.server.describeServer?canisterId=not-a-principal`), 400, 'InvalidRequest');
  await xrpcError(await fetch(`${replica.url}/xrpc/com.atproto.server.describeServer`), 400, 'InvalidRequest');
  await xrpcError(await fetch(`${replica.url}/xrpc/refused.call?canisterId=${id}`, { method: 'POST', body: '{}' }), 502, 'UpstreamFailure');
  // other paths keep plain-text errors
  const res = await fetch(`${replica.url}/upload?canisterId=${id}`, { method: 'POST', body: big });
  assert.equal(res.status, 413);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
});

test('metrics count calls per method and the log has a line per call', async () => {
  const res = await fetch(`${replica.url}/_/metrics`);
  const text = await res.text();
  assert.match(text, new RegExp(`replica_http_calls_total\\{kind="query",canister="${FAKE_CANISTER.toText()}",method="greet"\\} [1-9]`));
  const incs = engine.messages.filter((m) => m.method === 'inc').length;
  assert.match(text, new RegExp(`replica_message_instructions_total\\{kind="update",canister="[^"]+",method="inc",outcome="ok"\\} ${incs * 1000}\\n`));
  assert.ok(logs.some((l) => /^\[http\] update \S+ inc from \S+: replied/.test(l)));
});

test('the root key survives a restart with the same state dir', async () => {
  const again = await startHttpReplica({ engine, port: 0, stateDir });
  try {
    assert.deepEqual(again.rootKey, replica.rootKey);
  } finally {
    await again.close();
  }
});

test('API answers CORS as the boundary nodes do: preflights per endpoint, any origin on every answer', async () => {
  const origin = 'http://localhost:2583';
  const preflight = (path: string, method: string) =>
    fetch(`${replica.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' }
    });
  const id = FAKE_CANISTER.toText();
  for (const path of [`/api/v2/canister/${id}/query`, `/api/v2/canister/${id}/call`, `/api/v3/canister/${id}/call`, `/api/v2/canister/${id}/read_state`, `/api/v2/subnet/${replica.keys.subnetId.toText()}/read_state`]) {
    const res = await preflight(path, 'POST');
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-methods'), 'POST');
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /(^|,)Content-Type(,|$)/);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /X-Ic-Canister-Id/);
    assert.equal(res.headers.get('access-control-max-age'), '7200');
  }
  const status = await preflight('/api/v2/status', 'GET');
  assert.equal(status.status, 200);
  assert.equal(status.headers.get('access-control-allow-methods'), 'HEAD, GET');
  // the answers themselves (success and error) carry the origin and exposed headers
  for (const res of [
    await fetch(`${replica.url}/api/v2/status`, { headers: { origin } }),
    await fetch(`${replica.url}/api/v2/canister/${id}/query`, { method: 'POST', headers: { origin }, body: new Uint8Array([0xff]) })
  ]) {
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /X-Request-Id/);
  }
});

test('API rejects a canister id that does not match the URL and malformed requests', async () => {
  let res: Response;

  const { agent } = await actorFor();
  const other = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');
  await assert.rejects(
    agent.call(FAKE_CANISTER, { methodName: 'inc', arg: new Uint8Array(IDL.encode([], [])), effectiveCanisterId: other }),
    /does not match effective canister id/
  );
  res = await fetch(`${replica.url}/api/v2/canister/not-a-principal/query`, { method: 'POST', body: new Uint8Array([0xa0]) });
  assert.equal(res.status, 400);
  res = await fetch(`${replica.url}/api/v2/canister/${FAKE_CANISTER.toText()}/query`, { method: 'POST', body: new Uint8Array([0xff, 0x00]) });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /CBOR/);
});

test('subnet read_state certifies the subnet public key and canister ranges', async () => {
  const { agent } = await actorFor();
  const subnet = replica.keys.subnetId;
  const enc = (s: string) => new TextEncoder().encode(s);
  const request = (await agent.createReadStateRequest({ paths: [[enc('subnet'), subnet.toUint8Array(), enc('public_key')], [enc('subnet'), subnet.toUint8Array(), enc('canister_ranges')]] })) as { body: unknown };
  const res = await fetch(`${replica.url}/api/v2/subnet/${subnet.toText()}/read_state`, {
    method: 'POST',
    headers: { 'content-type': 'application/cbor' },
    body: Cbor.encode(request.body) as Uint8Array<ArrayBuffer>
  });
  assert.equal(res.status, 200);
  const { certificate } = Cbor.decode<{ certificate: Uint8Array }>(new Uint8Array(await res.arrayBuffer()));
  const cert = await Certificate.create({ certificate, rootKey: replica.rootKey, canisterId: FAKE_CANISTER });
  const key = cert.lookup_path(['subnet', subnet.toUint8Array(), 'public_key']) as { value: Uint8Array };
  assert.deepEqual(new Uint8Array(key.value), replica.rootKey);
  const ranges = Cbor.decode<Uint8Array[][]>((cert.lookup_path(['subnet', subnet.toUint8Array(), 'canister_ranges']) as { value: Uint8Array }).value);
  const [lo, hi] = ranges[0]!.map((b) => Principal.fromUint8Array(new Uint8Array(b)));
  assert.ok(lo!.ltEq(FAKE_CANISTER) && hi!.gtEq(FAKE_CANISTER));
});

test('certificates of an unchanged state share one signature and time; a state change gets a fresh one', async () => {
  const { agent, actor } = await actorFor();
  const timePath = [new TextEncoder().encode('time')];
  const read = async () => {
    const { certificate } = await agent.readState(FAKE_CANISTER, { paths: [timePath] });
    const cert = await Certificate.create({ certificate, rootKey: replica.rootKey, canisterId: FAKE_CANISTER });
    const { signature } = Cbor.decode<{ signature: Uint8Array }>(certificate);
    return { signature: Buffer.from(signature).toString('hex'), time: Buffer.from((cert.lookup_path(['time']) as { value: Uint8Array }).value).toString('hex') };
  };
  await actor.inc!();
  const [a, b] = await Promise.all([read(), read()]);
  assert.equal(a.signature, b.signature, 'same state, same signature');
  assert.equal(a.time, b.time, 'same state, same certified time');
  await actor.inc!(); // a new request status changes the state tree
  const c = await read();
  assert.notEqual(c.signature, a.signature);
  assert.notEqual(c.time, a.time);
});
