// Candid types of the canister's own (non-governance) methods, shared by main.ts and by agents
// (tests, CLI, bridge) through `canopyIdlFactory`. Pure: IDL comes from @dfinity/candid.
import { IDL } from '@dfinity/candid';
import { GovernanceInitIdl, governanceService } from '../governance/idl.ts';

export const DidMethodIdl = IDL.Variant({
  web: IDL.Record({ hostname: IDL.Text }),
  plc: IDL.Record({ plc_url: IDL.Text }),
});

export const InitArgsIdl = IDL.Record({
  /** `dfx_test_key` locally, `key_1` on mainnet. */
  ecdsa_key_name: IDL.Text,
  did_method: DidMethodIdl,
  handle: IDL.Text,
  pds_url: IDL.Text,
  governance: GovernanceInitIdl,
  event_retention: IDL.Opt(IDL.Record({ min_events: IDL.Nat32, min_age_ns: IDL.Nat64 })),
  blob_max_bytes: IDL.Opt(IDL.Nat64),
  blob_grace_ns: IDL.Opt(IDL.Nat64),
});

export const StatusIdl = IDL.Record({
  did: IDL.Text,
  handle: IDL.Text,
  pds_url: IDL.Text,
  plc_url: IDL.Opt(IDL.Text),
  head_seq: IDL.Nat64,
  rev: IDL.Opt(IDL.Text),
  active: IDL.Bool,
  signing_key: IDL.Text,
});

export const EventIdl = IDL.Record({ seq: IDL.Nat64, time_ns: IDL.Nat64, frame: IDL.Vec(IDL.Nat8) });
export const EventsArgsIdl = IDL.Record({ after: IDL.Nat64, limit: IDL.Nat32, max_bytes: IDL.Nat32 });
export const EventsPageIdl = IDL.Record({ events: IDL.Vec(EventIdl), head: IDL.Nat64, oldest: IDL.Nat64 });

export const CreateRecordArgsIdl = IDL.Record({ collection: IDL.Text, rkey: IDL.Opt(IDL.Text), record_json: IDL.Text });
export const PutRecordArgsIdl = IDL.Record({ collection: IDL.Text, rkey: IDL.Text, record_json: IDL.Text, swap_record: IDL.Opt(IDL.Text) });
export const DeleteRecordArgsIdl = IDL.Record({ collection: IDL.Text, rkey: IDL.Text, swap_record: IDL.Opt(IDL.Text) });
export const WriteResultIdl = IDL.Record({ uri: IDL.Text, cid: IDL.Opt(IDL.Text), rev: IDL.Text, commit: IDL.Text, seq: IDL.Nat64 });

export const ApplyWriteIdl = IDL.Variant({
  create: CreateRecordArgsIdl,
  put: PutRecordArgsIdl,
  delete: DeleteRecordArgsIdl,
});
export const ApplyWritesArgsIdl = IDL.Record({ writes: IDL.Vec(ApplyWriteIdl) });
export const ApplyWritesResultIdl = IDL.Record({
  rev: IDL.Text,
  commit: IDL.Text,
  seq: IDL.Nat64,
  results: IDL.Vec(IDL.Record({ uri: IDL.Text, cid: IDL.Opt(IDL.Text) })),
});

export const BlobStartArgsIdl = IDL.Record({ mime_type: IDL.Text, size: IDL.Nat64 });
export const BlobChunkArgsIdl = IDL.Record({ upload_id: IDL.Text, offset: IDL.Nat64, data: IDL.Vec(IDL.Nat8) });
export const BlobRefIdl = IDL.Record({ cid: IDL.Text, mime_type: IDL.Text, size: IDL.Nat64 });

export const PlcStatusIdl = IDL.Record({
  operation_json: IDL.Opt(IDL.Text),
  operation_cid: IDL.Opt(IDL.Text),
  submitted: IDL.Bool,
  last_error: IDL.Opt(IDL.Text),
  rotation_key: IDL.Opt(IDL.Text),
});

export const HeaderFieldIdl = IDL.Tuple(IDL.Text, IDL.Text);
export const HttpRequestIdl = IDL.Record({
  url: IDL.Text,
  method: IDL.Text,
  body: IDL.Vec(IDL.Nat8),
  headers: IDL.Vec(HeaderFieldIdl),
  certificate_version: IDL.Opt(IDL.Nat16),
});
export const StreamingTokenIdl = IDL.Record({ kind: IDL.Text, ref: IDL.Text, cursor: IDL.Text, since: IDL.Text });
export const StreamingCallbackResponseIdl = IDL.Record({ body: IDL.Vec(IDL.Nat8), token: IDL.Opt(StreamingTokenIdl) });
export const StreamingStrategyIdl = IDL.Variant({
  Callback: IDL.Record({
    callback: IDL.Func([StreamingTokenIdl], [IDL.Opt(StreamingCallbackResponseIdl)], ['query']),
    token: StreamingTokenIdl,
  }),
});
export const HttpResponseIdl = IDL.Record({
  status_code: IDL.Nat16,
  headers: IDL.Vec(HeaderFieldIdl),
  body: IDL.Vec(IDL.Nat8),
  upgrade: IDL.Opt(IDL.Bool),
  streaming_strategy: IDL.Opt(StreamingStrategyIdl),
});

/** The canister's own methods (governance's come from governance/idl.ts). */
export const canopyMethods = {
  get_status: IDL.Func([], [StatusIdl], ['query']),
  get_events: IDL.Func([EventsArgsIdl], [EventsPageIdl], ['query']),
  create_record: IDL.Func([CreateRecordArgsIdl], [WriteResultIdl], []),
  put_record: IDL.Func([PutRecordArgsIdl], [WriteResultIdl], []),
  delete_record: IDL.Func([DeleteRecordArgsIdl], [WriteResultIdl], []),
  apply_writes: IDL.Func([ApplyWritesArgsIdl], [ApplyWritesResultIdl], []),
  blob_upload_start: IDL.Func([BlobStartArgsIdl], [IDL.Text], []),
  blob_upload_chunk: IDL.Func([BlobChunkArgsIdl], [IDL.Nat64], []),
  blob_upload_finish: IDL.Func([IDL.Record({ upload_id: IDL.Text })], [BlobRefIdl], []),
  get_plc_status: IDL.Func([], [PlcStatusIdl], ['query']),
  submit_plc_operation: IDL.Func([], [PlcStatusIdl], []),
  http_request: IDL.Func([HttpRequestIdl], [HttpResponseIdl], ['query']),
  http_request_streaming_callback: IDL.Func([StreamingTokenIdl], [IDL.Opt(StreamingCallbackResponseIdl)], ['query']),
};

/** For @dfinity/agent: `Actor.createActor(canopyIdlFactory, { agent, canisterId })`. */
export const canopyIdlFactory: IDL.InterfaceFactory = () => IDL.Service({ ...canopyMethods, ...governanceService });

export type InitArgsC = {
  ecdsa_key_name: string;
  did_method: { web: { hostname: string } } | { plc: { plc_url: string } };
  handle: string;
  pds_url: string;
  governance: { members: { principal: string; power: bigint }[]; rules: { voting_period_ns: bigint; quorum_bps: number; threshold_bps: number }; delegates: { principal: string; scope: unknown }[] };
  event_retention: [] | [{ min_events: number; min_age_ns: bigint }];
  blob_max_bytes: [] | [bigint];
  blob_grace_ns: [] | [bigint];
};
