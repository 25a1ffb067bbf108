// The Azle (stable mode) entry: wires IC adapters (stable memory, threshold ECDSA, clock,
// caller, timers, HTTPS outcalls) into the pure modules. No protocol logic lives here.
import './ic/buffer-shim.ts';
import { IDL, init, msgCaller, postUpgrade, query, setTimer, time, update, canisterSelf } from 'azle';
import { CID } from './atproto/cbor.ts';
import { Governance } from './governance/governance.ts';
import { governanceHandlers, methods as G } from './governance/idl.ts';
import { StableBytesKv, StableKv, stableBlockMap } from './ic/stable-kv.ts';
import { DERIVATION, IcEcdsaSigner } from './ic/ecdsa-signer.ts';
import { yieldTurn } from './ic/yield-turn.ts';
import { httpPostJson, http_request_result, transformArgs } from './ic/https-outcall.ts';
import { decodeArgs, replyWith } from './ic/reply.ts';
import { PackedBlockStore } from './pds/block-store.ts';
import * as api from './pds/canister-api.ts';
import * as C from './pds/candid.ts';
import { executeAdopted, pinnedBlobs } from './pds/executor.ts';
import { Pds } from './pds/pds.ts';
import { pdsReadModel } from './pds/read-model.ts';
import { scopedKv } from './storage/kv.ts';
import { handleHttp, handleStreamingCallback, type StreamingToken } from './xrpc/index.ts';

// Stable memory ids: 0 ordered state, 1 blocks, 2 event frames, 3 blob bytes.
const kv = new StableKv(0);
const storage = { kv, blocks: new PackedBlockStore(stableBlockMap(1)), events: new StableBytesKv(2), blobData: new StableBytesKv(3) };
const keyName = () => pds.config.get().ecdsaKeyName;
const keyCache = scopedKv(kv, 'keys');
const pds: Pds = new Pds(storage, {
  signing: new IcEcdsaSigner(keyCache, 'signing', keyName, [...DERIVATION.repoSigning]),
  rotation: new IcEcdsaSigner(keyCache, 'rotation', keyName, [...DERIVATION.plcRotation]),
  nowNs: () => time(),
  yieldTurn,
});
const gov = new Governance(scopedKv(kv, 'gov'), {
  did: () => pds.status().did,
  handle: () => pds.status().handle,
  blob: (cid) => {
    try {
      const m = pds.blobs.getMeta(CID.parse(cid));
      return m && { mimeType: m.mimeType, size: m.size };
    } catch {
      return undefined;
    }
  },
  wake: (atNs) => scheduleGovernance(atNs),
});
const model = pdsReadModel(pds);
const handlers = governanceHandlers(gov);
const ctx = (): api.Ctx => ({ caller: msgCaller().toText(), nowNs: time() });

// ---------- timers (heap handles; re-armed after upgrade) ----------

let governanceWakeNs: bigint | null = null;
function scheduleGovernance(atNs: bigint): void {
  if (governanceWakeNs !== null && governanceWakeNs <= atNs) return;
  governanceWakeNs = atNs;
  const now = time();
  const delay = atNs > now ? Number((atNs - now) / 1_000_000_000n) + 1 : 0;
  setTimer(delay, async () => {
    governanceWakeNs = null;
    await executeAdopted(pds, gov, () => time());
    const next = gov.nextWakeNs(time());
    if (next !== null) scheduleGovernance(next);
  });
}

async function bootstrapTask(): Promise<void> {
  try {
    await pds.bootstrap();
    const s = pds.identity.state();
    if (s?.method === 'plc' && !s.plcSubmitted) await api.submitPlc(pds, httpPostJson);
  } catch (err) {
    console.log(`bootstrap failed, retrying in 30 s: ${err instanceof Error ? err.message : String(err)}`);
    setTimer(30, bootstrapTask);
  }
}

const HOUSEKEEPING_SECONDS = 600;
function scheduleHousekeeping(): void {
  setTimer(HOUSEKEEPING_SECONDS, () => {
    const pinned = pinnedBlobs(gov);
    pds.housekeeping((cid) => pinned.has(cid));
    scheduleHousekeeping();
  });
}

function armTimers(): void {
  setTimer(0, bootstrapTask);
  scheduleHousekeeping();
  const next = gov.nextWakeNs(time());
  if (next !== null) scheduleGovernance(next);
}

const httpResponseC = (res: ReturnType<typeof handleHttp>) => ({
  status_code: res.status_code,
  headers: res.headers,
  body: res.body,
  upgrade: res.upgrade ? [true] : [],
  streaming_strategy: res.streaming_token
    ? [{ Callback: { callback: [canisterSelf(), 'http_request_streaming_callback'], token: res.streaming_token } }]
    : [],
});

export default class {
  @init([C.InitArgsIdl])
  init(args: C.InitArgsC): void {
    kv.warm();
    api.initCanister(pds, gov, args, time());
    armTimers();
  }

  // Same parameters as init (Azle requires it); upgrade arguments are ignored (manual: not decoded).
  @postUpgrade([C.InitArgsIdl], { manual: true })
  postUpgrade(): void {
    kv.warm();
    armTimers();
  }

  // ---------- status, events, HTTP ----------

  @query([], C.StatusIdl)
  get_status() {
    return api.statusC(pds);
  }

