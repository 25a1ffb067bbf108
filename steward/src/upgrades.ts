// The steward's upgrade procedure as a persisted state machine. Pure: the management canister,
// the Canopy canister, the clock and the timers come in as ports (steward/src/ic/ adapts them).
//
// Each upgrade lives in stable memory under its proposal id and names the next step to perform.
// A driver takes a lease (persisted, with an expiry) before a step's call and applies the step's
// result only if it still holds the lease afterwards. A trap after the call leaves the lease in
// place (a trap rolls back only that message), so nothing can wedge: once the lease expires the
// watchdog or `resume_upgrade` drives the step again. Every step is safe to repeat.
//
// Order: Canopy is stopped before the snapshot, so nothing it writes after the snapshot can be
// lost by a rollback; the snapshot replaces the previous one (the steward is Canopy's only
// controller, so any snapshot of Canopy is one of its own).
import { IDL } from '@dfinity/candid';
import { UpgradeRecordIdl } from './interface.ts';
import type { ManagementPort } from '../../canister/src/api/management-port.ts';

export type Phase =
  | 'stop' | 'snapshot' | 'install' | 'start' | 'health'
  | 'rollback_stop' | 'rollback_load' | 'rollback_start' | 'report' | 'done';
export type Outcome = { ok: { module_hash: Uint8Array } } | { failed: { reason: string } };
export type Opt<T> = [] | [T];

/** Candid shape of UpgradeRequestIdl. */
export interface UpgradeRequest {
  proposal_id: bigint;
  wasm_hash: Uint8Array;
  arg: Uint8Array;
  chunk_hashes: Uint8Array[];
}

/** Candid shape of UpgradeRecordIdl (UpgradeViewIdl is its first fields). */
export interface UpgradeRecord {
  proposal_id: bigint;
  wasm_hash: Uint8Array;
  phase: { [K in Phase]?: null };
  outcome: Opt<Outcome>;
  reported: boolean;
  report_attempts: number;
  snapshot_id: Opt<Uint8Array>;
  last_error: Opt<string>;
  started_at_ns: bigint;
  updated_at_ns: bigint;
  arg: Uint8Array;
  chunk_hashes: Uint8Array[];
  lease: Opt<{ token: bigint; until_ns: bigint }>;
  retry_at_ns: Opt<bigint>;
}
export type UpgradeView = Omit<UpgradeRecord, 'arg' | 'chunk_hashes' | 'lease' | 'retry_at_ns'>;

export type { ManagementPort } from '../../canister/src/api/management-port.ts';

export interface PeerPort {
  healthCheck(canister: string): Promise<{ ok: boolean; detail: string }>;
  report(canister: string, a: { proposal_id: bigint; outcome: Outcome }): Promise<void>;
}

export interface Ports {
  mgmt: ManagementPort;
  peer: PeerPort;
  nowNs(): bigint;
  /** run `job` in a later message after `delaySeconds` */
  schedule(delaySeconds: number, job: () => Promise<void>): void;
}

/** Byte map in stable memory. */
export interface BytesMap {
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
}

export class StewardError extends Error {}

const SECOND_NS = 1_000_000_000n;
/** How long a step may run before another driver may take it over. */
export const LEASE_NS = 300n * SECOND_NS;
/** How often the watchdog looks for an upgrade to resume. */
export const WATCHDOG_SECONDS = 60;
const MAX_BACKOFF_SECONDS = 3600;
const ROLLBACK_RETRY_SECONDS = 10;
/** The IC installs at most 100 MiB from a chunk store, in chunks of at most 1 MiB. */
const MAX_CHUNKS = 100;
const MAX_ARG_BYTES = 2 * 1024 * 1024;

const StoredConfigIdl: IDL.Type = IDL.Record({ target: IDL.Text, store: IDL.Text, active: IDL.Opt(IDL.Nat64), token: IDL.Nat64 });
type Config = { target: string; store: string; active: Opt<bigint>; token: bigint };

const phaseOf = (r: UpgradeRecord) => Object.keys(r.phase)[0] as Phase;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const reasonOf = (err: unknown): string => {
  if (err instanceof Error) return err.message || err.name;
  if (err && typeof err === 'object') {
    const e = err as { rejectMessage?: unknown; rejectCode?: unknown; type?: unknown };
    if (e.rejectMessage !== undefined) return `reject ${String(e.rejectCode ?? '')}: ${String(e.rejectMessage)}`.trim();
    if (e.type !== undefined) return String(e.type);
  }
  return String(err);
};

export function toView(r: UpgradeRecord): UpgradeView {
  const { arg: _a, chunk_hashes: _c, lease: _l, retry_at_ns: _r, ...view } = r;
  return view;
}

/** What a step did: the next phase and, on the failure paths, the outcome or a retry. */
type StepResult = { next: Phase; outcome?: Outcome; snapshot?: Uint8Array; retry?: string; reported?: boolean };

export class Steward {
  constructor(private map: BytesMap, private ports: Ports) {}

  // ---------- configuration ----------

