// The IC side of upgrades by vote: this canister's chunk store (management canister) and the
// steward's `upgrade_canopy`, through Azle.
import { call, canisterSelf, isController, Principal } from 'azle';
import { clear_chunk_store_args, upload_chunk_args, upload_chunk_result } from 'azle/canisters/management/idl';
import { StewardUpgradeRequest, StewardUpgradeView, type StewardUpgradeViewC } from '../api/interface.ts';
import type { UpgradePorts } from '../api/upgrade-methods.ts';

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
};
