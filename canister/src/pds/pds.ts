// The PDS as one object over injected storage, signers and clock: what the canister's Candid
// methods and timers call. Pure (no azle import): the same code runs in plain Node tests with
// MemoryKv/MemoryBlockStore/LocalSigner, and in the canister with stable structures and threshold ECDSA.
import { CID } from '../atproto/cbor.ts';
import type { Signer } from '../atproto/crypto.ts';
import { jsonToData } from '../atproto/data-model.ts';
import { validateRecord } from '../atproto/lexicon/index.ts';
import { TidClock, type TidClockState } from '../atproto/syntax/index.ts';
import { decodeCbor, encodeCbor } from '../atproto/cbor.ts';
import {
  accountEventBody, collectionProblem, commitEventBody, eventFrame, identityEventBody, prepareCommit, finishCommit, recordWithType, rkeyProblem, syncEventBody,
} from '../repo/index.ts';
import { isValidAccountHandle } from '../atproto/syntax/handle.ts';
import { scopedKv, type KvStore } from '../storage/kv.ts';
import { BlobStore } from './blobs.ts';
import type { BlockStore } from '../storage/block-store.ts';
import { ConfigStore, makeConfig, type PdsConfig } from './config.ts';
import { EventLog } from './event-log.ts';
import { Identity, IdentityError, type DidMethodConfig, type IdentityState } from './identity.ts';
import type { PlcEntry } from './plc-log.ts';
import { checkRotationKeys, type PlcContent } from './plc-operation.ts';
import { RepoStore } from './repo-store.ts';
import { GroupCommitWriter, WriteRejected, type CommitOutcome, type RepoWrite } from './writer.ts';

export interface PdsStorage {
  /** Ordered store (range) for small state: config, identity, record index, blob metadata, governance. */
  kv: KvStore;
  blocks: BlockStore;
  /** Point-lookup store for event frames. */
  events: KvStore;
  /** Point-lookup store for blob bytes. */
  blobData: KvStore;
}

export interface PdsEnv {
  signing: Signer;
  rotation: Signer;
  nowNs(): bigint;
  yieldTurn(): Promise<void>;
}

export interface PdsInit {
  config: Partial<PdsConfig> & { ecdsaKeyName: string };
  didMethod: DidMethodConfig;
  handle: string;
  pdsUrl: string;
}

export type WriteInput =
  | { action: 'create'; collection: string; rkey?: string; record: unknown; swapCommit?: string }
  | { action: 'put'; collection: string; rkey: string; record: unknown; swapRecord?: CID | null }
  | { action: 'delete'; collection: string; rkey: string; swapRecord?: CID };

export interface StatusView {
  did: string;
  handle: string;
  pdsUrl: string;
  plcUrl: string | null;
  headSeq: bigint;
  rev: string | null;
  active: boolean;
  signingKey: string;
}

export class PdsError extends Error {
  override name = 'PdsError';
}

export class Pds {
  readonly config: ConfigStore;
  readonly repo: RepoStore;
  readonly events: EventLog;
  readonly identity: Identity;
  readonly blobs: BlobStore;
  readonly writer: GroupCommitWriter;
  private kv: KvStore;

  constructor(
    readonly storage: PdsStorage,
    readonly env: PdsEnv,
  ) {
    this.kv = storage.kv;
    this.config = new ConfigStore(scopedKv(storage.kv, 'cfg'));
    this.repo = new RepoStore(scopedKv(storage.kv, 'repo'), storage.blocks, env.nowNs);
    this.events = new EventLog(storage.events, () => this.config.get().retention);
    this.identity = new Identity(scopedKv(storage.kv, 'id'));
    this.blobs = new BlobStore(scopedKv(storage.kv, 'blob'), storage.blobData, () => this.config.get().blobs);
    this.writer = new GroupCommitWriter({
      repo: this.repo,
      events: this.events,
      signer: env.signing,
      did: () => this.identity.require().did,
      nowNs: env.nowNs,
      nextRev: (ns) => this.nextTid(ns),
      yieldTurn: env.yieldTurn,
      checkWrite: (w) => this.checkWrite(w),
      onCommitted: (ops, writes, outcome) => {
        const byPath = new Map(writes.map((w) => [`${w.collection}/${w.rkey}`, w]));
        const now = env.nowNs();
        for (const op of ops) {
          const w = byPath.get(`${op.collection}/${op.rkey}`);
          this.blobs.setRecordRefs(`${op.collection}/${op.rkey}`, op.action === 'delete' ? undefined : w?.record, outcome.rev, now);
        }
      },
    });
  }

  /** Canister init: persists configuration; the identity is established by bootstrap(). */
  init(args: PdsInit): void {
    if (!isValidAccountHandle(args.handle)) throw new PdsError(`invalid handle: ${args.handle}`);
    if (!/^https?:\/\/[^/\s]+$/.test(args.pdsUrl.replace(/\/$/, ''))) throw new PdsError(`invalid PDS URL: ${args.pdsUrl}`);
    if ('plc' in args.didMethod && !/^https?:\/\/[^\s]+$/.test(args.didMethod.plc.plcUrl)) {
      throw new PdsError(`invalid PLC directory URL: ${args.didMethod.plc.plcUrl}`);
    }
    this.config.set(makeConfig(args.config));
    this.identity.configure({ didMethod: args.didMethod, handle: args.handle.toLowerCase(), pdsUrl: args.pdsUrl.replace(/\/$/, '') });
  }

