// The canister's Candid interface, written once: the method table below. From it come the
// canister's decorators (main.ts), the agents' `idlFactory`, the typed actor's `CanopyService`,
// every TypeScript shape (`TypeOf<...>`), and canister/canopy.did (scripts/gen-did.ts prints it;
// a test checks the committed file and the built wasm's interface against it).
// Pure (no `azle`): Node agents (CLI, bridge, tests) and browsers import it.
import type { ActorMethod } from '@dfinity/agent';
import type { IDL } from '@dfinity/candid';
import {
  bool, bytes, float64, funcOf, nat, nat16, nat32, nat64, opt, query, queryFunc, record, tags, text, tuple, unit, update, variant, vec,
  type ArgsOf, type MethodSpec, type RetOf, type TypeOf,
} from './candid.ts';

// ---------- governance ----------

export const Rules = record({ voting_period_ns: nat64, quorum_bps: nat32, threshold_bps: nat32 });
export const StrongRef = record({ uri: text, cid: text });
/** put/delete: only records the delegate wrote itself; put_any/delete_any: any record of its collections. */
export const ScopeAction = tags('create', 'put', 'delete', 'put_any', 'delete_any');
export const DelegateScope = record({
  collections: vec(text),
  actions: vec(ScopeAction),
  writes_per_day: nat32,
  expires_at_ns: opt(nat64),
});
const PrincipalArg = record({ principal: text });
const MemberPower = record({ principal: text, power: nat64 });
export const PostAction = record({
  text,
  langs: vec(text),
  mentions: vec(record({ handle: text, did: text })),
  reply: opt(record({ root: StrongRef, parent: StrongRef })),
  images: vec(record({ cid: text, alt: text, aspect_ratio: opt(record({ width: nat32, height: nat32 })) })),
  quote: opt(StrongRef),
});
export const ProposalAction = variant({
  post: PostAction,
  delete_record: record({ collection: text, rkey: text }),
  put_record: record({ collection: text, rkey: opt(text), record_json: text }),
  update_profile: record({ display_name: opt(text), description: opt(text), avatar: opt(text), banner: opt(text) }),
  set_handle: record({ handle: text }),
  add_member: MemberPower,
  remove_member: PrincipalArg,
  set_member_power: MemberPower,
  set_rules: Rules,
  grant_delegate: record({ principal: text, scope: DelegateScope }),
  revoke_delegate: PrincipalArg,
  set_account_active: record({ active: bool }),
  approve_upgrade: record({ wasm_hash: text }),
  upgrade: record({ wasm_hash: text, target: tags('canopy', 'steward'), arg: opt(bytes), commit: opt(text) }),
  /** did:plc rotation keys after the canister's own key (which stays first); at most 4 did:keys. */
  set_rotation_keys: record({ keys: vec(text) }),
  set_pds_endpoint: record({ url: text }),
  /** Moving to another PDS: first naming the destination (authorizes its createAccount), then with its credentials. */
  migrate_out: record({
    pds_url: text,
    pds_did: text,
    credentials: opt(record({ signing_key: text, rotation_keys: vec(text), handle: text })),
  }),
});
export const ProposeArgs = record({ action: ProposalAction, summary: opt(text) });
export const VoteChoice = tags('yes', 'no', 'abstain');
export const VoteArgs = record({ id: nat64, vote: VoteChoice });
export const ProposalStatus = tags('open', 'adopted', 'rejected', 'expired', 'executed', 'failed');
export const ExecutionResult = record({
  rev: opt(text),
  records: vec(record({ uri: text, cid: opt(text) })),
  /** upgrade: hex SHA-256 of the module installed */
  module_hash: opt(text),
});
export const ProposalView = record({
  id: nat64,
  kind: text,
  proposer: text,
  summary: text,
  action: ProposalAction,
  /** atproto JSON of what will be written (post/put record, profile patch) */
  preview_json: opt(text),
  status: ProposalStatus,
  created_at_ns: nat64,
  deadline_ns: nat64,
  closed_at_ns: opt(nat64),
  executed_at_ns: opt(nat64),
  rules: Rules,
  electorate_size: nat32,
  total_power: nat64,
  yes: nat64,
  no: nat64,
  abstain: nat64,
  failure: opt(text),
  result: opt(ExecutionResult),
});
export const ListProposalsArgs = record({ status: opt(ProposalStatus), after: opt(nat64), limit: opt(nat32), oldest_first: opt(bool) });
export const ProposalsPage = record({ proposals: vec(ProposalView), next: opt(nat64) });
export const ListVotesArgs = record({ id: nat64, after: opt(text), limit: opt(nat32) });
export const VoteView = record({ principal: text, vote: VoteChoice, power: nat64, time_ns: nat64 });
export const VotesPage = record({ votes: vec(VoteView), next: opt(text) });
export const ListMembersArgs = record({ after: opt(text), limit: opt(nat32) });
export const MemberView = record({ principal: text, power: nat64, since_ns: nat64 });
export const MembersPage = record({ members: vec(MemberView), count: nat32, total_power: nat64, next: opt(text) });
export const DelegateView = record({
  principal: text,
  scope: DelegateScope,
  granted_by: opt(nat64),
  granted_at_ns: nat64,
  writes_today: nat32,
});
export const AuditArgs = record({ after: opt(nat64), limit: opt(nat32), newest_first: opt(bool) });
export const AuditEntry = record({
  seq: nat64,
  time_ns: nat64,
  actor: text,
  event: text,
  proposal_id: opt(nat64),
  detail: text,
  uri: opt(text),
  cid: opt(text),
  rev: opt(text),
});
export const AuditPage = record({ entries: vec(AuditEntry), next: opt(nat64) });
export const UpgradeApproval = record({ wasm_hash: text, proposal_id: nat64, time_ns: nat64 });
export const GovernanceInit = record({
  members: vec(MemberPower),
  rules: Rules,
  delegates: vec(record({ principal: text, scope: DelegateScope })),
});

