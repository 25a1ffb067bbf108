// Moving the account to another PDS, the standard atproto way, once the members adopted it:
// 1. a migrate_out proposal naming the destination authorizes service-auth tokens for its
//    createAccount (the member running the migration asks for them);
// 2. a migrate_out proposal that also carries the destination's recommended credentials queues the PLC
//    operation pointing the DID at it; when the directory accepts it the account is deactivated here
//    (#account), its event log staying available.
import { decodeCbor, encodeCbor, sha256 } from '../atproto/cbor.ts';
import { utf8Encode } from '../atproto/utf8.ts';
import { scopedKv } from '../storage/kv.ts';
import type { Pds } from './pds.ts';
import type { PlcEntry } from './plc-log.ts';
import { signServiceAuth, SERVICE_AUTH_LIFETIME_S } from './service-auth.ts';

export type MigrationTarget = { pdsUrl: string; pdsDid: string };
export type MigrationCredentials = { signingKey: string; rotationKeys: string[]; handle: string };
type MigrationState = MigrationTarget & { authorizedAtNs: bigint; lastTokenNs: bigint | null; tokens: number };

const SECOND_NS = 1_000_000_000n;
/** Each token costs a threshold signature: one per 10 s is plenty for a member's retries. */
export const TOKEN_INTERVAL_NS = 10n * SECOND_NS;
export const CREATE_ACCOUNT_LXM = 'com.atproto.server.createAccount';

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const store = (pds: Pds) => scopedKv(pds.storage.kv, 'migration');

export function migrationState(pds: Pds): MigrationState | null {
  const v = store(pds).get('state');
  return v ? decodeCbor<MigrationState>(v) : null;
}

export function authorizeMigration(pds: Pds, t: MigrationTarget): void {
  if (pds.identity.require().method !== 'plc') throw new MigrationError('only a did:plc account can move to another PDS');
  store(pds).set('state', encodeCbor({ ...t, authorizedAtNs: pds.env.nowNs(), lastTokenNs: null, tokens: 0 } satisfies MigrationState));
}

/** A createAccount service-auth token for the adopted destination (members only: checked by the caller). */
export async function migrationServiceAuth(pds: Pds): Promise<string> {
  const m = migrationState(pds);
  if (!m) throw new MigrationError('no migration was adopted: propose migrate_out naming the destination first');
  const now = pds.env.nowNs();
  if (m.lastTokenNs !== null && now - m.lastTokenNs < TOKEN_INTERVAL_NS) {
    throw new MigrationError(`a token was issued less than ${TOKEN_INTERVAL_NS / SECOND_NS} s ago; retry shortly`);
  }
  store(pds).set('state', encodeCbor({ ...m, lastTokenNs: now, tokens: m.tokens + 1 } satisfies MigrationState));
  const iat = Number(now / SECOND_NS);
  const s = pds.identity.require();
  // Unique per token (no Buffer in the canister): hex of a hash over DID, time and count.
  const jti = Array.from(sha256(utf8Encode(`${s.did} ${now} ${m.tokens}`)).subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return signServiceAuth({ iss: s.did, aud: m.pdsDid, lxm: CREATE_ACCOUNT_LXM, iat, exp: iat + SERVICE_AUTH_LIFETIME_S, jti }, pds.env.signing);
}

/** Queues the PLC operation handing the DID to the adopted destination. */
export async function queueMigrationOperation(pds: Pds, t: MigrationTarget, c: MigrationCredentials): Promise<PlcEntry> {
  const m = migrationState(pds);
  if (!m || m.pdsUrl !== t.pdsUrl || m.pdsDid !== t.pdsDid) {
    throw new MigrationError(`no adopted migration to ${t.pdsUrl}: the destination must be adopted before its credentials`);
  }
  return pds.queuePlcChange('migrate_out', () => ({ handle: c.handle, pdsUrl: t.pdsUrl, signingKey: c.signingKey, rotationKeys: c.rotationKeys }));
}
