// `npm run bench -- attack`: the most a single caller can make the canister spend. For every update
// method and caller class (anonymous, non-member, member, delegate) it sends inputs generated to be
// expensive for this code (the largest argument the caller may send, in shapes that cost the most
// per byte: many small objects, many CID links, byte strings, deep nesting, long strings) and prints
// the worst single message found (replica metering) and what it costs in cycles. Refused callers are
// measured twice: through the ingress filter (inspect_message: the message never executes) and with
// the filter skipped (as an inter-canister call, or a node that ignores inspect_message), which is
// the cost the canister itself pays. Then the governance stress: one member opens the maximum number
// of the largest proposals, a post is adopted, and the timer runs, votes and every query are measured.
// The repo is grown first (commit costs grow with it): CANOPY_ATTACK_RECORDS records (default 2,000).
import { createHash } from 'node:crypto';
import { IDL } from '@dfinity/candid';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Principal } from '@dfinity/principal';
import { startReplica } from '../replica/src/index.ts';
import { methods as M, type Args, type MethodName } from '../canister/src/api/interface.ts';
import { MAX_CHUNK_BYTES as MAX_WASM_CHUNK_BYTES } from '../canister/src/api/wasm-staging.ts';
import { parse, type Line } from './canister.bench.ts';
import { CYCLES_PER_INSTRUCTION, INGRESS_BYTE, INGRESS_MESSAGE, UPDATE_BASE } from './ic-prices.ts';
import { MAX_BATCH_ARG_BYTES, MAX_PROPOSE_ARG_BYTES, MAX_RECORD_ARG_BYTES, UPDATE_POLICY, type GuardedMethod } from '../canister/src/api/ingress-policy.ts';
import { MAX_OPEN_PER_PROPOSER } from '../canister/src/governance/governance.ts';
import { PROPOSAL_RECORD_LIMITS } from '../canister/src/governance/proposal-limits.ts';
import { MAX_CHUNK_BYTES } from '../canister/src/pds/blobs.ts';
import { DELEGATE_RECORD_LIMITS, MAX_DELEGATE_BATCH } from '../canister/src/api/delegate-writes.ts';
import { deployCanopy, testInitArgs } from '../test/support/canopy.ts';

const POST = 'app.bsky.feed.post';
const THING = 'com.example.canopy.thing';
const INGRESS_MAX = 2 * 1024 * 1024 - 4096;

const fmt = (n: bigint) => (n >= 1_000_000_000n ? `${(Number(n) / 1e9).toFixed(2)} B` : `${(Number(n) / 1e6).toFixed(2)} M`);
const cyclesOf = (worst: bigint, messages: number, argBytes: number, ingress: boolean) =>
  Number(worst) * CYCLES_PER_INSTRUCTION * messages + UPDATE_BASE * messages + (ingress ? INGRESS_MESSAGE + INGRESS_BYTE * argBytes : 0);

// ---------- expensive record JSON of a given size ----------

const FAKE_CID = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
/** Fills `{$type, x: [...]}` with `unit` repeated until the JSON is `bytes` long (or `maxNodes` units). */
function recordOf(type: string, unit: string, bytes: number, maxUnits = Infinity, wrap = (s: string) => s): string {
  const head = `{"$type":"${type}","x":[`;
  const n = Math.max(1, Math.floor(Math.min(maxUnits, (bytes - head.length - 2) / (unit.length + 1))));
  return head + wrap(Array(n).fill(unit).join(',')) + ']}';
}
/** Record JSON of about `bytes`, in shapes that cost the most per byte, within `maxNodes` values (json-shape.ts counting). */
function shapes(type: string, bytes: number, maxNodes = Infinity): Record<string, string> {
  const depth = 30;
  const budget = maxNodes - 8; // the record's own `{"$type":…,"x":[` counts too
  return {
    'small objects': recordOf(type, '{"a":0}', bytes, budget / 3),
    'cid links': recordOf(type, `{"$link":"${FAKE_CID}"}`, bytes, budget / 3),
    'byte strings': recordOf(type, '{"$bytes":"AAAA"}', bytes, budget / 3),
    numbers: recordOf(type, '0', bytes, budget),
    'deep nesting': recordOf(type, '['.repeat(depth) + ']'.repeat(depth), bytes, budget / (depth + 1)),
    'long string': `{"$type":"${type}","x":"${'x'.repeat(Math.max(1, bytes - type.length - 30))}"}`,
  };
}
/** The largest JSON of this shape whose Candid argument stays within `argCap`. */
function fitArg<K extends MethodName>(method: K, argCap: number, make: (bytes: number) => Args<K>): Args<K> {
  let lo = 100;
  let hi = argCap;
  while (hi - lo > 64) {
    const mid = Math.floor((lo + hi) / 2);
    if (encode(method, make(mid)).length <= argCap) lo = mid;
    else hi = mid;
  }
  return make(lo);
}
const encode = <K extends MethodName>(method: K, args: Args<K>) => new Uint8Array(IDL.encode(M[method].args, args as unknown[]));

