// Domain types of the governance module. Principals are text; times are nanoseconds (IC `time()`);
// voting power is a bigint so tally arithmetic (power × basis points) never loses precision.

import type { AccountEnv, PostInput, ProfileInput, ProfilePatch } from '../bsky/types.ts';

/** Every refusal: the message is the reason shown to the caller; nothing was changed. */
export class GovernanceError extends Error {
  override name = 'GovernanceError';
}

export const ANONYMOUS_PRINCIPAL = '2vxsx-fae';

export type VoteChoice = 'yes' | 'no' | 'abstain';
export const VOTE_CHOICES: readonly VoteChoice[] = ['yes', 'no', 'abstain'];

export type ProposalStatus = 'open' | 'adopted' | 'rejected' | 'expired' | 'executed' | 'failed';
export const PROPOSAL_STATUSES: readonly ProposalStatus[] = ['open', 'adopted', 'rejected', 'expired', 'executed', 'failed'];

/**
 * quorum: share of the electorate's total power that must have voted (yes+no+abstain), in basis points,
 * reached when voted × 10000 ≥ quorumBps × total.
 * threshold: share of yes among yes+no, in basis points; adopted when yes × 10000 > thresholdBps × (yes+no)
 * (strictly more, so 5000 means "more than half").
 */
export type Rules = { votingPeriodNs: bigint; quorumBps: number; thresholdBps: number };

export type WriteAction = 'create' | 'put' | 'delete';
export const WRITE_ACTIONS: readonly WriteAction[] = ['create', 'put', 'delete'];

/**
 * What a delegation allows: `put`/`delete` touch only records the delegate wrote itself (or new
 * paths); `put_any`/`delete_any` any record of its collections.
 */
export type ScopeAction = WriteAction | 'put_any' | 'delete_any';
export const SCOPE_ACTIONS: readonly ScopeAction[] = [...WRITE_ACTIONS, 'put_any', 'delete_any'];

export type DelegateScope = {
  collections: string[];
  actions: ScopeAction[];
  writesPerDay: number;
  /** null: no expiry */
  expiresAtNs: bigint | null;
};

export type ProposalAction =
  | { kind: 'post'; post: PostInput }
  | { kind: 'delete_record'; collection: string; rkey: string }
  | { kind: 'put_record'; collection: string; rkey?: string; recordJson: string }
  | { kind: 'update_profile'; profile: ProfileInput }
  | { kind: 'set_handle'; handle: string }
  | { kind: 'add_member'; principal: string; power: bigint }
  | { kind: 'remove_member'; principal: string }
  | { kind: 'set_member_power'; principal: string; power: bigint }
  | { kind: 'set_rules'; rules: Rules }
  | { kind: 'grant_delegate'; principal: string; scope: DelegateScope }
  | { kind: 'revoke_delegate'; principal: string }
  | { kind: 'set_account_active'; active: boolean }
  | { kind: 'approve_upgrade'; wasmHash: string }
  | UpgradeAction
  /** did:plc rotation keys after the canister's own (which always comes first). */
  | { kind: 'set_rotation_keys'; keys: string[] }
  | { kind: 'set_pds_endpoint'; url: string }
  /** Without credentials: authorizes the move (service auth for createAccount); with them: the PLC operation. */
  | { kind: 'migrate_out'; pdsUrl: string; pdsDid: string; credentials: MigrationCredentials | null };

export type MigrationCredentials = { signingKey: string; rotationKeys: string[]; handle: string };

/** Install a staged wasm module on Canopy (through the steward) or on the steward (governance/upgrade-action.ts). */
export type UpgradeTarget = 'canopy' | 'steward';
export type UpgradeAction = {
  kind: 'upgrade';
  /** 64 lowercase hex: SHA-256 of the module, staged with stage_wasm_chunk */
  wasmHash: string;
  target: UpgradeTarget;
  /** Candid-encoded upgrade argument (empty: none) */
  arg: Uint8Array;
  /** the git commit the module claims to be built from (voters verify it with `canopy verify`) */
  commit: string | null;
};

