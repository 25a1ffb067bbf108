// The persisted repo: head, blocks (via BlockStore), and the record index by collection/rkey.
// Applying a commit touches only the commit's new/removed blocks and the written paths, so its
// cost is O(ops · log n) regardless of repo size.
import { CID, cidFromBytes, cidToString, decodeCbor, encodeCbor } from '../atproto/cbor.ts';
import type { KvStore } from '../storage/kv.ts';
import type { BlockStore } from '../storage/block-store.ts';

export type RepoHead = { commitCid: CID; data: CID; rev: string };

export interface IndexedRecord {
  rkey: string;
  cid: CID;
  bytes: Uint8Array;
}

/** One applied operation, as the index needs it. */
export type AppliedOp = { action: 'create' | 'update' | 'delete'; collection: string; rkey: string; cid: CID | null; prev: CID | null };

const recKey = (collection: string, rkey: string) => `rec/${collection}/${rkey}`;
const colKey = (collection: string) => `col/${collection}`;
const refKey = (cid: CID) => `rc/${cidToString(cid)}`;

function readCount(v: Uint8Array | undefined): number {
  return v ? new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(0) : 0;
}
function count(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/**
 * Blocks a commit drops (the superseded commit, MST nodes no longer in the tree, records no longer
 * referenced) stay readable this long before housekeeping deletes them.
 *
 * Why: sync.getRepo streams a commit's CAR over many streaming callbacks, each a separate query; commits
 * land between them. Deleting dropped blocks at once tore such downloads (a 200 with a short CAR). Queries
 * cannot pin anything (they cannot write state), so the guarantee is by time: a download that completes
 * within the grace period always yields the complete CAR of the commit it started from.
 *
 * Dropped blocks wait in a queue ordered by (due time, order within the commit), and the superseded commit
 * block always comes first in its commit's batch. Every block of a commit is therefore deleted no earlier
 * than the commit block itself, so "the commit block is still stored" implies "all its blocks are": the
 * streaming callback checks exactly that and, for a token that outlived the grace period, refuses with a
 * reason instead of serving a chunk with holes. A block a later commit brings back (same content) leaves
 * the queue again and is re-stamped with that commit's rev.
 */
export const DROPPED_BLOCK_GRACE_NS = 3600n * 1_000_000_000n;
/** Due dropped blocks each commit deletes on its way (bounded), so steady writes never let the queue grow. */
const DROPPED_COLLECT_PER_COMMIT = 32;

const dropQueueKey = (dueNs: bigint, order: number, cid: string) => `dq/${dueNs.toString().padStart(20, '0')}/${order.toString().padStart(6, '0')}/${cid}`;
const dropPendingKey = (cid: string) => `dp/${cid}`;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export class RepoStore {
  constructor(
    private kv: KvStore,
    readonly blocks: BlockStore,
    private nowNs: () => bigint,
  ) {}

  head(): RepoHead | null {
    const v = this.kv.get('head');
    if (!v) return null;
    const h = decodeCbor<{ commit: CID; data: CID; rev: string }>(v);
    return { commitCid: h.commit, data: h.data, rev: h.rev };
  }

  recordCid(collection: string, rkey: string): CID | undefined {
    const v = this.kv.get(recKey(collection, rkey));
    return v ? cidFromBytes(v) : undefined;
  }

  getRecord(collection: string, rkey: string): { cid: CID; bytes: Uint8Array } | undefined {
    const cid = this.recordCid(collection, rkey);
    if (!cid) return undefined;
    const bytes = this.blocks.get(cid);
    return bytes ? { cid, bytes } : undefined;
  }

  /**
   * Records of one collection in rkey order. Follows XRPC listRecords: by default newest first
   * (descending rkey), `reverse: true` for ascending; `cursor` is the last rkey already returned.
   */
  listRecords(collection: string, opts: { limit: number; cursor?: string; reverse: boolean }): IndexedRecord[] {
    const prefix = recKey(collection, '');
    const rows = this.kv.range({
      prefix,
      after: opts.cursor === undefined ? undefined : prefix + opts.cursor,
      reverse: !opts.reverse,
      limit: opts.limit,
    });
    const out: IndexedRecord[] = [];
    for (const [key, value] of rows) {
      const cid = cidFromBytes(value);
      const bytes = this.blocks.get(cid);
      if (bytes) out.push({ rkey: key.slice(prefix.length), cid, bytes });
    }
    return out;
  }

  collections(): string[] {
    const out: string[] = [];
    let after: string | undefined;
    for (;;) {
      const rows = this.kv.range({ prefix: 'col/', after, limit: 100 });
      for (const [k] of rows) out.push(k.slice(4));
      if (rows.length < 100) return out;
      after = rows[rows.length - 1][0];
    }
  }

  recordCount(): number {
    return readCount(this.kv.get('count'));
  }

  /**
   * Persists a finished commit: new blocks (stamped with `rev`), removed MST nodes, the record
   * index and the per-collection counts. Record blocks are reference-counted because identical
   * records share one CID.
   */
  applyCommit(args: {
    head: RepoHead;
    /** Everything the commit adds (commit block, records, MST nodes). */
    newBlocks: Iterable<[CID, Uint8Array]>;
    /** MST nodes no longer reachable from the new root. */
    removedNodeCids: CID[];
    ops: AppliedOp[];
  }): void {
    const prevHead = this.head();
    const releasedRecords: CID[] = [];
    let total = this.recordCount();
    for (const op of args.ops) {
      const key = recKey(op.collection, op.rkey);
      if (op.action === 'delete') {
        this.kv.delete(key);
        total--;
        this.bumpCollection(op.collection, -1);
      } else {
        this.kv.set(key, op.cid!.bytes);
        this.retainRecord(op.cid!);
        if (op.action === 'create') {
          total++;
          this.bumpCollection(op.collection, +1);
        }
      }
      if (op.prev) releasedRecords.push(op.prev);
    }
    this.kv.set('count', count(total));
    const fresh = new Set<string>();
    for (const [cid, bytes] of args.newBlocks) {
      fresh.add(cidToString(cid));
      this.revive(cid, bytes, args.head.rev);
    }
    const now = this.nowNs();
    this.collectDropped(now, DROPPED_COLLECT_PER_COMMIT);
    const drop = this.dropper(now + DROPPED_BLOCK_GRACE_NS);
    // The superseded commit first: see DROPPED_BLOCK_GRACE_NS.
    if (prevHead && !prevHead.commitCid.equals(args.head.commitCid)) drop(prevHead.commitCid);
    for (const cid of releasedRecords) if (this.releaseRecord(cid) && !fresh.has(cidToString(cid))) drop(cid);
    for (const cid of args.removedNodeCids) if (!fresh.has(cidToString(cid))) drop(cid);
    this.kv.set('head', encodeCbor({ commit: args.head.commitCid, data: args.head.data, rev: args.head.rev }));
  }

  /** Queues blocks for deletion at `dueNs`, in call order. */
  private dropper(dueNs: bigint): (cid: CID) => void {
    let order = 0;
    return (cid) => {
      const key = cidToString(cid);
      if (this.kv.get(dropPendingKey(key))) return;
      const queued = dropQueueKey(dueNs, order++, key);
      this.kv.set(queued, cid.bytes);
      this.kv.set(dropPendingKey(key), textEncoder.encode(queued));
    };
  }

  /** Stores a commit's block; one waiting for deletion stays, now with this commit's rev (getRepo `since`). */
  private revive(cid: CID, bytes: Uint8Array, rev: string): void {
    const pending = this.kv.get(dropPendingKey(cidToString(cid)));
    if (pending) {
      this.kv.delete(textDecoder.decode(pending));
      this.kv.delete(dropPendingKey(cidToString(cid)));
      this.blocks.delete(cid);
    }
    this.blocks.put(cid, bytes, rev);
  }

  /** Deletes dropped blocks whose grace period is over, oldest first, at most `max`; returns how many. */
  collectDropped(nowNs: bigint, max: number): number {
    let done = 0;
    for (const [key, value] of this.kv.range({ prefix: 'dq/', limit: max })) {
      if (BigInt(key.slice(3, 23)) > nowNs) break;
      const cid = cidFromBytes(value);
      this.blocks.delete(cid);
      this.kv.delete(key);
      this.kv.delete(dropPendingKey(cidToString(cid)));
      done++;
    }
    return done;
  }

  /** Blocks waiting for deletion (dropped by a commit less than the grace period ago, or not yet collected). */
  droppedPending(): number {
    return this.kv.range({ prefix: 'dq/', limit: 1e9 }).length;
  }

  private bumpCollection(collection: string, delta: number) {
    const n = readCount(this.kv.get(colKey(collection))) + delta;
    if (n <= 0) this.kv.delete(colKey(collection));
    else this.kv.set(colKey(collection), count(n));
  }

  private retainRecord(cid: CID) {
    this.kv.set(refKey(cid), count(readCount(this.kv.get(refKey(cid))) + 1));
  }

  /** Drops one reference; true when it was the last one (the block is no longer part of the repo). */
  private releaseRecord(cid: CID): boolean {
    const n = readCount(this.kv.get(refKey(cid))) - 1;
    if (n > 0) {
      this.kv.set(refKey(cid), count(n));
      return false;
    }
    this.kv.delete(refKey(cid));
    return true;
  }
}
