// Group commit: while one commit waits for its (slow, costly) threshold signature, further
// writes queue and go together into the next commit, at most 200 ops each, in arrival order.
// A write that cannot apply is rejected on its own and never touches the repo.
//
// On the IC a reply can only come from the caller's own call context, so a queued caller waits
// by yielding (a cheap inter-canister call) until its write is settled, and whoever finds no
// commit in flight leads the next batch.
import { CID, encodeBlock } from '../atproto/cbor.ts';
import type { Signer } from '../atproto/crypto.ts';
import {
  commitEventBody, eventFrame, finishCommit, MAX_OPS_PER_COMMIT, prepareCommit, type CommitResult, type PreparedCommit, type WriteOp,
} from '../repo/index.ts';
import type { EventLog } from './event-log.ts';
import type { AppliedOp, RepoHead, RepoStore } from './repo-store.ts';

/**
 * A commit that has been "in flight" this long is presumed lost (its callback trapped). Governance's
 * execution lease is derived from it (a little longer), so both agree on when a run is over.
 */
export const WRITE_STALL_NS = 15n * 60n * 1_000_000_000n;

/** A write with its rkey resolved (creates without one get a TID). */
export interface RepoWrite {
  action: WriteOp['action'];
  collection: string;
  rkey: string;
  record?: unknown;
  /** Expected current CID (null: must not exist); undefined: no check. */
  swapRecord?: CID | null;
}

/** A record a commit wrote (cid null: deleted). */
export interface CommittedRecord {
  uri: string;
  cid: CID | null;
}

export interface CommitOutcome {
  rev: string;
  commitCid: CID;
  seq: bigint;
  results: CommittedRecord[];
}

export class WriteRejected extends Error {
  override name = 'WriteRejected';
}

/** One request is one commit: at most MAX_OPS_PER_COMMIT writes. */
export function checkBatchSize(writes: number): void {
  if (writes > MAX_OPS_PER_COMMIT) throw new WriteRejected(`too many writes: ${writes} > ${MAX_OPS_PER_COMMIT}`);
}

export interface WriterDeps {
  repo: RepoStore;
  events: EventLog;
  signer: Signer;
  did(): string;
  nowNs(): bigint;
  /** Next repo rev (a persisted TidClock). */
  nextRev(nowNs: bigint): string;
  /** Lets other messages run; resolves later (canister: an inter-canister call; Node: setImmediate). */
  yieldTurn(): Promise<void>;
  /** Content checks that do not depend on repo state (syntax, lexicon, blob presence). Throws WriteRejected. */
  checkWrite?(write: RepoWrite): void;
  /** Called in the same message that persists the commit (blob references, audit). */
  onCommitted?(ops: AppliedOp[], writes: RepoWrite[], outcome: CommitOutcome): void;
}

type Pending = {
  writes: RepoWrite[];
  /** Throws if the request is no longer allowed (its caller lost the right while it waited). */
  recheck?: () => void;
  state: 'queued' | 'inflight' | 'done' | 'failed';
  outcome?: CommitOutcome;
  error?: Error;
};

const pathOf = (w: { collection: string; rkey: string }) => `${w.collection}/${w.rkey}`;

export class GroupCommitWriter {
  private queue: Pending[] = [];
  private inflight: Pending[] = [];
  private inflightSince: bigint | null = null;
  /** Figures for benchmarks and tests: how many commits and how many writes went into them. */
  readonly stats = { commits: 0, requests: 0, largestBatch: 0 };

  constructor(private deps: WriterDeps) {}

  /** True while a commit waits for its signature (new writes will queue). */
  busy(): boolean {
    return this.inflightSince !== null && this.deps.nowNs() - this.inflightSince < WRITE_STALL_NS;
  }

  queued(): number {
    return this.queue.length;
  }

  /**
   * Submits one request (up to 200 writes, applied atomically in one commit). Resolves once the
   * commit containing it is persisted; rejects with WriteRejected (no state change) otherwise.
   */
  async submit(writes: RepoWrite[], recheck?: () => void): Promise<CommitOutcome> {
    if (writes.length === 0) throw new WriteRejected('no writes');
    checkBatchSize(writes.length);
    const seen = new Set<string>();
    for (const w of writes) {
      if (seen.has(pathOf(w))) throw new WriteRejected(`duplicate write to ${pathOf(w)}`);
      seen.add(pathOf(w));
      this.deps.checkWrite?.(w);
    }
    // Check against the state the queue will have produced by the time this write commits.
    this.checkAgainst(writes, this.projectedExists([...this.inflight, ...this.queue]));
    const req: Pending = { writes, state: 'queued', recheck };
    this.queue.push(req);
    this.stats.requests++;
    while (req.state === 'queued' || req.state === 'inflight') {
      // Not busy: lead the next batch (this also fails a batch presumed lost, which may be ours).
      if (!this.busy()) await this.commitNextBatch();
      else await this.deps.yieldTurn();
    }
    if (req.state === 'failed') throw req.error!;
    return req.outcome!;
  }

  /** Whether queued/in-flight writes will leave `path` existing (true), deleted (false), or do not touch it. */
  pendingExists(path: string): boolean | undefined {
    const v = this.projectedExists([...this.inflight, ...this.queue]).get(path);
    return v === undefined ? undefined : v !== null;
  }

  private projectedExists(pending: Pending[]): Map<string, CID | null> {
    const overlay = new Map<string, CID | null>();
    for (const p of pending) {
      for (const w of p.writes) overlay.set(pathOf(w), w.action === 'delete' ? null : PENDING_CID);
    }
    return overlay;
  }

