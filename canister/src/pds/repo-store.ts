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

export class RepoStore {
  constructor(
    private kv: KvStore,
    readonly blocks: BlockStore,
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
      this.blocks.put(cid, bytes, args.head.rev);
    }
    for (const cid of releasedRecords) this.releaseRecord(cid, fresh);
    for (const cid of args.removedNodeCids) if (!fresh.has(cidToString(cid))) this.blocks.delete(cid);
    if (prevHead && !prevHead.commitCid.equals(args.head.commitCid)) this.blocks.delete(prevHead.commitCid);
    this.kv.set('head', encodeCbor({ commit: args.head.commitCid, data: args.head.data, rev: args.head.rev }));
  }

  private bumpCollection(collection: string, delta: number) {
    const n = readCount(this.kv.get(colKey(collection))) + delta;
    if (n <= 0) this.kv.delete(colKey(collection));
    else this.kv.set(colKey(collection), count(n));
  }

  private retainRecord(cid: CID) {
    this.kv.set(refKey(cid), count(readCount(this.kv.get(refKey(cid))) + 1));
  }

  private releaseRecord(cid: CID, fresh: Set<string>) {
    const n = readCount(this.kv.get(refKey(cid))) - 1;
    if (n > 0) {
      this.kv.set(refKey(cid), count(n));
      return;
    }
    this.kv.delete(refKey(cid));
    if (!fresh.has(cidToString(cid))) this.blocks.delete(cid);
  }
}
