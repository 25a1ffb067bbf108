// The management canister's upgrade operations through Azle (api/management-port.ts), for both
// canisters: the steward installs Canopy's code, Canopy installs the steward's.
import { call, IDL, Principal } from 'azle';
import {
  install_chunked_code_args, list_canister_snapshots_args, list_canister_snapshots_result, load_canister_snapshot_args,
  start_canister_args, stop_canister_args, take_canister_snapshot_args, take_canister_snapshot_result,
} from 'azle/canisters/management/idl';
import type { ManagementPort } from '../api/management-port.ts';

const MGMT = 'aaaaa-aa';
const id = (canister: string) => Principal.fromText(canister);
const bytes = (b: Uint8Array | number[]) => Uint8Array.from(b);
/** Only the field read here; Candid subtyping skips the rest of canister_status's reply. */
const ModuleHashOnly = IDL.Record({ module_hash: IDL.Opt(IDL.Vec(IDL.Nat8)) });

function mgmtCall<R>(method: string, argType: IDL.Type, arg: unknown, ret?: IDL.Type): Promise<R> {
  return call<[unknown], R>(MGMT, method, { paramIdlTypes: [argType], returnIdlType: ret, args: [arg] });
}

export const icManagement: ManagementPort = {
  async stop(c) {
    await mgmtCall('stop_canister', stop_canister_args, { canister_id: id(c) });
  },
  async start(c) {
    await mgmtCall('start_canister', start_canister_args, { canister_id: id(c) });
  },
  async listSnapshots(c) {
    const list = await mgmtCall<{ id: Uint8Array | number[] }[]>('list_canister_snapshots', list_canister_snapshots_args, { canister_id: id(c) }, list_canister_snapshots_result);
    return list.map((s) => bytes(s.id));
  },
  async takeSnapshot(c, replace) {
    const s = await mgmtCall<{ id: Uint8Array | number[] }>(
      'take_canister_snapshot', take_canister_snapshot_args, { canister_id: id(c), replace_snapshot: replace ? [replace] : [] }, take_canister_snapshot_result,
    );
    return bytes(s.id);
  },
  async loadSnapshot(c, snapshot) {
    await mgmtCall('load_canister_snapshot', load_canister_snapshot_args, { canister_id: id(c), snapshot_id: snapshot, sender_canister_version: [] });
  },
  async installChunked(a) {
    await mgmtCall('install_chunked_code', install_chunked_code_args, {
      mode: { upgrade: [] }, target_canister: id(a.target), store_canister: [id(a.store)], chunk_hashes_list: a.chunkHashes.map((hash) => ({ hash })),
      wasm_module_hash: a.wasmHash, arg: a.arg, sender_canister_version: [],
    });
  },
  async moduleHash(c) {
    const s = await mgmtCall<{ module_hash: [] | [Uint8Array | number[]] }>('canister_status', IDL.Record({ canister_id: IDL.Principal }), { canister_id: id(c) }, ModuleHashOnly);
    return s.module_hash.length ? bytes(s.module_hash[0]) : undefined;
  },
};