  @query([C.EventsArgsIdl], C.EventsPageIdl)
  get_events(args: { after: bigint; limit: number; max_bytes: number }) {
    return api.eventsC(pds, args);
  }

  @query([C.HttpRequestIdl], C.HttpResponseIdl)
  http_request(req: { url: string; method: string; body: Uint8Array; headers: [string, string][] }) {
    return httpResponseC(handleHttp({ url: req.url, method: req.method, headers: req.headers, body: req.body }, model));
  }

  @query([C.StreamingTokenIdl], IDL.Opt(C.StreamingCallbackResponseIdl))
  http_request_streaming_callback(token: StreamingToken) {
    const chunk = handleStreamingCallback(token, model);
    return [{ body: chunk.body, token: chunk.token ? [chunk.token] : [] }];
  }

  // ---------- delegate writes ----------

  @update([C.CreateRecordArgsIdl], C.WriteResultIdl, { manual: true })
  create_record() {
    return replyWith(C.WriteResultIdl, () => api.createRecord(pds, gov, ctx(), decodeArgs<[any]>([C.CreateRecordArgsIdl])[0]));
  }

  @update([C.PutRecordArgsIdl], C.WriteResultIdl, { manual: true })
  put_record() {
    return replyWith(C.WriteResultIdl, () => api.putRecord(pds, gov, ctx(), decodeArgs<[any]>([C.PutRecordArgsIdl])[0]));
  }

  @update([C.DeleteRecordArgsIdl], C.WriteResultIdl, { manual: true })
  delete_record() {
    return replyWith(C.WriteResultIdl, () => api.deleteRecord(pds, gov, ctx(), decodeArgs<[any]>([C.DeleteRecordArgsIdl])[0]));
  }

  @update([C.ApplyWritesArgsIdl], C.ApplyWritesResultIdl, { manual: true })
  apply_writes() {
    return replyWith(C.ApplyWritesResultIdl, () => api.applyWrites(pds, gov, ctx(), decodeArgs<[any]>([C.ApplyWritesArgsIdl])[0]));
  }

  // ---------- blobs ----------

  @update([C.BlobStartArgsIdl], IDL.Text, { manual: true })
  blob_upload_start() {
    return replyWith(IDL.Text, () => api.blobStart(pds, gov, ctx(), decodeArgs<[any]>([C.BlobStartArgsIdl])[0]));
  }

  @update([C.BlobChunkArgsIdl], IDL.Nat64, { manual: true })
  blob_upload_chunk() {
    return replyWith(IDL.Nat64, () => api.blobChunk(pds, gov, ctx(), decodeArgs<[any]>([C.BlobChunkArgsIdl])[0]));
  }

  @update([IDL.Record({ upload_id: IDL.Text })], C.BlobRefIdl, { manual: true })
  blob_upload_finish() {
    return replyWith(C.BlobRefIdl, () => api.blobFinish(pds, gov, ctx(), decodeArgs<[any]>([IDL.Record({ upload_id: IDL.Text })])[0], yieldTurn));
  }

  // ---------- did:plc ----------

  @query([], C.PlcStatusIdl)
  get_plc_status() {
    return api.plcStatusC(pds);
  }

  @update([], C.PlcStatusIdl, { manual: true })
  submit_plc_operation() {
    return replyWith(C.PlcStatusIdl, () => {
      api.requireMember(gov, ctx().caller);
      return api.submitPlc(pds, httpPostJson);
    });
  }

  @query([transformArgs], http_request_result)
  plc_transform(a: { response: { status: bigint; body: Uint8Array } }) {
    return { status: a.response.status, body: a.response.body, headers: [] };
  }

  // ---------- governance (one-line delegations to governance/idl.ts) ----------

  @update(G.propose.args, G.propose.ret, { manual: true })
  propose() {
    return replyWith(G.propose.ret, () => handlers.propose(ctx(), decodeArgs<[any]>(G.propose.args)[0]));
  }

  @update(G.vote.args, G.vote.ret, { manual: true })
  vote() {
    return replyWith(G.vote.ret, () => handlers.vote(ctx(), decodeArgs<[any]>(G.vote.args)[0]));
  }

  @query(G.get_proposal.args, G.get_proposal.ret)
  get_proposal(id: bigint) {
    return handlers.get_proposal(ctx(), id);
  }

  @query(G.list_proposals.args, G.list_proposals.ret)
  list_proposals(a: any) {
    return handlers.list_proposals(ctx(), a);
  }

  @query(G.list_votes.args, G.list_votes.ret)
  list_votes(a: any) {
    return handlers.list_votes(ctx(), a);
  }

  @query(G.list_members.args, G.list_members.ret)
  list_members(a: any) {
    return handlers.list_members(ctx(), a);
  }

  @query(G.list_delegates.args, G.list_delegates.ret)
  list_delegates() {
    return handlers.list_delegates(ctx());
  }

  @query(G.get_rules.args, G.get_rules.ret)
  get_rules() {
    return handlers.get_rules(ctx());
  }

  @query(G.get_audit_log.args, G.get_audit_log.ret)
  get_audit_log(a: any) {
    return handlers.get_audit_log(ctx(), a);
  }

  @query(G.list_upgrade_approvals.args, G.list_upgrade_approvals.ret)
  list_upgrade_approvals() {
    return handlers.list_upgrade_approvals(ctx());
  }
}
