// The IC side of upgrades by vote: this canister's chunk store and the management calls that
// upgrade the steward (management canister), and the steward's methods, through Azle.
import { call, canisterSelf, IDL, isController, Principal } from 'azle';
import { clear_chunk_store_args, upload_chunk_args, upload_chunk_result } from 'azle/canisters/management/idl';
import { HealthReport, StewardUpgradeRequest, StewardUpgradeView, type StewardUpgradeViewC } from '../api/interface.ts';
import type { StewardPorts } from '../api/steward-upgrade.ts';
import { icManagement } from './management-calls.ts';
import type { UpgradePorts } from '../api/upgrade-methods.ts';

const id = (canister: string) => Principal.fromText(canister);
const StewardConfigActive = IDL.Record({ active: IDL.Opt(IDL.Nat64) });

const stewardPeer: StewardPorts = {
  async busy(steward) {
    const c = await call<[], { active: [] | [bigint] }>(id(steward), 'get_config', { paramIdlTypes: [], returnIdlType: StewardConfigActive, args: [] });
    return c.active.length > 0;
  },
  health: (steward) => call<[], { ok: boolean; detail: string }>(id(steward), 'health_check', { paramIdlTypes: [], returnIdlType: HealthReport, args: [] }),
};

export const icUpgradePorts: UpgradePorts = {
  async uploadChunk(chunk) {
    const r = await call<[unknown], { hash: Uint8Array | number[] }>('aaaaa-aa', 'upload_chunk', {
      paramIdlTypes: [upload_chunk_args],
      returnIdlType: upload_chunk_result,
      args: [{ canister_id: canisterSelf(), chunk }],
    });
    return Uint8Array.from(r.hash);
  },
  async clearChunkStore() {
    await call('aaaaa-aa', 'clear_chunk_store', { paramIdlTypes: [clear_chunk_store_args], args: [{ canister_id: canisterSelf() }] });
  },
  requestUpgrade(steward, req) {
    return call<[unknown], StewardUpgradeViewC>(Principal.fromText(steward), 'upgrade_canopy', {
      paramIdlTypes: [StewardUpgradeRequest],
      returnIdlType: StewardUpgradeView,
      args: [req],
    });
  },
  isController: (principal) => isController(Principal.fromText(principal)),
  self: () => canisterSelf().toText(),
  management: icManagement,
  stewardPeer,
};