// ---------- upgrades: staged wasm, and the steward's peer contract ----------
// The steward's own interface is steward/src/interface.ts; test/api/steward-peer.test.ts checks these agree with it.

export const StageChunkArgs = record({ wasm_hash: text, total_size: nat64, offset: nat64, chunk: bytes });
export const StagedWasm = record({
  wasm_hash: text, size: nat64, received: nat64, complete: bool, uploader: text, updated_at_ns: nat64,
});
export const UpgradeOutcome = variant({ ok: record({ module_hash: bytes }), failed: record({ reason: text }) });
export const StewardReportArgs = record({ proposal_id: nat64, outcome: UpgradeOutcome });
export const HealthReport = record({ ok: bool, detail: text });
export const StewardUpgradeRequest = record({ proposal_id: nat64, wasm_hash: bytes, arg: bytes, chunk_hashes: vec(bytes) });
/** The part of the steward's UpgradeView Canopy reads (Candid subtyping skips the rest). */
export const StewardUpgradeView = record({ outcome: opt(UpgradeOutcome) });

// ---------- canister ----------

export const DidMethod = variant({ web: record({ hostname: text }), plc: record({ plc_url: text }) });
export const InitArgs = record({
  /** `dfx_test_key` locally, `key_1` on mainnet. */
  ecdsa_key_name: text,
  did_method: DidMethod,
  handle: text,
  pds_url: text,
  governance: GovernanceInit,
  event_retention: opt(record({ min_events: nat32, min_age_ns: nat64 })),
  blob_max_bytes: opt(nat64),
  blob_grace_ns: opt(nat64),
});
export const Status = record({
  did: text,
  handle: text,
  pds_url: text,
  plc_url: opt(text),
  head_seq: nat64,
  rev: opt(text),
  active: bool,
  signing_key: text,
});
export const CyclesStatus = record({
  balance: nat,
  /** Burn over the samples since the last top-up (at least an hour of them). */
  burn_per_day: opt(nat),
  /** Days until the balance is spent at that rate (the canister freezes a freezing threshold earlier). */
  days_left: opt(float64),
  warning: opt(text),
  sampled_since_ns: opt(nat64),
});
export const EventsArgs = record({ after: nat64, limit: nat32, max_bytes: nat32 });
export const Event = record({ seq: nat64, time_ns: nat64, frame: bytes });
export const EventsPage = record({ events: vec(Event), head: nat64, oldest: nat64 });

