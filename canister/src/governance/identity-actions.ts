// Identity proposal kinds beyond the handle: the did:plc rotation keys and the PDS endpoint. Each
// becomes a PLC operation the canister signs with its rotation key after adoption (the PDS queues it
// and submits it until the directory accepts it). did:web has neither: its document is served at its hostname.
import { checkDidKeys, MAX_ROTATION_KEYS } from '../atproto/plc-keys.ts';
import { parseDidKey } from '../atproto/did-key.ts';
import { isValidDid, isValidHandle, normalizeHandle } from '../atproto/syntax/index.ts';
import { GovernanceError, type Effect, type GovernanceEnv, type ProposalAction } from './types.ts';

type IdentityAction = Extract<ProposalAction, { kind: 'set_rotation_keys' | 'set_pds_endpoint' | 'migrate_out' }>;

const keyProblem = (fn: () => unknown): string | null => {
  try {
    fn();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
};

function requirePlc(env: GovernanceEnv, what: string): void {
  if (env.did().startsWith('did:web:')) {
    throw new GovernanceError(`${what}: a did:web identity has no PLC operations; its document is served at its hostname and follows the domain's owner`);
  }
}

/**
 * An endpoint the DID document can name: an http(s) origin (host, optional port) without path, query or
 * credentials. Parsed by hand: the canister's JavaScript runtime has no URL class.
 */
export function ensurePdsEndpoint(url: string): string {
  const m = /^(https?):\/\/([a-z0-9.-]+|\[[0-9a-f:]+\])(:[0-9]{1,5})?\/?$/i.exec(url);
  if (!m) {
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i.test(url)) throw new GovernanceError(`${JSON.stringify(url)} is not a URL`);
    throw new GovernanceError(`the PDS endpoint must be an http(s) origin such as https://pds.example.com, not ${JSON.stringify(url)}`);
  }
  return `${m[1]!.toLowerCase()}://${m[2]!.toLowerCase()}${m[3] ?? ''}`;
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
  if (a.kind === 'set_pds_endpoint') {
    requirePlc(env, 'the PDS endpoint');
    return { kind: 'set_pds_endpoint', url: ensurePdsEndpoint(a.url) };
  }
  requirePlc(env, 'migrating out');
  if (!isValidDid(a.pdsDid)) throw new GovernanceError(`the destination's DID ${JSON.stringify(a.pdsDid)} is not a DID (see its describeServer)`);
  const c = a.credentials;
  if (c) {
    const problem =
      keyProblem(() => parseDidKey(c.signingKey)) ??
      (c.rotationKeys.length < 1 || c.rotationKeys.length > MAX_ROTATION_KEYS ? `1 to ${MAX_ROTATION_KEYS} rotation keys` : null) ??
      keyProblem(() => checkDidKeys(c.rotationKeys)) ??
      (isValidHandle(c.handle) ? null : `invalid handle ${JSON.stringify(c.handle)}`);
    if (problem) throw new GovernanceError(`migration credentials: ${problem}`);
  }
  return {
    kind: 'migrate_out', pdsUrl: ensurePdsEndpoint(a.pdsUrl), pdsDid: a.pdsDid,
    credentials: c ? { signingKey: c.signingKey, rotationKeys: [...c.rotationKeys], handle: normalizeHandle(c.handle) } : null,
  };
}

export function identityEffects(a: IdentityAction): Effect[] {
  switch (a.kind) {
    case 'set_rotation_keys': return [{ type: 'setRotationKeys', keys: a.keys }];
    case 'set_pds_endpoint': return [{ type: 'setPdsEndpoint', url: a.url }];
    case 'migrate_out':
      return a.credentials
        ? [{ type: 'migrateOut', pdsUrl: a.pdsUrl, pdsDid: a.pdsDid, credentials: a.credentials }]
        : [{ type: 'authorizeMigration', pdsUrl: a.pdsUrl, pdsDid: a.pdsDid }];
  }
}
