// The certified state tree (time, canisters, request statuses, subnet) and certificates over
// witnesses of it, signed by the root key with BLS12-381 (domain separator "ic-state-root").
import { Principal } from '@dfinity/principal';
import { encodeCbor, concat } from './cbor.ts';
import { digest, node, treeDigest, witness, type HashTree, type LabeledTree, utf8 } from './hash-tree.ts';
import { leb128 } from './request-id.ts';
import type { EnginePort } from './engine-port.ts';
import type { ReplicaKeys } from './keys.ts';
import type { RequestStatusStore } from './request-status.ts';

const STATE_ROOT_SEP = concat([Uint8Array.of(13), utf8('ic-state-root')]);

/** Canister ids are 8-byte big-endian indices followed by 0x01 0x01; this subnet owns all of them. */
export const CANISTER_RANGE: [Uint8Array, Uint8Array] = [
  Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, 1),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 1)
];

/** how long one signature may certify an unchanged state (the certified /time is at most this old) */
const SIGNATURE_REUSE_MS = 1000;

type SignedRoot = { key: string; time: bigint; at: number; signature: Uint8Array | Promise<Uint8Array> | null };

export class Certifier {
  constructor(
    private readonly keys: ReplicaKeys,
    private readonly engine: EnginePort,
    private readonly statuses: RequestStatusStore,
    private readonly now: () => bigint
  ) {}

  private statusCache: { version: number; node: LabeledTree } | undefined;

  private statusTree(): LabeledTree {
    if (this.statusCache?.version === this.statuses.version) return this.statusCache.node;
    const statuses: [Uint8Array, LabeledTree][] = [];
    for (const s of this.statuses.all()) {
      const entries: [string, LabeledTree][] = [['status', utf8(s.status)]];
      if (s.status === 'replied') entries.push(['reply', s.reply!]);
      if (s.status === 'rejected') {
        entries.push(['reject_code', leb128(s.rejectCode!)]);
        entries.push(['reject_message', utf8(s.rejectMessage!)]);
        entries.push(['error_code', utf8(s.errorCode!)]);
      }
      statuses.push([s.requestId, node(entries)]);
    }
    this.statusCache = { version: this.statuses.version, node: node(statuses) };
    return this.statusCache.node;
  }

  /** The full labeled state tree now. */
  stateTree(): LabeledTree {
    return this.certifiedState().tree;
  }

  /**
   * The state tree and its certified time. As long as the rest of the tree is unchanged (and for at most
   * SIGNATURE_REUSE_MS), the time stays that of the last signature, so the root digest is the same and
   * certificates of that state share one BLS signature, as on the IC, where a signature certifies a state
   * height and not a request (e.g. all calls answered by one batch, or read_state polls).
   */
  private certifiedState(): { tree: LabeledTree; signed: SignedRoot } {
    const base = this.baseEntries();
    const key = Buffer.from(treeDigest(node(base))).toString('hex');
    const nowMs = Date.now();
    const last = this.lastSigned;
    const reuse = last && last.key === key && nowMs - last.at < SIGNATURE_REUSE_MS && nowMs >= last.at ? last : undefined;
    const time = reuse ? reuse.time : this.now();
    return { tree: node([...base, ['time', leb128(time)]]), signed: reuse ? reuse : { key, time, at: nowMs, signature: null } };
  }

  private baseEntries(): [string, LabeledTree][] {
    const canisters: [Uint8Array, LabeledTree][] = [];
    for (const id of this.engine.canisterIds()) {
      const c = this.engine.canister(id);
      if (!c) continue;
      const entries: [string, LabeledTree][] = [
        ['certified_data', c.certifiedData],
        ['controllers', encodeCbor(c.controllers.map((p) => p.toUint8Array()))]
      ];
      if (c.moduleHash) entries.push(['module_hash', c.moduleHash]);
      canisters.push([id.toUint8Array(), node(entries)]);
    }
    return [
      ['canister', node(canisters)],
      ['request_status', this.statusTree()],
      ['subnet', this.subnetTree()]
    ];
  }

  private subnetCache: LabeledTree | undefined;

  private subnetTree(): LabeledTree {
    this.subnetCache ??= node([
      [
        this.keys.subnetId.toUint8Array(),
        node([
          ['canister_ranges', encodeCbor([[CANISTER_RANGE[0], CANISTER_RANGE[1]]])],
          ['node', node([[this.keys.nodeId.toUint8Array(), node([['public_key', this.keys.nodeKeyDer]])]])],
          ['public_key', this.keys.rootKeyDer]
        ])
      ]
    ]);
    return this.subnetCache;
  }

  /** CBOR certificate revealing `paths` (and always /time), signed on this thread. */
  certificate(paths: Uint8Array[][]): Uint8Array {
    const { tree, signed } = this.certifiedState();
    const w = witness(tree, [[utf8('time')], ...paths]);
    let signature = signed.signature instanceof Uint8Array ? signed.signature : null;
    if (!signature) {
      signature = this.keys.signRoot(concat([STATE_ROOT_SEP, digest(w)]));
      this.remember(signed, signature);
    }
    return encodeCbor({ tree: w as never, signature });
  }

  /** The same, with the signature made on a worker thread (the engine keeps running meanwhile). */
  async certificateAsync(paths: Uint8Array[][]): Promise<Uint8Array> {
    const { tree, signed } = this.certifiedState();
    const w = witness(tree, [[utf8('time')], ...paths]);
    let signature = signed.signature;
    if (!signature) {
      signature = this.keys.signRootAsync(concat([STATE_ROOT_SEP, digest(w)]));
      this.remember(signed, signature);
    }
    return encodeCbor({ tree: w as never, signature: await signature });
  }

  private lastSigned: SignedRoot | undefined;

  private remember(s: SignedRoot, signature: Uint8Array | Promise<Uint8Array>): void {
    const entry: SignedRoot = { ...s, signature };
    this.lastSigned = entry;
    if (signature instanceof Promise) void signature.then((v) => (entry.signature = v));
  }

  sign(tree: HashTree): Uint8Array {
    const signature = this.keys.signRoot(concat([STATE_ROOT_SEP, digest(tree)]));
    return encodeCbor({ tree: tree as never, signature });
  }

  /** The certificate a canister gets from ic0.data_certificate_copy during a query. */
  dataCertificate(canisterId: Principal): Uint8Array {
    return this.certificate([[utf8('canister'), canisterId.toUint8Array(), utf8('certified_data')]]);
  }
}