export const CreateRecordArgs = record({ collection: text, rkey: opt(text), record_json: text });
export const PutRecordArgs = record({ collection: text, rkey: text, record_json: text, swap_record: opt(text) });
export const DeleteRecordArgs = record({ collection: text, rkey: text, swap_record: opt(text) });
export const RecordWriteResult = record({ uri: text, cid: opt(text), rev: text, commit: text, seq: nat64 });
export const BatchWrite = variant({ create: CreateRecordArgs, put: PutRecordArgs, delete: DeleteRecordArgs });
export const ApplyWritesArgs = record({ writes: vec(BatchWrite) });
export const ApplyWritesResult = record({
  rev: text,
  commit: text,
  seq: nat64,
  results: vec(record({ uri: text, cid: opt(text) })),
});

export const BlobStartArgs = record({ mime_type: text, size: nat64 });
export const BlobChunkArgs = record({ upload_id: text, offset: nat64, data: bytes });
export const BlobFinishArgs = record({ upload_id: text });
export const BlobRef = record({ cid: text, mime_type: text, size: nat64 });

export const PlcOperationView = record({
  index: nat32,
  reason: text,
  operation_json: text,
  cid: text,
  signed_at_ns: nat64,
  accepted: bool,
  accepted_at_ns: opt(nat64),
  attempts: nat32,
  last_error: opt(text),
  next_attempt_ns: opt(nat64),
});
/** The newest operation (operation_json/cid, submitted = accepted) and the history, newest first. */
export const PlcStatus = record({
  operation_json: opt(text),
  operation_cid: opt(text),
  submitted: bool,
  last_error: opt(text),
  rotation_key: opt(text),
  pending: nat32,
  history: vec(PlcOperationView),
});
/** The management canister's HTTPS-outcall response, as the transform query receives and returns it. */
export const HttpOutcallResponse = record({ status: nat, headers: vec(record({ name: text, value: text })), body: bytes });
export const TransformArgs = record({ response: HttpOutcallResponse, context: bytes });

export const HeaderField = tuple(text, text);
export const HttpRequest = record({
  url: text,
  method: text,
  body: bytes,
  headers: vec(HeaderField),
  certificate_version: opt(nat16),
});
export const StreamingToken = record({ kind: text, ref: text, cursor: text, since: text });
export const StreamingCallbackResponse = record({ body: bytes, token: opt(StreamingToken) });
export const StreamingStrategy = variant({
  Callback: record({ callback: queryFunc([StreamingToken], opt(StreamingCallbackResponse)), token: StreamingToken }),
});
export const HttpResponse = record({
  status_code: nat16,
  headers: vec(HeaderField),
  body: bytes,
  upgrade: opt(bool),
  streaming_strategy: opt(StreamingStrategy),
});

// ---------- the method table ----------

