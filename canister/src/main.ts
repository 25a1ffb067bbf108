// The Azle (stable mode) entry: wires IC adapters (stable memory, threshold ECDSA, clock,
// caller, timers, HTTPS outcalls) into the pure modules. No protocol logic lives here.
import './ic/buffer-shim.ts';
import { init, msgCaller, postUpgrade, query, setTimer, time, update, canisterSelf } from 'azle';
import { CID } from './atproto/cbor.ts';
import { Governance } from './governance/governance.ts';
import * as api from './api/pds-methods.ts';
import * as writes from './api/delegate-writes.ts';
import { governanceHandlers, type CallContext } from './api/governance-methods.ts';
import { initArgs, methods as M, type Args, type HttpResponseC, type InitArgsC, type MethodName, type Result } from './api/interface.ts';
import { StableBytesKv, StableKv, stableBlockMap } from './ic/stable-kv.ts';
import { DERIVATION, IcEcdsaSigner } from './ic/ecdsa-signer.ts';
import { yieldTurn } from './ic/yield-turn.ts';
import { httpPostJson } from './ic/https-outcall.ts';
import { decodeArgs, replyWith } from './ic/reply.ts';
import { PackedBlockStore } from './storage/block-store.ts';
import { executeAdopted, pinnedBlobs } from './api/executor.ts';
import { Pds } from './pds/pds.ts';
import { pdsReadModel } from './pds/read-model.ts';
import { scopedKv } from './storage/kv.ts';
import { handleHttp, handleStreamingCallback } from './xrpc/index.ts';

// Stable memory ids: 0 ordered state, 1 blocks, 2 event frames, 3 blob bytes, 4 the ordered state's key index.
const kv = new StableKv(0, 4);
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
const ctx = (): CallContext => ({ caller: msgCaller().toText(), nowNs: time() });

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

/** Keys indexed per timer step when a canister upgraded from the heap-index layout builds its key index. */
const INDEX_MIGRATION_STEP = 2_000;
function migrateIndex(): void {
  if (!kv.migrateStep(INDEX_MIGRATION_STEP)) setTimer(0, migrateIndex);
  else armGovernance();
}

function armGovernance(): void {
  const next = gov.nextWakeNs(time());
  if (next !== null) scheduleGovernance(next);
}

function armTimers(): void {
  setTimer(0, bootstrapTask);
  scheduleHousekeeping();
  // Governance's wake-up reads ranges; while the key index is being built those would sort every key,
  // so it waits for the index (proposals then execute a few timer steps late, once).
  if (kv.migrating()) setTimer(0, migrateIndex);
  else armGovernance();
}

const httpResponseC = (res: ReturnType<typeof handleHttp>): HttpResponseC => ({
  status_code: res.status_code,
  headers: res.headers,
  body: res.body,
  upgrade: res.upgrade ? [true] : [],
  streaming_strategy: res.streaming_token
    ? [{ Callback: { callback: [canisterSelf(), 'http_request_streaming_callback'], token: res.streaming_token } }]
    : [],
});

// Every decorator takes its Candid types from the method table (api/interface.ts). Update methods
// reply manually (ic/reply.ts) so a refusal is a reject with its reason, not a trap.
const arg = <K extends MethodName>(name: K): Args<K>[0] => decodeArgs<Args<K>>(M[name].args)[0];

export default class {
  @init([...initArgs])
  init(args: InitArgsC): void {
    kv.open();
    api.initCanister(pds, gov, args, time());
    armTimers();
  }

  // Same parameters as init (Azle requires it); upgrade arguments are ignored (manual: not decoded).
  @postUpgrade([...initArgs], { manual: true })
  postUpgrade(): void {
    kv.open();
    armTimers();
  }

  // ---------- status, events, HTTP ----------

  @query(M.get_status.args, M.get_status.ret)
  get_status(): Result<'get_status'> {
    return api.statusC(pds);
  }

  @query(M.get_events.args, M.get_events.ret)
  get_events(...[args]: Args<'get_events'>): Result<'get_events'> {
    return api.eventsC(pds, args);
  }

  @query(M.http_request.args, M.http_request.ret)
  http_request(...[req]: Args<'http_request'>): Result<'http_request'> {
    return httpResponseC(handleHttp({ url: req.url, method: req.method, headers: req.headers, body: req.body }, model));
  }

  @query(M.http_request_streaming_callback.args, M.http_request_streaming_callback.ret)
  http_request_streaming_callback(...[token]: Args<'http_request_streaming_callback'>): Result<'http_request_streaming_callback'> {
    const chunk = handleStreamingCallback(token, model);
    return [{ body: chunk.body, token: chunk.token ? [chunk.token] : [] }];
  }

