// Handlers behind the canister's own (non-governance) Candid methods: (context, Candid args) ->
// Candid result. Pure, so the permission rules are tested in Node; main.ts only decodes, calls and replies.
import { CID } from '../atproto/cbor.ts';
import type { Governance } from '../governance/governance.ts';
import { ANONYMOUS_PRINCIPAL, type WriteAction } from '../governance/types.ts';
import { HASH_STEP_BYTES } from '../pds/blobs.ts';
import { Pds, PdsError, type WriteInput } from '../pds/pds.ts';
import { WriteRejected, type CommitOutcome } from '../pds/writer.ts';
import { fromOpt, some } from './candid.ts';
import { initFromC, type CallContext } from './governance-methods.ts';
import type { Args, InitArgsC, PlcStatusC, StatusC } from './interface.ts';

export class PermissionError extends Error {
  override name = 'PermissionError';
}

export function refuseAnonymous(caller: string): void {
  if (caller === ANONYMOUS_PRINCIPAL) throw new PermissionError('the anonymous principal cannot write');
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

function parseCid(text: string | undefined): CID | undefined {
  if (text === undefined) return undefined;
  try {
    return CID.parse(text);
  } catch {
    throw new WriteRejected(`invalid CID: ${text}`);
  }
}

const resultC = (o: CommitOutcome) => ({
  uri: o.results[0].uri, cid: some(o.results[0].cid?.toString()), rev: o.rev, commit: o.commitCid.toString(), seq: o.seq,
});

/**
 * A delegate's direct write: checked against its adopted scope and daily budget (reserving one
 * write), committed through the group-commit writer, then audited. A refused or failed write
 * gives the reservation back and changes nothing else.
 */
export async function delegateWrite(pds: Pds, gov: Governance, ctx: CallContext, action: WriteAction, input: WriteInput) {
  refuseAnonymous(ctx.caller);
  gov.authorizeDelegateWrite(ctx.caller, { action, collection: input.collection }, ctx.nowNs);
  let out: CommitOutcome;
  try {
    out = await pds.write([input]);
  } catch (err) {
    gov.releaseDelegateWrite(ctx.caller, ctx.nowNs);
    throw err;
  }
  const r = out.results[0];
  const rkey = r.uri.slice(r.uri.lastIndexOf('/') + 1);
  gov.recordDelegateWrite(ctx.caller, { action, collection: input.collection, rkey }, { uri: r.uri, cid: r.cid?.toString() ?? null, rev: out.rev }, ctx.nowNs);
  return resultC(out);
}

export function createRecord(pds: Pds, gov: Governance, ctx: CallContext, a: Args<'create_record'>[0]) {
  const record = Pds.parseRecordJson(a.record_json);
  return delegateWrite(pds, gov, ctx, 'create', { action: 'create', collection: a.collection, rkey: fromOpt(a.rkey), record });
}

export function putRecord(pds: Pds, gov: Governance, ctx: CallContext, a: Args<'put_record'>[0]) {
  const record = Pds.parseRecordJson(a.record_json);
  return delegateWrite(pds, gov, ctx, 'put', { action: 'put', collection: a.collection, rkey: a.rkey, record, swapRecord: parseCid(fromOpt(a.swap_record)) });
}

export function deleteRecord(pds: Pds, gov: Governance, ctx: CallContext, a: Args<'delete_record'>[0]) {
  return delegateWrite(pds, gov, ctx, 'delete', { action: 'delete', collection: a.collection, rkey: a.rkey, swapRecord: parseCid(fromOpt(a.swap_record)) });
}


/**
 * A delegate's atomic batch (≤ 200 writes, one commit), like com.atproto.repo.applyWrites: every
 * write must be in scope and each uses one write of the daily budget.
 */
export async function applyWrites(pds: Pds, gov: Governance, ctx: CallContext, a: Args<'apply_writes'>[0]) {
  refuseAnonymous(ctx.caller);
  const inputs: { action: WriteAction; input: WriteInput }[] = a.writes.map((w) => {
    if ('create' in w) return { action: 'create', input: { action: 'create', collection: w.create.collection, rkey: fromOpt(w.create.rkey), record: Pds.parseRecordJson(w.create.record_json) } };
    if ('put' in w) return { action: 'put', input: { action: 'put', collection: w.put.collection, rkey: w.put.rkey, record: Pds.parseRecordJson(w.put.record_json), swapRecord: parseCid(fromOpt(w.put.swap_record)) } };
    return { action: 'delete', input: { action: 'delete', collection: w.delete.collection, rkey: w.delete.rkey, swapRecord: parseCid(fromOpt(w.delete.swap_record)) } };
  });
  let reserved = 0;
  const releaseAll = () => {
    for (; reserved > 0; reserved--) gov.releaseDelegateWrite(ctx.caller, ctx.nowNs);
  };
  try {
    for (const { action, input } of inputs) {
      gov.authorizeDelegateWrite(ctx.caller, { action, collection: input.collection }, ctx.nowNs);
      reserved++;
    }
  } catch (err) {
    releaseAll();
    throw err;
  }
  let out: CommitOutcome;
  try {
    out = await pds.write(inputs.map((i) => i.input));
  } catch (err) {
    releaseAll();
    throw err;
  }
  out.results.forEach((r, i) => {
    const rkey = r.uri.slice(r.uri.lastIndexOf('/') + 1);
    gov.recordDelegateWrite(ctx.caller, { action: inputs[i].action, collection: inputs[i].input.collection, rkey }, { uri: r.uri, cid: r.cid?.toString() ?? null, rev: out.rev }, ctx.nowNs);
  });
  return { rev: out.rev, commit: out.commitCid.toString(), seq: out.seq, results: out.results.map((r) => ({ uri: r.uri, cid: some(r.cid?.toString()) })) };
}

/** Members (who propose posts with images) and delegates may upload blobs. */
export function requireUploader(gov: Governance, caller: string, nowNs: bigint): void {
  refuseAnonymous(caller);
  if (gov.getMember(caller)) return;
  const d = gov.getDelegate(caller);
  if (d && (d.scope.expiresAtNs === null || nowNs < d.scope.expiresAtNs)) return;
  throw new PermissionError(`${caller} is neither a member nor a delegate; blob uploads are refused`);
}

export function blobStart(pds: Pds, gov: Governance, ctx: CallContext, a: Args<'blob_upload_start'>[0]): string {
  requireUploader(gov, ctx.caller, ctx.nowNs);
  return pds.blobs.start(ctx.caller, a.mime_type, Number(a.size), ctx.nowNs);
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

export function plcStatusC(pds: Pds): PlcStatusC {
  const s = pds.identity.state();
  return {
    operation_json: some(s?.plcOp), operation_cid: some(s?.plcOpCid), submitted: s?.plcSubmitted ?? false,
    last_error: some(s?.plcLastError), rotation_key: some(s?.rotationKey),
  };
}

/** Submits the latest signed PLC operation (POST {plc}/{did}); the outcome is recorded either way. */
export async function submitPlc(pds: Pds, post: (url: string, json: string) => Promise<{ status: number; body: string }>) {
  const s = pds.identity.state();
  if (!s || s.method !== 'plc' || !s.plcOp || !s.plcOpCid) throw new PdsError('no did:plc operation to submit');
  const opCid = s.plcOpCid;
  try {
    const res = await post(`${s.plcUrl!.replace(/\/$/, '')}/${s.did}`, s.plcOp);
    pds.identity.recordPlcSubmission(opCid, res.status >= 200 && res.status < 300 ? { ok: true } : { ok: false, error: `PLC directory answered ${res.status}: ${res.body.slice(0, 300)}` });
  } catch (err) {
    pds.identity.recordPlcSubmission(opCid, { ok: false, error: err instanceof Error ? err.message : String(err) });
  }
  return plcStatusC(pds);
}

/** Controllers and members may trigger (re)submission. */
export function requireMember(gov: Governance, caller: string): void {
  refuseAnonymous(caller);
  if (!gov.getMember(caller)) throw new PermissionError(`${caller} is not a member`);
}