  private nextTid(nowNs: bigint): string {
    const v = this.kv.get('tidclock');
    const clock = new TidClock(v ? decodeCbor<TidClockState>(v) : { lastMicros: 0, clockId: 0 });
    const head = this.repo.head();
    if (head) clock.observe(head.rev);
    const tid = clock.next(nowNs / 1000n);
    this.kv.set('tidclock', encodeCbor(clock.state()));
    return tid;
  }

  /** True once keys, DID and the genesis commit exist. */
  ready(): boolean {
    return this.identity.state() !== null && this.repo.head() !== null;
  }

  /**
   * Fetches keys, establishes the DID and creates the empty genesis commit (async: signatures).
   * Emits #identity and #account, then #commit and #sync for the genesis commit. Idempotent.
   */
  async bootstrap(): Promise<IdentityState> {
    let s = this.identity.state();
    if (!s) {
      const created = await this.identity.bootstrap(this.env.signing, this.env.rotation, this.env.nowNs());
      s = this.identity.require();
      if (created) {
        const now = this.env.nowNs();
        this.emitIdentity(s);
        this.events.append(now, (seq, time) => eventFrame('#account', accountEventBody({ seq: Number(seq), did: s!.did, time, active: true })));
      }
    }
    if (!this.repo.head()) {
      const rev = this.nextTid(this.env.nowNs());
      const prepared = prepareCommit(this.repo.blocks, null, s.did, [], rev);
      const sig = await this.env.signing.sign(prepared.digest);
      if (this.repo.head()) return s; // someone else finished first
      const result = finishCommit(prepared, sig);
      this.repo.applyCommit({ head: result.head, newBlocks: result.newBlocks, removedNodeCids: [], ops: [] });
      // The reference sequences account creation as #identity, #account, #commit (the empty genesis), #sync.
      this.events.append(this.env.nowNs(), (seq, time) => eventFrame('#commit', commitEventBody(result, { seq: Number(seq), time, did: s!.did })));
      this.events.append(this.env.nowNs(), (seq, time) =>
        eventFrame('#sync', syncEventBody({ commitCid: result.commitCid, commitBytes: result.commitBytes, rev: result.rev }, { seq: Number(seq), time, did: s!.did })),
      );
    }
    return s;
  }

  status(): StatusView {
    const s = this.identity.state();
    return {
      did: s?.did ?? '',
      handle: s?.handle ?? '',
      pdsUrl: s?.pdsUrl ?? '',
      plcUrl: s?.plcUrl ?? null,
      headSeq: this.events.head(),
      rev: this.repo.head()?.rev ?? null,
      active: s?.active ?? false,
      signingKey: s?.signingKey ?? '',
    };
  }

  // ---------- writes ----------

  private checkWrite(w: RepoWrite): void {
    if (w.action === 'delete') return; // its path was checked by resolveWrites
    try {
      validateRecord(w.collection, w.record, w.rkey); // includes validateDataModel (one pass over the record)
      this.blobs.checkRefs(w.record);
    } catch (err) {
      throw new WriteRejected(`invalid record for ${w.collection}/${w.rkey}: ${(err as Error).message}`);
    }
  }

  /** Turns caller inputs into repo writes: TIDs for creates without rkey, put → create or update, $type set. */
  resolveWrites(inputs: WriteInput[]): RepoWrite[] {
    if (!this.identity.state()?.active) throw new WriteRejected('account is not active');
    if (!this.ready()) throw new WriteRejected('repository is not initialised yet');
    return inputs.map((input) => {
      const pathProblem = collectionProblem(input.collection) ?? (input.rkey === undefined ? null : rkeyProblem(input.rkey));
      if (pathProblem) throw new WriteRejected(pathProblem);
      if (input.action === 'delete') {
        return { action: 'delete', collection: input.collection, rkey: input.rkey, swapRecord: input.swapRecord };
      }
      const record = recordWithType(input.record, input.collection, reject);
      if (input.action === 'create') {
        const rkey = input.rkey ?? this.nextTid(this.env.nowNs());
        return { action: 'create', collection: input.collection, rkey, record };
      }
      const exists = this.pathWillExist(input.collection, input.rkey);
      return { action: exists ? 'update' : 'create', collection: input.collection, rkey: input.rkey, record, swapRecord: input.swapRecord };
    });
  }

  private pathWillExist(collection: string, rkey: string): boolean {
    // Queued writes count: a put right after a create of the same path is an update.
    return this.repo.recordCid(collection, rkey) !== undefined || this.writer.pendingExists(`${collection}/${rkey}`) === true;
  }

