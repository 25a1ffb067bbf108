// The Azle (stable mode) entry: wires IC adapters (stable memory, threshold ECDSA, clock,
// caller, timers, HTTPS outcalls) into the pure modules. No protocol logic lives here.
import './ic/buffer-shim.ts';
import {
  canisterCycleBalance, canisterSelf, init, inspectMessage, msgArgData, msgCaller, msgMethodName, postUpgrade, query, setTimer, setTimerInterval, time, update,
} from 'azle';
import { Upgrades } from './api/upgrade-methods.ts';
import { icUpgradePorts } from './ic/upgrade-ports.ts';
import { CID } from './atproto/cbor.ts';
import { Governance } from './governance/governance.ts';
import * as api from './api/pds-methods.ts';
import * as writes from './api/delegate-writes.ts';
import { governanceHandlers, type CallContext } from './api/governance-methods.ts';
import { initArgs, methods as M, type Args, type HttpResponseC, type InitArgsC, type MethodName, type Result } from './api/interface.ts';
import { StableBytesKv, StableKv, stableBlockMap } from './ic/stable-kv.ts';
import { DERIVATION, IcEcdsaSigner } from './ic/ecdsa-signer.ts';
import { yieldTurn } from './ic/yield-turn.ts';
import { httpGet, httpPostJson } from './ic/https-outcall.ts';
import { PlcSubmitter } from './pds/plc-submit.ts';
import { migrationServiceAuth } from './pds/migration.ts';
import { decodeArgs, replyWith } from './ic/reply.ts';
import { refusal, type CanisterRoles, type GuardedMethod } from './api/ingress-policy.ts';
import { PackedBlockStore } from './storage/block-store.ts';
import { executeAdopted, pinnedBlobs } from './api/executor.ts';
import { cyclesC, sampleCycles } from './api/cycles.ts';
import { Pds } from './pds/pds.ts';
import { pdsReadModel } from './pds/read-model.ts';
import { scopedKv } from './storage/kv.ts';
import { handleHttp, handleStreamingCallback } from './xrpc/index.ts';

// Stable memory ids: 0 ordered state, 1 blocks, 2 event frames, 3 blob bytes, 4 the ordered state's key index.
const kv = new StableKv(0, 4);
const storage = { kv, blocks: new PackedBlockStore(stableBlockMap(1)), events: new StableBytesKv(2), blobData: new StableBytesKv(3) };
const keyName = () => pds.config.get().ecdsaKeyName;
const keyCache = scopedKv(kv, 'keys');
const cyclesKv = scopedKv(kv, 'cycles');
const pds: Pds = new Pds(storage, {
  signing: new IcEcdsaSigner(keyCache, 'signing', keyName, [...DERIVATION.repoSigning]),
  rotation: new IcEcdsaSigner(keyCache, 'rotation', keyName, [...DERIVATION.plcRotation]),
  nowNs: () => time(),
  yieldTurn,
});
const gov: Governance = new Governance(scopedKv(kv, 'gov'), {
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
  wasmStaged: (hash): boolean => upgrades.staging.isStaged(hash),
});
const upgrades: Upgrades = new Upgrades(scopedKv(kv, 'upgrades'), pds, gov, icUpgradePorts);
const plc = new PlcSubmitter(pds, { post: httpPostJson, get: httpGet });
const model = pdsReadModel(pds);
const handlers = governanceHandlers(gov);
const ctx = (): CallContext => ({ caller: msgCaller().toText(), nowNs: time() });

// ---------- timers (heap handles; re-armed after upgrade) ----------
// Recurring work runs on interval timers: the IC's timer library re-arms an interval in the global
// timer message, before the callback runs in a message of its own, so a run that traps (and is
// rolled back) never stops the next one. Governance also sets one-off timers for exact deadlines;
// their guard is a heap value that a trap can roll back, so a guard past its time is ignored and
// the sweep re-arms it within a minute.

const GOVERNANCE_SWEEP_SECONDS = 60;
const SWEEP_NS = BigInt(GOVERNANCE_SWEEP_SECONDS) * 1_000_000_000n;
let governanceWakeNs: bigint | null = null;
function scheduleGovernance(atNs: bigint): void {
  const now = time();
  const pending = governanceWakeNs !== null && governanceWakeNs + SWEEP_NS > now;
  if (pending && governanceWakeNs! <= atNs) return;
  governanceWakeNs = atNs;
  const delay = atNs > now ? Number((atNs - now) / 1_000_000_000n) + 1 : 0;
  setTimer(delay, governanceRun);
}

async function governanceRun(): Promise<void> {
  governanceWakeNs = null;
  await executeAdopted(pds, gov, () => time(), { commit: yieldTurn, runUpgrade: (id, effect) => upgrades.execute(id, effect) });
  schedulePlcSubmission(plc.nextDueNs()); // adopted identity changes queue PLC operations
  const next = gov.nextWakeNs(time());
  if (next !== null) scheduleGovernance(next);
}

/**
 * Reads a few index keys: re-arms the governance and PLC timers if a guard was lost to a trap. While
 * the key index is being built (a canister upgraded from the heap-index layout) governance waits, as
 * its range reads would sort every key, and the sweep resumes the build if a trap stopped its chain.
 */
function governanceSweep(): void {
  if (kv.migrating()) return migrateIndex();
  const next = gov.nextWakeNs(time());
  if (next !== null) scheduleGovernance(next);
  schedulePlcSubmission(plc.nextDueNs());
}