export type ProposalKind = ProposalAction['kind'];
export const PROPOSAL_KINDS: readonly ProposalKind[] = [
  'post', 'delete_record', 'put_record', 'update_profile', 'set_handle', 'add_member', 'remove_member',
  'set_member_power', 'set_rules', 'grant_delegate', 'revoke_delegate', 'set_account_active', 'approve_upgrade',
  'upgrade',
  'set_rotation_keys', 'set_pds_endpoint', 'migrate_out',
];

/** A repo write the canister performs. `put` = create or replace (the executor checks which). */
export type GovWrite = { action: WriteAction; collection: string; rkey: string; record?: unknown /* data model */ };

/**
 * Effects the canister executes after adoption (timer-driven), then reports with recordExecution.
 * Membership, rules, delegates and upgrade approvals are applied inside Governance at adoption and
 * never appear here.
 */
export type Effect =
  | { type: 'writes'; writes: GovWrite[] }
  | { type: 'updateProfile'; patch: ProfilePatch }
  | { type: 'setHandle'; handle: string }
  | { type: 'setAccountActive'; active: boolean }
  | { type: 'upgrade'; wasmHash: string; target: UpgradeTarget; arg: Uint8Array }
  | { type: 'setRotationKeys'; keys: string[] }
  | { type: 'setPdsEndpoint'; url: string }
  | { type: 'authorizeMigration'; pdsUrl: string; pdsDid: string }
  | { type: 'migrateOut'; pdsUrl: string; pdsDid: string; credentials: MigrationCredentials };

export type ExecutionResult = {
  rev: string | null;
  records: { uri: string; cid: string | null }[];
  /** upgrade: hex SHA-256 of the module now installed */
  moduleHash?: string | null;
};
export type ExecutionOutcome = { ok: ExecutionResult } | { err: string };

export type Tally = { yes: bigint; no: bigint; abstain: bigint };

export type Proposal = {
  id: bigint;
  proposer: string;
  summary: string;
  action: ProposalAction;
  /** The record a post/put proposal will write (data model, without createdAt for posts). */
  preview: unknown | null;
  createdAtNs: bigint;
  deadlineNs: bigint;
  rules: Rules;
  electorate: { count: number; totalPower: bigint };
  tally: Tally;
  status: ProposalStatus;
  closedAtNs: bigint | null;
  executedAtNs: bigint | null;
  failure: string | null;
  effects: Effect[] | null;
  result: ExecutionResult | null;
  /** In-flight execution claim (lease), so a second timer does not run the same effects concurrently. */
  claim: { atNs: bigint; attempts: number } | null;
};

export type Member = { principal: string; power: bigint; sinceNs: bigint };
export type Delegate = { principal: string; scope: DelegateScope; grantedBy: bigint | null; grantedAtNs: bigint };
export type VoteRecord = { principal: string; vote: VoteChoice; power: bigint; atNs: bigint };
export type UpgradeApproval = { wasmHash: string; proposalId: bigint; atNs: bigint };

export type AuditEntry = {
  seq: bigint;
  atNs: bigint;
  actor: string;
  event: 'init' | 'proposed' | 'voted' | 'closed' | 'executed' | 'failed' | 'delegate_write' | 'warning';
  proposalId: bigint | null;
  detail: string;
  uri: string | null;
  cid: string | null;
  rev: string | null;
};

export type GovernanceInit = {
  members: { principal: string; power: bigint }[];
  rules: Rules;
  delegates?: { principal: string; scope: DelegateScope }[];
};

/** What the canister provides to the pure module. */
export interface GovernanceEnv extends AccountEnv {
  /** Called when tick/claimExecution should run at (or after) `atNs`; the canister sets a timer. */
  wake?(atNs: bigint): void;
  /** Whether a complete wasm module with this hash is staged (upgrade proposals need one). */
  wasmStaged?(wasmHash: string): boolean;
}

export type Page<T> = { items: T[]; next: string | null };
