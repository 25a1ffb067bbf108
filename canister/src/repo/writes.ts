// Atomic batch writes, split around the signature: `prepareCommit` computes everything
// (new MST, blocks, ops, diff, digest) synchronously; the caller obtains a signature (the
// canister awaits threshold ECDSA); `finishCommit` seals the commit. Nothing is persisted
// here: the caller stores `newBlocks`, drops `removedCids`, and moves its head.
import { CID, cidForCborBytes, cidToString, encodeCbor } from '../atproto/cbor.ts';
import { validateDataModel } from '../atproto/data-model.ts';
import { isValidDid, isValidNsid, isValidRecordKey, isValidTid } from '../atproto/syntax/index.ts';
import { BlockMap, type BlockReader } from './block-map.ts';
import { carBlockLength, carHeaderBytes, varintLength } from './car.ts';
import { commitDigest, normalizeLowS, type RepoHead, signedCommitBlock, type UnsignedCommit, unsignedCommitBytes } from './commit.ts';
import { Mst, MstError } from './mst.ts';

export type { RepoHead } from './commit.ts';

export type WriteOp = {
  action: 'create' | 'update' | 'delete';
  collection: string;
  rkey: string;
  record?: unknown /* data model */;
};

/** One record-level operation as it appears in a #commit event. */
export type CommitOp = { action: 'create' | 'update' | 'delete'; path: string; cid: CID | null; prev?: CID };

export const MAX_OPS_PER_COMMIT = 200;
export const MAX_RECORD_BYTES = 1_000_000;
export const MAX_DIFF_BYTES = 2_000_000;

export type RepoWriteErrorCode =
  | 'TooManyOps'
  | 'RecordTooLarge'
  | 'DiffTooLarge'
  | 'InvalidWrite'
  | 'InvalidRecord'
  | 'DuplicatePath'
  | 'RecordExists'
  | 'RecordNotFound'
  | 'InvalidRev'
  | 'InvalidDid'
  | 'InvalidSignature';

export class RepoWriteError extends Error {
  constructor(
    readonly code: RepoWriteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RepoWriteError';
  }
}

export interface PreparedCommit {
  did: string;
  rev: string;
  /** rev of the previous commit (null for the first commit). */
  since: string | null;
  /** MST root of the previous commit (null for the first commit). */
  prevData: CID | null;
  /** New MST root. */
  data: CID;
  unsignedCommit: UnsignedCommit;
  unsignedCommitBytes: Uint8Array;
  /** sha-256 of unsignedCommitBytes: what the signer signs. */
  digest: Uint8Array;
  ops: CommitOp[];
  /** Blocks to persist: new records and new MST nodes (the commit is added by finishCommit). */
  newBlocks: BlockMap;
  /**
   * Blocks no longer referenced by the new tree: replaced MST nodes and the previous versions
   * of updated/deleted records. Record CIDs are content hashes: another path may still hold an
   * identical record, so callers that share record blocks between paths must refcount them
   * (see removedRecordCids).
   */
  removedCids: CID[];
  removedNodeCids: CID[];
  removedRecordCids: CID[];
  /** Event diff without the commit: new records, new MST nodes and inversion proof nodes. */
  eventBlocks: BlockMap;
  /** Exact size of the event CAR (`blocks`) once the commit is added. */
  diffBytes: number;
}

/** What a signed commit changed; the fields it shares with PreparedCommit mean the same there. */
export interface CommitResult
  extends Pick<PreparedCommit, 'did' | 'rev' | 'since' | 'prevData' | 'data' | 'ops' | 'removedCids' | 'removedNodeCids' | 'removedRecordCids'> {
  commitCid: CID;
  commitBytes: Uint8Array;
  head: RepoHead;
  /** Everything to persist: new records, new MST nodes and the commit. */
  newBlocks: BlockMap;
  /** The #commit event's CAR slice content (commit first). */
  eventBlocks: BlockMap;
}

const COMMIT_CID_BYTES = 36; // CIDv1 + dag-cbor + sha-256 (32-byte digest)

// ---------- record rules (every layer that accepts a record path or value checks with these) ----------

/** Why `collection` cannot name a collection, or null. */
export function collectionProblem(collection: unknown): string | null {
  return typeof collection === 'string' && isValidNsid(collection) ? null : `invalid collection NSID ${JSON.stringify(collection)}`;
}

