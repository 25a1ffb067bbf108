// The steward's Candid interface, written once: every method with its arguments, result and
// mode. The Azle entry (steward/src/main.ts) declares one decorated delegation per entry, and
// agents (tests, CLI) and the Canopy canister use `stewardIdlFactory` / the peer types below.
// Pure: IDL comes from @dfinity/candid (the module Azle re-exports).
import { IDL } from '@dfinity/candid';

const Bytes = IDL.Vec(IDL.Nat8);

/** Set at install: the only principal (the Canopy canister) allowed to call the steward's update methods. */
export const InitArgsIdl = IDL.Record({ canopy: IDL.Principal });

/** What Canopy asks for when an upgrade proposal is adopted. The chunks are in Canopy's own chunk store. */
export const UpgradeRequestIdl = IDL.Record({
  proposal_id: IDL.Nat64,
  /** SHA-256 of the whole module: exactly the voted hash */
  wasm_hash: Bytes,
  /** Candid-encoded upgrade argument (empty: none) */
  arg: Bytes,
  /** hashes of the module's chunks in Canopy's chunk store, in order */
  chunk_hashes: IDL.Vec(Bytes),
});

/** The next step an upgrade will perform (`done` once the outcome is acknowledged by Canopy). */
export const PhaseIdl = IDL.Variant({
  stop: IDL.Null,
  snapshot: IDL.Null,
  install: IDL.Null,
  start: IDL.Null,
  health: IDL.Null,
  rollback_stop: IDL.Null,
  rollback_load: IDL.Null,
  rollback_start: IDL.Null,
  report: IDL.Null,
  done: IDL.Null,
});

export const OutcomeIdl = IDL.Variant({
  ok: IDL.Record({ module_hash: Bytes }),
  failed: IDL.Record({ reason: IDL.Text }),
});

const viewFields = {
  proposal_id: IDL.Nat64,
  wasm_hash: Bytes,
  phase: PhaseIdl,
  outcome: IDL.Opt(OutcomeIdl),
  /** true once Canopy acknowledged the outcome (steward_report replied) */
  reported: IDL.Bool,
  report_attempts: IDL.Nat32,
  snapshot_id: IDL.Opt(Bytes),
  /** the most recent error of a step that is retried (rollback, report) */
  last_error: IDL.Opt(IDL.Text),
  started_at_ns: IDL.Nat64,
  updated_at_ns: IDL.Nat64,
};
export const UpgradeViewIdl = IDL.Record(viewFields);

/** A step in flight: whoever holds `token` until `until_ns` drives the upgrade; after that it may be resumed. */
export const LeaseIdl = IDL.Record({ token: IDL.Nat64, until_ns: IDL.Nat64 });

/** What the steward keeps in stable memory per proposal. */
export const UpgradeRecordIdl = IDL.Record({
  ...viewFields,
  arg: Bytes,
  chunk_hashes: IDL.Vec(Bytes),
  lease: IDL.Opt(LeaseIdl),
  /** when the next attempt of a retried step is due */
  retry_at_ns: IDL.Opt(IDL.Nat64),
});

export const HealthReportIdl = IDL.Record({ ok: IDL.Bool, detail: IDL.Text });

export const ConfigIdl = IDL.Record({ canopy: IDL.Principal, active: IDL.Opt(IDL.Nat64) });

/** Methods Canopy's code must expose for the steward (the peer contract, see docs/contracts.md "Steward"). */
export const ReportArgsIdl = IDL.Record({ proposal_id: IDL.Nat64, outcome: OutcomeIdl });
export const peerMethods = {
  /** Called on the freshly installed code; must prove it reads its state and can run governance. */
  health_check: { args: [] as IDL.Type[], ret: HealthReportIdl },
  /** The outcome of an upgrade; a reply is the acknowledgement (must be idempotent per proposal id). */
  steward_report: { args: [ReportArgsIdl] as IDL.Type[], ret: null },
} as const;

type Method = { mode: 'query' | 'update'; args: IDL.Type[]; ret: IDL.Type | null };

export const methods = {
  /** Peer only. Records the request and replies at once; the upgrade runs in a timer. */
  upgrade_canopy: { mode: 'update', args: [UpgradeRequestIdl], ret: UpgradeViewIdl },
  /** Peer only. Drives an unfinished upgrade whose step lease has expired (after a trap). */
  resume_upgrade: { mode: 'update', args: [IDL.Nat64], ret: UpgradeViewIdl },
  /** Peer only. Proves the steward reads its state (used when Canopy upgrades the steward). */
  health_check: { mode: 'update', args: [], ret: HealthReportIdl },
  /** Anyone: the upgrade of a proposal, if the steward ever received it. */
  get_upgrade: { mode: 'query', args: [IDL.Nat64], ret: IDL.Opt(UpgradeViewIdl) },
  /** Anyone: the configured peer and the upgrade in progress. */
  get_config: { mode: 'query', args: [], ret: ConfigIdl },
} satisfies Record<string, Method>;

export const stewardIdlFactory: IDL.InterfaceFactory = ({ IDL: I }) =>
  I.Service(
    Object.fromEntries(
      Object.entries(methods).map(([name, m]: [string, Method]) => [
        name,
        I.Func(m.args as [] | [IDL.Type, ...IDL.Type[]], m.ret ? [m.ret] : [], m.mode === 'query' ? ['query'] : []),
      ]),
    ),
  );

export const stewardInitArgs: IDL.Type[] = [InitArgsIdl];
