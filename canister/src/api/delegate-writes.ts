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
import { checkBatchSize, WRITE_STALL_NS, WriteRejected, type CommitOutcome } from '../pds/writer.ts';
import { jsonNodes, jsonShapeProblem, type JsonShapeLimits } from '../atproto/json-shape.ts';
import { fromOpt, some } from './candid.ts';
import type { CallContext } from './governance-methods.ts';
import type { Args, BatchWriteC, Result } from './interface.ts';

/** What a write needs from the delegation: its operation, collection and record key (no record parsing). */
function scopeOf(w: BatchWriteC): { action: WriteAction; collection: string; rkey?: string } {
  if ('create' in w) return { action: 'create', collection: w.create.collection };
  if ('put' in w) return { action: 'put', collection: w.put.collection, rkey: w.put.rkey };
  return { action: 'delete', collection: w.delete.collection, rkey: w.delete.rkey };
}

function parseCid(text: string | undefined): CID | undefined {
  if (text === undefined) return undefined;
  try {
    return CID.parse(text);
  } catch {
    throw new WriteRejected(`invalid CID: ${text}`);
  }
}

/**
 * A delegate's record JSON: parsing and validating cost work per value (deep nesting and many small
 * objects are the dearest per byte), so the text is measured first. Together with the byte caps of
 * the ingress policy this keeps a delegate's largest message under 2 B instructions (attack bench).
 */
export const DELEGATE_RECORD_LIMITS: JsonShapeLimits = { maxBytes: 48 * 1024, maxDepth: 32, maxNodes: 4_000 };
/**
 * Writes in one delegate request, and in all of a delegate's requests waiting for a commit together:
 * the group-commit writer joins queued requests into one commit (up to 200 operations, several
 * billion instructions in one message), so one delegate alone can never make a commit that large.
 */
export const MAX_DELEGATE_BATCH = 25;

/**
 * Operations each delegate has waiting for a commit (heap only: nothing is waiting after an upgrade).
 * An entry older than the writer's stall timeout is stale (its message trapped) and ignored.
 */
const pending = new Map<string, { ops: number; sinceNs: bigint }>();

function holdPending(caller: string, ops: number, nowNs: bigint): () => void {
  const cur = pending.get(caller);
  const live = cur && nowNs - cur.sinceNs < WRITE_STALL_NS ? cur : { ops: 0, sinceNs: nowNs };
  if (live.ops + ops > MAX_DELEGATE_BATCH)
    throw new WriteRejected(`a delegate has at most ${MAX_DELEGATE_BATCH} writes waiting for a commit; ${live.ops} are waiting`);
  pending.set(caller, { ops: live.ops + ops, sinceNs: live.sinceNs });
  return () => {
    const now = pending.get(caller);
    if (!now) return;
    if (now.ops <= ops) pending.delete(caller);
    else pending.set(caller, { ops: now.ops - ops, sinceNs: now.sinceNs });
  };
}

function checkShapes(writes: BatchWriteC[]): void {
  if (writes.length > MAX_DELEGATE_BATCH) throw new WriteRejected(`a delegate writes at most ${MAX_DELEGATE_BATCH} records per request`);
  let nodes = 0;
  for (const w of writes) {
    const json = 'create' in w ? w.create.record_json : 'put' in w ? w.put.record_json : null;
    if (json === null) continue;
    const problem = jsonShapeProblem(json, DELEGATE_RECORD_LIMITS, 'record_json');
    if (problem) throw new WriteRejected(problem);
    nodes += jsonNodes(json);
    if (nodes > DELEGATE_RECORD_LIMITS.maxNodes) throw new WriteRejected(`the records of one request have more than ${DELEGATE_RECORD_LIMITS.maxNodes} values together`);
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
  // the delegation first (cheap reads), then the shape of the records (one pass over the text)
  for (const s of scopes) gov.checkDelegateWrite(ctx.caller, { action: s.action, collection: s.collection }, ctx.nowNs);
  checkShapes(writes);
  let reserved = 0;
  let out: CommitOutcome;
  try {
    const exists = (collection: string, rkey: string) => pds.recordExists(collection, rkey);
    for (const s of scopes) {
      gov.authorizeDelegateWrite(ctx.caller, s, ctx.nowNs, exists);
      reserved++;
    }
    // Checked again when the batch is committed (after waiting in the queue, and after the
    // signature): a delegation revoked or expired meanwhile stops the write.
    const recheck = () => {
      for (const s of scopes) gov.checkDelegateWrite(ctx.caller, { action: s.action, collection: s.collection }, pds.env.nowNs());
    };
    const release = holdPending(ctx.caller, writes.length, ctx.nowNs);
    try {
      out = await pds.write(writes.map(writeInput), recheck);
    } finally {
      release();
    }
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