/** Why `rkey` cannot be a record key, or null. */
export function rkeyProblem(rkey: unknown): string | null {
  return typeof rkey === 'string' && isValidRecordKey(rkey) ? null : `invalid record key ${JSON.stringify(rkey)}`;
}

/** Why `value` cannot be a record (a map: not an array, bytes or a CID link), or null. */
export function recordObjectProblem(value: unknown): string | null {
  const isMap = !!value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array) && !CID.asCID(value);
  return isMap ? null : 'the record must be a JSON object';
}

/** `record` as a record of `collection`: `$type` added when absent, refused when it names another collection. */
export function recordWithType(record: unknown, collection: string, fail: (reason: string) => never): Record<string, unknown> {
  const problem = recordObjectProblem(record);
  if (problem) fail(problem);
  const r = record as Record<string, unknown>;
  if (r.$type === undefined) return { $type: collection, ...r };
  if (r.$type !== collection) fail(`the record's $type ${JSON.stringify(r.$type)} does not match the collection ${collection}`);
  return r;
}

function checkWriteShape(w: WriteOp, index: number): string {
  if (!w || typeof w !== 'object') throw new RepoWriteError('InvalidWrite', `write #${index} is not an object`);
  if (w.action !== 'create' && w.action !== 'update' && w.action !== 'delete') {
    throw new RepoWriteError('InvalidWrite', `write #${index}: unknown action ${JSON.stringify(w.action)}`);
  }
  const pathProblem = collectionProblem(w.collection) ?? rkeyProblem(w.rkey);
  if (pathProblem) throw new RepoWriteError('InvalidWrite', `write #${index}: ${pathProblem}`);
  if (w.action === 'delete' && w.record !== undefined) {
    throw new RepoWriteError('InvalidWrite', `write #${index}: delete must not carry a record`);
  }
  return `${w.collection}/${w.rkey}`;
}

function encodeRecord(w: WriteOp, path: string): { cid: CID; bytes: Uint8Array } {
  const problem = recordObjectProblem(w.record);
  if (problem) throw new RepoWriteError('InvalidRecord', `${path}: ${problem}`);
  const rec = w.record as Record<string, unknown>;
  if (rec.$type !== w.collection) {
    throw new RepoWriteError('InvalidRecord', `${path}: record $type must be "${w.collection}", got ${JSON.stringify(rec.$type)}`);
  }
  let bytes: Uint8Array;
  try {
    validateDataModel(rec);
    bytes = encodeCbor(rec);
  } catch (err) {
    throw new RepoWriteError('InvalidRecord', `${path}: record is not valid data model: ${(err as Error).message}`);
  }
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new RepoWriteError('RecordTooLarge', `${path}: record is ${bytes.length} bytes (max ${MAX_RECORD_BYTES})`);
  }
  // Hashed once, after the size check (hashing is the dominant per-byte cost in the canister).
  return { cid: cidForCborBytes(bytes), bytes };
}

/**
 * Apply a batch of writes (atomically: any bad op rejects the whole batch) on top of `head`
 * (null for a brand-new repo). Throws RepoWriteError with a code and message.
 */