type Row = { method: string; who: string; input: string; worst: bigint; messages: number; bytes: number; outcome: string; ingress: boolean };

export default async function bench(): Promise<void> {
  const logs: string[] = [];
  const replica = await startReplica({ port: 0, log: (l) => logs.push(l) });
  try {
    const ids = { m1: Ed25519KeyIdentity.generate(), m2: Ed25519KeyIdentity.generate(), m3: Ed25519KeyIdentity.generate(), d: Ed25519KeyIdentity.generate() };
    const canopy = await deployCanopy(replica, testInitArgs({
      members: [ids.m1, ids.m2, ids.m3].map((i) => i.getPrincipal()),
      delegates: [{ principal: ids.d.getPrincipal().toText(), scope: { collections: [POST, THING], actions: [{ create: null }, { put: null }, { delete: null }], writes_per_day: 100_000, expires_at_ns: [] } }],
    }));
    await canopy.ready();
    const engine = replica.engine;
    const who: Record<string, Principal> = {
      anonymous: Principal.anonymous(),
      'non-member': Ed25519KeyIdentity.generate().getPrincipal(),
      member: ids.m1.getPrincipal(),
      delegate: ids.d.getPrincipal(),
    };

    /** Runs one call (all its messages, timers included) and returns the messages it caused. */
    const run = async (fn: () => Promise<unknown>) => {
      const mark = logs.length;
      const result = await fn();
      await replica.advanceTime(0);
      return { result, lines: logs.slice(mark).map(parse).filter((l): l is Line => l !== null) };
    };
    const rows: Row[] = [];
    const updateCall = async <K extends MethodName>(method: K, args: Args<K>, sender: Principal, input: string, skipFilter: boolean, label = '') => {
      const arg = encode(method, args);
      const { result, lines } = await run(() => engine.update(canopy.canisterId, method, arg, sender, { accepted: skipFilter }));
      const own = lines.filter((l) => l.kind !== 'install');
      const worst = own.reduce((m, l) => (l.instructions > m ? l.instructions : m), 0n);
      const r = result as { reply?: Uint8Array; reject?: { message: string } };
      const outcome = r.reject ? `refused: ${r.reject.message.replace(/\s+/g, ' ').replace(/^.*message: '?(Uncaught Error: )?/, '').slice(0, 70)}` : 'ok';
      const row = { method, who: label || nameOf(sender), input, worst, messages: own.filter((l) => l.kind !== 'inspect').length, bytes: arg.length, outcome, ingress: !skipFilter };
      rows.push(row);
      return { r, row };
    };
    const nameOf = (p: Principal) => Object.entries(who).find(([, v]) => v.toText() === p.toText())?.[0] ?? p.toText();

    // ---------- refused callers: the largest payloads, through the filter and around it ----------
    const big = shapes(THING, INGRESS_MAX - 200);
    for (const cls of ['anonymous', 'non-member'] as const) {
      for (const skip of [false, true]) {
        for (const [shape, json] of Object.entries(big)) {
          await updateCall('create_record', [{ collection: THING, rkey: [], record_json: json }], who[cls]!, `2 MB ${shape}`, skip);
          await updateCall('put_record', [{ collection: THING, rkey: 'k', record_json: json, swap_record: [] }], who[cls]!, `2 MB ${shape}`, skip);
          await updateCall('propose', [{ action: { put_record: { collection: THING, rkey: [], record_json: json } }, summary: [] }], who[cls]!, `2 MB ${shape}`, skip);
        }
        const batch = Array.from({ length: 200 }, () => ({ create: { collection: THING, rkey: [] as [], record_json: big['small objects']!.slice(0, 10_000) } }));
        await updateCall('apply_writes', [{ writes: batch }], who[cls]!, '200 writes, 2 MB', skip);
        await updateCall('delete_record', [{ collection: THING, rkey: 'x'.repeat(INGRESS_MAX - 100), swap_record: [] }], who[cls]!, '2 MB rkey', skip);
        await updateCall('blob_upload_start', [{ mime_type: 'x'.repeat(INGRESS_MAX - 100), size: 1n }], who[cls]!, '2 MB mime type', skip);
        await updateCall('blob_upload_chunk', [{ upload_id: '1', offset: 0n, data: new Uint8Array(INGRESS_MAX - 100) }], who[cls]!, '2 MB chunk', skip);
        await updateCall('blob_upload_finish', [{ upload_id: 'x'.repeat(INGRESS_MAX - 100) }], who[cls]!, '2 MB id', skip);
        await updateCall('vote', [{ id: 1n, vote: { yes: null } }], who[cls]!, 'vote', skip);
        await updateCall('submit_plc_operation', [], who[cls]!, 'no argument', skip);
        await updateCall('migration_service_auth', [], who[cls]!, 'no argument', skip);
        await updateCall('stage_wasm_chunk', [{ wasm_hash: 'a'.repeat(64), total_size: 48n << 20n, offset: 0n, chunk: new Uint8Array(INGRESS_MAX - 200) }], who[cls]!, '2 MB chunk', skip);
        await updateCall('health_check', [], who[cls]!, 'no argument', skip);
        await updateCall('steward_report', [{ proposal_id: 1n, outcome: { failed: { reason: 'x'.repeat(INGRESS_MAX - 100) } } }], who[cls]!, '2 MB reason', skip);
        await updateCall('set_steward', ['x'.repeat(INGRESS_MAX - 100)], who[cls]!, '2 MB text', skip);
      }
    }
    // over-cap payloads from callers with the role: refused on size before decoding
    await updateCall('create_record', [{ collection: THING, rkey: [], record_json: big['small objects']! }], who.delegate!, '2 MB (over the cap)', true);
    await updateCall('propose', [{ action: { put_record: { collection: THING, rkey: [], record_json: big['small objects']! } }, summary: [] }], who.member!, '2 MB (over the cap)', true);

    // ---------- a repo of realistic size: commits (MST paths) cost more as it grows ----------
    const target = Number(process.env.CANOPY_ATTACK_RECORDS ?? 2_000);
    const filler = await canopy.actor(ids.d);
    for (let n = 0; n < target; n += MAX_DELEGATE_BATCH) {
      const k = Math.min(MAX_DELEGATE_BATCH, target - n);
      await filler.apply_writes({ writes: Array.from({ length: k }, (_, i) => ({ create: { collection: POST, rkey: [], record_json: JSON.stringify({ $type: POST, text: `filler ${n + i}`, createdAt: new Date().toISOString() }) } })) });
    }

    // ---------- the delegate at its caps ----------
    let rk = 0;
    for (const [shape] of Object.entries(big)) {
      const make = (n: number) => shapes(THING, n, DELEGATE_RECORD_LIMITS.maxNodes)[shape]!;
      await updateCall('create_record', fitArg('create_record', MAX_RECORD_ARG_BYTES, (n) => [{ collection: THING, rkey: [], record_json: make(n) }]), who.delegate!, `${shape} at the cap`, false);
      await updateCall('put_record', fitArg('put_record', MAX_RECORD_ARG_BYTES, (n) => [{ collection: THING, rkey: `p${rk++}`, record_json: make(n), swap_record: [] }]), who.delegate!, `${shape} at the cap`, false);
    }
    const postJson = (i: number) => JSON.stringify({ $type: POST, text: `post ${i} ${'y'.repeat(200)}`, createdAt: new Date().toISOString() });
    const many = Array.from({ length: MAX_DELEGATE_BATCH }, (_, i) => ({ create: { collection: POST, rkey: [] as [], record_json: postJson(i) } }));
    await updateCall('apply_writes', [{ writes: many }], who.delegate!, `${MAX_DELEGATE_BATCH} posts (most writes per request)`, false);
    for (const [shape] of Object.entries(big)) {
      // the request's value budget spread over the most records, each as large as the shape allows
      const perRecord = Math.floor(DELEGATE_RECORD_LIMITS.maxNodes / MAX_DELEGATE_BATCH);
      const batch = (n: number) => [{ writes: Array.from({ length: MAX_DELEGATE_BATCH }, () => ({ create: { collection: THING, rkey: [] as [], record_json: shapes(THING, n / MAX_DELEGATE_BATCH, perRecord)[shape]! } })) }] as Args<'apply_writes'>;
      await updateCall('apply_writes', fitArg('apply_writes', MAX_BATCH_ARG_BYTES, batch), who.delegate!, `${MAX_DELEGATE_BATCH} records, ${shape}`, false);
      const two = (n: number) => [{ writes: Array.from({ length: 2 }, () => ({ create: { collection: THING, rkey: [] as [], record_json: shapes(THING, n / 2, DELEGATE_RECORD_LIMITS.maxNodes / 2)[shape]! } })) }] as Args<'apply_writes'>;
      await updateCall('apply_writes', fitArg('apply_writes', MAX_BATCH_ARG_BYTES, two), who.delegate!, `2 records, ${shape}`, false);
    }
    await updateCall('delete_record', [{ collection: THING, rkey: 'p0', swap_record: [] }], who.delegate!, 'delete', false);

    // ---------- blobs: the largest chunk, and every hashing step of the largest blob ----------
    for (const cls of ['member', 'delegate'] as const) {
      const size = 5_000_000;
      const { r } = await updateCall('blob_upload_start', [{ mime_type: 'image/png', size: BigInt(size) }], who[cls]!, '5 MB blob', false);
      const id = IDL.decode([IDL.Text], r.reply!)[0] as string;
      const data = new Uint8Array(size);
      data.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      for (let off = 0; off < size; off += MAX_CHUNK_BYTES)
        await updateCall('blob_upload_chunk', [{ upload_id: id, offset: BigInt(off), data: data.subarray(off, off + MAX_CHUNK_BYTES) }], who[cls]!, '1.9 MiB chunk', false);
      await updateCall('blob_upload_finish', [{ upload_id: id }], who[cls]!, 'hash 5 MB (steps)', false);
    }
    await updateCall('submit_plc_operation', [], who.member!, 'did:web (nothing to submit)', false);
    await updateCall('migration_service_auth', [], who.member!, 'did:web (no migration authorized)', false);
    await updateCall('health_check', [], who.member!, 'reads state, dry-runs a tally', false);

    // ---------- staging an upgrade module: every chunk of a module at the largest chunk size ----------
    const module = new Uint8Array(4 * MAX_WASM_CHUNK_BYTES).map((_, i) => (i * 7919) & 0xff);
    const moduleHash = createHash('sha256').update(module).digest('hex');
    for (let off = 0; off < module.length; off += MAX_WASM_CHUNK_BYTES) {
      await updateCall('stage_wasm_chunk', [{ wasm_hash: moduleHash, total_size: BigInt(module.length), offset: BigInt(off), chunk: module.subarray(off, off + MAX_WASM_CHUNK_BYTES) }],
        who.member!, `${MAX_WASM_CHUNK_BYTES / 1024} KiB chunk of a module`, false);
    }

    // ---------- governance stress: one member, the maximum number of the largest proposals ----------
    const summary = 's'.repeat(4000);
    for (const [shape] of Object.entries(big)) {
      const make = (n: number): Args<'propose'> => [{ action: { put_record: { collection: THING, rkey: [], record_json: shapes(THING, Math.min(n, PROPOSAL_RECORD_LIMITS.maxBytes), PROPOSAL_RECORD_LIMITS.maxNodes)[shape]! } }, summary: [summary] }];
      await updateCall('propose', fitArg('propose', MAX_PROPOSE_ARG_BYTES, make), who.member!, `put_record, ${shape}`, false);
    }
    const post = (text: string): Args<'propose'> => [{
      action: { post: { text, langs: ['en', 'de', 'fr'], mentions: [], reply: [], quote: [], images: [] } }, summary: [summary],
    }];
    await updateCall('propose', post('p'.repeat(300)), who.member!, 'post, longest text', false);
    // fill the member's quota with the most expensive shape found above
    const worstPropose = rows.filter((r) => r.method === 'propose' && r.who === 'member' && r.outcome === 'ok').sort((a, b) => Number(b.worst - a.worst))[0]!;
    const worstShape = worstPropose.input.replace('put_record, ', '');
    const fill = fitArg('propose', MAX_PROPOSE_ARG_BYTES, (n) => [{ action: { put_record: { collection: THING, rkey: [], record_json: shapes(THING, Math.min(n, PROPOSAL_RECORD_LIMITS.maxBytes), PROPOSAL_RECORD_LIMITS.maxNodes)[worstShape] ?? shapes(THING, 1000)['small objects']! } }, summary: [summary] }]);
    let opened = rows.filter((r) => r.method === 'propose' && r.who === 'member' && r.outcome === 'ok').length;
    while (opened < MAX_OPEN_PER_PROPOSER) {
      await updateCall('propose', fill, who.member!, `put_record, ${worstShape} (quota)`, false);
      opened++;
    }
    const refusedMore = await updateCall('propose', fill, who.member!, 'over the open-proposal quota', false);

    // a post by another member, adopted afterwards: it must execute on the next timer round
    const m2 = ids.m2.getPrincipal();
    const { r: pr } = await updateCall('propose', post('adopted after the flood'), m2, 'post', false, 'member');
    const postId = IDL.decode([IDL.Nat64], pr.reply!)[0] as bigint;
    await updateCall('vote', [{ id: postId, vote: { yes: null } }], m2, 'vote (20 large proposals open)', false, 'member');
    const { row: adoptVote } = await updateCall('vote', [{ id: postId, vote: { yes: null } }], ids.m3.getPrincipal(), 'vote that adopts', false, 'member');
    await updateCall('vote', [{ id: 1n, vote: { no: null } }], ids.m3.getPrincipal(), 'vote on the largest proposal', false, 'member');
    const actor = await canopy.actor();
    const executed = (await actor.get_proposal(postId))[0]?.status;

    // every timer message, including the governance run that executed the post
    const timerLines = logs.map(parse).filter((l): l is Line => l !== null && (l.kind === 'timer' || l.method.includes('timer')));
    const timerWorst = timerLines.reduce((m, l) => (l.instructions > m ? l.instructions : m), 0n);
    // let every proposal reach its deadline: the timer closes them all (in bounded runs)
    const mark = logs.length;
    await replica.advanceTime(3_700_000);
    const closing = logs.slice(mark).map(parse).filter((l): l is Line => l !== null);
    const closingWorst = closing.reduce((m, l) => (l.instructions > m ? l.instructions : m), 0n);

    // ---------- queries ----------
    const queries: [string, bigint][] = [];
    const query = async <K extends MethodName>(method: K, args: Args<K>, label: string) => {
      const m0 = logs.length;
      const res = await engine.query(canopy.canisterId, method, encode(method, args), who.anonymous!);
      const line = logs.slice(m0).map(parse).find((l) => l?.kind === 'query');
      queries.push([`${method} ${label}${'reject' in res ? ' (refused)' : ''}`, line?.instructions ?? 0n]);
      return res;
    };
    let after: [] | [bigint] = [];
    for (let page = 0; page < 50; page++) {
      const res = (await query('list_proposals', [{ status: [], after, limit: [100], oldest_first: [] }], `page ${page + 1}`)) as { reply?: Uint8Array };
      if (!res.reply) break;
      const next: [] | [bigint] = (IDL.decode([M.list_proposals.ret], res.reply)[0] as unknown as { next: [] | [bigint] }).next;
      if (next.length === 0) break;
      after = next;
    }
    await query('get_proposal', [1n], 'largest');
    await query('list_votes', [{ id: postId, after: [], limit: [100] }], '');
    await query('get_audit_log', [{ after: [], limit: [100], newest_first: [true] }], '100 entries');
    await query('list_members', [{ after: [], limit: [100] }], '');
    await query('list_delegates', [], '');
    await query('get_events', [{ after: 0n, limit: 1000, max_bytes: 1_800_000 }], '≤1.8 MB');

    // ---------- report ----------
    console.log(`worst single message per update method and caller class (replica metering; cycles at 13-node prices; repo of ${target} records)`);
    console.log(`  ${'method'.padEnd(22)} ${'caller'.padEnd(11)} ${'path'.padEnd(8)} ${'worst msg'.padStart(10)} ${'msgs'.padStart(4)} ${'cycles'.padStart(14)}  input / outcome`);
    const key = (r: Row) => `${r.method}|${r.who}|${r.ingress ? 'ingress' : 'direct'}|${r.outcome.startsWith('ok') ? 'ok' : 'refused'}`;
    const worst = new Map<string, Row>();
    for (const r of rows) if (!worst.has(key(r)) || worst.get(key(r))!.worst < r.worst) worst.set(key(r), r);
    const sorted = [...worst.values()].sort((a, b) => a.method.localeCompare(b.method) || a.who.localeCompare(b.who) || Number(a.ingress) - Number(b.ingress));
    for (const r of sorted) {
      const inspectOnly = r.ingress && r.messages === 0;
      const cycles = inspectOnly ? 0 : cyclesOf(r.worst, r.messages, r.bytes, r.ingress);
      const path = inspectOnly ? 'filter' : r.ingress ? 'ingress' : 'direct';
      console.log(`  ${r.method.padEnd(22)} ${r.who.padEnd(11)} ${path.padEnd(8)} ${fmt(r.worst).padStart(10)} ${String(r.messages).padStart(4)} ${Math.round(cycles).toLocaleString('en-US').padStart(14)}  ${r.input} → ${r.outcome}`);
    }
    const refused = rows.filter((r) => (r.who === 'anonymous' || r.who === 'non-member') && !r.ingress);
    const maxRefused = refused.reduce((m, r) => (r.worst > m ? r.worst : m), 0n);
    const allowed = rows.filter((r) => r.who === 'member' || r.who === 'delegate');
    const maxAllowed = allowed.reduce((m, r) => (r.worst > m ? r.worst : m), 0n);
    const maxQuery = queries.reduce((m, [, n]) => (n > m ? n : m), 0n);
    console.log('governance stress');
    console.log(`  ${MAX_OPEN_PER_PROPOSER} largest proposals by one member (${worstShape}); one more: ${refusedMore.row.outcome}`);
    console.log(`  vote that adopts a post afterwards: ${fmt(adoptVote.worst)}; post status after the next timer round: ${executed ? Object.keys(executed)[0] : 'missing'}`);
    console.log(`  timer messages so far: worst ${fmt(timerWorst)}; closing every proposal at its deadline: worst message ${fmt(closingWorst)}`);
    console.log('queries (anonymous caller)');
    for (const [k, n] of queries) console.log(`  ${k.padEnd(40)} ${fmt(n)}`);
    console.log('targets');
    console.log(`  anonymous / non-member before refusal (filter skipped) ≤ 5 M:  worst ${fmt(maxRefused)} ${maxRefused <= 5_000_000n ? 'met' : 'NOT met'}`);
    console.log(`  member / delegate single message < 2 B:                       worst ${fmt(maxAllowed)} ${maxAllowed < 2_000_000_000n ? 'met' : 'NOT met'}`);
    console.log(`  every query < 1 B:                                            worst ${fmt(maxQuery)} ${maxQuery < 1_000_000_000n ? 'met' : 'NOT met'}`);
    console.log(`  policy covers: ${Object.keys(UPDATE_POLICY).map((m) => `${m}(${UPDATE_POLICY[m as GuardedMethod].role})`).join(', ')}`);
  } finally {
    await replica.stop();
  }
}
