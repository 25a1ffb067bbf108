// Per-kind rules of proposal actions: what is checked when a proposal is made, and which effects
// an adopted proposal has.
import { Principal } from '@dfinity/principal';
import { accountHandleProblem, normalizeHandle, tidFromTime } from '../atproto/syntax/index.ts';
import { collectionProblem, rkeyProblem } from '../repo/index.ts';
import { buildPost, POST_COLLECTION } from '../bsky/post.ts';
import { applyProfilePatch, buildProfilePatch, PROFILE_COLLECTION, PROFILE_RKEY } from '../bsky/profile.ts';
import { ensureValidRecord, parseRecordJson } from '../bsky/records.ts';
import { RecordInputError } from '../bsky/types.ts';
import { delegationExpired, isAnonymous } from './permissions.ts';
import { ensureRules } from './rules.ts';
import { checkUpgradeAction } from './upgrade-action.ts';
import { checkIdentityAction, identityEffects } from './identity-actions.ts';
import {
  GovernanceError, SCOPE_ACTIONS, type DelegateScope, type Effect, type GovernanceEnv,
  type Proposal, type ProposalAction,
} from './types.ts';

const fail = (message: string): never => {
  throw new GovernanceError(message);
};
const failOn = (problem: string | null): void => {
  if (problem) fail(problem);
};

export const MAX_POWER = 1n << 48n;
export const MAX_WRITES_PER_DAY = 100_000;

export function ensurePrincipal(text: string, what: string): string {
  let canonical: string;
  try {
    canonical = Principal.fromText(text).toText();
  } catch {
    return fail(`${what}: ${JSON.stringify(text)} is not a principal`);
  }
  if (canonical !== text) fail(`${what}: write the principal as ${canonical}`);
  if (isAnonymous(text)) fail(`${what}: the anonymous principal cannot be given rights`);
  return text;
}

export function ensurePower(power: bigint, what: string): bigint {
  if (power < 1n || power > MAX_POWER) fail(`${what}: voting power must be 1..${MAX_POWER}`);
  return power;
}

export function ensureScope(scope: DelegateScope, nowNs: bigint): DelegateScope {
  if (scope.collections.length === 0) fail('a delegate needs at least one collection');
  for (const c of scope.collections) {
    const problem = collectionProblem(c);
    if (problem) fail(`delegate scope: ${problem}`);
  }
  if (scope.actions.length === 0) fail('a delegate needs at least one allowed operation');
  for (const a of scope.actions) if (!SCOPE_ACTIONS.includes(a)) fail(`delegate scope: unknown operation ${JSON.stringify(a)}`);
  if (!Number.isInteger(scope.writesPerDay) || scope.writesPerDay < 1 || scope.writesPerDay > MAX_WRITES_PER_DAY)
    fail(`delegate scope: writes per day must be 1..${MAX_WRITES_PER_DAY}`);
  if (delegationExpired(scope, nowNs)) fail('delegate scope: the expiry is in the past');
  return {
    collections: [...new Set(scope.collections)],
    actions: [...new Set(scope.actions)],
    writesPerDay: scope.writesPerDay,
    expiresAtNs: scope.expiresAtNs,
  };
}

/**
 * Checks an action when it is proposed and returns it normalized, with the preview of what it will
 * write. Throws GovernanceError on anything that would fail later.
 */
export function checkAction(env: GovernanceEnv, action: ProposalAction, nowNs: bigint): { action: ProposalAction; preview: unknown | null } {
  try {
    return checkActionInput(env, action, nowNs);
  } catch (err) {
    // A record builder's refusal is the proposal's refusal.
    if (err instanceof RecordInputError) throw new GovernanceError(err.message);
    throw err;
  }
}