export function prepareCommit(store: BlockReader, head: RepoHead | null, did: string, writes: WriteOp[], rev: string): PreparedCommit {
  if (typeof did !== 'string' || !isValidDid(did)) throw new RepoWriteError('InvalidDid', `invalid DID ${JSON.stringify(did)}`);
  if (!Array.isArray(writes)) throw new RepoWriteError('InvalidWrite', 'writes must be an array');
  if (writes.length > MAX_OPS_PER_COMMIT) {
    throw new RepoWriteError('TooManyOps', `too many operations in one commit: ${writes.length} (max ${MAX_OPS_PER_COMMIT})`);
  }
  if (typeof rev !== 'string' || !isValidTid(rev)) throw new RepoWriteError('InvalidRev', `rev must be a TID, got ${JSON.stringify(rev)}`);
  if (head && !(rev > head.rev)) throw new RepoWriteError('InvalidRev', `rev ${rev} must be greater than the current rev ${head.rev}`);

  const paths = new Set<string>();
  const prepared = writes.map((w, i) => {
    const path = checkWriteShape(w, i);
    if (paths.has(path)) throw new RepoWriteError('DuplicatePath', `more than one write to ${path} in one commit`);
    paths.add(path);
    return { w, path, block: w.action === 'delete' ? null : encodeRecord(w, path) };
  });

  const mst = head ? Mst.load(store, head.data) : Mst.create(store);
  const newBlocks = new BlockMap();
  const removedRecords = new Map<string, CID>();
  const ops: CommitOp[] = [];
  for (const { w, path, block } of prepared) {
    try {
      if (w.action === 'create') {
        mst.add(path, block!.cid);
        ops.push({ action: 'create', path, cid: block!.cid });
      } else if (w.action === 'update') {
        const prev = mst.update(path, block!.cid);
        ops.push({ action: 'update', path, cid: block!.cid, prev });
        if (!prev.equals(block!.cid)) removedRecords.set(cidToString(prev), prev);
      } else {
        const prev = mst.delete(path);
        ops.push({ action: 'delete', path, cid: null, prev });
        removedRecords.set(cidToString(prev), prev);
      }
    } catch (err) {
      if (err instanceof MstError && (err.code === 'RecordExists' || err.code === 'RecordNotFound')) {
        throw new RepoWriteError(err.code, err.message);
      }
      throw err;
    }
    if (block) newBlocks.set(block.cid, block.bytes);
  }
  const data = mst.finalize();
  newBlocks.addAll(mst.newBlocks);
  for (const [, cid] of [...removedRecords]) if (newBlocks.has(cid)) removedRecords.delete(cidToString(cid));

  // Sync v1.1: besides the new blocks, a consumer holding only this diff must be able to
  // invert every op on the new tree and arrive at prevData.
  const eventBlocks = new BlockMap();
  eventBlocks.addAll(newBlocks);
  for (const op of ops) mst.coveringProof(op.path, eventBlocks);

  const unsignedCommit: UnsignedCommit = { did, version: 3, data, rev, prev: null };
  const unsignedBytes = unsignedCommitBytes(unsignedCommit);
  // The signed commit's size does not depend on the signature value (always 64 bytes).
  const signedSize = encodeCbor({ ...unsignedCommit, sig: new Uint8Array(64) }).length;
  // (`data` stands in for the commit CID in the header: same length.)
  let diffBytes = carHeaderBytes([data]).length + varintLength(COMMIT_CID_BYTES + signedSize) + COMMIT_CID_BYTES + signedSize;
  for (const [cid, bytes] of eventBlocks) diffBytes += carBlockLength(cid, bytes);
  if (diffBytes > MAX_DIFF_BYTES) {
    throw new RepoWriteError('DiffTooLarge', `commit diff would be ${diffBytes} bytes (max ${MAX_DIFF_BYTES})`);
  }

  const removedNodeCids = mst.removedCids().filter((c) => !newBlocks.has(c));
  const removedRecordCids = [...removedRecords.values()];
  return {
    did,
    rev,
    since: head ? head.rev : null,
    prevData: head ? head.data : null,
    data,
    unsignedCommit,
    unsignedCommitBytes: unsignedBytes,
    digest: commitDigest(unsignedCommit),
    ops,
    newBlocks,
    removedCids: [...removedNodeCids, ...removedRecordCids],
    removedNodeCids,
    removedRecordCids,
    eventBlocks,
    diffBytes,
  };
}

/** Seal a prepared commit with a 64-byte r||s signature (normalized to low-S). */
export function finishCommit(prepared: PreparedCommit, sig: Uint8Array): CommitResult {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) {
    throw new RepoWriteError('InvalidSignature', `signature must be 64 bytes (r||s), got ${sig?.length}`);
  }
  let lowS: Uint8Array;
  try {
    lowS = normalizeLowS(sig);
  } catch (err) {
    throw new RepoWriteError('InvalidSignature', (err as Error).message);
  }
  const commit = signedCommitBlock(prepared.unsignedCommit, lowS);
  const newBlocks = new BlockMap();
  newBlocks.set(commit.cid, commit.bytes);
  newBlocks.addAll(prepared.newBlocks);
  const eventBlocks = new BlockMap();
  eventBlocks.set(commit.cid, commit.bytes);
  eventBlocks.addAll(prepared.eventBlocks);
  return {
    did: prepared.did,
    rev: prepared.rev,
    since: prepared.since,
    prevData: prepared.prevData,
    data: prepared.data,
    commitCid: commit.cid,
    commitBytes: commit.bytes,
    head: { commitCid: commit.cid, data: prepared.data, rev: prepared.rev },
    ops: prepared.ops,
    newBlocks,
    removedCids: prepared.removedCids,
    removedNodeCids: prepared.removedNodeCids,
    removedRecordCids: prepared.removedRecordCids,
    eventBlocks,
  };
}