  // ---------- delegate writes ----------

  @update(M.create_record.args, M.create_record.ret, { manual: true })
  create_record() {
    return replyWith(M.create_record.ret, () => writes.createRecord(pds, gov, ctx(), arg('create_record')));
  }

  @update(M.put_record.args, M.put_record.ret, { manual: true })
  put_record() {
    return replyWith(M.put_record.ret, () => writes.putRecord(pds, gov, ctx(), arg('put_record')));
  }

  @update(M.delete_record.args, M.delete_record.ret, { manual: true })
  delete_record() {
    return replyWith(M.delete_record.ret, () => writes.deleteRecord(pds, gov, ctx(), arg('delete_record')));
  }

  @update(M.apply_writes.args, M.apply_writes.ret, { manual: true })
  apply_writes() {
    return replyWith(M.apply_writes.ret, () => writes.applyWrites(pds, gov, ctx(), arg('apply_writes')));
  }

  // ---------- blobs ----------

  @update(M.blob_upload_start.args, M.blob_upload_start.ret, { manual: true })
  blob_upload_start() {
    return replyWith(M.blob_upload_start.ret, () => api.blobStart(pds, gov, ctx(), arg('blob_upload_start')));
  }

  @update(M.blob_upload_chunk.args, M.blob_upload_chunk.ret, { manual: true })
  blob_upload_chunk() {
    return replyWith(M.blob_upload_chunk.ret, () => api.blobChunk(pds, gov, ctx(), arg('blob_upload_chunk')));
  }

  @update(M.blob_upload_finish.args, M.blob_upload_finish.ret, { manual: true })
  blob_upload_finish() {
    return replyWith(M.blob_upload_finish.ret, () => api.blobFinish(pds, gov, ctx(), arg('blob_upload_finish'), yieldTurn));
  }

  // ---------- did:plc ----------

  @query(M.get_plc_status.args, M.get_plc_status.ret)
  get_plc_status(): Result<'get_plc_status'> {
    return api.plcStatusC(pds);
  }

  @update(M.submit_plc_operation.args, M.submit_plc_operation.ret, { manual: true })
  submit_plc_operation() {
    return replyWith(M.submit_plc_operation.ret, () => {
      api.requireMember(gov, ctx().caller);
      return api.submitPlc(pds, httpPostJson);
    });
  }

  @query(M.plc_transform.args, M.plc_transform.ret)
  plc_transform(...[a]: Args<'plc_transform'>): Result<'plc_transform'> {
    return { status: a.response.status, body: a.response.body, headers: [] };
  }

  // ---------- governance (one-line delegations to api/governance-methods.ts) ----------

  @update(M.propose.args, M.propose.ret, { manual: true })
  propose() {
    return replyWith(M.propose.ret, () => handlers.propose(ctx(), arg('propose')));
  }

  @update(M.vote.args, M.vote.ret, { manual: true })
  vote() {
    return replyWith(M.vote.ret, () => handlers.vote(ctx(), arg('vote')));
  }

  @query(M.get_proposal.args, M.get_proposal.ret)
  get_proposal(...[id]: Args<'get_proposal'>): Result<'get_proposal'> {
    return handlers.get_proposal(ctx(), id);
  }

  @query(M.list_proposals.args, M.list_proposals.ret)
  list_proposals(...[a]: Args<'list_proposals'>): Result<'list_proposals'> {
    return handlers.list_proposals(ctx(), a);
  }

  @query(M.list_votes.args, M.list_votes.ret)
  list_votes(...[a]: Args<'list_votes'>): Result<'list_votes'> {
    return handlers.list_votes(ctx(), a);
  }

  @query(M.list_members.args, M.list_members.ret)
  list_members(...[a]: Args<'list_members'>): Result<'list_members'> {
    return handlers.list_members(ctx(), a);
  }

  @query(M.list_delegates.args, M.list_delegates.ret)
  list_delegates(): Result<'list_delegates'> {
    return handlers.list_delegates(ctx());
  }

  @query(M.get_rules.args, M.get_rules.ret)
  get_rules(): Result<'get_rules'> {
    return handlers.get_rules(ctx());
  }

  @query(M.get_audit_log.args, M.get_audit_log.ret)
  get_audit_log(...[a]: Args<'get_audit_log'>): Result<'get_audit_log'> {
    return handlers.get_audit_log(ctx(), a);
  }

  @query(M.list_upgrade_approvals.args, M.list_upgrade_approvals.ret)
  list_upgrade_approvals(): Result<'list_upgrade_approvals'> {
    return handlers.list_upgrade_approvals(ctx());
  }
}