export const methods = {
  get_status: query([], Status),
  get_events: query([EventsArgs], EventsPage),
  http_request: query([HttpRequest], HttpResponse),
  http_request_streaming_callback: query([StreamingToken], opt(StreamingCallbackResponse)),

  create_record: update([CreateRecordArgs], RecordWriteResult),
  put_record: update([PutRecordArgs], RecordWriteResult),
  delete_record: update([DeleteRecordArgs], RecordWriteResult),
  apply_writes: update([ApplyWritesArgs], ApplyWritesResult),

  blob_upload_start: update([BlobStartArgs], text),
  blob_upload_chunk: update([BlobChunkArgs], nat64),
  blob_upload_finish: update([BlobFinishArgs], BlobRef),

  get_plc_status: query([], PlcStatus),
  submit_plc_operation: update([], PlcStatus),
  /** The HTTPS-outcall transform (replicas must agree on the response): called by the IC, not by agents. */
  plc_transform: query([TransformArgs], HttpOutcallResponse),
  /** A members-only createAccount service-auth token for the adopted migration's destination. */
  migration_service_auth: update([], text),

  propose: update([ProposeArgs], nat64),
  vote: update([VoteArgs], ProposalView),
  get_proposal: query([nat64], opt(ProposalView)),
  list_proposals: query([ListProposalsArgs], ProposalsPage),
  list_votes: query([ListVotesArgs], VotesPage),
  list_members: query([ListMembersArgs], MembersPage),
  list_delegates: query([], vec(DelegateView)),
  get_rules: query([], Rules),
  get_audit_log: query([AuditArgs], AuditPage),
  list_upgrade_approvals: query([], vec(UpgradeApproval)),

  get_cycles: query([], CyclesStatus),

  /** Members only: one chunk (≤ 1 MiB) of a module for an upgrade proposal, in order. */
  stage_wasm_chunk: update([StageChunkArgs], StagedWasm),
  list_staged_wasm: query([], vec(StagedWasm)),
  /** Proves the running code reads its state and can run governance (the steward calls it after an install). */
  health_check: update([], HealthReport),
  /** The steward only: the outcome of an upgrade proposal. */
  steward_report: update([StewardReportArgs], unit),
  /** A controller only (at deployment, before the steward becomes the only controller). */
  set_steward: update([text], unit),
  get_steward: query([], opt(text)),
} satisfies Record<string, MethodSpec>;

export type MethodName = keyof typeof methods;
/** The JavaScript argument tuple and result of method `K`. */
export type Args<K extends MethodName> = ArgsOf<(typeof methods)[K]>;
export type Result<K extends MethodName> = RetOf<(typeof methods)[K]>;

/** The typed actor's service: `Actor.createActor<CanopyService>(idlFactory, ...)`. */
export type CanopyService = { [K in MethodName]: ActorMethod<Args<K>, Result<K>> };

/** For @dfinity/agent: `Actor.createActor<CanopyService>(idlFactory, { agent, canisterId })`. */
export const idlFactory: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service(Object.fromEntries(Object.entries(methods).map(([name, m]) => [name, funcOf(m)])));

/** The service's init argument (the same type is the post_upgrade parameter). */
export const initArgs = [InitArgs] as const;

// ---------- TypeScript shapes (derived) ----------

export type InitArgsC = TypeOf<typeof InitArgs>;
export type GovernanceInitC = TypeOf<typeof GovernanceInit>;
export type RulesC = TypeOf<typeof Rules>;
export type DelegateScopeC = TypeOf<typeof DelegateScope>;
export type ProposalActionC = TypeOf<typeof ProposalAction>;
export type ProposalViewC = TypeOf<typeof ProposalView>;
export type DelegateViewC = TypeOf<typeof DelegateView>;
export type AuditEntryC = TypeOf<typeof AuditEntry>;
export type StatusC = TypeOf<typeof Status>;
export type EventsPageC = TypeOf<typeof EventsPage>;
export type BatchWriteC = TypeOf<typeof BatchWrite>;
export type RecordWriteResultC = TypeOf<typeof RecordWriteResult>;
export type StreamingTokenC = TypeOf<typeof StreamingToken>;
export type HttpResponseC = TypeOf<typeof HttpResponse>;
export type PlcStatusC = TypeOf<typeof PlcStatus>;
export type StagedWasmC = TypeOf<typeof StagedWasm>;
export type UpgradeOutcomeC = TypeOf<typeof UpgradeOutcome>;
export type StewardUpgradeRequestC = TypeOf<typeof StewardUpgradeRequest>;
export type StewardUpgradeViewC = TypeOf<typeof StewardUpgradeView>;
