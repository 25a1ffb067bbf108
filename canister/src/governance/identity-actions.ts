// Identity proposal kinds beyond the handle: the did:plc rotation keys and the PDS endpoint. Each
// becomes a PLC operation the canister signs with its rotation key after adoption (the PDS queues it
// and submits it until the directory accepts it). did:web has neither: its document is served at its hostname.
import { checkDidKeys, MAX_ROTATION_KEYS } from '../atproto/plc-keys.ts';
import { GovernanceError, type Effect, type GovernanceEnv, type ProposalAction } from './types.ts';

type IdentityAction = Extract<ProposalAction, { kind: 'set_rotation_keys' | 'set_pds_endpoint' }>;

function requirePlc(env: GovernanceEnv, what: string): void {
  if (env.did().startsWith('did:web:')) {
    throw new GovernanceError(`${what}: a did:web identity has no PLC operations; its document is served at its hostname and follows the domain's owner`);
  }
}

/** An endpoint the DID document can name: an http(s) origin without path, query or credentials. */
export function ensurePdsEndpoint(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new GovernanceError(`${JSON.stringify(url)} is not a URL`);
  }
  if (!['https:', 'http:'].includes(u.protocol) || u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) {
    throw new GovernanceError(`the PDS endpoint must be an http(s) origin such as https://pds.example.com, not ${JSON.stringify(url)}`);
  }
  return u.origin;
}

export function checkIdentityAction(env: GovernanceEnv, a: IdentityAction): IdentityAction {
  if (a.kind === 'set_rotation_keys') {
    requirePlc(env, 'rotation keys');
    if (a.keys.length > MAX_ROTATION_KEYS - 1) {
      throw new GovernanceError(`at most ${MAX_ROTATION_KEYS - 1} rotation keys besides the canister's own (PLC allows ${MAX_ROTATION_KEYS})`);
    }
    try {
      checkDidKeys(a.keys);
    } catch (err) {
      throw new GovernanceError((err as Error).message);
    }
    return a;
  }
  requirePlc(env, 'the PDS endpoint');
  return { kind: 'set_pds_endpoint', url: ensurePdsEndpoint(a.url) };
}

export function identityEffects(a: IdentityAction): Effect[] {
  return a.kind === 'set_rotation_keys' ? [{ type: 'setRotationKeys', keys: a.keys }] : [{ type: 'setPdsEndpoint', url: a.url }];
}
