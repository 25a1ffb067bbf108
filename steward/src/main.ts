// The steward's Azle (stable mode) entry: the only controller of the Canopy canister, and the only
// code path that installs Canopy's code. One decorated delegation per entry of the method table in
// steward/src/interface.ts; the procedure is steward/src/upgrades.ts.
import { init, inspectMessage, msgCaller, postUpgrade, Principal, query, setTimerInterval, update } from 'azle';
import { decodeArgs, replyWith } from '../../canister/src/ic/reply.ts';
import { InitArgsIdl, methods as M } from './interface.ts';
import { icPorts } from './ic/ports.ts';
import { stableBytesMap } from './ic/stable-map.ts';
import { Steward, WATCHDOG_SECONDS, type UpgradeRequest } from './upgrades.ts';

const steward = new Steward(stableBytesMap(0), icPorts);
const caller = () => msgCaller().toText();

function armWatchdog(): void {
  setTimerInterval(WATCHDOG_SECONDS, () => steward.wake());
}

export default class {
  @init([InitArgsIdl])
  init(args: { canopy: Principal }): void {
    steward.init({ target: args.canopy.toText() });
    armWatchdog();
  }

  // The init argument is not needed again: the peer is in stable memory.
  @postUpgrade([InitArgsIdl], { manual: true })
  postUpgrade(): void {
    armWatchdog();
    steward.wake();
  }

  // Ingress: the peer is a canister, so no ingress call can come from it; refuse with the reason.
  @inspectMessage({ manual: true })
  inspect(): boolean {
    steward.authorize(caller());
    return true;
  }

  // Update methods authorize the caller before decoding their arguments.
  @update(M.upgrade_canopy.args, M.upgrade_canopy.ret, { manual: true })
  upgrade_canopy() {
    return replyWith(M.upgrade_canopy.ret, () => {
      steward.authorize(caller());
      return steward.request(caller(), decodeArgs<[UpgradeRequest]>(M.upgrade_canopy.args)[0]);
    });
  }

  @update(M.resume_upgrade.args, M.resume_upgrade.ret, { manual: true })
  resume_upgrade() {
    return replyWith(M.resume_upgrade.ret, () => {
      steward.authorize(caller());
      return steward.resume(caller(), decodeArgs<[bigint]>(M.resume_upgrade.args)[0]);
    });
  }

  @update(M.health_check.args, M.health_check.ret, { manual: true })
  health_check() {
    return replyWith(M.health_check.ret, () => steward.health(caller()));
  }

  @query(M.get_upgrade.args, M.get_upgrade.ret)
  get_upgrade(id: bigint) {
    const u = steward.get(id);
    return u ? [u] : [];
  }

  @query(M.get_config.args, M.get_config.ret)
  get_config() {
    const c = steward.configView();
    return { canopy: Principal.fromText(c.target), active: c.active };
  }
}
