// Handlers behind the canister's own (non-governance) Candid methods: (context, Candid args) ->
// Candid result. Pure, so the permission rules are tested in Node; main.ts only decodes, calls and replies.
import type { Governance } from '../governance/governance.ts';
import { delegationExpired, refuseAnonymous } from '../governance/permissions.ts';
import { HASH_STEP_BYTES } from '../pds/blobs.ts';
import { PdsError, type Pds } from '../pds/pds.ts';
import type { PlcSubmitter } from '../pds/plc-submit.ts';
import { fromOpt, some } from './candid.ts';
import { initFromC, type CallContext } from './governance-methods.ts';
import type { Args, InitArgsC, PlcStatusC, StatusC } from './interface.ts';

export class PermissionError extends Error {
  override name = 'PermissionError';
}

export function initCanister(pds: Pds, gov: Governance, args: InitArgsC, nowNs: bigint): void {
  const ret = fromOpt(args.event_retention);
  pds.init({
    config: {
      ecdsaKeyName: args.ecdsa_key_name,
      ...(ret ? { retention: { minEvents: ret.min_events, minAgeNs: ret.min_age_ns } } : {}),
      blobs: {
        maxBytes: Number(fromOpt(args.blob_max_bytes) ?? 5_000_000n),
        graceNs: fromOpt(args.blob_grace_ns) ?? 3600n * 1_000_000_000n,
      },
    },
    didMethod: 'web' in args.did_method ? { web: { hostname: args.did_method.web.hostname } } : { plc: { plcUrl: args.did_method.plc.plc_url } },
    handle: args.handle,
    pdsUrl: args.pds_url,
  });
  gov.init(initFromC(args.governance), nowNs);
}

export function statusC(pds: Pds): StatusC {
  const s = pds.status();
  return {
    did: s.did, handle: s.handle, pds_url: s.pdsUrl, plc_url: some(s.plcUrl), head_seq: s.headSeq,
    rev: some(s.rev), active: s.active, signing_key: s.signingKey,
  };
}

export function eventsC(pds: Pds, args: Args<'get_events'>[0]) {
  const limit = Math.max(1, Math.min(args.limit, 1000));
  const maxBytes = Math.max(1, Math.min(args.max_bytes, 1_800_000));
  const page = pds.events.page(args.after, limit, maxBytes);
  return { events: page.events.map((e) => ({ seq: e.seq, time_ns: e.timeNs, frame: e.frame })), head: page.head, oldest: page.oldest };
}

/** Members (who propose posts with images) and delegates may upload blobs. */
export function requireUploader(gov: Governance, caller: string, nowNs: bigint): void {
  refuseAnonymous(caller);
  if (gov.getMember(caller)) return;
  const d = gov.getDelegate(caller);
  if (d && !delegationExpired(d.scope, nowNs)) return;
  throw new PermissionError(`${caller} is neither a member nor a delegate; blob uploads are refused`);
}

export function blobStart(pds: Pds, gov: Governance, ctx: CallContext, a: Args<'blob_upload_start'>[0]): string {
  requireUploader(gov, ctx.caller, ctx.nowNs);
  const size = Number(a.size);
  gov.checkUploadBytes(ctx.caller, size, ctx.nowNs);
  const id = pds.blobs.start(ctx.caller, a.mime_type, size, ctx.nowNs);
  gov.addUploadBytes(ctx.caller, size, ctx.nowNs);
  return id;
}

export function blobChunk(pds: Pds, gov: Governance, ctx: CallContext, a: Args<'blob_upload_chunk'>[0]): bigint {
  requireUploader(gov, ctx.caller, ctx.nowNs);
  return BigInt(pds.blobs.putChunk(ctx.caller, a.upload_id, Number(a.offset), a.data).received);
}

/** Hashes in bounded steps, yielding between them (each step is its own message on the IC). */
export async function blobFinish(pds: Pds, gov: Governance, ctx: CallContext, a: Args<'blob_upload_finish'>[0], yieldTurn: () => Promise<void>) {
  requireUploader(gov, ctx.caller, ctx.nowNs);
  while (!pds.blobs.hashStep(ctx.caller, a.upload_id, HASH_STEP_BYTES)) await yieldTurn();
  const b = pds.blobs.finish(ctx.caller, a.upload_id, pds.env.nowNs());
  return { cid: b.cid.toString(), mime_type: b.mimeType, size: BigInt(b.size) };
}

/** Operations listed by get_plc_status (newest first). */
const PLC_HISTORY_LIMIT = 50;

export function plcStatusC(pds: Pds): PlcStatusC {
  const s = pds.identity.state();
  const log = pds.identity.plcLog;
  const tip = log.tip();
  const pending = log.nextPending();
  return {
    operation_json: some(tip?.op), operation_cid: some(tip?.cid), submitted: tip?.accepted ?? false,
    last_error: some(pending?.lastError), rotation_key: some(s?.rotationKey),
    pending: tip && pending ? tip.index - pending.index + 1 : 0,
    history: log.history(PLC_HISTORY_LIMIT).map((e) => ({
      index: e.index, reason: e.reason, operation_json: e.op, cid: e.cid, signed_at_ns: e.signedAtNs, accepted: e.accepted,
      accepted_at_ns: some(e.acceptedAtNs), attempts: e.attempts, last_error: some(e.lastError),
      next_attempt_ns: e.accepted ? [] : [e.nextAttemptNs],
    })),
  };
}

/** A member's manual submission: idempotent (nothing waiting: no outcall) and rate-limited (PlcSubmitter). */
export async function submitPlc(pds: Pds, submitter: PlcSubmitter): Promise<PlcStatusC> {
  if (pds.identity.state()?.method !== 'plc') throw new PdsError('this account is not a did:plc account');
  await submitter.run(true);
  return plcStatusC(pds);
}

/** Members may trigger (re)submission (being a controller is not enough). */
export function requireMember(gov: Governance, caller: string): void {
  refuseAnonymous(caller);
  if (!gov.getMember(caller)) throw new PermissionError(`${caller} is not a member`);
}
