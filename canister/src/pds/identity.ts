// The account's identity: DID (did:web or did:plc), handle, keys, PDS endpoint and activation.
// did:web documents are served by the canister; did:plc operations are built here, signed with
// the rotation key, and kept for submission (HTTPS outcall) or manual submission.
import { CID, decodeCbor, encodeCbor, encodeBlock, sha256 } from '../atproto/cbor.ts';
import { atprotoVerificationMethod, formatDidKey, parseDidKey, type Signer } from '../atproto/crypto.ts';
import { base32 } from 'multiformats/bases/base32';
import { base64url } from 'multiformats/bases/base64';
import type { KvStore } from '../storage/kv.ts';

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
  /** did:key of the did:plc rotation key (plc only). */
  rotationKey: string | null;
  active: boolean;
  status: AccountStatus | null;
  /** Latest signed PLC operation (JSON text) and its CID, for chaining and (re)submission. */
  plcOp: string | null;
  plcOpCid: string | null;
  /** Whether the latest PLC operation was accepted by the directory. */
  plcSubmitted: boolean;
  plcLastError: string | null;
}

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

export type PlcOperation = {
  type: 'plc_operation';
  rotationKeys: string[];
  verificationMethods: Record<string, string>;
  alsoKnownAs: string[];
  services: Record<string, { type: string; endpoint: string }>;
  prev: string | null;
  sig?: string;
};

export function unsignedPlcOperation(s: Pick<IdentityState, 'handle' | 'pdsUrl' | 'signingKey'> & { rotationKey: string }, prev: string | null): PlcOperation {
  return {
    type: 'plc_operation',
    rotationKeys: [s.rotationKey],
    verificationMethods: { atproto: s.signingKey },
    alsoKnownAs: [`at://${s.handle}`],
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: s.pdsUrl } },
    prev,
  };
}

/** Signs a PLC operation with the rotation key (ECDSA over sha-256 of its DAG-CBOR, base64url). */
export async function signPlcOperation(op: PlcOperation, rotation: Signer): Promise<PlcOperation> {
  const { sig: _drop, ...unsigned } = op;
  const sig = await rotation.sign(sha256(encodeCbor(unsigned)));
  return { ...unsigned, sig: base64url.baseEncode(sig) };
}

/** did:plc identifier of a signed genesis operation: base32 of sha-256 of its DAG-CBOR, 24 chars. */
export function plcDidForGenesis(signed: PlcOperation): string {
  return `did:plc:${base32.baseEncode(sha256(encodeCbor(signed))).slice(0, 24)}`;
}

export function plcOperationCid(signed: PlcOperation): CID {
  return encodeBlock(signed).cid;
}

export interface IdentityInit {
  didMethod: DidMethodConfig;
  handle: string;
  pdsUrl: string;
}

export class Identity {
  constructor(private kv: KvStore) {}

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
   * For did:plc this signs the genesis operation (submission happens separately).
   */
  async bootstrap(signing: Signer, rotation: Signer): Promise<IdentityState | null> {
    const init = this.pendingInit();
    if (!init) return null;
    const signingKey = formatDidKey('k256', await signing.publicKey());
    let s: IdentityState;
    if ('web' in init.didMethod) {
      s = {
        method: 'web', did: didWebFor(init.didMethod.web.hostname), handle: init.handle, pdsUrl: init.pdsUrl, plcUrl: null,
        signingKey, rotationKey: null, active: true, status: null, plcOp: null, plcOpCid: null, plcSubmitted: false, plcLastError: null,
      };
    } else {
      const rotationKey = formatDidKey('k256', await rotation.publicKey());
      const op = await signPlcOperation(unsignedPlcOperation({ handle: init.handle, pdsUrl: init.pdsUrl, signingKey, rotationKey }, null), rotation);
      s = {
        method: 'plc', did: plcDidForGenesis(op), handle: init.handle, pdsUrl: init.pdsUrl, plcUrl: init.didMethod.plc.plcUrl,
        signingKey, rotationKey, active: true, status: null,
        plcOp: JSON.stringify(op), plcOpCid: plcOperationCid(op).toString(), plcSubmitted: false, plcLastError: null,
      };
    }
    if (this.state()) return null; // another bootstrap finished while we awaited
    this.save(s);
    return s;
  }

  /** The account's DID document: for did:plc it is what the PLC directory serves for our operation (same shape). */
  didDocument(): object | null {
    const s = this.state();
    return s ? didWebDocument(s) : null;
  }

  /** Changes the handle; for did:plc also signs the follow-up operation (to submit). */
  async setHandle(handle: string, rotation: Signer): Promise<IdentityState> {
    const s = this.require();
    const next: IdentityState = { ...s, handle };
    if (s.method === 'plc') {
      const op = await signPlcOperation(
        unsignedPlcOperation({ handle, pdsUrl: s.pdsUrl, signingKey: s.signingKey, rotationKey: s.rotationKey! }, s.plcOpCid),
        rotation,
      );
      next.plcOp = JSON.stringify(op);
      next.plcOpCid = plcOperationCid(op).toString();
      next.plcSubmitted = false;
      next.plcLastError = null;
    }
    // Re-read: the state may have changed while the rotation key signed.
    const now = this.require();
    if (now.plcOpCid !== s.plcOpCid) throw new IdentityError('identity changed concurrently; retry');
    this.save({ ...now, handle, plcOp: next.plcOp, plcOpCid: next.plcOpCid, plcSubmitted: next.plcSubmitted, plcLastError: next.plcLastError });
    return this.require();
  }

  setActive(active: boolean, status: AccountStatus | null = active ? null : 'deactivated'): IdentityState {
    const s = this.require();
    const next = { ...s, active, status: active ? null : status };
    this.save(next);
    return next;
  }

  recordPlcSubmission(opCid: string, result: { ok: true } | { ok: false; error: string }): void {
    const s = this.require();
    if (s.plcOpCid !== opCid) return; // a newer operation superseded it
    this.save({ ...s, plcSubmitted: result.ok, plcLastError: result.ok ? null : result.error });
  }
}