  /** Throws WriteRejected if a write does not fit the current state plus `overlay`; extends overlay. */
  private checkAgainst(writes: RepoWrite[], overlay: Map<string, CID | null>) {
    for (const w of writes) {
      const path = pathOf(w);
      const current = overlay.has(path) ? overlay.get(path)! : (this.deps.repo.recordCid(w.collection, w.rkey) ?? null);
      if (w.action === 'create' && current) throw new WriteRejected(`record already exists: ${path}`);
      if ((w.action === 'update' || w.action === 'delete') && !current) throw new WriteRejected(`record not found: ${path}`);
      if (w.swapRecord !== undefined) {
        const ok = w.swapRecord === null ? !current : current !== null && current !== PENDING_CID && current.equals(w.swapRecord);
        if (!ok) throw new WriteRejected(`swapRecord mismatch at ${path}`);
      }
    }
    for (const w of writes) overlay.set(pathOf(w), w.action === 'delete' ? null : PENDING_CID);
  }

  private async commitNextBatch(): Promise<void> {
    // A batch still marked in flight here was presumed lost (its commit message trapped): its
    // callers would wait forever, so settle them as failed (the repo was never touched).
    for (const p of this.inflight) if (p.state === 'inflight') settleFailed(p, new WriteRejected('commit was lost (signature callback failed); retry'));
    this.inflight = [];
    const batch: Pending[] = [];
    let ops = 0;
    while (this.queue.length > 0 && ops + this.queue[0].writes.length <= MAX_OPS_PER_COMMIT) {
      const next = this.queue.shift()!;
      ops += next.writes.length;
      batch.push(next);
    }
    // Re-check in order: an earlier failure can invalidate a later write that depended on it.
    const overlay = new Map<string, CID | null>();
    const live: Pending[] = [];
    for (const p of batch) {
      try {
        p.recheck?.();
        this.checkAgainst(p.writes, overlay);
        live.push(p);
      } catch (err) {
        settleFailed(p, err);
      }
    }
    if (live.length === 0) return;
    for (const p of live) p.state = 'inflight';
    const startedAt = this.deps.nowNs();
    this.inflightSince = startedAt;
    this.inflight = live;
    try {
      await this.commitBatch(live);
    } finally {
      if (this.inflightSince === startedAt) {
        this.inflightSince = null;
        this.inflight = [];
      }
    }
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    const { repo } = this.deps;
    const did = this.deps.did();
    const base = repo.head();
    const writes = batch.flatMap((p) => p.writes);
    const rev = this.deps.nextRev(this.deps.nowNs());
    let prepared: PreparedCommit;
    try {
      prepared = prepareCommit(repo.blocks, base, did, writes.map(toWriteOp), rev);
    } catch (err) {
      if (batch.length > 1) {
        // Isolate the offender: put all back and commit the first request alone.
        for (const p of batch.slice(1).reverse()) {
          p.state = 'queued';
          this.queue.unshift(p);
        }
        return this.commitBatch([batch[0]]);
      }
      settleFailed(batch[0], err);
      return;
    }
    let sig: Uint8Array;
    try {
      sig = await this.deps.signer.sign(prepared.digest);
    } catch (err) {
      for (const p of batch) settleFailed(p, new WriteRejected(`signing failed: ${messageOf(err)}`));
      return;
    }
    // Nobody else commits while we are in flight, unless we were presumed lost.
    const now = repo.head();
    if ((now?.rev ?? null) !== (base?.rev ?? null)) {
      for (const p of batch) settleFailed(p, new WriteRejected('repo changed while signing; retry'));
      return;
    }
    // Authorization again, now that the signature is back: a request whose caller lost the right
    // while it waited fails, and the others go back to the front of the queue for the next commit.
    const revoked = batch.filter((p) => {
      try {
        p.recheck?.();
        return false;
      } catch (err) {
        settleFailed(p, err);
        return true;
      }
    });
    if (revoked.length > 0) {
      for (const p of batch.filter((q) => !revoked.includes(q)).reverse()) {
        p.state = 'queued';
        this.queue.unshift(p);
      }
      return;
    }
    let result: CommitResult;
    try {
      result = finishCommit(prepared, sig);
    } catch (err) {
      for (const p of batch) settleFailed(p, err);
      return;
    }
    const applied: AppliedOp[] = result.ops.map((op) => {
      const slash = op.path.indexOf('/');
      return {
        action: op.action,
        collection: op.path.slice(0, slash),
        rkey: op.path.slice(slash + 1),
        cid: op.cid ?? null,
        prev: op.prev ?? null,
      };
    });
    const head: RepoHead = result.head;
    repo.applyCommit({ head, newBlocks: result.newBlocks, removedNodeCids: result.removedNodeCids, ops: applied });
    const nowNs = this.deps.nowNs();
    const seq = this.deps.events.append(nowNs, (s, time) =>
      eventFrame('#commit', commitEventBody(result, { seq: Number(s), time, did })),
    );
    this.stats.commits++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    const byPath = new Map(applied.map((op) => [pathOf(op), op]));
    for (const p of batch) {
      const results = p.writes.map((w) => ({
        uri: `at://${did}/${w.collection}/${w.rkey}`,
        cid: byPath.get(pathOf(w))?.cid ?? null,
      }));
      p.outcome = { rev: head.rev, commitCid: head.commitCid, seq, results };
      p.state = 'done';
    }
    this.deps.onCommitted?.(applied, writes, batch[0].outcome!);
  }
}

/** Marks a path that a queued write will create or update (its CID is not known yet); compared by identity. */
const PENDING_CID = encodeBlock({ 'canopy/pending-write': true }).cid;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function settleFailed(p: Pending, err: unknown) {
  p.state = 'failed';
  p.error = err instanceof WriteRejected ? err : new WriteRejected(messageOf(err));
}

function toWriteOp(w: RepoWrite) {
  return { action: w.action, collection: w.collection, rkey: w.rkey, record: w.record };
}
