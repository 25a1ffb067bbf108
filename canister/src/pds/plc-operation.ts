// did:plc operations: the signed JSON objects a PLC directory accepts. Built here, signed with the
// canister's rotation key (low-S, as the directory requires), chained by `prev` = CID of the previous
// operation, and applied to the identity once the directory accepted them.
import { base32 } from 'multiformats/bases/base32';
import { base64url } from 'multiformats/bases/base64';
import { encodeBlock, encodeCbor, sha256 } from '../atproto/cbor.ts';
import type { Signer } from '../atproto/crypto.ts';
import { checkDidKeys, MAX_ROTATION_KEYS } from '../atproto/plc-keys.ts';
import { normalizeLowS } from '../repo/commit.ts';

export type PlcService = { type: string; endpoint: string };

export type PlcOperation = {
  type: 'plc_operation';
  rotationKeys: string[];
  verificationMethods: Record<string, string>;
  alsoKnownAs: string[];
  services: Record<string, PlcService>;
  prev: string | null;
  sig?: string;
};

/** The part of an identity a PLC operation states. */
export type PlcContent = { handle: string; pdsUrl: string; signingKey: string; rotationKeys: string[] };

export class PlcOperationError extends Error {
  override name = 'PlcOperationError';
}

export function checkRotationKeys(keys: string[]): string[] {
  if (keys.length === 0) throw new PlcOperationError('at least one rotation key is required');
  if (keys.length > MAX_ROTATION_KEYS) throw new PlcOperationError(`at most ${MAX_ROTATION_KEYS} rotation keys are allowed`);
  try {
    return checkDidKeys(keys);
  } catch (err) {
    throw new PlcOperationError((err as Error).message);
  }
}

export function unsignedPlcOperation(c: PlcContent, prev: string | null): PlcOperation {
  return {
    type: 'plc_operation',
    rotationKeys: [...c.rotationKeys],
    verificationMethods: { atproto: c.signingKey },
    alsoKnownAs: [`at://${c.handle}`],
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: c.pdsUrl } },
    prev,
  };
}

/** What an operation states (the inverse of unsignedPlcOperation, for operations built here). */
export function plcContent(op: PlcOperation): PlcContent {
  const aka = op.alsoKnownAs.find((a) => a.startsWith('at://'));
  return {
    handle: aka ? aka.slice('at://'.length) : '',
    pdsUrl: op.services.atproto_pds?.endpoint ?? '',
    signingKey: op.verificationMethods.atproto ?? '',
    rotationKeys: [...op.rotationKeys],
  };
}

/** Signs with the rotation key: ECDSA over sha-256 of the unsigned operation's DAG-CBOR, low-S, base64url. */
export async function signPlcOperation(op: PlcOperation, rotation: Signer): Promise<PlcOperation> {
  const { sig: _drop, ...unsigned } = op;
  const sig = normalizeLowS(await rotation.sign(sha256(encodeCbor(unsigned))));
  return { ...unsigned, sig: base64url.baseEncode(sig) };
}

/** did:plc identifier of a signed genesis operation: base32 of sha-256 of its DAG-CBOR, 24 chars. */
export function plcDidForGenesis(signed: PlcOperation): string {
  return `did:plc:${base32.baseEncode(sha256(encodeCbor(signed))).slice(0, 24)}`;
}

/** CID (dag-cbor, sha-256) of a signed operation: what the next operation names as `prev`. */
export function plcOperationCid(signed: object): string {
  return encodeBlock(signed).cid.toString();
}