  /**
   * `target`: the canister upgraded (and, in the steward, the only caller); `store`: the canister whose
   * chunk store holds the modules (default: the target). The steward: target = store = Canopy. Canopy
   * upgrading the steward can drive the same procedure with target = the steward, store = Canopy itself.
   */
  init(args: { target: string; store?: string }): void {
    this.saveConfig({ target: args.target, store: args.store ?? args.target, active: [], token: 0n });
  }

  private config(): Config {
    const b = this.map.get('config');
    if (!b) throw new StewardError('steward is not initialised');
    return IDL.decode([StoredConfigIdl], b)[0] as unknown as Config;
  }

  private saveConfig(c: Config): void {
    this.map.set('config', new Uint8Array(IDL.encode([StoredConfigIdl], [c])));
  }

  /** The canister this procedure upgrades (for the steward: Canopy, its peer). */
  target(): string {
    return this.config().target;
  }

  configView(): { target: string; active: Opt<bigint> } {
    const c = this.config();
    return { target: c.target, active: c.active };
  }

  /** Only the Canopy canister may call the steward's update methods. */
  authorize(caller: string): void {
    const canopy = this.target();
    if (caller !== canopy) throw new StewardError(`only the Canopy canister ${canopy} may call the steward; caller ${caller} refused`);
  }

  // ---------- records ----------

  private key(id: bigint): string {
    return `upgrade/${id.toString().padStart(20, '0')}`;
  }

  private load(id: bigint): UpgradeRecord | undefined {
    const b = this.map.get(this.key(id));
    return b && (IDL.decode([UpgradeRecordIdl], b)[0] as unknown as UpgradeRecord);
  }

  private save(r: UpgradeRecord): void {
    r.updated_at_ns = this.ports.nowNs();
    this.map.set(this.key(r.proposal_id), new Uint8Array(IDL.encode([UpgradeRecordIdl], [r])));
  }

  get(id: bigint): UpgradeView | undefined {
    const r = this.load(id);
    return r && toView(r);
  }

  health(caller: string): { ok: boolean; detail: string } {
    this.authorize(caller);
    const c = this.config();
    const active = c.active[0];
    const state = active === undefined ? 'idle' : `upgrade ${active} at ${phaseOf(this.load(active)!)}`;
    return { ok: true, detail: `peer ${c.target}; ${state}` };
  }

  // ---------- requests ----------

  /**
   * Records an upgrade and schedules it; replies before any step runs, so Canopy's call context
   * closes and Canopy can be stopped. A proposal id seen before is never run again: its record is returned.
   */
  request(caller: string, req: UpgradeRequest): UpgradeView {
    this.authorize(caller);
    return this.enqueue(req);
  }

  /** `request` without the caller check, for a canister driving the procedure itself. */
  enqueue(req: UpgradeRequest): UpgradeView {
    const existing = this.load(req.proposal_id);
    if (existing) {
      if (!sameBytes(existing.wasm_hash, req.wasm_hash)) {
        throw new StewardError(`proposal ${req.proposal_id} already has an upgrade to ${hex(existing.wasm_hash)}`);
      }
      return toView(existing);
    }
    validate(req);
    const c = this.config();
    if (c.active.length) throw new StewardError(`the upgrade of proposal ${c.active[0]} is still in progress`);
    const now = this.ports.nowNs();
    const r: UpgradeRecord = {
      proposal_id: req.proposal_id,
      wasm_hash: req.wasm_hash,
      phase: { stop: null },
      outcome: [],
      reported: false,
      report_attempts: 0,
      snapshot_id: [],
      last_error: [],
      started_at_ns: now,
      updated_at_ns: now,
      arg: req.arg,
      chunk_hashes: req.chunk_hashes,
      lease: [],
      retry_at_ns: [],
    };
    this.save(r);
    this.saveConfig({ ...c, active: [req.proposal_id] });
    this.ports.schedule(0, () => this.drive(req.proposal_id));
    return toView(r);
  }

  /** Drives an unfinished upgrade now if no step holds an unexpired lease on it. */
  resume(caller: string, id: bigint): UpgradeView {
    this.authorize(caller);
    const r = this.load(id);
    if (!r) throw new StewardError(`no upgrade for proposal ${id}`);
    if (phaseOf(r) !== 'done') this.ports.schedule(0, () => this.drive(id));
    return toView(r);
  }

  /** After the steward's own upgrade (timers are gone) and periodically: pick up the active upgrade. */
  wake(): void {
    const active = this.config().active[0];
    if (active !== undefined) this.ports.schedule(0, () => this.drive(active));
  }

  // ---------- the driver ----------

