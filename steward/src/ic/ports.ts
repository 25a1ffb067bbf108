// The steward's ports on the IC: the management canister (for Canopy, of which the steward is the
// only controller), the Canopy canister's peer methods, the clock and timers, all through Azle.
import { call, IDL, Principal, setTimer, time } from 'azle';
import {
  install_chunked_code_args,
  list_canister_snapshots_args,
  list_canister_snapshots_result,
  load_canister_snapshot_args,
  start_canister_args,
  stop_canister_args,
  take_canister_snapshot_args,
  take_canister_snapshot_result,
} from 'azle/canisters/management/idl';
import { peerMethods } from '../interface.ts';
import type { ManagementPort, PeerPort, Ports } from '../upgrades.ts';

const MGMT = 'aaaaa-aa';
const id = (canister: string) => Principal.fromText(canister);
const bytes = (b: Uint8Array | number[]) => Uint8Array.from(b);

/** Only the field the steward reads; Candid subtyping skips the rest of canister_status's reply. */
const CanisterStatusModuleHash = IDL.Record({ module_hash: IDL.Opt(IDL.Vec(IDL.Nat8)) });

function mgmtCall<R>(method: string, argType: IDL.Type, arg: unknown, ret?: IDL.Type): Promise<R> {
  return call<[unknown], R>(MGMT, method, { paramIdlTypes: [argType], returnIdlType: ret, args: [arg] });
}

const management: ManagementPort = {
  async stop(canister) {
    await mgmtCall('stop_canister', stop_canister_args, { canister_id: id(canister) });
  },
  async start(canister) {
    await mgmtCall('start_canister', start_canister_args, { canister_id: id(canister) });
  },
  async listSnapshots(canister) {
    const list = await mgmtCall<{ id: Uint8Array | number[] }[]>(
      'list_canister_snapshots', list_canister_snapshots_args, { canister_id: id(canister) }, list_canister_snapshots_result,
    );
    return list.map((s) => bytes(s.id));
  },
  async takeSnapshot(canister, replace) {
    const s = await mgmtCall<{ id: Uint8Array | number[] }>(
      'take_canister_snapshot',
      take_canister_snapshot_args,
      { canister_id: id(canister), replace_snapshot: replace ? [replace] : [] },
      take_canister_snapshot_result,
    );
    return bytes(s.id);
  },
  async loadSnapshot(canister, snapshot) {
    await mgmtCall('load_canister_snapshot', load_canister_snapshot_args, {
      canister_id: id(canister), snapshot_id: snapshot, sender_canister_version: [],
    });
  },
  async installChunked(a) {
    await mgmtCall('install_chunked_code', install_chunked_code_args, {
      mode: { upgrade: [] },
      target_canister: id(a.target),
      store_canister: [id(a.store)],
      chunk_hashes_list: a.chunkHashes.map((hash) => ({ hash })),
      wasm_module_hash: a.wasmHash,
      arg: a.arg,
      sender_canister_version: [],
    });
  },
  async moduleHash(canister) {
    const s = await mgmtCall<{ module_hash: [] | [Uint8Array | number[]] }>(
      'canister_status', IDL.Record({ canister_id: IDL.Principal }), { canister_id: id(canister) }, CanisterStatusModuleHash,
    );
    return s.module_hash.length ? bytes(s.module_hash[0]) : undefined;
  },
};

const peer: PeerPort = {
  healthCheck: (canister) =>
    call<[], { ok: boolean; detail: string }>(canister, 'health_check', {
      paramIdlTypes: peerMethods.health_check.args,
      returnIdlType: peerMethods.health_check.ret,
      args: [],
    }),
  async report(canister, a) {
    await call(canister, 'steward_report', { paramIdlTypes: peerMethods.steward_report.args, args: [a] });
  },
};

export const icPorts: Ports = {
  mgmt: management,
  peer,
  nowNs: () => time(),
  schedule(delaySeconds, job) {
    setTimer(delaySeconds, job);
  },
};