  /** `recheck` throws if the writes are no longer allowed; the writer calls it again before committing. */
  async write(inputs: WriteInput[], recheck?: () => void): Promise<CommitOutcome> {
    return this.writer.submit(this.resolveWrites(inputs), recheck);
  }

  /** Whether a record exists at collection/rkey, counting writes queued for the next commits. */
  recordExists(collection: string, rkey: string): boolean {
    return this.pathWillExist(collection, rkey);
  }

  /** Parses atproto JSON text (Candid `record_json`) into the data model. */
  static parseRecordJson(text: string): unknown {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new WriteRejected(`record_json is not valid JSON: ${(err as Error).message}`);
    }
    try {
      return jsonToData(json);
    } catch (err) {
      throw new WriteRejected(`record_json is not valid atproto JSON: ${(err as Error).message}`);
    }
  }

  // ---------- identity & account ----------

  /**
   * Changes the handle. did:web: at once, with #identity. did:plc: signs and queues the PLC operation;
   * the handle changes (and #identity is emitted) when the directory accepts it (plcAccepted).
   */
  async setHandle(handle: string): Promise<IdentityState> {
    if (!isValidAccountHandle(handle)) throw new IdentityError(`invalid handle: ${handle}`);
    const h = handle.toLowerCase();
    if (this.identity.require().method === 'plc') {
      await this.queuePlcChange('handle', (c) => ({ ...c, handle: h }));
      return this.identity.require();
    }
    const s = this.identity.setWebHandle(h);
    this.emitIdentity(s);
    return s;
  }

  /** did:plc: the rotation keys become the canister's own key first, then `others` (up to 4). */
  async setRotationKeys(others: string[]): Promise<PlcEntry> {
    const own = this.requirePlc('rotation keys').rotationKey!;
    const keys = checkRotationKeys([own, ...others]);
    return this.queuePlcChange('rotation_keys', (c) => ({ ...c, rotationKeys: keys }));
  }

  /** did:plc: the DID document's #atproto_pds service endpoint. */
  async setPdsEndpoint(url: string): Promise<PlcEntry> {
    this.requirePlc('the PDS endpoint');
    return this.queuePlcChange('pds_endpoint', (c) => ({ ...c, pdsUrl: url.replace(/\/$/, '') }));
  }

  queuePlcChange(reason: string, change: (c: PlcContent) => PlcContent): Promise<PlcEntry> {
    return this.identity.queuePlcChange(reason, change, this.env.rotation, this.env.nowNs());
  }

  private requirePlc(what: string): IdentityState {
    const s = this.identity.require();
    if (s.method !== 'plc') {
      throw new IdentityError(`${what}: a did:web identity has no PLC operations; its document is served at its hostname and follows the domain's owner`);
    }
    return s;
  }

  /** The directory accepted a queued operation: the identity follows it and relays are told (#identity). */
  plcAccepted(entry: PlcEntry): IdentityState {
    const s = this.identity.applyAccepted(entry);
    this.emitIdentity(s);
    // The DID now names another PDS: this one stops accepting writes and tells relays (#account).
    return entry.reason === 'migrate_out' ? this.setActive(false) : s;
  }

  private emitIdentity(s: IdentityState): void {
    this.events.append(this.env.nowNs(), (seq, time) => eventFrame('#identity', identityEventBody({ seq: Number(seq), did: s.did, time, handle: s.handle })));
  }

  setActive(active: boolean): IdentityState {
    const before = this.identity.require();
    if (before.active === active) return before;
    const s = this.identity.setActive(active);
    const now = this.env.nowNs();
    this.events.append(now, (seq, time) =>
      eventFrame('#account', accountEventBody({ seq: Number(seq), did: s.did, time, active, ...(active ? {} : { status: 'deactivated' as const }) })),
    );
    // As the reference: reactivation also asserts the identity and the current commit, so relays that
    // dropped the account's state while it was inactive refresh both.
    const head = active ? this.repo.head() : null;
    const commitBytes = head ? this.repo.blocks.get(head.commitCid) : undefined;
    if (active) this.emitIdentity(s);
    if (head && commitBytes) {
      this.events.append(now, (seq, time) =>
        eventFrame('#sync', syncEventBody({ commitCid: head.commitCid, commitBytes, rev: head.rev }, { seq: Number(seq), time, did: s.did })),
      );
    }
    return s;
  }

  /**
   * Periodic housekeeping (timer): event retention, blob GC and blocks past their drop grace, bounded per call. `isPinned`
   * keeps blobs that pending governance proposals will reference.
   */
  housekeeping(isPinned?: (cid: string) => boolean): { events: number; blobs: number; uploads: number; blocks: number } {
    const now = this.env.nowNs();
    const events = this.events.prune(now, 1000);
    const { blobs, uploads } = this.blobs.collect(now, 500, isPinned);
    const blocks = this.repo.collectDropped(now, 2000);
    return { events, blobs, uploads, blocks };
  }
}

const reject = (reason: string): never => {
  throw new WriteRejected(reason);
};
