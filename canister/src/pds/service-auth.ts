// Inter-service auth tokens (com.atproto.server.getServiceAuth semantics): a JWT signed with the
// account's repo signing key (ES256K, low-S), iss = the account's DID, aud = the service's DID, bound to
// one method (lxm) and short-lived. The canister issues one only for an adopted migration.
import { base64url } from 'multiformats/bases/base64';
import { sha256 } from '../atproto/cbor.ts';
import type { Signer } from '../atproto/crypto.ts';
import { utf8Encode } from '../atproto/utf8.ts';
import { normalizeLowS } from '../repo/commit.ts';

/** The reference's default lifetime for a method-bound token. */
export const SERVICE_AUTH_LIFETIME_S = 60;

export type ServiceAuthClaims = { iss: string; aud: string; lxm: string; iat: number; exp: number; jti: string };

const part = (v: object) => base64url.baseEncode(utf8Encode(JSON.stringify(v)));

export async function signServiceAuth(claims: ServiceAuthClaims, signing: Signer): Promise<string> {
  const input = `${part({ typ: 'JWT', alg: 'ES256K' })}.${part(claims)}`;
  const sig = normalizeLowS(await signing.sign(sha256(utf8Encode(input))));
  return `${input}.${base64url.baseEncode(sig)}`;
}
