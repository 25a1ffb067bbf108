// Who may call each update method, and how large its Candid argument may be. Checked twice with the
// same function: by canister_inspect_message (ingress is dropped before the canister pays for the
// message) and at the top of every update, before its argument is read or decoded (inspect_message
// runs on one node only and inter-canister calls skip it, so it is no boundary). Both checks cost a
// few key-value reads, whatever the payload.
import type { Governance } from '../governance/governance.ts';
import { delegationExpired, isAnonymous } from '../governance/permissions.ts';
import { MAX_CHUNK_BYTES } from '../pds/blobs.ts';
import type { MethodName } from './interface.ts';
import { MAX_CHUNK_BYTES as MAX_WASM_CHUNK_BYTES } from './wasm-staging.ts';

/**
 * member: a governance member; delegate: an unexpired delegate; uploader: either; steward: the steward
 * canister; steward_or_member: either of those; controller: a controller of this canister.
 */
export type Role = 'member' | 'delegate' | 'uploader' | 'steward' | 'steward_or_member' | 'controller';

/** The roles governance does not record: the steward canister and the controllers. */
export interface CanisterRoles {
  steward(): string | null;
  isController(principal: string): boolean;
}
const NO_CANISTER_ROLES: CanisterRoles = { steward: () => null, isController: () => false };
export type UpdatePolicy = { role: Role; maxArgBytes: number };

const KIB = 1024;
/**
 * A delegate's request, one record or a batch: at 64 KiB the dearest shapes (long strings, CID
 * links) cost 1.7-3.2 B instructions per message (`npm run bench -- attack`); 48 KiB keeps the worst
 * near 1.3 B, under the 2 B a member or delegate may cost.
 */
export const MAX_RECORD_ARG_BYTES = 48 * KIB;
export const MAX_BATCH_ARG_BYTES = 48 * KIB;
/** A proposal: the largest action (a put_record of MAX_PROPOSAL_RECORD_BYTES) plus its summary. */
export const MAX_PROPOSE_ARG_BYTES = 32 * KIB;
/** Small fixed-shape arguments (ids, names, a vote). */
const SMALL = 2 * KIB;

/** The update methods of the method table, each with the role it needs and its argument cap. */
export const UPDATE_POLICY = {
  create_record: { role: 'delegate', maxArgBytes: MAX_RECORD_ARG_BYTES },
  put_record: { role: 'delegate', maxArgBytes: MAX_RECORD_ARG_BYTES },
  delete_record: { role: 'delegate', maxArgBytes: SMALL },
  apply_writes: { role: 'delegate', maxArgBytes: MAX_BATCH_ARG_BYTES },
  blob_upload_start: { role: 'uploader', maxArgBytes: SMALL },
  blob_upload_chunk: { role: 'uploader', maxArgBytes: MAX_CHUNK_BYTES + SMALL },
  blob_upload_finish: { role: 'uploader', maxArgBytes: SMALL },
  submit_plc_operation: { role: 'member', maxArgBytes: SMALL },
  propose: { role: 'member', maxArgBytes: MAX_PROPOSE_ARG_BYTES },
  vote: { role: 'member', maxArgBytes: SMALL },
  stage_wasm_chunk: { role: 'member', maxArgBytes: MAX_WASM_CHUNK_BYTES + SMALL },
  health_check: { role: 'steward_or_member', maxArgBytes: SMALL },
  steward_report: { role: 'steward', maxArgBytes: SMALL },
  set_steward: { role: 'controller', maxArgBytes: SMALL },
  migration_service_auth: { role: 'member', maxArgBytes: SMALL },
} as const satisfies Partial<Record<MethodName, UpdatePolicy>>;

export type GuardedMethod = keyof typeof UPDATE_POLICY;

export function isGuardedMethod(name: string): name is GuardedMethod {
  return Object.hasOwn(UPDATE_POLICY, name);
}

function hasRole(gov: Governance, roles: CanisterRoles, caller: string, role: Role, nowNs: bigint): boolean {
  const member = () => gov.getMember(caller) !== null;
  const steward = () => roles.steward() === caller;
  const delegate = () => {
    const d = gov.getDelegate(caller);
    return d !== null && !delegationExpired(d.scope, nowNs);
  };
  if (role === 'member') return member();
  if (role === 'delegate') return delegate();
  if (role === 'steward') return steward();
  if (role === 'steward_or_member') return steward() || member();
  if (role === 'controller') return roles.isController(caller);
  return member() || delegate();
}

const ROLE_NAMES: Record<Role, string> = {
  member: 'a member', delegate: 'a delegate', uploader: 'a member or a delegate', steward: 'the steward',
  steward_or_member: 'the steward or a member', controller: 'a controller',
};

/**
 * Why `caller` may not call `method` with an argument of `argBytes` bytes, or null if it may.
 * `argBytes` is read lazily, after the caller is known to have the role.
 */
export function refusal(
  gov: Governance, method: string, caller: string, argBytes: () => number, nowNs: bigint, roles: CanisterRoles = NO_CANISTER_ROLES,
): string | null {
  if (!isGuardedMethod(method)) return `${method} is not an update method of this canister`;
  if (isAnonymous(caller)) return 'the anonymous principal cannot take part; call with an identity';
  const policy: UpdatePolicy = UPDATE_POLICY[method];
  if (!hasRole(gov, roles, caller, policy.role, nowNs)) return `${caller} is not ${ROLE_NAMES[policy.role]}; ${method} is refused`;
  const size = argBytes();
  if (size > policy.maxArgBytes) return `${method}: the argument is ${size} bytes, more than the ${policy.maxArgBytes} allowed`;
  return null;
}
