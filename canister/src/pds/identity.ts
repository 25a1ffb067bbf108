// The account's identity: DID (did:web or did:plc), handle, keys, PDS endpoint and activation.
// did:web documents are served by the canister. For did:plc the state is what the directory has
// accepted: a change is signed as a PLC operation, queued (plc-log.ts), and applied here only when the
// directory accepts it (plc-submit.ts).
import { decodeCbor, encodeCbor } from '../atproto/cbor.ts';
import { atprotoVerificationMethod, formatDidKey, parseDidKey, type Signer } from '../atproto/crypto.ts';
import { scopedKv, type KvStore } from '../storage/kv.ts';
import { PlcLog, type PlcEntry } from './plc-log.ts';
import {
  plcContent, plcDidForGenesis, plcOperationCid, signPlcOperation, unsignedPlcOperation, type PlcContent, type PlcOperation,
} from './plc-operation.ts';

export type DidMethodConfig = { web: { hostname: string } } | { plc: { plcUrl: string } };

export type AccountStatus = 'deactivated' | 'takendown' | 'suspended';

export interface IdentityState {
  method: 'web' | 'plc';
  did: string;
  handle: string;
  pdsUrl: string;
  plcUrl: string | null;
  /** did:key of the repo signing key. */
  signingKey: string;
  /** did:key of the canister's own did:plc rotation key (plc only). */
  rotationKey: string | null;
  active: boolean;
  status: AccountStatus | null;
}

/** State written before the PLC operation log existed: one operation and its outcome. */
type LegacyPlcFields = { plcOp?: string | null; plcOpCid?: string | null; plcSubmitted?: boolean; plcLastError?: string | null };

export class IdentityError extends Error {
  override name = 'IdentityError';
}

/** `did:web` for a host, percent-encoding a port as the spec requires. */
export function didWebFor(hostname: string): string {
  if (!/^[a-z0-9.-]+(:[0-9]+)?$/i.test(hostname)) throw new IdentityError(`invalid did:web hostname: ${hostname}`);
  return `did:web:${hostname.toLowerCase().replace(':', '%3A')}`;
}

export function didWebDocument(s: Pick<IdentityState, 'did' | 'handle' | 'pdsUrl' | 'signingKey'>): object {
  const key = parseDidKey(s.signingKey);
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1', 'https://w3id.org/security/suites/secp256k1-2019/v1'],
    id: s.did,
    alsoKnownAs: [`at://${s.handle}`],
    verificationMethod: [atprotoVerificationMethod(s.did, key.curve, key.publicKey)],
    service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: s.pdsUrl }],
  };
}

export interface IdentityInit {
  didMethod: DidMethodConfig;
  handle: string;
  pdsUrl: string;
}

export class Identity {
  readonly plcLog: PlcLog;

  constructor(private kv: KvStore) {
    this.plcLog = new PlcLog(scopedKv(kv, 'plc'));
  }

  state(): IdentityState | null {
    const v = this.kv.get('state');
    return v ? decodeCbor<IdentityState>(v) : null;
  }

  require(): IdentityState {
    const s = this.state();
    if (!s) throw new IdentityError('identity not initialised yet (keys pending)');
    return s;
  }

  private save(s: IdentityState) {
    this.kv.set('state', encodeCbor(s));
  }

  /** Remembers the init arguments until bootstrap can fetch the keys (an async step). */
  configure(init: IdentityInit): void {
    if ('web' in init.didMethod) didWebFor(init.didMethod.web.hostname);
    this.kv.set('init', encodeCbor(init));
  }

  pendingInit(): IdentityInit | null {
    if (this.state()) return null;
    const v = this.kv.get('init');
    return v ? decodeCbor<IdentityInit>(v) : null;
  }