function checkActionInput(env: GovernanceEnv, action: ProposalAction, nowNs: bigint): { action: ProposalAction; preview: unknown | null } {
  switch (action.kind) {
    case 'post': {
      const { record } = buildPost(env, action.post);
      ensureValidRecord(POST_COLLECTION, { ...record, createdAt: isoTime(nowNs) });
      return { action, preview: record };
    }
    case 'delete_record':
      failOn(collectionProblem(action.collection) ?? rkeyProblem(action.rkey));
      return { action, preview: null };
    case 'put_record': {
      failOn(collectionProblem(action.collection) ?? (action.rkey === undefined ? null : rkeyProblem(action.rkey)));
      return { action, preview: parseRecordJson(action.collection, action.recordJson, action.rkey) };
    }
    case 'update_profile': {
      const patch = buildProfilePatch(env, action.profile);
      ensureValidRecord(PROFILE_COLLECTION, applyProfilePatch(undefined, patch), PROFILE_RKEY);
      return { action, preview: patch };
    }
    case 'set_handle': {
      // Refused when proposed, not only when executed: a vote on a handle the account can never take is wasted.
      const problem = accountHandleProblem(action.handle);
      if (problem) fail(`invalid handle ${JSON.stringify(action.handle)}: ${problem}`);
      return { action: { kind: 'set_handle', handle: normalizeHandle(action.handle) }, preview: null };
    }
    case 'add_member':
    case 'set_member_power':
      ensurePrincipal(action.principal, 'member');
      ensurePower(action.power, 'member');
      return { action, preview: null };
    case 'remove_member':
    case 'revoke_delegate':
      ensurePrincipal(action.principal, action.kind === 'remove_member' ? 'member' : 'delegate');
      return { action, preview: null };
    case 'set_rules':
      ensureRules(action.rules);
      return { action, preview: null };
    case 'grant_delegate':
      ensurePrincipal(action.principal, 'delegate');
      return { action: { ...action, scope: ensureScope(action.scope, nowNs) }, preview: null };
    case 'set_account_active':
      if (typeof action.active !== 'boolean') fail('active must be true or false');
      return { action, preview: null };
    case 'approve_upgrade':
      if (!/^[0-9a-f]{64}$/.test(action.wasmHash)) fail('the wasm hash must be 64 lowercase hex digits (SHA-256 of the module)');
      return { action, preview: null };
    case 'upgrade':
      return { action: checkUpgradeAction(env, action), preview: null };
    case 'set_rotation_keys':
    case 'set_pds_endpoint':
    case 'migrate_out':
      return { action: checkIdentityAction(env, action), preview: null };
    default:
      return fail(`unknown proposal kind ${JSON.stringify((action as { kind: unknown }).kind)}`);
  }
}

export const isInternalKind = (kind: ProposalAction['kind']): boolean =>
  ['add_member', 'remove_member', 'set_member_power', 'set_rules', 'grant_delegate', 'revoke_delegate', 'approve_upgrade'].includes(kind);

/** Record key for a record created by proposal `id` adopted at `nowNs`: a TID, distinct per proposal. */
export function proposalTid(id: bigint, nowNs: bigint): string {
  return tidFromTime(Number(nowNs / 1000n), Number(id % 1024n));
}

export const isoTime = (nowNs: bigint): string => new Date(Number(nowNs / 1_000_000n)).toISOString();

/** The effects the canister runs for an adopted proposal (deterministic: same proposal, same writes). */
export function effectsFor(p: Proposal, adoptedAtNs: bigint): Effect[] {
  const a = p.action;
  switch (a.kind) {
    case 'post':
      return [{
        type: 'writes',
        writes: [{ action: 'create', collection: POST_COLLECTION, rkey: proposalTid(p.id, adoptedAtNs),
          record: { ...(p.preview as object), createdAt: isoTime(adoptedAtNs) } }],
      }];
    case 'delete_record':
      return [{ type: 'writes', writes: [{ action: 'delete', collection: a.collection, rkey: a.rkey }] }];
    case 'put_record':
      return [{
        type: 'writes',
        writes: [a.rkey === undefined
          ? { action: 'create', collection: a.collection, rkey: proposalTid(p.id, adoptedAtNs), record: p.preview }
          : { action: 'put', collection: a.collection, rkey: a.rkey, record: p.preview }],
      }];
    case 'update_profile':
      return [{ type: 'updateProfile', patch: p.preview as never }];
    case 'set_handle':
      return [{ type: 'setHandle', handle: a.handle }];
    case 'set_account_active':
      return [{ type: 'setAccountActive', active: a.active }];
    case 'upgrade':
      return [{ type: 'upgrade', wasmHash: a.wasmHash, target: a.target, arg: a.arg }];
    case 'set_rotation_keys':
    case 'set_pds_endpoint':
    case 'migrate_out':
      return identityEffects(a);
    default:
      return [];
  }
}
