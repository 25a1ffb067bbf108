// A delegate's direct writes (create_record, put_record, delete_record, apply_writes) take one
// path: a single write is a one-element batch. The cheap checks come first: who the caller is and
// what its adopted delegation allows (collection, operation, daily budget, one write reserved per
// operation) are settled before any record JSON is parsed. Then the batch is parsed, committed
// through the group-commit writer (one commit) and audited. A refused or failed batch gives its
// reservations back and changes nothing else.
import { CID } from '../atproto/cbor.ts';
import type { Governance } from '../governance/governance.ts';
import { refuseAnonymous } from '../governance/permissions.ts';
import type { WriteAction } from '../governance/types.ts';
import { Pds, type WriteInput } from '../pds/pds.ts';
import { checkBatchSize, WriteRejected, type CommitOutcome } from '../pds/writer.ts';
import { fromOpt, some } from './candid.ts';
import type { CallContext } from './governance-methods.ts';
import type { Args, BatchWriteC, Result } from './interface.ts';

/** What a write needs from the delegation: its operation and collection (no record parsing). */
function scopeOf(w: BatchWriteC): { action: WriteAction; collection: string } {
  if ('create' in w) return { action: 'create', collection: w.create.collection };
  if ('put' in w) return { action: 'put', collection: w.put.collection };
  return { action: 'delete', collection: w.delete.collection };
}

function parseCid(text: string | undefined): CID | undefined {
  if (text === undefined) return undefined;
  try {
    return CID.parse(text);
  } catch {
    throw new WriteRejected(`invalid CID: ${text}`);
  }
}

/** The Candid write as a PDS write input: parses the record JSON and swap CIDs. */
function writeInput(w: BatchWriteC): WriteInput {
  if ('create' in w) {
    const a = w.create;
    return { action: 'create', collection: a.collection, rkey: fromOpt(a.rkey), record: Pds.parseRecordJson(a.record_json) };
  }
  if ('put' in w) {
    const a = w.put;
    return { action: 'put', collection: a.collection, rkey: a.rkey, record: Pds.parseRecordJson(a.record_json), swapRecord: parseCid(fromOpt(a.swap_record)) };
  }
  const a = w.delete;
  return { action: 'delete', collection: a.collection, rkey: a.rkey, swapRecord: parseCid(fromOpt(a.swap_record)) };
}

/** Authorizes, commits (atomically, one commit) and audits a delegate's batch. */
export async function delegateWrites(pds: Pds, gov: Governance, ctx: CallContext, writes: BatchWriteC[]): Promise<CommitOutcome> {
  refuseAnonymous(ctx.caller);
  checkBatchSize(writes.length);
  const scopes = writes.map(scopeOf);
  let reserved = 0;
  let out: CommitOutcome;
  try {
    for (const s of scopes) {
      gov.authorizeDelegateWrite(ctx.caller, s, ctx.nowNs);
      reserved++;
    }
    out = await pds.write(writes.map(writeInput));
  } catch (err) {
    for (; reserved > 0; reserved--) gov.releaseDelegateWrite(ctx.caller, ctx.nowNs);
    throw err;
  }
  out.results.forEach((r, i) => {
    const rkey = r.uri.slice(r.uri.lastIndexOf('/') + 1);
    gov.recordDelegateWrite(ctx.caller, { ...scopes[i]!, rkey }, { uri: r.uri, cid: r.cid?.toString() ?? null, rev: out.rev }, ctx.nowNs);
  });
  return out;
}

async function singleWrite(pds: Pds, gov: Governance, ctx: CallContext, w: BatchWriteC): Promise<Result<'create_record'>> {
  const out = await delegateWrites(pds, gov, ctx, [w]);
  const r = out.results[0]!;
  return { uri: r.uri, cid: some(r.cid?.toString()), rev: out.rev, commit: out.commitCid.toString(), seq: out.seq };
}

export const createRecord = (pds: Pds, gov: Governance, ctx: CallContext, a: Args<'create_record'>[0]) => singleWrite(pds, gov, ctx, { create: a });
export const putRecord = (pds: Pds, gov: Governance, ctx: CallContext, a: Args<'put_record'>[0]) => singleWrite(pds, gov, ctx, { put: a });
export const deleteRecord = (pds: Pds, gov: Governance, ctx: CallContext, a: Args<'delete_record'>[0]) => singleWrite(pds, gov, ctx, { delete: a });

/** Like com.atproto.repo.applyWrites: every write in scope, each using one write of the daily budget. */
export async function applyWrites(pds: Pds, gov: Governance, ctx: CallContext, a: Args<'apply_writes'>[0]): Promise<Result<'apply_writes'>> {
  const out = await delegateWrites(pds, gov, ctx, a.writes);
  return { rev: out.rev, commit: out.commitCid.toString(), seq: out.seq, results: out.results.map((r) => ({ uri: r.uri, cid: some(r.cid?.toString()) })) };
}