  /**
   * Establishes the DID once the keys are known. Idempotent: returns null if already done.
   * For did:plc this signs the genesis operation and queues it (submission happens separately).
   */
  async bootstrap(signing: Signer, rotation: Signer, nowNs: bigint): Promise<IdentityState | null> {
    const init = this.pendingInit();
    if (!init) return null;
    const signingKey = formatDidKey('k256', await signing.publicKey());
    const base = { handle: init.handle, pdsUrl: init.pdsUrl, signingKey, active: true, status: null };
    if ('web' in init.didMethod) {
      if (this.state()) return null;
      const s: IdentityState = { ...base, method: 'web', did: didWebFor(init.didMethod.web.hostname), plcUrl: null, rotationKey: null };
      this.save(s);
      return s;
    }
    const rotationKey = formatDidKey('k256', await rotation.publicKey());
    const op = await signPlcOperation(unsignedPlcOperation({ ...base, rotationKeys: [rotationKey] }, null), rotation);
    if (this.state()) return null; // another bootstrap finished while we awaited
    const s: IdentityState = { ...base, method: 'plc', did: plcDidForGenesis(op), plcUrl: init.didMethod.plc.plcUrl, rotationKey };
    this.save(s);
    this.plcLog.append({ reason: 'genesis', op: JSON.stringify(op), cid: plcOperationCid(op), signedAtNs: nowNs });
    return s;
  }

  /** Moves state written before the operation log into it (once, after an upgrade). */
  migrateLegacyPlc(nowNs: bigint): void {
    const s = this.state() as (IdentityState & LegacyPlcFields) | null;
    if (!s || s.method !== 'plc' || this.plcLog.count() > 0 || !s.plcOp || !s.plcOpCid) return;
    const entry = this.plcLog.append({ reason: 'genesis', op: s.plcOp, cid: s.plcOpCid, signedAtNs: nowNs });
    if (s.plcSubmitted) this.plcLog.recordAttempt(entry.index, nowNs, { ok: true });
    const { plcOp: _o, plcOpCid: _c, plcSubmitted: _s, plcLastError: _e, ...rest } = s;
    this.save(rest);
  }

  /** The account's DID document (for did:plc, the one the directory derives from the last accepted operation). */
  didDocument(): object | null {
    const s = this.state();
    return s ? didWebDocument(s) : null;
  }

  /** What the newest operation (accepted or queued) states: the base of the next change. */
  plcTip(): { content: PlcContent; cid: string } {
    const tip = this.plcLog.tip();
    if (!tip) throw new IdentityError('this account has no did:plc operation');
    return { content: plcContent(JSON.parse(tip.op) as PlcOperation), cid: tip.cid };
  }

  /**
   * Signs the operation that applies `change` to the newest operation's content, chained to it, and
   * queues it. The identity itself changes only when the directory accepts it (applyAccepted).
   */
  async queuePlcChange(reason: string, change: (c: PlcContent) => PlcContent, rotation: Signer, nowNs: bigint): Promise<PlcEntry> {
    if (this.require().method !== 'plc') throw new IdentityError('not a did:plc account');
    const tip = this.plcTip();
    const op = await signPlcOperation(unsignedPlcOperation(change(tip.content), tip.cid), rotation);
    // Re-check: another change may have been queued while the rotation key signed.
    if (this.plcTip().cid !== tip.cid) throw new IdentityError('another identity change was queued concurrently; retry');
    return this.plcLog.append({ reason, op: JSON.stringify(op), cid: plcOperationCid(op), signedAtNs: nowNs });
  }

  /** The directory accepted `entry`: the identity now states what it states. */
  applyAccepted(entry: PlcEntry): IdentityState {
    const c = plcContent(JSON.parse(entry.op) as PlcOperation);
    const next = { ...this.require(), handle: c.handle, pdsUrl: c.pdsUrl, signingKey: c.signingKey };
    this.save(next);
    return next;
  }

  /** did:web only: the document is served here, so the change is immediate. */
  setWebHandle(handle: string): IdentityState {
    const s = this.require();
    if (s.method !== 'web') throw new IdentityError('a did:plc handle changes through a PLC operation');
    const next = { ...s, handle };
    this.save(next);
    return next;
  }

  setActive(active: boolean, status: AccountStatus | null = active ? null : 'deactivated'): IdentityState {
    const s = this.require();
    const next = { ...s, active, status: active ? null : status };
    this.save(next);
    return next;
  }
}