  /** Runs steps until the upgrade is done, another driver holds it, or a retry is due later. */
  async drive(id: bigint): Promise<void> {
    for (;;) {
      const r = this.load(id);
      if (!r) return;
      const phase = phaseOf(r);
      if (phase === 'done') return;
      const now = this.ports.nowNs();
      if (r.lease.length && r.lease[0].until_ns > now) return;
      if (r.retry_at_ns.length && r.retry_at_ns[0] > now) {
        this.ports.schedule(Number((r.retry_at_ns[0] - now + SECOND_NS - 1n) / SECOND_NS), () => this.drive(id));
        return;
      }
      const c = this.config();
      const token = c.token + 1n;
      this.saveConfig({ ...c, token });
      r.lease = [{ token, until_ns: now + LEASE_NS }];
      this.save(r);

      const result = await this.step(phase, r);

      const after = this.load(id);
      if (!after || !after.lease.length || after.lease[0].token !== token) return; // taken over
      after.lease = [];
      after.retry_at_ns = [];
      if (result.retry !== undefined) {
        after.last_error = [result.retry];
        // Reports back off exponentially; a rollback step is retried steadily (the community waits on it).
        const delay = phase === 'report' ? Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(++after.report_attempts, 12)) : ROLLBACK_RETRY_SECONDS;
        after.retry_at_ns = [this.ports.nowNs() + BigInt(delay) * SECOND_NS];
        this.save(after);
        this.ports.schedule(delay, () => this.drive(id));
        return;
      }
      if (result.snapshot) after.snapshot_id = [result.snapshot];
      if (result.outcome && !after.outcome.length) after.outcome = [result.outcome];
      if (result.reported) after.reported = true;
      after.phase = { [result.next]: null };
      if (result.next === 'done') {
        // the argument and chunk list are only needed to install; keep the record small
        after.arg = new Uint8Array();
        after.chunk_hashes = [];
      }
      this.save(after);
      if (result.next === 'done') {
        const cfg = this.config();
        if (cfg.active[0] === id) this.saveConfig({ ...cfg, active: [] });
        return;
      }
    }
  }

  /** One management or peer call. Forward steps turn an error into a rollback; rollback and report steps retry. */
  private async step(phase: Phase, r: UpgradeRecord): Promise<StepResult> {
    const { mgmt, peer } = this.ports;
    const { target, store } = this.config();
    const fail = (next: Phase, what: string) => (err: unknown): StepResult => ({
      next,
      outcome: { failed: { reason: `${what}: ${reasonOf(err)}` } },
    });
    const retry = (what: string) => (err: unknown): StepResult => ({ next: phase, retry: `${what}: ${reasonOf(err)}` });
    switch (phase) {
      case 'stop':
        return mgmt.stop(target).then(() => ({ next: 'snapshot' as Phase }), fail('rollback_start', 'stop_canister failed'));
      case 'snapshot':
        return (async () => {
          const existing = await mgmt.listSnapshots(target);
          return { next: 'install' as Phase, snapshot: await mgmt.takeSnapshot(target, existing[0]) };
        })().catch(fail('rollback_start', 'take_canister_snapshot failed'));
      case 'install':
        return mgmt
          .installChunked({ target, store, chunkHashes: r.chunk_hashes, wasmHash: r.wasm_hash, arg: r.arg })
          .then(() => ({ next: 'start' as Phase }), fail('rollback_load', 'install_chunked_code failed'));
      case 'start':
        return mgmt.start(target).then(() => ({ next: 'health' as Phase }), fail('rollback_stop', 'start_canister failed'));
      case 'health':
        return (async (): Promise<StepResult> => {
          const h = await peer.healthCheck(target);
          if (!h.ok) throw new Error(`not healthy: ${h.detail}`);
          const installed = await mgmt.moduleHash(target);
          if (!installed || !sameBytes(installed, r.wasm_hash)) {
            throw new Error(`module hash is ${installed ? hex(installed) : 'empty'}, expected ${hex(r.wasm_hash)}`);
          }
          return { next: 'report', outcome: { ok: { module_hash: installed } } };
        })().catch(fail('rollback_stop', 'health check failed'));
      case 'rollback_stop':
        return mgmt.stop(target).then(() => ({ next: 'rollback_load' as Phase }), retry('rollback stop_canister failed'));
      case 'rollback_load':
        if (!r.snapshot_id.length) return { next: 'rollback_start' };
        return mgmt
          .loadSnapshot(target, r.snapshot_id[0])
          .then(() => ({ next: 'rollback_start' as Phase }), retry('load_canister_snapshot failed'));
      case 'rollback_start':
        return mgmt.start(target).then(() => ({ next: 'report' as Phase }), retry('rollback start_canister failed'));
      case 'report': {
        const outcome = r.outcome[0] ?? { failed: { reason: 'no outcome recorded' } };
        return peer
          .report(target, { proposal_id: r.proposal_id, outcome })
          .then(() => ({ next: 'done' as Phase, reported: true }), retry('steward_report failed'));
      }
      case 'done':
        return { next: 'done' };
    }
  }
}

function validate(req: UpgradeRequest): void {
  if (req.wasm_hash.length !== 32) throw new StewardError('wasm_hash must be a 32-byte SHA-256');
  if (req.chunk_hashes.length === 0) throw new StewardError('chunk_hashes is empty');
  if (req.chunk_hashes.length > MAX_CHUNKS) throw new StewardError(`at most ${MAX_CHUNKS} chunks`);
  if (req.chunk_hashes.some((h) => h.length !== 32)) throw new StewardError('every chunk hash must be 32 bytes');
  if (req.arg.length > MAX_ARG_BYTES) throw new StewardError(`arg exceeds ${MAX_ARG_BYTES} bytes`);
}