// Queued PLC operations are submitted until the directory accepts them (backoff in plc-submit.ts).
let plcWakeNs: bigint | null = null;
function schedulePlcSubmission(atNs: bigint | null): void {
  const now = time();
  // As for governance: a guard a trap left behind goes stale, and the sweep re-arms the timer.
  const pending = plcWakeNs !== null && plcWakeNs + SWEEP_NS > now;
  if (atNs === null || (pending && plcWakeNs! <= atNs)) return;
  plcWakeNs = atNs;
  setTimer(atNs > now ? Number((atNs - now) / 1_000_000_000n) + 1 : 0, async () => {
    plcWakeNs = null;
    try {
      await plc.run();
    } catch (err) {
      console.log(`PLC submission failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    schedulePlcSubmission(plc.nextDueNs());
  });
}

async function bootstrapTask(): Promise<void> {
  try {
    await pds.bootstrap();
    pds.identity.migrateLegacyPlc(time());
    schedulePlcSubmission(plc.nextDueNs());
  } catch (err) {
    console.log(`bootstrap failed, retrying in 30 s: ${err instanceof Error ? err.message : String(err)}`);
    setTimer(30, bootstrapTask);
  }
}

const HOUSEKEEPING_SECONDS = 600;
async function housekeeping(): Promise<void> {
  if (kv.migrating()) return; // its range reads would sort every key until the index is built
  const warning = sampleCycles(cyclesKv, time(), canisterCycleBalance());
  if (warning) gov.recordWarning(time(), warning);
  const pinned = pinnedBlobs(gov);
  pds.housekeeping((cid) => pinned.has(cid));
  await upgrades.collect(time());
}

/** Keys indexed per timer step when a canister upgraded from the heap-index layout builds its key index. */
const INDEX_MIGRATION_STEP = 2_000;
function migrateIndex(): void {
  if (!kv.migrateStep(INDEX_MIGRATION_STEP)) setTimer(0, migrateIndex);
  else governanceSweep();
}

function armTimers(): void {
  setTimer(0, bootstrapTask);
  setTimerInterval(HOUSEKEEPING_SECONDS, housekeeping);
  setTimerInterval(GOVERNANCE_SWEEP_SECONDS, governanceSweep);
  governanceSweep();
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
// The caller's role and the argument's size are checked (ingress-policy.ts) before the argument
// is copied or decoded, so a refused message costs a few key-value reads whatever its payload.
const canisterRoles: CanisterRoles = { steward: () => upgrades.steward(), isController: icUpgradePorts.isController };
const guard = (name: string): void => {
  const problem = refusal(gov, name, msgCaller().toText(), () => msgArgData().length, time(), canisterRoles);
  if (problem) throw new Error(problem);
};
const decode = <K extends MethodName>(name: K): Args<K>[0] => decodeArgs<Args<K>>(M[name].args)[0];
const arg = <K extends MethodName & GuardedMethod>(name: K): Args<K>[0] => {
  guard(name);
  return decode(name);
};

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

  // The IC's ingress filter: refuses before the message is executed (and paid for). Manual: the
  // argument is not decoded here either. A refusal traps with its reason, which the IC passes on to
  // the caller (a plain `false` would only say "rejected the message").
  @inspectMessage({ manual: true })
  inspectMessage(): boolean {
    guard(msgMethodName());
    return true;
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
      guard('submit_plc_operation');
      return api.submitPlc(pds, plc).finally(() => schedulePlcSubmission(plc.nextDueNs()));
    });
  }

  @update(M.migration_service_auth.args, M.migration_service_auth.ret, { manual: true })
  migration_service_auth() {
    return replyWith(M.migration_service_auth.ret, () => {
      guard('migration_service_auth');
      return migrationServiceAuth(pds);
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

  @query(M.get_cycles.args, M.get_cycles.ret)
  get_cycles(): Result<'get_cycles'> {
    return cyclesC(cyclesKv, time(), canisterCycleBalance());
  }

  @query(M.list_upgrade_approvals.args, M.list_upgrade_approvals.ret)
  list_upgrade_approvals(): Result<'list_upgrade_approvals'> {
    return handlers.list_upgrade_approvals(ctx());
  }

  // ---------- upgrades by vote (api/upgrade-methods.ts) ----------

  @update(M.stage_wasm_chunk.args, M.stage_wasm_chunk.ret, { manual: true })
  stage_wasm_chunk() {
    return replyWith(M.stage_wasm_chunk.ret, () => (guard('stage_wasm_chunk'), upgrades.stageChunk(ctx(), () => decode('stage_wasm_chunk'))));
  }

  @query(M.list_staged_wasm.args, M.list_staged_wasm.ret)
  list_staged_wasm(): Result<'list_staged_wasm'> {
    return upgrades.listStaged();
  }

  @update(M.health_check.args, M.health_check.ret, { manual: true })
  health_check() {
    return replyWith(M.health_check.ret, () => (guard('health_check'), upgrades.healthCheck(ctx())));
  }

  @update(M.steward_report.args, M.steward_report.ret, { manual: true })
  steward_report() {
    return replyWith(M.steward_report.ret, () => upgrades.report(ctx(), arg('steward_report')));
  }

  @update(M.set_steward.args, M.set_steward.ret, { manual: true })
  set_steward() {
    return replyWith(M.set_steward.ret, () => upgrades.setSteward(ctx(), arg('set_steward')));
  }

  @query(M.get_steward.args, M.get_steward.ret)
  get_steward(): Result<'get_steward'> {
    const s = upgrades.steward();
    return s ? [s] : [];
  }
}
